//! `railyard enforce`: the scheduled job. Activates pending guardrails whose deadline has
//! passed, lists the reminders due before upcoming deadlines, and reports exceptions that
//! expire soon or have expired. `--dry-run` prints the plan and writes nothing.

use super::promote::{carry, record_activation, trailer};
use super::release::{Change, Release};
use super::{Outcome, Settings};
use crate::date::Day;
use crate::evaluate::Verdict;
use crate::ledger::{Activation, Ledger};
use anyhow::Result;
use serde::Serialize;
use std::io::Write;

/// Options of `enforce` beyond the common settings.
#[derive(Debug, Clone)]
pub struct EnforceOptions {
    /// Report exceptions expiring within this many days.
    pub exception_window: u32,
    /// Remind owners this many days before a deadline.
    pub reminder_days: Vec<u32>,
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
}

pub fn enforce(s: &Settings, opts: &EnforceOptions, out: &mut dyn Write) -> Result<Outcome> {
    // 1. Read develop, main and the ledger; the clock may not go back.
    let release = Release::open(s)?;
    let mut ledger = release.ledger.clone();
    ledger.advance_clock(s.now)?;
    release.reconcile(&mut ledger)?;

    // 2. Activate each observed candidate whose deadline has passed.
    let mut activated = Vec::new();
    let mut not_observed = Vec::new();
    for c in release
        .candidates
        .iter()
        .filter(|c| c.change != Change::Removed && !release.broken.contains_key(&c.id))
    {
        let observed = ledger
            .guardrails
            .get(&c.id)
            .is_some_and(|r| Some(&r.develop_tree) == c.develop_tree.as_ref());
        let Some(deadline) = ledger.activation_day(&c.id).filter(|_| observed) else {
            not_observed.push(c.id.clone());
            continue;
        };
        if deadline > s.now {
            continue;
        }
        let now_failing: Vec<String> = ledger
            .entries_of(&c.id)
            .filter(|e| e.status == Verdict::Noncompliant)
            .map(|e| format!("{} ({} findings)", e.workload, e.findings.len()))
            .collect();
        let message = format!(
            "railyard: activate guardrail {} (deadline {deadline} passed)\n\nGuardrail: {}\nChange: {:?}\nDevelop-Commit: {}\nDeadline: {deadline}\nWorkloads-Now-Failing: {}\n{}\n",
            c.id,
            c.id,
            c.change,
            release.develop,
            if now_failing.is_empty() { "none".to_string() } else { now_failing.join(", ") },
            trailer(s)
        );
        let commit = if s.dry_run {
            None
        } else {
            carry(&release, &c.id, &message)?
        };
        activated.push(Activated {
            guardrail: c.id.clone(),
            deadline,
            now_failing,
            commit,
        });
    }
    if !s.dry_run && !activated.is_empty() {
        let msg = format!(
            "railyard: record {} activation(s) at deadline\n\n{}\n",
            activated.len(),
            trailer(s)
        );
        Ledger::update(&release.repo, &msg, |ledger| {
            ledger.advance_clock(s.now)?;
            for a in &activated {
                let activation = Activation {
                    on: s.now,
                    how: "deadline".into(),
                    commit: a.commit.clone().unwrap_or_default(),
                    by: None,
                    reason: None,
                };
                record_activation(ledger, &release, &a.guardrail, activation);
            }
            Ok(())
        })?;
    }

    // 3. Upcoming deadlines of pending guardrails, with the reminder days that fall today.
    let mut upcoming = Vec::new();
    for c in &release.candidates {
        if activated.iter().any(|a| a.guardrail == c.id) {
            continue;
        }
        for e in ledger.entries_of(&c.id).filter(|e| e.status == Verdict::Noncompliant) {
            let Some(deadline) = e.deadline else { continue };
            let days_left = s.now.days_until(deadline);
            upcoming.push(Upcoming {
                guardrail: c.id.clone(),
                workload: e.workload.clone(),
                team: e.team.clone(),
                deadline,
                days_left,
                findings: e.findings.len(),
                remind: days_left >= 0 && opts.reminder_days.contains(&(days_left as u32)),
            });
        }
    }

    // 4. Exceptions that expire within the window, or have expired.
    let mut exceptions = Vec::new();
    for g in &release.develop_lib.guardrails {
        for x in &g.exceptions {
            let days_left = s.now.days_until(x.expires);
            if days_left <= opts.exception_window as i64 {
                exceptions.push(ExpiringException {
                    guardrail: g.id.clone(),
                    workload: x.workload.clone(),
                    resource: x.resource.clone(),
                    expires: x.expires,
                    days_left,
                    expired: days_left < 0,
                    approved_by: x.approved_by.clone(),
                    source: format!("guardrails/{}/exceptions.toml:{}", g.id, x.line),
                });
            }
        }
    }

    let report = EnforceReport {
        version: 1,
        now: s.now,
        dry_run: s.dry_run,
        activated,
        upcoming,
        exceptions,
        not_observed,
    };
    crate::output::renderer(s.format).enforce(&report, out)?;
    Ok(Outcome::Clean)
}
