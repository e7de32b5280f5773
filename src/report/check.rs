//! What `check` found, as every renderer receives it.

use crate::date::Day;
use crate::evaluate::{EvalProblem, Finding};
use crate::files::Skipped;
use serde::Serialize;

/// What `check` found, as every renderer receives it.
#[derive(Debug, Clone, Serialize)]
pub struct CheckReport {
    pub version: u32,
    pub workload: String,
    pub path: String,
    pub now: Day,
    pub summary: Summary,
    /// Active guardrails' findings with no active exception.
    pub findings: Vec<Finding>,
    /// Pending guardrails' findings, with the day they start failing the build.
    pub warnings: Vec<Finding>,
    /// Findings waived by an active exception.
    pub excepted: Vec<Finding>,
    /// Files, folders or guardrails that could not be evaluated.
    pub errors: Vec<EvalProblem>,
    pub skipped: Vec<Skipped>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub guardrails: usize,
    pub pending_guardrails: usize,
    pub resources: usize,
    pub files: usize,
    pub findings: usize,
    pub failing: usize,
    pub warnings: usize,
    pub excepted: usize,
    pub errors: usize,
}
