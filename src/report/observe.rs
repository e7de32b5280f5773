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
    /// `--details`: people's formats list everything (every team, unknown, stale exception,
    /// problem) instead of a bounded summary. Not part of the JSON document (always complete).
    #[serde(skip)]
    pub details: bool,
    /// Every guardrail on develop with its workload counts, active ones included (the JSON
    /// document carries the same facts in `candidates` and `to_fix`).
    #[serde(skip)]
    pub guardrails: Vec<GuardrailLine>,
    /// Every (guardrail, workload) that could not be evaluated, with why: the summaries
    /// count and name them, never leave them out.
    #[serde(skip)]
    pub unknowns: Vec<Unknown>,
}

/// Whether a guardrail is already enforced or is a candidate of this run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// On `main`: pipelines fail on its findings now.
    Active,
    /// Differs between develop and main: observed, promoted or held by this run.
    Candidate(Change),
}

/// One guardrail of the fleet summary: how many workloads it judged which way.
#[derive(Debug, Clone)]
pub struct GuardrailLine {
    pub id: String,
    pub severity: Option<Severity>,
    pub state: State,
    pub compliant: usize,
    pub noncompliant: usize,
    pub excepted: usize,
    pub unknown: usize,
}

impl GuardrailLine {
    pub fn workloads(&self) -> usize {
        self.compliant + self.noncompliant + self.excepted + self.unknown
    }
}

/// One guardrail that could not be evaluated on one workload, and why.
#[derive(Debug, Clone)]
pub struct Unknown {
    pub guardrail: String,
    pub workload: String,
    pub team: String,
    /// Redacted (no credentials in URLs), one per problem.
    pub reasons: Vec<String>,
}

/// The summary's per-guardrail lines and unknowns, from the run's evaluations (exceptions
/// applied): every guardrail on develop in the library's order, then removed candidates.
pub fn summarise<'a>(
    library: &crate::guardrail::Library,
    candidates: &[CandidateResult],
    workloads: &[WorkloadResult],
    evaluations: impl Iterator<Item = &'a crate::evaluate::Evaluation>,
) -> (Vec<GuardrailLine>, Vec<Unknown>) {
    use crate::evaluate::Verdict;
    use std::collections::HashMap;
    let state_of = |id: &str| {
        candidates
            .iter()
            .find(|c| c.id == id)
            .map_or(State::Active, |c| State::Candidate(c.change))
    };
    let mut lines: Vec<GuardrailLine> = library
        .guardrails
        .iter()
        .map(|g| GuardrailLine {
            id: g.id.clone(),
            severity: Some(g.meta.severity),
            state: state_of(&g.id),
            compliant: 0,
            noncompliant: 0,
            excepted: 0,
            unknown: 0,
        })
        .collect();
    let index: HashMap<String, usize> = lines.iter().enumerate().map(|(i, l)| (l.id.clone(), i)).collect();
    let team: HashMap<&str, &str> = workloads.iter().map(|w| (w.name.as_str(), w.team.as_str())).collect();
    let mut unknowns = Vec::new();
    for e in evaluations {
        let Some(line) = index.get(&e.guardrail).map(|i| &mut lines[*i]) else {
            continue;
        };
        match e.verdict() {
            Verdict::Compliant => line.compliant += 1,
            Verdict::Noncompliant => line.noncompliant += 1,
            Verdict::Excepted => line.excepted += 1,
            Verdict::Unknown => {
                line.unknown += 1;
                unknowns.push(Unknown {
                    guardrail: e.guardrail.clone(),
                    workload: e.workload.clone(),
                    team: team.get(e.workload.as_str()).copied().unwrap_or_default().to_string(),
                    reasons: e
                        .problems
                        .iter()
                        .map(|p| crate::gitops::fetch::redact(&p.to_string()))
                        .collect(),
                });
            }
        }
    }
    // Removed candidates are no longer on develop: counted from their result (none).
    for c in candidates.iter().filter(|c| !index.contains_key(&c.id)) {
        lines.push(GuardrailLine {
            id: c.id.clone(),
            severity: c.severity,
            state: State::Candidate(c.change),
            compliant: c.compliant,
            noncompliant: c.noncompliant,
            excepted: c.excepted,
            unknown: c.unknown,
        });
    }
    (lines, unknowns)
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
