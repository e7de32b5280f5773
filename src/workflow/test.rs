//! `railyard test [DIR]`: runs every guardrail's fixtures, so a guardrail is developed and
//! proven on `develop` before it ever judges a workload. With `--bench`, also times each
//! guardrail's policy on its fixtures (and on a workload folder), costliest first.

use super::Outcome;
use crate::evaluate::{fixtures, Evaluator, PreparedWorkload};
use crate::files::{read_dir, ReadLimits};
use crate::guardrail::Library;
use crate::limits::RunSettings;
use crate::output::Format;
pub use crate::report::test::TestReport;
use crate::report::test::{BenchWorkload, GuardrailCost, TestBench};
use crate::workload::WorkloadInfo;
use anyhow::Context;
use std::io::Write;
use std::path::PathBuf;

/// Rounds of `--bench`: the fastest of three evens out the other work on a shared machine.
const BENCH_ROUNDS: u32 = 3;

/// What `--bench` asks for.
#[derive(Debug, Clone, Default)]
pub struct BenchOptions {
    /// Also time every guardrail on this workload folder (`--bench-workload`).
    pub workload: Option<PathBuf>,
}

pub fn test(
    library: &Library,
    settings: &RunSettings,
    format: Format,
    bench: Option<BenchOptions>,
    out: &mut dyn Write,
) -> anyhow::Result<Outcome> {
    // Run each guardrail's pass and fail fixtures with its own policy.
    let mut cases = fixtures::run(library, settings);
    // Then the Rego unit tests of `lib/` and of the guardrail folders.
    let rego_tests = crate::evaluate::regotest::run(library, settings);
    let rego_count = rego_tests.len();
    cases.extend(rego_tests);
    let failed = cases.iter().filter(|c| !c.passed).count();
    let bench = bench.map(|b| run_bench(library, settings, &b)).transpose()?;
    let report = TestReport {
        version: 1,
        guardrails: library.guardrails.len(),
        passed: cases.len() - failed,
        failed,
        rego_tests: rego_count,
        cases,
        bench,
    };
    // Print per case, then the summary line CI reads.
    crate::output::render(format, &report, out)?;
    Ok(if report.failed > 0 {
        Outcome::Findings
    } else {
        Outcome::Clean
    })
}

/// Times each guardrail's policy alone (the `RAILYARD_TIMINGS` clock, kept by the evaluator)
/// on its own fixtures and, if asked, on a workload folder; the fastest of [`BENCH_ROUNDS`].
fn run_bench(library: &Library, settings: &RunSettings, opts: &BenchOptions) -> anyhow::Result<TestBench> {
    let mut evaluator = Evaluator::new(library, settings);
    let mut workload = None;
    let mut prepared = None;
    if let Some(path) = &opts.workload {
        let (files, skipped) = read_dir(path, ReadLimits::for_workload(&settings.limits))
            .with_context(|| format!("reading the --bench-workload folder `{}`", path.display()))?;
        let info = WorkloadInfo {
            name: path.display().to_string(),
            team: String::new(),
            commit: String::new(),
        };
        let w = PreparedWorkload::new(info, &files, skipped, settings);
        let mut problems: Vec<String> = w.problems.iter().map(|p| p.to_string()).collect();
        problems.extend(w.skipped.iter().map(|s| format!("{}: {}", s.path, s.reason)));
        workload = Some(BenchWorkload {
            path: path.display().to_string(),
            files: files.len(),
            resources: w.input.resources.len(),
            problems,
        });
        prepared = Some(w);
    }
    let per_resource = |ms: f64, n: usize| (n > 0).then(|| ms * 1000.0 / n as f64);
    let mut costs = Vec::new();
    for (index, g) in library.guardrails.iter().enumerate() {
        let cases: Vec<PreparedWorkload> = fixtures::workloads(g)
            .into_iter()
            .map(|(case, files)| {
                let info = WorkloadInfo {
                    name: format!("fixture:{case}"),
                    team: String::new(),
                    commit: String::new(),
                };
                PreparedWorkload::new(info, &files, Vec::new(), settings)
            })
            .collect();
        let mut errors = Vec::new();
        let fixture_ms = fastest(&mut evaluator, index, &cases, &mut errors);
        let fixture_resources = cases.iter().map(|w| w.input.resources.len()).sum();
        let (workload_ms, workload_us_per_resource) = match &prepared {
            Some(w) => {
                let ms = fastest(&mut evaluator, index, std::slice::from_ref(w), &mut errors);
                (Some(ms), per_resource(ms, w.input.resources.len()))
            }
            None => (None, None),
        };
        costs.push(GuardrailCost {
            guardrail: g.id.clone(),
            fixtures: cases.len(),
            fixture_resources,
            fixture_ms,
            fixture_us_per_resource: per_resource(fixture_ms, fixture_resources),
            workload_ms,
            workload_us_per_resource,
            errors,
        });
    }
    // Costliest first, by what a resource costs where it was measured.
    let key = |c: &GuardrailCost| {
        if workload.is_some() {
            c.workload_us_per_resource.or(c.workload_ms).unwrap_or(0.0)
        } else {
            c.fixture_us_per_resource.unwrap_or(c.fixture_ms)
        }
    };
    costs.sort_by(|a, b| key(b).total_cmp(&key(a)).then_with(|| a.guardrail.cmp(&b.guardrail)));
    Ok(TestBench {
        rounds: BENCH_ROUNDS,
        workload,
        guardrails: costs,
    })
}

/// Milliseconds the guardrail at `index` takes over `workloads`, fastest of the rounds; the
/// problems of its evaluations (an error, a time-out) are kept, once each.
fn fastest(evaluator: &mut Evaluator, index: usize, workloads: &[PreparedWorkload], errors: &mut Vec<String>) -> f64 {
    let mut best = f64::INFINITY;
    for _ in 0..BENCH_ROUNDS {
        let before = evaluator.spent(index);
        for w in workloads {
            let raw = evaluator.evaluate_raw(index, w);
            for p in raw.problems.iter().filter(|p| p.guardrail.is_some()) {
                let text = p.to_string();
                if !errors.contains(&text) {
                    errors.push(text);
                }
            }
        }
        best = best.min(evaluator.spent(index) - before);
    }
    if best.is_finite() {
        best * 1000.0
    } else {
        0.0
    }
}
