//! `railyard preview` in every format: a table for people, JSON (docs/preview.md), Markdown
//! for a pull-request comment. SARIF and JUnit hold findings only: they print the JSON, as
//! the other loop workflows do.

use super::{location, Format};
use crate::report::escape::{md_code, md_text, Terminal};
use crate::report::preview::{GuardrailPreview, PreviewAction, PreviewReport, WaiverChange};
use std::io::{self, Write};
use tabled::{settings::Style, Table as Tabled, Tabled as TabledRow};

pub fn render(format: Format, r: &PreviewReport, out: &mut dyn Write) -> io::Result<()> {
    match format {
        Format::Table => table(r, &mut Terminal::new(out)),
        Format::Markdown => markdown(r, out),
        Format::Json | Format::Sarif | Format::Junit | Format::Codequality => super::json::write_json(r, out),
    }
}

/// "would promote", "would be held until DAY", …: what the next `observe` would do.
fn outcome(g: &GuardrailPreview) -> String {
    match (g.action, g.activation) {
        (PreviewAction::WouldPromote, _) => "would promote now".into(),
        (PreviewAction::WouldHold, Some(d)) => format!("would be held until {d}"),
        (PreviewAction::WouldHold, None) => "would be held".into(),
        (PreviewAction::Blocked, _) => "blocked: not every workload could be evaluated".into(),
        (PreviewAction::Broken, _) => "broken: would not be promoted".into(),
        (PreviewAction::WouldRemove, _) => "would be removed from main".into(),
    }
}

fn breaks(g: &GuardrailPreview) -> String {
    format!("{} of {}", g.breaks, g.workloads)
}

fn waiver_line(w: &WaiverChange) -> String {
    format!(
        "{} (team {}): {} at {}",
        w.workload,
        w.team,
        w.finding.resource,
        location(&w.finding.file, w.finding.line)
    )
}

#[derive(TabledRow)]
struct Row {
    guardrail: String,
    change: String,
    severity: String,
    breaks: String,
    unknown: usize,
    outcome: String,
}

fn table(r: &PreviewReport, out: &mut dyn Write) -> io::Result<()> {
    writeln!(
        out,
        "Preview of `{}` ({}) against main ({}) on {}: {} workload(s); nothing written.",
        r.git_ref,
        short(&r.ref_commit),
        short(&r.main),
        r.now,
        r.workloads
    )?;
    if r.guardrails.is_empty() {
        writeln!(
            out,
            "No guardrail changes: every guardrail on `{}` is already on main.",
            r.git_ref
        )?;
    } else {
        let rows = r.guardrails.iter().map(|g| Row {
            guardrail: g.id.clone(),
            change: format!("{:?}", g.change).to_lowercase(),
            severity: g.severity.map(|s| s.to_string()).unwrap_or_else(|| "-".into()),
            breaks: breaks(g),
            unknown: g.unknown,
            outcome: outcome(g),
        });
        writeln!(out, "{}", Tabled::new(rows).with(Style::sharp()))?;
    }
    for g in &r.guardrails {
        for b in &g.breaking {
            let when = match b.deadline {
                Some(d) => format!("fails from {d}"),
                None => "fails at once".into(),
            };
            writeln!(
                out,
                "{}: breaks {} (team {}, owners {}), {when}:",
                g.id,
                b.workload,
                b.team,
                if b.owners.is_empty() {
                    "-".to_string()
                } else {
                    b.owners.join(", ")
                }
            )?;
            for f in &b.resources {
                writeln!(out, "  {} at {}: {}", f.resource, location(&f.file, f.line), f.message)?;
            }
        }
        for u in &g.unknowns {
            writeln!(
                out,
                "{}: unknown on {} (could not evaluate): {}",
                g.id,
                u.workload,
                u.problems.join("; ")
            )?;
        }
        for p in &g.problems {
            writeln!(out, "error: {}: {p}", g.id)?;
        }
    }
    for x in &r.exceptions {
        writeln!(
            out,
            "Exceptions changed in {}: waives {}, stops waiving {}, unknown on {}",
            x.file,
            x.waives.len(),
            x.stops_waiving.len(),
            x.unknown.len()
        )?;
        for w in &x.waives {
            writeln!(out, "  waives {}", waiver_line(w))?;
        }
        for w in &x.stops_waiving {
            writeln!(out, "  stops waiving {}", waiver_line(w))?;
        }
        for u in &x.unknown {
            writeln!(out, "  unknown on {u} (could not evaluate)")?;
        }
    }
    Ok(())
}

fn markdown(r: &PreviewReport, out: &mut dyn Write) -> io::Result<()> {
    writeln!(
        out,
        "## Railyard preview: {} against `main`\n\n{} workload(s), on {}; ref {}, main {}.\n",
        md_code(&r.git_ref),
        r.workloads,
        r.now,
        md_code(short(&r.ref_commit)),
        md_code(short(&r.main))
    )?;
    if r.guardrails.is_empty() {
        writeln!(out, "No guardrail changes.\n")?;
    } else {
        writeln!(
            out,
            "| Guardrail | Change | Severity | Breaks | Unknown | Outcome |\n|---|---|---|---|---|---|"
        )?;
        for g in &r.guardrails {
            writeln!(
                out,
                "| {} | {:?} | {} | {} | {} | {} |",
                md_code(&g.id),
                g.change,
                g.severity.map(|s| s.to_string()).unwrap_or_else(|| "-".into()),
                breaks(g),
                g.unknown,
                md_text(&outcome(g))
            )?;
        }
        writeln!(out)?;
    }
    for g in &r.guardrails {
        if g.breaking.is_empty() && g.unknowns.is_empty() && g.problems.is_empty() {
            continue;
        }
        writeln!(out, "### {}\n", md_code(&g.id))?;
        if !g.breaking.is_empty() {
            writeln!(
                out,
                "| Workload | Team | Owners | Fails from | Resource | Location |\n|---|---|---|---|---|---|"
            )?;
            for b in &g.breaking {
                for f in &b.resources {
                    writeln!(
                        out,
                        "| {} | {} | {} | {} | {} | {} |",
                        md_code(&b.workload),
                        md_text(&b.team),
                        md_text(&b.owners.join(", ")),
                        b.deadline.map(|d| d.to_string()).unwrap_or_else(|| "at once".into()),
                        md_code(&f.resource),
                        md_code(&location(&f.file, f.line))
                    )?;
                }
            }
            writeln!(out)?;
        }
        for u in &g.unknowns {
            writeln!(
                out,
                "- **unknown** on {} (could not evaluate): {}",
                md_code(&u.workload),
                md_text(&u.problems.join("; "))
            )?;
        }
        for p in &g.problems {
            writeln!(out, "- error: {}", md_text(p))?;
        }
        if !g.unknowns.is_empty() || !g.problems.is_empty() {
            writeln!(out)?;
        }
    }
    for x in &r.exceptions {
        writeln!(out, "### Exceptions: {}\n", md_code(&x.file))?;
        let rows = x
            .waives
            .iter()
            .map(|w| ("waives", w))
            .chain(x.stops_waiving.iter().map(|w| ("stops waiving", w)));
        let mut any = false;
        for (what, w) in rows {
            if !any {
                writeln!(out, "| Effect | Workload | Resource | Location |\n|---|---|---|---|")?;
                any = true;
            }
            writeln!(
                out,
                "| {what} | {} | {} | {} |",
                md_code(&w.workload),
                md_code(&w.finding.resource),
                md_code(&location(&w.finding.file, w.finding.line))
            )?;
        }
        if !any {
            writeln!(out, "Waives and stops waiving nothing on the evaluated workloads.")?;
        }
        for u in &x.unknown {
            writeln!(out, "\n- **unknown** on {} (could not evaluate)", md_code(u))?;
        }
        writeln!(out)?;
    }
    Ok(())
}

fn short(commit: &str) -> &str {
    &commit[..commit.len().min(12)]
}
