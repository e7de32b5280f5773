//! One identity per resource (issue 16, item 1 and reproducer 1) and findings that point at
//! the offending line (item 8), through the real binary on workloads written to temporary
//! folders: two resources with one address in two places are two resources, each with its
//! own finding in its own file, exception, SARIF fingerprint and ledger record.

use crate::common;
use crate::common::sandbox::{bundled, ledger_json};
use crate::common::{guardrails_with, railyard, temp, write};
use serde_json::Value;
use std::path::Path;

fn db(encrypted: bool) -> String {
    format!(
        "# the {} database\nresource \"aws_db_instance\" \"main\" {{\n  engine            = \"postgres\"\n  storage_encrypted = {encrypted}\n}}\n",
        if encrypted { "good" } else { "bad" }
    )
}

fn check(ws: &Path, extra: &[&str]) -> common::Run {
    let mut args = vec![
        "check",
        "app",
        "--guardrails",
        "gr",
        "--format",
        "json",
        "--now",
        "2030-01-01",
    ];
    args.extend_from_slice(extra);
    railyard(ws, &args)
}

/// (resource, id, file, line) of each finding, sorted.
fn located(report: &Value, list: &str) -> Vec<(String, String, String, u64)> {
    let mut out: Vec<_> = report[list]
        .as_array()
        .unwrap_or_else(|| panic!("no `{list}` in {report}"))
        .iter()
        .map(|f| {
            (
                f["resource"].as_str().unwrap_or_default().to_string(),
                f["id"].as_str().unwrap_or_default().to_string(),
                f["file"].as_str().unwrap_or_default().to_string(),
                f["line"].as_u64().unwrap_or_default(),
            )
        })
        .collect();
    out.sort();
    out
}

fn row(resource: &str, id: &str, file: &str, line: u64) -> (String, String, String, u64) {
    (resource.into(), id.into(), file.into(), line)
}

/// A guardrail written before identities existed: it names resources by address only, with
/// a message that does not tell them apart (so two findings are one element of the set).
fn old_style_guardrail(ws: &Path, id: &str, deny: &str) {
    write(
        ws,
        &format!("gr/{id}/guardrail.toml"),
        "title = \"Databases are encrypted\"\nseverity = \"high\"\nremediation = \"Encrypt it.\"\n",
    );
    write(
        ws,
        &format!("gr/{id}/policy.rego"),
        format!("package third_party.{}\n\n{deny}\n", id.replace('-', "_")),
    );
}

const BY_ADDRESS: &str = "deny contains f if {\n  some r in input.resources\n  r.type == \"aws_db_instance\"\n  r.config.storage_encrypted == false\n  f := {\"resource\": r.address, \"message\": \"storage is not encrypted\"}\n}";

const BY_MESSAGE: &str = "deny contains msg if {\n  some r in input.resources\n  r.type == \"aws_db_instance\"\n  r.config.storage_encrypted == false\n  msg := sprintf(\"%s: storage is not encrypted\", [r.address])\n}";

#[test]
fn two_roots_with_one_address_give_a_finding_each_in_its_own_file() {
    let ws = temp();
    guardrails_with(&ws.path().join("gr"), &["aws-rds-encryption"]);
    write(ws.path(), "app/envs/dev/main.tf", db(false));
    write(ws.path(), "app/envs/prod/main.tf", db(false));
    let run = check(ws.path(), &[]);
    run.expect_code(1);
    assert_eq!(
        located(&run.json(), "findings"),
        vec![
            row(
                "aws_db_instance.main",
                "envs/dev:aws_db_instance.main",
                "envs/dev/main.tf",
                4
            ),
            row(
                "aws_db_instance.main",
                "envs/prod:aws_db_instance.main",
                "envs/prod/main.tf",
                4
            ),
        ],
        "{}",
        run.stdout
    );
}

#[test]
fn only_the_violating_root_is_reported_and_in_its_own_file() {
    let ws = temp();
    guardrails_with(&ws.path().join("gr"), &["aws-rds-encryption"]);
    write(ws.path(), "app/envs/dev/main.tf", db(true));
    write(ws.path(), "app/envs/prod/main.tf", db(false));
    let run = check(ws.path(), &[]);
    run.expect_code(1);
    assert_eq!(
        located(&run.json(), "findings"),
        vec![row(
            "aws_db_instance.main",
            "envs/prod:aws_db_instance.main",
            "envs/prod/main.tf",
            4
        )],
        "{}",
        run.stdout
    );
}

#[test]
fn an_old_style_policy_naming_only_the_address_still_lands_on_each_resource() {
    for (name, deny) in [("by-address", BY_ADDRESS), ("by-message", BY_MESSAGE)] {
        let ws = temp();
        old_style_guardrail(ws.path(), name, deny);
        write(ws.path(), "app/envs/dev/main.tf", db(false));
        write(ws.path(), "app/envs/prod/main.tf", db(false));
        write(ws.path(), "app/envs/stage/main.tf", db(true));
        let run = check(ws.path(), &[]);
        run.expect_code(1);
        assert_eq!(
            located(&run.json(), "findings"),
            vec![
                row(
                    "aws_db_instance.main",
                    "envs/dev:aws_db_instance.main",
                    "envs/dev/main.tf",
                    2
                ),
                row(
                    "aws_db_instance.main",
                    "envs/prod:aws_db_instance.main",
                    "envs/prod/main.tf",
                    2
                ),
            ],
            "{name}: {}",
            run.stdout
        );
        // Only prod violates: found there, not in the first folder with the address.
        write(ws.path(), "app/envs/dev/main.tf", db(true));
        let run = check(ws.path(), &[]);
        run.expect_code(1);
        assert_eq!(
            located(&run.json(), "findings"),
            vec![row(
                "aws_db_instance.main",
                "envs/prod:aws_db_instance.main",
                "envs/prod/main.tf",
                2
            )],
            "{name}: {}",
            run.stdout
        );
    }
}

#[test]
fn an_old_style_policy_that_fails_alone_on_a_partition_is_unknown_not_compliant() {
    let ws = temp();
    // Fails on any input with one resource: the re-evaluation per partition errors, and the
    // guardrail's verdict is an error (exit 2), never a pass.
    old_style_guardrail(
        ws.path(),
        "fragile",
        &format!("{BY_ADDRESS}\n\ndeny contains \"x\" if {{\n  count(input.resources) == 1\n  1 / 0 == 1\n}}"),
    );
    write(ws.path(), "app/envs/dev/main.tf", db(false));
    write(ws.path(), "app/envs/prod/main.tf", db(false));
    let run = check(ws.path(), &[]);
    run.expect_code(2);
    assert!(run.all().contains("envs/dev"), "{}", run.all());
}

#[test]
fn cloudformation_logical_ids_in_two_templates_are_two_resources() {
    let template = |encrypted: bool| {
        format!(
            "AWSTemplateFormatVersion: '2010-09-09'\nResources:\n  Database:\n    Type: AWS::RDS::DBInstance\n    Properties:\n      Engine: mysql\n      StorageEncrypted: {encrypted}\n"
        )
    };
    let ws = temp();
    guardrails_with(&ws.path().join("gr"), &["aws-rds-encryption"]);
    old_style_guardrail(
        ws.path(),
        "cfn-old",
        "deny contains f if {\n  some r in input.resources\n  r.type == \"AWS::RDS::DBInstance\"\n  r.config.StorageEncrypted == false\n  f := {\"resource\": r.address, \"message\": \"not encrypted\"}\n}",
    );
    write(ws.path(), "app/db-private.yaml", template(true));
    write(ws.path(), "app/db-public.yaml", template(false));
    let run = check(ws.path(), &[]);
    run.expect_code(1);
    let report = run.json();
    let found = located(&report, "findings");
    // The bundled guardrail names the attribute (line 7); the old-style one the resource (line 3).
    let public = |line| {
        row(
            "AWS::RDS::DBInstance.Database",
            "db-public.yaml:Database",
            "db-public.yaml",
            line,
        )
    };
    assert_eq!(found, vec![public(3), public(7)], "{report}");
    write(ws.path(), "app/db-private.yaml", template(false));
    let run = check(ws.path(), &[]);
    assert_eq!(
        run.json()["findings"].as_array().map(Vec::len),
        Some(4),
        "{}",
        run.stdout
    );
}

const DEPLOY: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  template:\n    spec:\n      containers:\n        - name: app\n          image: web:1.0\n        - name: sidecar\n          image: proxy:1.0\n          securityContext:\n            runAsNonRoot: true\n            privileged: PRIV\n";

#[test]
fn kubernetes_base_and_overlay_are_two_objects_and_the_finding_points_at_the_line() {
    let ws = temp();
    guardrails_with(&ws.path().join("gr"), &["k8s-no-privileged-containers"]);
    write(ws.path(), "app/base/deploy.yaml", DEPLOY.replace("PRIV", "false"));
    write(
        ws.path(),
        "app/overlays/prod/deploy.yaml",
        DEPLOY.replace("PRIV", "true"),
    );
    let run = check(ws.path(), &[]);
    run.expect_code(1);
    let report = run.json();
    // Line 15: `privileged: true` of the second container, not the document's first line.
    assert_eq!(
        located(&report, "findings"),
        vec![row(
            "Deployment.default.web",
            "overlays/prod/deploy.yaml:Deployment.default.web",
            "overlays/prod/deploy.yaml",
            15
        )],
        "{report}"
    );
    assert_eq!(
        report["findings"][0]["field"],
        "spec.template.spec.containers[1].securityContext.privileged"
    );
    // The table shows the same line.
    let table = railyard(
        ws.path(),
        &["check", "app", "--guardrails", "gr", "--now", "2030-01-01"],
    );
    assert!(
        table.stdout.contains("overlays/prod/deploy.yaml:15"),
        "{}",
        table.stdout
    );
}

#[test]
fn a_plan_beside_its_terraform_is_judged_on_its_own() {
    let plan = r#"{
  "format_version": "1.2",
  "planned_values": {
    "root_module": {
      "resources": [
        {
          "address": "aws_db_instance.main",
          "mode": "managed",
          "type": "aws_db_instance",
          "name": "main",
          "values": {"engine": "postgres", "storage_encrypted": false}
        }
      ]
    }
  }
}
"#;
    let ws = temp();
    guardrails_with(&ws.path().join("gr"), &["aws-rds-encryption"]);
    old_style_guardrail(ws.path(), "plan-old", BY_ADDRESS);
    write(ws.path(), "app/main.tf", db(false));
    write(ws.path(), "app/plan.json", plan);
    let run = check(ws.path(), &[]);
    run.expect_code(1);
    let tf = |line| row("aws_db_instance.main", ".:aws_db_instance.main", "main.tf", line);
    let planned = row("aws_db_instance.main", "plan.json:aws_db_instance.main", "plan.json", 7);
    assert_eq!(
        located(&run.json(), "findings"),
        vec![tf(2), tf(4), planned.clone(), planned],
        "{}",
        run.stdout
    );
}

#[test]
fn module_copies_in_examples_are_resources_of_their_own() {
    let ws = temp();
    guardrails_with(&ws.path().join("gr"), &["aws-rds-encryption"]);
    for example in ["basic", "complete", "replica"] {
        write(
            ws.path(),
            &format!("app/examples/{example}/main.tf"),
            db(example != "complete"),
        );
    }
    let run = check(ws.path(), &[]);
    run.expect_code(1);
    assert_eq!(
        located(&run.json(), "findings"),
        vec![row(
            "aws_db_instance.main",
            "examples/complete:aws_db_instance.main",
            "examples/complete/main.tf",
            4
        )],
        "{}",
        run.stdout
    );
}

#[test]
fn an_exception_with_a_path_waives_only_the_resources_there() {
    let ws = temp();
    guardrails_with(&ws.path().join("gr"), &["aws-rds-encryption"]);
    write(
        ws.path(),
        "gr/aws-rds-encryption/exceptions.toml",
        "[[exception]]\nworkload = \"*\"\nresource = \"aws_db_instance.main\"\npath = \"envs/dev/**\"\nreason = \"dev holds no data\"\napproved_by = \"security@example.com\"\nexpires = 2030-06-30\n",
    );
    write(ws.path(), "app/envs/dev/main.tf", db(false));
    write(ws.path(), "app/envs/prod/main.tf", db(false));
    let run = check(ws.path(), &[]);
    run.expect_code(1);
    let report = run.json();
    assert_eq!(
        located(&report, "findings"),
        vec![row(
            "aws_db_instance.main",
            "envs/prod:aws_db_instance.main",
            "envs/prod/main.tf",
            4
        )],
        "{report}"
    );
    assert_eq!(
        located(&report, "excepted"),
        vec![row(
            "aws_db_instance.main",
            "envs/dev:aws_db_instance.main",
            "envs/dev/main.tf",
            4
        )],
        "{report}"
    );
    // A folder without `**` means the same; an invalid glob is an error naming its line.
    write(
        ws.path(),
        "gr/aws-rds-encryption/exceptions.toml",
        "[[exception]]\nworkload = \"*\"\nresource = \"aws_db_instance.main\"\npath = \"envs/prod\"\nreason = \"r\"\napproved_by = \"a@example.com\"\nexpires = 2030-06-30\n",
    );
    let run = check(ws.path(), &[]);
    assert_eq!(
        located(&run.json(), "findings")[0].2,
        "envs/dev/main.tf",
        "{}",
        run.stdout
    );
    write(
        ws.path(),
        "gr/aws-rds-encryption/exceptions.toml",
        "[[exception]]\nworkload = \"*\"\nresource = \"aws_db_instance.main\"\npath = \"envs/[prod\"\nreason = \"r\"\napproved_by = \"a@example.com\"\nexpires = 2030-06-30\n",
    );
    let run = check(ws.path(), &[]);
    run.expect_code(2);
    assert!(run.stderr.contains("exceptions.toml:4"), "{}", run.stderr);
}

#[test]
fn sarif_fingerprints_tell_the_two_resources_apart() {
    let ws = temp();
    guardrails_with(&ws.path().join("gr"), &["aws-rds-encryption"]);
    write(ws.path(), "app/envs/dev/main.tf", db(false));
    write(ws.path(), "app/envs/prod/main.tf", db(false));
    let run = railyard(
        ws.path(),
        &[
            "check",
            "app",
            "--guardrails",
            "gr",
            "--format",
            "sarif",
            "--now",
            "2030-01-01",
        ],
    );
    run.expect_code(1);
    let sarif = run.json();
    let results = sarif["runs"][0]["results"].as_array().expect("results");
    let prints: std::collections::BTreeSet<String> = results
        .iter()
        .map(|r| {
            r["partialFingerprints"]["railyard/v2"]
                .as_str()
                .expect("fingerprint")
                .to_string()
        })
        .collect();
    assert_eq!(
        prints,
        [
            "aws-rds-encryption:envs/dev:aws_db_instance.main",
            "aws-rds-encryption:envs/prod:aws_db_instance.main"
        ]
        .map(String::from)
        .into(),
        "{sarif}"
    );
    let uris: Vec<&str> = results
        .iter()
        .map(|r| {
            r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                .as_str()
                .unwrap()
        })
        .collect();
    assert_eq!(uris, ["envs/dev/main.tf", "envs/prod/main.tf"]);
}

#[test]
fn findings_name_the_attribute_line_in_terraform_and_cloudformation() {
    let ws = temp();
    guardrails_with(&ws.path().join("gr"), &["aws-rds-encryption"]);
    write(ws.path(), "app/main.tf", db(false));
    write(
        ws.path(),
        "app/t.yaml",
        "Resources:\n  Db:\n    Type: AWS::RDS::DBInstance\n    Properties:\n      Engine: mysql\n      StorageEncrypted: false\n",
    );
    let run = check(ws.path(), &[]);
    run.expect_code(1);
    let report = run.json();
    let lines: Vec<(String, u64, String)> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["file"].as_str().unwrap().to_string(),
                f["line"].as_u64().unwrap(),
                f["field"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    assert_eq!(
        lines,
        vec![
            ("main.tf".to_string(), 4, "storage_encrypted".to_string()),
            ("t.yaml".to_string(), 6, "StorageEncrypted".to_string()),
        ],
        "{report}"
    );
}

fn read_ledger(g: &git2::Repository) -> Value {
    ledger_json(g)
}

#[test]
fn a_ledger_written_before_identities_keeps_its_days_and_gains_ids() {
    let ws = temp();
    let dir = ws.path();
    let init = |rel: &str| {
        let r = git2::Repository::init(dir.join(rel)).unwrap();
        r.set_head("refs/heads/main").unwrap();
        r
    };
    let web = init("web");
    common::commit(&web, "main", &[("main.tf", Some(common::UNVERSIONED_TF))], "web infra");
    common::commit(
        &init("payments"),
        "main",
        &[("main.tf", Some(common::COMPLIANT_TF))],
        "infra",
    );
    let g = init("guardrails");
    let mut files = bundled("lib");
    files.push(("workloads.toml".into(), common::REGISTRY.into()));
    let refs: Vec<(&str, Option<&str>)> = files.iter().map(|(p, c)| (p.as_str(), Some(c.as_str()))).collect();
    common::commit(&g, "main", &refs, "initial");
    let main = g.find_reference("refs/heads/main").unwrap().peel_to_commit().unwrap();
    g.branch("develop", &main, false).unwrap();
    let candidate = bundled("aws-s3-versioning");
    let refs: Vec<(&str, Option<&str>)> = candidate.iter().map(|(p, c)| (p.as_str(), Some(c.as_str()))).collect();
    common::commit(&g, "develop", &refs, "candidate");
    let observe = |now: &str| {
        let run = railyard(
            dir,
            &["observe", "--repo", "guardrails", "--cache-dir", "cache", "--now", now],
        );
        run.expect_code(0);
    };
    observe("2026-11-01");
    // The ledger as an earlier Railyard wrote it: findings without `id`, noncompliant since
    // October, deadline November 30.
    let mut old = read_ledger(&g);
    let entry = &mut old["entries"]["aws-s3-versioning/web"];
    assert_eq!(entry["findings"][0]["id"], ".:aws_s3_bucket.logs", "{entry}");
    entry["findings"][0].as_object_mut().unwrap().remove("id");
    entry["findings"][0]["first_seen"] = "2026-10-15".into();
    entry["first_seen"] = "2026-10-15".into();
    entry["deadline"] = "2026-11-14".into();
    crate::common::sandbox::commit_ledger(&g, &old, "ledger of an earlier version");

    observe("2026-11-05");
    let new = read_ledger(&g);
    let entry = &new["entries"]["aws-s3-versioning/web"];
    assert_eq!(entry["first_seen"], "2026-10-15", "{entry}");
    assert_eq!(entry["deadline"], "2026-11-14", "{entry}");
    assert_eq!(new["clock"], "2026-11-05", "{new}");
    assert!(entry.get("last_seen").is_none(), "no longer written: {entry}");
    assert_eq!(entry["findings"][0]["first_seen"], "2026-10-15", "{entry}");
    assert_eq!(entry["findings"][0]["id"], ".:aws_s3_bucket.logs", "{entry}");
}
