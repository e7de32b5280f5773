//! What `enforce` did: activations, upcoming deadlines, expiring exceptions.

use super::Sent;
use crate::date::Day;
use serde::Serialize;

/// A due guardrail that was not activated, and why.
#[derive(Debug, Clone, Serialize)]
pub struct Refused {
    pub guardrail: String,
    pub deadline: Day,
    pub problems: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Activated {
    pub guardrail: String,
    pub deadline: Day,
    /// Workloads whose pipelines now fail on this guardrail.
    pub now_failing: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Upcoming {
    pub guardrail: String,
    pub workload: String,
    pub team: String,
    pub deadline: Day,
    pub days_left: i64,
    pub findings: usize,
    /// Whether today is one of the reminder days.
    pub remind: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct ExpiringException {
    pub guardrail: String,
    pub workload: String,
    pub resource: String,
    pub expires: Day,
    pub days_left: i64,
    pub expired: bool,
    pub approved_by: String,
    pub source: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct EnforceReport {
    pub version: u32,
    pub now: Day,
    pub dry_run: bool,
    pub activated: Vec<Activated>,
    pub upcoming: Vec<Upcoming>,
    pub exceptions: Vec<ExpiringException>,
    /// Candidates enforce cannot judge yet (never observed in their current version).
    pub not_observed: Vec<String>,
    /// Due guardrails not activated because their own fixtures fail.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub refused: Vec<Refused>,
    /// Notifications sent, failed, or (dry run, `--no-notify`) that would be sent.
    pub notifications: Vec<Sent>,
    /// `--details`: people's formats list every upcoming deadline, workload and exception
    /// instead of a bounded summary. Not part of the JSON document (always complete).
    #[serde(skip)]
    pub details: bool,
}
