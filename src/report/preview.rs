//! What `railyard preview` reports (docs/preview.md documents the JSON schema): per changed
//! guardrail what the next `observe` would do with it and whom it would break, per changed
//! exceptions file which findings it would start or stop waiving.

use super::observe::Stats;
use super::release::Change;
use crate::date::Day;
use crate::guardrail::Severity;
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct PreviewReport {
    /// Schema version of this document.
    pub version: u32,
    pub now: Day,
    /// The ref previewed, as given (`--ref`).
    #[serde(rename = "ref")]
    pub git_ref: String,
    /// The commit it resolved to.
    pub ref_commit: String,
    /// `main`'s commit it was compared with.
    pub main: String,
    /// Registered workloads (in the ref's `workloads.toml`).
    pub workloads: usize,
    pub guardrails: Vec<GuardrailPreview>,
    pub exceptions: Vec<ExceptionPreview>,
    /// Exceptions that break the repository's governance, as `file:line: message`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub exception_errors: Vec<String>,
    pub stats: Stats,
}

/// What the next `observe` would do with a changed guardrail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PreviewAction {
    /// Breaks no workload and every workload was evaluated: promoted to `main`.
    WouldPromote,
    /// Breaks some workload (or fails its own fixtures): held until its deadline.
    WouldHold,
    /// Some workload could not be evaluated: neither promoted nor counted as compliant.
    Blocked,
    /// Does not load (or breaks governance): never promoted.
    Broken,
    /// Removed on the ref: removed from `main`.
    WouldRemove,
}

#[derive(Debug, Clone, Serialize)]
pub struct GuardrailPreview {
    pub id: String,
    pub change: Change,
    pub title: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub severity: Option<Severity>,
    pub action: PreviewAction,
    /// Workloads evaluated (every registered one).
    pub workloads: usize,
    /// Workloads with unexcepted findings.
    pub breaks: usize,
    pub compliant: usize,
    pub excepted: usize,
    pub unknown: usize,
    /// When `enforce` would activate it (held guardrails).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub activation: Option<Day>,
    /// Each workload it breaks, with its owners, deadline and resources.
    pub breaking: Vec<BrokenWorkload>,
    /// Workloads it could not be evaluated on, with why.
    pub unknowns: Vec<UnknownWorkload>,
    /// Why it is broken or held beyond findings (load errors, failing fixtures).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub problems: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct BrokenWorkload {
    pub workload: String,
    pub team: String,
    pub owners: Vec<String>,
    /// The day the team's pipeline would start failing on it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deadline: Option<Day>,
    pub resources: Vec<PreviewFinding>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PreviewFinding {
    pub resource: String,
    pub file: String,
    pub line: usize,
    pub message: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct UnknownWorkload {
    pub workload: String,
    pub problems: Vec<String>,
}

/// A guardrail whose `exceptions.toml` differs between the ref and `main`.
#[derive(Debug, Clone, Serialize)]
pub struct ExceptionPreview {
    pub guardrail: String,
    /// `guardrails/<id>/exceptions.toml`.
    pub file: String,
    /// Findings the ref's exceptions waive that `main`'s do not.
    pub waives: Vec<WaiverChange>,
    /// Findings `main`'s exceptions waive that the ref's do not.
    pub stops_waiving: Vec<WaiverChange>,
    /// Workloads the guardrail could not be evaluated on: what the change does there is unknown.
    pub unknown: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct WaiverChange {
    pub workload: String,
    pub team: String,
    #[serde(flatten)]
    pub finding: PreviewFinding,
}
