//! Benchmark of `railyard check` on a generated, realistic 100-file Terraform workload with
//! the bundled guardrail library (the workload comes from `railyard_fleet::terraform`, the
//! one generator, shared with `bench/compare-checkov.py`). Run it with:
//!
//!     cargo bench --bench check
//!
//! (`cargo bench` builds the binary and the library with the optimised `bench` profile.)
//! Settings: RAILYARD_BENCH_RUNS (default 20), RAILYARD_BENCH_FILES (default 100),
//! RAILYARD_BENCH_KEEP=<dir> to write the workload there and keep it.
//!
//! Prints the workload's size, then for the binary (process start, load and compile of the
//! guardrails, read, parse, evaluate, render JSON) and for the in-process library path
//! (read + parse + evaluate with compiled policies) the median and p95 latency and
//! resources per second.

use railyard::Day;
use railyard::WorkloadInfo;
use railyard::{read_dir, ReadLimits};
use railyard::{Evaluator, PreparedWorkload};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn report(label: &str, mut times: Vec<Duration>, resources: usize) {
    times.sort();
    let median = percentile(&times, 50.0);
    let p95 = percentile(&times, 95.0);
    println!(
        "{label:<28} runs {:>3}  median {:>9.1} ms  p95 {:>9.1} ms  min {:>9.1} ms  {:>9.0} resources/s",
        times.len(),
        ms(median),
        ms(p95),
        ms(times[0]),
        resources as f64 / median.as_secs_f64()
    );
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` passes nothing: run once there.
    let quick = !std::env::args().any(|a| a == "--bench");
    let env_usize = |k: &str, d: usize| std::env::var(k).ok().and_then(|v| v.parse().ok()).unwrap_or(d);
    let runs = if quick { 1 } else { env_usize("RAILYARD_BENCH_RUNS", 20) };
    let file_count = env_usize("RAILYARD_BENCH_FILES", 100);

    let tmp = tempfile::tempdir().unwrap();
    let dir: PathBuf = match std::env::var("RAILYARD_BENCH_KEEP") {
        Ok(d) => PathBuf::from(d),
        Err(_) => tmp.path().join("workload"),
    };
    let generated = railyard_fleet::terraform::write(&dir, file_count).unwrap();
    let guardrails = Path::new(env!("CARGO_MANIFEST_DIR")).join("guardrails");
    let bin = env!("CARGO_BIN_EXE_railyard");

    // One run to learn what the binary sees, and to check it really evaluated everything.
    let out = Command::new(bin)
        .args(["check", "--format", "json", "--now", "2030-01-01", "--guardrails"])
        .arg(&guardrails)
        .arg(&dir)
        .output()
        .unwrap();
    let report_json: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("railyard check: {e}: {}", String::from_utf8_lossy(&out.stderr)));
    let summary = &report_json["summary"];
    let errors = report_json["errors"].as_array().unwrap();
    assert!(
        errors.iter().all(|e| e["guardrail"].is_string()),
        "the generated workload must parse: {errors:?}"
    );
    for e in errors {
        println!("WARNING: could not evaluate: {} {}", e["guardrail"], e["message"]);
    }
    let expected_code = if errors.is_empty() { 1 } else { 2 };
    assert_eq!(
        out.status.code(),
        Some(expected_code),
        "the generated workload has findings"
    );
    let resources = summary["resources"].as_u64().unwrap() as usize;
    let bytes: u64 = walk_size(&dir);
    println!(
        "workload: {} files, {} KiB, {} resources ({} generated as managed resources), {} guardrails, {} findings",
        summary["files"],
        bytes / 1024,
        resources,
        generated,
        summary["guardrails"],
        summary["findings"]
    );

    // The binary, end to end.
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs {
        let start = Instant::now();
        let status = Command::new(bin)
            .args(["check", "--format", "json", "--now", "2030-01-01", "--guardrails"])
            .arg(&guardrails)
            .arg(&dir)
            .stdout(std::process::Stdio::null())
            .status()
            .unwrap();
        times.push(start.elapsed());
        assert_eq!(status.code(), Some(expected_code));
    }
    report("binary `railyard check`", times, resources);

    // In-process: load and compile the library once, then read + parse + evaluate per run.
    let start = Instant::now();
    let library = railyard::load_dir(&guardrails).unwrap();
    let load = start.elapsed();
    let start = Instant::now();
    // One worker and the default limits.
    let settings = railyard::RunSettings::default();
    let mut evaluator = Evaluator::new(&library, &settings);
    let compile = start.elapsed();
    println!("library: load {:.1} ms, compile {:.1} ms (once)", ms(load), ms(compile));
    let today = Day::parse("2030-01-01").unwrap();
    let (mut parse_times, mut eval_times, mut total_times) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..runs {
        let start = Instant::now();
        let (files, skipped) = read_dir(&dir, ReadLimits::default()).unwrap();
        let info = WorkloadInfo {
            name: "bench".into(),
            team: String::new(),
            commit: String::new(),
        };
        let workload = PreparedWorkload::new(info, &files, skipped, &settings);
        let parsed = start.elapsed();
        let evals = evaluator.evaluate_all(&workload, today);
        let total = start.elapsed();
        assert_eq!(workload.input.resources.len(), resources);
        if errors.is_empty() {
            assert!(evals.iter().all(|e| e.problems.is_empty()));
            let found = evals.iter().map(|e| e.findings.len()).sum::<usize>() as u64;
            assert_eq!(found, summary["findings"].as_u64().unwrap());
        }
        parse_times.push(parsed);
        eval_times.push(total - parsed);
        total_times.push(total);
    }
    report("in-process read + parse", parse_times, resources);
    report("in-process evaluate", eval_times, resources);
    report("in-process read+parse+eval", total_times, resources);
}

fn walk_size(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            if e.file_type().unwrap().is_dir() {
                walk_size(&e.path())
            } else {
                e.metadata().unwrap().len()
            }
        })
        .sum()
}
