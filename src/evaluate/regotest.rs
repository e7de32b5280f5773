//! Rego unit tests, OPA's convention: every rule named `test_*` in a `*_test.rego` file of the
//! shared library (`lib/`) or of a guardrail folder is one test, which passes when the rule is
//! defined and not `false`. `railyard test` runs them beside the fixtures, so a helper is
//! proven on its own inputs (`with input as …`) and not only through the guardrails using it.
//!
//! A test runs with the shared helpers (and, in a guardrail folder, that guardrail's policy)
//! under the same limits as a policy: names resolved at load, the evaluation in a child
//! process with the time and memory budget. A test that is undefined, false, or cannot be
//! evaluated is a failed case naming its file, line and rule: never a pass.

use super::fixtures::{CaseResult, Expect};
use crate::config::ConfigError;
use crate::files::SourceFile;
use crate::guardrail::resolve::Module;
use crate::guardrail::{engine, Guardrail, Library};
use crate::isolate;
use crate::limits::RunSettings;
use serde::{Deserialize, Serialize};

/// Ending of the files that hold Rego unit tests.
pub const TEST_SUFFIX: &str = "_test.rego";

/// What one test rule evaluated to.
#[derive(Debug, Clone, Serialize, Deserialize)]
enum Verdict {
    /// Defined and not `false`.
    Passed,
    /// The rule is undefined: some expression of its body did not hold.
    Undefined,
    /// The rule is `false`.
    False,
    /// The evaluation failed (a runtime error such as a type error or an undefined function).
    Error(String),
}

/// One test to run: its case name, where it is written, and its rule's full path.
struct Test {
    case: String,
    file: String,
    line: usize,
    name: String,
    rule: String,
}

/// Runs the Rego unit tests of the library's `lib/` and of every guardrail folder, one
/// [`CaseResult`] per test (expected to pass), plus one per test file that cannot be loaded.
pub fn run(library: &Library, settings: &RunSettings) -> Vec<CaseResult> {
    let mut out = Vec::new();
    if !library.helper_tests.is_empty() {
        let tests: Vec<(String, SourceFile)> = library
            .helper_tests
            .iter()
            .map(|f| (file_name(&f.path).to_string(), f.clone()))
            .collect();
        out.extend(run_group(library, settings, "lib", None, &tests));
    }
    for g in &library.guardrails {
        // Files of a guardrail are relative to its folder; messages name them as loaded.
        let folder = g.policy_path.strip_suffix("policy.rego").unwrap_or(&g.policy_path);
        let tests: Vec<(String, SourceFile)> = g
            .files
            .iter()
            .filter(|f| f.path.ends_with(TEST_SUFFIX))
            .map(|f| {
                (
                    f.path.clone(),
                    SourceFile::new(format!("{folder}{}", f.path), f.bytes.clone()),
                )
            })
            .collect();
        if !tests.is_empty() {
            out.extend(run_group(library, settings, &g.id, Some(g), &tests));
        }
    }
    out
}

fn file_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// Runs one folder's test files `(case name of the file, file with its loaded path)`.
fn run_group(
    library: &Library,
    settings: &RunSettings,
    id: &str,
    guardrail: Option<&Guardrail>,
    files: &[(String, SourceFile)],
) -> Vec<CaseResult> {
    let failed = |case: &str, problem: String| CaseResult {
        guardrail: id.to_string(),
        expect: Expect::Pass,
        case: case.to_string(),
        passed: false,
        problems: vec![problem],
    };
    // The library loaded before tests run, so these hold; an error is still reported.
    let (mut engine, mut defs) = match (
        engine::base_engine(&library.helpers),
        engine::check_helpers(&library.helpers),
    ) {
        (Ok(e), Ok(d)) => (e, d),
        (Err(e), _) => return vec![failed(&files[0].0, e.to_string())],
        (_, Err(errors)) => return vec![failed(&files[0].0, join(&errors))],
    };
    if let Some(g) = guardrail {
        let added = engine::add_module(&mut engine, &g.policy_path, &g.policy)
            .and_then(|()| Module::last_added(&g.policy_path, &mut engine));
        match added {
            Ok(m) => defs.add(&m),
            Err(e) => return vec![failed(&files[0].0, e.to_string())],
        }
    }
    let mut out = Vec::new();
    let mut modules = Vec::new();
    for (case, f) in files {
        let loaded = crate::config::utf8(&f.path, &f.bytes).and_then(|text| {
            engine::add_module(&mut engine, &f.path, text)?;
            Module::last_added(&f.path, &mut engine)
        });
        match loaded {
            Ok(m) => {
                defs.add(&m);
                modules.push((case, f, m));
            }
            Err(e) => out.push(failed(case, e.to_string())),
        }
    }
    // Names resolve as in a policy: a test calling a helper that does not exist is an error
    // at its line, not a test that is merely undefined.
    let mut tests = Vec::new();
    for (case, f, m) in &modules {
        if let Err(e) = crate::guardrail::resolve::check(m, &defs) {
            out.push(failed(case, e.to_string()));
            continue;
        }
        let found = m.test_rules();
        if found.is_empty() {
            out.push(failed(
                case,
                format!("{}:1: no test in this file: name test rules `test_…`", f.path),
            ));
        }
        tests.extend(found.into_iter().map(|(rule, name, line)| Test {
            case: format!("{case} {name}"),
            file: f.path.clone(),
            line,
            name,
            rule,
        }));
    }
    // Prepared here without running any rule, so the children start prepared and test code
    // only ever runs inside them.
    let _ = engine.eval_query("true".to_string(), false);
    let verdicts = isolate::run_batch(tests.len(), isolate::Budget::evaluation(settings), |i| {
        verdict(&mut engine, &tests[i].rule)
    });
    for (t, v) in tests.iter().zip(verdicts) {
        let at = format!("{}:{}: `{}`", t.file, t.line, t.name);
        let problem = match v {
            Ok(Verdict::Passed) => None,
            Ok(Verdict::Undefined) => Some(format!(
                "{at} failed: undefined (an expression in its body did not hold)"
            )),
            Ok(Verdict::False) => Some(format!("{at} failed: it is false")),
            Ok(Verdict::Error(e)) => Some(format!("{at} could not be evaluated: {e}")),
            Err(e) => Some(format!("{at} could not be evaluated: {e}")),
        };
        out.push(CaseResult {
            guardrail: id.to_string(),
            expect: Expect::Pass,
            case: t.case.clone(),
            passed: problem.is_none(),
            problems: problem.into_iter().collect(),
        });
    }
    out
}

fn verdict(engine: &mut regorus::Engine, rule: &str) -> Verdict {
    match engine.eval_rule(rule.to_string()) {
        Ok(regorus::Value::Undefined) => Verdict::Undefined,
        Ok(regorus::Value::Bool(false)) => Verdict::False,
        Ok(_) => Verdict::Passed,
        // regorus' message may go on with the source line: the first line says what failed.
        Err(e) => Verdict::Error(one_line(&format!("{e:#}"))),
    }
}

/// regorus reports a runtime error as `--> file:line:col`, the source line and `error: …`:
/// kept as one line, `… (at file:line:col)`, so it stays readable in every output format.
fn one_line(text: &str) -> String {
    let message = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("error:"))
        .or_else(|| text.lines().map(str::trim).find(|l| !l.is_empty()))
        .unwrap_or("error")
        .trim();
    match text.lines().find_map(|l| l.trim().strip_prefix("--> ")) {
        Some(at) => format!("{message} (at {})", at.trim()),
        None => message.to_string(),
    }
}

fn join(errors: &[ConfigError]) -> String {
    errors.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("; ")
}
