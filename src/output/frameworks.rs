//! `report --by framework` in every format: compliance per control (table, JSON, Markdown);
//! SARIF and JUnit print the JSON, as other loop reports do.

use super::Format;
use crate::report::escape::{md_code, md_text, Terminal};
use crate::report::frameworks::{ControlStatus, FrameworkReport};
use std::io::{self, Write};
use tabled::{settings::Style, Table as Tabled, Tabled as TabledRow};

pub fn render(format: Format, r: &FrameworkReport, out: &mut dyn Write) -> io::Result<()> {
    match format {
        Format::Table => table(r, &mut Terminal::new(out)),
        Format::Markdown => markdown(r, out),
        Format::Json | Format::Sarif | Format::Junit | Format::Codequality => super::json::write_json(r, out),
    }
}

/// `N of M` workloads comply (compliant or excepted).
fn complying(c: &ControlStatus, workloads: usize) -> String {
    format!("{} of {workloads}", c.compliant + c.excepted)
}

#[derive(TabledRow)]
struct Row {
    framework: String,
    control: String,
    comply: String,
    noncompliant: usize,
    excepted: usize,
    unknown: usize,
    guardrails: String,
}

fn table(r: &FrameworkReport, out: &mut dyn Write) -> io::Result<()> {
    writeln!(
        out,
        "Compliance per control ({}) on {}, {} workload(s):",
        r.subject, r.now, r.workloads
    )?;
    if r.controls.is_empty() {
        return writeln!(out, "No guardrail maps to a framework control.");
    }
    let rows = r.controls.iter().map(|c| Row {
        framework: c.framework.clone(),
        control: if c.control.is_empty() {
            "-".into()
        } else {
            c.control.clone()
        },
        comply: complying(c, r.workloads),
        noncompliant: c.noncompliant,
        excepted: c.excepted,
        unknown: c.unknown,
        guardrails: c.guardrails.join(", "),
    });
    writeln!(out, "{}", Tabled::new(rows).with(Style::sharp()))
}

fn markdown(r: &FrameworkReport, out: &mut dyn Write) -> io::Result<()> {
    writeln!(
        out,
        "## Railyard: compliance per control ({})\n\n{} workload(s), on {}.\n",
        md_text(&r.subject),
        r.workloads,
        r.now
    )?;
    if r.controls.is_empty() {
        return writeln!(out, "No guardrail maps to a framework control.");
    }
    writeln!(
        out,
        "| Framework | Control | Comply | Noncompliant | Excepted | Unknown | Guardrails |\n|---|---|---|---|---|---|---|"
    )?;
    for c in &r.controls {
        writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} |",
            md_text(&c.framework),
            md_text(&c.control),
            complying(c, r.workloads),
            c.noncompliant,
            c.excepted,
            c.unknown,
            c.guardrails.iter().map(|g| md_code(g)).collect::<Vec<_>>().join(", ")
        )?;
    }
    Ok(())
}
