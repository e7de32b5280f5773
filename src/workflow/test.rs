//! `railyard test [DIR]`: runs every guardrail's fixtures, so a guardrail is developed and
//! proven on `develop` before it ever judges a workload.

use super::Outcome;
use crate::evaluate::fixtures::{self, CaseResult};
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
    pub cases: Vec<CaseResult>,
}

pub fn test(library: &Library, format: Format, out: &mut dyn Write) -> anyhow::Result<Outcome> {
    // Run each guardrail's pass and fail fixtures with its own policy.
    let cases = fixtures::run(library);
    let failed = cases.iter().filter(|c| !c.passed).count();
    let report = TestReport {
        version: 1,
        guardrails: library.guardrails.len(),
        passed: cases.len() - failed,
        failed,
        cases,
    };
    // Print per case, then the summary line CI reads.
    crate::output::renderer(format).test(&report, out)?;
    Ok(if report.failed > 0 {
        Outcome::Findings
    } else {
        Outcome::Clean
    })
}
