//! State that survives faults and never leaks secrets, through the real binary on real git
//! repositories in temporary folders: a malformed or hand-edited ledger is reported and never
//! reset; eight concurrent `observe` runs and runs killed with SIGKILL at seeded random points
//! leave `git fsck --strict` clean and lose no record; a remote that moves between read and
//! push is re-read, never overwritten; stale lock files in the workload cache are cleared;
//! credentials and webhook URLs appear in no output, ledger file or commit message;
//! configuration errors name file and line; exception governance (maximum lifetime, stale
//! exceptions). The longer soak run of the concurrency and kill scenarios is
//! `soak_concurrent_and_killed_runs` (ignored by default; see `bench/soak.sh`).

use crate::common;
use crate::common::sandbox::{
    bundled, command, ledger_file, ledger_text, log, main_and_develop, text, two_workloads, Root, Sandbox,
};
use crate::common::{commit, COMPLIANT_TF, REGISTRY, UNVERSIONED_TF};
use git2::Repository;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_railyard");
const NOW: &str = "2026-11-01";

/// The ledger entries a complete observation of [`Sandbox::standard`] records.
const EXPECTED_ENTRIES: [&str; 4] = [
    "aws-ebs-volume-encryption/payments-api",
    "aws-ebs-volume-encryption/web",
    "aws-s3-versioning/payments-api",
    "aws-s3-versioning/web",
];

trait StateSandbox {
    fn standard() -> Sandbox;
    fn with_registry(registry: &str) -> Sandbox;
    fn command(&self, args: &[&str], env: &[(&str, &str)]) -> Command;
    fn run(&self, args: &[&str]) -> Output;
    fn run_env(&self, args: &[&str], env: &[(&str, &str)]) -> Output;
    fn tip(&self, branch: &str) -> Option<git2::Oid>;
    fn ledger_text(&self) -> String;
    fn ledger(&self) -> serde_json::Value;
    fn main_log(&self) -> Vec<String>;
    fn fsck(&self);
    fn cache_entry(&self, workload: &str) -> PathBuf;
}

impl StateSandbox for Sandbox {
    /// A guardrails repo whose develop has two candidates, aws-ebs-volume-encryption (broken
    /// by nobody) and aws-s3-versioning (broken by `web`, at `aws_s3_bucket.logs`), and two
    /// local workload repos.
    fn standard() -> Sandbox {
        Sandbox::with_registry(REGISTRY)
    }

    fn with_registry(registry: &str) -> Sandbox {
        let sb = Sandbox { dir: common::temp() };
        two_workloads(sb.dir.path(), ["payments infra", "web infra"]);
        let g = sb.repo("guardrails");
        let mut base = bundled("lib");
        base.push(("workloads.toml".into(), registry.into()));
        let mut cands = bundled("aws-ebs-volume-encryption");
        cands.extend(bundled("aws-s3-versioning"));
        main_and_develop(&g, &base, &cands, "two candidates");
        sb
    }

    /// `railyard ARGS --repo guardrails --cache-dir cache`, with `env` set.
    fn command(&self, args: &[&str], env: &[(&str, &str)]) -> Command {
        let mut cmd = command(self.dir.path(), args);
        cmd.env_remove("RAILYARD_GIT_TOKEN")
            .env_remove("RAILYARD_STALE_LOCK_SECS")
            .env("RAILYARD_ACTOR", "sec-lead")
            // The machine's date for runs that write (debug builds): the stories run to 2026-12-31.
            .env("RAILYARD_TEST_TODAY", "2026-12-31")
            .env("RAILYARD_NOTIFY_TIMEOUT_MS", "500")
            .env("NO_COLOR", "1");
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd
    }

    fn run(&self, args: &[&str]) -> Output {
        self.run_env(args, &[])
    }

    fn run_env(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        let out = self.command(args, env).output().unwrap();
        assert!(!text(&out).contains("panicked"), "railyard panicked: {}", text(&out));
        out
    }

    fn tip(&self, branch: &str) -> Option<git2::Oid> {
        self.repo("guardrails")
            .find_reference(&format!("refs/heads/{branch}"))
            .ok()
            .and_then(|r| r.target())
    }

    fn ledger_text(&self) -> String {
        ledger_text(&self.repo("guardrails"))
    }

    fn ledger(&self) -> serde_json::Value {
        serde_json::from_str(&self.ledger_text()).unwrap()
    }

    /// Commit messages on `main`, newest first.
    fn main_log(&self) -> Vec<String> {
        log(&self.repo("guardrails"), "main")
    }

    fn fsck(&self) {
        fsck(&self.path("guardrails"));
    }

    /// The bare cache entry of a workload (`cache/workloads/<name>-<hash>.git`).
    fn cache_entry(&self, workload: &str) -> PathBuf {
        std::fs::read_dir(self.path("cache/workloads"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| {
                let name = p.file_name().unwrap().to_string_lossy().into_owned();
                name.starts_with(&format!("{workload}-")) && name.ends_with(".git")
            })
            .unwrap_or_else(|| panic!("no cache entry for {workload}"))
    }
}

fn fsck(repo: &Path) {
    let out = Command::new("git")
        .arg("-C")
        .arg(repo)
        .args(["fsck", "--strict", "--no-progress"])
        .output()
        .unwrap();
    assert!(out.status.success(), "git fsck --strict failed: {}", text(&out));
}

/// The ledger holds exactly the expected entries, every finding of the standard sandbox, no
/// finding twice, and one promotion of the guardrail that breaks nobody.
fn assert_complete(sb: &Sandbox) {
    let l = sb.ledger();
    let keys: Vec<&str> = l["entries"].as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(keys, EXPECTED_ENTRIES, "{l}");
    let web = &l["entries"]["aws-s3-versioning/web"];
    assert_eq!(web["status"], "noncompliant", "{l}");
    let resources: Vec<&str> = web["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["resource"].as_str().unwrap())
        .collect();
    assert_eq!(resources, ["aws_s3_bucket.logs"], "{l}");
    for key in EXPECTED_ENTRIES.iter().filter(|k| **k != "aws-s3-versioning/web") {
        assert_eq!(l["entries"][key]["status"], "compliant", "{key}: {l}");
        assert!(
            l["entries"][key]["findings"].as_array().unwrap().is_empty(),
            "{key}: {l}"
        );
    }
    assert_eq!(l["guardrails"]["aws-ebs-volume-encryption"]["state"], "active", "{l}");
    assert_eq!(l["guardrails"]["aws-s3-versioning"]["state"], "pending", "{l}");
    let promotions = sb
        .main_log()
        .iter()
        .filter(|m| m.contains("activate guardrail aws-ebs-volume-encryption"))
        .count();
    assert_eq!(promotions, 1, "{:?}", sb.main_log());
    // The ledger text has no key twice (serde_json would silently keep the last one).
    let text = sb.ledger_text();
    for key in EXPECTED_ENTRIES {
        assert_eq!(text.matches(&format!("\"{key}\": {{")).count(), 1, "{text}");
    }
}

/// The "random" kill points come from the benchmarks' one deterministic generator, so they
/// are the same on every run and a failure can be replayed.
use railyard_fleet::Rng as Seeded;

// ---------------------------------------------------------------------------------------
// A malformed ledger is reported, never reset
// ---------------------------------------------------------------------------------------

/// Commits `content` as `ledger.json` on top of the ledger branch (or as its first commit).
fn hand_edit_ledger(sb: &Sandbox, content: &str) -> git2::Oid {
    commit(
        &sb.repo("guardrails"),
        "railyard/ledger",
        &[("ledger.json", Some(content))],
        "hand edit",
    )
}

#[test]
fn a_garbage_ledger_is_reported_with_its_line_and_never_reset() {
    let sb = Sandbox::standard();
    let tip = hand_edit_ledger(&sb, "{\n  \"version\": 1,\n  this is not json\n}\n");
    let out = sb.run(&["observe", "--now", NOW]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("railyard/ledger:ledger.json:3:"),
        "no file and line: {stderr}"
    );
    assert!(stderr.contains("was not modified"), "{stderr}");
    assert_eq!(sb.tip("railyard/ledger"), Some(tip), "the ledger branch moved");
    assert_eq!(sb.main_log().len(), 1, "nothing may be promoted without a ledger");
    // enforce and report refuse the same way.
    for cmd in [&["enforce", "--now", NOW][..], &["report"][..]] {
        let out = sb.run(cmd);
        assert_eq!(out.status.code(), Some(2), "{cmd:?}: {}", text(&out));
        assert!(text(&out).contains("ledger.json:3"), "{cmd:?}: {}", text(&out));
    }
    assert_eq!(sb.tip("railyard/ledger"), Some(tip));
    // A branch without ledger.json is not Railyard's either.
    let sb = Sandbox::standard();
    let tip = commit(
        &sb.repo("guardrails"),
        "railyard/ledger",
        &[("notes.txt", Some("mine"))],
        "someone else's branch",
    );
    let out = sb.run(&["observe", "--now", NOW]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("has no `ledger.json`"), "{}", text(&out));
    assert_eq!(sb.tip("railyard/ledger"), Some(tip));
    sb.fsck();
}

/// Commits `content` as `path` on top of the ledger branch.
fn hand_edit_file(sb: &Sandbox, path: &str, content: &str) -> git2::Oid {
    commit(
        &sb.repo("guardrails"),
        "railyard/ledger",
        &[(path, Some(content))],
        "hand edit",
    )
}

#[test]
fn a_hand_edited_ledger_with_a_bad_field_is_reported_with_its_line() {
    let sb = Sandbox::standard();
    let out = sb.run(&["observe", "--now", NOW]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let g = sb.repo("guardrails");
    let head = ledger_file(&g, "ledger.json").unwrap();
    let web = ledger_file(&g, "workloads/web.json").unwrap();
    // Someone "fixes" a status by hand in a workload's file.
    let (line, _) = web
        .lines()
        .enumerate()
        .find(|(_, l)| l.contains("\"status\": \"noncompliant\""))
        .expect("a noncompliant entry");
    let edited = web.replacen("\"status\": \"noncompliant\"", "\"status\": \"fine-by-me\"", 1);
    let tip = hand_edit_file(&sb, "workloads/web.json", &edited);
    let out = sb.run(&["observe", "--now", NOW]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let want = format!("railyard/ledger:workloads/web.json:{}:", line + 1);
    assert!(text(&out).contains(&want), "expected `{want}` in {}", text(&out));
    assert!(text(&out).contains("fine-by-me"), "{}", text(&out));
    assert_eq!(sb.tip("railyard/ledger"), Some(tip), "the ledger branch moved");
    hand_edit_file(&sb, "workloads/web.json", &web);

    // A field of their own in the head.
    let unknown_field = head.replacen("\"version\": 2,", "\"version\": 2,\n  \"reviewed_by\": \"me\",", 1);
    let tip = hand_edit_file(&sb, "ledger.json", &unknown_field);
    let out = sb.run(&["observe", "--now", NOW]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("ledger.json:3:"), "{}", text(&out));
    assert!(text(&out).contains("reviewed_by"), "{}", text(&out));
    assert_eq!(sb.tip("railyard/ledger"), Some(tip));

    let future = head.replacen("\"version\": 2,", "\"version\": 7,", 1);
    let tip = hand_edit_file(&sb, "ledger.json", &future);
    let out = sb.run(&["observe", "--now", NOW]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("ledger version 7"), "{}", text(&out));
    assert_eq!(sb.tip("railyard/ledger"), Some(tip));

    // A workload's entries copied under another workload's file name.
    let tip = hand_edit_file(&sb, "workloads/payments-api.json", &web);
    hand_edit_file(&sb, "ledger.json", &head);
    let out = sb.run(&["observe", "--now", NOW]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("railyard/ledger:workloads/payments-api.json: holds workload `web`"),
        "{}",
        text(&out)
    );
    assert_ne!(sb.tip("railyard/ledger"), Some(tip));

    // Reverting the hand edits is enough to carry on.
    commit(
        &g,
        "railyard/ledger",
        &[("workloads/payments-api.json", None)],
        "drop the copy",
    );
    let out = sb.run(&["observe", "--now", NOW]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    sb.fsck();
}

#[test]
fn a_single_file_ledger_is_read_and_moved_to_one_file_per_workload_by_the_next_write() {
    let sb = Sandbox::standard();
    let out = sb.run(&["observe", "--now", NOW]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let g = sb.repo("guardrails");
    let before = sb.ledger();
    // The same ledger as an earlier Railyard wrote it: one `ledger.json`, version 1.
    let mut legacy = before.clone();
    legacy["version"] = 1.into();
    let legacy_text = serde_json::to_string_pretty(&legacy).unwrap() + "\n";
    let v1 = commit(
        &g,
        "railyard/ledger",
        &[
            ("workloads", None),
            ("summary.json", None),
            ("ledger.json", Some(&legacy_text)),
        ],
        "a ledger of Railyard before layout 2",
    );
    // Read as it is: report shows the same entries, and nothing is written.
    let out = sb.run(&["report", "--format", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("aws-s3-versioning"), "{}", text(&out));
    assert_eq!(sb.tip("railyard/ledger"), Some(v1));
    // A run that changes it writes layout 2, says so, and loses nothing.
    let out = sb.run(&["observe", "--now", "2026-11-03"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let tip = sb.tip("railyard/ledger").unwrap();
    assert_ne!(tip, v1);
    let message = g.find_commit(tip).unwrap().message().unwrap().to_string();
    assert!(message.contains("Ledger-Layout: 2"), "{message}");
    assert!(ledger_file(&g, "workloads/web.json").is_some());
    assert!(ledger_file(&g, "summary.json").is_some());
    let after = sb.ledger();
    assert_eq!(after["version"], 2);
    assert_eq!(
        after["entries"].as_object().unwrap().keys().collect::<Vec<_>>(),
        before["entries"].as_object().unwrap().keys().collect::<Vec<_>>()
    );
    assert_eq!(
        after["entries"]["aws-s3-versioning/web"]["first_seen"],
        before["entries"]["aws-s3-versioning/web"]["first_seen"]
    );
    assert_complete(&sb);

    // Both layouts in one commit: neither is trusted.
    let mixed = commit(&g, "railyard/ledger", &[("ledger.json", Some(&legacy_text))], "mixed");
    let out = sb.run(&["observe", "--now", "2026-11-03"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("two ledgers in one commit"), "{}", text(&out));
    assert_eq!(sb.tip("railyard/ledger"), Some(mixed));
    sb.fsck();
}

#[test]
fn a_run_writes_only_the_files_of_what_changed() {
    let sb = Sandbox::standard();
    let out = sb.run(&["observe", "--now", NOW]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let g = sb.repo("guardrails");
    let first = sb.tip("railyard/ledger").unwrap();
    // The same day again, nothing changed: no ledger commit.
    let out = sb.run(&["observe", "--now", NOW]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(sb.tip("railyard/ledger"), Some(first));
    // A new commit in web (its findings as before): only web's file changes, whose entries
    // record the commit evaluated.
    commit(&sb.repo("web"), "main", &[("README.md", Some("web\n"))], "docs");
    let out = sb.run(&["observe", "--now", NOW]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let second = sb.tip("railyard/ledger").unwrap();
    let (a, b) = (
        g.find_commit(first).unwrap().tree().unwrap(),
        g.find_commit(second).unwrap().tree().unwrap(),
    );
    let diff = g.diff_tree_to_tree(Some(&a), Some(&b), None).unwrap();
    let changed: Vec<String> = diff
        .deltas()
        .map(|d| d.new_file().path().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(changed, ["workloads/web.json"]);

    // A later day, nothing changed: the clock moves (the head and the day's summary), and no
    // workload's file is written again (a daily run used to rewrite every one of them).
    let out = sb.run(&["observe", "--now", "2026-11-20"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let third = sb.tip("railyard/ledger").unwrap();
    let c = g.find_commit(third).unwrap().tree().unwrap();
    let diff = g.diff_tree_to_tree(Some(&b), Some(&c), None).unwrap();
    let changed: Vec<String> = diff
        .deltas()
        .map(|d| d.new_file().path().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(changed, ["ledger.json", "summary.json"]);
    sb.fsck();
}

// ---------------------------------------------------------------------------------------
// Concurrent and killed runs
// ---------------------------------------------------------------------------------------

/// Starts `n` `observe` runs at once and waits for all of them.
fn observe_concurrently(sb: &Sandbox, n: usize) -> Vec<Output> {
    let children: Vec<_> = (0..n)
        .map(|_| {
            sb.command(&["observe", "--now", NOW, "--format", "json"], &[])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    children.into_iter().map(|c| c.wait_with_output().unwrap()).collect()
}

/// Every concurrent run either succeeded or failed cleanly with a documented exit code and a
/// message that says to run again (never a panic, never a half-done state).
fn assert_clean_outcomes(outs: &[Output]) -> usize {
    let mut ok = 0;
    for o in outs {
        match o.status.code() {
            Some(0) => ok += 1,
            Some(2) => assert!(
                text(o).contains("run again"),
                "a run failed without saying why: {}",
                text(o)
            ),
            other => panic!("unexpected exit {other:?}: {}", text(o)),
        }
        assert!(!text(o).contains("panicked"), "{}", text(o));
    }
    ok
}

#[test]
fn eight_concurrent_observe_runs_lose_nothing() {
    let sb = Sandbox::standard();
    let outs = observe_concurrently(&sb, 8);
    let ok = assert_clean_outcomes(&outs);
    assert_eq!(ok, 8, "every run should win its compare-and-swap within its retries");
    for o in &outs {
        let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        let action = report["candidates"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == "aws-s3-versioning")
            .map(|c| c["action"].clone());
        assert_eq!(action, Some("held".into()), "{report}");
    }
    sb.fsck();
    assert_complete(&sb);
    // And the next run finds nothing left to do.
    let before = sb.tip("railyard/ledger");
    let out = sb.run(&["observe", "--now", NOW]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(
        sb.tip("railyard/ledger"),
        before,
        "a repeated observation changed the ledger"
    );
    assert_complete(&sb);
}

/// Kills `observe` with SIGKILL after each of `delays`, checking fsck after each kill.
fn kill_observe_at(sb: &Sandbox, delays: &[u64]) {
    for &ms in delays {
        let mut child = sb
            .command(&["observe", "--now", NOW], &[])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(ms));
        let _ = child.kill(); // SIGKILL on Unix
        let _ = child.wait();
        sb.fsck();
    }
}

#[test]
fn runs_killed_at_seeded_random_points_lose_nothing() {
    let sb = Sandbox::standard();
    let mut rng = Seeded::new(0x5EED_2026_1101);
    let delays: Vec<u64> = (0..5).map(|_| 5 + rng.below(400)).collect();
    kill_observe_at(&sb, &delays);
    let out = sb.run(&["observe", "--now", NOW]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "after kills at {delays:?} ms: {}",
        text(&out)
    );
    sb.fsck();
    assert_complete(&sb);
}

/// The soak run: the concurrent and kill scenarios again and again for
/// `RAILYARD_SOAK_SECONDS` (default 60), on one growing sandbox per round, printing what it
/// found. Run with `bench/soak.sh [SECONDS]`.
#[test]
#[ignore = "long-running soak test: bench/soak.sh"]
fn soak_concurrent_and_killed_runs() {
    let seconds: u64 = std::env::var("RAILYARD_SOAK_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(60);
    let seed: u64 = std::env::var("RAILYARD_SOAK_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x5EED);
    let mut rng = Seeded::new(seed | 1);
    let start = Instant::now();
    let (mut rounds, mut runs, mut ok_runs, mut retried, mut kills, mut fscks) = (0u64, 0u64, 0u64, 0u64, 0u64, 0u64);
    let mut lost = 0u64;
    while start.elapsed() < Duration::from_secs(seconds) {
        rounds += 1;
        let sb = Sandbox::standard();
        // Kill a few runs at random points, including during the first fetch into the cache.
        let n_kills = 1 + rng.below(4);
        let delays: Vec<u64> = (0..n_kills).map(|_| rng.below(500)).collect();
        kill_observe_at(&sb, &delays);
        kills += n_kills;
        fscks += n_kills;
        // Then a burst of concurrent runs (2..=8).
        let n = 2 + rng.below(7) as usize;
        let outs = observe_concurrently(&sb, n);
        runs += n as u64;
        let ok = assert_clean_outcomes(&outs) as u64;
        ok_runs += ok;
        retried += n as u64 - ok;
        sb.fsck();
        fscks += 1;
        // A final run completes whatever a failed one left; then nothing may be missing.
        let out = sb.run(&["observe", "--now", NOW]);
        runs += 1;
        if out.status.code() == Some(0) {
            ok_runs += 1;
        }
        let complete = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| assert_complete(&sb)));
        if complete.is_err() {
            lost += 1;
        }
        // Sealed (bench/soak.sh sets the key): every commit of the chain verifies.
        if std::env::var("RAILYARD_LEDGER_KEY").is_ok_and(|k| !k.is_empty()) {
            let v = sb.run(&["ledger", "verify"]);
            assert_eq!(v.status.code(), Some(0), "ledger verify: {}", text(&v));
        }
        sb.fsck();
        fscks += 1;
        eprintln!(
            "soak: round {rounds} ({:.0} s): {n_kills} kill(s) at {delays:?} ms, {n} concurrent run(s), {ok} succeeded",
            start.elapsed().as_secs_f64()
        );
    }
    println!(
        "soak: {seconds} s, seed {seed}: {rounds} rounds, {runs} observe runs ({ok_runs} exit 0, {retried} exit 2 \
         asking to run again), {kills} SIGKILLs, {fscks} git fsck --strict: all clean, lost records: {lost}"
    );
    assert_eq!(lost, 0, "records were lost");
}

// ---------------------------------------------------------------------------------------
// A remote that moves between read and push is re-read, never overwritten
// ---------------------------------------------------------------------------------------

#[test]
fn a_remote_that_moved_between_read_and_push_is_re_read_not_overwritten() {
    use railyard::git::{commit_changes, GuardrailsRepo, LEDGER};
    use railyard::record::Ledger;
    let sb = Sandbox::standard();
    let bare = sb.path("origin.git");
    let status = Command::new("git")
        .args(["clone", "-q", "--mirror"])
        .arg(sb.path("guardrails"))
        .arg(&bare)
        .status()
        .unwrap();
    assert!(status.success());
    let url = format!("file://{}", bare.display());
    let repo = GuardrailsRepo::open(&url, &sb.path("cache"), None, std::time::Duration::from_secs(60)).unwrap();
    let day = |s: &str| railyard::Day::parse(s).unwrap();
    // Another run writes the ledger on the remote right after this run read it.
    let mut theirs = Ledger::new();
    theirs.advance_clock(day("2026-10-15")).unwrap();
    let mut attempts = 0;
    let mut their_commit = String::new();
    let (ours, committed) = Ledger::update(&repo, "railyard: test update\n", |ledger| {
        attempts += 1;
        if attempts == 1 {
            assert_eq!(ledger.clock, None, "the first attempt reads no ledger");
            their_commit = commit_changes(
                &bare,
                LEDGER,
                &[("ledger.json".into(), Some(theirs.to_json().into_bytes()))],
                "another run\n",
            )
            .unwrap();
        } else {
            assert_eq!(
                ledger.clock,
                Some(day("2026-10-15")),
                "the retry must read the remote's ledger"
            );
        }
        ledger.advance_clock(day(NOW))
    })
    .unwrap();
    assert!(committed);
    assert_eq!(attempts, 2, "the rejected push must re-read and retry");
    assert_eq!(ours.clock, Some(day(NOW)));
    let origin = Repository::open_bare(&bare).unwrap();
    let tip = origin
        .find_reference(&format!("refs/heads/{LEDGER}"))
        .unwrap()
        .peel_to_commit()
        .unwrap();
    assert_eq!(
        tip.parent_id(0).unwrap().to_string(),
        their_commit,
        "the other run's commit was overwritten instead of built upon"
    );
    fsck(&bare);

    // The same through the CLI: an observe on the remote after someone pushed to develop.
    let out = Command::new(BIN)
        .current_dir(sb.path("guardrails"))
        .args(["observe", "--now", NOW, "--repo", &url])
        .arg("--cache-dir")
        .arg(sb.path("cache"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let ledger_tip = origin
        .find_reference(&format!("refs/heads/{LEDGER}"))
        .unwrap()
        .peel_to_commit()
        .unwrap();
    let mut walk = origin.revwalk().unwrap();
    walk.push(ledger_tip.id()).unwrap();
    let history: Vec<String> = walk.map(|o| o.unwrap().to_string()).collect();
    assert!(history.contains(&their_commit), "history rewritten: {history:?}");
    fsck(&bare);
}

// ---------------------------------------------------------------------------------------
// Stale lock files in the workload cache
// ---------------------------------------------------------------------------------------

/// Creates `path` with an mtime `age` in the past.
fn plant_lock(path: &Path, age: Duration) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let f = std::fs::File::create(path).unwrap();
    f.set_modified(std::time::SystemTime::now() - age).unwrap();
}

#[test]
fn stale_lock_files_left_by_a_killed_fetch_are_removed_and_fresh_ones_kept() {
    let sb = Sandbox::standard();
    let out = sb.run(&["observe", "--now", NOW]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let entry = sb.cache_entry("web");
    let locked_ref = std::fs::read_dir(entry.join("refs/railyard"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .find(|n| !n.ends_with(".lock"))
        .expect("the cached ref");
    let ref_lock = entry.join(format!("refs/railyard/{locked_ref}.lock"));

    // The workload moves on: the next run must fetch, and the ref lock is in its way.
    let web = sb.repo("web");
    let two_buckets = format!("{UNVERSIONED_TF}\nresource \"aws_s3_bucket\" \"audit\" {{\n  bucket = \"audit\"\n}}\n");
    commit(&web, "main", &[("main.tf", Some(&two_buckets))], "another bucket");

    // A fresh lock (another run fetching right now) is left alone. A local workload's cache
    // entry borrows the source's objects (alternates), so the new commit is read without a
    // fetch and the lock only keeps the cached ref from moving: the run reads the workload.
    plant_lock(&ref_lock, Duration::from_secs(5));
    let out = sb.run(&["observe", "--now", NOW, "--format", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let web_result = report["workloads"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["name"] == "web")
        .unwrap();
    assert_eq!(web_result["commit"], web.head().unwrap().target().unwrap().to_string());
    assert!(ref_lock.exists(), "a fresh lock was removed");

    // An old lock (a killed run) is removed, along with its friends, and the workload is read.
    let old = Duration::from_secs(11 * 60);
    plant_lock(&ref_lock, old);
    for name in [
        "HEAD.lock",
        "packed-refs.lock",
        "shallow.lock",
        "index.lock",
        "config.lock",
    ] {
        plant_lock(&entry.join(name), old);
    }
    let out = sb.run(&["observe", "--now", NOW, "--format", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    for name in [
        "HEAD.lock",
        "packed-refs.lock",
        "shallow.lock",
        "index.lock",
        "config.lock",
    ] {
        assert!(!entry.join(name).exists(), "{name} was kept");
    }
    assert!(!ref_lock.exists());
    let l = sb.ledger();
    let resources: Vec<&str> = l["entries"]["aws-s3-versioning/web"]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["resource"].as_str().unwrap())
        .collect();
    assert_eq!(resources, ["aws_s3_bucket.logs", "aws_s3_bucket.audit"], "{l}");

    // The threshold is configurable: with RAILYARD_STALE_LOCK_SECS=1 a 5-second-old lock is stale.
    commit(&web, "main", &[("extra.tf", Some("# nothing\n"))], "touch");
    plant_lock(&ref_lock, Duration::from_secs(5));
    let out = sb.run_env(&["observe", "--now", NOW], &[("RAILYARD_STALE_LOCK_SECS", "1")]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(!ref_lock.exists());
    sb.fsck();
}

#[test]
fn a_stale_lock_on_the_ledger_branch_does_not_block_later_runs() {
    let sb = Sandbox::standard();
    let out = sb.run(&["observe", "--now", NOW]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let lock = sb.path("guardrails/.git/refs/heads/railyard/ledger.lock");
    commit(&sb.repo("web"), "main", &[("main.tf", Some(COMPLIANT_TF))], "fixed");
    // A fresh lock may be another run's: wait for it, then give up cleanly, naming it.
    let tip = sb.tip("railyard/ledger");
    plant_lock(&lock, Duration::from_secs(1));
    let out = sb.run(&["observe", "--now", "2026-11-02"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("stayed locked"), "{}", text(&out));
    assert!(text(&out).contains("ledger.lock"), "{}", text(&out));
    assert!(text(&out).contains("run again"), "{}", text(&out));
    assert!(lock.exists());
    assert_eq!(sb.tip("railyard/ledger"), tip);
    // An old one was left by a killed run: removed, and the run goes through.
    plant_lock(&lock, Duration::from_secs(3600));
    let out = sb.run(&["observe", "--now", "2026-11-02"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(!lock.exists());
    assert_eq!(
        sb.ledger()["entries"]["aws-s3-versioning/web"]["resolved"],
        "2026-11-02"
    );
    sb.fsck();
}

// ---------------------------------------------------------------------------------------
// Secrets appear nowhere
// ---------------------------------------------------------------------------------------

const SECRET: &str = "s3cr3t-token";
const HOOK_SECRET: &str = "h00k-s3cr3t";

/// Asserts no needle is in any commit message of any ref (`git log --all`), any file of any
/// commit of the ledger branch, any file below `cache` (workload clones, mirrors and their
/// config), or the guardrails repo's own files outside `objects/` (config, refs, reflogs).
/// The other branches' files are the test's own input.
fn assert_nowhere(repo: &Path, cache: &Path, needles: &[&str]) {
    let g = Repository::open(repo).unwrap();
    let check = |what: &str, content: &str| {
        for n in needles {
            assert!(!content.contains(n), "secret `{n}` in {what}");
        }
    };
    let mut walk = g.revwalk().unwrap();
    walk.push_glob("*").unwrap();
    for oid in walk {
        let c = g.find_commit(oid.unwrap()).unwrap();
        check(&format!("the message of {}", c.id()), c.message().unwrap_or(""));
    }
    if let Ok(ledger) = g.find_reference("refs/heads/railyard/ledger") {
        let mut walk = g.revwalk().unwrap();
        walk.push(ledger.target().unwrap()).unwrap();
        for oid in walk {
            let c = g.find_commit(oid.unwrap()).unwrap();
            c.tree()
                .unwrap()
                .walk(git2::TreeWalkMode::PreOrder, |dir, e| {
                    if let Ok(blob) = e.to_object(&g).and_then(|o| o.peel_to_blob()) {
                        let what = format!("ledger file {dir}{} at {}", e.name().unwrap_or(""), c.id());
                        check(&what, &String::from_utf8_lossy(blob.content()));
                    }
                    git2::TreeWalkResult::Ok
                })
                .unwrap();
        }
    }
    if cache.exists() {
        for (path, bytes) in common::files_below(cache) {
            check(&format!("cache file {path}"), &String::from_utf8_lossy(&bytes));
        }
    }
    for (path, bytes) in common::files_below(&repo.join(".git")) {
        if !path.starts_with("objects/") {
            check(&format!(".git/{path}"), &String::from_utf8_lossy(&bytes));
        }
    }
}

#[test]
fn credentials_and_webhook_urls_appear_in_no_output_ledger_or_commit() {
    // 1. A token written into a workload URL is refused, without echoing it.
    let with_url = REGISTRY.replace(
        "repo = \"../payments\"",
        &format!("repo = \"https://user:{SECRET}@127.0.0.1:1/repo.git\""),
    );
    let sb = Sandbox::with_registry(&with_url);
    let out = sb.run(&["observe", "--now", NOW]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("workloads.toml:6"), "{}", text(&out));
    assert!(!text(&out).contains(SECRET), "{}", text(&out));
    assert_nowhere(&sb.path("guardrails"), &sb.path("cache"), &[SECRET]);

    // 2. A token in an environment variable for an unreachable workload, and webhook URLs
    //    (with credentials and a secret path) that point at a closed port.
    let registry = format!(
        "{REGISTRY}\n[[workload]]\nname = \"remote-app\"\nrepo = \"https://127.0.0.1:1/org/repo.git\"\nteam = \"web\"\ntoken_env = \"APP_GIT_TOKEN\"\n"
    )
    .replace(
        "[team.web]\nowners = [\"bob@example.com\"]",
        "[team.web]\nowners = [\"bob@example.com\"]\nwebhook_env = \"WEB_HOOK\"\nslack_webhook_env = \"WEB_SLACK\"",
    );
    let sb = Sandbox::with_registry(&registry);
    let hook = format!("http://hook-user:{HOOK_SECRET}@127.0.0.1:1/hooks/{HOOK_SECRET}");
    let slack = format!("http://127.0.0.1:1/services/T000/{HOOK_SECRET}");
    let env = [
        ("APP_GIT_TOKEN", SECRET),
        ("WEB_HOOK", hook.as_str()),
        ("WEB_SLACK", slack.as_str()),
        ("RAILYARD_GIT_TOKEN", SECRET),
    ];
    let needles = [SECRET, HOOK_SECRET];
    let mut seen = String::new();
    for args in [
        &["observe", "--now", NOW, "--dry-run"][..],
        &["observe", "--now", NOW, "--dry-run", "--format", "json"][..],
        &["observe", "--now", NOW],
        &["observe", "--now", NOW, "--format", "json"],
        &["observe", "--now", NOW, "--format", "sarif"],
        &["observe", "--now", NOW, "--format", "markdown"],
        &["report"],
        &["report", "--format", "json"],
        &["report", "--workload", "remote-app", "--format", "json"],
        &["report", "--team", "web", "--format", "markdown"],
        &["enforce", "--now", NOW, "--dry-run"],
        &["enforce", "--now", "2026-12-31", "--format", "json"],
    ] {
        let out = sb.run_env(args, &env);
        assert!(
            matches!(out.status.code(), Some(0) | Some(2)),
            "{args:?}: {}",
            text(&out)
        );
        for n in needles {
            assert!(!text(&out).contains(n), "{args:?} printed a secret: {}", text(&out));
        }
        seen.push_str(&text(&out));
    }
    // The runs did hit the unreachable workload and the failing webhooks.
    assert!(seen.contains("remote-app"), "{seen}");
    assert!(seen.contains("127.0.0.1:1"), "{seen}");
    assert!(seen.contains("FAILED to send"), "no notification was attempted: {seen}");
    assert!(seen.contains("$WEB_HOOK") && seen.contains("$WEB_SLACK"), "{seen}");
    let l = sb.ledger();
    assert_eq!(l["entries"]["aws-s3-versioning/remote-app"]["status"], "unknown", "{l}");
    assert_nowhere(&sb.path("guardrails"), &sb.path("cache"), &needles);

    // 3. Credentials in the guardrails repo URL itself (`--repo https://user:token@…`).
    let out = Command::new(BIN)
        .current_dir(sb.path("."))
        .args(["observe", "--now", NOW, "--repo"])
        .arg(format!("https://user:{SECRET}@127.0.0.1:1/guardrails.git"))
        .arg("--cache-dir")
        .arg(sb.path("cache"))
        .env("RAILYARD_GIT_TOKEN", HOOK_SECRET)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("127.0.0.1:1"), "{}", text(&out));
    for n in needles {
        assert!(!text(&out).contains(n), "{}", text(&out));
    }
    assert_nowhere(&sb.path("guardrails"), &sb.path("cache"), &needles);
}

// ---------------------------------------------------------------------------------------
// Configuration errors name file and line
// ---------------------------------------------------------------------------------------

/// Replaces `file` on develop and runs observe; returns everything it printed.
fn observe_with_file(sb: &Sandbox, file: &str, content: &str) -> String {
    commit(&sb.repo("guardrails"), "develop", &[(file, Some(content))], "edit");
    let out = sb.run(&["observe", "--now", NOW]);
    assert_eq!(out.status.code(), Some(2), "{file}: {}", text(&out));
    text(&out)
}

#[test]
fn bad_values_in_workloads_toml_are_errors_with_file_and_line() {
    let sb = Sandbox::standard();
    let cases: &[(&str, &str, &str)] = &[
        // (edit, expected location, expected words)
        ("grace_days = 30", "workloads.toml:2", "grace_days = \"thirty\""),
        ("grace_days = 30", "workloads.toml:2", "grace_days = -4"),
        (
            "[[workload]]\nname = \"web\"",
            "workloads.toml:9",
            "[[workload]]\nname = \"payments-api\"",
        ),
        ("name = \"web\"", "workloads.toml:10", "name = \"\""),
        ("team = \"web\"", "workloads.toml:12", "tema = \"web\""),
        ("repo = \"../web\"", "workloads.toml:11", "repo = \"ftp://host/web\""),
        (
            "[team.web]",
            "workloads.toml:18",
            "[team.web]\nwebhook_env = \"https://hooks.example.com/x\"",
        ),
        (
            "[team.web]",
            "workloads.toml:18",
            "[exceptions]\nmax_lifetime_days = 0\n\n[team.web]",
        ),
    ];
    for (from, want, to) in cases {
        let edited = REGISTRY.replacen(from, to, 1);
        let printed = observe_with_file(&sb, "workloads.toml", &edited);
        assert!(printed.contains(want), "{to:?}: expected {want} in {printed}");
    }
}

#[test]
fn bad_values_in_guardrail_and_exceptions_toml_are_errors_with_file_and_line() {
    let sb = Sandbox::standard();
    let toml_path = "guardrails/aws-s3-versioning/guardrail.toml";
    let original = bundled("aws-s3-versioning")
        .into_iter()
        .find(|(p, _)| p == toml_path)
        .unwrap()
        .1;
    let line_of = |text: &str, key: &str| {
        text.lines()
            .position(|l| l.starts_with(&format!("{key} =")))
            .unwrap_or_else(|| panic!("no {key} in {text}"))
            + 1
    };
    let sev = line_of(&original, "severity");
    let cases = [
        (
            original.replacen("severity = \"", "severity = \"severe", 1),
            sev,
            "severe",
        ),
        (
            original.replacen("title = ", "title = 42\nx = ", 1),
            line_of(&original, "title"),
            "invalid type",
        ),
        (format!("id = \"\"\n{original}"), 1, "differs from the folder name"),
        (
            original.replacen("grace_days = 30", "grace_days = \"soon\"", 1),
            line_of(&original, "grace_days"),
            "invalid type",
        ),
        (
            original.replacen("grace_days = 30", "deadline = 2026-02-30", 1),
            line_of(&original, "grace_days"),
            "invalid date",
        ),
        (
            original.replacen("grace_days = 30", "grace_days = 30\ngrace_dayz = 3", 1),
            line_of(&original, "grace_days") + 1,
            "grace_dayz",
        ),
    ];
    for (content, line, words) in cases {
        let printed = observe_with_file(&sb, toml_path, &content);
        let want = format!("{toml_path}:{line}");
        assert!(printed.contains(&want), "expected {want} in {printed}");
        assert!(printed.contains(words), "expected {words:?} in {printed}");
    }
    // Restore, then break exceptions.toml in each way.
    commit(
        &sb.repo("guardrails"),
        "develop",
        &[(toml_path, Some(&original))],
        "restore",
    );
    let exc = "guardrails/aws-s3-versioning/exceptions.toml";
    let good = "# waivers\n\n[[exception]]\nworkload = \"web\"\nresource = \"aws_s3_bucket.logs\"\nreason = \"r\"\napproved_by = \"sec@example.com\"\nexpires = 2027-01-01\n";
    let cases = [
        (good.replace("2027-01-01", "2027-13-01"), 8, "invalid"),
        (good.replace("2027-01-01", "\"soon\""), 8, "not a date"),
        (
            good.replace("resource = \"aws_s3_bucket.logs\"", "resource = \"aws_[s3\""),
            3,
            "glob",
        ),
        (
            good.replace("workload = \"web\"", "workload = \"\""),
            4,
            "must not be empty",
        ),
        (
            good.replace("reason = \"r\"", "reason = \"r\"\nreasn = \"typo\""),
            7,
            "reasn",
        ),
        (good.replace("reason = \"r\"", "reason = 3"), 6, "invalid type"),
    ];
    for (content, line, words) in cases {
        let printed = observe_with_file(&sb, exc, &content);
        let want = format!("{exc}:{line}");
        assert!(printed.contains(&want), "expected {want} in {printed}");
        assert!(printed.contains(words), "expected {words:?} in {printed}");
    }
}

// ---------------------------------------------------------------------------------------
// Exception governance
// ---------------------------------------------------------------------------------------

const EXCEPTIONS: &str = r#"# Waivers for aws-s3-versioning.

[[exception]]
workload = "web"
resource = "aws_s3_bucket.logs"
reason = "Immutable log objects"
approved_by = "security@example.com"
approved_on = 2026-10-01
ticket = "SEC-1"
expires = 2026-12-15

[[exception]]
workload = "web"
resource = "aws_s3_bucket.deleted_long_ago"
reason = "Was being migrated"
approved_by = "security@example.com"
approved_on = 2026-10-01
ticket = "SEC-2"
expires = 2026-12-01
"#;

#[test]
fn exceptions_longer_than_the_maximum_lifetime_are_rejected_with_file_and_line() {
    let registry = REGISTRY.replace(
        "[defaults]\ngrace_days = 30\n",
        "[defaults]\ngrace_days = 30\n\n[exceptions]\nmax_lifetime_days = 90\n",
    );
    let sb = Sandbox::with_registry(&registry);
    let exc = "guardrails/aws-s3-versioning/exceptions.toml";
    // 2026-10-01 to 2027-03-01 is 151 days.
    let too_long = EXCEPTIONS.replacen("expires = 2026-12-15", "expires = 2027-03-01", 1);
    commit(
        &sb.repo("guardrails"),
        "develop",
        &[(exc, Some(&too_long))],
        "long waiver",
    );
    let out = sb.run(&["observe", "--now", NOW]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains(&format!("{exc}:10")), "{}", text(&out));
    assert!(text(&out).contains("151 days"), "{}", text(&out));
    assert!(text(&out).contains("max_lifetime_days"), "{}", text(&out));
    // The other candidate is still observed and promoted; this one is not.
    assert!(sb.main_log()[0].contains("activate guardrail aws-ebs-volume-encryption"));
    assert!(!sb.main_log().iter().any(|m| m.contains("aws-s3-versioning")));

    // Without `approved_on` the lifetime cannot be checked: rejected at the exception's header.
    let undated = EXCEPTIONS.replacen("approved_on = 2026-10-01\n", "", 1);
    commit(
        &sb.repo("guardrails"),
        "develop",
        &[(exc, Some(&undated))],
        "undated waiver",
    );
    let out = sb.run(&["observe", "--now", NOW]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains(&format!("{exc}:3")), "{}", text(&out));
    assert!(text(&out).contains("approved_on"), "{}", text(&out));

    // Within the maximum: accepted.
    commit(
        &sb.repo("guardrails"),
        "develop",
        &[(exc, Some(EXCEPTIONS))],
        "fine waivers",
    );
    let out = sb.run(&["observe", "--now", NOW]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
}

#[test]
fn exceptions_that_match_no_finding_are_reported_as_stale() {
    let sb = Sandbox::standard();
    let exc = "guardrails/aws-s3-versioning/exceptions.toml";
    commit(&sb.repo("guardrails"), "develop", &[(exc, Some(EXCEPTIONS))], "waivers");
    let out = sb.run(&["observe", "--now", NOW, "--format", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let stale = report["stale_exceptions"].as_array().unwrap();
    assert_eq!(stale.len(), 1, "{report}");
    assert_eq!(stale[0]["resource"], "aws_s3_bucket.deleted_long_ago");
    assert_eq!(stale[0]["file"], exc);
    assert_eq!(stale[0]["line"], 12);
    assert_eq!(stale[0]["ticket"], "SEC-2");
    // The used one waived its finding.
    let l = sb.ledger();
    assert_eq!(l["entries"]["aws-s3-versioning/web"]["status"], "excepted", "{l}");

    let table = sb.run(&["observe", "--now", NOW]);
    assert!(text(&table).contains("Stale exceptions"), "{}", text(&table));
    assert!(text(&table).contains(&format!("{exc}:12")), "{}", text(&table));

    for args in [
        &["report", "--format", "json"][..],
        &["report", "--workload", "web", "--format", "json"],
        &["report", "--team", "web", "--format", "json"],
    ] {
        let out = sb.run(args);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
        let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let stale = r["stale_exceptions"].as_array().unwrap();
        assert_eq!(stale.len(), 1, "{args:?}: {r}");
        assert_eq!(stale[0]["line"], 12);
    }
    // Another team's view does not list web's exceptions.
    let out = sb.run(&["report", "--team", "payments", "--format", "json"]);
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(r["stale_exceptions"].as_array().unwrap().is_empty(), "{r}");
    let out = sb.run(&["report"]);
    assert!(text(&out).contains("Stale exceptions"), "{}", text(&out));
}
