//! `railyard demo` (being written)
use super::{Outcome, Settings};
use std::io::Write;
pub fn demo(_s: &Settings, _keep: Option<&std::path::Path>, _out: &mut dyn Write) -> anyhow::Result<Outcome> {
    anyhow::bail!("demo: not yet")
}
