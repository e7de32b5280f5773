//! What `check` found, as every renderer receives it.

use crate::date::Day;
use crate::evaluate::{EvalProblem, Finding};
use crate::files::Skipped;
use serde::Serialize;

/// One guardrail `check` evaluated (JUnit writes one test case per guardrail).
#[derive(Debug, Clone)]
pub struct EvaluatedGuardrail {
    pub id: String,
    /// A pending guardrail (`develop`'s): its findings are warnings.
    pub pending: bool,
    /// Time its policy took on the workload (JUnit's per-case `time`); guardrails evaluated
    /// together in one engine pass share that pass's time equally.
    pub elapsed: std::time::Duration,
}

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
    /// Where SARIF anchors `file` paths (not part of the JSON document).
    #[serde(skip)]
    pub path_base: PathBase,
    /// Every guardrail evaluated, active then pending (not part of the JSON document).
    #[serde(skip)]
    pub evaluated: Vec<EvaluatedGuardrail>,
    /// Wall time of reading and evaluating the workload (JUnit's `time`).
    #[serde(skip)]
    pub elapsed: std::time::Duration,
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

/// Where SARIF anchors the workload's paths: a base folder (the git repository root holding
/// the checked path, or `--path-base`) and the checked folder relative to it. (Resolved and
/// written by `crate::output::sarif`.)
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PathBase {
    /// The base, absolute; `None` when not known (the paths are then the checked folder's).
    pub root: Option<std::path::PathBuf>,
    /// The checked folder relative to `root`, `/`-separated, ending in `/` unless empty.
    pub prefix: String,
}

impl PathBase {
    /// A workload path (relative to the checked folder) relative to the base, `/`-separated.
    pub fn path(&self, file: &str) -> String {
        format!("{}{file}", self.prefix)
    }
}
