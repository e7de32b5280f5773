//! Governance of the ledger, through the real binary on real git repositories: with
//! `RAILYARD_LEDGER_KEY` every ledger commit is sealed, and a hand edit (deadline moved,
//! entry deleted, clock set back), a deleted or reset ledger branch, and an edited result
//! cache are caught; `ledger verify` and `ledger accept`; a trusted clock (no `--now` in the
//! future for runs that write, hints that say what to do); the audit trail of forced
//! promotions (actor from CI or git, one-line reasons, no trailer injection); bounded
//! findings; and a local guardrails repo whose checked-out `main` is moved.

use crate::common;
use crate::common::sandbox::{bundled, command, ledger_text, main_and_develop, two_workloads, Root, Sandbox};
use crate::common::{REGISTRY, UNVERSIONED_TF};
use std::process::{Command, Output};

const KEY: &str = "test-ledger-key-0123456789";
/// The machine's date in these tests (debug builds take it from `RAILYARD_TEST_TODAY`).
const TODAY: &str = "2026-11-30";

struct Out {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Out {
    fn all(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }
    fn expect(&self, code: i32) -> &Self {
        assert_eq!(self.code, code, "stdout:\n{}\nstderr:\n{}", self.stdout, self.stderr);
        self
    }
}

trait SealSandbox {
    fn standard() -> Sandbox;
    fn with(ids: &[&str], extra: &[(&str, &str)]) -> Sandbox;
    fn command(&self, args: &[&str], env: &[(&str, &str)]) -> Command;
    fn run(&self, args: &[&str]) -> Out;
    fn run_env(&self, args: &[&str], env: &[(&str, &str)]) -> Out;
    fn tip(&self, branch: &str) -> Option<String>;
    fn message(&self, commit: &str) -> String;
    fn ledger_text(&self) -> String;
    fn reset_ledger(&self, oid: &str);
    fn hand_edit(&self, message: &str, edit: impl FnOnce(&mut serde_json::Value)) -> String;
    fn git(&self, args: &[&str]) -> String;
}

impl SealSandbox for Sandbox {
    /// develop: aws-ebs-volume-encryption (breaks nobody) and aws-s3-versioning (broken by
    /// `web`); main: only `lib` and the registry.
    fn standard() -> Sandbox {
        Sandbox::with(&["aws-ebs-volume-encryption", "aws-s3-versioning"], &[])
    }

    fn with(ids: &[&str], extra: &[(&str, &str)]) -> Sandbox {
        let sb = Sandbox { dir: common::temp() };
        two_workloads(sb.dir.path(), ["p", "w"]);
        let g = sb.repo("guardrails");
        let mut base = bundled("lib");
        base.push(("workloads.toml".into(), REGISTRY.into()));
        let mut cands: Vec<(String, String)> = ids.iter().flat_map(|id| bundled(id)).collect();
        cands.extend(extra.iter().map(|(p, c)| (p.to_string(), c.to_string())));
        main_and_develop(&g, &base, &cands, "candidates");
        sb
    }

    fn command(&self, args: &[&str], env: &[(&str, &str)]) -> Command {
        let mut cmd = command(self.dir.path(), args);
        cmd.env_remove("RAILYARD_GIT_TOKEN")
            .env_remove(common_key())
            .env_remove("GITHUB_ACTOR")
            .env_remove("GITLAB_USER_LOGIN")
            .env("RAILYARD_ACTOR", "sec-lead")
            .env("RAILYARD_TEST_TODAY", TODAY)
            .env("RAILYARD_NOTIFY_TIMEOUT_MS", "500")
            .env("NO_COLOR", "1");
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd
    }

    /// Runs with the ledger key set.
    fn run(&self, args: &[&str]) -> Out {
        self.run_env(args, &[("RAILYARD_LEDGER_KEY", KEY)])
    }

    fn run_env(&self, args: &[&str], env: &[(&str, &str)]) -> Out {
        let o: Output = self.command(args, env).output().unwrap();
        let out = Out {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        };
        assert!(!out.all().contains("panicked"), "railyard panicked: {}", out.all());
        out
    }

    fn tip(&self, branch: &str) -> Option<String> {
        self.repo("guardrails")
            .find_reference(&format!("refs/heads/{branch}"))
            .ok()
            .and_then(|r| r.target())
            .map(|o| o.to_string())
    }

    fn message(&self, commit: &str) -> String {
        let g = self.repo("guardrails");
        let c = g.find_commit(git2::Oid::from_str(commit).unwrap()).unwrap();
        c.message().unwrap().to_string()
    }

    fn ledger_text(&self) -> String {
        ledger_text(&self.repo("guardrails"))
    }

    /// Points the ledger branch back at `oid` (undoing a hand edit).
    fn reset_ledger(&self, oid: &str) {
        self.repo("guardrails")
            .reference(
                "refs/heads/railyard/ledger",
                git2::Oid::from_str(oid).unwrap(),
                true,
                "undo",
            )
            .unwrap();
    }

    /// A hand commit on the ledger branch with `edit` applied to the ledger's JSON.
    fn hand_edit(&self, message: &str, edit: impl FnOnce(&mut serde_json::Value)) -> String {
        let mut l: serde_json::Value = serde_json::from_str(&self.ledger_text()).unwrap();
        edit(&mut l);
        crate::common::sandbox::commit_ledger(&self.repo("guardrails"), &l, message).to_string()
    }

    fn git(&self, args: &[&str]) -> String {
        let o = Command::new("git")
            .arg("-C")
            .arg(self.path("guardrails"))
            .args(args)
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        String::from_utf8_lossy(&o.stdout).into_owned()
    }
}

fn common_key() -> &'static str {
    "RAILYARD_LEDGER_KEY"
}

// ---------------------------------------------------------------------------------------
// Seals
// ---------------------------------------------------------------------------------------

#[test]
fn every_ledger_commit_is_sealed_and_promotions_name_their_ledger_commit() {
    let sb = Sandbox::standard();
    sb.run(&["observe", "--now", "2026-11-01"]).expect(0);
    let tip = sb.tip("railyard/ledger").unwrap();
    let msg = sb.message(&tip);
    assert!(msg.lines().last().unwrap().starts_with("Railyard-Seal: "), "{msg}");
    let main = sb.message(&sb.tip("main").unwrap());
    assert!(main.contains("activate guardrail aws-ebs-volume-encryption"), "{main}");
    let referenced = main
        .lines()
        .find_map(|l| l.strip_prefix("Railyard-Ledger: "))
        .expect("promotion names its ledger commit");
    let g = sb.repo("guardrails");
    let (t, r) = (
        git2::Oid::from_str(&tip).unwrap(),
        git2::Oid::from_str(referenced).unwrap(),
    );
    assert!(t == r || g.graph_descendant_of(t, r).unwrap());
    let v = sb.run(&["ledger", "verify"]);
    v.expect(0);
    assert!(v.stdout.contains("the ledger verifies"), "{}", v.stdout);
    // Nothing leaks the key.
    assert!(!v.all().contains(KEY) && !sb.ledger_text().contains(KEY) && !msg.contains(KEY));
}

#[test]
fn a_deadline_moved_by_hand_stops_every_run_until_accepted() {
    let sb = Sandbox::standard();
    sb.run(&["observe", "--now", "2026-11-01"]).expect(0);
    let hand = sb.hand_edit("push the deadline out", |l| {
        l["entries"]["aws-s3-versioning/web"]["deadline"] = "2099-01-01".into();
    });
    for args in [
        vec!["observe", "--now", "2026-11-02"],
        vec!["enforce", "--now", "2026-11-02"],
        vec!["report"],
    ] {
        let out = sb.run(&args);
        out.expect(2);
        assert!(
            out.stderr.contains(&hand) && out.stderr.contains("not sealed"),
            "{args:?}: {}",
            out.stderr
        );
        assert!(out.stderr.contains("railyard ledger accept"), "{}", out.stderr);
    }
    assert_eq!(sb.tip("railyard/ledger").unwrap(), hand, "nothing was written");
    let v = sb.run(&["ledger", "verify"]);
    v.expect(2);
    assert!(v.all().contains(&hand) && v.stdout.contains("UNSEALED"), "{}", v.all());

    // A reviewed edit is accepted, with who and why; the chain verifies again.
    let a = sb.run_env(
        &[
            "ledger",
            "accept",
            "--reason",
            "agreed with payments\nApproved-By: board",
        ],
        &[("RAILYARD_LEDGER_KEY", KEY), ("GITHUB_ACTOR", "octocat")],
    );
    a.expect(0);
    let msg = sb.message(&sb.tip("railyard/ledger").unwrap());
    assert!(
        msg.contains("Accepted-By: sec-lead") && msg.contains(&format!("Accepted-Commits: {hand}")),
        "{msg}"
    );
    assert!(!msg.lines().any(|l| l.starts_with("Approved-By")), "{msg}");
    let v = sb.run(&["ledger", "verify"]);
    v.expect(0);
    assert!(v.stdout.contains("accepted in"), "{}", v.stdout);
    sb.run(&["observe", "--now", "2026-11-02"]).expect(0);
}

#[test]
fn a_deleted_entry_a_clock_set_back_and_a_copied_seal_are_caught() {
    let sb = Sandbox::standard();
    sb.run(&["observe", "--now", "2026-11-05"]).expect(0);
    let sealed = sb.tip("railyard/ledger").unwrap();

    let hand = sb.hand_edit("forget web", |l| {
        l["entries"].as_object_mut().unwrap().remove("aws-s3-versioning/web");
    });
    let out = sb.run(&["observe", "--now", "2026-11-06"]);
    out.expect(2);
    assert!(out.stderr.contains(&hand), "{}", out.stderr);
    sb.reset_ledger(&sealed);

    let hand = sb.hand_edit("clock back", |l| l["clock"] = "2026-10-01".into());
    let out = sb.run(&["observe", "--now", "2026-10-02"]);
    out.expect(2);
    assert!(out.stderr.contains(&hand), "{}", out.stderr);
    sb.reset_ledger(&sealed);

    // A hand commit that copies the last seal line does not verify either.
    let seal_line = sb
        .message(&sealed)
        .lines()
        .find(|l| l.starts_with("Railyard-Seal: "))
        .unwrap()
        .to_string();
    let hand = sb.hand_edit(&format!("copy\n\n{seal_line}\n"), |l| {
        l["entries"]["aws-s3-versioning/web"]["deadline"] = "2099-01-01".into();
    });
    let out = sb.run(&["observe", "--now", "2026-11-06"]);
    out.expect(2);
    assert!(
        out.stderr.contains(&hand) && out.stderr.contains("seal does not verify"),
        "{}",
        out.stderr
    );
}

/// Two observations, then aws-s3-versioning promoted by force so main references the newest
/// ledger commit; returns the sandbox and the ledger tip after the first observation.
fn observed_twice_then_forced() -> (Sandbox, String) {
    let sb = Sandbox::standard();
    sb.run(&["observe", "--now", "2026-11-01"]).expect(0);
    let first = sb.tip("railyard/ledger").unwrap();
    sb.run(&["observe", "--now", "2026-11-02"]).expect(0);
    sb.run(&[
        "promote",
        "aws-s3-versioning",
        "--force",
        "--reason",
        "critical",
        "--now",
        "2026-11-02",
    ])
    .expect(0);
    (sb, first)
}

#[test]
fn a_deleted_or_reset_ledger_branch_is_caught_when_main_references_it() {
    let (sb, first) = observed_twice_then_forced();
    let main = sb.tip("main").unwrap();
    let referenced = sb
        .message(&main)
        .lines()
        .find_map(|l| l.strip_prefix("Railyard-Ledger: ").map(str::to_string))
        .unwrap();
    assert_ne!(referenced, first);

    // Reset to an older (sealed) commit: not a descendant of what main was decided on.
    let g = sb.repo("guardrails");
    let head = sb.tip("railyard/ledger").unwrap();
    g.reference(
        "refs/heads/railyard/ledger",
        git2::Oid::from_str(&first).unwrap(),
        true,
        "reset",
    )
    .unwrap();
    let out = sb.run(&["observe", "--now", "2026-11-03"]);
    out.expect(2);
    assert!(
        out.stderr.contains("does not descend") && out.stderr.contains(&referenced),
        "{}",
        out.stderr
    );

    // Deleted: every run stops, naming main's commit and the ledger commit.
    g.find_reference("refs/heads/railyard/ledger")
        .unwrap()
        .delete()
        .unwrap();
    let out = sb.run(&["enforce", "--now", "2026-11-03"]);
    out.expect(2);
    assert!(
        out.stderr.contains("is missing") && out.stderr.contains(&main) && out.stderr.contains(&referenced),
        "{}",
        out.stderr
    );
    assert!(sb.tip("railyard/ledger").is_none(), "nothing was recreated");
    // Restored, runs go on.
    g.reference(
        "refs/heads/railyard/ledger",
        git2::Oid::from_str(&head).unwrap(),
        true,
        "restore",
    )
    .unwrap();
    sb.run(&["observe", "--now", "2026-11-03"]).expect(0);
}

#[test]
fn without_the_key_runs_warn_once_that_the_ledger_is_not_tamper_evident() {
    let sb = Sandbox::standard();
    let out = sb.run_env(&["observe", "--now", "2026-11-01"], &[]);
    out.expect(0);
    assert_eq!(out.stderr.matches("not tamper-evident").count(), 1, "{}", out.stderr);
    let out = sb.run(&["observe", "--now", "2026-11-02"]);
    out.expect(0);
    assert!(!out.stderr.contains("not tamper-evident"), "{}", out.stderr);
    assert!(out.stderr.contains("sealing starts"), "{}", out.stderr);
    // From then on, an unsealed hand edit is caught.
    let hand = sb.hand_edit("edit", |l| l["clock"] = "2026-10-01".into());
    let out = sb.run(&["observe", "--now", "2026-11-03"]);
    out.expect(2);
    assert!(out.stderr.contains(&hand), "{}", out.stderr);
    // `ledger verify` needs the key.
    sb.run_env(&["ledger", "verify"], &[]).expect(2);
}

#[test]
fn emptied_cached_findings_are_recomputed_and_the_violated_guardrail_is_not_promoted() {
    let sb = Sandbox::standard();
    sb.run(&["observe", "--now", "2026-11-01"]).expect(0);
    let main = sb.tip("main").unwrap();
    let dir = sb.path("cache/results");
    let mut tampered = 0;
    for e in std::fs::read_dir(&dir).unwrap() {
        let p = e.unwrap().path();
        let mut v: serde_json::Value = serde_json::from_slice(&std::fs::read(&p).unwrap()).unwrap();
        for r in v["results"].as_object_mut().unwrap().values_mut() {
            // An entry without findings leaves the field out.
            if r.get("findings")
                .and_then(|f| f.as_array())
                .is_some_and(|f| !f.is_empty())
            {
                r["findings"] = serde_json::json!([]);
                tampered += 1;
            }
        }
        std::fs::write(&p, serde_json::to_vec(&v).unwrap()).unwrap();
    }
    assert!(tampered > 0, "the web workload's cached findings were emptied");
    let out = sb.run(&["observe", "--now", "2026-11-02", "--format", "json"]);
    out.expect(0);
    assert!(out.stderr.contains("fails verification"), "{}", out.stderr);
    assert_eq!(sb.tip("main").unwrap(), main, "nothing promoted");
    let j: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let c = j["candidates"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "aws-s3-versioning")
        .unwrap();
    assert_eq!(c["action"], "held", "{c}");
}

// ---------------------------------------------------------------------------------------
// The clock
// ---------------------------------------------------------------------------------------

#[test]
fn a_run_that_writes_refuses_a_future_now_and_dry_run_plans_it() {
    let sb = Sandbox::standard();
    sb.run(&["observe", "--now", "2026-11-01"]).expect(0);
    let (main, ledger) = (sb.tip("main"), sb.tip("railyard/ledger"));
    let out = sb.run(&["enforce", "--now", "2031-06-01"]);
    out.expect(2);
    assert!(
        out.stderr.contains("later than today (2026-11-30)") && out.stderr.contains("--dry-run"),
        "{}",
        out.stderr
    );
    for args in [
        vec!["observe", "--now", "2026-12-01"],
        vec![
            "promote",
            "aws-s3-versioning",
            "--force",
            "--reason",
            "x",
            "--now",
            "2027-01-01",
        ],
    ] {
        sb.run(&args).expect(2);
    }
    assert_eq!((sb.tip("main"), sb.tip("railyard/ledger")), (main, ledger));
    let plan = sb.run(&["enforce", "--now", "2031-06-01", "--dry-run"]);
    plan.expect(0);
    assert!(plan.stdout.contains("aws-s3-versioning"), "{}", plan.stdout);
    // Backdating stays refused, with a hint that works.
    let out = sb.run(&["observe", "--now", "2026-10-01"]);
    out.expect(2);
    assert!(out.stderr.contains("omit --now"), "{}", out.stderr);
    // check: an explicit --now behind the ledger's clock is refused.
    let ws = common::temp();
    common::write(ws.path(), "main.tf", UNVERSIONED_TF);
    let guardrails = sb.path("guardrails").display().to_string();
    let out = sb.run(&[
        "check",
        ws.path().to_str().unwrap(),
        "--guardrails",
        &guardrails,
        "--now",
        "2026-10-01",
    ]);
    out.expect(2);
    assert!(out.stderr.contains("before the ledger's clock"), "{}", out.stderr);
}

#[test]
fn a_ledger_clock_ahead_of_real_time_says_how_to_repair_it() {
    let sb = Sandbox::standard();
    // An earlier run acted on a machine whose date was 2031 (or before this protection).
    sb.run_env(
        &["observe", "--now", "2031-06-01"],
        &[("RAILYARD_LEDGER_KEY", KEY), ("RAILYARD_TEST_TODAY", "2031-06-01")],
    )
    .expect(0);
    let out = sb.run(&["observe"]);
    out.expect(2);
    assert!(
        out.stderr.contains("ahead of real time") && out.stderr.contains("railyard ledger accept --reset-clock"),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains("omit --now"), "{}", out.stderr);
    sb.run(&[
        "ledger",
        "accept",
        "--reset-clock",
        "--reason",
        "clock moved ahead by a test run",
    ])
    .expect(0);
    let msg = sb.message(&sb.tip("railyard/ledger").unwrap());
    assert!(msg.contains("Clock-Reset: 2031-06-01 -> 2026-11-30"), "{msg}");
    sb.run(&["observe"]).expect(0);
    sb.run(&["ledger", "verify"]).expect(0);
}

// ---------------------------------------------------------------------------------------
// Audit trail
// ---------------------------------------------------------------------------------------

#[test]
fn a_forced_reason_is_one_line_and_cannot_inject_a_trailer() {
    let sb = Sandbox::standard();
    sb.run(&["observe", "--now", "2026-11-01"]).expect(0);
    sb.run(&[
        "promote",
        "aws-s3-versioning",
        "--force",
        "--reason",
        "x\nApproved-By: board",
    ])
    .expect(0);
    let main = sb.tip("main").unwrap();
    let trailers = sb.git(&["log", "-1", "--format=%(trailers:only,unfold)", &main]);
    assert!(!trailers.lines().any(|l| l.starts_with("Approved-By")), "{trailers}");
    assert!(trailers.contains("Reason: x Approved-By: board"), "{trailers}");
    assert!(trailers.contains("Forced-By: sec-lead"), "{trailers}");
}

#[test]
fn the_actor_comes_from_ci_or_git_and_is_never_empty_or_multi_line() {
    let sb = Sandbox::standard();
    sb.run(&["observe", "--now", "2026-11-01"]).expect(0);
    let main = sb.tip("main");
    for actor in ["", "  ", "alice\nApproved-By: board", "esc\u{1b}[31m"] {
        let out = sb.run(&[
            "promote",
            "aws-s3-versioning",
            "--force",
            "--reason",
            "r",
            "--actor",
            actor,
        ]);
        out.expect(2);
        assert!(out.stderr.contains("actor"), "{}", out.stderr);
    }
    assert_eq!(sb.tip("main"), main);
    // No --actor, no RAILYARD_ACTOR: the CI's user.
    let mut cmd = sb.command(
        &["promote", "aws-s3-versioning", "--force", "--reason", "r"],
        &[("RAILYARD_LEDGER_KEY", KEY), ("GITHUB_ACTOR", "octocat")],
    );
    cmd.env_remove("RAILYARD_ACTOR");
    let o = cmd.output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let msg = sb.message(&sb.tip("main").unwrap());
    assert!(msg.contains("Forced-By: octocat\nActor-Source: GITHUB_ACTOR"), "{msg}");
}

#[test]
fn without_ci_the_actor_is_the_git_identity_and_none_at_all_is_refused() {
    let sb = Sandbox::standard();
    sb.run(&["observe", "--now", "2026-11-01"]).expect(0);
    let home = common::temp();
    let run = |sb: &Sandbox| {
        let mut cmd = sb.command(
            &["promote", "aws-s3-versioning", "--force", "--reason", "r"],
            &[("RAILYARD_LEDGER_KEY", KEY)],
        );
        cmd.env_remove("RAILYARD_ACTOR")
            .env("HOME", home.path())
            .env("XDG_CONFIG_HOME", home.path())
            .env("GIT_CONFIG_NOSYSTEM", "1");
        for v in [
            "BUILD_REQUESTEDFOREMAIL",
            "BUILD_REQUESTEDFOR",
            "CIRCLE_USERNAME",
            "BUILD_USER_ID",
        ] {
            cmd.env_remove(v);
        }
        cmd.output().unwrap()
    };
    let o = run(&sb);
    assert_eq!(o.status.code(), Some(2), "{}", String::from_utf8_lossy(&o.stdout));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("actor"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let mut cfg = sb.repo("guardrails").config().unwrap();
    cfg.set_str("user.name", "Dana Sec").unwrap();
    cfg.set_str("user.email", "dana@example.com").unwrap();
    let o = run(&sb);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let msg = sb.message(&sb.tip("main").unwrap());
    assert!(msg.contains("Forced-By: Dana Sec <dana@example.com>"), "{msg}");
}

// ---------------------------------------------------------------------------------------
// Bounded findings
// ---------------------------------------------------------------------------------------

const FLOOD_TOML: &str = "title = \"Flood\"\nseverity = \"low\"\nremediation = \"none\"\n";
/// A guardrail reporting `n` findings on any workload.
fn flood(n: u32) -> String {
    format!("package railyard.flood\n\ndeny contains msg if {{\n\tsome i in numbers.range(1, {n})\n\tmsg := sprintf(\"finding %d\", [i])\n}}\n")
}

/// The attack as reported: a guardrail returning 1,000,000 findings (about two minutes in
/// a debug build: the policy engine builds them all before the count is taken).
#[test]
fn a_million_findings_are_an_error_in_check_and_the_parent_never_holds_them() {
    let ws = common::temp();
    common::write(ws.path(), "app/main.tf", UNVERSIONED_TF);
    common::write(ws.path(), "gr/flood/guardrail.toml", FLOOD_TOML);
    common::write(ws.path(), "gr/flood/policy.rego", flood(1_000_000));
    let run = common::railyard(
        ws.path(),
        &[
            "check",
            "app",
            "--guardrails",
            "gr",
            "--eval-timeout",
            "600s",
            "--eval-memory",
            "4GiB",
            "--format",
            "json",
        ],
    );
    run.expect_code(2);
    assert!(
        run.all().contains("1000000 findings, more than the limit of 10000"),
        "{}",
        run.all()
    );
    assert!(
        run.stdout.len() < 10_000,
        "the report carries the count, not the findings"
    );
}

/// The same in observe (200,000 findings, to keep the test short): unknown, blocked, and
/// the ledger records the count, not the list.
#[test]
fn too_many_findings_are_unknown_in_observe_and_the_ledger_stays_small() {
    let policy = flood(200_000);
    let sb = Sandbox::with(
        &[],
        &[
            ("guardrails/flood/guardrail.toml", FLOOD_TOML),
            ("guardrails/flood/policy.rego", policy.as_str()),
        ],
    );
    let main = sb.tip("main");
    let out = sb.run(&[
        "observe",
        "--now",
        "2026-11-01",
        "--format",
        "json",
        "--eval-timeout",
        "600s",
        "--eval-memory",
        "4GiB",
    ]);
    out.expect(2);
    let j: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(j["candidates"][0]["action"], "blocked", "{j}");
    assert_eq!(sb.tip("main"), main, "not promoted");
    let text = sb.ledger_text();
    assert!(text.len() < 20_000, "ledger is {} bytes", text.len());
    let l: serde_json::Value = serde_json::from_str(&text).unwrap();
    let e = &l["entries"]["flood/web"];
    assert_eq!(e["status"], "unknown", "{l}");
    let problem = e["problems"][0].as_str().unwrap();
    assert!(problem.contains("200000 findings, more than the limit of 10000"), "{l}");
}

#[test]
fn the_findings_limit_comes_from_the_flag_or_the_environment() {
    let ws = common::temp();
    common::write(
        ws.path(),
        "app/main.tf",
        "resource \"aws_s3_bucket\" \"a\" {}\nresource \"aws_s3_bucket\" \"b\" {}\n",
    );
    common::guardrails_with(&ws.path().join("gr"), &["aws-s3-versioning"]);
    let run = common::railyard(
        ws.path(),
        &["check", "app", "--guardrails", "gr", "--max-findings", "2"],
    );
    run.expect_code(1);
    let run = common::railyard(
        ws.path(),
        &["check", "app", "--guardrails", "gr", "--max-findings", "1"],
    );
    run.expect_code(2);
    assert!(
        run.all().contains("2 findings, more than the limit of 1"),
        "{}",
        run.all()
    );
    let run = common::railyard_env(
        ws.path(),
        &["check", "app", "--guardrails", "gr"],
        &[("RAILYARD_MAX_FINDINGS", "1")],
    );
    run.expect_code(2);
}

// ---------------------------------------------------------------------------------------
// A local guardrails repo with `main` checked out
// ---------------------------------------------------------------------------------------

#[test]
fn a_checked_out_main_follows_a_promotion_and_a_dirty_one_is_refused() {
    let sb = Sandbox::standard();
    sb.git(&["reset", "--hard", "main"]);
    assert_eq!(sb.git(&["status", "--porcelain"]), "");
    sb.run(&["observe", "--now", "2026-11-01"]).expect(0);
    assert!(sb
        .message(&sb.tip("main").unwrap())
        .contains("activate guardrail aws-ebs-volume-encryption"));
    assert_eq!(sb.git(&["status", "--porcelain"]), "", "work tree in step with main");
    assert!(sb
        .path("guardrails/guardrails/aws-ebs-volume-encryption/policy.rego")
        .is_file());

    // Local changes: refused before anything moves.
    std::fs::write(sb.path("guardrails/workloads.toml"), "# local edit\n").unwrap();
    let (main, ledger) = (sb.tip("main"), sb.tip("railyard/ledger"));
    let out = sb.run(&[
        "promote",
        "aws-s3-versioning",
        "--force",
        "--reason",
        "now",
        "--now",
        "2026-11-02",
    ]);
    out.expect(2);
    assert!(
        out.stderr.contains("uncommitted changes") && out.stderr.contains("workloads.toml"),
        "{}",
        out.stderr
    );
    let out = sb.run(&["observe", "--now", "2026-11-02"]);
    out.expect(2);
    assert_eq!((sb.tip("main"), sb.tip("railyard/ledger")), (main, ledger));
    assert_eq!(
        std::fs::read_to_string(sb.path("guardrails/workloads.toml")).unwrap(),
        "# local edit\n"
    );
}

#[test]
fn a_deliberately_replaced_ledger_is_joined_to_what_main_references_when_accepted() {
    let (sb, first) = observed_twice_then_forced();
    let referenced = sb
        .message(&sb.tip("main").unwrap())
        .lines()
        .find_map(|l| l.strip_prefix("Railyard-Ledger: ").map(str::to_string))
        .unwrap();
    assert_ne!(referenced, first);
    sb.repo("guardrails")
        .reference(
            "refs/heads/railyard/ledger",
            git2::Oid::from_str(&first).unwrap(),
            true,
            "reset",
        )
        .unwrap();
    sb.run(&["observe", "--now", "2026-11-03"]).expect(2);
    sb.run(&["ledger", "verify"]).expect(2);
    sb.run(&["ledger", "accept", "--reason", "restored from backup after review"])
        .expect(0);
    let tip = sb.tip("railyard/ledger").unwrap();
    let g = sb.repo("guardrails");
    let c = g.find_commit(git2::Oid::from_str(&tip).unwrap()).unwrap();
    let parents: Vec<String> = c.parent_ids().map(|p| p.to_string()).collect();
    assert_eq!(parents, [first, referenced], "joined to what main references");
    sb.run(&["ledger", "verify"]).expect(0);
    sb.run(&["observe", "--now", "2026-11-03"]).expect(0);
}
