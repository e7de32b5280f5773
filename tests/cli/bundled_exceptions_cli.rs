//! The bundled library ships an example `exceptions.toml` (aws-required-tags): commented out,
//! so it waives nothing, and valid once uncommented, so it can be copied as it is.

use crate::common::{bundled_guardrails, guardrails_with, railyard, temp, write};

const EXAMPLE: &str = "aws-required-tags/exceptions.toml";

/// An untagged bucket the example's globs name (`aws_s3_bucket.legacy_*` in `envs/prod/`).
const UNTAGGED: &str = "resource \"aws_s3_bucket\" \"legacy_media\" {\n  bucket = \"legacy-media\"\n}\n";

#[test]
fn the_example_exceptions_file_waives_nothing_as_shipped() {
    let ws = temp();
    guardrails_with(&ws.path().join("gr"), &["aws-required-tags"]);
    assert!(
        ws.path().join("gr").join(EXAMPLE).is_file(),
        "the example ships with the guardrail"
    );
    write(ws.path(), "payments-api/envs/prod/main.tf", UNTAGGED);
    let run = railyard(
        ws.path(),
        &[
            "check",
            "payments-api",
            "--guardrails",
            "gr",
            "--now",
            "2026-12-15",
            "--format",
            "json",
        ],
    );
    run.expect_code(1);
    let report = run.json();
    assert_eq!(
        report["findings"][0]["resource"], "aws_s3_bucket.legacy_media",
        "{report}"
    );
    assert_eq!(report["excepted"].as_array().map(Vec::len), Some(0), "{report}");
}

#[test]
fn the_example_exception_uncommented_loads_and_waives_its_resource() {
    let ws = temp();
    guardrails_with(&ws.path().join("gr"), &["aws-required-tags"]);
    let shipped = std::fs::read_to_string(bundled_guardrails().join(EXAMPLE)).unwrap();
    let start = shipped.find("# [[exception]]").expect("an example exception");
    let example: String = shipped[start..]
        .lines()
        .map(|l| {
            l.strip_prefix("# ")
                .unwrap_or_else(|| panic!("example line not commented: {l}"))
        })
        .map(|l| format!("{l}\n"))
        .collect();
    write(ws.path(), &format!("gr/{EXAMPLE}"), &example);
    write(ws.path(), "payments-api/envs/prod/main.tf", UNTAGGED);
    write(ws.path(), "payments-api/envs/dev/main.tf", UNTAGGED);
    let run = railyard(
        ws.path(),
        &[
            "check",
            "payments-api",
            "--guardrails",
            "gr",
            "--now",
            "2026-12-15",
            "--format",
            "json",
        ],
    );
    // The prod bucket is waived; the dev one, outside `path`, is still a finding.
    run.expect_code(1);
    let report = run.json();
    let excepted = &report["excepted"][0];
    assert_eq!(excepted["resource"], "aws_s3_bucket.legacy_media", "{report}");
    assert_eq!(excepted["file"], "envs/prod/main.tf", "{report}");
    assert_eq!(excepted["exception"]["status"], "active", "{report}");
    assert_eq!(excepted["exception"]["ticket"], "SEC-123", "{report}");
    assert_eq!(excepted["exception"]["source"], format!("gr/{EXAMPLE}:1"), "{report}");
    let findings = report["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 1, "{report}");
    assert_eq!(findings[0]["file"], "envs/dev/main.tf", "{report}");
}
