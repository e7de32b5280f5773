//! `--format table`: aligned tables for people, readable without colour. At a terminal,
//! severities and verdicts are coloured and tables fit its width (see [`super::style`]);
//! each view prints its summary first and the details after.
//!
//! Workload and policy text may carry terminal escapes: shown, never obeyed. Every such
//! piece goes through [`e`] (or the escaping [`Terminal`] writer) before it is printed;
//! only the renderer's own colour codes reach the terminal as codes.

use super::style::{self, count, paint, BAD, GOOD, HEAD, WARN};
use super::summary;
use super::{location, plural};
use crate::evaluate::Finding;
use crate::report::enforce::EnforceReport;
use crate::report::escape::Terminal;
use crate::report::exposure::Report;
use crate::report::observe::{Action, ObserveReport};
use crate::report::{check::CheckReport, test::TestReport};
use std::io::{self, Write};
use tabled::settings::{object::Columns, peaker::Priority, Style, Width};
use tabled::{Table as Tabled, Tabled as TabledRow};

pub struct Table;

/// One line of workload or policy text, escaped for the terminal.
fn e(s: &str) -> String {
    crate::report::escape::line(s).into_owned()
}

/// Rows as a table that fits the terminal: the last column (the message, the action: the
/// prose) wraps first, at word boundaries; only if that is not enough do the widest columns
/// wrap too.
fn grid<R: TabledRow>(rows: impl IntoIterator<Item = R>) -> String {
    let rows: Vec<R> = rows.into_iter().collect();
    let last = R::LENGTH.saturating_sub(1);
    let natural = rows
        .iter()
        .map(|r| r.fields().get(last).map_or(0, |f| widest_line(f)))
        .chain(R::headers().get(last).map(|h| widest_line(h)))
        .max()
        .unwrap_or(0);
    let mut t = Tabled::new(rows);
    t.with(Style::sharp());
    if let Some(w) = style::width() {
        if t.total_width() > w && last > 0 {
            // The other columns (names, paths) give up to 30 columns each, the prose the rest.
            t.modify(Columns::new(..last), Width::wrap(30));
            let others = t.total_width().saturating_sub(natural);
            let target = w.saturating_sub(others).max(20).min(natural);
            t.modify(Columns::last(), Width::wrap(target).keep_words(true));
        }
        if t.total_width() > w {
            t.with(Width::wrap(w).priority(Priority::max(true)));
        }
    }
    t.to_string()
}

fn widest_line(s: &str) -> usize {
    s.lines().map(console::measure_text_width).max().unwrap_or(0)
}

/// A line of already escaped (and possibly coloured) text, wrapped at spaces to the
/// terminal's width with `indent` spaces before continuation lines.
fn say(out: &mut Terminal<'_>, text: &str, indent: usize) -> io::Result<()> {
    let Some(width) = style::width() else {
        return out.raw(&format!("{text}\n"));
    };
    let mut done = String::new();
    let mut line = String::new();
    let mut used = 0;
    let mut at_start = true;
    for word in text.split(' ') {
        let w = console::measure_text_width(word);
        if !at_start && used + 1 + w > width {
            done.push_str(line.trim_end());
            done.push('\n');
            line = " ".repeat(indent);
            used = indent;
            at_start = true;
        }
        if !at_start {
            line.push(' ');
            used += 1;
        }
        // A word wider than the line (a long path) is cut; coloured words are short.
        let mut rest = word;
        while used + console::measure_text_width(rest) > width && width > used + 1 && !rest.contains('\u{1b}') {
            let cut = rest.char_indices().nth(width - used).map_or(rest.len(), |(i, _)| i);
            done.push_str(&line);
            done.push_str(&rest[..cut]);
            done.push('\n');
            rest = &rest[cut..];
            line = " ".repeat(indent);
            used = indent;
        }
        used += console::measure_text_width(rest);
        line.push_str(rest);
        at_start = false;
    }
    done.push_str(&line);
    done.push('\n');
    out.raw(&done)
}

/// `1 day`, `3 days`, `-2 days`.
fn days(n: i64) -> String {
    if n == 1 {
        "1 day".into()
    } else {
        format!("{n} days")
    }
}

fn severity(s: crate::guardrail::Severity) -> String {
    paint(style::severity(s), s.as_str())
}

#[derive(TabledRow)]
struct Row {
    severity: String,
    guardrail: String,
    resource: String,
    location: String,
    message: String,
}

fn rows(findings: &[Finding], deadline: bool) -> String {
    grid(findings.iter().map(|f| Row {
        severity: severity(f.severity),
        guardrail: e(&f.guardrail),
        resource: e(&f.resource),
        location: e(&location(&f.file, f.line)),
        message: match (deadline, f.deadline) {
            (true, Some(d)) => format!("{} (fails the build from {d})", e(&f.message)),
            _ => e(&f.message),
        },
    }))
}

impl Table {
    pub(super) fn check(&self, r: &CheckReport, out: &mut dyn Write) -> io::Result<()> {
        let out = &mut Terminal::new(out);
        let s = &r.summary;
        let verdict = if s.findings > 0 {
            paint(BAD, "FAIL")
        } else if s.errors > 0 {
            paint(BAD, "UNKNOWN")
        } else {
            paint(GOOD, "PASS")
        };
        say(
            out,
            &format!(
                "{verdict} {}: {} on {} in {}: {}, {}, {} excepted, {}",
                e(&r.workload),
                plural(s.guardrails, "guardrail"),
                plural(s.resources, "resource"),
                plural(s.files, "file"),
                count(s.findings, "finding", BAD),
                count(s.warnings, "warning", WARN),
                s.excepted,
                count(s.errors, "error", BAD),
            ),
            2,
        )?;
        if !r.findings.is_empty() {
            say(
                out,
                &paint(HEAD, &format!("Findings ({}), active guardrails:", r.findings.len())),
                2,
            )?;
            out.raw(&format!("{}\n", rows(&r.findings, false)))?;
        }
        if !r.warnings.is_empty() {
            let head = format!(
                "Warnings ({}), pending guardrails, not failing the build yet:",
                r.warnings.len()
            );
            say(out, &paint(HEAD, &head), 2)?;
            out.raw(&format!("{}\n", rows(&r.warnings, true)))?;
        }
        if !r.excepted.is_empty() {
            say(out, &paint(HEAD, &format!("Excepted ({}):", r.excepted.len())), 2)?;
            for f in &r.excepted {
                if let Some(x) = &f.exception {
                    let line = format!(
                        "  {} {} — {} (approved by {}, expires {})",
                        e(&f.guardrail),
                        e(&f.resource),
                        e(&x.reason),
                        e(&x.approved_by),
                        x.expires
                    );
                    say(out, &line, 4)?;
                }
            }
        }
        for f in r.findings.iter().filter_map(|f| f.exception.as_ref().map(|x| (f, x))) {
            let line = match &f.1.unverified {
                Some(reason) if f.1.status == crate::guardrail::ExceptionStatus::Unverified => format!(
                    "Unverified exception (waives nothing): {} {}: {} ({})",
                    e(&f.0.guardrail),
                    e(&f.0.resource),
                    e(reason),
                    e(&f.1.source)
                ),
                _ => format!(
                    "Expired exception: {} {} expired {} ({})",
                    e(&f.0.guardrail),
                    e(&f.0.resource),
                    f.1.expires,
                    e(&f.1.source)
                ),
            };
            say(out, &line, 2)?;
        }
        for x in &r.errors {
            say(out, &format!("{} {}", paint(BAD, "error:"), e(&x.to_string())), 2)?;
        }
        for x in &r.skipped {
            say(out, &format!("skipped: {} ({})", e(&x.path), e(&x.reason)), 2)?;
        }
        Ok(())
    }

    pub(super) fn test(&self, r: &TestReport, out: &mut dyn Write) -> io::Result<()> {
        let out = &mut Terminal::new(out);
        for c in &r.cases {
            let status = if c.passed {
                paint(GOOD, "ok  ")
            } else {
                paint(BAD, "FAIL")
            };
            say(out, &format!("{status} {} {}", e(&c.guardrail), e(&c.case)), 7)?;
            for p in &c.problems {
                say(out, &format!("       {}", e(p)), 7)?;
            }
        }
        if let Some(b) = &r.bench {
            bench_text(b, out)?;
        }
        say(
            out,
            &match r.rego_tests {
                0 => format!(
                    "{}, {}",
                    plural(r.guardrails, "guardrail"),
                    plural(r.cases.len(), "fixture")
                ),
                n => format!(
                    "{}, {}, {}",
                    plural(r.guardrails, "guardrail"),
                    plural(r.cases.len() - n, "fixture"),
                    plural(n, "Rego test")
                ),
            },
            2,
        )?;
        let failed = if r.failed > 0 {
            paint(BAD, &format!("{} failed", r.failed))
        } else {
            "0 failed".into()
        };
        say(out, &format!("{} passed, {failed}", r.passed), 2)
    }

    pub(super) fn observe(&self, r: &ObserveReport, out: &mut dyn Write) -> io::Result<()> {
        self.observe_text(r, &mut Terminal::new(out))
    }
    pub(super) fn enforce(&self, r: &EnforceReport, out: &mut dyn Write) -> io::Result<()> {
        self.enforce_text(r, &mut Terminal::new(out))
    }
    pub(super) fn report(&self, r: &Report, out: &mut dyn Write) -> io::Result<()> {
        let out = &mut Terminal::new(out);
        self.report_text(r, out)?;
        unverified_text(&r.unverified_exceptions, out)
    }
}

/// `test --bench`: each guardrail's cost, costliest first, then any evaluation that failed
/// (its time says nothing).
fn bench_text(b: &crate::report::test::TestBench, out: &mut Terminal<'_>) -> io::Result<()> {
    let ms = |v: f64| format!("{v:.2}");
    let per = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{v:.1}"));
    say(
        out,
        &paint(
            HEAD,
            &format!(
                "Guardrail cost (policy evaluation only, fastest of {} rounds), costliest first:",
                b.rounds
            ),
        ),
        2,
    )?;
    let table = match &b.workload {
        None => grid(b.guardrails.iter().map(|c| BenchRow {
            guardrail: e(&c.guardrail),
            fixtures: c.fixtures,
            resources: c.fixture_resources,
            ms: ms(c.fixture_ms),
            per_resource: per(c.fixture_us_per_resource),
        })),
        Some(w) => {
            say(
                out,
                &format!(
                    "workload {}: {}, {}",
                    e(&w.path),
                    plural(w.files, "file"),
                    plural(w.resources, "resource")
                ),
                2,
            )?;
            for p in &w.problems {
                say(out, &format!("  {} {}", paint(WARN, "not read:"), e(p)), 4)?;
            }
            grid(b.guardrails.iter().map(|c| BenchWorkloadRow {
                guardrail: e(&c.guardrail),
                workload_ms: c.workload_ms.map_or("-".into(), ms),
                per_resource: per(c.workload_us_per_resource),
                fixture_ms: ms(c.fixture_ms),
                fixture_per_resource: per(c.fixture_us_per_resource),
            }))
        }
    };
    out.raw(&format!("{table}\n"))?;
    for c in b.guardrails.iter().filter(|c| !c.errors.is_empty()) {
        for err in &c.errors {
            say(
                out,
                &format!("{} {}: {}", paint(BAD, "not timed"), e(&c.guardrail), e(err)),
                4,
            )?;
        }
    }
    Ok(())
}

#[derive(TabledRow)]
struct BenchRow {
    guardrail: String,
    fixtures: usize,
    resources: usize,
    ms: String,
    #[tabled(rename = "µs/resource")]
    per_resource: String,
}

#[derive(TabledRow)]
struct BenchWorkloadRow {
    guardrail: String,
    #[tabled(rename = "workload ms")]
    workload_ms: String,
    #[tabled(rename = "µs/resource")]
    per_resource: String,
    #[tabled(rename = "fixtures ms")]
    fixture_ms: String,
    #[tabled(rename = "fixtures µs/resource")]
    fixture_per_resource: String,
}

#[derive(TabledRow)]
struct GuardrailRow {
    guardrail: String,
    severity: String,
    // Workload counts, headed short so that the table fits 100 columns.
    failing: usize,
    unknown: usize,
    excepted: usize,
    /// Workloads observed.
    of: usize,
    decision: String,
}

#[derive(TabledRow)]
struct TeamRow {
    team: String,
    workloads: usize,
    findings: usize,
    unknown: usize,
    #[tabled(rename = "earliest deadline")]
    deadline: String,
    guardrails: String,
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

fn tone(t: summary::Tone, text: &str) -> String {
    match t {
        summary::Tone::Good => paint(GOOD, text),
        summary::Tone::Wait => paint(WARN, text),
        summary::Tone::Bad => paint(BAD, text),
        summary::Tone::Plain => text.to_string(),
    }
}

fn team_name(team: &str) -> String {
    if team.is_empty() {
        "-".into()
    } else {
        e(team)
    }
}

impl Table {
    /// `observe`: the run's statistics, the summaries (per guardrail, per team, unknowns),
    /// then, with `--details` or `--top`, the per-resource list. Without `--details` every
    /// list is bounded and what is left out is counted, with how to see it.
    pub(crate) fn observe_text(&self, r: &ObserveReport, out: &mut Terminal<'_>) -> io::Result<()> {
        if r.stats.workloads > 0 {
            let line = format!(
                "Observed {} with {}: {} parsed, {}, {} from the cache.",
                plural(r.stats.workloads, "workload"),
                plural(r.stats.jobs, "worker"),
                r.stats.workloads_parsed,
                plural(r.stats.evaluations, "evaluation"),
                plural(r.stats.cache_hits, "result"),
            );
            say(out, &line, 2)?;
        }
        if r.candidates.is_empty() {
            say(out, "No candidates: every guardrail on develop is already on main.", 2)?;
        }
        let lines = summary::lines(r);
        if !lines.is_empty() {
            let head = format!(
                "Observation on {}{}, per guardrail:",
                r.now,
                if r.dry_run { " (dry run: nothing written)" } else { "" }
            );
            say(out, &paint(HEAD, &head), 2)?;
            let rows = lines.iter().map(|l| {
                let (t, why) = summary::decision(r, l);
                GuardrailRow {
                    guardrail: e(&l.id),
                    severity: l.severity.map(severity).unwrap_or_else(|| "-".into()),
                    failing: l.noncompliant,
                    unknown: l.unknown,
                    excepted: l.excepted,
                    of: l.workloads(),
                    decision: tone(t, &format!("{}, {}", summary::state(l.state), e(&why))),
                }
            });
            out.raw(&format!("{}\n", grid(rows)))?;
        }
        let quiet = summary::quiet_active(r);
        if quiet > 0 && !lines.is_empty() {
            let line = format!(
                "{}: compliant on every workload (not listed).",
                plural(quiet, "more active guardrail")
            );
            say(out, &line, 2)?;
        }
        for c in r.candidates.iter().filter(|c| !c.problems.is_empty()) {
            // A blocked candidate's problems are its unknowns: listed below, per workload.
            if c.action == Action::Blocked && !r.details {
                continue;
            }
            let shown = if r.details { c.problems.len() } else { summary::PROBLEMS };
            for p in c.problems.iter().take(shown) {
                say(out, &format!("{} {}: {}", paint(BAD, "error:"), e(&c.id), e(p)), 2)?;
            }
            if c.problems.len() > shown {
                let line = format!(
                    "{} {}: {} more (--details lists every one)",
                    paint(BAD, "error:"),
                    e(&c.id),
                    plural(c.problems.len() - shown, "problem")
                );
                say(out, &line, 2)?;
            }
        }
        let teams = summary::teams(r);
        if !teams.is_empty() {
            say(out, &paint(HEAD, "Noncompliance per team:"), 2)?;
            let shown = if r.details {
                teams.len()
            } else {
                summary::TEAMS.min(teams.len())
            };
            let rows = teams.iter().take(shown).map(|t| TeamRow {
                team: team_name(t.name),
                workloads: t.workloads,
                findings: t.findings,
                unknown: t.unknown,
                guardrails: t.guardrails.iter().map(|g| e(g)).collect::<Vec<_>>().join(", "),
                deadline: t.deadline.map(|d| d.to_string()).unwrap_or_else(|| "-".into()),
            });
            out.raw(&format!("{}\n", grid(rows)))?;
            if shown < teams.len() {
                let rest = &teams[shown..];
                let line = format!(
                    "{} with {} and {} (--details lists every team; railyard report --team NAME one).",
                    plural(rest.len(), "more team"),
                    plural(rest.iter().map(|t| t.findings).sum(), "finding"),
                    plural(rest.iter().map(|t| t.unknown).sum(), "unknown"),
                );
                say(out, &line, 2)?;
            }
        }
        self.unknowns_text(r, out)?;
        let shown = r.list_limit.unwrap_or(usize::MAX).min(r.to_fix.len());
        if shown > 0 {
            let head = if shown < r.to_fix.len() {
                format!("What to fix, where, and by when ({shown} of {}):", r.to_fix.len())
            } else {
                "What to fix, where, and by when:".to_string()
            };
            say(out, &paint(HEAD, &head), 2)?;
            let rows = r.to_fix.iter().take(shown).map(|f| FixRow {
                team: e(&f.team),
                workload: e(&f.workload),
                guardrail: e(&f.guardrail),
                resource: e(&f.resource),
                location: e(&location(&f.file, f.line)),
                deadline: f.deadline.map(|d| d.to_string()).unwrap_or_else(|| "-".into()),
                last_changed: f
                    .last_changed
                    .as_ref()
                    .map(|c| e(c.describe().trim_start_matches("last changed ")))
                    .unwrap_or_else(|| "-".into()),
            });
            out.raw(&format!("{}\n", grid(rows)))?;
        }
        let limit = if r.details { usize::MAX } else { summary::STALE };
        stale_text_limited(&r.stale_exceptions, limit, out)?;
        if let Some(line) = summary::pointer(r, shown) {
            say(out, &line, 2)?;
        }
        Ok(())
    }

    /// The results that could not be evaluated, per workload and reason: always counted,
    /// named up to [`summary::UNKNOWNS`] without `--details`.
    fn unknowns_text(&self, r: &ObserveReport, out: &mut Terminal<'_>) -> io::Result<()> {
        if r.unknowns.is_empty() {
            return Ok(());
        }
        let head = format!(
            "Unknown: {} on {} could not be evaluated (never counted as compliant):",
            plural(r.unknowns.len(), "result"),
            plural(summary::unknown_workloads(r), "workload"),
        );
        say(out, &paint(BAD, &head), 2)?;
        let groups = summary::unknown_groups(r);
        let shown = summary::unknowns_shown(r, groups.len());
        for g in &groups[..shown] {
            let line = format!(
                "  {} ({}): {} — {}",
                e(g.workload),
                team_name(g.team),
                e(&summary::guardrail_names(r, &g.guardrails)),
                e(&summary::reasons(g.reasons))
            );
            say(out, &line, 4)?;
        }
        if shown < groups.len() {
            let rest = &groups[shown..];
            let workloads: std::collections::BTreeSet<&str> = rest.iter().map(|g| g.workload).collect();
            let line = format!(
                "  … and {} on {} (`railyard observe --details` lists every one; `railyard report --workload NAME` one workload's).",
                plural(rest.iter().map(|g| g.guardrails.len()).sum(), "more unknown result"),
                plural(workloads.len(), "workload"),
            );
            say(out, &line, 4)?;
        }
        Ok(())
    }
}

/// [`stale_text`] listing at most `limit` of them, then how many more there are.
fn stale_text_limited(
    stale: &[crate::guardrail::exceptions::StaleException],
    limit: usize,
    out: &mut Terminal<'_>,
) -> io::Result<()> {
    stale_text(&stale[..limit.min(stale.len())], out)?;
    if stale.len() > limit {
        let line = format!(
            "  … and {} more (`railyard observe --details` lists every one).",
            plural(stale.len() - limit, "stale exception")
        );
        say(out, &line, 4)?;
    }
    Ok(())
}

/// Exceptions that waive nothing any more, one line each with where they are written.
pub(crate) fn stale_text(
    stale: &[crate::guardrail::exceptions::StaleException],
    out: &mut Terminal<'_>,
) -> io::Result<()> {
    if stale.is_empty() {
        return Ok(());
    }
    say(
        out,
        &paint(WARN, "Stale exceptions (they match no finding any more; remove them):"),
        2,
    )?;
    for x in stale {
        let line = format!(
            "  {}:{}: `{}` on `{}` / `{}`, expires {}{}",
            e(&x.file),
            x.line,
            e(&x.guardrail),
            e(&x.workload),
            e(&x.resource),
            x.expires,
            x.ticket.as_deref().map(|t| format!(" ({})", e(t))).unwrap_or_default()
        );
        say(out, &line, 4)?;
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

/// A verdict word, coloured by what it means for the owner.
fn verdict(v: crate::evaluate::Verdict) -> String {
    use crate::evaluate::Verdict;
    let word = format!("{v:?}").to_lowercase();
    match v {
        Verdict::Compliant => paint(GOOD, &word),
        Verdict::Excepted => paint(WARN, &word),
        _ => paint(BAD, &word),
    }
}

impl Table {
    pub(crate) fn report_text(&self, r: &Report, out: &mut Terminal<'_>) -> io::Result<()> {
        if r.view == "guardrails" {
            say(out, &paint(HEAD, &format!("Guardrails on {}:", r.now)), 2)?;
            let rows = r.guardrails.iter().map(|g| StatusRow {
                guardrail: e(&g.guardrail),
                severity: severity(g.severity),
                state: format!("{:?}", g.state).to_lowercase(),
                compliant: g.compliant,
                noncompliant: g.noncompliant,
                excepted: g.excepted,
                unknown: g.unknown,
                deadline: g.earliest_deadline.map(|d| d.to_string()).unwrap_or_else(|| "-".into()),
                activates: g.activation_day.map(|d| d.to_string()).unwrap_or_else(|| "-".into()),
            });
            out.raw(&format!("{}\n", grid(rows)))?;
            return stale_text(&r.stale_exceptions, out);
        }
        let head = format!("Exposure of {} `{}` on {}:", r.view, e(&r.subject), r.now);
        say(out, &paint(HEAD, &head), 2)?;
        if r.exposure.is_empty() {
            say(
                out,
                &paint(GOOD, "nothing: compliant with every active and pending guardrail"),
                2,
            )?;
            return stale_text(&r.stale_exceptions, out);
        }
        let rows = r.exposure.iter().map(|x| ExposureRow {
            workload: e(&x.workload),
            guardrail: e(&x.guardrail),
            severity: severity(x.severity),
            state: format!("{:?}", x.state).to_lowercase(),
            status: verdict(x.status),
            findings: format!("{} (+{} excepted)", x.findings.len(), x.excepted.len()),
            deadline: x.deadline.map(|d| d.to_string()).unwrap_or_else(|| "-".into()),
            days_left: x.days_left.map(|d| d.to_string()).unwrap_or_else(|| "-".into()),
        });
        out.raw(&format!("{}\n", grid(rows)))?;
        for x in &r.exposure {
            for f in &x.findings {
                let line = format!(
                    "  {} {} {} at {}: {}",
                    e(&x.workload),
                    e(&x.guardrail),
                    e(&f.resource),
                    e(&location(&f.file, f.line)),
                    e(&f.message)
                );
                say(out, &line, 4)?;
            }
            for f in &x.excepted {
                let exp = f.exception_expires.map(|d| d.to_string()).unwrap_or_default();
                let line = format!(
                    "  {} {} {} excepted until {exp}",
                    e(&x.workload),
                    e(&x.guardrail),
                    e(&f.resource)
                );
                say(out, &line, 4)?;
            }
            for p in &x.problems {
                let line = format!(
                    "  {} {} could not be evaluated: {}",
                    e(&x.workload),
                    e(&x.guardrail),
                    e(p)
                );
                say(out, &line, 4)?;
            }
        }
        stale_text(&r.stale_exceptions, out)
    }

    pub(crate) fn enforce_text(&self, r: &EnforceReport, out: &mut Terminal<'_>) -> io::Result<()> {
        let verb = if r.dry_run { "would activate" } else { "activated" };
        let head = format!(
            "Enforcement on {}{}:",
            r.now,
            if r.dry_run { " (dry run: nothing written)" } else { "" }
        );
        say(out, &paint(HEAD, &head), 2)?;
        if r.activated.is_empty() {
            say(out, "  no pending guardrail has reached its deadline", 4)?;
        }
        for a in &r.activated {
            let commit = a
                .commit
                .as_deref()
                .map(|c| format!(" in {}", e(&c[..c.len().min(12)])))
                .unwrap_or_default();
            let line = format!(
                "  {} `{}` (deadline {}){commit}",
                paint(WARN, verb),
                e(&a.guardrail),
                a.deadline
            );
            say(out, &line, 4)?;
            if !a.now_failing.is_empty() {
                let names = summary::names(&a.now_failing, r.details, e);
                say(out, &format!("    workloads that now fail: {names}"), 6)?;
            }
        }
        // Without --details, a fleet's upcoming deadlines are one line per guardrail.
        let groups = summary::upcoming_groups(r);
        let per_workload = r.details || r.upcoming.len() <= summary::ENFORCE_LIST;
        for g in groups.iter().filter(|_| !per_workload) {
            let range = match g.first == g.last {
                true => format!("from {}", g.first),
                false => format!("from {} to {}", g.first, g.last),
            };
            let remind = match g.reminders {
                0 => String::new(),
                n => format!(" [{} due today]", plural(n, "reminder")),
            };
            let line = format!(
                "  upcoming: `{}` fails {} of {} {range}: {} left, {}{remind}",
                e(g.guardrail),
                plural(g.workloads, "workload"),
                plural(g.teams.len(), "team"),
                days(g.days_left),
                plural(g.findings, "finding"),
            );
            say(out, &line, 4)?;
        }
        for u in r.upcoming.iter().filter(|_| per_workload) {
            let remind = if u.remind { " [reminder due today]" } else { "" };
            let line = format!(
                "  upcoming: `{}` fails `{}` ({}) from {}: {} left, {}{remind}",
                e(&u.guardrail),
                e(&u.workload),
                e(&u.team),
                u.deadline,
                days(u.days_left),
                plural(u.findings, "finding"),
            );
            say(out, &line, 4)?;
        }
        let shown = if r.details {
            r.exceptions.len()
        } else {
            summary::ENFORCE_LIST.min(r.exceptions.len())
        };
        for x in &r.exceptions[..shown] {
            let when = if x.expired {
                paint(BAD, &format!("expired {}", x.expires))
            } else {
                format!("expires {} ({})", x.expires, days(x.days_left))
            };
            let line = format!(
                "  exception {when}: `{}` {} {} ({})",
                e(&x.guardrail),
                e(&x.workload),
                e(&x.resource),
                e(&x.source)
            );
            say(out, &line, 4)?;
        }
        if shown < r.exceptions.len() {
            let rest = &r.exceptions[shown..];
            let line = format!(
                "  … and {} expiring or expired ({} expired)",
                plural(rest.len(), "more exception"),
                rest.iter().filter(|x| x.expired).count()
            );
            say(out, &line, 4)?;
        }
        let summarised = !per_workload || shown < r.exceptions.len();
        for id in &r.not_observed {
            let line = format!(
                "  `{}` has not been observed in its current version: run `railyard observe` first",
                e(id)
            );
            say(out, &line, 4)?;
        }
        for x in &r.refused {
            let line = format!(
                "  {} `{}` is due ({}) but fails its own fixtures (activate anyway with --force-failing-fixtures):",
                paint(BAD, "refused:"),
                e(&x.guardrail),
                x.deadline
            );
            say(out, &line, 4)?;
            for p in &x.problems {
                say(out, &format!("    {}", e(p)), 6)?;
            }
        }
        if summarised {
            say(
                out,
                "`railyard enforce --details` lists every workload's deadline and every exception; `railyard report --team NAME` a team's.",
                2,
            )?;
        }
        Ok(())
    }
}

/// Exceptions whose approval did not verify: the security team's to-do list.
fn unverified_text(list: &[crate::report::release::UnverifiedException], out: &mut Terminal<'_>) -> io::Result<()> {
    if list.is_empty() {
        return Ok(());
    }
    say(out, &paint(BAD, "Unverified exceptions (they waive nothing):"), 2)?;
    for x in list {
        let line = format!(
            "  {} on `{}` / `{}` approved by `{}` — {}:{}: {}",
            e(&x.guardrail),
            e(&x.workload),
            e(&x.resource),
            e(&x.approved_by),
            e(&x.file),
            x.line,
            e(&x.reason)
        );
        say(out, &line, 4)?;
    }
    Ok(())
}
