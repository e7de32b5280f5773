//! Tolerant YAML, Kubernetes recognised from parsed content, and nothing skipped silently:
//! through the real binary on real folders and git repositories (issue 16, items 5 and 6).

use crate::common;
use crate::common::sandbox::{bundled, commit_all};
use crate::common::{commit, guardrails_with, railyard, temp, write, COMPLIANT_TF};
use serde_json::Value;
use std::path::Path;

const PRIVILEGED: &str = "bundled k8s-no-privileged-containers";

fn check(ws: &Path, workload: &str, extra: &[&str]) -> common::Run {
    let mut args = vec!["check", workload, "--guardrails", "gr"];
    args.extend_from_slice(extra);
    railyard(ws, &args)
}

fn k8s_guardrails(ws: &Path) {
    guardrails_with(&ws.join("gr"), &["k8s-no-privileged-containers"]);
}

/// (resource, file, line, end_line) of every finding.
fn located(report: &Value) -> Vec<(String, String, u64, u64)> {
    report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            (
                f["resource"].as_str().unwrap().to_string(),
                f["file"].as_str().unwrap().to_string(),
                f["line"].as_u64().unwrap(),
                f["end_line"].as_u64().unwrap(),
            )
        })
        .collect()
}

/// Two documents: flow collections closed at the parent key's indentation after a quoted
/// last item (kubectl and PyYAML accept them; saphyr 0.0.12 alone refuses them), then a
/// privileged Pod whose lines prove every line after the brackets is still exact.
const FLOW_MANIFEST: &str = r#"apiVersion: v1
kind: Pod
metadata:
  name: args
spec:
  containers:
    - name: app
      image: nginx:1.27
      args: [
        "--port",
        "8080"
      ]
      env: [{
        "name": "A", "value": "b"
      }]
      securityContext: {
        "privileged": true
      }
---
apiVersion: v1
kind: Pod
metadata:
  name: second
spec:
  containers:
    - name: c
      image: nginx:1.27
      command: [
        "sh"
]
      securityContext:
        privileged: true
"#;

#[test]
fn flow_collections_closed_at_the_parent_indentation_are_read_with_exact_lines() {
    let ws = temp();
    k8s_guardrails(ws.path());
    write(ws.path(), "k8s/pods.yaml", FLOW_MANIFEST);
    let run = check(ws.path(), "k8s", &["--format", "json"]);
    run.expect_code(1);
    let expected = vec![
        // Findings name the `privileged` line, found past the brackets closed at the left.
        ("Pod.default.args".to_string(), "pods.yaml".to_string(), 17, 17),
        ("Pod.default.second".to_string(), "pods.yaml".to_string(), 32, 32),
    ];
    assert_eq!(located(&run.json()), expected, "{PRIVILEGED}: {}", run.stdout);

    // The same file with a byte-order mark and CRLF line endings: the same findings and lines.
    let crlf = format!("\u{feff}{}", FLOW_MANIFEST.replace('\n', "\r\n"));
    write(ws.path(), "k8s/pods.yaml", crlf);
    let run = check(ws.path(), "k8s", &["--format", "json"]);
    run.expect_code(1);
    assert_eq!(located(&run.json()), expected, "{}", run.stdout);
}

#[test]
fn a_template_comment_does_not_hide_a_privileged_pod() {
    let ws = temp();
    k8s_guardrails(ws.path());
    // `{{ }}` in a comment and in a quoted value, outside any Helm chart: still a manifest.
    write(
        ws.path(),
        "k8s/pod.yaml",
        "# image set by CI: {{ .Values.image }}\napiVersion: v1\nkind: Pod\nmetadata:\n  name: root\n  annotations:\n    note: \"{{ not a template here }}\"\nspec:\n  containers:\n    - name: c\n      image: busybox:1.36\n      securityContext:\n        privileged: true\n",
    );
    let run = check(ws.path(), "k8s", &["--format", "json"]);
    run.expect_code(1);
    let found = located(&run.json());
    assert_eq!(
        found,
        vec![("Pod.default.root".into(), "pod.yaml".into(), 13, 13)],
        "{}",
        run.stdout
    );
}

#[test]
fn a_manifest_with_template_syntax_that_does_not_parse_is_an_error_not_silence() {
    let ws = temp();
    k8s_guardrails(ws.path());
    write(
        ws.path(),
        "k8s/pod.yaml",
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {{ .Values.name }}-pod\n",
    );
    let run = check(ws.path(), "k8s", &[]);
    run.expect_code(2);
    assert!(run.stdout.contains("pod.yaml:4"), "{}", run.stdout);
}

const CHART_YAML: &str = "apiVersion: v2\nname: web\nversion: 0.1.0\n";
const CHART_TEMPLATE: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ include \"web.fullname\" . }}\nspec:\n  template:\n    spec:\n      containers:\n        - name: web\n          securityContext:\n            privileged: {{ .Values.privileged }}\n";
const SKIP_REASON: &str = "Helm chart not rendered: helm is not on PATH";

fn chart(root: &Path) {
    write(root, "charts/web/Chart.yaml", CHART_YAML);
    write(root, "charts/web/values.yaml", "privileged: true\n");
    write(root, "charts/web/templates/deployment.yaml", CHART_TEMPLATE);
    write(
        root,
        "charts/web/templates/_helpers.tpl",
        "{{- define \"web.fullname\" -}}web{{- end }}\n",
    );
}

#[test]
fn an_unrendered_helm_chart_is_listed_as_skipped_in_every_format_and_fails_closed() {
    let ws = temp();
    k8s_guardrails(ws.path());
    write(ws.path(), "app/main.tf", COMPLIANT_TF);
    chart(&ws.path().join("app"));

    let run = check(ws.path(), "app", &["--format", "json"]);
    // An active guardrail judges Kubernetes code that was not evaluated: not a pass.
    run.expect_code(2);
    let report = run.json();
    assert_eq!(
        report["skipped"],
        serde_json::json!([{"path": "charts/web/Chart.yaml", "reason": SKIP_REASON, "kind": "kubernetes"}]),
        "{report}"
    );
    let errors = report["errors"].as_array().unwrap();
    assert_eq!(
        errors.len(),
        1,
        "one error per skipped file, not per guardrail: {report}"
    );
    assert_eq!(errors[0]["file"], "charts/web/Chart.yaml");
    assert!(
        errors[0]["message"].as_str().unwrap().contains("--exclude"),
        "the way out is named: {report}"
    );

    let table = check(ws.path(), "app", &[]);
    table.expect_code(2);
    assert!(
        table
            .stdout
            .contains(&format!("skipped: charts/web/Chart.yaml ({SKIP_REASON})")),
        "{}",
        table.stdout
    );

    let sarif = check(ws.path(), "app", &["--format", "sarif"]).json();
    let invocation = &sarif["runs"][0]["invocations"][0];
    assert_eq!(invocation["properties"]["skipped"][0]["path"], "charts/web/Chart.yaml");
    let notes = invocation["toolExecutionNotifications"].as_array().unwrap();
    assert!(
        notes.iter().any(|n| n["level"] == "warning"
            && n["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "charts/web/Chart.yaml"),
        "{sarif}"
    );

    let junit = check(ws.path(), "app", &["--format", "junit"]).stdout;
    assert!(junit.contains(r#"skipped="1""#), "{junit}");
    assert!(
        junit.contains(r#"name="skipped: charts/web/Chart.yaml""#)
            && junit.contains(&format!(r#"<skipped message="{SKIP_REASON}"/>"#)),
        "{junit}"
    );

    let markdown = check(ws.path(), "app", &["--format", "markdown"]).stdout;
    assert!(
        markdown.contains("### Skipped") && markdown.contains(&format!("`charts/web/Chart.yaml`: {SKIP_REASON}")),
        "{markdown}"
    );

    // The way out: exclude the chart. Nothing skipped, nothing unknown.
    let run = check(ws.path(), "app", &["--format", "json", "--exclude", "charts/web"]);
    run.expect_code(0);
    assert_eq!(run.json()["skipped"], serde_json::json!([]));
}

/// A `guardrail.toml` without its `kinds` line (the tests set their own).
fn without_kinds(toml: &str) -> String {
    toml.lines()
        .filter(|l| !l.starts_with("kinds"))
        .map(|l| format!("{l}\n"))
        .collect()
}

#[test]
fn a_guardrail_that_does_not_judge_kubernetes_is_not_made_unknown_by_a_chart() {
    let ws = temp();
    guardrails_with(&ws.path().join("gr"), &["aws-ebs-volume-encryption"]);
    let toml = ws.path().join("gr/aws-ebs-volume-encryption/guardrail.toml");
    let text = without_kinds(&std::fs::read_to_string(&toml).unwrap());
    std::fs::write(&toml, format!("kinds = [\"terraform\", \"terraform-plan\"]\n{text}")).unwrap();
    write(ws.path(), "app/main.tf", COMPLIANT_TF);
    chart(&ws.path().join("app"));
    let run = check(ws.path(), "app", &["--format", "json"]);
    run.expect_code(0);
    let report = run.json();
    assert_eq!(report["skipped"][0]["reason"], SKIP_REASON, "still listed: {report}");
    assert_eq!(report["errors"], serde_json::json!([]));

    // A misspelt kind is a configuration error, not a silently narrower guardrail.
    std::fs::write(&toml, format!("kinds = [\"helm\"]\n{text}")).unwrap();
    let run = check(ws.path(), "app", &[]);
    run.expect_code(2);
    assert!(run.stderr.contains("guardrail.toml:1"), "{}", run.stderr);
}

#[test]
fn a_path_without_infrastructure_code_is_an_error_unless_allowed() {
    let ws = temp();
    k8s_guardrails(ws.path());
    write(ws.path(), "docs/README.md", "# not code\n");
    write(ws.path(), "docs/ci.yaml", "on: push\njobs: {}\n");
    let run = check(ws.path(), "docs", &[]);
    run.expect_code(2);
    assert!(run.all().contains("no infrastructure code found"), "{}", run.all());
    assert!(run.all().contains("docs"), "the path is named: {}", run.all());
    let json = check(ws.path(), "docs", &["--format", "json"]);
    json.expect_code(2);
    assert_eq!(json.json()["errors"][0]["file"], "docs");

    let run = check(ws.path(), "docs", &["--allow-empty"]);
    run.expect_code(0);
    assert!(!run.all().contains("no infrastructure code"), "{}", run.all());
}

// ---------------------------------------------------------------------------------------
// observe
// ---------------------------------------------------------------------------------------

const BIN: &str = env!("CARGO_BIN_EXE_railyard");

fn repo(path: &Path) -> git2::Repository {
    git2::Repository::open(path).unwrap_or_else(|_| common::init_repo(path))
}

fn observe(root: &Path) -> (i32, Value, String) {
    observe_with(root, &[])
}

fn observe_with(root: &Path, extra: &[&str]) -> (i32, Value, String) {
    let out = std::process::Command::new(BIN)
        .args(["observe", "--now", "2026-11-01", "--format", "json"])
        .args(extra)
        .arg("--repo")
        .arg(root.join("guardrails"))
        .arg("--cache-dir")
        .arg(root.join("cache"))
        .env("RAILYARD_ACTOR", "sec-lead")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!stderr.contains("panicked"), "{stderr}");
    let json = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}\n{stderr}"));
    (out.status.code().unwrap_or(-1), json, stderr)
}

fn candidate<'a>(report: &'a Value, id: &str) -> &'a Value {
    report["candidates"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id)
        .unwrap_or_else(|| panic!("no candidate {id}: {report}"))
}

const WEB_REGISTRY: &str = "[[workload]]\nname = \"web\"\nrepo = \"../web\"\nteam = \"web\"\n";

/// A guardrails repo with two candidates on develop: k8s-no-privileged-containers (judges
/// every kind) and aws-ebs-volume-encryption narrowed to `kinds = ["terraform"]`.
fn guardrails_repo(root: &Path, registry: &str) {
    let g = repo(&root.join("guardrails"));
    let mut base = bundled("lib");
    base.push(("workloads.toml".into(), registry.into()));
    commit_all(&g, "main", &base, "initial");
    let main = g.find_reference("refs/heads/main").unwrap().peel_to_commit().unwrap();
    g.branch("develop", &main, false).unwrap();
    let mut cands = bundled("k8s-no-privileged-containers");
    for (path, content) in bundled("aws-ebs-volume-encryption") {
        let content = match path.ends_with("guardrail.toml") {
            true => format!("kinds = [\"terraform\"]\n{}", without_kinds(&content)),
            false => content,
        };
        cands.push((path, content));
    }
    commit_all(&g, "develop", &cands, "two candidates");
}

#[test]
fn observe_is_unknown_for_guardrails_judging_a_skipped_helm_chart_until_it_is_excluded() {
    let ws = temp();
    let root = ws.path();
    let web = repo(&root.join("web"));
    let files: Vec<(String, String)> = vec![
        ("main.tf".into(), COMPLIANT_TF.into()),
        ("charts/web/Chart.yaml".into(), CHART_YAML.into()),
        ("charts/web/templates/deployment.yaml".into(), CHART_TEMPLATE.into()),
    ];
    commit_all(&web, "main", &files, "web with a chart");
    guardrails_repo(root, WEB_REGISTRY);

    let (code, report, stderr) = observe(root);
    assert_eq!(code, 2, "a blocked candidate: {report}\n{stderr}");
    let k8s = candidate(&report, "k8s-no-privileged-containers");
    assert_eq!(k8s["action"], "blocked", "{k8s}");
    let problems = k8s["problems"].to_string();
    assert!(
        problems.contains("charts/web/Chart.yaml") && problems.contains(SKIP_REASON) && problems.contains("exclude"),
        "the reason and the way out: {problems}"
    );
    // The guardrail that judges only Terraform is not held back by the chart.
    let ebs = candidate(&report, "aws-ebs-volume-encryption");
    assert_eq!(ebs["action"], "promoted", "{ebs}");

    // The way out: exclude the chart in workloads.toml (on develop, where workloads change).
    let g = repo(&root.join("guardrails"));
    let registry = format!("{WEB_REGISTRY}exclude = [\"charts/**\"]\n");
    commit(
        &g,
        "develop",
        &[("workloads.toml", Some(&registry))],
        "web: exclude its chart",
    );
    let (code, report, stderr) = observe(root);
    assert_eq!(code, 0, "{report}\n{stderr}");
    assert_eq!(
        candidate(&report, "k8s-no-privileged-containers")["action"],
        "promoted",
        "{report}"
    );
}

#[test]
fn observe_is_unknown_for_a_workload_without_infrastructure_code() {
    let ws = temp();
    let root = ws.path();
    let web = repo(&root.join("web"));
    commit_all(&web, "main", &[("README.md".into(), "# docs only\n".into())], "docs");
    guardrails_repo(root, &format!("{WEB_REGISTRY}paths = []\n"));
    let (code, report, stderr) = observe(root);
    assert_eq!(code, 2, "{report}\n{stderr}");
    for id in ["k8s-no-privileged-containers", "aws-ebs-volume-encryption"] {
        let c = candidate(&report, id);
        assert_eq!(c["action"], "blocked", "{c}");
        assert!(
            c["problems"].to_string().contains("no infrastructure code found"),
            "{c}"
        );
    }
}

/// The result cache once kept a guardrail's results across a change of its `kinds`: narrowed
/// to Terraform, it was compliant beside an unrendered chart; widened to every kind, the
/// cached compliant came back instead of *unknown*.
#[test]
fn widening_a_guardrails_kinds_is_not_answered_from_the_result_cache() {
    let ws = temp();
    let root = ws.path();
    let web = repo(&root.join("web"));
    let files: Vec<(String, String)> = vec![
        ("main.tf".into(), COMPLIANT_TF.into()),
        ("charts/web/Chart.yaml".into(), CHART_YAML.into()),
        ("charts/web/templates/deployment.yaml".into(), CHART_TEMPLATE.into()),
    ];
    commit_all(&web, "main", &files, "web with a chart");
    guardrails_repo(root, WEB_REGISTRY);
    let (_, report, _) = observe_with(root, &["--dry-run"]);
    let ebs = candidate(&report, "aws-ebs-volume-encryption");
    assert_eq!(ebs["action"], "would-promote", "{ebs}");
    assert_eq!(ebs["compliant"], 1, "{ebs}");

    let g = repo(&root.join("guardrails"));
    let toml = bundled("aws-ebs-volume-encryption")
        .into_iter()
        .find(|(p, _)| p.ends_with("guardrail.toml"))
        .unwrap();
    commit(
        &g,
        "develop",
        &[(toml.0.as_str(), Some(without_kinds(&toml.1).as_str()))],
        "ebs: judge every kind",
    );
    let (code, report, stderr) = observe_with(root, &["--dry-run"]);
    assert_eq!(code, 2, "{report}\n{stderr}");
    let ebs = candidate(&report, "aws-ebs-volume-encryption");
    assert_eq!(ebs["action"], "blocked", "{ebs}");
    assert_eq!(ebs["unknown"], 1, "{ebs}");
    assert!(ebs["problems"].to_string().contains("charts/web/Chart.yaml"), "{ebs}");
}

/// A Job created with `generateName` (no `metadata.name`) was left out silently: beside a
/// compliant Deployment the workload passed while the privileged Job was never judged. Now it
/// is a resource named by its prefix, and a Pod with no name at all is an error naming its line.
#[test]
fn objects_named_by_generate_name_are_judged_and_unnamed_pods_are_errors() {
    let ws = temp();
    k8s_guardrails(ws.path());
    write(
        ws.path(),
        "w/deploy.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  template:\n    spec:\n      containers:\n        - name: web\n          image: nginx:1.27.0\n",
    );
    write(
        ws.path(),
        "w/job.yaml",
        "apiVersion: batch/v1\nkind: Job\nmetadata:\n  generateName: migrate-\nspec:\n  template:\n    spec:\n      containers:\n        - name: m\n          image: busybox:1.36\n          securityContext:\n            privileged: true\n      restartPolicy: Never\n",
    );
    let run = check(ws.path(), "w", &["--format", "json"]);
    run.expect_code(1);
    let found = located(&run.json());
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(
        (found[0].0.as_str(), found[0].1.as_str()),
        ("Job.default.migrate-", "job.yaml")
    );
    write(
        ws.path(),
        "w/job.yaml",
        "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n    - name: m\n      image: busybox:1.36\n",
    );
    let run = check(ws.path(), "w", &[]);
    run.expect_code(2);
    assert!(
        run.all()
            .contains("job.yaml:1: a Pod without `metadata.name` (or `generateName`)"),
        "{}",
        run.all()
    );
}

/// A manifest that gives a key twice (`privileged: true`, then `privileged: false`) was read
/// with the last value and passed; kubectl, kustomize, Argo CD and Flux refuse such a file, so
/// what it deploys is not known: now an error naming both lines. A CloudFormation template keeps
/// the last value, as the SAM CLI's PyYAML does (AWS's own samples give keys twice).
#[test]
fn a_manifest_giving_a_key_twice_is_an_error_and_a_template_keeps_the_last() {
    let ws = temp();
    guardrails_with(
        &ws.path().join("gr"),
        &["k8s-no-privileged-containers", "aws-s3-versioning"],
    );
    write(
        ws.path(),
        "w/pod.yaml",
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n    - name: c\n      image: nginx:1.27.0\n      securityContext:\n        privileged: true\n        privileged: false\n",
    );
    let run = check(ws.path(), "w", &[]);
    run.expect_code(2);
    assert!(
        run.all()
            .contains("pod.yaml:11: `privileged` is given twice in one mapping (lines 10 and 11)"),
        "{}",
        run.all()
    );
    std::fs::remove_file(ws.path().join("w/pod.yaml")).unwrap();
    write(
        ws.path(),
        "w/template.yaml",
        "AWSTemplateFormatVersion: '2010-09-09'\nResources:\n  B:\n    Type: AWS::S3::Bucket\n    Properties:\n      VersioningConfiguration: {Status: Enabled}\n      VersioningConfiguration: {Status: Suspended}\n",
    );
    let run = check(ws.path(), "w", &["--format", "json"]);
    run.expect_code(1);
    assert_eq!(located(&run.json()).len(), 1, "the last value (Suspended) is judged");
}

/// Custom resources that run pods (an Argo Rollout here) were never judged by the pod and
/// container guardrails: a privileged Rollout on the host network passed. They are recognised
/// by shape (a `containers` list at a controller's pod spec path) and judged like a Deployment.
#[test]
fn a_custom_resource_that_runs_pods_is_judged_like_a_deployment() {
    let ws = temp();
    guardrails_with(
        &ws.path().join("gr"),
        &["k8s-no-privileged-containers", "k8s-no-host-network"],
    );
    write(
        ws.path(),
        "w/rollout.yaml",
        "apiVersion: argoproj.io/v1alpha1\nkind: Rollout\nmetadata:\n  name: checkout\nspec:\n  strategy:\n    canary: {}\n  template:\n    spec:\n      hostNetwork: true\n      containers:\n        - name: checkout\n          image: acme/checkout:2.4.1\n          securityContext:\n            privileged: true\n",
    );
    // A custom resource without that shape is not a pod carrier: nothing to judge, no error.
    write(
        ws.path(),
        "w/cert.yaml",
        "apiVersion: cert-manager.io/v1\nkind: Certificate\nmetadata:\n  name: web\nspec:\n  secretName: web-tls\n",
    );
    let run = check(ws.path(), "w", &["--format", "json"]);
    run.expect_code(1);
    let found = located(&run.json());
    let got: Vec<(&str, &str, u64)> = found.iter().map(|f| (f.0.as_str(), f.1.as_str(), f.2)).collect();
    assert_eq!(
        got,
        vec![
            ("Rollout.default.checkout", "rollout.yaml", 10),
            ("Rollout.default.checkout", "rollout.yaml", 15),
        ],
        "hostNetwork (line 10) and privileged (line 15)"
    );
}

/// kubectl reads manifests as YAML 1.1 (sigs.k8s.io/yaml): `privileged: yes` and
/// `hostNetwork: on` are `true` when the Pod is created. Railyard read YAML 1.2's core schema,
/// where both are strings, and passed the Pod; now plain scalars are read as kubectl reads them.
#[test]
fn yaml_1_1_booleans_are_read_as_kubectl_reads_them() {
    let ws = temp();
    guardrails_with(
        &ws.path().join("gr"),
        &["k8s-no-privileged-containers", "k8s-no-host-network"],
    );
    write(
        ws.path(),
        "w/pod.yaml",
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  hostNetwork: on\n  containers:\n    - name: c\n      image: nginx:1.27.0\n      securityContext:\n        privileged: yes\n",
    );
    let run = check(ws.path(), "w", &["--format", "json"]);
    run.expect_code(1);
    let found: Vec<u64> = located(&run.json()).iter().map(|f| f.2).collect();
    assert_eq!(
        found,
        vec![6, 11],
        "hostNetwork: on (line 6), privileged: yes (line 11)"
    );
    // Quoted, they are strings for kubectl too (and the API server refuses them).
    write(
        ws.path(),
        "w/pod.yaml",
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n    - name: c\n      image: nginx:1.27.0\n      securityContext:\n        privileged: 'no'\n",
    );
    check(ws.path(), "w", &[]).expect_code(0);
}
