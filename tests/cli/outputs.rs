//! Output formats end to end (issue 12, item 7): SARIF validated against the official 2.1.0
//! schema with pending warnings, suppressions and repository-relative paths; JUnit with one
//! case per guardrail; every JSON document validated against its schema in docs/schema/;
//! Markdown for the loop commands; unsupported formats refused; errors on stderr.

use crate::common::sandbox::{bundled, command, main_and_develop, open_or_init, text, two_workloads, Root, Sandbox};
use crate::common::{self, REGISTRY};
use serde_json::Value;
use std::path::Path;
use std::process::Output;

/// Two buckets: `logs` (excepted for access logging on main) and `data` (not excepted).
const CHECKOUT_TF: &str = r#"resource "aws_s3_bucket" "logs" {
  bucket = "logs"
}

resource "aws_s3_bucket" "data" {
  bucket = "data"
}
"#;

const EXCEPTIONS: &str = r#"# Waivers for aws-s3-access-logging.
[[exception]]
workload = "web"
resource = "aws_s3_bucket.logs"
reason = "The log bucket cannot log to itself"
approved_by = "security@example.com"
ticket = "SEC-7"
expires = 2027-06-30
"#;

trait OutputsSandbox {
    fn run(&self, args: &[&str]) -> Output;
    fn checkout(&self) -> std::path::PathBuf;
}

/// Guardrails repo: `main` holds aws-s3-access-logging (with an exception for web's
/// `logs` bucket); `develop` adds aws-ebs-volume-encryption and aws-s3-versioning
/// (broken by `web`). `observe` on 2026-11-01 holds aws-s3-versioning until 2026-12-01.
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
    let mut cands = bundled("aws-ebs-volume-encryption");
    cands.extend(bundled("aws-s3-versioning"));
    main_and_develop(&sb.repo("guardrails"), &base, &cands, "two candidates");
    let out = sb.run(&["observe", "--now", "2026-11-01"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    sb
}

impl OutputsSandbox for Sandbox {
    fn run(&self, args: &[&str]) -> Output {
        let mut cmd = command(self.root(), args);
        cmd.env("RAILYARD_ACTOR", "sec-lead")
            .env("RAILYARD_TEST_TODAY", "2026-12-31")
            .env("NO_COLOR", "1");
        cmd.output().unwrap()
    }

    /// A pipeline's checkout of `web`: a git repository with the code under `infra/`.
    fn checkout(&self) -> std::path::PathBuf {
        let root = self.path("web-checkout");
        open_or_init(&root);
        common::write(&root, "infra/main.tf", CHECKOUT_TF);
        root
    }
}

fn stdout_json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {}", text(out)))
}

/// Every error of `instance` against the JSON Schema `schema` (formats checked too).
fn schema_errors(schema: &Value, instance: &Value) -> Vec<String> {
    let validator = jsonschema::options()
        .should_validate_formats(true)
        .build(schema)
        .expect("the schema compiles");
    validator
        .iter_errors(instance)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect()
}

fn read_json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn doc_schema(name: &str) -> Value {
    read_json(
        &Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("docs/schema")
            .join(format!("{name}.json")),
    )
}

fn check_checkout(sb: &Sandbox, extra: &[&str]) -> Output {
    let checkout = sb.checkout();
    let guardrails = format!("{}@main", sb.path("guardrails").display());
    let mut cmd = std::process::Command::new(common::bin());
    cmd.arg("check")
        .arg(checkout.join("infra"))
        .args(["--workload", "web", "--now", "2026-11-05", "--guardrails", &guardrails])
        .args(extra)
        .env("RAILYARD_CACHE_DIR", sb.path("cache"))
        .env("NO_COLOR", "1");
    cmd.output().unwrap()
}

#[test]
fn sarif_of_a_repo_check_is_valid_sarif_2_1_0_with_warnings_suppressions_and_repo_paths() {
    let sb = sandbox();
    let out = check_checkout(&sb, &["--format", "sarif"]);
    assert_eq!(out.status.code(), Some(1), "the data bucket fails: {}", text(&out));
    let sarif = stdout_json(&out);
    let schema = read_json(&Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cli/data/sarif-schema-2.1.0.json"));
    let errors = schema_errors(&schema, &sarif);
    assert!(errors.is_empty(), "not valid SARIF 2.1.0: {errors:#?}\n{sarif:#}");
    // The schema is really applied: a level SARIF does not have is caught.
    let mut wrong = sarif.clone();
    wrong["runs"][0]["results"][0]["level"] = "fatal".into();
    assert!(!schema_errors(&schema, &wrong).is_empty());

    let run = &sarif["runs"][0];
    let results = run["results"].as_array().unwrap();
    let of = |rule: &str, resource: &str| {
        results
            .iter()
            .find(|r| r["ruleId"] == rule && r["locations"][0]["logicalLocations"][0]["fullyQualifiedName"] == resource)
            .unwrap_or_else(|| panic!("no result {rule} on {resource}: {sarif:#}"))
    };
    // Active, not excepted: fails the build at its severity's level, no suppression.
    let data = of("aws-s3-access-logging", "aws_s3_bucket.data");
    assert!(data.get("suppressions").is_none(), "{data}");
    assert_eq!(data["properties"]["state"], "active");
    // Pending (develop's aws-s3-versioning, held until 2026-12-01 by observe): a warning
    // with its deadline in the message and the properties.
    for bucket in ["aws_s3_bucket.logs", "aws_s3_bucket.data"] {
        let w = of("aws-s3-versioning", bucket);
        assert_eq!(w["level"], "warning", "{w}");
        assert_eq!(w["properties"]["state"], "pending", "{w}");
        assert_eq!(w["properties"]["deadline"], "2026-12-01", "{w}");
        assert!(
            w["message"]["text"]
                .as_str()
                .unwrap()
                .contains("fails the build from 2026-12-01"),
            "{w}"
        );
    }
    // Excepted: a result with an external suppression carrying the exception.
    let logs = of("aws-s3-access-logging", "aws_s3_bucket.logs");
    let sup = &logs["suppressions"][0];
    assert_eq!(sup["kind"], "external", "{logs}");
    assert_eq!(sup["justification"], "The log bucket cannot log to itself");
    assert_eq!(sup["properties"]["approvedBy"], "security@example.com");
    assert_eq!(sup["properties"]["ticket"], "SEC-7");
    assert_eq!(sup["properties"]["expires"], "2027-06-30");
    assert_eq!(logs["properties"]["state"], "excepted");

    // Paths relative to the checkout's repository root, which originalUriBaseIds names.
    for r in results {
        let loc = &r["locations"][0]["physicalLocation"]["artifactLocation"];
        assert_eq!(loc["uri"], "infra/main.tf", "{r}");
        assert_eq!(loc["uriBaseId"], "SRCROOT", "{r}");
    }
    let root = std::fs::canonicalize(sb.path("web-checkout")).unwrap();
    assert_eq!(
        run["originalUriBaseIds"]["SRCROOT"]["uri"],
        format!("file://{}/", root.display()),
        "{run:#}"
    );
    // Real documentation links: the guardrail's page, and the project for the tool.
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    let versioning = rules.iter().find(|r| r["id"] == "aws-s3-versioning").unwrap();
    assert_eq!(
        versioning["helpUri"],
        "https://docs.aws.amazon.com/AmazonS3/latest/userguide/Versioning.html"
    );
    assert!(run["tool"]["driver"]["informationUri"]
        .as_str()
        .is_some_and(|u| u.starts_with("https://")));
}

#[test]
fn sarif_path_base_anchors_paths_and_refuses_a_base_that_does_not_hold_the_path() {
    let sb = sandbox();
    let checkout = sb.checkout();
    let base = checkout.join("infra");
    let out = check_checkout(&sb, &["--format", "sarif", "--path-base", base.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let sarif = stdout_json(&out);
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    assert!(!results.is_empty());
    for r in results {
        assert_eq!(
            r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            "main.tf"
        );
    }

    let elsewhere = sb.path("payments");
    let out = check_checkout(&sb, &["--format", "sarif", "--path-base", elsewhere.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("--path-base") && stderr.contains("does not contain the checked path"),
        "{stderr}"
    );
    assert!(out.stdout.is_empty(), "no partial document: {}", text(&out));
}

#[test]
fn junit_has_one_case_per_evaluated_guardrail_with_failures_at_file_line_and_time() {
    let sb = sandbox();
    let out = check_checkout(&sb, &["--format", "junit"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let xml = String::from_utf8_lossy(&out.stdout).into_owned();
    // Two active guardrails (aws-ebs-volume-encryption was promoted by observe) and one
    // pending, each a case; the passing one is not folded into a count.
    let cases: Vec<&str> = xml
        .lines()
        .filter(|l| l.trim_start().starts_with("<testcase"))
        .collect();
    assert_eq!(cases.len(), 3, "{xml}");
    assert!(
        cases[0]
            .trim()
            .starts_with(r#"<testcase classname="railyard.web" name="aws-ebs-volume-encryption" time=""#)
            && cases[0].ends_with("/>"),
        "{xml}"
    );
    // Every case carries its guardrail's evaluation time, in seconds.
    let mut total = 0.0;
    for case in &cases {
        let time = case.split(" time=\"").nth(1).and_then(|t| t.split('"').next());
        let secs: f64 = time
            .and_then(|t| t.parse().ok())
            .unwrap_or_else(|| panic!("no time: {case}"));
        assert!(secs.is_finite() && secs >= 0.0, "{case}");
        total += secs;
    }
    assert!(total > 0.0, "measured, not a placeholder: {xml}");
    assert!(
        cases[1].contains(r#"classname="railyard.web""#) && cases[1].contains(r#"name="aws-s3-access-logging""#),
        "{xml}"
    );
    assert!(
        cases[2].contains(r#"classname="railyard.web.pending""#) && cases[2].contains(r#"name="aws-s3-versioning""#),
        "{xml}"
    );
    // The active guardrail fails with one failure for its one unexcepted finding, at file:line.
    assert_eq!(xml.matches("<failure ").count(), 1, "{xml}");
    assert!(
        xml.contains(r#"<failure message="main.tf:5: aws_s3_bucket.data"#),
        "{xml}"
    );
    assert!(
        xml.contains("excepted: aws_s3_bucket.logs at main.tf:1 until 2027-06-30"),
        "{xml}"
    );
    assert!(
        xml.contains("pending: aws_s3_bucket.data at main.tf:5") && xml.contains("fails the build from 2026-12-01"),
        "{xml}"
    );
    assert!(
        xml.contains(r#"<testsuites name="railyard" tests="3" failures="1" errors="0" skipped="0" time=""#),
        "{xml}"
    );
    let suite = xml.lines().find(|l| l.trim_start().starts_with("<testsuite ")).unwrap();
    let time: f64 = suite
        .split("time=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!(time > 0.0, "{suite}");
}

#[test]
fn every_json_document_validates_against_its_schema() {
    let sb = sandbox();
    let mut docs: Vec<(&str, Value)> = Vec::new();
    let out = check_checkout(&sb, &["--format", "json"]);
    docs.push(("check", stdout_json(&out)));
    // With an error and a skipped file too.
    let broken = common::temp();
    common::write(broken.path(), "app/main.tf", CHECKOUT_TF);
    common::write(broken.path(), "app/broken.tf", "resource \"aws_s3_bucket\" {\n");
    common::write(
        broken.path(),
        "app/charts/x/Chart.yaml",
        "apiVersion: v2\nname: x\nversion: 0.1.0\n",
    );
    common::write(
        broken.path(),
        "app/charts/x/templates/d.yaml",
        "kind: {{ .Values.kind }}\n",
    );
    common::guardrails_with(&broken.path().join("gr"), &["aws-s3-versioning"]);
    let run = common::railyard(
        broken.path(),
        &["check", "app", "--guardrails", "gr", "--format", "json"],
    );
    run.expect_code(2);
    let with_errors = run.json();
    assert!(
        !with_errors["errors"].as_array().unwrap().is_empty() && !with_errors["skipped"].as_array().unwrap().is_empty(),
        "{with_errors:#}"
    );
    docs.push(("check", with_errors));
    let run = common::railyard(
        sb.root(),
        &[
            "test",
            common::bundled_guardrails().to_str().unwrap(),
            "--format",
            "json",
        ],
    );
    docs.push(("test", run.json()));
    let shards = sb.path("shards");
    let shards = shards.to_str().unwrap();
    for (name, args) in [
        (
            "observe",
            &["observe", "--now", "2026-11-02", "--dry-run", "--format", "json"][..],
        ),
        (
            "enforce",
            &["enforce", "--now", "2026-12-02", "--dry-run", "--format", "json"],
        ),
        ("report", &["report", "--format", "json", "--now", "2026-11-05"]),
        (
            "report",
            &["report", "--workload", "web", "--format", "json", "--now", "2026-11-05"],
        ),
        (
            "report",
            &["report", "--team", "web", "--format", "json", "--now", "2026-11-05"],
        ),
        (
            "observe-shard",
            &[
                "observe",
                "--now",
                "2026-11-02",
                "--shard",
                "1/2",
                "--shard-dir",
                shards,
                "--format",
                "json",
            ],
        ),
    ] {
        let out = sb.run(args);
        assert!(
            matches!(out.status.code(), Some(0) | Some(1)),
            "{args:?}: {}",
            text(&out)
        );
        docs.push((name, stdout_json(&out)));
    }
    for (name, doc) in &docs {
        let errors = schema_errors(&doc_schema(name), doc);
        assert!(
            errors.is_empty(),
            "{name} does not match docs/schema/{name}.json: {errors:#?}\n{doc:#}"
        );
    }
    // The documents are not trivially valid: the schemas reject a wrong type.
    let mut wrong = docs[0].1.clone();
    wrong["summary"]["findings"] = "many".into();
    assert!(!schema_errors(&doc_schema("check"), &wrong).is_empty());
}

#[test]
fn markdown_for_observe_enforce_and_report_puts_the_summary_first_and_details_collapsed() {
    let sb = sandbox();
    let out = sb.run(&[
        "observe",
        "--now",
        "2026-11-02",
        "--dry-run",
        "--details",
        "--format",
        "markdown",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let md = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(md.starts_with("## Railyard observe on 2026-11-02 (dry run"), "{md}");
    let summary = md.lines().nth(2).unwrap();
    assert!(
        summary.contains("candidate guardrails") && summary.contains("held"),
        "{md}"
    );
    assert!(
        md.contains("| `aws-s3-versioning` | new | medium | **held until 2026-12-01**: 1 workload failing |"),
        "{md}"
    );
    let details = md
        .find("<details><summary>Findings to fix")
        .expect("findings collapsed");
    assert!(
        md.find("| Guardrail |").unwrap() < details,
        "summary before details: {md}"
    );
    assert!(
        md.contains("[remediation](https://docs.aws.amazon.com/AmazonS3/latest/userguide/Versioning.html)"),
        "links to remediation: {md}"
    );
    assert_eq!(
        md.matches("<details>").count(),
        md.matches("</details>").count(),
        "{md}"
    );

    let out = sb.run(&["enforce", "--now", "2026-12-02", "--dry-run", "--format", "markdown"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let md = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(md.starts_with("## Railyard enforce on 2026-12-02 (dry run"), "{md}");
    assert!(
        md.lines().nth(2).unwrap().contains("**1 guardrail would activate**"),
        "{md}"
    );
    assert!(
        md.contains("| `aws-s3-versioning` | 2026-12-01 | web (1 finding) |"),
        "{md}"
    );
    assert!(
        md.contains("<details><summary>Exceptions expiring soon") || !md.contains("Exceptions"),
        "{md}"
    );

    let out = sb.run(&["report", "--team", "web", "--format", "markdown", "--now", "2026-11-05"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let md = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(md.starts_with("## Exposure of team `web`"), "{md}");
    let summary = md.find("noncompliant**").expect("summary line");
    let details = md
        .find("<details><summary>Resources")
        .expect("per-resource rows collapsed");
    assert!(summary < details, "{md}");
}

#[test]
fn a_format_a_subcommand_cannot_write_is_refused_before_any_work() {
    let sb = sandbox();
    let ledger_before = crate::common::sandbox::ledger_text(&sb.repo("guardrails"));
    for (args, listed) in [
        (
            &["observe", "--now", "2026-11-02", "--format", "sarif"][..],
            "table, json, markdown",
        ),
        (
            &["observe", "--now", "2026-11-02", "--format", "junit"],
            "table, json, markdown",
        ),
        (
            &["enforce", "--now", "2026-12-02", "--format", "sarif"],
            "table, json, markdown",
        ),
        (&["report", "--format", "junit"], "table, json, markdown"),
        (&["ledger", "verify", "--format", "markdown"], "table, json"),
    ] {
        let out = sb.run(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", text(&out));
        assert!(out.stdout.is_empty(), "{args:?}: nothing on stdout: {}", text(&out));
        let stderr = String::from_utf8_lossy(&out.stderr);
        let format = args[args.iter().position(|a| *a == "--format").unwrap() + 1];
        assert!(
            stderr.contains(&format!("cannot write --format {format}; it writes {listed}")),
            "{args:?}: {stderr}"
        );
    }
    // Commands that print text only have no --format at all: clap refuses one (exit 2).
    for args in [
        &["promote", "aws-s3-versioning", "--force", "--format", "json"][..],
        &["demo", "--format", "json"][..],
    ] {
        let out = sb.run(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", text(&out));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("unexpected argument '--format'"), "{args:?}: {stderr}");
    }
    // Nothing was written: no observation, promotion or activation.
    assert_eq!(
        crate::common::sandbox::ledger_text(&sb.repo("guardrails")),
        ledger_before
    );
    let run = common::railyard(
        sb.root(),
        &[
            "test",
            common::bundled_guardrails().to_str().unwrap(),
            "--format",
            "sarif",
        ],
    );
    run.expect_code(2);
    assert!(
        run.stderr
            .contains("`test` cannot write --format sarif; it writes table, json, junit, markdown"),
        "{}",
        run.stderr
    );
}

#[test]
fn check_errors_reach_stderr_with_file_and_line_when_stdout_carries_sarif() {
    let ws = common::temp();
    common::write(ws.path(), "app/main.tf", CHECKOUT_TF);
    common::write(
        ws.path(),
        "app/broken.tf",
        "resource \"aws_s3_bucket\" \"x\" {\n  bucket = \n",
    );
    common::guardrails_with(&ws.path().join("gr"), &["aws-s3-versioning"]);
    for format in ["sarif", "json", "junit", "markdown"] {
        let run = common::railyard(ws.path(), &["check", "app", "--guardrails", "gr", "--format", format]);
        run.expect_code(2);
        let lines: Vec<&str> = run.stderr.lines().filter(|l| l.starts_with("error: ")).collect();
        assert_eq!(lines.len(), 1, "{format}: one line per error: {}", run.stderr);
        assert!(
            lines[0].starts_with("error: broken.tf:"),
            "{format}: file:line first: {}",
            run.stderr
        );
        let line_no = lines[0]["error: broken.tf:".len()..].split(':').next().unwrap();
        assert!(line_no.parse::<usize>().is_ok_and(|n| n >= 1), "{format}: {}", lines[0]);
    }
    // The table carries them on stdout already: not twice on a terminal.
    let run = common::railyard(ws.path(), &["check", "app", "--guardrails", "gr"]);
    run.expect_code(2);
    assert!(run.stdout.contains("broken.tf:"), "{}", run.stdout);
}
