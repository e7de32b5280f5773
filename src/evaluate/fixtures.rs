//! `railyard test`: runs each guardrail's fixtures. Every entry of `tests/pass/` (a file, or
//! a folder read as one workload) must give no finding; every entry of `tests/fail/` must
//! flag exactly the resources listed for it in `tests/fail/expected.toml`:
//!
//! ```toml
//! "public_bucket.tf" = ["aws_s3_bucket.public"]
//! "module"           = ["aws_s3_bucket.logs", "aws_s3_bucket.data"]
//! ```
//!
//! Part of `evaluate`, not `guardrail`: running a fixture is an evaluation, and `guardrail`
//! (loading) sits below `evaluate` in the layers (docs/ARCHITECTURE.md).

use crate::config::from_toml;
use crate::date::Day;
use crate::evaluate::{Evaluator, PreparedWorkload};
use crate::files::SourceFile;
use crate::guardrail::{Guardrail, Library};
use crate::limits::RunSettings;
use crate::workload::WorkloadInfo;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

const EXPECTED: &str = "expected.toml";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Expect {
    Pass,
    Fail,
}

/// The outcome of one fixture case.
#[derive(Debug, Clone, Serialize)]
pub struct CaseResult {
    pub guardrail: String,
    pub expect: Expect,
    /// The case's path inside the guardrail folder, e.g. `tests/fail/public.tf`.
    pub case: String,
    pub passed: bool,
    /// Why it failed: missing or unexpected resources, parse or policy errors.
    pub problems: Vec<String>,
}

/// Runs the fixtures of every guardrail in the library.
pub fn run(library: &Library, settings: &RunSettings) -> Vec<CaseResult> {
    let mut evaluator = Evaluator::new(library, settings);
    let mut out = Vec::new();
    for (index, g) in library.guardrails.iter().enumerate() {
        out.extend(run_guardrail(&mut evaluator, index, g));
    }
    out
}

/// Why guardrail `id`'s own fixtures fail, one line per failing case (empty when they pass).
/// A guardrail without fixtures is not failing here (`railyard test` asks for them); one
/// that is not in the library is not judged.
pub fn failures(library: &Library, id: &str, settings: &RunSettings) -> Vec<String> {
    let Some(index) = library.guardrails.iter().position(|g| g.id == id) else {
        return Vec::new();
    };
    let mut evaluator = Evaluator::new(library, settings);
    run_guardrail(&mut evaluator, index, &library.guardrails[index])
        .into_iter()
        .filter(|r| !r.passed && !is_missing_fixtures(r))
        .map(|r| format!("fixture {}: {}", r.case, r.problems.join("; ")))
        .collect()
}

/// [`failures`] of each guardrail of `ids`, with one evaluator for them all (its engines are
/// compiled once, not once per guardrail).
pub fn failures_of(library: &Library, ids: &[&str], settings: &RunSettings) -> Vec<(String, Vec<String>)> {
    if ids.is_empty() {
        return Vec::new();
    }
    let mut evaluator = Evaluator::new(library, settings);
    ids.iter()
        .filter_map(|id| library.guardrails.iter().position(|g| g.id == *id))
        .map(|index| {
            let g = &library.guardrails[index];
            let failing = run_guardrail(&mut evaluator, index, g)
                .into_iter()
                .filter(|r| !r.passed && !is_missing_fixtures(r))
                .map(|r| format!("fixture {}: {}", r.case, r.problems.join("; ")))
                .collect();
            (g.id.clone(), failing)
        })
        .collect()
}

/// The entry [`run_guardrail`] adds when `tests/pass/` or `tests/fail/` is empty: its case is
/// the folder itself.
fn is_missing_fixtures(r: &CaseResult) -> bool {
    r.case.ends_with('/')
}

fn run_guardrail(evaluator: &mut Evaluator, index: usize, g: &Guardrail) -> Vec<CaseResult> {
    let mut results = Vec::new();
    let mut fail_error = None;
    let expected: BTreeMap<String, Vec<String>> =
        match g.files.iter().find(|f| f.path == format!("tests/fail/{EXPECTED}")) {
            None => BTreeMap::new(),
            Some(f) => {
                let path = format!(
                    "{}/tests/fail/{EXPECTED}",
                    g.policy_path.trim_end_matches("/policy.rego")
                );
                crate::config::utf8(&path, &f.bytes)
                    .and_then(|text| from_toml(&path, text))
                    .unwrap_or_else(|e| {
                        fail_error = Some(e.to_string());
                        BTreeMap::new()
                    })
            }
        };
    let pass = cases(g, "tests/pass/");
    let fail = cases(g, "tests/fail/");
    if pass.is_empty() || fail.is_empty() {
        let which = if pass.is_empty() { "tests/pass/" } else { "tests/fail/" };
        results.push(CaseResult {
            guardrail: g.id.clone(),
            expect: if pass.is_empty() { Expect::Pass } else { Expect::Fail },
            case: which.to_string(),
            passed: false,
            problems: vec![format!(
                "no fixtures in {which}: every guardrail needs at least one passing and one failing case"
            )],
        });
    }
    for name in expected.keys().filter(|k| !fail.contains_key(k.as_str())) {
        results.push(CaseResult {
            guardrail: g.id.clone(),
            expect: Expect::Fail,
            case: format!("tests/fail/{name}"),
            passed: false,
            problems: vec![format!("{EXPECTED} lists `{name}` but there is no such fixture")],
        });
    }
    for (expect, group) in [(Expect::Pass, pass), (Expect::Fail, fail)] {
        for (case, files) in group {
            let dir = match expect {
                Expect::Pass => "tests/pass/",
                Expect::Fail => "tests/fail/",
            };
            let want: Option<BTreeSet<String>> = match expect {
                Expect::Pass => Some(BTreeSet::new()),
                Expect::Fail => expected.get(&case).map(|v| v.iter().cloned().collect()),
            };
            let mut problems = Vec::new();
            if let Some(e) = &fail_error {
                problems.push(e.clone());
            }
            let info = WorkloadInfo {
                name: format!("fixture:{case}"),
                team: String::new(),
                commit: String::new(),
            };
            let workload = PreparedWorkload::new(info, &files, Vec::new(), &evaluator.settings);
            // Fixtures are judged without exceptions, and with a fixed clock.
            let eval = evaluator.evaluate_one(index, &workload, Day::parse("2000-01-01").expect("valid date"));
            problems.extend(eval.problems.iter().map(|p| p.to_string()));
            let got: BTreeSet<String> = eval
                .findings
                .iter()
                .chain(&eval.excepted)
                .map(|f| f.resource.clone())
                .collect();
            match want {
                None => problems.push(format!(
                    "no entry for `{case}` in tests/fail/{EXPECTED}: list the resources it must flag"
                )),
                Some(want) => {
                    if expect == Expect::Fail && want.is_empty() {
                        problems.push(format!(
                            "`{case}` lists no resources in {EXPECTED}: a failing case must flag at least one"
                        ));
                    }
                    for missing in want.difference(&got) {
                        problems.push(format!("expected a finding on `{missing}`, got none"));
                    }
                    for extra in got.difference(&want) {
                        let msg = eval
                            .findings
                            .iter()
                            .find(|f| &f.resource == extra)
                            .map(|f| f.message.as_str())
                            .unwrap_or("");
                        problems.push(format!("unexpected finding on `{extra}`: {msg}"));
                    }
                }
            }
            if files.is_empty() {
                problems.push("fixture folder is empty".into());
            }
            results.push(CaseResult {
                guardrail: g.id.clone(),
                expect,
                case: format!("{dir}{case}"),
                passed: problems.is_empty(),
                problems,
            });
        }
    }
    results
}

/// Every fixture case of `g` (`tests/pass/...`, then `tests/fail/...`) with its files, as
/// [`run`] evaluates them: the workloads `railyard test --bench` times the guardrail on.
pub fn workloads(g: &Guardrail) -> Vec<(String, Vec<SourceFile>)> {
    ["tests/pass/", "tests/fail/"]
        .into_iter()
        .flat_map(|dir| {
            cases(g, dir)
                .into_iter()
                .map(move |(case, files)| (format!("{dir}{case}"), files))
        })
        .collect()
}

/// Groups the files under `prefix` by their first path component: each is one case, with
/// paths relative to the case folder (or the bare file name for a single-file case).
fn cases(g: &Guardrail, prefix: &str) -> BTreeMap<String, Vec<SourceFile>> {
    let mut out: BTreeMap<String, Vec<SourceFile>> = BTreeMap::new();
    for f in &g.files {
        let Some(rel) = f.path.strip_prefix(prefix) else {
            continue;
        };
        match rel.split_once('/') {
            Some((case, inner)) => out
                .entry(case.to_string())
                .or_default()
                .push(SourceFile::new(inner, f.bytes.clone())),
            None if rel == EXPECTED || rel.starts_with('.') || rel.ends_with(".md") => {}
            None => out
                .entry(rel.to_string())
                .or_default()
                .push(SourceFile::new(rel, f.bytes.clone())),
        }
    }
    out
}
