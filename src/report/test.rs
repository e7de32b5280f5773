//! What `test` found: each guardrail fixture's and Rego unit test's result.

use crate::evaluate::fixtures::CaseResult;
use serde::Serialize;

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
