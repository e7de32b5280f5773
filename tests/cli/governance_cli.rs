//! Governance through the CLI, on real git repositories: who may waive what is read from
//! `main` (`governance.toml`, `allowed_signers`), and an exception counts only when its
//! approver is listed, owns none of the workloads it covers, stays within scope, and signed
//! (SSH, made by the real `ssh-keygen -Y sign`) every commit behind its lines.

use crate::common;
use crate::common::sandbox::{
    bundled, check_web, command, ledger_json, main_and_develop, text, two_workloads, Root, Sandbox,
};
use crate::common::{build_tree, commit, REGISTRY, UNVERSIONED_TF};
use git2::{Oid, Signature};
use std::path::PathBuf;
use std::process::{Command, Output};

const EXC: &str = "guardrails/aws-s3-versioning/exceptions.toml";
const NOW: &str = "2026-11-01";

/// Who signs a commit, and how.
#[derive(Clone, Copy)]
enum Sign<'a> {
    No,
    /// A valid signature by this person's key.
    By(&'a str),
    /// This person's key signed other content than the commit holds.
    Tampered(&'a str),
}

trait GovernanceSandbox {
    fn key(&self, who: &str) -> (PathBuf, String);
    fn signer_line(&self, who: &str) -> String;
    fn run(&self, args: &[&str]) -> Output;
    fn check_web(&self) -> Output;
    fn check_web_on(&self, now: &str) -> Output;
    fn commit_signed(&self, branch: &str, changes: &[(&str, &str)], message: &str, sign: Sign) -> Oid;
    fn ssh_sign(&self, who: &str, content: &str) -> String;
    fn main_log(&self) -> Vec<String>;
    fn promoted_s3(&self) -> bool;
}

impl GovernanceSandbox for Sandbox {
    /// A fresh ed25519 key of `who` (made once), and its public line.
    fn key(&self, who: &str) -> (PathBuf, String) {
        let path = self.path(&format!("keys/{who}"));
        if !path.exists() {
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            // Ed25519 keys, and an RSA one for whoever's name ends in `rsa`.
            let kind: &[&str] = if who.ends_with("rsa") {
                &["-t", "rsa", "-b", "2048"]
            } else {
                &["-t", "ed25519"]
            };
            let st = Command::new("ssh-keygen")
                .arg("-q")
                .args(kind)
                .args(["-N", "", "-C", who, "-f"])
                .arg(&path)
                .status()
                .expect("ssh-keygen is required (openssh-client)");
            assert!(st.success());
        }
        let public = std::fs::read_to_string(path.with_extension("pub")).unwrap();
        (path, public.split_whitespace().take(2).collect::<Vec<_>>().join(" "))
    }

    /// An allowed signers line: `who`'s email and key.
    fn signer_line(&self, who: &str) -> String {
        format!("{who}@example.com {}\n", self.key(who).1)
    }

    fn run(&self, args: &[&str]) -> Output {
        command(self.dir.path(), args)
            .env("RAILYARD_ACTOR", "sec-lead")
            .output()
            .unwrap()
    }

    /// `check` of a checkout of `web` against the guardrails repo (main active).
    fn check_web(&self) -> Output {
        self.check_web_on(NOW)
    }

    fn check_web_on(&self, now: &str) -> Output {
        check_web(self.root(), now)
            .arg("--cache-dir")
            .arg(self.path("cache"))
            .output()
            .unwrap()
    }

    /// Commits `changes` on `branch`, signed as `sign` says (with the real `ssh-keygen`).
    fn commit_signed(&self, branch: &str, changes: &[(&str, &str)], message: &str, sign: Sign) -> Oid {
        let repo = self.repo("guardrails");
        let refname = format!("refs/heads/{branch}");
        let parent = repo.find_reference(&refname).unwrap().peel_to_commit().unwrap();
        let mut files = common::tree_files(&parent);
        for (path, text) in changes {
            files.insert(path.to_string(), repo.blob(text.as_bytes()).unwrap());
        }
        let tree = repo.find_tree(build_tree(&repo, &files, "")).unwrap();
        let sig = Signature::now("Approver", "approver@example.com").unwrap();
        let buffer = |msg: &str| {
            let b = repo.commit_create_buffer(&sig, &sig, msg, &tree, &[&parent]).unwrap();
            String::from_utf8(b.to_vec()).unwrap()
        };
        let content = buffer(message);
        let oid = match sign {
            Sign::No => repo.commit(None, &sig, &sig, message, &tree, &[&parent]).unwrap(),
            Sign::By(who) => repo
                .commit_signed(&content, &self.ssh_sign(who, &content), None)
                .unwrap(),
            Sign::Tampered(who) => {
                let other = buffer(&format!("{message} (as first written)"));
                repo.commit_signed(&content, &self.ssh_sign(who, &other), None).unwrap()
            }
        };
        repo.reference(&refname, oid, true, message).unwrap();
        oid
    }

    /// `ssh-keygen -Y sign -n git` over `content`, as git does with `gpg.format=ssh`.
    fn ssh_sign(&self, who: &str, content: &str) -> String {
        let (key, _) = self.key(who);
        let file = self.path("to-sign");
        std::fs::write(&file, content).unwrap();
        let _ = std::fs::remove_file(file.with_extension("sig"));
        let st = Command::new("ssh-keygen")
            .args(["-q", "-Y", "sign", "-n", "git", "-f"])
            .arg(&key)
            .arg(&file)
            .status()
            .unwrap();
        assert!(st.success());
        std::fs::read_to_string(file.with_extension("sig")).unwrap()
    }

    fn main_log(&self) -> Vec<String> {
        let g = self.repo("guardrails");
        let mut walk = g.revwalk().unwrap();
        walk.push_ref("refs/heads/main").unwrap();
        walk.map(|oid| g.find_commit(oid.unwrap()).unwrap().message().unwrap().to_string())
            .collect()
    }

    fn promoted_s3(&self) -> bool {
        self.main_log()
            .iter()
            .any(|m| m.contains("activate guardrail aws-s3-versioning"))
    }
}

/// `approvers` may approve; `ciso` may approve wildcard scopes; `bob` owns team web.
const GOVERNANCE: &str = r#"approvers = ["security@example.com", "bob@example.com", "eve@example.com", "opsrsa@example.com"]
scope_approvers = ["ciso@example.com"]
"#;

/// Two workloads (web breaks aws-s3-versioning), governance and allowed signers on `main`
/// (none when `governance` is `None`), two candidates on `develop`.
fn sandbox(governance: Option<&str>) -> Sandbox {
    let sb = Sandbox::empty();
    two_workloads(sb.dir.path(), ["payments infra", "web infra"]);
    let g = sb.repo("guardrails");
    let mut base = bundled("lib");
    base.push(("workloads.toml".into(), REGISTRY.into()));
    if let Some(gov) = governance {
        base.push(("governance.toml".into(), gov.into()));
        let signers: String = ["security", "bob", "eve", "ciso", "opsrsa"]
            .iter()
            .map(|w| sb.signer_line(w))
            .collect();
        base.push(("allowed_signers".into(), signers));
    }
    let mut cands = bundled("aws-ebs-volume-encryption");
    cands.extend(bundled("aws-s3-versioning"));
    main_and_develop(&g, &base, &cands, "two candidates");
    sb
}

fn exception(workload: &str, resource: &str, approver: &str, expires: &str) -> String {
    format!(
        "[[exception]]\nworkload = \"{workload}\"\nresource = \"{resource}\"\nreason = \"Logs bucket is recreated in Q1\"\napproved_by = \"{approver}\"\nticket = \"SEC-1\"\nexpires = {expires}\n"
    )
}

fn web_exception(approver: &str) -> String {
    exception("web", "aws_s3_bucket.logs", approver, "2026-12-15")
}

fn json(o: &Output) -> serde_json::Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {}", text(o)))
}

/// The reasons `report --format json` gives for unverified exceptions.
fn unverified_reasons(sb: &Sandbox) -> Vec<String> {
    let out = sb.run(&["report", "--now", NOW, "--format", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    json(&out)["unverified_exceptions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["reason"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn a_wildcard_exception_approved_by_the_teams_own_owner_for_fifty_years_waives_nothing() {
    let sb = sandbox(Some(GOVERNANCE));
    let wildcard = exception("*", "*", "bob@example.com", "2076-11-01");
    sb.commit_signed("develop", &[(EXC, &wildcard)], "waive everything", Sign::By("bob"));
    let out = sb.run(&["observe", "--now", NOW, "--format", "json"]);
    assert!(text(&out).contains("no self-approval"), "{}", text(&out));
    assert!(
        !sb.promoted_s3(),
        "a self-approved wildcard must not promote: {}",
        text(&out)
    );
    let report = sb.run(&["report", "--workload", "web", "--now", NOW, "--format", "json"]);
    let j = json(&report);
    assert_eq!(j["exposure"][0]["status"], "noncompliant", "{j}");
    assert_eq!(j["unverified_exceptions"][0]["line"], 1, "{j}");

    // Approved by a listed approver who owns nothing: still a wildcard scope.
    let wildcard = exception("*", "*", "security@example.com", "2076-11-01");
    sb.commit_signed("develop", &[(EXC, &wildcard)], "waive everything", Sign::By("security"));
    let out = sb.run(&["observe", "--now", NOW]);
    assert!(text(&out).contains("wildcard scope"), "{}", text(&out));
    assert!(!sb.promoted_s3(), "{}", text(&out));

    // A maximum lifetime on main refuses the 50-year expiry outright (exit 2).
    commit(
        &sb.repo("guardrails"),
        "main",
        &[(
            "governance.toml",
            Some(&format!("{GOVERNANCE}max_lifetime_days = 90\n")),
        )],
        "limit exceptions",
    );
    let out = sb.run(&["observe", "--now", NOW]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("max_lifetime_days"), "{}", text(&out));
    assert!(!sb.promoted_s3(), "{}", text(&out));
}

#[test]
fn an_approver_not_listed_on_main_is_unverified_and_report_lists_it_in_every_format() {
    let sb = sandbox(Some(GOVERNANCE));
    sb.commit_signed(
        "develop",
        &[(EXC, &web_exception("mallory@example.com"))],
        "waiver",
        Sign::By("mallory"),
    );
    let reasons = unverified_reasons(&sb);
    assert_eq!(reasons.len(), 1, "{reasons:?}");
    assert!(
        reasons[0].contains("`mallory@example.com` is not an approver in governance.toml on main"),
        "{reasons:?}"
    );
    for format in ["table", "markdown"] {
        let out = sb.run(&["report", "--now", NOW, "--format", format]);
        let t = text(&out);
        assert!(t.contains("Unverified exceptions"), "{format}: {t}");
        assert!(
            t.contains("guardrails/aws-s3-versioning/exceptions.toml:1"),
            "{format}: {t}"
        );
    }
    let out = sb.run(&["observe", "--now", NOW]);
    assert!(!sb.promoted_s3(), "{}", text(&out));
}

#[test]
fn governance_changed_on_develop_has_no_effect_until_it_is_on_main() {
    let sb = sandbox(Some(GOVERNANCE));
    let widened = GOVERNANCE.replace("\"eve@example.com\"", "\"eve@example.com\", \"mallory@example.com\"");
    let mut signers: String = ["security", "bob", "eve", "ciso", "opsrsa"]
        .iter()
        .map(|w| sb.signer_line(w))
        .collect();
    signers.push_str(&sb.signer_line("mallory"));
    // On develop: mallory added as approver and signer, and a 1-day lifetime limit that
    // would refuse every undated exception if develop's registry counted.
    let registry = REGISTRY.replace(
        "[defaults]\ngrace_days = 30\n",
        "[defaults]\ngrace_days = 30\n\n[exceptions]\nmax_lifetime_days = 1\n",
    );
    sb.commit_signed(
        "develop",
        &[
            ("governance.toml", &widened),
            ("allowed_signers", &signers),
            ("workloads.toml", &registry),
        ],
        "let mallory approve",
        Sign::No,
    );
    sb.commit_signed(
        "develop",
        &[(EXC, &web_exception("mallory@example.com"))],
        "waiver",
        Sign::By("mallory"),
    );
    let out = sb.run(&["observe", "--now", NOW]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "develop's [exceptions] must not apply: {}",
        text(&out)
    );
    assert!(text(&out).contains("not an approver"), "{}", text(&out));
    assert!(text(&out).contains("only `main`'s applies"), "{}", text(&out));
    assert!(!sb.promoted_s3(), "{}", text(&out));
    let check = sb.check_web();
    assert_eq!(check.status.code(), Some(0), "s3 not active yet: {}", text(&check));

    // The same change reviewed onto main: now it counts.
    commit(
        &sb.repo("guardrails"),
        "main",
        &[("governance.toml", Some(&widened)), ("allowed_signers", Some(&signers))],
        "let mallory approve (reviewed)",
    );
    let out = sb.run(&["observe", "--now", NOW]);
    assert!(sb.promoted_s3(), "{}", text(&out));
    assert!(unverified_reasons(&sb).is_empty());
}

#[test]
fn unsigned_wrongly_signed_or_otherwise_signed_exception_commits_are_unverified() {
    let cases: [(&str, Sign, &str); 4] = [
        ("unsigned", Sign::No, "is not signed"),
        ("tampered", Sign::Tampered("security"), "does not verify"),
        (
            "signed by another approver",
            Sign::By("eve"),
            "is signed by `eve@example.com`",
        ),
        ("key not allowed", Sign::By("mallory"), "does not list"),
    ];
    for (name, sign, want) in cases {
        let sb = sandbox(Some(GOVERNANCE));
        sb.commit_signed(
            "develop",
            &[(EXC, &web_exception("security@example.com"))],
            "waiver",
            sign,
        );
        let reasons = unverified_reasons(&sb);
        assert_eq!(reasons.len(), 1, "{name}: {reasons:?}");
        assert!(reasons[0].contains(want), "{name}: {reasons:?}");
    }

    // Signed when introduced, then one line changed in an unsigned commit: unverified.
    let sb = sandbox(Some(GOVERNANCE));
    let x = web_exception("security@example.com");
    sb.commit_signed("develop", &[(EXC, &x)], "waiver", Sign::By("security"));
    assert!(unverified_reasons(&sb).is_empty());
    let later = x.replace("2026-12-15", "2027-01-15");
    sb.commit_signed("develop", &[(EXC, &later)], "extend quietly", Sign::No);
    let reasons = unverified_reasons(&sb);
    assert!(
        reasons.len() == 1 && reasons[0].contains("is not signed"),
        "{reasons:?}"
    );
    let out = sb.run(&["observe", "--now", NOW]);
    assert!(!sb.promoted_s3(), "{}", text(&out));
}

#[test]
fn a_validly_signed_exception_is_honoured_by_observe_and_check() {
    let sb = sandbox(Some(GOVERNANCE));
    let oid = sb.commit_signed(
        "develop",
        &[(EXC, &web_exception("security@example.com"))],
        "waiver",
        Sign::By("security"),
    );
    // git itself (the reference) accepts the signature against the same allowed signers.
    std::fs::write(sb.path("signers"), sb.signer_line("security")).unwrap();
    let verify = Command::new("git")
        .arg("-C")
        .arg(sb.path("guardrails"))
        .arg("-c")
        .arg(format!("gpg.ssh.allowedSignersFile={}", sb.path("signers").display()))
        .args(["verify-commit", &oid.to_string()])
        .output()
        .unwrap();
    assert!(verify.status.success(), "{}", text(&verify));

    let out = sb.run(&["observe", "--now", NOW]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(sb.promoted_s3(), "{}", text(&out));
    assert!(unverified_reasons(&sb).is_empty());
    // `check` reads the active exception from main (a Railyard promotion commit, unsigned)
    // and finds its signed origin on develop.
    let check = sb.check_web();
    assert_eq!(check.status.code(), Some(0), "{}", text(&check));
    let j = json(&check);
    assert_eq!(j["excepted"][0]["exception"]["approval"], "verified", "{j}");
}

#[test]
fn without_governance_on_main_exceptions_are_honoured_with_a_warning() {
    let sb = sandbox(None);
    commit(
        &sb.repo("guardrails"),
        "develop",
        &[(EXC, Some(&web_exception("security@example.com")))],
        "waiver",
    );
    let out = sb.run(&["observe", "--now", NOW]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(sb.promoted_s3(), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("without a verified approval"),
        "{}",
        text(&out)
    );
    let j = json(&sb.check_web());
    assert_eq!(j["excepted"][0]["exception"]["approval"], "ungoverned", "{j}");
}

fn ledger_entry(sb: &Sandbox, key: &str) -> serde_json::Value {
    ledger_json(&sb.repo("guardrails"))["entries"][key].clone()
}

/// The issue's reproducer: an exception expired on 12-20; on 12-31 `enforce` counts the
/// excepted workload as failing, `report` no longer counts it as excepted, and the deadline
/// recorded as 12-30 stays 12-30 after later runs.
#[test]
fn an_expired_exception_counts_again_in_enforce_report_and_check_and_no_deadline_moves() {
    let sb = sandbox(None);
    // payments breaks the guardrail too, without an exception.
    commit(
        &sb.repo("payments"),
        "main",
        &[("infra/main.tf", Some(UNVERSIONED_TF))],
        "logs bucket",
    );
    commit(
        &sb.repo("guardrails"),
        "develop",
        &[(
            EXC,
            Some(&exception(
                "web",
                "aws_s3_bucket.logs",
                "security@example.com",
                "2025-12-20",
            )),
        )],
        "waiver",
    );
    let out = sb.run(&["observe", "--now", "2025-11-30"]);
    assert!(!sb.promoted_s3(), "{}", text(&out));
    assert_eq!(ledger_entry(&sb, "aws-s3-versioning/web")["status"], "excepted");
    assert_eq!(
        ledger_entry(&sb, "aws-s3-versioning/payments-api")["deadline"],
        "2025-12-30"
    );

    let out = sb.run(&["enforce", "--now", "2025-12-31", "--format", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let j = json(&out);
    let activated = &j["activated"][0];
    assert_eq!(activated["guardrail"], "aws-s3-versioning", "{j}");
    let failing = activated["now_failing"].to_string();
    assert!(
        failing.contains("web (1 finding)") && failing.contains("payments-api (1 finding)"),
        "{j}"
    );
    assert!(
        j["exceptions"].as_array().unwrap().iter().any(|x| x["expired"] == true),
        "{j}"
    );

    let out = sb.run(&["report", "--now", "2025-12-31", "--format", "json"]);
    let j = json(&out);
    let g = j["guardrails"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["guardrail"] == "aws-s3-versioning")
        .unwrap()
        .clone();
    assert_eq!(
        (g["excepted"].as_u64(), g["noncompliant"].as_u64()),
        (Some(0), Some(2)),
        "{j}"
    );
    let out = sb.run(&["report", "--workload", "web", "--now", "2025-12-31", "--format", "json"]);
    let j = json(&out);
    assert_eq!(j["exposure"][0]["status"], "noncompliant", "{j}");
    assert_eq!(j["exposure"][0]["findings"].as_array().unwrap().len(), 1, "{j}");
    // On its last day, the same ledger reads as excepted: a point in time, not a state.
    let out = sb.run(&["report", "--workload", "web", "--now", "2025-12-20", "--format", "json"]);
    let j = json(&out);
    assert_eq!(j["exposure"][0]["status"], "excepted", "{j}");
    assert_eq!(j["exposure"][0]["excepted"].as_array().unwrap().len(), 1, "{j}");

    // `check` agrees on the same day (before any later run moves the ledger's clock, which
    // a `check --now` may not go behind).
    let check = sb.check_web_on("2025-12-31");
    assert_eq!(check.status.code(), Some(1), "{}", text(&check));

    // Later runs record what they see, but the recorded deadline stays.
    let out = sb.run(&["observe", "--now", "2026-01-05"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(
        ledger_entry(&sb, "aws-s3-versioning/payments-api")["deadline"],
        "2025-12-30"
    );
    assert_eq!(ledger_entry(&sb, "aws-s3-versioning/web")["status"], "noncompliant");
}

#[test]
fn a_malformed_governance_file_or_allowed_signers_on_main_stops_the_run_naming_file_and_line() {
    let sb = sandbox(Some(GOVERNANCE));
    let g = sb.repo("guardrails");
    commit(&g, "main", &[("governance.toml", Some("aprovers = []\n"))], "typo");
    let out = sb.run(&["observe", "--now", NOW]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("main:governance.toml:1"), "{}", text(&out));
    assert!(text(&out).contains("aprovers"), "{}", text(&out));

    let signers = format!("{}not-a-key-line\n", sb.signer_line("security"));
    commit(
        &g,
        "main",
        &[
            ("governance.toml", Some(GOVERNANCE)),
            ("allowed_signers", Some(&signers)),
        ],
        "bad signers",
    );
    let out = sb.run(&["report", "--now", NOW]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("main:allowed_signers:2"), "{}", text(&out));
    assert!(!text(&out).contains("panicked"), "{}", text(&out));
}

#[test]
fn an_rsa_signature_by_the_approver_verifies_too() {
    let sb = sandbox(Some(GOVERNANCE));
    sb.commit_signed(
        "develop",
        &[(EXC, &web_exception("opsrsa@example.com"))],
        "waiver",
        Sign::By("opsrsa"),
    );
    let reasons = unverified_reasons(&sb);
    assert!(reasons.is_empty(), "{reasons:?}");
    let out = sb.run(&["observe", "--now", NOW]);
    assert!(sb.promoted_s3(), "{}", text(&out));
}
