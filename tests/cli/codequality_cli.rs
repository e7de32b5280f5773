//! `check --format codequality` (issue 12, item 4): a GitLab Code Quality report validated
//! against docs/schema/codequality.json, with failing and pending findings as issues (the
//! pending ones minor or info, with their deadline), excepted findings left out, errors as
//! issues, repository-relative paths and unique, stable fingerprints; refused by every other
//! subcommand.

use crate::common::sandbox::{bundled, command, main_and_develop, open_or_init, text, two_workloads, Root, Sandbox};
use crate::common::{self, REGISTRY};
use serde_json::Value;
use std::path::Path;
use std::process::Output;

const CHECKOUT_TF: &str = r#"resource "aws_s3_bucket" "logs" {
  bucket = "logs"
}

resource "aws_s3_bucket" "data" {
  bucket = "data"
}
"#;

const EXCEPTIONS: &str = r#"[[exception]]
workload = "web"
resource = "aws_s3_bucket.logs"
reason = "The log bucket cannot log to itself"
approved_by = "security@example.com"
ticket = "SEC-7"
expires = 2027-06-30
"#;

/// `main` holds aws-s3-access-logging (web's `logs` bucket excepted); `develop` adds
/// aws-s3-versioning, held for web until 2026-12-01 by the observation of 2026-11-01.
fn sandbox() -> Sandbox {
    let sb = Sandbox { dir: common::temp() };
    two_workloads(sb.root(), ["payments infra", "web infra"]);
    let mut base = bundled("lib");
    base.extend(bundled("aws-s3-access-logging"));
    base.push((
        "guardrails/aws-s3-access-logging/exceptions.toml".into(),
        EXCEPTIONS.into(),
    ));
    base.push(("workloads.toml".into(), REGISTRY.into()));
    main_and_develop(
        &sb.repo("guardrails"),
        &base,
        &bundled("aws-s3-versioning"),
        "a candidate",
    );
    let out = command(sb.root(), &["observe", "--now", "2026-11-01"])
        .env("RAILYARD_TEST_TODAY", "2026-12-31")
        .env("RAILYARD_ACTOR", "sec-lead")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    // A pipeline's checkout of `web`: a git repository with the code under `infra/`.
    let checkout = sb.path("web-checkout");
    open_or_init(&checkout);
    common::write(&checkout, "infra/main.tf", CHECKOUT_TF);
    sb
}

fn check(sb: &Sandbox, format: &str) -> Output {
    let guardrails = format!("{}@main", sb.path("guardrails").display());
    std::process::Command::new(common::bin())
        .arg("check")
        .arg(sb.path("web-checkout/infra"))
        .args(["--workload", "web", "--now", "2026-11-05", "--guardrails", &guardrails])
        .args(["--format", format])
        .env("RAILYARD_CACHE_DIR", sb.path("cache"))
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

fn schema_errors(instance: &Value) -> Vec<String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/schema/codequality.json");
    let schema: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let validator = jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .expect("the schema compiles");
    validator
        .iter_errors(instance)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect()
}

fn issues(out: &Output) -> Vec<Value> {
    let v: Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {}", text(out)));
    let errors = schema_errors(&v);
    assert!(errors.is_empty(), "{errors:#?}\n{v:#}");
    v.as_array().expect("an array").clone()
}

#[test]
fn codequality_report_validates_and_carries_failing_and_pending_findings_not_excepted_ones() {
    let sb = sandbox();
    let out = check(&sb, "codequality");
    // The same exit code as every other format: an active finding fails the build.
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let issues = issues(&out);
    let json: Value = serde_json::from_slice(&check(&sb, "json").stdout).unwrap();
    let (findings, warnings) = (
        json["findings"].as_array().unwrap(),
        json["warnings"].as_array().unwrap(),
    );
    assert_eq!(issues.len(), findings.len() + warnings.len(), "{issues:#?}");

    // The failing finding: the unexcepted `data` bucket, at its repository path and line.
    let active: Vec<&Value> = issues
        .iter()
        .filter(|i| i["check_name"] == "aws-s3-access-logging")
        .collect();
    assert_eq!(
        active.len(),
        1,
        "the excepted `logs` bucket is not an issue: {issues:#?}"
    );
    assert_eq!(active[0]["location"]["path"], "infra/main.tf", "{issues:#?}");
    assert_eq!(active[0]["location"]["lines"]["begin"], 5, "{issues:#?}");
    assert!(
        active[0]["description"]
            .as_str()
            .unwrap()
            .contains("aws_s3_bucket.data"),
        "{issues:#?}"
    );
    assert!(
        ["major", "critical", "blocker", "minor"].contains(&active[0]["severity"].as_str().unwrap()),
        "{issues:#?}"
    );

    // The pending guardrail's findings: both buckets, low in GitLab's scale, deadline said.
    let pending: Vec<&Value> = issues
        .iter()
        .filter(|i| i["check_name"] == "aws-s3-versioning")
        .collect();
    assert_eq!(pending.len(), 2, "{issues:#?}");
    for p in &pending {
        assert!(["info", "minor"].contains(&p["severity"].as_str().unwrap()), "{p:#}");
        assert!(
            p["description"]
                .as_str()
                .unwrap()
                .contains("pending guardrail: fails the build from 2026-12-01"),
            "{p:#}"
        );
        assert_eq!(p["location"]["path"], "infra/main.tf", "{p:#}");
    }

    // Fingerprints: unique within the report, the same on the next run.
    let prints: std::collections::BTreeSet<&str> = issues.iter().map(|i| i["fingerprint"].as_str().unwrap()).collect();
    assert_eq!(prints.len(), issues.len(), "{issues:#?}");
    let again = self::issues(&check(&sb, "codequality"));
    let prints_again: std::collections::BTreeSet<String> = again
        .iter()
        .map(|i| i["fingerprint"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        prints
            .iter()
            .map(|s| s.to_string())
            .collect::<std::collections::BTreeSet<_>>(),
        prints_again
    );
}

#[test]
fn a_check_that_could_not_evaluate_everything_is_never_an_empty_codequality_report() {
    let sb = sandbox();
    common::write(
        &sb.path("web-checkout"),
        "infra/broken.tf",
        "resource \"aws_s3_bucket\" \"x\" {\n  bucket = \n",
    );
    let out = check(&sb, "codequality");
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let issues = issues(&out);
    let errors: Vec<&Value> = issues.iter().filter(|i| i["check_name"] == "railyard-error").collect();
    assert_eq!(errors.len(), 1, "{issues:#?}");
    assert_eq!(errors[0]["severity"], "critical");
    assert_eq!(errors[0]["location"]["path"], "infra/broken.tf", "{issues:#?}");
    assert!(errors[0]["location"]["lines"]["begin"].as_u64().unwrap() >= 1);
    // And on stderr, as for every machine format.
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("error: broken.tf:"),
        "{}",
        text(&out)
    );
}

#[test]
fn every_other_subcommand_refuses_codequality_before_any_work() {
    let sb = sandbox();
    let ledger = crate::common::sandbox::ledger_text(&sb.repo("guardrails"));
    for (args, listed) in [
        (
            &["observe", "--now", "2026-11-02", "--format", "codequality"][..],
            "table, json, markdown",
        ),
        (
            &["enforce", "--now", "2026-12-02", "--format", "codequality"],
            "table, json, markdown",
        ),
        (&["report", "--format", "codequality"], "table, json, markdown"),
        (&["preview", "--format", "codequality"], "table, json, markdown"),
        (&["ledger", "verify", "--format", "codequality"], "table, json"),
    ] {
        let out = command(sb.root(), args)
            .env("RAILYARD_TEST_TODAY", "2026-12-31")
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", text(&out));
        assert!(out.stdout.is_empty(), "{args:?}: {}", text(&out));
        assert!(
            String::from_utf8_lossy(&out.stderr)
                .contains(&format!("cannot write --format codequality; it writes {listed}")),
            "{args:?}: {}",
            text(&out)
        );
    }
    assert_eq!(crate::common::sandbox::ledger_text(&sb.repo("guardrails")), ledger);
    let run = common::railyard(
        sb.root(),
        &[
            "test",
            common::bundled_guardrails().to_str().unwrap(),
            "--format",
            "codequality",
        ],
    );
    run.expect_code(2);
    assert!(
        run.stderr
            .contains("`test` cannot write --format codequality; it writes table, json, junit, markdown"),
        "{}",
        run.stderr
    );
}
