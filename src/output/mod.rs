//! One renderer per output format, each in its own file behind the small [`Renderer`] trait.
//! Adding a format is one new file, one enum variant and one line in [`renderer`].
//! Data goes to the writer the caller supplies (stdout); diagnostics go to stderr.

pub(crate) mod escape;
pub mod frameworks;
pub(crate) mod json;
mod junit;
mod markdown;
pub mod preview;
mod sarif;
mod table;

use crate::workflow::check::CheckReport;
use crate::workflow::enforce::EnforceReport;
use crate::workflow::observe::ObserveReport;
use crate::workflow::report::Report;
use crate::workflow::test::TestReport;
use std::io::{self, Write};

/// Output formats (`--format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Aligned tables for people at a terminal.
    Table,
    /// A versioned JSON document for machines (docs/output.md).
    Json,
    /// SARIF 2.1.0 for code scanning (GitHub, GitLab, Azure DevOps).
    Sarif,
    /// JUnit XML for CI test reports.
    Junit,
    /// Markdown for CI job summaries and pull-request comments.
    Markdown,
}

pub trait Renderer {
    fn check(&self, report: &CheckReport, out: &mut dyn Write) -> io::Result<()>;
    /// Fixture results; formats without a natural shape for them print the table.
    fn test(&self, report: &TestReport, out: &mut dyn Write) -> io::Result<()> {
        table::Table.test(report, out)
    }
    /// Loop workflows print JSON in the formats made for findings only (SARIF, JUnit).
    fn observe(&self, report: &ObserveReport, out: &mut dyn Write) -> io::Result<()> {
        json::write_json(report, out)
    }
    fn enforce(&self, report: &EnforceReport, out: &mut dyn Write) -> io::Result<()> {
        json::write_json(report, out)
    }
    fn report(&self, report: &Report, out: &mut dyn Write) -> io::Result<()> {
        json::write_json(report, out)
    }
}

pub fn renderer(format: Format) -> &'static dyn Renderer {
    match format {
        Format::Table => &table::Table,
        Format::Json => &json::Json,
        Format::Sarif => &sarif::Sarif,
        Format::Junit => &junit::Junit,
        Format::Markdown => &markdown::Markdown,
    }
}

/// `file:line`, or what is known of it.
pub(crate) fn location(file: &str, line: usize) -> String {
    match (file.is_empty(), line) {
        (true, _) => "-".to_string(),
        (false, 0) => file.to_string(),
        (false, l) => format!("{file}:{l}"),
    }
}
