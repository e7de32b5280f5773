//! `--format table`: aligned tables for people, readable without colour.

use super::{location, Renderer};
use crate::evaluate::Finding;
use crate::workflow::{check::CheckReport, test::TestReport};
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
        for f in r
            .findings
            .iter()
            .filter_map(|f| f.exception.as_ref().map(|e| (f, e)))
        {
            writeln!(
                out,
                "Expired exception: {} {} expired {} ({})",
                f.0.guardrail, f.0.resource, f.1.expires, f.1.source
            )?;
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
        for c in &r.cases {
            let status = if c.passed { "ok  " } else { "FAIL" };
            writeln!(out, "{status} {} {}", c.guardrail, c.case)?;
            for p in &c.problems {
                writeln!(out, "       {p}")?;
            }
        }
        writeln!(
            out,
            "{} guardrails, {} fixtures",
            r.guardrails,
            r.cases.len()
        )?;
        writeln!(out, "{} passed, {} failed", r.passed, r.failed)
    }
}
