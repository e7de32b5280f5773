//! The workflows, one file each, each readable top to bottom in the words of DESIGN.md.

pub mod check;
pub mod commit_message;
pub mod dashboard;
pub mod demo;
pub mod enforce;
pub mod fleet;
pub mod frameworks;
pub mod init;
pub mod ledger_cmd;
pub mod observe;
pub mod preview;
pub mod promote;
pub mod release;
pub mod report;
pub mod shard;
pub mod test;

use crate::date::Day;
use crate::notify::{self, Event, Mode, RunInfo, Sent};
use crate::output::Format;
use std::path::PathBuf;

/// Runs one step of a workflow; with `RAILYARD_TIMINGS` set, prints its wall time on stderr
/// (where a fleet run spends its time, step by step in the words of the workflow).
pub(crate) fn step<T>(label: &str, f: impl FnOnce() -> T) -> T {
    if std::env::var_os("RAILYARD_TIMINGS").is_none() {
        return f();
    }
    let start = std::time::Instant::now();
    let out = f();
    eprintln!("timing: step {label}: {:.1} ms", start.elapsed().as_secs_f64() * 1000.0);
    out
}

/// What every loop workflow gets from the command line, resolved once.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The guardrails repo: a local path or a URL.
    pub repo: String,
    /// Environment variable holding an https token for a remote guardrails repo.
    pub repo_token_env: Option<String>,
    /// Persistent clones of workloads (and the mirror of a remote guardrails repo).
    pub cache_dir: PathBuf,
    pub now: Day,
    /// Whether `--now` was given (recorded in what the run causes).
    pub now_explicit: bool,
    pub dry_run: bool,
    /// `--no-notify`: print the notifications that would be sent, send none.
    pub no_notify: bool,
    /// Per-request timeout of notifications (`RAILYARD_NOTIFY_TIMEOUT_MS`).
    pub notify_timeout: std::time::Duration,
    /// The budget of each git fetch, clone and push (`--fetch-timeout`).
    pub fetch_timeout: std::time::Duration,
    pub format: Format,
    /// Who runs this (recorded in forced promotions and accepted ledger edits): `--actor`,
    /// `$RAILYARD_ACTOR` or the CI's user; empty when none was given (the workflow then
    /// takes the repository's git identity).
    pub actor: String,
    /// Where `actor` came from (`--actor`, `GITHUB_ACTOR`, …).
    pub actor_source: String,
    /// `RAILYARD_LEDGER_KEY`: seals the ledger and authenticates the result cache.
    pub ledger_key: Option<crate::seal::SealKey>,
    /// The limits of each workload's evaluation; one worker each (the loop workflows
    /// evaluate a workload per worker thread instead).
    pub run: crate::limits::RunSettings,
}

/// How a run ended; `main` maps it to the documented exit codes (docs/exit-codes.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// 0: nothing to report.
    Clean,
    /// 1: findings that fail the build (or fixtures that failed).
    Findings,
    /// 2: something could not be evaluated or configured; never read as compliant.
    Error,
}

impl Outcome {
    pub fn exit_code(self) -> u8 {
        match self {
            Outcome::Clean => 0,
            Outcome::Findings => 1,
            Outcome::Error => 2,
        }
    }
}

/// Step "tell each owning team": sends the events not yet delivered (or, with `--dry-run` /
/// `--no-notify`, prints them), then records what was delivered in the ledger in a second
/// update, after the run's observations are already committed. Never fails the run: a failed
/// send is reported and retried by the next run.
pub(crate) fn tell_owners(
    s: &Settings,
    release: &release::Release,
    ledger: &crate::ledger::Ledger,
    events: &[Event],
    command: &str,
) -> Vec<Sent> {
    let mode = if s.dry_run || s.no_notify {
        Mode::Preview
    } else {
        Mode::Send
    };
    let run = RunInfo {
        command: command.to_string(),
        now: s.now,
        railyard_version: env!("CARGO_PKG_VERSION").to_string(),
    };
    if mode == Mode::Preview {
        let sent = notify::notify(events, &release.registry, ledger, run, mode, s.notify_timeout);
        notify::print_summary(&sent);
        return sent;
    }
    // Exactly once: claim every message in the ledger (compare-and-swap) before sending, so
    // of several concurrent runs one sends each; the others see a live claim and skip it. A
    // run that dies after claiming leaves a claim that lapses after `notify::CLAIM_LEASE`,
    // and the next run sends the message then (at least once).
    let me = notify::run_id();
    let wanted = notify::planned_markers(events, &release.registry, ledger, s.now);
    if wanted.is_empty() {
        return Vec::new();
    }
    let claim_msg = commit_message::claim_notifications(s, wanted.len());
    let mut mine = std::collections::BTreeSet::new();
    let claimed = crate::ledger::Ledger::update(&release.repo, &claim_msg, |l| {
        mine = notify::claim(l, &wanted, me, s.now);
        Ok(())
    });
    let claimed = match claimed {
        Ok((l, _)) => l,
        Err(e) => {
            eprintln!(
                "notify: could not claim the notifications in the ledger ({}); nothing sent, the next run retries",
                crate::gitops::fetch::redact(&format!("{e:#}"))
            );
            return Vec::new();
        }
    };
    if mine.is_empty() {
        return Vec::new(); // another run holds or sent them all
    }
    let sent = notify::notify(events, &release.registry, &claimed, run, mode, s.notify_timeout);
    notify::print_summary(&sent);
    let delivered: usize = sent
        .iter()
        .filter(|x| x.status == notify::SentStatus::Sent)
        .map(|x| x.record.len())
        .sum();
    let msg = commit_message::record_notifications(s, delivered);
    if let Err(e) = crate::ledger::Ledger::update(&release.repo, &msg, |l| {
        notify::record(l, &sent, s.now, me);
        Ok(())
    }) {
        eprintln!(
            "notify: could not record the notifications sent in the ledger ({}); they are sent again once their claim lapses",
            crate::gitops::fetch::redact(&format!("{e:#}"))
        );
    }
    sent
}
