//! `railyard test` runs Rego unit tests (OPA's convention: `test_*` rules in `*_test.rego`
//! files) of the shared library `lib/` and of guardrail folders, one case per test, beside
//! the fixtures. A test that is undefined, false or cannot be evaluated fails the run (exit 1)
//! naming its rule, file and line; nothing is skipped silently.

use crate::common::{bundled_guardrails, guardrails_with, railyard, temp, write};

const MATH: &str = "package lib.math\n\ndouble(x) := 2 * x\n";

/// A library with one helper and the given test file.
fn library_with_test(root: &std::path::Path, test: &str) {
    write(root, "gr/lib/math.rego", MATH);
    write(root, "gr/lib/math_test.rego", test);
}

#[test]
fn the_bundled_library_runs_its_rego_unit_tests() {
    let ws = temp();
    let dir = bundled_guardrails();
    let run = railyard(ws.path(), &["test", dir.to_str().unwrap()]);
    run.expect_code(0);
    for line in [
        "ok   lib core_test.rego test_resources_reads_the_managed_index",
        "ok   lib aws_test.rego test_protocol_minus_one_is_all_traffic",
        "ok   lib kubernetes_test.rego test_pod_controllers_are_the_manifests_with_a_pod_spec",
    ] {
        assert!(
            run.stdout.lines().any(|l| l == line),
            "missing `{line}`: {}",
            run.stdout
        );
    }
    let json = railyard(ws.path(), &["test", dir.to_str().unwrap(), "--format", "json"]).json();
    let tests: Vec<&serde_json::Value> = json["cases"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["guardrail"] == "lib")
        .collect();
    assert!(tests.len() >= 30, "{json}");
    assert_eq!(json["rego_tests"].as_u64(), Some(tests.len() as u64), "{json}");
    assert!(tests.iter().all(|c| c["passed"] == true), "{json}");
    for file in ["core_test.rego ", "aws_test.rego ", "kubernetes_test.rego "] {
        assert!(
            tests.iter().any(|c| c["case"].as_str().unwrap().starts_with(file)),
            "{file}: {json}"
        );
    }
}

#[test]
fn a_library_test_that_passes_is_reported_as_passing() {
    let ws = temp();
    library_with_test(
        ws.path(),
        "package lib.math_test\n\ntest_double if {\n\tdata.lib.math.double(2) == 4\n}\n",
    );
    let run = railyard(ws.path(), &["test", "gr"]);
    run.expect_code(0);
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(
        lines,
        [
            "ok   lib math_test.rego test_double",
            "0 guardrails, 0 fixtures, 1 Rego test",
            "1 passed, 0 failed"
        ],
        "{}",
        run.stdout
    );
}

#[test]
fn a_failing_library_test_exits_1_naming_its_rule_and_file() {
    let ws = temp();
    library_with_test(
        ws.path(),
        "package lib.math_test\n\ntest_double if {\n\tdata.lib.math.double(2) == 4\n}\n\ntest_double_is_five if {\n\tdata.lib.math.double(2) == 5\n}\n\ntest_false := false\n",
    );
    let run = railyard(ws.path(), &["test", "gr"]);
    run.expect_code(1);
    for want in [
        "ok   lib math_test.rego test_double\n",
        "FAIL lib math_test.rego test_double_is_five\n",
        "gr/lib/math_test.rego:7: `test_double_is_five` failed: undefined (an expression in its body did not hold)",
        "FAIL lib math_test.rego test_false\n",
        "gr/lib/math_test.rego:11: `test_false` failed: it is false",
    ] {
        assert!(run.stdout.contains(want), "missing `{want}`: {}", run.stdout);
    }
    assert_eq!(run.stdout.lines().last(), Some("1 passed, 2 failed"), "{}", run.stdout);
    // Every format carries the failure.
    let junit = railyard(ws.path(), &["test", "gr", "--format", "junit"]);
    junit.expect_code(1);
    assert!(
        junit
            .stdout
            .contains(r#"<testcase classname="lib" name="math_test.rego test_double_is_five">"#),
        "{}",
        junit.stdout
    );
}

#[test]
fn a_library_test_that_errors_is_a_failure_with_the_reason() {
    let ws = temp();
    library_with_test(
        ws.path(),
        "package lib.math_test\n\ntest_type_error if {\n\tdata.lib.math.double(\"two\") == 4\n}\n\ntest_runaway if {\n\tcount([x | some x in numbers.range(1, 100000000)]) > 0\n}\n",
    );
    let run = railyard(ws.path(), &["test", "gr", "--eval-memory", "256MiB"]);
    run.expect_code(1);
    for want in [
        "FAIL lib math_test.rego test_type_error\n",
        "gr/lib/math_test.rego:3: `test_type_error` could not be evaluated: `mul` expects numeric argument",
        "(at gr/lib/math.rego:3:",
        "FAIL lib math_test.rego test_runaway\n",
        "gr/lib/math_test.rego:7: `test_runaway` could not be evaluated: stopped: the evaluation exceeded its memory budget",
    ] {
        assert!(run.stdout.contains(want), "missing `{want}`: {}", run.stdout);
    }
    assert_eq!(run.stdout.lines().last(), Some("0 passed, 2 failed"), "{}", run.stdout);
}

#[test]
fn a_test_file_that_does_not_load_fails_with_file_and_line() {
    let ws = temp();
    library_with_test(
        ws.path(),
        "package lib.math_test\n\ntest_double if {\n\tdata.lib.math.double(2) == 4\n}\n",
    );
    write(
        ws.path(),
        "gr/lib/syntax_test.rego",
        "package lib.syntax_test\n\ntest_x if {\n\t1 ==\n}\n",
    );
    write(
        ws.path(),
        "gr/lib/missing_test.rego",
        "package lib.missing_test\n\ntest_triple if {\n\tdata.lib.math.triple(2) == 6\n}\n",
    );
    write(
        ws.path(),
        "gr/lib/empty_test.rego",
        "package lib.empty_test\n\nfixture := 1\n",
    );
    let run = railyard(ws.path(), &["test", "gr"]);
    run.expect_code(1);
    for want in [
        "ok   lib math_test.rego test_double\n",
        "FAIL lib syntax_test.rego\n       gr/lib/syntax_test.rego:5: Rego:",
        "FAIL lib missing_test.rego\n       gr/lib/missing_test.rego:4: Rego: call to undefined function `data.lib.math.triple`",
        "FAIL lib empty_test.rego\n       gr/lib/empty_test.rego:1: no test in this file",
    ] {
        assert!(run.stdout.contains(want), "missing `{want}`: {}", run.stdout);
    }
    // The tests are not helpers: `check` with the same library is not affected by them.
    write(ws.path(), "app/main.tf", "resource \"aws_s3_bucket\" \"b\" {}\n");
    railyard(ws.path(), &["check", "app", "--guardrails", "gr", "--allow-empty"]).expect_code(0);
}

#[test]
fn a_guardrail_folders_tests_run_against_its_policy() {
    let ws = temp();
    let folder = ws.path().join("gr");
    guardrails_with(&folder, &["aws-s3-versioning"]);
    write(
        &folder,
        "aws-s3-versioning/policy_test.rego",
        r#"package railyard.aws_s3_versioning_test

bucket := {"address": "aws_s3_bucket.b", "id": "aws_s3_bucket.b", "type": "aws_s3_bucket", "kind": "terraform", "mode": "managed", "config": {}}

test_an_unversioned_bucket_is_denied if {
	count(data.railyard.aws_s3_versioning.deny) == 1 with input as {"resources": [bucket], "managed": {"aws_s3_bucket": [0]}}
}

test_an_unversioned_bucket_passes if {
	count(data.railyard.aws_s3_versioning.deny) == 0 with input as {"resources": [bucket], "managed": {"aws_s3_bucket": [0]}}
}
"#,
    );
    let run = railyard(ws.path(), &["test", "gr"]);
    run.expect_code(1);
    assert!(
        run.stdout
            .contains("ok   aws-s3-versioning policy_test.rego test_an_unversioned_bucket_is_denied\n"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("FAIL aws-s3-versioning policy_test.rego test_an_unversioned_bucket_passes\n       gr/aws-s3-versioning/policy_test.rego:9: `test_an_unversioned_bucket_passes` failed"),
        "{}",
        run.stdout
    );
}
