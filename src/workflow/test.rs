//! `railyard test [DIR]`: runs every guardrail's fixtures, so a guardrail is developed and
//! proven on `develop` before it ever judges a workload.

use super::Outcome;
use crate::guardrail::fixtures::{self, CaseResult};
use crate::guardrail::Library;
use crate::output::Format;
use serde::Serialize;
use std::io::Write;

#[derive(Debug, Clone, Serialize)]
pub struct TestReport {
    pub version: u32,
    pub guardrails: usize,
    pub passed: usize,
    pub failed: usize,
    /// How many of `cases` are Rego unit tests (`test_*` rules), not fixtures.
    pub rego_tests: usize,
    pub cases: Vec<CaseResult>,
}

pub fn test(library: &Library, format: Format, out: &mut dyn Write) -> anyhow::Result<Outcome> {
    // Run each guardrail's pass and fail fixtures with its own policy.
    let mut cases = fixtures::run(library);
    // Then the Rego unit tests of `lib/` and of the guardrail folders.
    let rego_tests = crate::guardrail::regotest::run(library);
    let rego_count = rego_tests.len();
    cases.extend(rego_tests);
    let failed = cases.iter().filter(|c| !c.passed).count();
    let report = TestReport {
        version: 1,
        guardrails: library.guardrails.len(),
        passed: cases.len() - failed,
        failed,
        rego_tests: rego_count,
        cases,
    };
    // Print per case, then the summary line CI reads.
    crate::output::render(format, &report, out)?;
    Ok(if report.failed > 0 {
        Outcome::Findings
    } else {
        Outcome::Clean
    })
}
