//! Benchmark of `railyard dashboard` on a generated history: 1,000 workloads × 30 guardrails
//! × 365 daily runs (one ledger commit per day). Run it with:
//!
//!     cargo bench --bench dashboard
//!
//! The history is written directly as commits with git2 (each day's ledger files built
//! with Railyard's own ledger types and layout), not by running `observe` 365 times. Settings:
//! RAILYARD_BENCH_WORKLOADS (default 1000), RAILYARD_BENCH_DAYS (default 365),
//! RAILYARD_BENCH_KEEP=<dir> to build the repository there and keep it.
//!
//! Prints the size of the history, the time to generate it, then the wall time and peak RSS
//! of the `railyard dashboard` process and the size of the page. Targets: < 10 s, < 1 GiB.

use railyard::record::{GuardrailRecord, GuardrailState, Ledger, LedgerEntry, RecordedFinding};
use railyard::Day;
use railyard::Severity;
use railyard::Verdict;
use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::time::Instant;

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// Every file below `dir`, as (path relative to it, bytes).
fn files_below(dir: &Path, rel: &str, out: &mut Vec<(String, Vec<u8>)>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap()).collect();
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let name = e.file_name().to_string_lossy().into_owned();
        let path = if rel.is_empty() { name } else { format!("{rel}/{name}") };
        if e.file_type().unwrap().is_dir() {
            files_below(&e.path(), &path, out);
        } else {
            out.push((path, std::fs::read(e.path()).unwrap()));
        }
    }
}

/// A tree of `files` (nested paths), written to the repository.
fn tree(repo: &git2::Repository, files: &[(String, Vec<u8>)]) -> git2::Oid {
    let mut here: BTreeMap<String, git2::Oid> = BTreeMap::new();
    let mut sub: BTreeMap<String, Vec<(String, Vec<u8>)>> = BTreeMap::new();
    for (p, bytes) in files {
        match p.split_once('/') {
            Some((dir, rest)) => sub
                .entry(dir.to_string())
                .or_default()
                .push((rest.to_string(), bytes.clone())),
            None => {
                here.insert(p.clone(), repo.blob(bytes).unwrap());
            }
        }
    }
    let mut b = repo.treebuilder(None).unwrap();
    for (name, oid) in here {
        b.insert(&name, oid, 0o100644).unwrap();
    }
    for (name, files) in sub {
        b.insert(&name, tree(repo, &files), 0o040000).unwrap();
    }
    b.write().unwrap()
}

fn main() {
    let workloads = env_usize("RAILYARD_BENCH_WORKLOADS", 1000);
    let days = env_usize("RAILYARD_BENCH_DAYS", 365);
    let keep = std::env::var_os("RAILYARD_BENCH_KEEP").map(std::path::PathBuf::from);
    let tmp = tempfile::tempdir().unwrap();
    let root = keep.clone().unwrap_or_else(|| tmp.path().to_path_buf());
    let dir = root.join("guardrails");
    let _ = std::fs::remove_dir_all(&dir);
    let repo = git2::Repository::init(&dir).unwrap();
    let sig = git2::Signature::new("bench", "bench@example.com", &git2::Time::new(1_735_689_600, 0)).unwrap();

    // The bundled guardrails on `main`, but for two that are pending on `develop`.
    let bundled = Path::new(env!("CARGO_MANIFEST_DIR")).join("guardrails");
    let mut all = Vec::new();
    files_below(&bundled, "guardrails", &mut all);
    let ids: Vec<String> = std::fs::read_dir(&bundled)
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| e.file_type().unwrap().is_dir() && e.file_name() != "lib")
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let pending: Vec<&String> = ids.iter().take(2).collect();
    let mut registry = String::from("[defaults]\ngrace_days = 30\n");
    for w in 0..workloads {
        registry.push_str(&format!(
            "\n[[workload]]\nname = \"w{w:04}\"\nrepo = \"../w{w:04}\"\nteam = \"team-{:02}\"\n",
            w % 40
        ));
    }
    all.push(("workloads.toml".into(), registry.into_bytes()));
    let on_main: Vec<(String, Vec<u8>)> = all
        .iter()
        .filter(|(p, _)| !pending.iter().any(|id| p.starts_with(&format!("guardrails/{id}/"))))
        .cloned()
        .collect();
    let main_tree = repo.find_tree(tree(&repo, &on_main)).unwrap();
    let main = repo
        .commit(Some("refs/heads/main"), &sig, &sig, "main", &main_tree, &[])
        .unwrap();
    let develop_tree = repo.find_tree(tree(&repo, &all)).unwrap();
    let main_commit = repo.find_commit(main).unwrap();
    repo.commit(
        Some("refs/heads/develop"),
        &sig,
        &sig,
        "develop",
        &develop_tree,
        &[&main_commit],
    )
    .unwrap();

    // One ledger commit per day. Each pair has a 10% chance of a noncompliance streak
    // (1–3 findings) from a random day, fixed after 5–120 days or never; 3% of those are
    // waived by an exception for 60 days.
    let start = Day::parse("2025-01-01").unwrap();
    // The benchmarks' one deterministic generator: every run builds the same history.
    let mut rng = railyard_fleet::Rng::new(7);
    struct Plan {
        from: usize,
        to: usize,
        findings: usize,
        excepted: bool,
    }
    let mut plans: BTreeMap<(usize, usize), Plan> = BTreeMap::new();
    for g in 0..ids.len() {
        for w in 0..workloads {
            if rng.below(100) < 10 {
                let from = rng.below(days as u64) as usize;
                let to = if rng.below(3) == 0 {
                    usize::MAX
                } else {
                    from + 5 + rng.below(115) as usize
                };
                plans.insert(
                    (g, w),
                    Plan {
                        from,
                        to,
                        findings: 1 + rng.below(3) as usize,
                        excepted: rng.below(100) < 30,
                    },
                );
            }
        }
    }
    let mut ledger = Ledger::new();
    for (i, id) in ids.iter().enumerate() {
        ledger.guardrails.insert(
            id.clone(),
            GuardrailRecord {
                state: if i < 2 {
                    GuardrailState::Pending
                } else {
                    GuardrailState::Active
                },
                title: id.clone(),
                severity: Severity::High,
                develop_tree: String::new(),
                first_observed: start,
                fixed_deadline: None,
                grace_days: 30,
                activation: None,
            },
        );
    }
    let generate = Instant::now();
    let mut parent: Option<git2::Oid> = None;
    let mut bytes_total = 0usize;
    for d in 0..days {
        let now = start.plus_days(d as i64);
        ledger.clock = Some(now);
        for (g, id) in ids.iter().enumerate() {
            for w in 0..workloads {
                let workload = format!("w{w:04}");
                let plan = plans.get(&(g, w)).filter(|p| p.from <= d);
                let open = plan.is_some_and(|p| d < p.to);
                let first_seen = plan.map(|p| start.plus_days(p.from as i64));
                let f = |n: usize, expires: Option<Day>| RecordedFinding {
                    resource: format!("aws_s3_bucket.b{n}"),
                    id: format!("infra:aws_s3_bucket.b{n}"),
                    file: "infra/main.tf".into(),
                    line: 1 + 4 * n,
                    message: format!("S3 bucket `b{n}` has no versioning"),
                    first_seen: first_seen.unwrap_or(now),
                    exception_expires: expires,
                };
                let (status, findings, excepted) = match plan {
                    Some(p) if open && p.excepted => (
                        Verdict::Excepted,
                        vec![],
                        (0..p.findings)
                            .map(|n| f(n, Some(start.plus_days(p.from as i64 + 60))))
                            .collect(),
                    ),
                    Some(p) if open => (
                        Verdict::Noncompliant,
                        (0..p.findings).map(|n| f(n, None)).collect(),
                        vec![],
                    ),
                    _ => (Verdict::Compliant, vec![], vec![]),
                };
                ledger.entries.insert(
                    railyard::record::key(id, &workload),
                    LedgerEntry {
                        guardrail: id.clone(),
                        team: format!("team-{:02}", w % 40),
                        workload,
                        status,
                        findings,
                        excepted,
                        problems: vec![],
                        first_seen,
                        deadline: first_seen.map(|f| f.plus_days(30)),
                        legacy_last_seen: Default::default(),
                        legacy_last_observed: Default::default(),
                        resolved: plan
                            .filter(|p| !open && p.to <= d)
                            .map(|p| start.plus_days(p.to as i64)),
                        activated: None,
                        workload_commit: "0123456789abcdef0123456789abcdef01234567".into(),
                        notified: BTreeMap::new(),
                        claimed: BTreeMap::new(),
                        queued: BTreeMap::new(),
                    },
                );
            }
        }
        // The files `observe` writes (layout 2: head, one file per workload, summary).
        let files = ledger.files();
        bytes_total += files.iter().map(|(_, b)| b.len()).sum::<usize>();
        let t = repo.find_tree(tree(&repo, &files)).unwrap();
        let parents: Vec<git2::Commit> = parent.iter().map(|p| repo.find_commit(*p).unwrap()).collect();
        let refs: Vec<&git2::Commit> = parents.iter().collect();
        parent = Some(
            repo.commit(
                Some("refs/heads/railyard/ledger"),
                &sig,
                &sig,
                &format!("railyard: observe\n\nRailyard-Now: {now}\n"),
                &t,
                &refs,
            )
            .unwrap(),
        );
    }
    println!(
        "history: {workloads} workloads x {} guardrails x {days} daily runs = {} ledger entries per run, {:.1} MiB of ledger files per run; generated in {:.1} s",
        ids.len(),
        ledger.entries.len(),
        bytes_total as f64 / days as f64 / 1048576.0,
        generate.elapsed().as_secs_f64()
    );

    let site = root.join("site");
    let t = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_railyard"))
        .args(["dashboard", "--out"])
        .arg(&site)
        .arg("--repo")
        .arg(&dir)
        .arg("--cache-dir")
        .arg(root.join("cache"))
        .args(["--now", &start.plus_days(days as i64 - 1).to_string()])
        .output()
        .unwrap();
    let wall = t.elapsed().as_secs_f64();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    // Peak RSS of the only child process waited for: the dashboard run (KiB on Linux).
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage) };
    let page = std::fs::metadata(site.join("index.html")).unwrap().len();
    print!("{}", String::from_utf8_lossy(&out.stdout));
    println!(
        "dashboard: {wall:.2} s wall, peak RSS {:.0} MiB, index.html {:.1} MiB (targets: < 10 s, < 1024 MiB)",
        usage.ru_maxrss as f64 / 1024.0,
        page as f64 / 1048576.0
    );
}
