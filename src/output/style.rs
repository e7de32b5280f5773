//! Colour and width for `--format table` at a terminal. Colour follows the conventions
//! (anstream's choice): on when stdout is a terminal, off when piped, `NO_COLOR` turns it
//! off and `CLICOLOR_FORCE` on. The width is `COLUMNS` when set, else the terminal's, else
//! unlimited (piped output is not cut).

use crate::guardrail::Severity;
use anstyle::{AnsiColor, Style};
use std::sync::OnceLock;

/// Whether table output is coloured (decided once per process, for stdout).
pub fn colour() -> bool {
    static ON: OnceLock<bool> = OnceLock::new();
    *ON.get_or_init(|| anstream::AutoStream::choice(&std::io::stdout()) != anstream::ColorChoice::Never)
}

/// The width tables must fit in, if any.
pub fn width() -> Option<usize> {
    if let Some(n) = std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.trim().parse::<usize>().ok())
    {
        return (n > 0).then_some(n);
    }
    let term = console::Term::stdout();
    term.is_term()
        .then(|| term.size_checked().map(|(_, w)| w as usize))
        .flatten()
}

/// `text` in `style` when colour is on; `text` must already be escaped ([`crate::report::escape`]).
pub fn paint(style: Style, text: &str) -> String {
    if colour() && style != Style::new() {
        format!("{style}{text}{style:#}")
    } else {
        text.to_string()
    }
}

pub fn severity(s: Severity) -> Style {
    match s {
        Severity::Critical => AnsiColor::Red.on_default().bold(),
        Severity::High => AnsiColor::Red.on_default(),
        Severity::Medium => AnsiColor::Yellow.on_default(),
        Severity::Low => AnsiColor::Cyan.on_default(),
    }
}

/// Good news (pass, promoted, compliant).
pub const GOOD: Style = AnsiColor::Green.on_default();
/// Needs attention but does not fail (held, warnings, excepted).
pub const WARN: Style = AnsiColor::Yellow.on_default();
/// Fails (findings, errors, blocked, unknown).
pub const BAD: Style = AnsiColor::Red.on_default().bold();
/// Headings.
pub const HEAD: Style = Style::new().bold();

/// `n` painted `bad` when non-zero, with its noun: `2 findings`, `1 finding`.
pub fn count(n: usize, noun: &str, bad: Style) -> String {
    let text = super::plural(n, noun);
    if n == 0 {
        text
    } else {
        paint(bad, &text)
    }
}
