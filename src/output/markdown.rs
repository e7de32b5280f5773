//! `--format markdown`: for CI job summaries (`$GITHUB_STEP_SUMMARY`) and PR comments. The
//! summary comes first; long lists sit in collapsible `<details>` so a comment stays short.

use super::{location, Render};
use crate::evaluate::Finding;
use crate::report::enforce::EnforceReport;
use crate::report::exposure::Report;
use crate::report::observe::ObserveReport;
use crate::report::{check::CheckReport, test::TestReport};
use std::io::{self, Write};

pub struct Markdown;

/// Table cells may not contain `|` or newlines; workload text may not open markup.
fn cell(s: &str) -> String {
    crate::report::escape::md_text(&s.replace('\n', " "))
}

/// A code span holding `s` literally (backticks inside cannot close it).
fn code(s: &str) -> String {
    crate::report::escape::md_code(s)
}

fn table(out: &mut dyn Write, findings: &[Finding], deadline: bool) -> io::Result<()> {
    if deadline {
        writeln!(
            out,
            "| Severity | Guardrail | Resource | Location | Deadline | Message |\n|---|---|---|---|---|---|"
        )?;
    } else {
        writeln!(
            out,
            "| Severity | Guardrail | Resource | Location | Message |\n|---|---|---|---|---|"
        )?;
    }
    for f in findings {
        let d = f.deadline.map(|d| d.to_string()).unwrap_or_default();
        let dl = if deadline { format!(" {d} |") } else { String::new() };
        writeln!(
            out,
            "| {} | {} | {} | {} |{dl} {} |",
            f.severity,
            code(&f.guardrail),
            code(&f.resource),
            code(&location(&f.file, f.line)),
            cell(&f.message)
        )?;
    }
    writeln!(out)
}

impl Render<CheckReport> for Markdown {
    fn render(&self, r: &CheckReport, out: &mut dyn Write) -> io::Result<()> {
        let s = &r.summary;
        let verdict = if !r.errors.is_empty() {
            "could not be fully evaluated"
        } else if s.failing > 0 {
            "fails"
        } else {
            "passes"
        };
        writeln!(out, "## Railyard: {} {verdict}\n", code(&r.workload))?;
        writeln!(
            out,
            "{} guardrails on {} resources: **{} findings**, {} warnings from pending guardrails, {} excepted, {} errors.\n",
            s.guardrails, s.resources, s.findings, s.warnings, s.excepted, s.errors
        )?;
        if !r.findings.is_empty() {
            writeln!(out, "### Findings\n")?;
            table(out, &r.findings, false)?;
        }
        if !r.warnings.is_empty() {
            writeln!(out, "### Pending guardrails (warnings until their deadline)\n")?;
            table(out, &r.warnings, true)?;
        }
        if !r.excepted.is_empty() {
            writeln!(
                out,
                "### Exceptions\n\n| Guardrail | Resource | Reason | Approved by | Expires |\n|---|---|---|---|---|"
            )?;
            for f in &r.excepted {
                if let Some(e) = &f.exception {
                    writeln!(
                        out,
                        "| {} | {} | {} | {} | {} |",
                        code(&f.guardrail),
                        code(&f.resource),
                        cell(&e.reason),
                        cell(&e.approved_by),
                        e.expires
                    )?;
                }
            }
            writeln!(out)?;
        }
        if !r.errors.is_empty() {
            writeln!(out, "### Errors\n")?;
            for e in &r.errors {
                writeln!(out, "- {}", cell(&e.to_string()))?;
            }
        }
        if !r.skipped.is_empty() {
            writeln!(out, "\n### Skipped (not evaluated)\n")?;
            for s in &r.skipped {
                writeln!(out, "- {}: {}", code(&s.path), cell(&s.reason))?;
            }
        }
        Ok(())
    }
}

impl Render<TestReport> for Markdown {
    fn render(&self, r: &TestReport, out: &mut dyn Write) -> io::Result<()> {
        writeln!(out, "## Guardrail fixtures: {} passed, {} failed\n", r.passed, r.failed)?;
        writeln!(out, "| Result | Guardrail | Case | Problems |\n|---|---|---|---|")?;
        for c in &r.cases {
            let status = if c.passed { "pass" } else { "**FAIL**" };
            writeln!(
                out,
                "| {status} | {} | {} | {} |",
                code(&c.guardrail),
                code(&c.case),
                cell(&c.problems.join("; "))
            )?;
        }
        if let Some(b) = &r.bench {
            let per = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{v:.1}"));
            writeln!(
                out,
                "\n### Guardrail cost (policy evaluation only, fastest of {} rounds)\n",
                b.rounds
            )?;
            if let Some(w) = &b.workload {
                writeln!(
                    out,
                    "Workload {}: {} files, {} resources.\n",
                    code(&w.path),
                    w.files,
                    w.resources
                )?;
            }
            writeln!(out, "| Guardrail | Fixtures | Resources | ms | µs/resource | Workload ms | Workload µs/resource | Errors |\n|---|---|---|---|---|---|---|---|")?;
            for c in &b.guardrails {
                writeln!(
                    out,
                    "| {} | {} | {} | {:.2} | {} | {} | {} | {} |",
                    code(&c.guardrail),
                    c.fixtures,
                    c.fixture_resources,
                    c.fixture_ms,
                    per(c.fixture_us_per_resource),
                    c.workload_ms.map_or("-".into(), |v| format!("{v:.2}")),
                    per(c.workload_us_per_resource),
                    cell(&c.errors.join("; "))
                )?;
            }
        }
        Ok(())
    }
}

impl Render<Report> for Markdown {
    fn render(&self, r: &Report, out: &mut dyn Write) -> io::Result<()> {
        if r.view == "guardrails" {
            writeln!(out, "## Guardrails on {}\n", r.now)?;
            writeln!(out, "| Guardrail | Severity | State | Compliant | Noncompliant | Excepted | Unknown | Earliest deadline |\n|---|---|---|---|---|---|---|---|")?;
            for g in &r.guardrails {
                let d = g.earliest_deadline.map(|d| d.to_string()).unwrap_or_else(|| "-".into());
                writeln!(
                    out,
                    "| {} | {} | {:?} | {} | {} | {} | {} | {d} |",
                    code(&g.guardrail),
                    g.severity,
                    g.state,
                    g.compliant,
                    g.noncompliant,
                    g.excepted,
                    g.unknown
                )?;
            }
            return report_tail(r, out);
        }
        writeln!(out, "## Exposure of {} {} on {}\n", r.view, code(&r.subject), r.now)?;
        if r.exposure.is_empty() {
            writeln!(out, "Compliant with every active and pending guardrail.")?;
            return report_tail(r, out);
        }
        let count = |v: crate::evaluate::Verdict| r.exposure.iter().filter(|e| e.status == v).count();
        writeln!(
            out,
            "**{} noncompliant**, {} excepted, {} unknown (guardrail × workload).\n",
            count(crate::evaluate::Verdict::Noncompliant),
            count(crate::evaluate::Verdict::Excepted),
            count(crate::evaluate::Verdict::Unknown)
        )?;
        writeln!(out, "| Workload | Guardrail | Severity | State | Status | Findings | Deadline | Days left | Fix |\n|---|---|---|---|---|---|---|---|---|")?;
        for e in &r.exposure {
            writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} (+{} excepted) | {} | {} | {} |",
                code(&e.workload),
                code(&e.guardrail),
                e.severity,
                word(&e.state),
                word(&e.status),
                e.findings.len(),
                e.excepted.len(),
                e.deadline.map(|d| d.to_string()).unwrap_or_else(|| "-".into()),
                e.days_left.map(|d| d.to_string()).unwrap_or_else(|| "-".into()),
                link(&e.url, "remediation")
            )?;
        }
        let rows: usize = r
            .exposure
            .iter()
            .map(|e| e.findings.len() + e.excepted.len() + e.problems.len())
            .sum();
        details_open(out, &format!("Resources ({rows})"))?;
        writeln!(out, "| Workload | Guardrail | Severity | State | Resource | Location | Deadline | Days left |\n|---|---|---|---|---|---|---|---|")?;
        for e in &r.exposure {
            let d = e.deadline.map(|d| d.to_string()).unwrap_or_else(|| "-".into());
            let left = e.days_left.map(|d| d.to_string()).unwrap_or_else(|| "-".into());
            for f in &e.findings {
                writeln!(
                    out,
                    "| {} | {} | {} | {:?} | {} | {} | {d} | {left} |",
                    code(&e.workload),
                    code(&e.guardrail),
                    e.severity,
                    e.state,
                    code(&f.resource),
                    code(&location(&f.file, f.line))
                )?;
            }
            for f in &e.excepted {
                let exp = f.exception_expires.map(|d| d.to_string()).unwrap_or_default();
                writeln!(
                    out,
                    "| {} | {} | {} | excepted | {} | {} | until {exp} | - |",
                    code(&e.workload),
                    code(&e.guardrail),
                    e.severity,
                    code(&f.resource),
                    code(&location(&f.file, f.line))
                )?;
            }
            for p in &e.problems {
                writeln!(
                    out,
                    "| {} | {} | {} | unknown | - | {} | {d} | {left} |",
                    code(&e.workload),
                    code(&e.guardrail),
                    e.severity,
                    cell(p)
                )?;
            }
        }
        details_close(out)?;
        report_tail(r, out)
    }
}

/// A serialised enum's word (`held`, `would-send`), as the JSON document spells it.
fn word<T: serde::Serialize>(v: &T) -> String {
    match serde_json::to_value(v) {
        Ok(serde_json::Value::String(s)) => s,
        Ok(other) => other.to_string(),
        Err(_) => "?".into(),
    }
}

/// Opens a collapsible section (GitHub renders Markdown inside it after a blank line).
fn details_open(out: &mut dyn Write, summary: &str) -> io::Result<()> {
    writeln!(out, "\n<details><summary>{}</summary>\n", cell(summary))
}

fn details_close(out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "\n</details>")
}

/// A link to a guardrail's documentation when its URL is a plain http(s) URL that cannot
/// break out of the link syntax; else the URL as code (still visible, never markup).
fn link(url: &str, text: &str) -> String {
    let plain = (url.starts_with("https://") || url.starts_with("http://"))
        && !url
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || "()<>[]`\\\"".contains(c));
    match (url.is_empty(), plain) {
        (true, _) => String::new(),
        (false, true) => format!("[{text}]({url})"),
        (false, false) => code(url),
    }
}

fn day(d: Option<crate::date::Day>) -> String {
    d.map(|d| d.to_string()).unwrap_or_else(|| "-".into())
}

impl Render<ObserveReport> for Markdown {
    fn render(&self, r: &ObserveReport, out: &mut dyn Write) -> io::Result<()> {
        use crate::report::observe::Action;
        let dry = if r.dry_run { " (dry run: nothing written)" } else { "" };
        writeln!(out, "## Railyard observe on {}{dry}\n", r.now)?;
        let count = |a: Action| r.candidates.iter().filter(|c| c.action == a).count();
        let unknown = r.workloads.iter().filter(|w| !w.problems.is_empty()).count();
        writeln!(
            out,
            "{} candidate guardrails: **{} promoted**, {} would promote, {} held until their deadline, {} blocked, {} broken, {} removed. {} workloads observed ({} could not be evaluated); {} findings to fix.\n",
            r.candidates.len(),
            count(Action::Promoted),
            count(Action::WouldPromote),
            count(Action::Held),
            count(Action::Blocked),
            count(Action::Broken),
            count(Action::Removed),
            r.workloads.len(),
            unknown,
            r.to_fix.len()
        )?;
        use super::summary;
        let lines = summary::lines(r);
        if !lines.is_empty() {
            writeln!(out, "| Guardrail | State | Severity | Decision | Compliant | Noncompliant | Excepted | Unknown | Earliest deadline |\n|---|---|---|---|---|---|---|---|---|")?;
            for l in &lines {
                let (tone, why) = summary::decision(r, l);
                // The decision in bold, its why after it.
                let (word, rest) = match why.split_once(':') {
                    Some((w, r)) => (w, format!(":{r}")),
                    None => (why.as_str(), String::new()),
                };
                let word = match tone {
                    summary::Tone::Plain => cell(word),
                    _ => format!("**{}**", cell(word)),
                };
                let deadline = summary::earliest_deadline(r, &l.id)
                    .or_else(|| r.candidates.iter().find(|c| c.id == l.id).and_then(|c| c.deadline));
                writeln!(
                    out,
                    "| {} | {} | {} | {word}{} | {} | {} | {} | {} | {} |",
                    code(&l.id),
                    summary::state(l.state),
                    l.severity.map(|s| s.to_string()).unwrap_or_else(|| "-".into()),
                    cell(&rest),
                    l.compliant,
                    l.noncompliant,
                    l.excepted,
                    l.unknown,
                    day(deadline)
                )?;
            }
            let quiet = summary::quiet_active(r);
            if quiet > 0 {
                writeln!(
                    out,
                    "\n{}: compliant on every workload (not listed).",
                    super::plural(quiet, "more active guardrail")
                )?;
            }
            for c in r.candidates.iter().filter(|c| !c.problems.is_empty()) {
                // A blocked candidate's problems are its unknowns: listed below, per workload.
                if c.action == Action::Blocked && !r.details {
                    continue;
                }
                writeln!(out, "\n{} could not be judged:\n", code(&c.id))?;
                let shown = if r.details { c.problems.len() } else { summary::PROBLEMS };
                for p in c.problems.iter().take(shown) {
                    writeln!(out, "- {}", cell(p))?;
                }
                if c.problems.len() > shown {
                    let more = super::plural(c.problems.len() - shown, "problem");
                    writeln!(out, "- … and {more} more (`--details` lists every one)")?;
                }
            }
        }
        let teams = summary::teams(r);
        if !teams.is_empty() {
            writeln!(out, "\n### Per team\n")?;
            writeln!(
                out,
                "| Team | Workloads | Findings | Unknown | Earliest deadline | Guardrails |\n|---|---|---|---|---|---|"
            )?;
            let shown = if r.details {
                teams.len()
            } else {
                summary::TEAMS.min(teams.len())
            };
            for t in &teams[..shown] {
                let guardrails: Vec<String> = t.guardrails.iter().map(|g| code(g)).collect();
                writeln!(
                    out,
                    "| {} | {} | {} | {} | {} | {} |",
                    if t.name.is_empty() { "-".into() } else { cell(t.name) },
                    t.workloads,
                    t.findings,
                    t.unknown,
                    day(t.deadline),
                    guardrails.join(", ")
                )?;
            }
            if shown < teams.len() {
                let rest = &teams[shown..];
                writeln!(
                    out,
                    "\n{} with {} and {} (`--details` lists every team; `railyard report --team NAME` one).",
                    super::plural(rest.len(), "more team"),
                    super::plural(rest.iter().map(|t| t.findings).sum(), "finding"),
                    super::plural(rest.iter().map(|t| t.unknown).sum(), "unknown"),
                )?;
            }
        }
        if !r.unknowns.is_empty() {
            writeln!(
                out,
                "\n### Unknown: {} on {} could not be evaluated (never counted as compliant)\n",
                super::plural(r.unknowns.len(), "result"),
                super::plural(summary::unknown_workloads(r), "workload"),
            )?;
            let groups = summary::unknown_groups(r);
            let shown = summary::unknowns_shown(r, groups.len());
            for g in &groups[..shown] {
                writeln!(
                    out,
                    "- {} ({}): {} — {}",
                    code(g.workload),
                    if g.team.is_empty() { "-".into() } else { cell(g.team) },
                    cell(&summary::guardrail_names(r, &g.guardrails)),
                    cell(&summary::reasons(g.reasons))
                )?;
            }
            if shown < groups.len() {
                let rest = &groups[shown..];
                let workloads: std::collections::BTreeSet<&str> = rest.iter().map(|g| g.workload).collect();
                writeln!(
                    out,
                    "- … and {} on {} (`railyard observe --details` lists every one)",
                    super::plural(rest.iter().map(|g| g.guardrails.len()).sum(), "more unknown result"),
                    super::plural(workloads.len(), "workload"),
                )?;
            }
        }
        if !r.details {
            notifications_markdown(&r.notifications, out)?;
            if !r.exception_errors.is_empty() {
                writeln!(out, "\n### Exceptions that break governance\n")?;
                for e in &r.exception_errors {
                    writeln!(out, "- {}", cell(e))?;
                }
            }
            let stale = &r.stale_exceptions;
            stale_markdown(&stale[..summary::STALE.min(stale.len())], out)?;
            if stale.len() > summary::STALE {
                let more = super::plural(stale.len() - summary::STALE, "stale exception");
                writeln!(
                    out,
                    "- … and {more} more (`railyard observe --details` lists every one)"
                )?;
            }
            if let Some(line) = summary::pointer(r, 0) {
                writeln!(out, "\n{line}")?;
            }
            return Ok(());
        }
        if !r.to_fix.is_empty() {
            details_open(out, &format!("Findings to fix ({})", r.to_fix.len()))?;
            writeln!(out, "| Team | Workload | Guardrail | Severity | Resource | Location | Deadline | Message | Fix |\n|---|---|---|---|---|---|---|---|---|")?;
            for f in &r.to_fix {
                let fix = match f.url.is_empty() {
                    true => cell(&f.remediation),
                    false => format!("{} {}", cell(&f.remediation), link(&f.url, "remediation")),
                };
                writeln!(
                    out,
                    "| {} | {} | {} | {} | {} | {} | {} | {} | {} |",
                    cell(&f.team),
                    code(&f.workload),
                    code(&f.guardrail),
                    f.severity,
                    code(&f.resource),
                    code(&location(&f.file, f.line)),
                    day(f.deadline),
                    cell(&f.message),
                    fix
                )?;
            }
            details_close(out)?;
        }
        if !r.workloads.is_empty() {
            details_open(out, &format!("Workloads ({})", r.workloads.len()))?;
            writeln!(
                out,
                "| Workload | Team | Commit | Resources | Problems |\n|---|---|---|---|---|"
            )?;
            for w in &r.workloads {
                writeln!(
                    out,
                    "| {} | {} | {} | {} | {} |",
                    code(&w.name),
                    cell(&w.team),
                    code(&w.commit[..w.commit.len().min(12)]),
                    w.resources,
                    cell(&w.problems.join("; "))
                )?;
            }
            details_close(out)?;
        }
        notifications_markdown(&r.notifications, out)?;
        if !r.exception_errors.is_empty() {
            writeln!(out, "\n### Exceptions that break governance\n")?;
            for e in &r.exception_errors {
                writeln!(out, "- {}", cell(e))?;
            }
        }
        stale_markdown(&r.stale_exceptions, out)
    }
}

impl Render<EnforceReport> for Markdown {
    fn render(&self, r: &EnforceReport, out: &mut dyn Write) -> io::Result<()> {
        let dry = if r.dry_run { " (dry run: nothing written)" } else { "" };
        let verb = if r.dry_run { "would activate" } else { "activated" };
        writeln!(out, "## Railyard enforce on {}{dry}\n", r.now)?;
        let reminders = r.upcoming.iter().filter(|u| u.remind).count();
        let expired = r.exceptions.iter().filter(|x| x.expired).count();
        writeln!(
            out,
            "**{} {verb}**, {} refused (their own fixtures fail), {} ({} due today), {} expiring or expired ({} expired), {} not observed yet.\n",
            super::plural(r.activated.len(), "guardrail"),
            r.refused.len(),
            super::plural(r.upcoming.len(), "upcoming deadline"),
            super::plural(reminders, "reminder"),
            super::plural(r.exceptions.len(), "exception"),
            expired,
            super::plural(r.not_observed.len(), "candidate")
        )?;
        if !r.activated.is_empty() {
            writeln!(
                out,
                "| Guardrail | Deadline | Workloads that now fail | Commit |\n|---|---|---|---|"
            )?;
            for a in &r.activated {
                let failing = super::summary::names(&a.now_failing, r.details, cell);
                writeln!(
                    out,
                    "| {} | {} | {} | {} |",
                    code(&a.guardrail),
                    a.deadline,
                    failing,
                    a.commit
                        .as_deref()
                        .map(|c| code(&c[..c.len().min(12)]))
                        .unwrap_or_default()
                )?;
            }
        }
        if !r.refused.is_empty() {
            writeln!(
                out,
                "\n### Refused: due but failing their own fixtures (activate with `--force-failing-fixtures`)\n"
            )?;
            for x in &r.refused {
                writeln!(
                    out,
                    "- {} (deadline {}): {}",
                    code(&x.guardrail),
                    x.deadline,
                    cell(&x.problems.join("; "))
                )?;
            }
        }
        if !r.upcoming.is_empty() {
            use super::summary;
            if !r.details && r.upcoming.len() > summary::ENFORCE_LIST {
                // A fleet's upcoming deadlines, one row per guardrail (`--details`: per workload).
                writeln!(out, "\n### Upcoming deadlines ({}), per guardrail\n", r.upcoming.len())?;
                writeln!(out, "| Guardrail | Workloads | Teams | Findings | First deadline | Last deadline | Days left | Reminders today |\n|---|---|---|---|---|---|---|---|")?;
                for g in summary::upcoming_groups(r) {
                    writeln!(
                        out,
                        "| {} | {} | {} | {} | {} | {} | {} | {} |",
                        code(g.guardrail),
                        g.workloads,
                        g.teams.len(),
                        g.findings,
                        g.first,
                        g.last,
                        g.days_left,
                        g.reminders
                    )?;
                }
            }
        }
        if !r.upcoming.is_empty() && (r.details || r.upcoming.len() <= super::summary::ENFORCE_LIST) {
            details_open(out, &format!("Upcoming deadlines ({})", r.upcoming.len()))?;
            writeln!(out, "| Guardrail | Workload | Team | Deadline | Days left | Findings | Reminder today |\n|---|---|---|---|---|---|---|")?;
            for u in &r.upcoming {
                writeln!(
                    out,
                    "| {} | {} | {} | {} | {} | {} | {} |",
                    code(&u.guardrail),
                    code(&u.workload),
                    cell(&u.team),
                    u.deadline,
                    u.days_left,
                    u.findings,
                    if u.remind { "yes" } else { "" }
                )?;
            }
            details_close(out)?;
        }
        if !r.exceptions.is_empty() {
            details_open(
                out,
                &format!("Exceptions expiring soon or expired ({})", r.exceptions.len()),
            )?;
            writeln!(out, "| Guardrail | Workload | Resource | Expires | Days left | Approved by | Source |\n|---|---|---|---|---|---|---|")?;
            let shown = match r.details {
                true => r.exceptions.len(),
                false => super::summary::ENFORCE_LIST.min(r.exceptions.len()),
            };
            for x in &r.exceptions[..shown] {
                writeln!(
                    out,
                    "| {} | {} | {} | {}{} | {} | {} | {} |",
                    code(&x.guardrail),
                    code(&x.workload),
                    code(&x.resource),
                    x.expires,
                    if x.expired { " (expired)" } else { "" },
                    x.days_left,
                    cell(&x.approved_by),
                    code(&x.source)
                )?;
            }
            if shown < r.exceptions.len() {
                let more = super::plural(r.exceptions.len() - shown, "more exception");
                writeln!(out, "\n… and {more} (`railyard enforce --details` lists every one).")?;
            }
            details_close(out)?;
        }
        if !r.not_observed.is_empty() {
            writeln!(
                out,
                "\n### Not observed in their current version (run `railyard observe` first)\n"
            )?;
            for id in &r.not_observed {
                writeln!(out, "- {}", code(id))?;
            }
        }
        notifications_markdown(&r.notifications, out)
    }
}

/// What was (or would be) sent to each team.
fn notifications_markdown(list: &[crate::report::Sent], out: &mut dyn Write) -> io::Result<()> {
    if list.is_empty() {
        return Ok(());
    }
    details_open(out, &format!("Notifications ({})", list.len()))?;
    writeln!(
        out,
        "| Team | Channel | Status | Events | Error |\n|---|---|---|---|---|"
    )?;
    for n in list {
        writeln!(
            out,
            "| {} | {} | {} | {} | {} |",
            cell(&n.team),
            cell(&n.channel),
            cell(&n.status.to_string()),
            cell(&n.events.join("; ")),
            cell(n.error.as_deref().unwrap_or(""))
        )?;
    }
    details_close(out)
}

/// What closes every report view: stale exceptions, then unverified ones.
fn report_tail(r: &Report, out: &mut dyn Write) -> io::Result<()> {
    stale_markdown(&r.stale_exceptions, out)?;
    unverified_markdown(&r.unverified_exceptions, out)
}

fn unverified_markdown(list: &[crate::report::release::UnverifiedException], out: &mut dyn Write) -> io::Result<()> {
    if list.is_empty() {
        return Ok(());
    }
    writeln!(out, "\n### Unverified exceptions (they waive nothing)\n")?;
    for x in list {
        writeln!(
            out,
            "- {} on {} / {} approved by {} — {}: {}",
            code(&x.guardrail),
            code(&x.workload),
            code(&x.resource),
            cell(&x.approved_by),
            code(&location(&x.file, x.line)),
            cell(&x.reason)
        )?;
    }
    Ok(())
}

/// Exceptions that match no finding any more, as a list under their own heading.
fn stale_markdown(stale: &[crate::guardrail::exceptions::StaleException], out: &mut dyn Write) -> io::Result<()> {
    if stale.is_empty() {
        return Ok(());
    }
    writeln!(
        out,
        "\n### Stale exceptions (they match no finding any more; remove them)\n"
    )?;
    for x in stale {
        writeln!(
            out,
            "- {} on {} / {}, expires {} — {}",
            code(&x.guardrail),
            code(&x.workload),
            code(&x.resource),
            x.expires,
            code(&location(&x.file, x.line))
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::release::UnverifiedException;

    #[test]
    fn only_plain_http_urls_become_links() {
        assert_eq!(link("https://docs.example/x", "fix"), "[fix](https://docs.example/x)");
        // A URL that would close the link or open markup stays visible as code.
        assert_eq!(
            link("https://e.example/a) [x](javascript:1", "fix"),
            "`https://e.example/a) [x](javascript:1`"
        );
        assert_eq!(link("javascript:alert(1)", "fix"), "`javascript:alert(1)`");
        assert_eq!(link("", "fix"), "");
    }

    #[test]
    fn unverified_exceptions_keep_workload_text_inside_their_code_spans() {
        let x = UnverifiedException {
            guardrail: "g".into(),
            workload: "w".into(),
            resource: "a`<b>`c".into(),
            approved_by: "x".into(),
            file: "guardrails/g/exceptions.toml".into(),
            line: 3,
            reason: "r".into(),
        };
        let mut out = Vec::new();
        unverified_markdown(&[x], &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        // The resource is one code span whose fence is longer than the backticks inside it.
        assert!(text.contains(" / ``a`<b>`c`` approved by"), "{text}");
    }
}
