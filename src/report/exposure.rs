//! What `report` shows: exposure per workload or team, status per guardrail.

use crate::date::Day;
use crate::evaluate::Verdict;
use crate::guardrail::exceptions::StaleException;
use crate::guardrail::Severity;
use crate::ledger::GuardrailState;
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct ExposureItem {
    pub workload: String,
    pub team: String,
    pub guardrail: String,
    pub title: String,
    pub severity: Severity,
    /// The guardrail's documentation (remediation) page, when it names one.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub url: String,
    /// `active` (fails the pipeline now) or `pending` (will, at the deadline).
    pub state: GuardrailState,
    pub status: Verdict,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deadline: Option<Day>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub days_left: Option<i64>,
    pub findings: Vec<crate::ledger::RecordedFinding>,
    pub excepted: Vec<crate::ledger::RecordedFinding>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub problems: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct GuardrailStatus {
    pub guardrail: String,
    pub title: String,
    pub severity: Severity,
    pub state: GuardrailState,
    pub compliant: usize,
    pub noncompliant: usize,
    pub excepted: usize,
    pub unknown: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub earliest_deadline: Option<Day>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub activation_day: Option<Day>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub version: u32,
    pub now: Day,
    /// `workload`, `team` or `guardrails`.
    pub view: String,
    pub subject: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub exposure: Vec<ExposureItem>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub guardrails: Vec<GuardrailStatus>,
    /// Exceptions on `develop` that match no finding the ledger holds (for the workloads of
    /// this view): the security team can remove them.
    pub stale_exceptions: Vec<StaleException>,
    /// Exceptions on `develop` whose approval did not verify against `main`'s governance:
    /// they waive nothing until the security team fixes or removes them.
    pub unverified_exceptions: Vec<super::release::UnverifiedException>,
}
