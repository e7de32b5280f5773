//! `--format table`: aligned tables for people, readable without colour.

use super::{location, Renderer};
use crate::evaluate::Finding;
use crate::report::enforce::EnforceReport;
use crate::report::exposure::Report;
use crate::report::observe::{Action, ObserveReport};
use crate::report::{check::CheckReport, test::TestReport};
use std::io::{self, Write};
use tabled::{settings::Style, Table as Tabled, Tabled as TabledRow};

pub struct Table;

#[derive(TabledRow)]
struct Row {
    severity: String,
    guardrail: String,
    resource: String,
    location: String,
    message: String,
}

fn rows(findings: &[Finding], deadline: bool) -> String {
    let rows = findings.iter().map(|f| Row {
        severity: f.severity.to_string(),
        guardrail: f.guardrail.clone(),
        resource: f.resource.clone(),
        location: location(&f.file, f.line),
        message: match (deadline, f.deadline) {
            (true, Some(d)) => format!("{} (fails the build from {d})", f.message),
            _ => f.message.clone(),
        },
    });
    Tabled::new(rows).with(Style::sharp()).to_string()
}

impl Renderer for Table {
    fn check(&self, r: &CheckReport, out: &mut dyn Write) -> io::Result<()> {
        // Workload and policy text may carry terminal escapes: shown, never obeyed.
        let out = &mut crate::report::escape::Terminal::new(out);
        if !r.findings.is_empty() {
            writeln!(out, "Findings ({}), active guardrails:", r.findings.len())?;
            writeln!(out, "{}", rows(&r.findings, false))?;
        }
        if !r.warnings.is_empty() {
            writeln!(
                out,
                "Warnings ({}), pending guardrails, not failing the build yet:",
                r.warnings.len()
            )?;
            writeln!(out, "{}", rows(&r.warnings, true))?;
        }
        if !r.excepted.is_empty() {
            writeln!(out, "Excepted ({}):", r.excepted.len())?;
            for f in &r.excepted {
                if let Some(e) = &f.exception {
                    writeln!(
                        out,
                        "  {} {} — {} (approved by {}, expires {})",
                        f.guardrail, f.resource, e.reason, e.approved_by, e.expires
                    )?;
                }
            }
        }
        for f in r.findings.iter().filter_map(|f| f.exception.as_ref().map(|e| (f, e))) {
            match &f.1.unverified {
                Some(reason) if f.1.status == crate::guardrail::ExceptionStatus::Unverified => writeln!(
                    out,
                    "Unverified exception (waives nothing): {} {}: {reason} ({})",
                    f.0.guardrail, f.0.resource, f.1.source
                )?,
                _ => writeln!(
                    out,
                    "Expired exception: {} {} expired {} ({})",
                    f.0.guardrail, f.0.resource, f.1.expires, f.1.source
                )?,
            }
        }
        for e in &r.errors {
            writeln!(out, "error: {e}")?;
        }
        for s in &r.skipped {
            writeln!(out, "skipped: {} ({})", s.path, s.reason)?;
        }
        let s = &r.summary;
        writeln!(
            out,
            "{}: {} guardrails on {} resources in {} files: {} findings, {} warnings, {} excepted, {} errors",
            r.workload, s.guardrails, s.resources, s.files, s.findings, s.warnings, s.excepted, s.errors
        )
    }

    fn test(&self, r: &TestReport, out: &mut dyn Write) -> io::Result<()> {
        // Workload and policy text may carry terminal escapes: shown, never obeyed.
        let out = &mut crate::report::escape::Terminal::new(out);
        for c in &r.cases {
            let status = if c.passed { "ok  " } else { "FAIL" };
            writeln!(out, "{status} {} {}", c.guardrail, c.case)?;
            for p in &c.problems {
                writeln!(out, "       {p}")?;
            }
        }
        writeln!(out, "{} guardrails, {} fixtures", r.guardrails, r.cases.len())?;
        writeln!(out, "{} passed, {} failed", r.passed, r.failed)
    }

    fn observe(&self, r: &ObserveReport, out: &mut dyn Write) -> io::Result<()> {
        // Workload and policy text may carry terminal escapes: shown, never obeyed.
        let out = &mut crate::report::escape::Terminal::new(out);
        self.observe_text(r, out)
    }
    fn enforce(&self, r: &EnforceReport, out: &mut dyn Write) -> io::Result<()> {
        // Workload and policy text may carry terminal escapes: shown, never obeyed.
        let out = &mut crate::report::escape::Terminal::new(out);
        self.enforce_text(r, out)
    }
    fn report(&self, r: &Report, out: &mut dyn Write) -> io::Result<()> {
        // Workload and policy text may carry terminal escapes: shown, never obeyed.
        let out = &mut crate::report::escape::Terminal::new(out);
        self.report_text(r, out)?;
        unverified_text(&r.unverified_exceptions, out)
    }
}

#[derive(TabledRow)]
struct CandidateRow {
    guardrail: String,
    change: String,
    compliant: usize,
    noncompliant: usize,
    excepted: usize,
    unknown: usize,
    action: String,
}

#[derive(TabledRow)]
struct FixRow {
    team: String,
    workload: String,
    guardrail: String,
    resource: String,
    location: String,
    deadline: String,
    #[tabled(rename = "last changed")]
    last_changed: String,
}

impl Table {
    pub(crate) fn observe_text(&self, r: &ObserveReport, out: &mut dyn Write) -> io::Result<()> {
        if r.stats.workloads > 0 {
            writeln!(
                out,
                "Observed {} workload(s) with {} worker(s): {} parsed, {} evaluations, {} results from the cache.",
                r.stats.workloads, r.stats.jobs, r.stats.workloads_parsed, r.stats.evaluations, r.stats.cache_hits
            )?;
        }
        if r.candidates.is_empty() {
            writeln!(out, "No candidates: every guardrail on develop is already on main.")?;
            return stale_text(&r.stale_exceptions, out);
        }
        let rows = r.candidates.iter().map(|c| CandidateRow {
            guardrail: c.id.clone(),
            change: format!("{:?}", c.change).to_lowercase(),
            compliant: c.compliant,
            noncompliant: c.noncompliant,
            excepted: c.excepted,
            unknown: c.unknown,
            action: match (c.action, c.deadline, &c.commit) {
                (Action::Promoted, _, Some(commit)) => {
                    format!("promoted to main ({})", &commit[..commit.len().min(12)])
                }
                (Action::Held, Some(d), _) => format!("held until {d}"),
                (Action::Blocked, _, _) => "blocked: not every workload could be evaluated".into(),
                (a, _, _) => format!("{a:?}").to_lowercase(),
            },
        });
        writeln!(
            out,
            "Observation on {}{}:",
            r.now,
            if r.dry_run { " (dry run: nothing written)" } else { "" }
        )?;
        writeln!(out, "{}", Tabled::new(rows).with(Style::sharp()))?;
        for c in r.candidates.iter().filter(|c| !c.problems.is_empty()) {
            for p in &c.problems {
                writeln!(out, "error: {}: {p}", c.id)?;
            }
        }
        if !r.to_fix.is_empty() {
            writeln!(out, "What to fix, where, and by when:")?;
            let rows = r.to_fix.iter().map(|f| FixRow {
                team: f.team.clone(),
                workload: f.workload.clone(),
                guardrail: f.guardrail.clone(),
                resource: f.resource.clone(),
                location: location(&f.file, f.line),
                deadline: f.deadline.map(|d| d.to_string()).unwrap_or_else(|| "-".into()),
                last_changed: f
                    .last_changed
                    .as_ref()
                    .map(|c| c.describe().trim_start_matches("last changed ").to_string())
                    .unwrap_or_else(|| "-".into()),
            });
            writeln!(out, "{}", Tabled::new(rows).with(Style::sharp()))?;
        }
        stale_text(&r.stale_exceptions, out)
    }
}

/// Exceptions that waive nothing any more, one line each with where they are written.
pub(crate) fn stale_text(
    stale: &[crate::guardrail::exceptions::StaleException],
    out: &mut dyn Write,
) -> io::Result<()> {
    if stale.is_empty() {
        return Ok(());
    }
    writeln!(out, "Stale exceptions (they match no finding any more; remove them):")?;
    for x in stale {
        writeln!(
            out,
            "  {}:{}: `{}` on `{}` / `{}`, expires {}{}",
            x.file,
            x.line,
            x.guardrail,
            x.workload,
            x.resource,
            x.expires,
            x.ticket.as_deref().map(|t| format!(" ({t})")).unwrap_or_default()
        )?;
    }
    Ok(())
}

#[derive(TabledRow)]
struct ExposureRow {
    workload: String,
    guardrail: String,
    severity: String,
    state: String,
    status: String,
    findings: String,
    deadline: String,
    #[tabled(rename = "days left")]
    days_left: String,
}

#[derive(TabledRow)]
struct StatusRow {
    guardrail: String,
    severity: String,
    state: String,
    compliant: usize,
    noncompliant: usize,
    excepted: usize,
    unknown: usize,
    #[tabled(rename = "earliest deadline")]
    deadline: String,
    activates: String,
}

impl Table {
    pub(crate) fn report_text(&self, r: &Report, out: &mut dyn Write) -> io::Result<()> {
        if r.view == "guardrails" {
            writeln!(out, "Guardrails on {}:", r.now)?;
            let rows = r.guardrails.iter().map(|g| StatusRow {
                guardrail: g.guardrail.clone(),
                severity: g.severity.to_string(),
                state: format!("{:?}", g.state).to_lowercase(),
                compliant: g.compliant,
                noncompliant: g.noncompliant,
                excepted: g.excepted,
                unknown: g.unknown,
                deadline: g.earliest_deadline.map(|d| d.to_string()).unwrap_or_else(|| "-".into()),
                activates: g.activation_day.map(|d| d.to_string()).unwrap_or_else(|| "-".into()),
            });
            writeln!(out, "{}", Tabled::new(rows).with(Style::sharp()))?;
            return stale_text(&r.stale_exceptions, out);
        }
        writeln!(out, "Exposure of {} `{}` on {}:", r.view, r.subject, r.now)?;
        if r.exposure.is_empty() {
            writeln!(out, "nothing: compliant with every active and pending guardrail")?;
            return stale_text(&r.stale_exceptions, out);
        }
        let rows = r.exposure.iter().map(|e| ExposureRow {
            workload: e.workload.clone(),
            guardrail: e.guardrail.clone(),
            severity: e.severity.to_string(),
            state: format!("{:?}", e.state).to_lowercase(),
            status: format!("{:?}", e.status).to_lowercase(),
            findings: format!("{} (+{} excepted)", e.findings.len(), e.excepted.len()),
            deadline: e.deadline.map(|d| d.to_string()).unwrap_or_else(|| "-".into()),
            days_left: e.days_left.map(|d| d.to_string()).unwrap_or_else(|| "-".into()),
        });
        writeln!(out, "{}", Tabled::new(rows).with(Style::sharp()))?;
        for e in &r.exposure {
            for f in &e.findings {
                writeln!(
                    out,
                    "  {} {} {} at {}: {}",
                    e.workload,
                    e.guardrail,
                    f.resource,
                    location(&f.file, f.line),
                    f.message
                )?;
            }
            for f in &e.excepted {
                let exp = f.exception_expires.map(|d| d.to_string()).unwrap_or_default();
                writeln!(
                    out,
                    "  {} {} {} excepted until {exp}",
                    e.workload, e.guardrail, f.resource
                )?;
            }
            for p in &e.problems {
                writeln!(out, "  {} {} could not be evaluated: {p}", e.workload, e.guardrail)?;
            }
        }
        stale_text(&r.stale_exceptions, out)
    }

    pub(crate) fn enforce_text(&self, r: &EnforceReport, out: &mut dyn Write) -> io::Result<()> {
        let verb = if r.dry_run { "would activate" } else { "activated" };
        writeln!(
            out,
            "Enforcement on {}{}:",
            r.now,
            if r.dry_run { " (dry run: nothing written)" } else { "" }
        )?;
        if r.activated.is_empty() {
            writeln!(out, "  no pending guardrail has reached its deadline")?;
        }
        for a in &r.activated {
            let commit = a
                .commit
                .as_deref()
                .map(|c| format!(" in {}", &c[..c.len().min(12)]))
                .unwrap_or_default();
            writeln!(out, "  {verb} `{}` (deadline {}){commit}", a.guardrail, a.deadline)?;
            if !a.now_failing.is_empty() {
                writeln!(out, "    workloads that now fail: {}", a.now_failing.join(", "))?;
            }
        }
        for u in &r.upcoming {
            let remind = if u.remind { " [reminder due today]" } else { "" };
            writeln!(
                out,
                "  upcoming: `{}` fails `{}` ({}) from {}: {} days left, {} findings{remind}",
                u.guardrail, u.workload, u.team, u.deadline, u.days_left, u.findings
            )?;
        }
        for x in &r.exceptions {
            let when = if x.expired {
                format!("expired {}", x.expires)
            } else {
                format!("expires {} ({} days)", x.expires, x.days_left)
            };
            writeln!(
                out,
                "  exception {when}: `{}` {} {} ({})",
                x.guardrail, x.workload, x.resource, x.source
            )?;
        }
        for id in &r.not_observed {
            writeln!(
                out,
                "  `{id}` has not been observed in its current version: run `railyard observe` first"
            )?;
        }
        for x in &r.refused {
            writeln!(
                out,
                "  refused: `{}` is due ({}) but fails its own fixtures (activate anyway with --force-failing-fixtures):",
                x.guardrail, x.deadline
            )?;
            for p in &x.problems {
                writeln!(out, "    {p}")?;
            }
        }
        Ok(())
    }
}

/// Exceptions whose approval did not verify: the security team's to-do list.
fn unverified_text(list: &[crate::report::release::UnverifiedException], out: &mut dyn Write) -> io::Result<()> {
    if list.is_empty() {
        return Ok(());
    }
    writeln!(out, "Unverified exceptions (they waive nothing):")?;
    for x in list {
        writeln!(
            out,
            "  {} on `{}` / `{}` approved by `{}` — {}:{}: {}",
            x.guardrail, x.workload, x.resource, x.approved_by, x.file, x.line, x.reason
        )?;
    }
    Ok(())
}
