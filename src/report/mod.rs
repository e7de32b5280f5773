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
pub mod observe;
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
    /// `sent`, `failed`, `would-send` (dry run / --no-notify), `not-configured` (env var unset).
    pub status: String,
    pub events: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// (ledger key, `<event key>@<channel>`) pairs to record on success.
    #[serde(skip)]
    pub record: Vec<(String, String)>,
}

/// `file:line`, or what is known of it.
pub fn location(file: &str, line: usize) -> String {
    match (file.is_empty(), line) {
        (true, _) => "-".to_string(),
        (false, 0) => file.to_string(),
        (false, l) => format!("{file}:{l}"),
    }
}
