//! The ledger's history: one point per commit of the ledger branch (oldest first), each the
//! counts of that revision on the day its clock says, read from the `summary.json` the run
//! wrote (or, for a layout 1 commit, counted from its whole ledger). A revision that cannot
//! be read is a problem reported with its commit, never a silent gap.

use crate::date::Day;
use crate::gitops::{GuardrailsRepo, LEDGER};
use crate::ledger::{Ledger, Summary, FILE, SUMMARY, VERSION};
use anyhow::{Context, Result};
use std::collections::BTreeMap;
use std::path::Path;

pub use crate::ledger::Counts;

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
    // A local repository: no network, so the default budget is never used.
    GuardrailsRepo::open(spec, path, None, crate::gitops::fetch::DEFAULT_FETCH_TIMEOUT)
}

/// The point of one revision: from its `summary.json` (layout 2 writes one with every
/// commit) or, for a revision without one (layout 1), by counting its whole ledger.
fn point(repo: &GuardrailsRepo, commit: &str, keep: &dyn Fn(&str) -> bool) -> Result<Point, Problem> {
    let problem = |reason: String| Problem {
        commit: commit.to_string(),
        reason,
    };
    // The head is small and always read: a revision whose ledger does not parse is a
    // problem even when a summary sits beside it.
    let head = repo
        .read_file(commit, FILE)
        .map_err(|e| problem(format!("cannot read `{FILE}`: {e:#}")))?
        .ok_or_else(|| problem(format!("has no `{FILE}`")))?;
    let head = std::str::from_utf8(&head).map_err(|_| problem(format!("`{FILE}` is not UTF-8")))?;
    let head = Ledger::parse(head).map_err(|e| problem(format!("{e:#}")))?;
    let summary = match head.version {
        VERSION => repo
            .read_file(commit, SUMMARY)
            .map_err(|e| problem(format!("cannot read `{SUMMARY}`: {e:#}")))?,
        _ => None,
    };
    let summary = match summary {
        Some(bytes) => {
            let s: Summary = serde_json::from_slice(&bytes)
                .map_err(|e| problem(format!("{LEDGER}:{SUMMARY}:{}: malformed ({e})", e.line())))?;
            if s.version != VERSION || Some(s.day) != head.clock {
                return Err(problem(format!(
                    "{LEDGER}:{SUMMARY}: not the summary of this ledger (version {}, day {}; the ledger's clock is {})",
                    s.version,
                    s.day,
                    head.clock.map_or("unset".to_string(), |d| d.to_string())
                )));
            }
            s
        }
        None => Ledger::read_at(repo, commit)
            .map_err(|e| problem(format!("{e:#}")))?
            .summary()
            .ok_or_else(|| problem("the ledger has no clock: the run's day is unknown".into()))?,
    };
    let mut p = Point {
        commit: commit.to_string(),
        day: summary.day,
        overall: Counts::default(),
        per_guardrail: BTreeMap::new(),
    };
    for (g, c) in summary.guardrails.into_iter().filter(|(g, _)| keep(g)) {
        p.overall += c;
        p.per_guardrail.insert(g, c);
    }
    Ok(p)
}
