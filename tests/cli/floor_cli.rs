//! The library's fixed cost (issue 14, "the whole library within 3x the floor"): each policy
//! parsed once at load, a guardrail's own engine built only when it runs alone, `check`
//! evaluating only the guardrails that judge a kind of code the workload holds. None of it
//! may change a result: a policy that does not compile is still a load error at its line, a
//! guardrail that is not evaluated is still unknown when the workload has code it could not
//! read, and a batch gives what each guardrail gives alone.

use crate::common::{bundled_guardrails, copy_dir, guardrails_with, railyard, railyard_env, temp, write};
use serde_json::Value;
use std::path::Path;

const POD: &str =
    "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n    - name: app\n      image: nginx:1.27\n";

/// A guardrail `id` that flags every resource of the input, whatever its kind, and declares
/// `kinds` (none: every kind).
fn flags_everything(gr: &Path, id: &str, kinds: &[&str]) {
    let kinds = match kinds {
        [] => String::new(),
        ks => format!(
            "kinds = [{}]\n",
            ks.iter().map(|k| format!("\"{k}\"")).collect::<Vec<_>>().join(", ")
        ),
    };
    write(
        gr,
        &format!("{id}/guardrail.toml"),
        format!("title = \"Flags every resource\"\nseverity = \"high\"\nremediation = \"none\"\n{kinds}"),
    );
    write(
        gr,
        &format!("{id}/policy.rego"),
        format!(
            "package {}\n\ndeny contains {{\"resource\": r.address, \"message\": \"seen\"}} if {{\n\tsome r in input.resources\n}}\n",
            id.replace('-', "_")
        ),
    );
}

/// Guardrails with findings, sorted.
fn flagged(report: &Value) -> Vec<String> {
    let mut ids: Vec<String> = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| f["guardrail"].as_str().expect("guardrail").to_string())
        .collect();
    ids.sort();
    ids.dedup();
    ids
}

#[test]
fn a_guardrail_judging_no_kind_of_code_in_the_workload_is_not_evaluated() {
    let ws = temp();
    let gr = ws.path().join("gr");
    flags_everything(&gr, "tf-only", &["terraform"]);
    flags_everything(&gr, "k8s-only", &["kubernetes"]);
    flags_everything(&gr, "any-kind", &[]);
    write(ws.path(), "w/pod.yaml", POD);
    let run = railyard(ws.path(), &["check", "w", "--guardrails", "gr", "--format", "json"]);
    run.expect_code(1);
    let report = run.json();
    // A Kubernetes-only folder: the Terraform guardrail has nothing to judge there.
    assert_eq!(flagged(&report), ["any-kind", "k8s-only"], "{}", run.stdout);
    assert_eq!(report["summary"]["guardrails"], 3);
    assert_eq!(report["summary"]["errors"], 0);
    // With Terraform code beside it, it is evaluated (on every resource, as its policy says).
    write(
        ws.path(),
        "w/main.tf",
        "resource \"aws_s3_bucket\" \"b\" {\n  bucket = \"x\"\n}\n",
    );
    let run = railyard(ws.path(), &["check", "w", "--guardrails", "gr", "--format", "json"]);
    run.expect_code(1);
    assert_eq!(
        flagged(&run.json()),
        ["any-kind", "k8s-only", "tf-only"],
        "{}",
        run.stdout
    );
}

#[test]
fn a_file_holding_no_resource_keeps_every_guardrail_evaluated() {
    // `vars.tf` is read by the policies (`input.files`) but holds no resource: what kind of
    // code the workload holds is then not told from its resources, so nothing is left out.
    let ws = temp();
    let gr = ws.path().join("gr");
    flags_everything(&gr, "cfn-only", &["cloudformation"]);
    write(ws.path(), "w/pod.yaml", POD);
    write(ws.path(), "w/vars.tf", "variable \"x\" {\n  default = 1\n}\n");
    let run = railyard(ws.path(), &["check", "w", "--guardrails", "gr", "--format", "json"]);
    run.expect_code(1);
    assert_eq!(flagged(&run.json()), ["cfn-only"], "{}", run.stdout);
}

#[test]
fn a_guardrail_not_evaluated_is_still_unknown_on_code_it_judges_that_was_skipped() {
    // Terraform resources and an unrendered Helm chart (Kubernetes code, skipped): the
    // Kubernetes guardrail is not evaluated (no Kubernetes resource), yet it is not a pass.
    let ws = temp();
    let gr = ws.path().join("gr");
    flags_everything(&gr, "k8s-only", &["kubernetes"]);
    write(
        ws.path(),
        "w/main.tf",
        "resource \"aws_s3_bucket\" \"b\" {\n  bucket = \"x\"\n}\n",
    );
    write(
        ws.path(),
        "w/chart/Chart.yaml",
        "apiVersion: v2\nname: c\nversion: 0.1.0\n",
    );
    write(
        ws.path(),
        "w/chart/templates/pod.yaml",
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {{ .Values.name }}\n",
    );
    let run = railyard_env(
        ws.path(),
        &["check", "w", "--guardrails", "gr", "--format", "json"],
        &[("PATH", "/nonexistent")],
    );
    run.expect_code(2);
    let report = run.json();
    assert!(flagged(&report).is_empty(), "{}", run.stdout);
    let errors = report["errors"].as_array().expect("errors");
    assert!(
        errors.iter().any(|e| e["file"] == "chart/Chart.yaml"
            && e["message"]
                .as_str()
                .unwrap()
                .contains("not evaluated by 1 active guardrail")),
        "{}",
        run.stdout
    );
    // Code that does not parse makes every guardrail unknown, evaluated or not.
    std::fs::remove_dir_all(ws.path().join("w/chart")).unwrap();
    std::fs::remove_file(ws.path().join("w/main.tf")).unwrap();
    write(ws.path(), "w/pod.yaml", POD);
    write(
        ws.path(),
        "w/broken.tf",
        "resource \"aws_s3_bucket\" \"b\" {\n  bucket = \n",
    );
    flags_everything(&gr, "tf-only", &["terraform"]);
    let run = railyard(ws.path(), &["check", "w", "--guardrails", "gr", "--format", "json"]);
    run.expect_code(2);
    assert!(run.stderr.contains("broken.tf:2:"), "{}", run.stderr);
}

#[test]
fn a_policy_that_does_not_compile_is_still_a_load_error_at_its_line() {
    // Parsed once into the library's shared engine: a syntax error, and a name that resolves
    // nowhere (refused after it was parsed), are each reported at file:line, and `check`
    // evaluates nothing.
    let ws = temp();
    let gr = ws.path().join("gr");
    guardrails_with(&gr, &["aws-s3-versioning", "k8s-no-host-pid"]);
    write(
        &gr,
        "syntax/guardrail.toml",
        "title = \"t\"\nseverity = \"high\"\nremediation = \"r\"\n",
    );
    write(
        &gr,
        "syntax/policy.rego",
        "package syntax\n\ndeny contains msg if {\n  msg := \n}\n",
    );
    write(
        &gr,
        "unresolved/guardrail.toml",
        "title = \"t\"\nseverity = \"high\"\nremediation = \"r\"\n",
    );
    write(
        &gr,
        "unresolved/policy.rego",
        "package unresolved\n\nimport data.lib.core\n\ndeny contains msg if {\n  some r in input.resources\n  core.no_such_helper(r)\n  msg := \"x\"\n}\n",
    );
    write(ws.path(), "w/pod.yaml", POD);
    let run = railyard(ws.path(), &["check", "w", "--guardrails", "gr", "--format", "json"]);
    run.expect_code(2);
    assert!(run.stdout.is_empty(), "nothing evaluated: {}", run.stdout);
    assert!(run.stderr.contains("gr/syntax/policy.rego:4"), "{}", run.stderr);
    assert!(run.stderr.contains("gr/unresolved/policy.rego:7"), "{}", run.stderr);
    assert!(run.stderr.contains("no_such_helper"), "{}", run.stderr);
}

#[test]
fn each_guardrail_alone_finds_what_the_batch_finds() {
    // RAILYARD_TIMINGS runs every guardrail on its own engine (built on demand); without it
    // the library runs in one batch engine built from the policies parsed at load.
    let ws = temp();
    let gr = ws.path().join("gr");
    copy_dir(&bundled_guardrails(), &gr);
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    copy_dir(&fixtures.join("terraform"), &ws.path().join("w/terraform"));
    copy_dir(&fixtures.join("kubernetes"), &ws.path().join("w/kubernetes"));
    copy_dir(&fixtures.join("cloudformation"), &ws.path().join("w/cloudformation"));
    let args = ["check", "w", "--guardrails", "gr", "--format", "json", "--jobs", "1"];
    let batch = railyard(ws.path(), &args);
    let alone = railyard_env(ws.path(), &args, &[("RAILYARD_TIMINGS", "1")]);
    assert!(alone.stderr.contains("timing: "), "{}", alone.stderr);
    assert_eq!(batch.code, alone.code, "{}\n{}", batch.stderr, alone.stderr);
    let (batch, alone) = (batch.json(), alone.json());
    assert!(batch["summary"]["findings"].as_u64().unwrap() > 20, "{batch}");
    assert_eq!(batch["findings"], alone["findings"]);
    assert_eq!(batch["errors"], alone["errors"]);
}

/// Manifests of odd shapes for the Kubernetes index: containers and init containers, a
/// `containers` that is one map, a container that is not a map, no name, a CronJob's deep pod
/// spec, a pod spec that is a template string, a controller without a pod spec, a Service.
const MANIFESTS: &str = r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  template:
    spec:
      hostNetwork: true
      containers:
        - name: app
          image: nginx:latest
          securityContext:
            privileged: true
        - just-a-string
        - image: busybox
          resources: "{{ .Values.resources }}"
      initContainers:
        name: init
        image: alpine
---
apiVersion: batch/v1
kind: CronJob
metadata:
  name: nightly
spec:
  jobTemplate:
    spec:
      template:
        spec:
          hostPID: true
          containers:
            - name: job
              image: registry.local:5000/job
              resources:
                limits:
                  cpu: "1"
                  memory: 1Gi
---
apiVersion: v1
kind: Pod
metadata:
  name: templated
spec: "{{ .Values.podSpec }}"
---
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: nospec
spec:
  replicas: 1
---
apiVersion: v1
kind: Service
metadata:
  name: svc
spec:
  ports:
    - port: 80
"#;

/// A guardrail reporting every entry of `input.kubernetes` (docs/input.md).
const INDEX_POLICY: &str = r#"package railyard.index

deny contains f if {
	some e in input.kubernetes.containers
	f := {"resource": e.resource.address, "id": e.resource.id, "message": sprintf("container %v at %s init=%v", [e.name, e.path, e.init])}
}

deny contains f if {
	some p in input.kubernetes.pods
	f := {"resource": p.resource.address, "id": p.resource.id, "message": sprintf("pod spec at %s: %s", [p.path, type_name(object.get(p, "spec", null))])}
}
"#;

fn messages(report: &Value) -> Vec<String> {
    let mut out: Vec<String> = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            format!(
                "{} {}: {}",
                f["guardrail"].as_str().unwrap(),
                f["resource"].as_str().unwrap(),
                f["message"].as_str().unwrap()
            )
        })
        .collect();
    out.sort();
    out
}

#[test]
fn policies_read_every_pod_spec_and_container_from_input_kubernetes() {
    let ws = temp();
    write(
        ws.path(),
        "gr/index/guardrail.toml",
        "title = \"Index\"\nseverity = \"low\"\nremediation = \"none\"\n",
    );
    write(ws.path(), "gr/index/policy.rego", INDEX_POLICY);
    write(ws.path(), "w/all.yaml", MANIFESTS);
    let run = railyard(ws.path(), &["check", "w", "--guardrails", "gr", "--format", "json"]);
    run.expect_code(1);
    assert_eq!(
        messages(&run.json()),
        [
            "index CronJob.default.nightly: container job at spec.jobTemplate.spec.template.spec.containers[0] init=false",
            "index CronJob.default.nightly: pod spec at spec.jobTemplate.spec.template.spec: object",
            "index Deployment.default.web: container <unnamed> at spec.template.spec.containers[2] init=false",
            "index Deployment.default.web: container app at spec.template.spec.containers[0] init=false",
            "index Deployment.default.web: container init at spec.template.spec.initContainers[0] init=true",
            "index Deployment.default.web: pod spec at spec.template.spec: object",
            "index Pod.default.templated: pod spec at spec: string",
            "index StatefulSet.default.nospec: pod spec at spec.template.spec: null",
        ],
        "{}",
        run.stdout
    );
}

/// The bundled Kubernetes guardrails find the same with the index as with `lib.kubernetes`
/// computing its lists in Rego (the path an `input` without the index takes): the index
/// changes what it costs, not what is found.
#[test]
fn the_kubernetes_guardrails_find_the_same_without_the_index() {
    let ws = temp();
    let ids = [
        "k8s-cpu-limits",
        "k8s-image-tag-pinned",
        "k8s-memory-limits",
        "k8s-no-host-network",
        "k8s-no-host-pid",
        "k8s-no-privileged-containers",
        "k8s-run-as-non-root",
    ];
    guardrails_with(&ws.path().join("indexed"), &ids);
    guardrails_with(&ws.path().join("rego"), &ids);
    let lib = ws.path().join("rego/lib/kubernetes.rego");
    let source = std::fs::read_to_string(&lib).unwrap();
    assert_eq!(
        source.matches(":= input.kubernetes.").count(),
        2,
        "lib.kubernetes reads the two lists"
    );
    std::fs::write(&lib, source.replace(":= input.kubernetes.", ":= input.no_such_index.")).unwrap();
    write(ws.path(), "w/all.yaml", MANIFESTS);
    let report = |gr: &str| {
        let run = railyard(ws.path(), &["check", "w", "--guardrails", gr, "--format", "json"]);
        run.expect_code(1);
        run.json()
    };
    let (indexed, rego) = (report("indexed"), report("rego"));
    let found = messages(&indexed);
    assert_eq!(found, messages(&rego));
    let fields = |r: &Value| -> Vec<String> {
        let mut v: Vec<String> = r["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| format!("{}:{}", f["file"], f["line"]))
            .collect();
        v.sort();
        v
    };
    assert_eq!(fields(&indexed), fields(&rego));
    // Each guardrail found something here, and the templated pod spec is not judged clean
    // by its container guardrails (no container to judge) but flagged by run-as-non-root.
    for id in ids {
        assert!(found.iter().any(|m| m.starts_with(id)), "{id}: {found:#?}");
    }
    assert!(
        found
            .iter()
            .any(|m| m.starts_with("k8s-run-as-non-root Pod.default.templated")),
        "{found:#?}"
    );
}
