//! Report data: what each subcommand found, as the renderers (`crate::output`) and the
//! notifications (`crate::notify`) receive it. The types live here, apart from the workflows
//! that fill them, so the layers that present a run depend on its data and not on the
//! workflows (no cycle: workflows → output/notify → report). Their JSON shape is a public
//! contract (`docs/output.md`). Also here: the text helpers both presenters need
//! ([`escape`], [`location`]).

pub mod check;
pub mod enforce;
pub mod escape;
pub mod exposure;
pub mod frameworks;
pub mod observe;
pub mod preview;
pub mod release;
pub mod test;

use serde::Serialize;

/// How one message fared (part of `observe`/`enforce` output).
#[derive(Debug, Clone, Serialize)]
pub struct Sent {
    pub team: String,
    pub channel: String,
    /// The env var naming the destination (never the destination itself).
    pub env: String,
    pub status: SentStatus,
    pub events: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// (ledger key, `<event key>@<channel>`) pairs to record on success.
    #[serde(skip)]
    pub record: Vec<(crate::ledger::EntryKey, String)>,
    /// A periodic digest's events (ledger key, marker, event as sent): queued in the ledger
    /// unless this message went out.
    #[serde(skip)]
    pub queue: Vec<(crate::ledger::EntryKey, String, serde_json::Value)>,
    /// A periodic digest: its ledger key (`team@channel`) and the first day of its period.
    #[serde(skip)]
    pub period: Option<(String, crate::date::Day)>,
}

/// How one message fared; written in kebab-case in the output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SentStatus {
    /// The channel accepted it.
    Sent,
    /// Sending failed (the error says why); the next run retries.
    Failed,
    /// `--dry-run` / `--no-notify`: printed, not sent.
    WouldSend,
    /// The destination's env var is unset: not sent.
    NotConfigured,
    /// A weekly digest that already went out this week: the events wait in the ledger for
    /// the next one.
    Queued,
    /// `--dry-run` / `--no-notify`: would be queued for the next weekly digest.
    WouldQueue,
}

impl std::fmt::Display for SentStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            SentStatus::Sent => "sent",
            SentStatus::Failed => "failed",
            SentStatus::WouldSend => "would-send",
            SentStatus::NotConfigured => "not-configured",
            SentStatus::Queued => "queued",
            SentStatus::WouldQueue => "would-queue",
        })
    }
}

/// `file:line`, or what is known of it.
pub fn location(file: &str, line: usize) -> String {
    match (file.is_empty(), line) {
        (true, _) => "-".to_string(),
        (false, 0) => file.to_string(),
        (false, l) => format!("{file}:{l}"),
    }
}

/// `1 finding`, `2 findings`: a count with its noun in the right number.
pub fn plural(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("{n} {noun}")
    } else {
        format!("{n} {noun}s")
    }
}
