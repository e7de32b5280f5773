//! Terraform module calls and tolerant Terraform reading, end to end through `railyard check`
//! (issue 16, items 2 and 5): call arguments reach the child, `count` / `for_each` make the
//! right instances, findings carry the child's file and line, remote modules are read from
//! `.terraform/modules/modules.json` or listed in `skipped`, and a byte order mark or CRLF
//! line endings change nothing.

use crate::common;
use crate::common::{guardrails_with, railyard, temp, write};
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::Path;

/// A child module whose variable defaults to encrypted storage (the database on line 9, its
/// `storage_encrypted` on line 11: findings name that attribute).
const DB_MODULE: &str = r#"variable "storage_encrypted" {
  default = true
}

resource "aws_kms_key" "k" {
  enable_key_rotation = true
}

resource "aws_db_instance" "this" {
  engine            = "postgres"
  storage_encrypted = var.storage_encrypted
  kms_key_id        = aws_kms_key.k.arn
}
"#;

/// Guardrails folder `gr` with the bundled RDS encryption guardrail only.
fn rds_guardrails(ws: &Path) {
    guardrails_with(&ws.join("gr"), &["aws-rds-encryption"]);
}

fn check_json(ws: &Path, workload: &str) -> (i32, Value) {
    let run = railyard(ws, &["check", workload, "--guardrails", "gr", "--format", "json"]);
    (run.code, run.json())
}

/// (resource, file, line) of every finding.
fn located(report: &Value) -> BTreeSet<(String, String, u64)> {
    report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            (
                f["resource"].as_str().unwrap_or_default().to_string(),
                f["file"].as_str().unwrap_or_default().to_string(),
                f["line"].as_u64().unwrap_or_default(),
            )
        })
        .collect()
}

fn at(resource: &str, file: &str, line: u64) -> (String, String, u64) {
    (resource.to_string(), file.to_string(), line)
}

#[test]
fn module_arguments_reach_the_child_and_findings_point_at_the_child() {
    let ws = temp();
    rds_guardrails(ws.path());
    write(
        ws.path(),
        "app/main.tf",
        "module \"db\" {\n  source            = \"./modules/db\"\n  storage_encrypted = false\n}\n",
    );
    write(ws.path(), "app/modules/db/main.tf", DB_MODULE);
    let (code, report) = check_json(ws.path(), "app");
    assert_eq!(code, 1, "{report}");
    // Judged with the call's `false`, not the default; the child folder as its own root
    // (default `true`) stays compliant.
    assert_eq!(
        located(&report),
        BTreeSet::from([at("module.db.aws_db_instance.this", "modules/db/main.tf", 11)]),
        "{report}"
    );
    assert_eq!(report["findings"][0]["end_line"], 11, "{report}");

    // An argument not known statically leaves the variable unresolved: no verdict from
    // the default either way (the guardrail skips values known only at deploy time).
    write(
        ws.path(),
        "app/main.tf",
        "variable \"enc\" {}\nmodule \"db\" {\n  source            = \"./modules/db\"\n  storage_encrypted = var.enc\n}\n",
    );
    let (code, report) = check_json(ws.path(), "app");
    assert_eq!((code, located(&report)), (0, BTreeSet::new()), "{report}");
}

#[test]
fn count_and_for_each_on_a_module_call_make_its_instances() {
    let ws = temp();
    rds_guardrails(ws.path());
    write(
        ws.path(),
        "app/main.tf",
        r#"module "off" {
  source            = "./modules/db"
  count             = 0
  storage_encrypted = false
}

module "none" {
  source            = "./modules/db"
  for_each          = {}
  storage_encrypted = false
}

module "two" {
  source            = "./modules/db"
  count             = 2
  storage_encrypted = count.index == 1
}

module "dbs" {
  source            = "./modules/db"
  for_each          = { encrypted = true, plain = false }
  storage_encrypted = each.value
}

module "set" {
  source            = "./modules/db"
  for_each          = toset(["b", "a"])
  storage_encrypted = each.key == "b"
}
"#,
    );
    write(ws.path(), "app/modules/db/main.tf", DB_MODULE);
    let (code, report) = check_json(ws.path(), "app");
    assert_eq!(code, 1, "{report}");
    let file = "modules/db/main.tf";
    assert_eq!(
        located(&report),
        BTreeSet::from([
            at("module.two[0].aws_db_instance.this", file, 11),
            at("module.dbs[\"plain\"].aws_db_instance.this", file, 11),
            at("module.set[\"a\"].aws_db_instance.this", file, 11),
        ]),
        "{report}"
    );
    // Instances that exist: the root's own resources (the child folder read as a root: key
    // and database) plus module.off / module.none blocks, and per instance a key and a
    // database (2 + 2 + 2 instances), and the five module blocks.
    assert_eq!(report["summary"]["resources"], 2 + 5 + 6 * 2, "{report}");
}

/// A guardrail that reports every managed resource that will exist (`input.managed`) with
/// what the expansion gave it: its root, `count`, and links.
const INSPECT_TOML: &str = "title = \"Inspect\"\nseverity = \"low\"\nremediation = \"none\"\n";
const INSPECT_POLICY: &str = r#"package railyard.inspect

deny contains f if {
	some t, positions in input.managed
	some i in positions
	r := input.resources[i]
	f := {"resource": r.address, "message": json.marshal({
		"root": object.get(r, "root", null),
		"count": object.get(r.config, "count", null),
		"refs": r.refs,
		"referenced_by": r.referenced_by,
	})}
}
"#;

/// What the inspect guardrail said about each resource.
fn inspected(report: &Value) -> std::collections::BTreeMap<String, Value> {
    report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            let message: Value =
                serde_json::from_str(f["message"].as_str().unwrap_or_default()).expect("message is JSON");
            (f["resource"].as_str().unwrap_or_default().to_string(), message)
        })
        .collect()
}

#[test]
fn expanded_resources_are_linked_within_their_instance_and_managed() {
    let ws = temp();
    write(ws.path(), "gr/inspect/guardrail.toml", INSPECT_TOML);
    write(ws.path(), "gr/inspect/policy.rego", INSPECT_POLICY);
    write(
        ws.path(),
        "app/envs/prod/main.tf",
        r#"variable "replicas" {}

module "db" {
  source = "../../modules/db"
}

module "maybe" {
  source = "../../modules/db"
  count  = var.replicas
}
"#,
    );
    write(ws.path(), "app/modules/db/main.tf", DB_MODULE);
    let run = railyard(ws.path(), &["check", "app", "--guardrails", "gr", "--format", "json"]);
    let report = run.json();
    let seen = inspected(&report);
    let db = &seen["module.db.aws_db_instance.this"];
    assert_eq!(db["root"], "envs/prod", "{report}");
    assert_eq!(db["refs"], serde_json::json!(["module.db.aws_kms_key.k"]), "{report}");
    assert_eq!(
        seen["module.db.aws_kms_key.k"]["referenced_by"],
        serde_json::json!(["module.db.aws_db_instance.this"]),
        "{report}"
    );
    // The child folder read as its own root keeps its own links, its own root, no module.
    assert_eq!(
        seen["aws_db_instance.this"]["refs"],
        serde_json::json!(["aws_kms_key.k"])
    );
    assert_eq!(seen["aws_db_instance.this"]["root"], "modules/db");
    // A count not known statically: one copy, no instance key, marked with the expression.
    let maybe = &seen["module.maybe.aws_db_instance.this"];
    assert_eq!(maybe["count"], "${var.replicas}", "{report}");
    assert_eq!(
        maybe["refs"],
        serde_json::json!(["module.maybe.aws_kms_key.k"]),
        "{report}"
    );
    assert_eq!(seen.len(), 6, "{seen:?}");
}

#[test]
fn nested_modules_and_vendored_modules_are_expanded_and_a_cycle_is_an_error() {
    let ws = temp();
    rds_guardrails(ws.path());
    write(
        ws.path(),
        "app/main.tf",
        "module \"platform\" {\n  source  = \"./vendor/acme/platform\"\n  encrypt = false\n}\n",
    );
    write(
        ws.path(),
        "app/vendor/acme/platform/main.tf",
        "variable \"encrypt\" {}\n\nmodule \"db\" {\n  source            = \"../../../modules/db\"\n  storage_encrypted = var.encrypt\n}\n",
    );
    write(ws.path(), "app/modules/db/main.tf", DB_MODULE);
    let (code, report) = check_json(ws.path(), "app");
    assert_eq!(code, 1, "{report}");
    assert_eq!(
        located(&report),
        BTreeSet::from([at(
            "module.platform.module.db.aws_db_instance.this",
            "modules/db/main.tf",
            11
        )]),
        "{report}"
    );

    // A module that calls itself is an error at the call, not a hang.
    write(
        ws.path(),
        "app/modules/db/loop.tf",
        "module \"again\" {\n  source = \"./\"\n}\n",
    );
    let run = railyard(ws.path(), &["check", "app", "--guardrails", "gr", "--format", "json"]);
    assert_eq!(run.code, 2, "{}", run.all());
    let errors = run.json()["errors"].to_string();
    assert!(
        errors.contains("modules/db/loop.tf") && errors.contains("cycle"),
        "{errors}"
    );

    // So is a call with more instances than the bound, named at its file and line.
    std::fs::remove_file(ws.path().join("app/modules/db/loop.tf")).expect("remove");
    write(
        ws.path(),
        "app/many.tf",
        "\nmodule \"many\" {\n  source = \"./modules/db\"\n  count  = 5000\n}\n",
    );
    let run = railyard(ws.path(), &["check", "app", "--guardrails", "gr", "--format", "json"]);
    assert_eq!(run.code, 2, "{}", run.all());
    let errors = &run.json()["errors"];
    assert_eq!(errors[0]["file"], "many.tf", "{errors}");
    assert_eq!(errors[0]["line"], 2, "{errors}");
    assert!(
        errors[0]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("5000 instances"),
        "{errors}"
    );
}

#[test]
fn remote_modules_are_read_after_terraform_init_or_listed_as_skipped() {
    let ws = temp();
    rds_guardrails(ws.path());
    write(
        ws.path(),
        "app/main.tf",
        "module \"rds\" {\n  source            = \"terraform-aws-modules/rds/aws\"\n  version           = \"6.0.0\"\n  storage_encrypted = false\n}\n",
    );
    // Not initialised: listed in `skipped` with the call's place, its source and the reason.
    // (Whether skipped code also makes a verdict unknown is decided where skipped entries
    // are judged, not here.)
    let (_, report) = check_json(ws.path(), "app");
    assert_eq!(located(&report), BTreeSet::new(), "{report}");
    let skipped = report["skipped"].as_array().expect("skipped");
    assert_eq!(skipped.len(), 1, "{report}");
    assert_eq!(skipped[0]["path"], "main.tf:1");
    let reason = skipped[0]["reason"].as_str().unwrap_or_default();
    assert!(
        reason.contains("module.rds")
            && reason.contains("terraform-aws-modules/rds/aws")
            && reason.contains("remote module not present (run terraform init or vendor it)"),
        "{reason}"
    );
    // The table names it too.
    let table = railyard(ws.path(), &["check", "app", "--guardrails", "gr"]);
    assert!(table.stdout.contains("remote module not present"), "{}", table.all());

    // After `terraform init`: read from the folder the manifest names.
    write(
        ws.path(),
        "app/.terraform/modules/modules.json",
        r#"{"Modules":[{"Key":"","Source":"","Dir":"."},{"Key":"rds","Source":"registry.terraform.io/terraform-aws-modules/rds/aws","Version":"6.0.0","Dir":".terraform/modules/rds"}]}"#,
    );
    write(ws.path(), "app/.terraform/modules/rds/main.tf", DB_MODULE);
    let (code, report) = check_json(ws.path(), "app");
    assert_eq!(code, 1, "{report}");
    assert_eq!(report["skipped"], serde_json::json!([]), "{report}");
    assert_eq!(
        located(&report),
        BTreeSet::from([at(
            "module.rds.aws_db_instance.this",
            ".terraform/modules/rds/main.tf",
            11
        )]),
        "{report}"
    );
}

#[test]
fn a_byte_order_mark_and_crlf_line_endings_are_read_as_terraform_reads_them() {
    let ws = temp();
    rds_guardrails(ws.path());
    let crlf = |s: &str| s.replace('\n', "\r\n");
    let bom = |s: String| format!("\u{feff}{s}");
    write(ws.path(), "app/main.tf", bom(crlf(DB_MODULE)));
    write(
        ws.path(),
        "app/terraform.tfvars",
        bom(crlf("storage_encrypted = false\n")),
    );
    write(
        ws.path(),
        "app/db.tf.json",
        bom(crlf("{\n  \"resource\": {\n    \"aws_db_instance\": {\n      \"json\": {\n        \"storage_encrypted\": false\n      }\n    }\n  }\n}\n")),
    );
    let (code, report) = check_json(ws.path(), "app");
    assert_eq!(code, 1, "{report}");
    assert_eq!(report["errors"], serde_json::json!([]), "{report}");
    assert_eq!(
        located(&report),
        BTreeSet::from([
            at("aws_db_instance.this", "main.tf", 11),
            at("aws_db_instance.json", "db.tf.json", 4),
        ]),
        "{report}"
    );
    let main = report["findings"]
        .as_array()
        .and_then(|f| f.iter().find(|f| f["file"] == "main.tf"));
    assert_eq!(main.map(|f| f["end_line"].clone()), Some(11.into()), "{report}");
}

/// `observe` reads workloads from git objects: a module under `vendor/` is read there too,
/// and only as module code (nothing else below `vendor/`).
#[test]
fn git_trees_hold_vendored_module_code_only() {
    let ws = temp();
    let repo = common::init_repo(&ws.path().join("w"));
    let commit = common::commit_files(
        &repo,
        "main",
        None,
        &[
            (
                "infra/main.tf",
                Some(b"module \"db\" {\n  source = \"../vendor/db\"\n}\n".as_slice()),
            ),
            ("vendor/db/main.tf", Some(DB_MODULE.as_bytes())),
            (
                "vendor/db/examples/k8s.yaml",
                Some(b"apiVersion: v1\nkind: Pod\n".as_slice()),
            ),
            ("node_modules/x/main.tf", Some(b"# not module code\n".as_slice())),
        ],
        "workload",
    );
    let (files, _) = railyard::git::read_tree(
        &ws.path().join("w"),
        &commit.to_string(),
        &[],
        railyard::ReadLimits::workload(),
    )
    .expect("tree read");
    let paths: Vec<&str> = files.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(paths, vec!["infra/main.tf", "vendor/db/main.tf"]);
    let parsed = railyard::parse_files(&files);
    let addresses: BTreeSet<&str> = parsed.resources.iter().map(|r| r.address.as_str()).collect();
    assert_eq!(
        addresses,
        BTreeSet::from(["module.db", "module.db.aws_kms_key.k", "module.db.aws_db_instance.this"])
    );
    assert!(parsed
        .resources
        .iter()
        .all(|r| r.address == "module.db" || r.file == "vendor/db/main.tf"));
}
