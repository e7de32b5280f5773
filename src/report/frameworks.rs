//! What `report --by framework` shows: compliance per control of each framework.

use crate::date::Day;
use serde::Serialize;

/// `report --by framework`.
#[derive(Debug, Clone, Serialize)]
pub struct FrameworkReport {
    pub version: u32,
    pub now: Day,
    /// Always `framework`.
    pub view: String,
    /// `--framework`, or `all`.
    pub subject: String,
    /// Registered workloads.
    pub workloads: usize,
    pub controls: Vec<ControlStatus>,
}

/// One control (`PCI-DSS-3.2.1 3.4`): how many workloads comply with every guardrail mapped
/// to it, as the ledger records them on `now`.
#[derive(Debug, Clone, Serialize)]
pub struct ControlStatus {
    /// The entry's first word (`PCI-DSS-3.2.1`).
    pub framework: String,
    /// The rest (`3.4`); empty when the entry names a framework only.
    pub control: String,
    pub guardrails: Vec<String>,
    pub compliant: usize,
    pub noncompliant: usize,
    pub excepted: usize,
    /// Workloads some mapped guardrail could not evaluate or has not observed yet: never
    /// counted as compliant.
    pub unknown: usize,
}
