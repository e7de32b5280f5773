//! `--format markdown`: for CI job summaries (`$GITHUB_STEP_SUMMARY`) and PR comments.

use super::{location, Renderer};
use crate::evaluate::Finding;
use crate::report::exposure::Report;
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

impl Renderer for Markdown {
    fn check(&self, r: &CheckReport, out: &mut dyn Write) -> io::Result<()> {
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

    fn test(&self, r: &TestReport, out: &mut dyn Write) -> io::Result<()> {
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
        Ok(())
    }

    fn report(&self, r: &Report, out: &mut dyn Write) -> io::Result<()> {
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
        report_tail(r, out)
    }
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
