//! End-to-end tests of `railyard check` and `railyard test` through the real binary, on
//! workloads and guardrail folders written to temporary directories (no network).
//! Exit codes: 0 clean, 1 findings (or failed fixtures), 2 anything that could not be evaluated.

use crate::common;
use crate::common::{bundled_guardrails, guardrails_with, railyard, temp, write};
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::Path;

/// Noncompliant Terraform: a bare bucket and a security group open to SSH, in two files.
const TF_MAIN: &str = r#"variable "env" {
  default = "prod"
}

locals {
  name = "logs-${var.env}"
}

resource "aws_s3_bucket" "logs" {
  bucket = local.name
}
"#;

const TF_NETWORK: &str = r#"# network
resource "aws_security_group" "bastion" {
  name = "bastion"

  ingress {
    from_port   = 22
    to_port     = 22
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }
}
"#;

/// Compliant with every bundled guardrail.
const TF_CLEAN: &str = r#"resource "aws_security_group" "web" {
  name = "web"

  ingress {
    from_port   = 443
    to_port     = 443
    protocol    = "tcp"
    cidr_blocks = ["10.0.0.0/8"]
  }

  tags = {
    owner       = "platform"
    environment = "prod"
  }
}
"#;

/// Only a medium finding (aws-s3-versioning) when checked with that one guardrail.
const TF_UNVERSIONED: &str = r#"resource "aws_s3_bucket" "logs" {
  bucket = "acme-logs"
}

resource "aws_s3_bucket" "data" {
  bucket = "acme-data"
}

resource "aws_s3_bucket_versioning" "data" {
  bucket = aws_s3_bucket.data.id
  versioning_configuration {
    status = "Enabled"
  }
}
"#;

const CFN_STACK: &str = r#"AWSTemplateFormatVersion: "2010-09-09"
Description: app database
Resources:
  AppDb:
    Type: AWS::RDS::DBInstance
    Properties:
      Engine: mysql
      DBInstanceClass: db.t3.micro
      StorageEncrypted: false
      PubliclyAccessible: false
      Tags:
        - Key: owner
          Value: app
        - Key: environment
          Value: prod
  SafeDb:
    Type: AWS::RDS::DBInstance
    Properties:
      Engine: postgres
      DBInstanceClass: db.t3.micro
      StorageEncrypted: true
      PubliclyAccessible: false
      Tags:
        - Key: owner
          Value: app
        - Key: environment
          Value: prod
"#;

const K8S_GUARDRAIL_TOML: &str = r#"title = "Containers are not privileged"
severity = "high"
remediation = "Remove securityContext.privileged."
"#;

const K8S_POLICY: &str = r#"package railyard.k8s_no_privileged

deny contains f if {
	some r in input.resources
	r.kind == "kubernetes"
	some c in r.config.spec.template.spec.containers
	c.securityContext.privileged == true
	f := {"resource": r.address, "message": sprintf("%s: container %s is privileged", [r.address, c.name])}
}
"#;

const K8S_MANIFESTS: &str = r#"apiVersion: v1
kind: Namespace
metadata:
  name: shop
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
spec:
  template:
    spec:
      containers:
        - name: app
          image: nginx
          securityContext:
            privileged: true
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: worker
spec:
  template:
    spec:
      containers:
        - name: worker
          image: busybox
"#;

fn bundled() -> String {
    bundled_guardrails().display().to_string()
}

/// `railyard check <ws>/<workload> --guardrails <guardrails> EXTRA...`, run in `ws`.
fn check(ws: &Path, workload: &str, guardrails: &str, extra: &[&str]) -> common::Run {
    let mut args = vec!["check", workload, "--guardrails", guardrails];
    args.extend_from_slice(extra);
    railyard(ws, &args)
}

fn noncompliant_tf(ws: &Path) {
    write(ws, "app/main.tf", TF_MAIN);
    write(ws, "app/network/sg.tf", TF_NETWORK);
}

fn findings(report: &Value) -> &Vec<Value> {
    report["findings"].as_array().expect("findings is an array")
}

fn pairs(list: &Value) -> BTreeSet<(String, String)> {
    list.as_array()
        .expect("array")
        .iter()
        .map(|f| {
            (
                f["guardrail"].as_str().unwrap().to_string(),
                f["resource"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// Every finding names its guardrail, severity, resource, file (relative, existing), a line
/// range that holds the resource's definition, and a message.
fn assert_findings_located(report: &Value, workload_root: &Path) {
    for f in findings(report) {
        for key in ["guardrail", "severity", "resource", "file", "message"] {
            assert!(
                f[key].as_str().is_some_and(|s| !s.is_empty()),
                "finding without `{key}`: {f}"
            );
        }
        assert!(
            ["low", "medium", "high", "critical"].contains(&f["severity"].as_str().unwrap()),
            "bad severity: {f}"
        );
        let file = f["file"].as_str().unwrap();
        assert!(
            !file.starts_with('/') && !file.contains('\\'),
            "file must be relative: {file}"
        );
        let text = std::fs::read_to_string(workload_root.join(file))
            .unwrap_or_else(|e| panic!("finding's file `{file}` is not below the workload: {e}"));
        let lines: Vec<&str> = text.lines().collect();
        let line = f["line"].as_u64().expect("line") as usize;
        let end = f["end_line"].as_u64().expect("end_line") as usize;
        assert!(
            line >= 1 && line <= end && end <= lines.len(),
            "bad range {line}-{end} in {file}: {f}"
        );
        // A finding naming the offending attribute points at it (the field's last key, or
        // the deepest part of it written in the file).
        if let Some(field) = f["field"].as_str() {
            let key = field.rsplit(['.', '[']).next().unwrap();
            assert!(
                field
                    .split(['.', '[', ']'])
                    .any(|k| !k.is_empty() && lines[line - 1].contains(k)),
                "`{field}` ({key}) not at {file}:{line}: {}",
                lines[line - 1]
            );
            continue;
        }
        // The resource's own name (Terraform label, logical id, metadata.name) is on its first lines.
        let resource = f["resource"].as_str().unwrap();
        let name = resource.rsplit('.').next().unwrap();
        let head = lines[line - 1..end.min(line + 4)].join("\n");
        assert!(
            head.contains(name),
            "`{resource}` not defined at {file}:{line}:\n{head}"
        );
    }
}

// ---------------------------------------------------------------------------------------
// 1. check on Terraform, CloudFormation, Kubernetes
// ---------------------------------------------------------------------------------------

#[test]
fn terraform_findings_have_relative_file_and_line_inside_the_resource() {
    let ws = temp();
    noncompliant_tf(ws.path());
    let run = check(ws.path(), "app", &bundled(), &["--format", "json"]);
    run.expect_code(1);
    let report = run.json();
    assert_eq!(report["workload"], "app");
    assert_eq!(report["summary"]["files"], 2);
    assert_eq!(report["summary"]["resources"], 2, "{report}");
    assert_eq!(report["summary"]["errors"], 0);
    assert_eq!(
        report["summary"]["findings"].as_u64().unwrap() as usize,
        findings(&report).len()
    );
    let got = pairs(&report["findings"]);
    for want in [
        ("aws-sg-no-public-ssh", "aws_security_group.bastion"),
        ("aws-s3-versioning", "aws_s3_bucket.logs"),
        ("aws-s3-public-access-block", "aws_s3_bucket.logs"),
        ("aws-required-tags", "aws_security_group.bastion"),
    ] {
        assert!(
            got.contains(&(want.0.to_string(), want.1.to_string())),
            "missing {want:?} in {got:?}"
        );
    }
    let ssh = findings(&report)
        .iter()
        .find(|f| f["guardrail"] == "aws-sg-no-public-ssh")
        .unwrap();
    assert_eq!(ssh["file"], "network/sg.tf");
    assert_eq!(ssh["line"], 2);
    assert_eq!(ssh["end_line"], 11);
    assert_eq!(ssh["severity"], "high");
    let bucket = findings(&report)
        .iter()
        .find(|f| f["guardrail"] == "aws-s3-versioning")
        .unwrap();
    assert_eq!(bucket["file"], "main.tf");
    assert_eq!(bucket["line"], 9);
    assert_findings_located(&report, &ws.path().join("app"));
}

#[test]
fn clean_terraform_exits_zero() {
    let ws = temp();
    write(ws.path(), "web/main.tf", TF_CLEAN);
    let run = check(ws.path(), "web", &bundled(), &["--format", "json"]);
    run.expect_code(0);
    let report = run.json();
    assert_eq!(report["summary"]["resources"], 1);
    assert!(findings(&report).is_empty(), "{report}");
    assert!(
        report["summary"]["guardrails"].as_u64().unwrap() >= 20,
        "bundled library not loaded: {report}"
    );
}

#[test]
fn cloudformation_findings_point_at_the_logical_resource() {
    let ws = temp();
    write(ws.path(), "stack/templates/db.yaml", CFN_STACK);
    let run = check(ws.path(), "stack", &bundled(), &["--format", "json"]);
    run.expect_code(1);
    let report = run.json();
    assert_eq!(report["summary"]["resources"], 2);
    let got = pairs(&report["findings"]);
    assert!(
        got.contains(&("aws-rds-encryption".into(), "AWS::RDS::DBInstance.AppDb".into())),
        "{got:?}"
    );
    assert!(
        !got.iter()
            .any(|(g, r)| g == "aws-rds-encryption" && r.ends_with("SafeDb")),
        "encrypted DB flagged: {got:?}"
    );
    let f = findings(&report)
        .iter()
        .find(|f| f["guardrail"] == "aws-rds-encryption")
        .unwrap();
    assert_eq!(f["file"], "templates/db.yaml");
    // The line of the attribute the guardrail names (`field`), inside the resource.
    assert_eq!(f["line"], 9);
    assert_eq!(f["field"], "StorageEncrypted");
    assert_findings_located(&report, &ws.path().join("stack"));
}

#[test]
fn kubernetes_manifests_are_checked_with_a_custom_guardrail() {
    let ws = temp();
    write(ws.path(), "gr/k8s-no-privileged/guardrail.toml", K8S_GUARDRAIL_TOML);
    write(ws.path(), "gr/k8s-no-privileged/policy.rego", K8S_POLICY);
    write(ws.path(), "k8s/deploy.yaml", K8S_MANIFESTS);
    let run = check(ws.path(), "k8s", "gr", &["--format", "json"]);
    run.expect_code(1);
    let report = run.json();
    assert_eq!(report["summary"]["resources"], 3, "{report}");
    assert_eq!(
        pairs(&report["findings"]),
        BTreeSet::from([("k8s-no-privileged".to_string(), "Deployment.shop.web".to_string())])
    );
    let f = &findings(&report)[0];
    assert_eq!(f["line"], 6, "the second document starts on line 6: {f}");
    assert_findings_located(&report, &ws.path().join("k8s"));

    // The same manifests without the privileged container pass.
    write(
        ws.path(),
        "k8s/deploy.yaml",
        K8S_MANIFESTS.replace("privileged: true", "privileged: false"),
    );
    check(ws.path(), "k8s", "gr", &[]).expect_code(0);
}

#[test]
fn a_single_file_can_be_checked() {
    let ws = temp();
    noncompliant_tf(ws.path());
    let run = check(ws.path(), "app/network/sg.tf", &bundled(), &["--format", "json"]);
    run.expect_code(1);
    let got = pairs(&run.json()["findings"]);
    assert!(
        got.contains(&("aws-sg-no-public-ssh".into(), "aws_security_group.bastion".into())),
        "{got:?}"
    );
    assert!(
        !got.iter().any(|(_, r)| r == "aws_s3_bucket.logs"),
        "read outside the file: {got:?}"
    );
}

// ---------------------------------------------------------------------------------------
// 2. Every --format
// ---------------------------------------------------------------------------------------

#[test]
fn format_table_prints_findings_and_a_summary_line() {
    let ws = temp();
    noncompliant_tf(ws.path());
    let json = check(ws.path(), "app", &bundled(), &["--format", "json"]).json();
    let n = findings(&json).len();
    let run = check(ws.path(), "app", &bundled(), &[]);
    run.expect_code(1);
    // The summary comes first (the verdict, then the counts), the findings after it.
    let first = run.stdout.lines().next().expect("output");
    assert!(first.starts_with("FAIL app: "), "summary line: {first}");
    assert!(first.contains(&format!("{n} findings")), "summary line: {first}");
    assert!(first.contains("2 resources in 2 files"), "summary line: {first}");
    assert!(run.stdout.contains("network/sg.tf:2"), "{}", run.stdout);
    assert!(run.stdout.contains("aws-sg-no-public-ssh"), "{}", run.stdout);
}

#[test]
fn format_sarif_is_sarif_2_1_0_with_rules_and_locations() {
    let ws = temp();
    noncompliant_tf(ws.path());
    write(ws.path(), "app/db.yaml", CFN_STACK);
    let json = check(ws.path(), "app", &bundled(), &["--format", "json"]).json();
    let run = check(ws.path(), "app", &bundled(), &["--format", "sarif"]);
    run.expect_code(1);
    let sarif = run.json();
    assert_eq!(sarif["version"], "2.1.0");
    assert!(
        sarif["$schema"].as_str().is_some_and(|s| s.contains("sarif")),
        "{}",
        sarif["$schema"]
    );
    let run0 = &sarif["runs"][0];
    let rules = run0["tool"]["driver"]["rules"].as_array().expect("rules");
    let rule_ids: Vec<&str> = rules.iter().map(|r| r["id"].as_str().expect("rule id")).collect();
    let results = run0["results"].as_array().expect("results");
    assert_eq!(results.len(), findings(&json).len(), "one result per finding");
    for r in results {
        let id = r["ruleId"].as_str().expect("ruleId");
        let index = rule_ids
            .iter()
            .position(|x| *x == id)
            .unwrap_or_else(|| panic!("rule `{id}` not declared"));
        assert_eq!(r["ruleIndex"], index, "ruleIndex of {id}");
        assert!(
            ["error", "warning", "note"].contains(&r["level"].as_str().unwrap()),
            "{r}"
        );
        assert!(r["message"]["text"].as_str().is_some_and(|t| !t.is_empty()));
        let loc = &r["locations"][0]["physicalLocation"];
        let uri = loc["artifactLocation"]["uri"].as_str().expect("uri");
        assert!(
            ws.path().join("app").join(uri).is_file(),
            "uri `{uri}` is not a workload file"
        );
        assert!(loc["region"]["startLine"].as_u64().expect("startLine") >= 1);
    }
    let used: BTreeSet<&str> = results.iter().map(|r| r["ruleId"].as_str().unwrap()).collect();
    assert_eq!(
        used,
        rule_ids.iter().copied().collect::<BTreeSet<_>>(),
        "every rule used, every used rule declared"
    );
    assert!(
        used.contains("aws-rds-encryption") && used.contains("aws-sg-no-public-ssh"),
        "{used:?}"
    );
    assert_eq!(run0["invocations"][0]["executionSuccessful"], true);
}

#[test]
fn format_junit_has_one_failure_per_finding_in_its_guardrails_case() {
    let ws = temp();
    noncompliant_tf(ws.path());
    let json = check(ws.path(), "app", &bundled(), &["--format", "json"]).json();
    let found = pairs(&json["findings"]);
    let failing: BTreeSet<String> = found.iter().map(|(g, _)| g.clone()).collect();
    let run = check(ws.path(), "app", &bundled(), &["--format", "junit"]);
    run.expect_code(1);
    let xml = run.stdout.trim_start();
    assert!(xml.starts_with("<?xml"), "{xml}");
    assert!(xml.contains("<testsuite"), "{xml}");
    // One <failure> per finding (file:line first), under its guardrail's own test case.
    assert_eq!(xml.matches("<failure").count(), findings(&json).len(), "{xml}");
    for g in &failing {
        let case = xml
            .split("<testcase ")
            .find(|c| c.contains(&format!("name=\"{g}\" time=")))
            .unwrap_or_else(|| panic!("no case for {g}: {xml}"));
        assert!(case.contains("<failure message=\""), "no failure for {g}: {xml}");
    }
    // Well-formed enough: every opened element is closed.
    assert_eq!(xml.matches("<testsuite ").count(), xml.matches("</testsuite>").count());
    assert_eq!(xml.matches("<failure").count(), xml.matches("</failure>").count());
    assert!(
        xml.trim_end().ends_with("</testsuites>") || xml.trim_end().ends_with("</testsuite>"),
        "{xml}"
    );
}

#[test]
fn format_markdown_has_a_findings_table() {
    let ws = temp();
    noncompliant_tf(ws.path());
    let run = check(ws.path(), "app", &bundled(), &["--format", "markdown"]);
    run.expect_code(1);
    let md = &run.stdout;
    let header = md
        .lines()
        .position(|l| l.starts_with('|') && l.contains("Guardrail"))
        .expect("table header");
    let sep = md.lines().nth(header + 1).expect("separator");
    assert!(sep.starts_with("|---") || sep.starts_with("| ---"), "separator: {sep}");
    assert!(
        md.contains("`network/sg.tf:2`") || md.contains("network/sg.tf:2"),
        "{md}"
    );
}

#[test]
fn every_format_keeps_the_exit_code() {
    let ws = temp();
    write(ws.path(), "web/main.tf", TF_CLEAN);
    noncompliant_tf(ws.path());
    for format in ["table", "json", "sarif", "junit", "markdown"] {
        check(ws.path(), "web", &bundled(), &["--format", format]).expect_code(0);
        check(ws.path(), "app", &bundled(), &["--format", format]).expect_code(1);
    }
}

// ---------------------------------------------------------------------------------------
// 3. Errors: exit 2, file and line named, no panic (railyard() asserts no panic)
// ---------------------------------------------------------------------------------------

#[test]
fn broken_hcl_is_an_error_naming_file_and_line() {
    let ws = temp();
    write(
        ws.path(),
        "app/broken.tf",
        "resource \"aws_s3_bucket\" \"x\" {\n  bucket = \"a\"\n  tags = {\n",
    );
    let run = check(ws.path(), "app", &bundled(), &[]);
    run.expect_code(2);
    assert!(run.all().contains("broken.tf:"), "{}", run.all());

    let report = check(ws.path(), "app", &bundled(), &["--format", "json"]).json();
    let err = &report["errors"][0];
    assert_eq!(err["file"], "broken.tf");
    assert!((1..=4).contains(&err["line"].as_u64().expect("line")), "{err}");
}

#[test]
fn yaml_syntax_error_in_a_template_is_an_error_naming_file_and_line() {
    let ws = temp();
    let bad = "AWSTemplateFormatVersion: \"2010-09-09\"\nResources:\n  Db:\n    Type: AWS::RDS::DBInstance\n    Properties:\n      Engine: mysql\n     StorageEncrypted: false\n";
    write(ws.path(), "stack/template.yaml", bad);
    let run = check(ws.path(), "stack", &bundled(), &[]);
    run.expect_code(2);
    assert!(run.all().contains("template.yaml:7"), "{}", run.all());
    let report = check(ws.path(), "stack", &bundled(), &["--format", "json"]).json();
    assert_eq!(report["errors"][0]["file"], "template.yaml");
    assert_eq!(report["errors"][0]["line"], 7);
}

/// A temporary guardrails folder with the Kubernetes guardrail, edited by `edit`.
fn broken_guardrails(ws: &Path, file: &str, content: &str) -> common::Run {
    write(ws, "gr/k8s-no-privileged/guardrail.toml", K8S_GUARDRAIL_TOML);
    write(ws, "gr/k8s-no-privileged/policy.rego", K8S_POLICY);
    write(ws, &format!("gr/k8s-no-privileged/{file}"), content);
    write(ws, "k8s/deploy.yaml", K8S_MANIFESTS);
    let run = check(ws, "k8s", "gr", &[]);
    run.expect_code(2);
    run
}

#[test]
fn invalid_toml_in_guardrail_toml_is_an_error() {
    let ws = temp();
    let run = broken_guardrails(
        ws.path(),
        "guardrail.toml",
        "title = \"unterminated\nseverity = \"high\"\n",
    );
    assert!(
        run.stderr.contains("k8s-no-privileged/guardrail.toml:1"),
        "{}",
        run.stderr
    );
}

#[test]
fn unknown_key_in_guardrail_toml_is_an_error() {
    let ws = temp();
    let run = broken_guardrails(
        ws.path(),
        "guardrail.toml",
        &format!("{K8S_GUARDRAIL_TOML}severty = \"low\"\n"),
    );
    assert!(
        run.stderr.contains("k8s-no-privileged/guardrail.toml:4"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("severty"), "{}", run.stderr);
}

#[test]
fn rego_syntax_error_is_an_error() {
    let ws = temp();
    let policy = "package railyard.k8s_no_privileged\n\ndeny contains f if {\n  f := {\"resource\": \"x\", \"message\": \"m\"\n}\n";
    let run = broken_guardrails(ws.path(), "policy.rego", policy);
    assert!(run.stderr.contains("k8s-no-privileged/policy.rego:"), "{}", run.stderr);
    let line: usize = run
        .stderr
        .split("policy.rego:")
        .nth(1)
        .and_then(|s| s.split(|c: char| !c.is_ascii_digit()).next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no line number: {}", run.stderr));
    assert!((3..=6).contains(&line), "line {line}: {}", run.stderr);
}

#[test]
fn a_parse_error_does_not_hide_findings_elsewhere() {
    let ws = temp();
    noncompliant_tf(ws.path());
    write(ws.path(), "app/broken.tf", "resource \"aws_s3_bucket\" {\n");
    let run = check(ws.path(), "app", &bundled(), &["--format", "json"]);
    run.expect_code(2);
    let report = run.json();
    assert_eq!(report["summary"]["errors"], 1, "{report}");
    assert_eq!(report["errors"][0]["file"], "broken.tf");
    let got = pairs(&report["findings"]);
    assert!(
        got.contains(&("aws-sg-no-public-ssh".into(), "aws_security_group.bastion".into())),
        "{got:?}"
    );
    // The table shows both too.
    let table = check(ws.path(), "app", &bundled(), &[]);
    table.expect_code(2);
    assert!(
        table.stdout.contains("aws-sg-no-public-ssh") && table.stdout.contains("broken.tf"),
        "{}",
        table.stdout
    );
}

/// However the work is spread (one process, a child per job, threads in one child, with or
/// without isolation), a workload of every format gets the same report.
#[test]
fn the_report_is_the_same_however_the_work_is_spread() {
    let ws = temp();
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    for (name, dest) in [
        ("payments-api", "mixed/tf"),
        ("data-pipeline", "mixed/cfn"),
        ("web-frontend", "mixed/k8s"),
    ] {
        common::copy_dir(&examples.join(name), &ws.path().join(dest));
    }
    noncompliant_tf(&ws.path().join("mixed"));
    let run = |extra: &[&str]| {
        let mut args = vec!["--format", "json"];
        args.extend_from_slice(extra);
        let r = check(ws.path(), "mixed", &bundled(), &args);
        r.expect_code(1);
        r.json()
    };
    let one = run(&["--jobs", "1"]);
    assert!(findings(&one).len() >= 10, "{one:#}");
    let guardrails: BTreeSet<&str> = findings(&one).iter().filter_map(|f| f["guardrail"].as_str()).collect();
    assert!(
        guardrails.contains("aws-sg-no-public-ssh") && guardrails.contains("k8s-image-tag-pinned"),
        "{guardrails:?}"
    );
    for extra in [
        &["--jobs", "2"][..],
        &["--jobs", "3"],
        &["--eval-memory", "0", "--jobs", "2"],
        &["--eval-memory", "0", "--jobs", "1"],
    ] {
        assert_eq!(run(extra), one, "check {extra:?} differs from --jobs 1");
    }
    // Timings are printed from this process: the per-job path, still the same findings.
    let timed = common::railyard_env(
        ws.path(),
        &["check", "mixed", "--guardrails", &bundled(), "--format", "json"],
        &[("RAILYARD_TIMINGS", "1")],
    );
    timed.expect_code(1);
    assert!(
        timed.stderr.contains("timing: aws-s3-versioning on mixed"),
        "{}",
        timed.stderr
    );
    assert_eq!(timed.json(), one);
}

#[test]
fn missing_guardrails_folder_and_bad_flags_exit_2() {
    let ws = temp();
    noncompliant_tf(ws.path());
    check(ws.path(), "app", "no-such-folder", &[]).expect_code(2);
    check(ws.path(), "app", &bundled(), &["--fail-on", "severe"]).expect_code(2);
    check(ws.path(), "app", &bundled(), &["--now", "2030-13-45"]).expect_code(2);
    let run = check(ws.path(), "no-such-workload", &bundled(), &[]);
    run.expect_code(2);
    assert!(run.stderr.contains("no-such-workload"), "{}", run.stderr);
}

// ---------------------------------------------------------------------------------------
// 4. Exceptions
// ---------------------------------------------------------------------------------------

const EXCEPTION: &str = r#"# Approved waivers for aws-s3-versioning.

[[exception]]
workload = "payments"
resource = "aws_s3_bucket.logs"
reason = "Log objects are immutable; versioning adds cost only"
approved_by = "security@example.com"
ticket = "SEC-42"
expires = 2030-06-30
"#;

fn excepted_workload(ws: &Path, exceptions: &str) {
    guardrails_with(&ws.join("gr"), &["aws-s3-versioning"]);
    write(ws, "gr/aws-s3-versioning/exceptions.toml", exceptions);
    write(ws, "app/main.tf", TF_UNVERSIONED);
}

#[test]
fn an_active_exception_moves_the_finding_to_excepted() {
    let ws = temp();
    excepted_workload(ws.path(), EXCEPTION);
    let run = check(
        ws.path(),
        "app",
        "gr",
        &["--workload", "payments", "--now", "2030-06-30", "--format", "json"],
    );
    run.expect_code(0);
    let report = run.json();
    assert!(findings(&report).is_empty(), "{report}");
    let ex = &report["excepted"][0];
    assert_eq!(ex["resource"], "aws_s3_bucket.logs");
    assert_eq!(ex["exception"]["status"], "active");
    assert_eq!(ex["exception"]["approved_by"], "security@example.com");
    assert_eq!(ex["exception"]["source"], "gr/aws-s3-versioning/exceptions.toml:3");
    assert_eq!(report["summary"]["excepted"], 1);
}

#[test]
fn an_expired_exception_fails_again_and_is_named() {
    let ws = temp();
    excepted_workload(ws.path(), EXCEPTION);
    let run = check(
        ws.path(),
        "app",
        "gr",
        &["--workload", "payments", "--now", "2030-07-01", "--format", "json"],
    );
    run.expect_code(1);
    let report = run.json();
    assert!(report["excepted"].as_array().unwrap().is_empty(), "{report}");
    let f = &findings(&report)[0];
    assert_eq!(f["resource"], "aws_s3_bucket.logs");
    assert_eq!(f["exception"]["status"], "expired");
    assert_eq!(f["exception"]["expires"], "2030-06-30");
    let table = check(
        ws.path(),
        "app",
        "gr",
        &["--workload", "payments", "--now", "2030-07-01"],
    );
    table.expect_code(1);
    assert!(table.stdout.contains("Expired exception"), "{}", table.stdout);
    assert!(table.stdout.contains("exceptions.toml:3"), "{}", table.stdout);
}

#[test]
fn an_exception_without_approver_is_an_error_naming_file_and_line() {
    let ws = temp();
    excepted_workload(
        ws.path(),
        &EXCEPTION.replace("approved_by = \"security@example.com\"\n", ""),
    );
    let run = check(
        ws.path(),
        "app",
        "gr",
        &["--workload", "payments", "--now", "2030-01-01"],
    );
    run.expect_code(2);
    assert!(
        run.stderr.contains("aws-s3-versioning/exceptions.toml:3"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("approved_by"), "{}", run.stderr);

    let ws = temp();
    excepted_workload(ws.path(), &EXCEPTION.replace("security@example.com", "  "));
    let run = check(
        ws.path(),
        "app",
        "gr",
        &["--workload", "payments", "--now", "2030-01-01"],
    );
    run.expect_code(2);
    assert!(
        run.stderr.contains("aws-s3-versioning/exceptions.toml:7"),
        "{}",
        run.stderr
    );
}

#[test]
fn an_exception_for_another_workload_does_not_apply() {
    let ws = temp();
    excepted_workload(ws.path(), EXCEPTION);
    for extra in [&["--workload", "search"][..], &[][..]] {
        let mut args = vec!["--now", "2030-01-01", "--format", "json"];
        args.extend_from_slice(extra);
        let run = check(ws.path(), "app", "gr", &args);
        run.expect_code(1);
        let report = run.json();
        assert_eq!(findings(&report)[0]["resource"], "aws_s3_bucket.logs");
        assert!(findings(&report)[0].get("exception").is_none(), "{report}");
        assert!(report["excepted"].as_array().unwrap().is_empty());
    }
    // The folder's name is the default workload name.
    std::fs::rename(ws.path().join("app"), ws.path().join("payments")).unwrap();
    check(ws.path(), "payments", "gr", &["--now", "2030-01-01"]).expect_code(0);
}

// ---------------------------------------------------------------------------------------
// 5. Policy runtime errors
// ---------------------------------------------------------------------------------------

#[test]
fn a_policy_dividing_by_zero_is_an_error_naming_the_guardrail() {
    let ws = temp();
    let policy = "package railyard.k8s_no_privileged\n\ndeny contains f if {\n  some r in input.resources\n  x := 1 / 0\n  f := {\"resource\": r.address, \"message\": sprintf(\"%v\", [x])}\n}\n";
    let run = broken_guardrails(ws.path(), "policy.rego", policy);
    assert!(run.all().contains("k8s-no-privileged"), "{}", run.all());
    let json = check(ws.path(), "k8s", "gr", &["--format", "json"]);
    json.expect_code(2);
    assert_eq!(json.json()["errors"][0]["guardrail"], "k8s-no-privileged");
    // With other guardrails in the library the error fails their shared evaluation pass;
    // each is then evaluated on its own, so the error stays with its guardrail and the
    // others' findings are still reported.
    guardrails_with(&ws.path().join("gr"), &["aws-s3-versioning", "aws-s3-access-logging"]);
    write(ws.path(), "k8s/main.tf", TF_UNVERSIONED);
    let run = check(ws.path(), "k8s", "gr", &["--format", "json"]);
    run.expect_code(2);
    let report = run.json();
    let errors = report["errors"].as_array().expect("errors");
    assert_eq!(errors.len(), 1, "{report}");
    assert_eq!(errors[0]["guardrail"], "k8s-no-privileged");
    let found = pairs(&report["findings"]);
    assert!(
        found.contains(&("aws-s3-versioning".into(), "aws_s3_bucket.logs".into())),
        "{found:?}"
    );
    assert!(
        found.contains(&("aws-s3-access-logging".into(), "aws_s3_bucket.logs".into())),
        "{found:?}"
    );
}

#[test]
fn a_deny_rule_producing_a_number_is_an_error() {
    let ws = temp();
    let policy = "package railyard.k8s_no_privileged\n\ndeny contains 42 if {\n  some r in input.resources\n}\n";
    let run = broken_guardrails(ws.path(), "policy.rego", policy);
    assert!(run.all().contains("k8s-no-privileged"), "{}", run.all());
    // Another guardrail's findings are still reported beside the error.
    guardrails_with(&ws.path().join("gr"), &["aws-s3-versioning"]);
    write(ws.path(), "k8s/main.tf", TF_UNVERSIONED);
    let run = check(ws.path(), "k8s", "gr", &["--format", "json"]);
    run.expect_code(2);
    let report = run.json();
    assert_eq!(report["errors"][0]["guardrail"], "k8s-no-privileged");
    assert!(pairs(&report["findings"]).contains(&("aws-s3-versioning".into(), "aws_s3_bucket.logs".into())));
}

// ---------------------------------------------------------------------------------------
// 6. railyard test
// ---------------------------------------------------------------------------------------

#[test]
fn the_bundled_library_passes_its_own_fixtures() {
    let ws = temp();
    let run = railyard(ws.path(), &["test", &bundled()]);
    run.expect_code(0);
    let last = run.stdout.lines().last().expect("output");
    let (passed, failed) = last
        .split_once(" passed, ")
        .unwrap_or_else(|| panic!("last line: {last}"));
    assert_eq!(failed, "0 failed", "{}", run.stdout);
    let passed: usize = passed.parse().expect("count");
    let guardrails = std::fs::read_dir(bundled_guardrails())
        .unwrap()
        .filter(|e| e.as_ref().unwrap().path().join("guardrail.toml").is_file())
        .count();
    assert!(
        passed >= 2 * guardrails,
        "{passed} fixtures for {guardrails} guardrails"
    );
}

fn k8s_guardrail_with_fixtures(ws: &Path, expected: &str) {
    write(ws, "gr/k8s-no-privileged/guardrail.toml", K8S_GUARDRAIL_TOML);
    write(ws, "gr/k8s-no-privileged/policy.rego", K8S_POLICY);
    write(ws, "gr/k8s-no-privileged/tests/fail/deploy.yaml", K8S_MANIFESTS);
    write(ws, "gr/k8s-no-privileged/tests/fail/expected.toml", expected);
    write(
        ws,
        "gr/k8s-no-privileged/tests/pass/deploy.yaml",
        K8S_MANIFESTS.replace("privileged: true", "privileged: false"),
    );
}

#[test]
fn fixtures_with_the_right_expectations_pass() {
    let ws = temp();
    k8s_guardrail_with_fixtures(ws.path(), "\"deploy.yaml\" = [\"Deployment.shop.web\"]\n");
    let run = railyard(ws.path(), &["test", "gr"]);
    run.expect_code(0);
    assert_eq!(run.stdout.lines().last(), Some("2 passed, 0 failed"), "{}", run.stdout);
}

#[test]
fn a_fail_fixture_expecting_the_wrong_address_fails() {
    let ws = temp();
    k8s_guardrail_with_fixtures(ws.path(), "\"deploy.yaml\" = [\"Deployment.default.web\"]\n");
    let run = railyard(ws.path(), &["test", "gr"]);
    run.expect_code(1);
    assert_eq!(run.stdout.lines().last(), Some("1 passed, 1 failed"), "{}", run.stdout);
    assert!(
        run.stdout.contains("Deployment.default.web"),
        "missing resource not named: {}",
        run.stdout
    );
    assert!(
        run.stdout.contains("Deployment.shop.web"),
        "unexpected resource not named: {}",
        run.stdout
    );
    assert!(
        run.stdout.contains("FAIL k8s-no-privileged tests/fail/deploy.yaml"),
        "{}",
        run.stdout
    );
}

#[test]
fn a_guardrail_without_fixtures_fails() {
    let ws = temp();
    write(ws.path(), "gr/k8s-no-privileged/guardrail.toml", K8S_GUARDRAIL_TOML);
    write(ws.path(), "gr/k8s-no-privileged/policy.rego", K8S_POLICY);
    let run = railyard(ws.path(), &["test", "gr"]);
    run.expect_code(1);
    assert!(run.stdout.contains("no fixtures"), "{}", run.stdout);
    assert!(
        run.stdout.lines().last().is_some_and(|l| !l.ends_with(" 0 failed")),
        "{}",
        run.stdout
    );
}

#[test]
fn a_fail_fixture_missing_from_expected_toml_fails() {
    let ws = temp();
    k8s_guardrail_with_fixtures(ws.path(), "\"other.yaml\" = [\"Deployment.shop.web\"]\n");
    let run = railyard(ws.path(), &["test", "gr"]);
    run.expect_code(1);
    assert!(run.stdout.contains("other.yaml"), "{}", run.stdout);
    assert!(run.stdout.contains("no entry for `deploy.yaml`"), "{}", run.stdout);
}

// ---------------------------------------------------------------------------------------
// 7. --fail-on
// ---------------------------------------------------------------------------------------

#[test]
fn fail_on_high_reports_medium_findings_without_failing() {
    let ws = temp();
    guardrails_with(&ws.path().join("gr"), &["aws-s3-versioning", "aws-sg-no-public-ssh"]);
    write(ws.path(), "app/main.tf", TF_UNVERSIONED);
    let run = check(ws.path(), "app", "gr", &["--fail-on", "high", "--format", "json"]);
    run.expect_code(0);
    let report = run.json();
    assert_eq!(findings(&report).len(), 1, "{report}");
    assert_eq!(findings(&report)[0]["severity"], "medium");
    assert_eq!(report["summary"]["failing"], 0);
    check(ws.path(), "app", "gr", &["--fail-on", "medium"]).expect_code(1);
    check(ws.path(), "app", "gr", &[]).expect_code(1);
    let table = check(ws.path(), "app", "gr", &["--fail-on", "high"]);
    table.expect_code(0);
    assert!(table.stdout.contains("aws_s3_bucket.logs"), "{}", table.stdout);

    // A high finding still fails with --fail-on high.
    write(ws.path(), "app/sg.tf", TF_NETWORK);
    let run = check(ws.path(), "app", "gr", &["--fail-on", "high", "--format", "json"]);
    run.expect_code(1);
    assert_eq!(run.json()["summary"]["failing"], 1);
    check(ws.path(), "app", "gr", &["--fail-on", "critical"]).expect_code(0);
}

// ---------------------------------------------------------------------------------------
// 8. Symlinks
// ---------------------------------------------------------------------------------------

#[cfg(unix)]
#[test]
fn symlinks_pointing_outside_the_workload_are_not_followed() {
    let ws = temp();
    write(ws.path(), "outside/evil.tf", TF_NETWORK);
    write(ws.path(), "outside/more/evil2.tf", TF_MAIN);
    write(ws.path(), "web/main.tf", TF_CLEAN);
    std::os::unix::fs::symlink(ws.path().join("outside/evil.tf"), ws.path().join("web/linked.tf")).unwrap();
    std::os::unix::fs::symlink(ws.path().join("outside/more"), ws.path().join("web/linkdir")).unwrap();
    std::os::unix::fs::symlink("../outside/evil.tf", ws.path().join("web/relative.tf")).unwrap();
    let run = check(ws.path(), "web", &bundled(), &["--format", "json"]);
    // A link where code is expected is code that cannot be evaluated: an error, never a pass
    // (docs/limits.md).
    run.expect_code(2);
    let report = run.json();
    assert!(findings(&report).is_empty(), "a symlink was followed: {report}");
    let errors = report["errors"].to_string();
    assert!(
        errors.contains("linked.tf") && errors.contains("relative.tf"),
        "{errors}"
    );
    assert!(!errors.contains("linkdir"), "{errors}");
    assert_eq!(report["summary"]["files"], 1);
    let skipped: BTreeSet<&str> = report["skipped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["path"].as_str().unwrap())
        .collect();
    assert_eq!(
        skipped,
        BTreeSet::from(["linkdir", "linked.tf", "relative.tf"]),
        "{report}"
    );
}

// ---------------------------------------------------------------------------------------
// Guardrails from a git repository: main's are active, develop's candidates are warnings.
// ---------------------------------------------------------------------------------------

#[test]
fn guardrails_repo_main_fails_and_develop_candidates_warn() {
    let ws = temp();
    let lib = temp();
    guardrails_with(lib.path(), &["aws-s3-versioning"]);
    let repo = common::init_repo(&ws.path().join("rails"));
    common::commit_dir(&repo, "main", None, lib.path(), "guardrails/", "main: s3 versioning");
    let ssh = temp();
    common::copy_dir(&bundled_guardrails().join("aws-sg-no-public-ssh"), ssh.path());
    common::commit_dir(
        &repo,
        "develop",
        Some("main"),
        ssh.path(),
        "guardrails/aws-sg-no-public-ssh/",
        "candidate",
    );
    write(ws.path(), "app/main.tf", TF_UNVERSIONED);
    write(ws.path(), "app/sg.tf", TF_NETWORK);

    let run = check(ws.path(), "app", "rails", &["--format", "json", "--now", "2030-01-01"]);
    run.expect_code(1);
    let report = run.json();
    assert_eq!(report["summary"]["guardrails"], 1, "{report}");
    assert_eq!(report["summary"]["pending_guardrails"], 1, "{report}");
    assert_eq!(
        pairs(&report["findings"]),
        BTreeSet::from([("aws-s3-versioning".to_string(), "aws_s3_bucket.logs".to_string())])
    );
    assert_eq!(
        pairs(&report["warnings"]),
        BTreeSet::from([(
            "aws-sg-no-public-ssh".to_string(),
            "aws_security_group.bastion".to_string()
        )])
    );

    // Checking against develop makes the candidate active.
    let run = check(
        ws.path(),
        "app",
        "rails@develop",
        &["--format", "json", "--now", "2030-01-01"],
    );
    run.expect_code(1);
    let report = run.json();
    assert_eq!(report["summary"]["guardrails"], 2, "{report}");
    assert!(report["warnings"].as_array().unwrap().is_empty());
}

// ---------------------------------------------------------------------------------------
// Errors in the machine formats
// ---------------------------------------------------------------------------------------

#[test]
fn errors_reach_sarif_junit_and_markdown() {
    let ws = temp();
    noncompliant_tf(ws.path());
    write(ws.path(), "app/broken.tf", "resource \"aws_s3_bucket\" {\n");
    let sarif = check(ws.path(), "app", &bundled(), &["--format", "sarif"]);
    sarif.expect_code(2);
    let invocation = &sarif.json()["runs"][0]["invocations"][0];
    assert_eq!(invocation["executionSuccessful"], false);
    let note = invocation["toolExecutionNotifications"][0]["message"]["text"]
        .as_str()
        .unwrap();
    assert!(note.contains("broken.tf:"), "{note}");

    let junit = check(ws.path(), "app", &bundled(), &["--format", "junit"]);
    junit.expect_code(2);
    assert!(
        junit.stdout.contains("<error") && junit.stdout.contains("broken.tf:"),
        "{}",
        junit.stdout
    );
    assert!(
        junit.stdout.contains("<failure"),
        "findings elsewhere still fail: {}",
        junit.stdout
    );

    let md = check(ws.path(), "app", &bundled(), &["--format", "markdown"]);
    md.expect_code(2);
    assert!(md.stdout.contains("broken.tf:"), "{}", md.stdout);
}

/// A finding a policy reports without a resource (a plain string in `deny`) has no file.
#[test]
fn sarif_never_emits_an_empty_artifact_uri() {
    let ws = temp();
    write(ws.path(), "gr/workload-wide/guardrail.toml", K8S_GUARDRAIL_TOML);
    write(
        ws.path(),
        "gr/workload-wide/policy.rego",
        "package railyard.workload_wide\n\ndeny contains \"the workload has no README\"\n",
    );
    write(ws.path(), "web/main.tf", TF_CLEAN);
    let run = check(ws.path(), "web", "gr", &["--format", "sarif"]);
    run.expect_code(1);
    let sarif = run.json();
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), 1);
    for r in results {
        if let Some(uri) = r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].as_str() {
            assert!(!uri.is_empty(), "empty artifact uri: {r}");
        }
    }
}
