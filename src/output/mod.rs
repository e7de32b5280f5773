//! One renderer per output format, each in its own file. Which format can draw which document
//! is declared once, per document, in [`Document::renderer`] (an exhaustive match: a new format
//! must say, for every document, whether it draws it). A format a document does not have is a
//! typed [`RenderError::Unsupported`], refused before the command does any work — never a
//! silent substitute. Data goes to the writer the caller supplies (stdout); diagnostics go to
//! stderr.

mod codequality;
pub mod frameworks;
pub(crate) mod json;
mod junit;
mod markdown;
pub mod preview;
mod sarif;
pub(crate) mod style;
mod summary;
mod table;

use crate::report::check::CheckReport;
use crate::report::enforce::EnforceReport;
use crate::report::exposure::Report;
use crate::report::observe::ObserveReport;
use crate::report::test::TestReport;
use std::io::{self, Write};

pub use sarif::PathBase;
// Renderers name locations the same way notifications do.
pub(crate) use crate::report::{location, plural};

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
    /// A GitLab Code Quality report (merge request widget and diff annotations).
    Codequality,
}

impl std::fmt::Display for Format {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use clap::ValueEnum;
        let v = self.to_possible_value().expect("no variant is skipped");
        f.write_str(v.get_name())
    }
}

/// Why a document could not be written.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("`{command}` cannot write --format {format}; it writes {}", list(supported))]
    Unsupported {
        command: &'static str,
        format: Format,
        supported: Vec<Format>,
    },
    #[error(transparent)]
    Io(#[from] io::Error),
}

fn list(formats: &[Format]) -> String {
    formats.iter().map(|f| f.to_string()).collect::<Vec<_>>().join(", ")
}

/// One format drawing one kind of document.
pub trait Render<D: ?Sized> {
    fn render(&self, doc: &D, out: &mut dyn Write) -> io::Result<()>;
}

/// A document a subcommand prints, and the formats that draw it.
pub trait Document: Sized + 'static {
    /// The subcommand printing it, for messages.
    const COMMAND: &'static str;
    /// The renderer of `format`, or `None` when this document has no such format.
    fn renderer(format: Format) -> Option<&'static dyn Render<Self>>;
}

/// The formats document `D` can be written in, in `--help` order.
pub fn formats<D: Document>() -> Vec<Format> {
    use clap::ValueEnum;
    Format::value_variants()
        .iter()
        .copied()
        .filter(|f| D::renderer(*f).is_some())
        .collect()
}

/// Refuses a format a command cannot write (before it does any work), listing those it can.
pub fn ensure(command: &'static str, format: Format, supported: &[Format]) -> Result<(), RenderError> {
    match supported.contains(&format) {
        true => Ok(()),
        false => Err(RenderError::Unsupported {
            command,
            format,
            supported: supported.to_vec(),
        }),
    }
}

/// [`ensure`] for a command printing document `D`.
pub fn ensure_for<D: Document>(format: Format) -> Result<(), RenderError> {
    ensure(D::COMMAND, format, &formats::<D>())
}

/// Writes `doc` in `format`, or refuses a format the document does not have.
pub fn render<D: Document>(format: Format, doc: &D, out: &mut dyn Write) -> Result<(), RenderError> {
    let renderer = D::renderer(format).ok_or_else(|| RenderError::Unsupported {
        command: D::COMMAND,
        format,
        supported: formats::<D>(),
    })?;
    Ok(renderer.render(doc, out)?)
}

impl Document for CheckReport {
    const COMMAND: &'static str = "check";
    fn renderer(format: Format) -> Option<&'static dyn Render<Self>> {
        Some(match format {
            Format::Table => &table::Table,
            Format::Json => &json::Json,
            Format::Sarif => &sarif::Sarif,
            Format::Junit => &junit::Junit,
            Format::Markdown => &markdown::Markdown,
            Format::Codequality => &codequality::CodeQuality,
        })
    }
}

impl Document for TestReport {
    const COMMAND: &'static str = "test";
    fn renderer(format: Format) -> Option<&'static dyn Render<Self>> {
        match format {
            Format::Table => Some(&table::Table),
            Format::Json => Some(&json::Json),
            Format::Junit => Some(&junit::Junit),
            Format::Markdown => Some(&markdown::Markdown),
            // Fixtures are not code-scanning alerts.
            Format::Sarif | Format::Codequality => None,
        }
    }
}

impl Document for ObserveReport {
    const COMMAND: &'static str = "observe";
    fn renderer(format: Format) -> Option<&'static dyn Render<Self>> {
        match format {
            Format::Table => Some(&table::Table),
            Format::Json => Some(&json::Json),
            Format::Markdown => Some(&markdown::Markdown),
            // A fleet's release decision is neither alerts on one checkout nor a test run.
            Format::Sarif | Format::Junit | Format::Codequality => None,
        }
    }
}

impl Document for EnforceReport {
    const COMMAND: &'static str = "enforce";
    fn renderer(format: Format) -> Option<&'static dyn Render<Self>> {
        match format {
            Format::Table => Some(&table::Table),
            Format::Json => Some(&json::Json),
            Format::Markdown => Some(&markdown::Markdown),
            Format::Sarif | Format::Junit | Format::Codequality => None,
        }
    }
}

impl Document for Report {
    const COMMAND: &'static str = "report";
    fn renderer(format: Format) -> Option<&'static dyn Render<Self>> {
        match format {
            Format::Table => Some(&table::Table),
            Format::Json => Some(&json::Json),
            Format::Markdown => Some(&markdown::Markdown),
            Format::Sarif | Format::Junit | Format::Codequality => None,
        }
    }
}

/// The table renderer's documents, through its methods (table.rs is drawn per document).
macro_rules! table_renders {
    ($($doc:ty => $method:ident),*) => {$(
        impl Render<$doc> for table::Table {
            fn render(&self, doc: &$doc, out: &mut dyn Write) -> io::Result<()> {
                self.$method(doc, out)
            }
        }
    )*};
}
table_renders!(CheckReport => check, TestReport => test, ObserveReport => observe, EnforceReport => enforce, Report => report);
