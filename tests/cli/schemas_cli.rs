//! The JSON documents that had no schema (issue 12, item 7: "a JSON Schema file per
//! document"): `preview`, `report --by framework`, `ledger verify` and `test --bench`'s
//! `bench`, each validated against its file in docs/schema/ on real output (the other
//! documents are validated in outputs.rs).

use crate::common::sandbox::{bundled, command, main_and_develop, text, two_workloads, Root, Sandbox};
use crate::common::REGISTRY;
use serde_json::Value;
use std::path::Path;
use std::process::Output;

const KEY: &str = "schemas-ledger-key-0123456789";

fn run(sb: &Sandbox, args: &[&str]) -> Output {
    command(sb.root(), args)
        .env("RAILYARD_LEDGER_KEY", KEY)
        .env("RAILYARD_ACTOR", "sec-lead")
        .env("RAILYARD_TEST_TODAY", "2025-03-31")
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

fn json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {}", text(out)))
}

fn schema_errors(name: &str, instance: &Value) -> Vec<String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("docs/schema")
        .join(format!("{name}.json"));
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

fn assert_valid(name: &str, doc: &Value) {
    let errors = schema_errors(name, doc);
    assert!(
        errors.is_empty(),
        "{name} does not match docs/schema/{name}.json: {errors:#?}\n{doc:#}"
    );
}

#[test]
fn preview_framework_report_and_ledger_verify_validate_against_their_schemas() {
    let sb = Sandbox::empty();
    two_workloads(sb.root(), ["payments infra", "web infra"]);
    let mut base = bundled("lib");
    base.push(("workloads.toml".into(), REGISTRY.into()));
    let mut cands = bundled("aws-ebs-volume-encryption");
    cands.extend(bundled("aws-s3-versioning"));
    main_and_develop(&sb.repo("guardrails"), &base, &cands, "two candidates");

    // Before any observation: develop's candidates, one of which breaks `web`.
    let out = run(
        &sb,
        &["preview", "--now", "2025-01-10", "--jobs", "1", "--format", "json"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let preview = json(&out);
    assert!(
        preview["guardrails"]
            .as_array()
            .unwrap()
            .iter()
            .any(|g| !g["breaking"].as_array().unwrap().is_empty()),
        "{preview:#}"
    );
    assert_valid("preview", &preview);

    let out = run(
        &sb,
        &["observe", "--now", "2025-01-10", "--jobs", "1", "--format", "json"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let out = run(
        &sb,
        &["report", "--now", "2025-01-20", "--by", "framework", "--format", "json"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let framework = json(&out);
    assert!(!framework["controls"].as_array().unwrap().is_empty(), "{framework:#}");
    assert_valid("report-framework", &framework);

    let out = run(&sb, &["ledger", "verify", "--format", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let verify = json(&out);
    assert!(!verify["commits"].as_array().unwrap().is_empty(), "{verify:#}");
    assert_valid("ledger-verify", &verify);

    // The schemas are really applied: a wrong state or action is caught.
    let mut wrong = verify.clone();
    wrong["commits"][0]["state"] = "trusted".into();
    assert!(!schema_errors("ledger-verify", &wrong).is_empty());
    let mut wrong = preview.clone();
    wrong["guardrails"][0]["action"] = "promote".into();
    assert!(!schema_errors("preview", &wrong).is_empty());
    let mut wrong = framework.clone();
    wrong["controls"][0]["unknown"] = (-1).into();
    assert!(!schema_errors("report-framework", &wrong).is_empty());
}

#[test]
fn test_bench_validates_against_the_test_schema() {
    let ws = crate::common::temp();
    let dir = ws.path().join("gr");
    crate::common::guardrails_with(&dir, &["aws-s3-versioning"]);
    crate::common::write(ws.path(), "infra/main.tf", crate::common::UNVERSIONED_TF);
    let run = crate::common::railyard(
        ws.path(),
        &[
            "test",
            dir.to_str().unwrap(),
            "--bench",
            "--bench-workload",
            "infra",
            "--format",
            "json",
        ],
    );
    run.expect_code(0);
    let doc = run.json();
    assert!(doc["bench"]["workload"].is_object(), "{doc:#}");
    assert_valid("test", &doc);
    let mut wrong = doc.clone();
    wrong["bench"]["guardrails"][0]["fixture_ms"] = "fast".into();
    assert!(!schema_errors("test", &wrong).is_empty());
}
