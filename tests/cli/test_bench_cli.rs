//! `railyard test --bench` (issue 14): each guardrail's policy time over its fixtures (and a
//! workload folder), per resource, costliest first, so a slow guardrail is seen before it
//! ships. The times come from the evaluator's own clock (the one `RAILYARD_TIMINGS` prints).

use crate::common::{guardrails_with, railyard, temp, write};
use serde_json::Value;
use std::path::Path;

const SLOW_TOML: &str = r#"title = "Deliberately slow"
severity = "low"
description = "Flags public-read buckets after a large computation per bucket."
remediation = "Make it private."
kinds = ["terraform"]
"#;

// A large comprehension for every bucket: its cost grows with the resources, as a careless
// guardrail's would (the length of the address keeps the engine from reusing one result).
const SLOW_REGO: &str = r#"package railyard.slow_on_purpose

deny contains f if {
	some r in input.resources
	r.type == "aws_s3_bucket"
	n := count([x | some x in numbers.range(1, 40000 + count(r.address)); x % 7 == 0])
	n > 0
	object.get(r.config, "acl", "") == "public-read"
	f := {"resource": r.address, "message": sprintf("%s is public", [r.address])}
}
"#;

/// A guardrails folder: `lib/`, two bundled guardrails and the slow one with a passing case
/// (one bucket) and a failing one (two buckets): 3 fixture resources.
fn guardrails(root: &Path) -> std::path::PathBuf {
    let dir = root.join("gr");
    guardrails_with(&dir, &["aws-s3-versioning", "k8s-no-host-pid"]);
    write(&dir, "slow-on-purpose/guardrail.toml", SLOW_TOML);
    write(&dir, "slow-on-purpose/policy.rego", SLOW_REGO);
    write(
        &dir,
        "slow-on-purpose/tests/pass/private.tf",
        "resource \"aws_s3_bucket\" \"private\" {\n  bucket = \"p\"\n}\n",
    );
    write(
        &dir,
        "slow-on-purpose/tests/fail/public.tf",
        "resource \"aws_s3_bucket\" \"open\" {\n  bucket = \"o\"\n  acl    = \"public-read\"\n}\n\nresource \"aws_s3_bucket\" \"closed\" {\n  bucket = \"c\"\n}\n",
    );
    write(
        &dir,
        "slow-on-purpose/tests/fail/expected.toml",
        "\"public.tf\" = [\"aws_s3_bucket.open\"]\n",
    );
    dir
}

fn costs(json: &Value) -> &Vec<Value> {
    json["bench"]["guardrails"]
        .as_array()
        .unwrap_or_else(|| panic!("no bench.guardrails: {json}"))
}

fn num(v: &Value, key: &str) -> f64 {
    v[key].as_f64().unwrap_or_else(|| panic!("no number `{key}` in {v}"))
}

#[test]
fn bench_ranks_the_slow_guardrail_first_with_its_cost_per_resource() {
    let ws = temp();
    let dir = guardrails(ws.path());
    let run = railyard(
        ws.path(),
        &["test", dir.to_str().unwrap(), "--bench", "--format", "json"],
    );
    run.expect_code(0);
    let json = run.json();
    assert_eq!(
        json["passed"].as_u64(),
        Some(json["cases"].as_array().unwrap().len() as u64),
        "{json}"
    );
    let costs = costs(&json);
    assert_eq!(costs.len(), 3, "every guardrail is timed: {json}");
    let slow = &costs[0];
    assert_eq!(
        slow["guardrail"], "slow-on-purpose",
        "the slow guardrail is ranked first: {json}"
    );
    assert_eq!(slow["fixtures"].as_u64(), Some(2), "{slow}");
    assert_eq!(slow["fixture_resources"].as_u64(), Some(3), "{slow}");
    let per = num(slow, "fixture_us_per_resource");
    assert!(
        (per - num(slow, "fixture_ms") * 1000.0 / 3.0).abs() < 0.01,
        "per resource is the fixtures' time over their 3 resources: {slow}"
    );
    // The others do next to nothing per resource; the slow one does 40,000 steps per bucket.
    for other in &costs[1..] {
        assert!(
            per > 3.0 * num(other, "fixture_us_per_resource"),
            "slow-on-purpose ({per} µs/resource) is not clearly costlier than {other}"
        );
        assert!(other["errors"].is_null(), "{other}");
    }

    // The table lists it first, under a heading, before the summary line CI reads.
    let run = railyard(ws.path(), &["test", dir.to_str().unwrap(), "--bench"]);
    run.expect_code(0);
    let lines: Vec<&str> = run.stdout.lines().collect();
    let head = lines
        .iter()
        .position(|l| l.starts_with("Guardrail cost (policy evaluation only, fastest of 3 rounds)"))
        .unwrap_or_else(|| panic!("no bench heading:\n{}", run.stdout));
    let first_row = lines[head..]
        .iter()
        .find(|l| l.starts_with('│') && !l.contains("guardrail"))
        .unwrap_or_else(|| panic!("no bench rows:\n{}", run.stdout));
    let cells: Vec<&str> = first_row.split('│').map(str::trim).collect();
    assert_eq!(cells[1], "slow-on-purpose", "{first_row}");
    assert_eq!(cells[2..4], ["2", "3"], "{first_row}");
    assert!(cells[5].parse::<f64>().unwrap() > 0.0, "{first_row}");
    assert!(lines.last().unwrap().ends_with("passed, 0 failed"), "{}", run.stdout);
}

#[test]
fn bench_times_every_guardrail_on_a_workload_folder_too() {
    let ws = temp();
    let dir = guardrails(ws.path());
    let mut tf = String::new();
    for i in 0..6 {
        tf.push_str(&format!(
            "resource \"aws_s3_bucket\" \"b{i}\" {{\n  bucket = \"b{i}\"\n  acl = \"public-read\"\n}}\n\n"
        ));
    }
    write(ws.path(), "infra/main.tf", tf);
    write(
        ws.path(),
        "infra/pod.yaml",
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n  - name: c\n    image: nginx:1.25\n",
    );
    let run = railyard(
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
    let json = run.json();
    let w = &json["bench"]["workload"];
    assert_eq!(w["path"], "infra", "{json}");
    assert_eq!(w["files"].as_u64(), Some(2), "{json}");
    assert_eq!(w["resources"].as_u64(), Some(7), "{json}");
    let costs = costs(&json);
    let slow = &costs[0];
    assert_eq!(slow["guardrail"], "slow-on-purpose", "{json}");
    let per = num(slow, "workload_us_per_resource");
    assert!((per - num(slow, "workload_ms") * 1000.0 / 7.0).abs() < 0.01, "{slow}");
    assert!(costs.iter().all(|c| c["workload_ms"].is_number()), "{json}");
}

#[test]
fn without_bench_the_report_is_unchanged_and_bench_workload_needs_bench() {
    let ws = temp();
    let dir = guardrails(ws.path());
    let json = railyard(ws.path(), &["test", dir.to_str().unwrap(), "--format", "json"]).json();
    assert!(json.get("bench").is_none(), "{json}");
    let run = railyard(ws.path(), &["test", dir.to_str().unwrap(), "--bench-workload", "."]);
    run.expect_code(2);
    assert!(run.stderr.contains("--bench"), "{}", run.stderr);
    // A workload folder that does not exist is an error naming it, not an empty benchmark.
    let run = railyard(
        ws.path(),
        &["test", dir.to_str().unwrap(), "--bench", "--bench-workload", "nowhere"],
    );
    run.expect_code(2);
    assert!(run.stderr.contains("nowhere"), "{}", run.stderr);
}

#[test]
fn a_guardrail_that_fails_on_its_fixtures_is_listed_as_not_timed() {
    let ws = temp();
    let dir = guardrails(ws.path());
    // Fails at evaluation (a conflict of two values for one rule), not at load.
    write(
        &dir,
        "slow-on-purpose/policy.rego",
        "package railyard.slow_on_purpose\n\nx := 1 if { some r in input.resources }\nx := 2 if { some r in input.resources }\n\ndeny contains f if {\n\tx == 3\n\tf := {\"resource\": \"r\", \"message\": \"m\"}\n}\n",
    );
    let run = railyard(
        ws.path(),
        &["test", dir.to_str().unwrap(), "--bench", "--format", "json"],
    );
    run.expect_code(1);
    let json = run.json();
    let slow = costs(&json)
        .iter()
        .find(|c| c["guardrail"] == "slow-on-purpose")
        .unwrap_or_else(|| panic!("{json}"));
    assert!(slow["errors"].as_array().is_some_and(|e| !e.is_empty()), "{slow}");
    let table = railyard(ws.path(), &["test", dir.to_str().unwrap(), "--bench"]);
    assert!(
        table
            .stdout
            .lines()
            .any(|l| l.starts_with("not timed slow-on-purpose: ")),
        "{}",
        table.stdout
    );
}
