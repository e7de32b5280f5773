//! The ledger's history: one point per commit of the ledger branch (oldest first), each the
//! counts of that revision of `ledger.json` on the day its clock says. A revision that cannot
//! be read is a problem reported with its commit, never a silent gap.

use crate::date::Day;
use crate::evaluate::Verdict;
use crate::gitops::{GuardrailsRepo, LEDGER};
use crate::ledger::{Ledger, LedgerEntry, FILE};
use anyhow::{Context, Result};
use std::collections::BTreeMap;
use std::path::Path;

/// Counts of (guardrail, workload) pairs and of findings, as one revision records them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Findings that count against workloads on the revision's day.
    pub open_findings: usize,
    /// Findings waived by an exception still valid on that day.
    pub excepted_findings: usize,
    /// Pairs: noncompliant, excepted, compliant, unknown (could not be evaluated).
    pub noncompliant: usize,
    pub excepted: usize,
    pub compliant: usize,
    pub unknown: usize,
    /// Pairs whose noncompliance was fixed (recorded `resolved`, compliant or excepted since).
    pub fixed: usize,
}

impl Counts {
    pub fn add(&mut self, e: &LedgerEntry, day: Day) {
        let failing = e.failing_on(day).len();
        self.open_findings += failing;
        self.excepted_findings += e.waived_on_day(day).len();
        let status = e.status_on(day);
        match status {
            Verdict::Noncompliant => self.noncompliant += 1,
            Verdict::Excepted => self.excepted += 1,
            Verdict::Compliant => self.compliant += 1,
            Verdict::Unknown => self.unknown += 1,
        }
        if e.resolved.is_some() && matches!(status, Verdict::Compliant | Verdict::Excepted) {
            self.fixed += 1;
        }
    }
}

/// One recorded run: a commit of the ledger branch.
#[derive(Debug, Clone)]
pub struct Point {
    pub commit: String,
    pub day: Day,
    pub overall: Counts,
    pub per_guardrail: BTreeMap<String, Counts>,
}

/// A ledger commit whose revision could not be read: shown on the page and on stderr.
#[derive(Debug, Clone)]
pub struct Problem {
    pub commit: String,
    pub reason: String,
}

#[derive(Debug, Default)]
pub struct History {
    pub points: Vec<Point>,
    pub problems: Vec<Problem>,
}

/// One revision read: its position in the history and its point (or why it has none).
type Read = (usize, Result<Point, Problem>);

/// Reads every commit of the ledger branch (first parents, oldest first), counting the
/// entries of the guardrails `keep` selects. Revisions are parsed by `jobs` threads, each
/// with its own handle on the repository (git2 handles are not shared between threads);
/// only the counts are kept, so memory stays at a few revisions whatever the history's length.
pub fn read(repo: &GuardrailsRepo, keep: &(dyn Fn(&str) -> bool + Sync), jobs: usize) -> Result<History> {
    let mut commits = repo.first_parent_history(LEDGER)?;
    commits.reverse();
    let jobs = jobs.clamp(1, commits.len().max(1));
    let path = repo.path().to_path_buf();
    let results: Vec<Result<Vec<Read>>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..jobs)
            .map(|j| {
                let commits = &commits;
                let path = &path;
                scope.spawn(move || -> Result<Vec<Read>> {
                    let repo = open(path)?;
                    let mut out = Vec::new();
                    for (i, c) in commits.iter().enumerate().skip(j).step_by(jobs) {
                        out.push((i, point(&repo, c, keep)));
                    }
                    Ok(out)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(anyhow::anyhow!("a history reader panicked")))
            })
            .collect()
    });
    let mut all: Vec<Read> = Vec::new();
    for r in results {
        all.extend(r?);
    }
    all.sort_by_key(|(i, _)| *i);
    let mut history = History::default();
    for (_, r) in all {
        match r {
            Ok(p) => history.points.push(p),
            Err(p) => history.problems.push(p),
        }
    }
    Ok(history)
}

fn open(path: &Path) -> Result<GuardrailsRepo> {
    let spec = path.to_str().context("the guardrails repository's path is not UTF-8")?;
    GuardrailsRepo::open(spec, path, None)
}

fn point(repo: &GuardrailsRepo, commit: &str, keep: &dyn Fn(&str) -> bool) -> Result<Point, Problem> {
    let problem = |reason: String| Problem {
        commit: commit.to_string(),
        reason,
    };
    let bytes = repo
        .read_file(commit, FILE)
        .map_err(|e| problem(format!("cannot read `{FILE}`: {e:#}")))?
        .ok_or_else(|| problem(format!("has no `{FILE}`")))?;
    let text = std::str::from_utf8(&bytes).map_err(|_| problem(format!("`{FILE}` is not UTF-8")))?;
    let ledger = Ledger::parse(text).map_err(|e| problem(format!("{e:#}")))?;
    let day = ledger
        .clock
        .ok_or_else(|| problem("the ledger has no clock: the run's day is unknown".into()))?;
    let mut p = Point {
        commit: commit.to_string(),
        day,
        overall: Counts::default(),
        per_guardrail: BTreeMap::new(),
    };
    for e in ledger.entries.values().filter(|e| keep(&e.guardrail)) {
        p.overall.add(e, day);
        p.per_guardrail.entry(e.guardrail.clone()).or_default().add(e, day);
    }
    Ok(p)
}
