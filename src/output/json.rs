//! `--format json`: the report as a versioned JSON document (docs/output.md; a JSON Schema per
//! document in docs/schema/).

use super::Render;
use std::io::{self, Write};

pub struct Json;

pub(crate) fn write_json<T: serde::Serialize>(value: &T, out: &mut dyn Write) -> io::Result<()> {
    // Buffered here: stdout flushes at every newline, and a fleet's report is millions of
    // pretty-printed lines (one write each was a third of a warm observation's time).
    let mut out = io::BufWriter::with_capacity(1 << 16, out);
    serde_json::to_writer_pretty(&mut out, value)?;
    writeln!(out)?;
    out.flush()
}

/// Every document serialises as itself.
impl<T: serde::Serialize> Render<T> for Json {
    fn render(&self, doc: &T, out: &mut dyn Write) -> io::Result<()> {
        write_json(doc, out)
    }
}
