//! What `test` found: each guardrail fixture's and Rego unit test's result.

use crate::evaluate::fixtures::CaseResult;
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct TestReport {
    pub version: u32,
    pub guardrails: usize,
    pub passed: usize,
    pub failed: usize,
    /// How many of `cases` are Rego unit tests (`test_*` rules), not fixtures.
    pub rego_tests: usize,
    pub cases: Vec<CaseResult>,
    /// Each guardrail's evaluation time (`test --bench`); absent without the flag.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bench: Option<TestBench>,
}

/// `railyard test --bench`: what each guardrail costs, so a slow one is seen before it ships.
#[derive(Debug, Clone, Serialize)]
pub struct TestBench {
    /// Every evaluation ran this many times; the fastest round counts (least disturbed by
    /// other work on the machine).
    pub rounds: u32,
    /// The workload folder also timed (`--bench-workload`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub workload: Option<BenchWorkload>,
    /// Costliest first: by time per resource on the workload when one was given, else on
    /// the fixtures.
    pub guardrails: Vec<GuardrailCost>,
}

#[derive(Debug, Clone, Serialize)]
pub struct BenchWorkload {
    pub path: String,
    pub files: usize,
    pub resources: usize,
    /// Why part of it could not be read or parsed: its times then cover only the rest.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub problems: Vec<String>,
}

/// One guardrail's policy evaluation time (without parsing, which every guardrail shares).
#[derive(Debug, Clone, Serialize)]
pub struct GuardrailCost {
    pub guardrail: String,
    /// Its fixture cases, and the resources in them.
    pub fixtures: usize,
    pub fixture_resources: usize,
    pub fixture_ms: f64,
    /// `fixture_ms` per resource, in microseconds; absent when the fixtures hold none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fixture_us_per_resource: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub workload_ms: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub workload_us_per_resource: Option<f64>,
    /// The evaluation failed (policy error, over its time budget): its time says nothing
    /// about its cost.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<String>,
}
