//! `railyard enforce`: the scheduled job. Activates pending guardrails whose deadline has
//! passed, lists the reminders due before upcoming deadlines, and reports exceptions that
//! expire soon or have expired. `--dry-run` prints the plan and writes nothing.

use super::commit_message;
use super::promote::{carry, record_activation};
use super::release::{Change, Release};
use super::{Outcome, Settings};
use crate::evaluate::Verdict;
use crate::gitops::blame::Blamer;
use crate::gitops::fetch::Cache;
use crate::ledger::{Activation, Ledger, LedgerEntry};
use crate::notify::{Event, EventException, EventKind, EventResource};
pub use crate::report::enforce::{Activated, EnforceReport, ExpiringException, Refused, Upcoming};
use anyhow::Result;
use std::io::Write;

/// Options of `enforce` beyond the common settings.
#[derive(Debug, Clone)]
pub struct EnforceOptions {
    /// Report exceptions expiring within this many days.
    pub exception_window: u32,
    /// Remind owners this many days before a deadline.
    pub reminder_days: Vec<u32>,
    /// Activate due guardrails even when their own fixtures fail (`--force-failing-fixtures`).
    pub force_failing_fixtures: bool,
    /// `--details`: list everything instead of a bounded summary (people's formats).
    pub details: bool,
}

pub fn enforce(s: &Settings, opts: &EnforceOptions, out: &mut dyn Write) -> Result<Outcome> {
    // 1. Read develop, main and the ledger; the clock may not go back.
    let release = Release::open(s)?;
    let mut ledger = (*release.ledger).clone();
    ledger.advance_clock(s.now)?;
    if !s.dry_run {
        release
            .repo
            .ensure_work_tree_clean(&[crate::gitops::MAIN, crate::gitops::LEDGER])?;
    }
    release.reconcile(&mut ledger)?;

    // 2. Activate each observed candidate whose deadline has passed.
    let (activated, not_observed, refused) = activate_due(s, opts, &release, &ledger)?;

    // 3. Upcoming deadlines of pending guardrails, with the reminder days that fall today.
    let upcoming = upcoming_deadlines(s, opts, &release, &ledger, &activated);

    // 4. Exceptions that expire within the window, or have expired.
    let (exceptions, exception_events) = expiring_exceptions(s, opts, &release, &ledger);

    // 5. Tell each owning team: activations, reminders due today, exceptions.
    let mut events = owner_events(s, &ledger, &activated, &upcoming, exception_events);
    attribute(s, &release, &ledger, &mut events);
    let notifications = super::tell_owners(s, &release, &ledger, &events, "enforce");

    let report = EnforceReport {
        version: 1,
        now: s.now,
        dry_run: s.dry_run,
        activated,
        upcoming,
        exceptions,
        not_observed,
        refused,
        notifications,
        details: opts.details,
    };
    crate::output::render(s.format, &report, out)?;
    Ok(if report.refused.is_empty() {
        Outcome::Clean
    } else {
        Outcome::Error
    })
}

/// Step 2: activates each observed candidate whose deadline has passed (one commit on
/// `main` each, then one ledger commit recording them). Returns what was activated, the
/// candidates never observed in their current version, and the due ones refused.
fn activate_due(
    s: &Settings,
    opts: &EnforceOptions,
    release: &Release,
    ledger: &Ledger,
) -> Result<(Vec<Activated>, Vec<String>, Vec<Refused>)> {
    let mut activated = Vec::new();
    let mut not_observed = Vec::new();
    let mut refused = Vec::new();
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
        // Fail closed: a guardrail that fails its own fixtures cannot be trusted to fail
        // the right pipelines; activating it anyway is an explicit decision.
        let failures = crate::evaluate::fixtures::failures(&release.develop_lib, &c.id, &s.run);
        if !failures.is_empty() && !opts.force_failing_fixtures {
            refused.push(Refused {
                guardrail: c.id.clone(),
                deadline,
                problems: failures,
            });
            continue;
        }
        // Exceptions apply up to their expiry day: one that has expired by now waives nothing.
        let now_failing: Vec<String> = ledger
            .entries_of(&c.id)
            .filter(|e| e.status_on(s.now) == Verdict::Noncompliant)
            .map(|e| {
                format!(
                    "{} ({})",
                    e.workload,
                    crate::output::plural(e.failing_on(s.now).len(), "finding")
                )
            })
            .collect();
        let message = commit_message::activate_at_deadline(
            s,
            &c.id,
            c.change,
            &release.develop,
            deadline,
            &now_failing,
            release.ledger_tip.as_deref(),
        );
        let commit = if s.dry_run {
            None
        } else {
            carry(release, &c.id, &message)?
        };
        activated.push(Activated {
            guardrail: c.id.clone(),
            deadline,
            now_failing,
            commit,
        });
    }
    if !s.dry_run && !activated.is_empty() {
        let msg = commit_message::record_deadline_activations(s, activated.len());
        Ledger::update(&release.repo, &msg, |ledger| {
            ledger.advance_clock(s.now)?;
            for a in &activated {
                let activation = Activation {
                    on: s.now,
                    how: crate::ledger::How::Deadline,
                    commit: a.commit.clone().unwrap_or_default(),
                    by: None,
                    reason: None,
                };
                record_activation(ledger, release, &a.guardrail, activation);
            }
            Ok(())
        })?;
    }

    Ok((activated, not_observed, refused))
}

/// Step 3: upcoming deadlines of pending guardrails, with the reminder days that fall today.
fn upcoming_deadlines(
    s: &Settings,
    opts: &EnforceOptions,
    release: &Release,
    ledger: &Ledger,
    activated: &[Activated],
) -> Vec<Upcoming> {
    let mut upcoming = Vec::new();
    for c in &release.candidates {
        if activated.iter().any(|a| a.guardrail == c.id) {
            continue;
        }
        for e in ledger
            .entries_of(&c.id)
            .filter(|e| e.status_on(s.now) == Verdict::Noncompliant)
        {
            let Some(deadline) = e.deadline else { continue };
            let days_left = s.now.days_until(deadline);
            // A team's own `reminder_days` replaces the command's.
            let reminder_days = release
                .registry
                .team(&e.team)
                .map(|t| &t.reminder_days)
                .filter(|d| !d.is_empty())
                .unwrap_or(&opts.reminder_days);
            upcoming.push(Upcoming {
                guardrail: c.id.clone(),
                workload: e.workload.clone(),
                team: e.team.clone(),
                deadline,
                days_left,
                findings: e.failing_on(s.now).len(),
                remind: days_left >= 0 && reminder_days.contains(&(days_left as u32)),
            });
        }
    }

    upcoming
}

/// Step 4: exceptions that expire within the window, or have expired, with the events
/// for the teams of the workloads whose findings they waive.
fn expiring_exceptions(
    s: &Settings,
    opts: &EnforceOptions,
    release: &Release,
    ledger: &Ledger,
) -> (Vec<ExpiringException>, Vec<Event>) {
    let mut exceptions = Vec::new();
    let mut exception_events = Vec::new();
    for g in &release.develop_lib.guardrails {
        for x in &g.exceptions {
            let days_left = s.now.days_until(x.expires);
            if days_left <= opts.exception_window as i64 {
                // Tell the teams of the workloads whose findings it waives.
                for entry in ledger.entries_of(&g.id) {
                    let covered: Vec<&crate::ledger::RecordedFinding> = entry
                        .excepted
                        .iter()
                        .chain(&entry.findings)
                        .filter(|f| x.covers(&entry.workload, &f.resource) && x.covers_path(&f.file))
                        .collect();
                    if covered.is_empty() {
                        continue;
                    }
                    let (kind, word) = if days_left < 0 {
                        (EventKind::ExceptionExpired, "exception-expired")
                    } else {
                        (EventKind::ExceptionExpiring, "exception-expiring")
                    };
                    let mut ev = Event::basic(
                        kind,
                        format!("{word}:{}:{}", x.expires, x.resource),
                        &g.id,
                        &entry.workload,
                        &entry.team,
                    );
                    ev.exception = Some(EventException {
                        resource: x.resource.clone(),
                        expires: x.expires,
                        approved_by: x.approved_by.clone(),
                        source: format!("guardrails/{}/exceptions.toml:{}", g.id, x.line),
                    });
                    ev.days_left = Some(days_left);
                    ev.resources = covered.iter().map(|f| resource(f)).collect();
                    ev.summary = if days_left < 0 {
                        format!(
                            "Exception expired: `{}` on `{}` for `{}` expired {}; its findings count again",
                            g.id, entry.workload, x.resource, x.expires
                        )
                    } else {
                        format!(
                            "Exception expiring: `{}` on `{}` for `{}` expires {} ({days_left} days)",
                            g.id, entry.workload, x.resource, x.expires
                        )
                    };
                    exception_events.push(ev);
                }
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

    (exceptions, exception_events)
}

/// Step 5: what each owning team hears: activations, reminders due today, exceptions.
fn owner_events(
    s: &Settings,
    ledger: &Ledger,
    activated: &[Activated],
    upcoming: &[Upcoming],
    exception_events: Vec<Event>,
) -> Vec<Event> {
    let mut events = Vec::new();
    for a in activated {
        for entry in ledger
            .entries_of(&a.guardrail)
            .filter(|e| matches!(e.status, Verdict::Noncompliant | Verdict::Excepted))
        {
            let mut ev = Event::basic(
                EventKind::Activated,
                format!("activated:{}", s.now),
                &a.guardrail,
                &entry.workload,
                &entry.team,
            );
            ev.deadline = Some(a.deadline);
            let failing = entry.failing_on(s.now);
            ev.resources = failing.iter().map(|f| resource(f)).collect();
            ev.summary = format!(
                "Activated: `{}` (deadline {}) now fails `{}`'s pipeline on {}",
                a.guardrail,
                a.deadline,
                entry.workload,
                crate::output::plural(failing.len(), "finding")
            );
            events.push(ev);
        }
    }
    for u in upcoming.iter().filter(|u| u.remind) {
        let Some(entry) = ledger.entries.get(&crate::ledger::key(&u.guardrail, &u.workload)) else {
            continue;
        };
        let mut ev = Event::basic(
            EventKind::Reminder,
            format!("remind:{}:{}", u.deadline, u.days_left),
            &u.guardrail,
            &u.workload,
            &u.team,
        );
        ev.deadline = Some(u.deadline);
        ev.days_left = Some(u.days_left);
        ev.resources = entry.findings.iter().map(resource).collect();
        ev.summary = format!(
            "Reminder: `{}` fails `{}`'s pipeline from {} ({} left, {})",
            u.guardrail,
            u.workload,
            u.deadline,
            if u.days_left == 1 {
                "1 day".to_string()
            } else {
                format!("{} days", u.days_left)
            },
            crate::output::plural(u.findings, "finding")
        );
        events.push(ev);
    }
    events.extend(exception_events);
    events
}

fn resource(f: &crate::ledger::RecordedFinding) -> EventResource {
    EventResource {
        resource: f.resource.clone(),
        file: f.file.clone(),
        line: f.line,
        message: f.message.clone(),
        last_changed: None,
    }
}

/// Fills in titles, remediation, repositories and (from the workload caches left by
/// `observe`, at the commit last observed) who last changed each resource.
fn attribute(s: &Settings, release: &Release, ledger: &Ledger, events: &mut [Event]) {
    let blames = crate::gitops::blame::BlameCache::new(&s.cache_dir, release.repo.seal_key().cloned());
    let cache = Cache::new(s.cache_dir.join("workloads")).with_fetch_timeout(s.fetch_timeout);
    let base_dir = release.repo.base_dir();
    let mut blamers: std::collections::BTreeMap<String, Option<Blamer>> = Default::default();
    for ev in events.iter_mut() {
        if let Some(g) = release.develop_lib.get(&ev.guardrail) {
            ev.title = g.meta.title.clone();
            ev.severity = Some(g.meta.severity);
            ev.remediation = g.meta.remediation.clone();
            ev.url = g.meta.url.clone();
        }
        let Some(spec) = release.registry.workload(&ev.workload) else {
            continue;
        };
        ev.repo = spec.repo.clone();
        let commit = ledger
            .entries
            .get(&ev.ledger_key())
            .map(|e: &LedgerEntry| e.workload_commit.clone())
            .unwrap_or_default();
        let blamer = blamers
            .entry(spec.name.clone())
            .or_insert_with(|| Blamer::open(&cache.repo_path(spec, &base_dir), Some(&blames)));
        if let Some(b) = blamer.as_mut() {
            for r in &mut ev.resources {
                r.last_changed = b.last_change(&commit, &r.file, r.line, r.line);
            }
        }
    }
}
