//! `railyard check [PATH]`: an application pipeline's gate. Evaluates the active guardrails
//! on a local workload and fails on findings; pending guardrails are shown as warnings with
//! their deadline and never fail the build.

use super::Outcome;
use crate::date::Day;
use crate::evaluate::{EvalProblem, Evaluator, Finding, PreparedWorkload};
use crate::files::{read_dir, ReadLimits, Skipped};
use crate::guardrail::{Library, Severity};
use crate::output::Format;
use crate::workload::WorkloadInfo;
use anyhow::Context;
use serde::Serialize;
use std::io::Write;
use std::path::PathBuf;

/// Everything `check` needs, resolved from the command line once.
pub struct CheckOptions {
    pub path: PathBuf,
    pub workload: WorkloadInfo,
    /// Active guardrails: their findings fail the build.
    pub active: Library,
    /// Pending guardrails and each one's deadline for this workload: warnings only.
    pub pending: Vec<(Library, Option<Day>)>,
    pub now: Day,
    /// Findings below this severity are reported but do not fail the build.
    pub fail_on: Severity,
    pub format: Format,
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

pub fn check(opts: CheckOptions, out: &mut dyn Write) -> anyhow::Result<Outcome> {
    // Read the workload from disk (symlinks are never followed) and parse it once.
    let (files, skipped) = read_dir(&opts.path, ReadLimits::default())
        .with_context(|| format!("reading workload `{}`", opts.path.display()))?;
    let file_count = files.len();
    let workload = PreparedWorkload::new(opts.workload.clone(), &files, skipped);

    // Evaluate the active guardrails: their findings fail the build.
    let mut findings = Vec::new();
    let mut excepted = Vec::new();
    let mut errors: Vec<EvalProblem> = workload.problems.clone();
    let mut evaluator = Evaluator::new(&opts.active);
    for eval in evaluator.evaluate_all(&workload, opts.now) {
        findings.extend(eval.findings);
        excepted.extend(eval.excepted);
        errors.extend(eval.problems.into_iter().filter(|p| p.guardrail.is_some()));
    }

    // Evaluate the pending guardrails: warnings that carry their deadline.
    let mut warnings = Vec::new();
    let mut pending_count = 0;
    for (library, deadline) in &opts.pending {
        pending_count += library.guardrails.len();
        let mut evaluator = Evaluator::new(library);
        for eval in evaluator.evaluate_all(&workload, opts.now) {
            warnings.extend(eval.findings.into_iter().map(|mut f| {
                f.deadline = *deadline;
                f
            }));
            errors.extend(eval.problems.into_iter().filter(|p| p.guardrail.is_some()));
        }
    }

    // Decide the outcome: errors first (never read as compliant), then failing findings.
    let failing = findings
        .iter()
        .filter(|f| f.severity >= opts.fail_on)
        .count();
    let report = CheckReport {
        version: 1,
        workload: opts.workload.name.clone(),
        path: opts.path.display().to_string(),
        now: opts.now,
        summary: Summary {
            guardrails: opts.active.guardrails.len(),
            pending_guardrails: pending_count,
            resources: workload.input.resources.len(),
            files: file_count,
            findings: findings.len(),
            failing,
            warnings: warnings.len(),
            excepted: excepted.len(),
            errors: errors.len(),
        },
        findings,
        warnings,
        excepted,
        errors,
        skipped: workload.skipped.clone(),
    };
    crate::output::renderer(opts.format).check(&report, out)?;
    Ok(if !report.errors.is_empty() {
        Outcome::Error
    } else if failing > 0 {
        Outcome::Findings
    } else {
        Outcome::Clean
    })
}
