//! What `observe` did: each candidate's action, each workload's result, what to fix.

use super::release::Change;
use super::Sent;
use crate::date::Day;
use crate::gitops::blame::LastChange;
use crate::guardrail::exceptions::StaleException;
use crate::guardrail::Severity;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    /// Broke nobody: now on `main`.
    Promoted,
    /// Dry run: would have been promoted.
    WouldPromote,
    /// Noncompliant workloads: held until the deadline.
    Held,
    /// Some workload could not be evaluated: not promoted, never read as compliant.
    Blocked,
    /// The guardrail on develop does not load.
    Broken,
    /// Removed on develop: removed from main.
    Removed,
}

#[derive(Debug, Clone, Serialize)]
pub struct CandidateResult {
    pub id: String,
    pub change: Change,
    pub title: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub severity: Option<Severity>,
    pub compliant: usize,
    pub noncompliant: usize,
    pub excepted: usize,
    pub unknown: usize,
    pub action: Action,
    /// When `enforce` activates it (held candidates).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deadline: Option<Day>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub problems: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct WorkloadResult {
    pub name: String,
    pub team: String,
    pub commit: String,
    pub resources: usize,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub problems: Vec<String>,
}

/// What to fix, where, and by when, for the owning team.
#[derive(Debug, Clone, Serialize)]
pub struct ToFix {
    pub workload: String,
    pub team: String,
    pub guardrail: String,
    pub severity: Severity,
    pub resource: String,
    pub file: String,
    pub line: usize,
    pub message: String,
    pub remediation: String,
    /// The guardrail's documentation (remediation) page, when it names one.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub url: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deadline: Option<Day>,
    /// Who last changed the resource's lines (git blame at the evaluated commit).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_changed: Option<LastChange>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ObserveReport {
    pub version: u32,
    pub now: Day,
    pub dry_run: bool,
    pub develop: String,
    pub main: String,
    pub candidates: Vec<CandidateResult>,
    pub workloads: Vec<WorkloadResult>,
    pub to_fix: Vec<ToFix>,
    pub ledger_committed: bool,
    /// Notifications sent, failed, or (dry run, `--no-notify`) that would be sent.
    pub notifications: Vec<Sent>,
    /// What this run parsed and evaluated, and what came from the result cache.
    pub stats: Stats,
    /// Exceptions that match no finding any more: the security team can remove them.
    pub stale_exceptions: Vec<StaleException>,
    /// Exceptions that break the repository's governance (`[exceptions]` in
    /// `workloads.toml`), as `file:line: message`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub exception_errors: Vec<String>,
    /// How many per-resource findings the table lists (`--top`, `--details none`: 0); the
    /// summaries always count them all. Not part of the JSON document.
    #[serde(skip)]
    pub list_limit: Option<usize>,
}

/// What a run did, for `--format json` (`stats`) and the benchmark.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stats {
    /// Workloads observed by this run.
    pub workloads: usize,
    /// Workloads whose files were read and parsed (some result was not cached).
    pub workloads_parsed: usize,
    /// Policy evaluations run.
    pub evaluations: usize,
    /// (guardrail, workload) results taken from the result cache.
    pub cache_hits: usize,
    /// Worker threads used.
    pub jobs: usize,
}
