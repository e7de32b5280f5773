//! `railyard test [DIR]`: runs every guardrail's fixtures, so a guardrail is developed and
//! proven on `develop` before it ever judges a workload.

use super::Outcome;
use crate::evaluate::fixtures;
use crate::guardrail::Library;
use crate::limits::RunSettings;
use crate::output::Format;
pub use crate::report::test::TestReport;
use std::io::Write;

pub fn test(library: &Library, settings: &RunSettings, format: Format, out: &mut dyn Write) -> anyhow::Result<Outcome> {
    // Run each guardrail's pass and fail fixtures with its own policy.
    let mut cases = fixtures::run(library, settings);
    // Then the Rego unit tests of `lib/` and of the guardrail folders.
    let rego_tests = crate::evaluate::regotest::run(library, settings);
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
