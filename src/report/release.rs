//! Release facts the reports show: how a candidate changed, exceptions that did not verify.

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Change {
    New,
    Changed,
    Removed,
}

/// An exception that waives nothing because its approval did not verify, for the security
/// team.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UnverifiedException {
    pub guardrail: String,
    pub workload: String,
    pub resource: String,
    pub approved_by: String,
    /// `guardrails/<id>/exceptions.toml` and the line of its `[[exception]]`.
    pub file: String,
    pub line: usize,
    pub reason: String,
}
