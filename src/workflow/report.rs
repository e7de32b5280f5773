//! `railyard report`: exposure as the ledger records it. For an application team (by
//! `--workload` or `--team`): active findings, pending guardrails with deadline and days
//! left, exceptions and their expiry. For the security team (no filter): per guardrail,
//! pending or active, compliant / noncompliant / excepted / unknown counts, earliest deadline.

use super::release::Release;
use super::{Outcome, Settings};
use crate::evaluate::Verdict;
use crate::guardrail::exceptions::{self, StaleException};
use crate::guardrail::Severity;
use crate::ledger::{GuardrailState, LedgerEntry};
pub use crate::report::exposure::{ExposureItem, GuardrailStatus, Report};
use anyhow::{bail, Result};
use std::io::Write;

#[derive(Debug, Clone, Default)]
pub struct ReportOptions {
    pub workload: Option<String>,
    pub team: Option<String>,
    /// `--framework`: only the guardrails mapped to it.
    pub framework: Option<super::frameworks::Framework>,
}

pub fn report(s: &Settings, opts: &ReportOptions, out: &mut dyn Write) -> Result<Outcome> {
    // Read the ledger and the release state (what is pending, what is active).
    let release = Release::open(s)?;
    let ledger = &release.ledger;
    let state_of = |id: &str| {
        if release.candidate(id).is_some() {
            GuardrailState::Pending
        } else {
            ledger
                .guardrails
                .get(id)
                .map(|r| r.state)
                .unwrap_or(GuardrailState::Active)
        }
    };

    // An application team's exposure, or the security team's per-guardrail view.
    let mut report = match (&opts.workload, &opts.team) {
        (Some(_), Some(_)) => bail!("give --workload or --team, not both"),
        (Some(w), None) => {
            if !release.registry.workloads.iter().any(|x| &x.name == w) {
                bail!("no workload `{w}` in workloads.toml");
            }
            exposure(s, &release, "workload", w, |e| &e.workload == w, &state_of)
        }
        (None, Some(t)) => {
            if !release.registry.workloads.iter().any(|x| &x.team == t) {
                bail!("no workload of team `{t}` in workloads.toml");
            }
            exposure(s, &release, "team", t, |e| &e.team == t, &state_of)
        }
        (None, None) => {
            let mut ids: Vec<&String> = ledger.guardrails.keys().collect();
            for c in &release.candidates {
                if !ids.contains(&&c.id) {
                    ids.push(&c.id);
                }
            }
            ids.sort();
            let guardrails = ids
                .into_iter()
                .filter_map(|id| {
                    let rec = ledger.guardrails.get(id);
                    let g = release.develop_lib.get(id).or_else(|| release.main_lib.get(id));
                    let state = state_of(id);
                    if state == GuardrailState::Removed {
                        return None;
                    }
                    // Workloads no longer registered keep their history but no longer count.
                    let entries: Vec<&LedgerEntry> = ledger
                        .entries_of(id)
                        .filter(|e| release.registry.workload(&e.workload).is_some())
                        .collect();
                    // Each entry as it stands today: an expired exception waives nothing.
                    let count = |v: Verdict| entries.iter().filter(|e| e.status_on(s.now) == v).count();
                    let (title, severity) = crate::ledger::title_and_severity(g, rec);
                    Some(GuardrailStatus {
                        guardrail: id.clone(),
                        title,
                        severity,
                        state,
                        compliant: count(Verdict::Compliant),
                        noncompliant: count(Verdict::Noncompliant),
                        excepted: count(Verdict::Excepted),
                        unknown: count(Verdict::Unknown),
                        earliest_deadline: entries
                            .iter()
                            .filter(|e| e.status_on(s.now) == Verdict::Noncompliant)
                            .filter_map(|e| e.deadline)
                            .min(),
                        activation_day: if state == GuardrailState::Pending {
                            ledger.activation_day(id)
                        } else {
                            None
                        },
                    })
                })
                .collect();
            Report {
                version: 1,
                now: s.now,
                view: "guardrails".into(),
                subject: "all".into(),
                exposure: Vec::new(),
                guardrails,
                stale_exceptions: Vec::new(),
                unverified_exceptions: Vec::new(),
            }
        }
    };
    let in_view = |workload: &str| match (&opts.workload, &opts.team) {
        (Some(w), _) => w == workload,
        (None, Some(t)) => release.registry.workload(workload).is_some_and(|w| &w.team == t),
        (None, None) => true,
    };
    report.stale_exceptions = stale_exceptions(&release, &in_view);
    report.unverified_exceptions = release
        .unverified()
        .into_iter()
        .filter(|x| {
            release
                .registry
                .workloads
                .iter()
                .any(|w| in_view(&w.name) && glob_covers(&x.workload, &w.name))
                || in_view("")
        })
        .collect();
    if let Some(f) = &opts.framework {
        f.require_known(&[&release.develop_lib, &release.main_lib])?;
        let mapped = |id: &str| {
            release
                .develop_lib
                .get(id)
                .or_else(|| release.main_lib.get(id))
                .is_some_and(|g| f.maps(g))
        };
        report.exposure.retain(|e| mapped(&e.guardrail));
        report.guardrails.retain(|g| mapped(&g.guardrail));
        report.stale_exceptions.retain(|x| mapped(&x.guardrail));
        report.unverified_exceptions.retain(|x| mapped(&x.guardrail));
    }
    crate::output::render(s.format, &report, out)?;
    Ok(Outcome::Clean)
}

fn exposure(
    s: &Settings,
    release: &Release,
    view: &str,
    subject: &str,
    keep: impl Fn(&LedgerEntry) -> bool,
    state_of: &dyn Fn(&str) -> GuardrailState,
) -> Report {
    let mut exposure: Vec<ExposureItem> = release
        .ledger
        .entries
        .values()
        .filter(|e| keep(e))
        .filter(|e| release.registry.workload(&e.workload).is_some())
        .filter(|e| e.status != Verdict::Compliant)
        .filter(|e| state_of(&e.guardrail) != GuardrailState::Removed)
        .map(|e| {
            let state = state_of(&e.guardrail);
            let rec = release.ledger.guardrails.get(&e.guardrail);
            let deadline = if state == GuardrailState::Pending {
                e.deadline
            } else {
                None
            };
            ExposureItem {
                workload: e.workload.clone(),
                team: e.team.clone(),
                guardrail: e.guardrail.clone(),
                title: rec.map(|r| r.title.clone()).unwrap_or_default(),
                severity: rec.map(|r| r.severity).unwrap_or(Severity::Medium),
                // The page as the guardrail in force describes it (a pending one: develop's).
                url: match state {
                    GuardrailState::Active => release.main_lib.get(&e.guardrail),
                    _ => release.develop_lib.get(&e.guardrail),
                }
                .map(|g| g.meta.url.clone())
                .unwrap_or_default(),
                state,
                status: e.status_on(s.now),
                deadline,
                days_left: deadline.map(|d| s.now.days_until(d)),
                findings: e.failing_on(s.now).into_iter().cloned().collect(),
                excepted: e.waived_on_day(s.now).into_iter().cloned().collect(),
                problems: e.problems.clone(),
            }
        })
        .collect();
    exposure.sort_by(|a, b| {
        (a.state != GuardrailState::Active, a.deadline, &a.workload, &a.guardrail).cmp(&(
            b.state != GuardrailState::Active,
            b.deadline,
            &b.workload,
            &b.guardrail,
        ))
    });
    Report {
        version: 1,
        now: s.now,
        view: view.into(),
        subject: subject.into(),
        exposure,
        guardrails: Vec::new(),
        stale_exceptions: Vec::new(),
        unverified_exceptions: Vec::new(),
    }
}

/// The exceptions of `develop`'s guardrails that match no finding recorded in the ledger,
/// among the registered workloads `in_view` they name. A workload never observed, or whose
/// last evaluation could not be trusted, keeps its exceptions from being called stale.
fn stale_exceptions(release: &Release, in_view: &dyn Fn(&str) -> bool) -> Vec<StaleException> {
    let mut out = Vec::new();
    for g in &release.develop_lib.guardrails {
        let observed = release
            .ledger
            .observed(&g.id, release.registry.workloads.iter().map(|w| w.name.as_str()));
        let mine: Vec<_> = g
            .exceptions
            .iter()
            .filter(|x| {
                release
                    .registry
                    .workloads
                    .iter()
                    .any(|w| in_view(&w.name) && x.covers_workload(&w.name))
                    || (release.registry.workloads.iter().all(|w| !x.covers_workload(&w.name)) && in_view(""))
            })
            .cloned()
            .collect();
        let file = format!("{}/{}/exceptions.toml", super::release::GUARDRAILS_DIR, g.id);
        out.extend(exceptions::stale(&g.id, &file, &mine, &observed));
    }
    out
}

/// Whether an exception's workload pattern names `workload`.
fn glob_covers(pattern: &str, workload: &str) -> bool {
    pattern == workload
        || globset::Glob::new(pattern)
            .map(|g| g.compile_matcher().is_match(workload))
            .unwrap_or(false)
}
