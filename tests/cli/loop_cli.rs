//! The release loop through the CLI, on real git repositories in temporary folders:
//! observe, promotion, the ledger, exceptions, enforce, promote --force, report, check
//! against a guardrails repo, concurrent and killed runs, a remote guardrails repo.

use crate::common::sandbox::{
    bundled, check_web, command, ledger_json, log, main_and_develop, on_branch, text, two_workloads, Root, Sandbox,
};
use crate::common::{commit, COMPLIANT_TF, REGISTRY};
use git2::Repository;
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_railyard");

trait LoopSandbox {
    fn run(&self, args: &[&str]) -> Output;
}

impl LoopSandbox for Sandbox {
    /// Runs railyard with the sandbox's guardrails repo and cache.
    fn run(&self, args: &[&str]) -> Output {
        let mut cmd = command(self.dir.path(), args);
        cmd.env("RAILYARD_ACTOR", "sec-lead")
            // The machine's date for runs that write (debug builds): the stories run to 2026-12-31.
            .env("RAILYARD_TEST_TODAY", "2026-12-31");
        cmd.output().unwrap()
    }
}

/// A guardrails repo whose develop has two candidates, aws-ebs-volume-encryption (broken by
/// nobody) and aws-s3-versioning (broken by `web`), and two workload repos.
fn standard() -> Sandbox {
    let sb = Sandbox::empty();
    two_workloads(sb.dir.path(), ["payments infra", "web infra"]);
    let mut base: Vec<(String, String)> = bundled("lib");
    base.push(("workloads.toml".into(), REGISTRY.into()));
    let mut cands = bundled("aws-ebs-volume-encryption");
    cands.extend(bundled("aws-s3-versioning"));
    main_and_develop(&sb.repo("guardrails"), &base, &cands, "two candidates");
    sb
}

fn ledger(sb: &Sandbox) -> serde_json::Value {
    ledger_json(&sb.repo("guardrails"))
}

fn main_log(sb: &Sandbox) -> Vec<String> {
    log(&sb.repo("guardrails"), "main")
}

fn on_main(sb: &Sandbox, path: &str) -> bool {
    on_branch(&sb.repo("guardrails"), "main", path)
}

fn fsck(sb: &Sandbox) {
    let out = Command::new("git")
        .arg("-C")
        .arg(sb.path("guardrails"))
        .args(["fsck", "--strict"])
        .output()
        .unwrap();
    assert!(out.status.success(), "git fsck failed: {}", text(&out));
}

#[test]
fn observe_promotes_what_breaks_nobody_and_holds_the_rest_with_a_deadline() {
    let sb = standard();
    // `--details`: the summaries, then each finding (the default summarises).
    let out = sb.run(&["observe", "--now", "2026-11-01", "--details"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let t = text(&out);
    assert!(t.contains("held until 2026-12-01"), "{t}");
    assert!(t.contains("main.tf:1"), "what to fix must point at code: {t}");

    assert!(on_main(&sb, "guardrails/aws-ebs-volume-encryption/policy.rego"));
    assert!(!on_main(&sb, "guardrails/aws-s3-versioning"));
    let log = main_log(&sb);
    assert_eq!(log.len(), 2, "{log:?}");
    assert!(
        log[0].contains("activate guardrail aws-ebs-volume-encryption"),
        "{}",
        log[0]
    );
    assert!(log[0].contains("Develop-Commit: "), "{}", log[0]);
    assert!(log[0].contains("Workload: payments-api@"), "{}", log[0]);
    assert!(log[0].contains("Railyard-Now: 2026-11-01"), "{}", log[0]);

    // The promotion changed nothing on main but that folder.
    let g = sb.repo("guardrails");
    let head = g.find_reference("refs/heads/main").unwrap().peel_to_commit().unwrap();
    let diff = g
        .diff_tree_to_tree(
            Some(&head.parent(0).unwrap().tree().unwrap()),
            Some(&head.tree().unwrap()),
            None,
        )
        .unwrap();
    for d in diff.deltas() {
        let p = d.new_file().path().unwrap().to_string_lossy().to_string();
        assert!(
            p.starts_with("guardrails/aws-ebs-volume-encryption/"),
            "unexpected change on main: {p}"
        );
    }

    let l = ledger(&sb);
    let e = &l["entries"]["aws-s3-versioning/web"];
    assert_eq!(e["status"], "noncompliant");
    assert_eq!(e["first_seen"], "2026-11-01");
    assert_eq!(e["deadline"], "2026-12-01");
    assert_eq!(e["findings"][0]["resource"], "aws_s3_bucket.logs");
    assert_eq!(l["entries"]["aws-s3-versioning/payments-api"]["status"], "compliant");
    assert_eq!(l["guardrails"]["aws-ebs-volume-encryption"]["state"], "active");
    assert_eq!(l["guardrails"]["aws-s3-versioning"]["state"], "pending");
    fsck(&sb);

    // A second run on a later day keeps first_seen and the deadline, and promotes nothing new.
    let out = sb.run(&["observe", "--now", "2026-11-05"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let l = ledger(&sb);
    assert_eq!(l["entries"]["aws-s3-versioning/web"]["first_seen"], "2026-11-01");
    assert_eq!(l["clock"], "2026-11-05");
    assert_eq!(l["entries"]["aws-s3-versioning/web"]["status"], "noncompliant");
    assert_eq!(main_log(&sb).len(), 2);

    // The team fixes its code: the next observation promotes the held guardrail.
    let web = sb.repo("web");
    commit(&web, "main", &[("main.tf", Some(COMPLIANT_TF))], "enable versioning");
    let out = sb.run(&["observe", "--now", "2026-11-06"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        on_main(&sb, "guardrails/aws-s3-versioning/policy.rego"),
        "{}",
        text(&out)
    );
    let l = ledger(&sb);
    assert_eq!(l["entries"]["aws-s3-versioning/web"]["resolved"], "2026-11-06");
    assert_eq!(l["guardrails"]["aws-s3-versioning"]["activation"]["how"], "observed");
}

#[test]
fn dry_run_writes_nothing_and_the_clock_never_goes_back() {
    let sb = standard();
    let out = sb.run(&["observe", "--dry-run", "--now", "2026-11-01"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        text(&out).contains("would-promote") || text(&out).contains("wouldpromote"),
        "{}",
        text(&out)
    );
    let g = sb.repo("guardrails");
    assert!(
        g.find_reference("refs/heads/railyard/ledger").is_err(),
        "dry run wrote a ledger"
    );
    assert_eq!(main_log(&sb).len(), 1);

    assert_eq!(sb.run(&["observe", "--now", "2026-11-10"]).status.code(), Some(0));
    let out = sb.run(&["observe", "--now", "2026-11-09"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out).contains("before the ledger's clock 2026-11-10"),
        "{}",
        text(&out)
    );
    let out = sb.run(&["enforce", "--now", "2026-10-01"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
}

#[test]
fn an_unreachable_workload_is_unknown_and_blocks_promotion() {
    let sb = standard();
    let g = sb.repo("guardrails");
    let registry =
        format!("{REGISTRY}\n[[workload]]\nname = \"ghost\"\nrepo = \"../does-not-exist\"\nteam = \"web\"\n");
    commit(&g, "develop", &[("workloads.toml", Some(&registry))], "register ghost");
    let out = sb.run(&["observe", "--now", "2026-11-01"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let t = text(&out);
    assert!(t.contains("blocked"), "{t}");
    assert!(t.contains("ghost"), "{t}");
    assert!(
        !on_main(&sb, "guardrails/aws-ebs-volume-encryption"),
        "promoted despite an unknown workload"
    );
    let l = ledger(&sb);
    assert_eq!(l["entries"]["aws-ebs-volume-encryption/ghost"]["status"], "unknown");
    // The reachable workloads were still evaluated and recorded.
    assert_eq!(l["entries"]["aws-s3-versioning/web"]["status"], "noncompliant");
    assert_eq!(
        l["entries"]["aws-ebs-volume-encryption/payments-api"]["status"],
        "compliant"
    );
}

#[test]
fn a_policy_that_errors_is_never_compliant() {
    let sb = standard();
    let g = sb.repo("guardrails");
    let policy = "package railyard.divides\n\ndeny contains msg if {\n  some r in input.resources\n  n := count(r.address) / 0\n  msg := sprintf(\"%v\", [n])\n}\n";
    let meta = "title = \"Divides by zero\"\nseverity = \"low\"\nremediation = \"none\"\n";
    commit(
        &g,
        "develop",
        &[
            ("guardrails/divides/policy.rego", Some(policy)),
            ("guardrails/divides/guardrail.toml", Some(meta)),
        ],
        "a broken policy",
    );
    let out = sb.run(&["observe", "--now", "2026-11-01"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(!on_main(&sb, "guardrails/divides"), "a policy that errors was promoted");
    let l = ledger(&sb);
    assert_eq!(l["entries"]["divides/payments-api"]["status"], "unknown");
    assert!(l["entries"]["divides/payments-api"]["problems"][0]
        .as_str()
        .unwrap()
        .contains("policy error"));
    // The other candidates were unaffected.
    assert!(on_main(&sb, "guardrails/aws-ebs-volume-encryption/policy.rego"));
}

#[test]
fn exceptions_waive_findings_until_they_expire() {
    let sb = standard();
    let g = sb.repo("guardrails");
    let exc = "[[exception]]\nworkload = \"web\"\nresource = \"aws_s3_bucket.log*\"\nreason = \"Logs bucket is recreated in Q1\"\napproved_by = \"security@example.com\"\nticket = \"SEC-1\"\nexpires = 2026-11-20\n";
    commit(
        &g,
        "develop",
        &[("guardrails/aws-s3-versioning/exceptions.toml", Some(exc))],
        "approve exception",
    );
    let out = sb.run(&["observe", "--now", "2026-11-01"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        on_main(&sb, "guardrails/aws-s3-versioning/exceptions.toml"),
        "guardrail and exception promote together"
    );
    let l = ledger(&sb);
    assert_eq!(l["entries"]["aws-s3-versioning/web"]["status"], "excepted");
    assert_eq!(
        l["entries"]["aws-s3-versioning/web"]["excepted"][0]["exception_expires"],
        "2026-11-20"
    );

    // The application pipeline passes while the exception holds, and fails after.
    let check = |now: &str| {
        check_web(sb.root(), now)
            .arg("--cache-dir")
            .arg(sb.path("cache"))
            .output()
            .unwrap()
    };
    let ok = check("2026-11-15");
    assert_eq!(ok.status.code(), Some(0), "{}", text(&ok));
    let j: serde_json::Value = serde_json::from_slice(&ok.stdout).unwrap();
    assert_eq!(j["excepted"][0]["exception"]["approved_by"], "security@example.com");
    let expired = check("2026-11-21");
    assert_eq!(expired.status.code(), Some(1), "{}", text(&expired));
    let j: serde_json::Value = serde_json::from_slice(&expired.stdout).unwrap();
    assert_eq!(j["findings"][0]["exception"]["status"], "expired");

    // enforce reports the exception as expiring, then expired.
    let out = sb.run(&["enforce", "--now", "2026-11-10"]);
    assert!(text(&out).contains("expires 2026-11-20 (10 days)"), "{}", text(&out));
    let out = sb.run(&["enforce", "--now", "2026-11-21", "--format", "json"]);
    let j: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(j["exceptions"][0]["expired"], true, "{j}");
}

#[test]
fn enforce_activates_at_the_deadline_and_check_then_fails() {
    let sb = standard();
    assert_eq!(sb.run(&["observe", "--now", "2026-11-01"]).status.code(), Some(0));
    let out = sb.run(&["enforce", "--now", "2026-11-30"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        text(&out).contains("29 days left") || text(&out).contains("1 day left"),
        "{}",
        text(&out)
    );
    assert!(!on_main(&sb, "guardrails/aws-s3-versioning"));

    // Dry run on the deadline: the plan, nothing written.
    let out = sb.run(&["enforce", "--dry-run", "--now", "2026-12-01"]);
    assert!(
        text(&out).contains("would activate `aws-s3-versioning`"),
        "{}",
        text(&out)
    );
    assert!(!on_main(&sb, "guardrails/aws-s3-versioning"));

    // A pipeline before the deadline: a warning with the deadline, not a failure.
    let check = |now: &str| check_web(sb.root(), now).output().unwrap();
    let before = check("2026-11-30");
    assert_eq!(before.status.code(), Some(0), "{}", text(&before));
    let j: serde_json::Value = serde_json::from_slice(&before.stdout).unwrap();
    assert_eq!(j["warnings"][0]["guardrail"], "aws-s3-versioning");
    assert_eq!(j["warnings"][0]["deadline"], "2026-12-01");

    let out = sb.run(&["enforce", "--now", "2026-12-01"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("activated `aws-s3-versioning`"), "{}", text(&out));
    assert!(text(&out).contains("web (1 finding)"), "{}", text(&out));
    assert!(on_main(&sb, "guardrails/aws-s3-versioning/policy.rego"));
    let log = main_log(&sb);
    assert!(log[0].contains("deadline 2026-12-01 passed"), "{}", log[0]);
    assert!(log[0].contains("Workloads-Now-Failing: web"), "{}", log[0]);
    assert_eq!(
        ledger(&sb)["guardrails"]["aws-s3-versioning"]["activation"]["how"],
        "deadline"
    );

    let after = check("2026-12-01");
    assert_eq!(after.status.code(), Some(1), "{}", text(&after));
    let j: serde_json::Value = serde_json::from_slice(&after.stdout).unwrap();
    assert_eq!(j["findings"][0]["resource"], "aws_s3_bucket.logs");
    assert_eq!(j["findings"][0]["file"], "main.tf");
}

#[test]
fn promote_force_records_who_and_why() {
    let sb = standard();
    assert_eq!(sb.run(&["observe", "--now", "2026-11-01"]).status.code(), Some(0));
    let out = sb.run(&["promote", "aws-s3-versioning", "--now", "2026-11-02"]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "promote without --force must be refused: {}",
        text(&out)
    );
    let out = sb.run(&[
        "promote",
        "aws-s3-versioning",
        "--force",
        "--reason",
        "Ransomware advisory SEC-9",
        "--now",
        "2026-11-02",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let log = main_log(&sb);
    assert!(log[0].contains("(forced)"), "{}", log[0]);
    assert!(log[0].contains("Forced-By: sec-lead"), "{}", log[0]);
    assert!(log[0].contains("Reason: Ransomware advisory SEC-9"), "{}", log[0]);
    let l = ledger(&sb);
    assert_eq!(l["guardrails"]["aws-s3-versioning"]["activation"]["how"], "forced");
    assert_eq!(
        l["guardrails"]["aws-s3-versioning"]["activation"]["reason"],
        "Ransomware advisory SEC-9"
    );
    assert_eq!(l["entries"]["aws-s3-versioning/web"]["activated"], "2026-11-02");
}

#[test]
fn report_shows_exposure_per_workload_team_and_guardrail() {
    let sb = standard();
    assert_eq!(sb.run(&["observe", "--now", "2026-11-01"]).status.code(), Some(0));
    let out = sb.run(&["report", "--workload", "web", "--format", "json", "--now", "2026-11-11"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let j: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(j["exposure"][0]["guardrail"], "aws-s3-versioning");
    assert_eq!(j["exposure"][0]["state"], "pending");
    assert_eq!(j["exposure"][0]["deadline"], "2026-12-01");
    assert_eq!(j["exposure"][0]["days_left"], 20);
    assert_eq!(j["exposure"][0]["findings"][0]["file"], "main.tf");

    let out = sb.run(&["report", "--team", "payments", "--now", "2026-11-11"]);
    assert!(text(&out).contains("nothing: compliant"), "{}", text(&out));

    let out = sb.run(&["report", "--format", "json", "--now", "2026-11-11"]);
    let j: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let rows = j["guardrails"].as_array().unwrap();
    let versioning = rows.iter().find(|r| r["guardrail"] == "aws-s3-versioning").unwrap();
    assert_eq!(versioning["state"], "pending");
    assert_eq!(versioning["noncompliant"], 1);
    assert_eq!(versioning["compliant"], 1);
    assert_eq!(versioning["earliest_deadline"], "2026-12-01");
    let ebs = rows
        .iter()
        .find(|r| r["guardrail"] == "aws-ebs-volume-encryption")
        .unwrap();
    assert_eq!(ebs["state"], "active");

    let out = sb.run(&["report", "--format", "markdown", "--now", "2026-11-11"]);
    assert!(text(&out).contains("| `aws-s3-versioning` |"), "{}", text(&out));
    let out = sb.run(&["report", "--workload", "nobody"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn concurrent_observe_runs_lose_nothing() {
    let sb = standard();
    let spawn = || {
        command(sb.dir.path(), &["observe", "--now", "2026-11-01", "--format", "json"])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (a, b) = (spawn(), spawn());
    let (a, b) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
    assert_eq!(a.status.code(), Some(0), "{}", text(&a));
    assert_eq!(b.status.code(), Some(0), "{}", text(&b));
    let l = ledger(&sb);
    for key in [
        "aws-s3-versioning/web",
        "aws-s3-versioning/payments-api",
        "aws-ebs-volume-encryption/web",
    ] {
        assert!(l["entries"][key].is_object(), "lost {key}: {l}");
    }
    // Exactly one promotion commit, however the race went.
    let promotions = main_log(&sb)
        .iter()
        .filter(|m| m.contains("activate guardrail aws-ebs-volume-encryption"))
        .count();
    assert_eq!(promotions, 1);
    assert_eq!(l["guardrails"]["aws-ebs-volume-encryption"]["state"], "active");
    fsck(&sb);
}

#[test]
fn a_killed_run_leaves_consistent_state_and_the_next_run_completes_it() {
    let sb = standard();
    for delay_ms in [5u64, 30, 60, 120] {
        let mut child = command(sb.dir.path(), &["observe", "--now", "2026-11-01"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(delay_ms));
        let _ = child.kill(); // SIGKILL
        let _ = child.wait();
        fsck(&sb);
    }
    let out = sb.run(&["observe", "--now", "2026-11-01"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let l = ledger(&sb);
    assert_eq!(l["entries"]["aws-s3-versioning/web"]["status"], "noncompliant");
    assert_eq!(l["guardrails"]["aws-ebs-volume-encryption"]["state"], "active");
    assert!(on_main(&sb, "guardrails/aws-ebs-volume-encryption/policy.rego"));
    let promotions = main_log(&sb)
        .iter()
        .filter(|m| m.contains("activate guardrail aws-ebs-volume-encryption"))
        .count();
    assert_eq!(promotions, 1);
    fsck(&sb);
}

#[test]
fn a_remote_guardrails_repo_is_pushed_to() {
    let sb = standard();
    // Publish the guardrails repo as a bare remote and observe through its URL.
    let bare = sb.path("origin.git");
    let status = Command::new("git")
        .args(["clone", "-q", "--mirror"])
        .arg(sb.path("guardrails"))
        .arg(&bare)
        .status()
        .unwrap();
    assert!(status.success());
    // Workload paths in workloads.toml are relative; for a remote they resolve from the cwd.
    let url = format!("file://{}", bare.display());
    let out = Command::new(BIN)
        .current_dir(sb.path("guardrails"))
        .args(["observe", "--now", "2026-11-01", "--repo", &url])
        .arg("--cache-dir")
        .arg(sb.path("cache"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let origin = Repository::open_bare(&bare).unwrap();
    let main = origin
        .find_reference("refs/heads/main")
        .unwrap()
        .peel_to_commit()
        .unwrap();
    assert!(main
        .message()
        .unwrap()
        .contains("activate guardrail aws-ebs-volume-encryption"));
    assert!(
        origin.find_reference("refs/heads/railyard/ledger").is_ok(),
        "ledger was not pushed"
    );
}

#[test]
fn demo_walks_the_whole_loop() {
    let keep = tempfile::tempdir().unwrap();
    let dir = keep.path().join("sandbox");
    let out = Command::new(BIN)
        .args(["demo", "--now", "2026-11-01", "--keep"])
        .arg(&dir)
        .output()
        .unwrap();
    let t = text(&out);
    assert_eq!(out.status.code(), Some(0), "{t}");
    assert!(t.contains("held until 2026-12-01"), "{t}");
    assert!(t.contains("activated `aws-dynamodb-pitr` (deadline 2026-12-01)"), "{t}");
    assert!(t.contains("exit code 1: the pipeline fails"), "{t}");
    // One screen per step, each with the command a user would type: 80 lines in all.
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.lines().count() <= 80,
        "{} lines:\n{stdout}",
        stdout.lines().count()
    );
    for step in [
        "$ railyard observe",
        "$ railyard report --team web",
        "$ railyard enforce",
        "$ railyard check",
    ] {
        assert!(stdout.contains(step), "no `{step}` in:\n{stdout}");
    }
    // The kept sandbox is a real guardrails repo whose main tells the story.
    let g = Repository::open(dir.join("guardrails-repo")).unwrap();
    let main = g.find_reference("refs/heads/main").unwrap().peel_to_commit().unwrap();
    assert!(main
        .message()
        .unwrap()
        .contains("activate guardrail aws-dynamodb-pitr (deadline 2026-12-01 passed)"));
    assert!(g.find_reference("refs/heads/railyard/ledger").is_ok());
}
