//! What `test` found: each guardrail fixture's result.

use crate::evaluate::fixtures::CaseResult;
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct TestReport {
    pub version: u32,
    pub guardrails: usize,
    pub passed: usize,
    pub failed: usize,
    pub cases: Vec<CaseResult>,
}
