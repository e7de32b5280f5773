//! The way out named for a remote Terraform module that is not present (issue 12): run
//! `terraform init` (so .terraform/modules/modules.json exists), vendor the module, or exclude
//! the path. "Install the renderer" fits a Helm chart, not a module.

use crate::common::sandbox::{bundled, command, main_and_develop, open_or_init, text, Root, Sandbox};
use crate::common::{self, commit, guardrails_with, railyard, temp, write};

const REMOTE_MODULE_TF: &str =
    "module \"rds\" {\n  source            = \"terraform-aws-modules/rds/aws\"\n  version           = \"6.0.0\"\n  storage_encrypted = false\n}\n";

const HINT: &str = "run `terraform init` in the root module so .terraform/modules/modules.json exists, or vendor the module into the workload";

#[test]
fn check_says_to_run_terraform_init_or_vendor_a_remote_module_that_is_not_present() {
    let ws = temp();
    guardrails_with(&ws.path().join("gr"), &["aws-rds-encryption"]);
    write(ws.path(), "app/main.tf", REMOTE_MODULE_TF);
    for format in ["table", "json"] {
        let run = railyard(ws.path(), &["check", "app", "--guardrails", "gr", "--format", format]);
        // Unknown, never a pass: the module's resources were not evaluated.
        run.expect_code(2);
        let all = run.all();
        assert!(
            all.contains(&format!("({HINT}, or --exclude the path)")),
            "{format}: {all}"
        );
        assert!(!all.contains("install the renderer"), "{format}: {all}");
    }
}

#[test]
fn observe_says_to_run_terraform_init_or_vendor_a_remote_module_that_is_not_present() {
    let sb = Sandbox { dir: common::temp() };
    commit(
        &open_or_init(&sb.path("web")),
        "main",
        &[("main.tf", Some(REMOTE_MODULE_TF))],
        "web infra",
    );
    let registry = "[[workload]]\nname = \"web\"\nrepo = \"../web\"\nteam = \"web\"\n\n[team.web]\nowners = [\"bob@example.com\"]\n";
    let mut base = bundled("lib");
    base.push(("workloads.toml".into(), registry.into()));
    main_and_develop(
        &sb.repo("guardrails"),
        &base,
        &bundled("aws-rds-encryption"),
        "a candidate",
    );
    let out = command(
        sb.root(),
        &["observe", "--now", "2026-11-01", "--format", "json", "--details"],
    )
    .env("RAILYARD_TEST_TODAY", "2026-12-31")
    .env("RAILYARD_ACTOR", "sec-lead")
    .output()
    .unwrap();
    let all = text(&out);
    assert!(
        all.contains(&format!(
            "({HINT}, or list the path in the workload's `exclude` in workloads.toml)"
        )),
        "{all}"
    );
    assert!(!all.contains("install the renderer"), "{all}");
}
