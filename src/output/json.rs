//! `--format json`: the report as a versioned JSON document (schema in docs/output.md).

use super::Renderer;
use crate::report::{check::CheckReport, observe::ObserveReport, test::TestReport};
use std::io::{self, Write};

pub struct Json;

pub(crate) fn write_json<T: serde::Serialize>(value: &T, out: &mut dyn Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, value)?;
    writeln!(out)
}

impl Renderer for Json {
    fn check(&self, report: &CheckReport, out: &mut dyn Write) -> io::Result<()> {
        write_json(report, out)
    }
    fn test(&self, report: &TestReport, out: &mut dyn Write) -> io::Result<()> {
        write_json(report, out)
    }
    fn observe(&self, report: &ObserveReport, out: &mut dyn Write) -> io::Result<()> {
        write_json(report, out)
    }
}
