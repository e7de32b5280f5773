//! Fleet-scale observation through the CLI: the result cache (a second run evaluates
//! nothing; a workload commit or an approved exception costs only what changed), sharded runs
//! merged into the same ledger and promotions as a single run, and parallel runs giving the
//! same results as sequential ones.

use crate::common;
use railyard::git::{commit_changes, create_branch};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_railyard");
const ROOT: &str = env!("CARGO_MANIFEST_DIR");

const COMPLIANT_TF: &str = r#"resource "aws_s3_bucket" "data" {
  bucket = "data"
}

resource "aws_s3_bucket_versioning" "data" {
  bucket = aws_s3_bucket.data.id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_ebs_volume" "v" {
  availability_zone = "eu-west-1a"
  size              = 10
  encrypted         = true
}
"#;

const UNVERSIONED_TF: &str = r#"resource "aws_s3_bucket" "logs" {
  bucket = "logs"
}
"#;

fn files(changes: &[(&str, &str)]) -> Vec<(String, Option<Vec<u8>>)> {
    changes
        .iter()
        .map(|(p, c)| (p.to_string(), Some(c.as_bytes().to_vec())))
        .collect()
}

/// The files of bundled guardrail folders, as (path in the guardrails repo, content).
fn bundled(ids: &[&str]) -> Vec<(String, Option<Vec<u8>>)> {
    ids.iter()
        .flat_map(|id| common::sandbox::bundled(id))
        .map(|(p, c)| (p, Some(c.into_bytes())))
        .collect()
}

struct Fleet {
    dir: tempfile::TempDir,
    names: Vec<String>,
}

impl Fleet {
    /// `n` workloads (every third one without S3 versioning) and a guardrails repo `repo`
    /// with two candidates: aws-ebs-volume-encryption (breaks nobody) and aws-s3-versioning.
    fn new(n: usize) -> Fleet {
        let dir = tempfile::tempdir().unwrap();
        let mut names = Vec::new();
        for i in 0..n {
            let name = format!("app-{i:02}");
            let tf = if i % 3 == 2 { UNVERSIONED_TF } else { COMPLIANT_TF };
            commit_changes(
                &dir.path().join("workloads").join(&name),
                "main",
                &files(&[("infra/main.tf", tf)]),
                "infra",
            )
            .unwrap();
            names.push(name);
        }
        let f = Fleet { dir, names };
        f.guardrails_repo("repo");
        f
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    /// A guardrails repo (another one gets identical content, for comparisons).
    fn guardrails_repo(&self, rel: &str) {
        let mut registry = String::from("[defaults]\ngrace_days = 30\n");
        for (i, n) in self.names.iter().enumerate() {
            registry.push_str(&format!(
                "\n[[workload]]\nname = \"{n}\"\nrepo = \"../workloads/{n}\"\npaths = [\"infra\"]\nteam = \"team-{}\"\n",
                i % 2
            ));
        }
        let path = self.path(rel);
        let mut base = bundled(&["lib"]);
        base.push(("workloads.toml".into(), Some(registry.into_bytes())));
        commit_changes(&path, "main", &base, "initial").unwrap();
        create_branch(&path, "develop", "main").unwrap();
        commit_changes(
            &path,
            "develop",
            &bundled(&["aws-ebs-volume-encryption", "aws-s3-versioning"]),
            "two candidates",
        )
        .unwrap();
    }

    fn run(&self, repo: &str, cache: &str, args: &[&str], envs: &[(&str, &str)]) -> Output {
        let mut cmd = Command::new(BIN);
        cmd.args(args)
            .arg("--repo")
            .arg(self.path(repo))
            .arg("--cache-dir")
            .arg(self.path(cache))
            .arg("--no-notify")
            .env_remove("RAILYARD_JOBS")
            .env("RAILYARD_ACTOR", "sec-lead")
            // The machine's date for runs that write (debug builds): the stories run to 2026-12-31.
            .env("RAILYARD_TEST_TODAY", "2026-12-31");
        for (k, v) in envs {
            cmd.env(k, v);
        }
        cmd.output().unwrap()
    }

    fn observe_json(&self, repo: &str, cache: &str, extra: &[&str], envs: &[(&str, &str)]) -> Value {
        let mut args = vec!["observe", "--format", "json", "--now", "2026-11-01"];
        args.extend_from_slice(extra);
        let out = self.run(repo, cache, &args, envs);
        assert!(
            out.status.code() == Some(0) || out.status.code() == Some(2),
            "{}",
            text(&out)
        );
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&out)))
    }

    fn ledger(&self, repo: &str) -> Value {
        common::sandbox::ledger_json(&git2::Repository::open(self.path(repo)).unwrap())
    }

    fn main_tree(&self, repo: &str) -> String {
        let r = git2::Repository::open(self.path(repo)).unwrap();
        let c = r.find_reference("refs/heads/main").unwrap().peel_to_commit().unwrap();
        c.tree_id().to_string()
    }
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn stat(report: &Value, key: &str) -> u64 {
    report["stats"][key]
        .as_u64()
        .unwrap_or_else(|| panic!("no stats.{key} in {report}"))
}

/// Ledger entries and guardrail states, without what differs between two repos by
/// construction (promotion commit ids).
fn comparable(ledger: &Value) -> Value {
    let mut l = ledger.clone();
    for (_, g) in l["guardrails"].as_object_mut().unwrap().iter_mut() {
        if let Some(a) = g.get_mut("activation").and_then(|a| a.as_object_mut()) {
            a.remove("commit");
        }
    }
    serde_json::json!({"entries": l["entries"], "guardrails": l["guardrails"], "clock": l["clock"]})
}

#[test]
fn second_run_evaluates_nothing_and_a_commit_costs_only_that_workload() {
    let f = Fleet::new(3);
    let r = f.observe_json("repo", "cache", &[], &[]);
    assert_eq!(stat(&r, "workloads"), 3);
    assert_eq!(stat(&r, "workloads_parsed"), 3);
    assert_eq!(stat(&r, "evaluations"), 6);
    assert_eq!(stat(&r, "cache_hits"), 0);

    // Nothing changed: nothing parsed, nothing evaluated, same results.
    let r2 = f.observe_json("repo", "cache", &[], &[]);
    assert_eq!(stat(&r2, "workloads_parsed"), 0);
    assert_eq!(stat(&r2, "evaluations"), 0);
    assert_eq!(stat(&r2, "cache_hits"), 6);
    assert_eq!(r2["workloads"], r["workloads"]);
    assert_eq!(r2["to_fix"], r["to_fix"]);
    let held: Vec<&Value> = r2["candidates"].as_array().unwrap().iter().collect();
    assert!(held
        .iter()
        .any(|c| c["id"] == "aws-s3-versioning" && c["noncompliant"] == 1));

    // A new commit in one workload: only that workload is parsed and evaluated.
    commit_changes(
        &f.path("workloads/app-02"),
        "main",
        &files(&[("infra/main.tf", COMPLIANT_TF)]),
        "enable versioning",
    )
    .unwrap();
    let r3 = f.observe_json("repo", "cache", &[], &[]);
    assert_eq!(stat(&r3, "workloads_parsed"), 1, "{}", r3["stats"]);
    assert_eq!(stat(&r3, "evaluations"), 2);
    assert_eq!(stat(&r3, "cache_hits"), 4);
    let l = f.ledger("repo");
    assert_eq!(l["entries"]["aws-s3-versioning/app-02"]["status"], "compliant");
    assert_eq!(l["guardrails"]["aws-s3-versioning"]["state"], "active");
}

#[test]
fn an_approved_exception_needs_no_re_evaluation() {
    let f = Fleet::new(3);
    let r = f.observe_json("repo", "cache", &[], &[]);
    assert_eq!(stat(&r, "evaluations"), 6);
    let exceptions = "[[exception]]\nworkload = \"app-02\"\nresource = \"aws_s3_bucket.logs\"\nreason = \"log bucket, replaced in Q1\"\napproved_by = \"security@example.com\"\nexpires = 2027-03-01\n";
    commit_changes(
        &f.path("repo"),
        "develop",
        &files(&[("guardrails/aws-s3-versioning/exceptions.toml", exceptions)]),
        "approve an exception",
    )
    .unwrap();
    let r2 = f.observe_json("repo", "cache", &[], &[]);
    assert_eq!(stat(&r2, "evaluations"), 0, "{}", r2["stats"]);
    assert_eq!(stat(&r2, "cache_hits"), 6);
    let l = f.ledger("repo");
    assert_eq!(l["entries"]["aws-s3-versioning/app-02"]["status"], "excepted");
    assert_eq!(
        l["guardrails"]["aws-s3-versioning"]["state"], "active",
        "promoted with its exception"
    );

    // A changed policy is a miss for that guardrail only.
    let policy = std::fs::read_to_string(Path::new(ROOT).join("guardrails/aws-ebs-volume-encryption/policy.rego"))
        .unwrap()
        + "\n# reworded\n";
    commit_changes(
        &f.path("repo"),
        "develop",
        &files(&[("guardrails/aws-ebs-volume-encryption/policy.rego", &policy)]),
        "reword",
    )
    .unwrap();
    let r3 = f.observe_json("repo", "cache", &[], &[]);
    assert_eq!(stat(&r3, "evaluations"), 3, "{}", r3["stats"]);
    assert_eq!(stat(&r3, "workloads_parsed"), 3);
    assert_eq!(stat(&r3, "cache_hits"), 3);
}

#[test]
fn shard_runs_merged_give_the_same_ledger_and_promotions_as_one_run() {
    let f = Fleet::new(9);
    f.guardrails_repo("sharded");
    let single = f.observe_json("repo", "cache-single", &[], &[]);

    let shards = f.path("shards");
    let shard_dir = shards.to_str().unwrap();
    let mut evaluated = 0;
    for k in 1..=3 {
        let spec = format!("{k}/3");
        let out = f.run(
            "sharded",
            &format!("cache-shard-{k}"),
            &[
                "observe",
                "--format",
                "json",
                "--now",
                "2026-11-01",
                "--shard",
                &spec,
                "--shard-dir",
                shard_dir,
            ],
            &[],
        );
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
        let r: Value = serde_json::from_slice(&out.stdout).unwrap();
        evaluated += stat(&r, "workloads");
        assert!(shards.join(format!("shard-{k}-of-3.json")).exists());
    }
    assert_eq!(evaluated, 9, "every workload in exactly one shard");
    let g = git2::Repository::open(f.path("sharded")).unwrap();
    assert!(
        g.find_reference("refs/heads/railyard/ledger").is_err(),
        "a shard run wrote the ledger"
    );
    let merged = f.observe_json("sharded", "cache-merge", &["--merge-shards", shard_dir], &[]);
    assert_eq!(merged["candidates"].as_array().unwrap().len(), 2);
    for (a, b) in single["candidates"]
        .as_array()
        .unwrap()
        .iter()
        .zip(merged["candidates"].as_array().unwrap())
    {
        assert_eq!(a["id"], b["id"]);
        assert_eq!(a["action"], b["action"]);
        assert_eq!(
            (&a["compliant"], &a["noncompliant"], &a["unknown"]),
            (&b["compliant"], &b["noncompliant"], &b["unknown"])
        );
    }
    assert_eq!(single["to_fix"].as_array().unwrap().len(), 3);
    assert_eq!(comparable(&f.ledger("repo")), comparable(&f.ledger("sharded")));
    assert_eq!(f.main_tree("repo"), f.main_tree("sharded"), "same promotions");
}

#[test]
fn a_missing_shard_blocks_every_promotion() {
    let f = Fleet::new(9);
    let shards = f.path("shards");
    let shard_dir = shards.to_str().unwrap();
    for k in [1, 3] {
        let spec = format!("{k}/3");
        let out = f.run(
            "repo",
            "cache",
            &[
                "observe",
                "--now",
                "2026-11-01",
                "--shard",
                &spec,
                "--shard-dir",
                shard_dir,
            ],
            &[],
        );
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    }
    let before = f.main_tree("repo");
    let out = f.run(
        "repo",
        "cache",
        &["observe", "--now", "2026-11-01", "--merge-shards", shard_dir],
        &[],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("not evaluated by any shard"), "{}", text(&out));
    assert_eq!(f.main_tree("repo"), before, "promoted without every workload evaluated");
    let l = f.ledger("repo");
    let unknown = l["entries"]
        .as_object()
        .unwrap()
        .values()
        .filter(|e| e["status"] == "unknown")
        .count();
    assert!(unknown > 0);

    // Shards of another develop commit are refused.
    commit_changes(
        &f.path("repo"),
        "develop",
        &files(&[("README.md", "changed")]),
        "move develop",
    )
    .unwrap();
    let out = f.run(
        "repo",
        "cache",
        &["observe", "--now", "2026-11-01", "--merge-shards", shard_dir],
        &[],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("re-run the shards"), "{}", text(&out));
}

/// Fewer workloads to evaluate than workers: each worker used to evaluate in this process,
/// forking its budgeted child while the other workers parsed and allocated (with mimalloc, a
/// child could then wait for ever on a lock another thread held: `tests/cli/fork_safety.rs`
/// saw it). Now every evaluation goes through a helper forked while no other thread runs, or
/// is done after the workers: the debug binary checks each fork (`isolate::check_forks`) and
/// fails the run on one made beside another thread.
#[test]
fn a_few_workloads_on_several_workers_are_never_forked_beside_another_thread() {
    let f = Fleet::new(2);
    f.guardrails_repo("parallel");
    let seq = f.observe_json("repo", "cache-seq", &["--jobs", "1", "--dry-run"], &[]);
    // A fork beside another thread panics the debug binary: `observe_json` then fails on its
    // exit status, with the message.
    let par = f.observe_json("parallel", "cache-par", &["--jobs", "3", "--dry-run"], &[]);
    assert_eq!(stat(&par, "jobs"), 2, "two workloads: two workers");
    assert_eq!(stat(&par, "evaluations"), stat(&seq, "evaluations"));
    assert!(stat(&par, "evaluations") > 0);
    assert_eq!(seq["workloads"], par["workloads"]);
}

#[test]
fn parallel_and_sequential_runs_give_the_same_results() {
    let f = Fleet::new(8);
    f.guardrails_repo("parallel");
    let seq = f.observe_json("repo", "cache-seq", &["--jobs", "1"], &[]);
    let par = f.observe_json("parallel", "cache-par", &[], &[("RAILYARD_JOBS", "4")]);
    assert_eq!(stat(&seq, "jobs"), 1);
    assert_eq!(stat(&par, "jobs"), 4);
    assert_eq!(seq["workloads"], par["workloads"]);
    assert_eq!(seq["to_fix"], par["to_fix"]);
    let strip = |r: &Value| {
        r["candidates"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                let mut c = c.clone();
                c.as_object_mut().unwrap().remove("commit");
                c
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(strip(&seq), strip(&par));
    assert_eq!(comparable(&f.ledger("repo")), comparable(&f.ledger("parallel")));
}

#[test]
fn unknown_results_settled_by_the_files_are_cached_and_the_rest_evaluated_again() {
    let f = Fleet::new(3);
    // app-00 calls a registry module that is not in the repository: unknown for every
    // Terraform guardrail, whatever run reads it. app-01 has a file over the size limit given
    // below: unknown because of this run's setting, so never cached.
    commit_changes(
        &f.path("workloads/app-00"),
        "main",
        &files(&[(
            "infra/vpc.tf",
            "module \"vpc\" {\n  source  = \"terraform-aws-modules/vpc/aws\"\n  version = \"5.0.0\"\n}\n",
        )]),
        "a registry module",
    )
    .unwrap();
    let big = format!("# {}\n{COMPLIANT_TF}", "x".repeat(3000));
    commit_changes(
        &f.path("workloads/app-01"),
        "main",
        &files(&[("infra/big.tf", &big)]),
        "big",
    )
    .unwrap();
    let limit = ["--max-file-size", "2000"];
    let r = f.observe_json("repo", "cache", &limit, &[]);
    assert_eq!(stat(&r, "workloads_parsed"), 3);
    assert_eq!(stat(&r, "evaluations"), 6);
    let problems = |r: &Value, w: &str| -> Value {
        r["workloads"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["name"] == w)
            .map(|x| x["problems"].clone())
            .unwrap()
    };
    let unknowns = |r: &Value| -> Vec<String> {
        r["candidates"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|c| {
                c["problems"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|p| p.as_str().unwrap().to_string())
            })
            .filter(|p| p.starts_with("app-00:"))
            .collect()
    };
    let p0 = unknowns(&r);
    assert_eq!(p0.len(), 2, "{p0:?}");
    assert!(p0.iter().all(|p| p.contains("terraform-aws-modules/vpc/aws")), "{p0:?}");
    assert!(problems(&r, "app-01").to_string().contains("big.tf"), "{r}");

    // Attribution of findings ("last changed by") is kept by commit and file between runs.
    assert!(std::fs::read_dir(f.path("cache/blame")).unwrap().count() > 0);
    // Again, nothing changed: app-00's unknown results come from the cache with its problems;
    // app-01 is read, parsed and evaluated again.
    let r2 = f.observe_json("repo", "cache", &limit, &[]);
    assert_eq!(stat(&r2, "workloads_parsed"), 1, "{}", r2["stats"]);
    assert_eq!(stat(&r2, "evaluations"), 2, "{}", r2["stats"]);
    assert_eq!(stat(&r2, "cache_hits"), 4);
    assert_eq!(unknowns(&r2), p0);
    assert_eq!(r2["candidates"], r["candidates"]);
    // Without the limit app-01 is read whole: nothing cached hid it.
    let r3 = f.observe_json("repo", "cache", &[], &[]);
    let p1 = problems(&r3, "app-01");
    assert!(p1.is_null() || p1.as_array().is_some_and(|a| a.is_empty()), "{p1}");
    assert_eq!(stat(&r3, "workloads_parsed"), 1, "{}", r3["stats"]);
}

/// The children of process `pid` (from `/proc/*/stat`: the parent id follows the name).
fn children_of(pid: u32) -> Vec<u32> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(child) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        let after_name = stat.rsplit_once(')').map(|(_, rest)| rest).unwrap_or("");
        if after_name.split_whitespace().nth(1).and_then(|p| p.parse::<u32>().ok()) == Some(pid) {
            out.push(child);
        }
    }
    out
}

#[test]
fn a_helper_that_dies_while_evaluating_makes_that_workload_unknown_with_the_reason() {
    let f = Fleet::new(2);
    // A candidate that takes a long while on app-00 (the first workload), so that its helper
    // is seen at work there.
    commit_changes(
        &f.path("repo"),
        "develop",
        &files(&[
            (
                "guardrails/slow-check/guardrail.toml",
                "title = \"Slow\"\nseverity = \"low\"\nremediation = \"none\"\n",
            ),
            (
                "guardrails/slow-check/policy.rego",
                "package railyard.slow_check\n\ndeny contains \"never\" if {\n\tinput.workload.name == \"app-00\"\n\tcount([1 | some i in numbers.range(1, 900); some j in numbers.range(1, 900); i * j < 0]) > 0\n}\n",
            ),
        ]),
        "a slow candidate",
    )
    .unwrap();
    let args = [
        "observe",
        "--format",
        "json",
        "--now",
        "2026-11-01",
        "--dry-run",
        "--jobs",
        "1",
    ];
    // What the run gives when nothing goes wrong.
    let reference = f.run("repo", "cache-reference", &args, &[("RAILYARD_EVAL_TIMEOUT", "60s")]);
    let reference: Value =
        serde_json::from_slice(&reference.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&reference)));
    let mut lost = None;
    let mut orphans: Vec<u32> = Vec::new();
    for _ in 0..5 {
        let _ = std::fs::remove_dir_all(f.path("cache"));
        let child = Command::new(BIN)
            .args(args)
            .arg("--repo")
            .arg(f.path("repo"))
            .arg("--cache-dir")
            .arg(f.path("cache"))
            .args(["--no-notify", "--eval-timeout", "60s"])
            .env_remove("RAILYARD_JOBS")
            .env("RAILYARD_TEST_TODAY", "2026-12-31")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let pid = child.id();
        let start = std::time::Instant::now();
        // The helper at work: a child of this run's child whose own child (the slow
        // evaluation) has been there for a while.
        let mut since: Option<(u32, u32, std::time::Instant)> = None;
        while start.elapsed() < std::time::Duration::from_secs(60) {
            let busy = children_of(pid)
                .into_iter()
                .find_map(|h| children_of(h).first().map(|c| (h, *c)));
            match (busy, since) {
                (Some((h, c)), Some((h0, c0, t))) if (h, c) == (h0, c0) => {
                    if t.elapsed() > std::time::Duration::from_millis(500) {
                        orphans = vec![c];
                        // SAFETY: signalling a process this test's child started.
                        unsafe { libc::kill(h as i32, libc::SIGKILL) };
                        break;
                    }
                }
                (Some((h, c)), _) => since = Some((h, c, std::time::Instant::now())),
                (None, _) => since = None,
            }
            std::thread::sleep(std::time::Duration::from_millis(2));
        }
        // Nothing the helper started outlives it: its child dies with it at once (it would
        // otherwise run on for seconds, unwatched, holding the pipe this run reads).
        let gone = |p: &u32| {
            std::fs::read_to_string(format!("/proc/{p}/stat"))
                .map_or(true, |s| s.rsplit_once(") ").is_some_and(|(_, r)| r.starts_with('Z')))
        };
        let killed_at = std::time::Instant::now();
        while !orphans.iter().all(gone) && killed_at.elapsed() < std::time::Duration::from_secs(2) {
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        assert!(orphans.iter().all(gone), "still running: {orphans:?}");
        let out = child.wait_with_output().unwrap();
        if text(&out).contains("the helper process ended (killed by signal 9)") {
            lost = Some(out);
            break;
        }
    }
    let out = lost.expect("a run whose helper was killed at work");
    // Unknown, with the reason, never a pass: the run says so and exits 2.
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&out)));
    let all = report.to_string();
    assert!(
        all.contains("not evaluated: the helper process ended (killed by signal 9); the next run evaluates it again"),
        "{all}"
    );
    // app-00 is unknown with the reason; app-01, evaluated by the worker itself after the
    // helper was gone, exactly as in the run where nothing went wrong.
    assert_eq!(stat(&report, "workloads"), 2);
    assert_ne!(report["workloads"][0], reference["workloads"][0]);
    assert_eq!(report["workloads"][1], reference["workloads"][1]);
    assert!(!orphans.is_empty());
}
