//! `railyard ledger verify|accept`: the ledger's seals. `verify` walks the whole ledger
//! branch and says which commits are sealed, which hand edits were accepted (by whom and
//! why), and which were made outside Railyard; `accept` re-seals the ledger after a
//! deliberate, reviewed hand edit and records who accepted it and why.

use super::commit_message::{self, Forced};
use super::promote::{one_line_reason, resolve_actor};
use super::{Outcome, Settings};
use crate::gitops::{GuardrailsRepo, LEDGER};
use crate::ledger::{self, machine_today, Ledger};
use anyhow::{bail, Context, Result};
use serde::Serialize;
use std::io::Write;

/// What one ledger commit is, as `verify` sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CommitState {
    /// Written by Railyard with the key; its seal verifies.
    Sealed,
    /// Written before the ledger was first sealed.
    BeforeSealing,
    /// A hand edit that a later `ledger accept` commit accepted.
    Accepted,
    /// Carries a seal that does not verify.
    BadSeal,
    /// Not sealed, after sealing started, and never accepted.
    Unsealed,
}

#[derive(Debug, Clone, Serialize)]
pub struct CommitCheck {
    pub commit: String,
    pub state: CommitState,
    pub summary: String,
    /// For an accepted hand edit: the commit that accepted it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub accepted_in: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct VerifyReport {
    pub branch: String,
    pub head: Option<String>,
    /// Newest first.
    pub commits: Vec<CommitCheck>,
    /// Why the ledger cannot be trusted (empty: it verifies).
    pub problems: Vec<String>,
}

fn open(s: &Settings) -> Result<GuardrailsRepo> {
    if s.ledger_key.is_none() {
        bail!(
            "{} is not set: the ledger's seals can only be checked or written with the key (hint: run where the CI secret is available)",
            crate::seal::KEY_ENV
        );
    }
    let mut repo = GuardrailsRepo::open(&s.repo, &s.cache_dir, s.repo_token_env.as_deref(), s.fetch_timeout)?;
    repo.set_seal_key(s.ledger_key.clone());
    Ok(repo)
}

/// Checks every commit of the ledger branch (first parents, oldest to newest) and the
/// branch's relation to `main`.
fn check_chain(repo: &GuardrailsRepo) -> Result<VerifyReport> {
    let key = repo.seal_key().expect("opened with a key").clone();
    let head = repo.tip(LEDGER)?;
    let mut problems = Vec::new();
    // The head and `main`'s reference, exactly as every run checks them.
    if let Err(e) = ledger::check_tip(repo, head.as_deref()) {
        problems.push(format!("{e:#}"));
    }
    let mut history = repo.first_parent_history(LEDGER)?;
    history.reverse();
    let mut commits = Vec::new();
    let mut started = false;
    let mut pending: Vec<usize> = Vec::new();
    for c in history {
        let message = repo.message(&c)?;
        let summary = message.lines().next().unwrap_or("").to_string();
        let state = match ledger::verify_commit(repo, &key, &c)? {
            Some(true) => {
                started = true;
                let accepts = message.lines().any(|l| l.starts_with("Accepted-By: "));
                for i in pending.drain(..) {
                    let entry: &mut CommitCheck = &mut commits[i];
                    if accepts {
                        entry.state = CommitState::Accepted;
                        entry.accepted_in = Some(c.clone());
                    }
                }
                CommitState::Sealed
            }
            Some(false) => {
                pending.push(commits.len());
                CommitState::BadSeal
            }
            None if started => {
                pending.push(commits.len());
                CommitState::Unsealed
            }
            None => CommitState::BeforeSealing,
        };
        commits.push(CommitCheck {
            commit: c,
            state,
            summary,
            accepted_in: None,
        });
    }
    for c in &commits {
        match c.state {
            CommitState::BadSeal => problems.push(format!("ledger commit {}: its seal does not verify", c.commit)),
            CommitState::Unsealed => problems.push(format!(
                "ledger commit {}: not sealed and never accepted (made outside Railyard)",
                c.commit
            )),
            _ => {}
        }
    }
    problems.dedup();
    commits.reverse();
    Ok(VerifyReport {
        branch: LEDGER.to_string(),
        head,
        commits,
        problems,
    })
}

fn short(c: &str) -> &str {
    &c[..c.len().min(12)]
}

/// `railyard ledger verify`
pub fn verify(s: &Settings, out: &mut dyn Write) -> Result<Outcome> {
    let repo = open(s)?;
    let report = check_chain(&repo)?;
    if s.format == crate::output::Format::Json {
        serde_json::to_writer_pretty(&mut *out, &report)?;
        writeln!(out)?;
    } else {
        let count = |st: CommitState| report.commits.iter().filter(|c| c.state == st).count();
        writeln!(
            out,
            "ledger `{LEDGER}`: {}: {} sealed, {}, {} before sealing started, {}, {} unsealed",
            crate::output::plural(report.commits.len(), "commit"),
            count(CommitState::Sealed),
            crate::output::plural(count(CommitState::Accepted), "accepted hand edit"),
            count(CommitState::BeforeSealing),
            crate::output::plural(count(CommitState::BadSeal), "bad seal"),
            count(CommitState::Unsealed),
        )?;
        for c in report.commits.iter().filter(|c| c.state != CommitState::Sealed) {
            let state = match c.state {
                CommitState::Accepted => format!("accepted in {}", short(c.accepted_in.as_deref().unwrap_or(""))),
                CommitState::BeforeSealing => "before sealing started".into(),
                CommitState::BadSeal => "BAD SEAL".into(),
                CommitState::Unsealed => "UNSEALED".into(),
                CommitState::Sealed => "sealed".into(),
            };
            writeln!(out, "  {} {state}: {}", short(&c.commit), c.summary)?;
        }
        if report.problems.is_empty() {
            writeln!(out, "the ledger verifies")?;
        }
    }
    for p in &report.problems {
        eprintln!("error: {p}");
    }
    Ok(if report.problems.is_empty() {
        Outcome::Clean
    } else {
        Outcome::Error
    })
}

/// `railyard ledger accept --reason TEXT [--reset-clock]`: one sealed commit on top of the
/// ledger (content unchanged, or with the clock set back to today), naming the commits it
/// accepts, who accepted them and why. When the ledger no longer descends from the commit
/// `main` references, that commit becomes a second parent, so the history stays joined.
pub fn accept(s: &Settings, reason: &str, reset_clock: bool, out: &mut dyn Write) -> Result<Outcome> {
    let reason = one_line_reason(reason)?;
    if reason.is_empty() {
        bail!("--reason must say why the ledger's hand edit is accepted");
    }
    let repo = open(s)?;
    let (actor, source) = resolve_actor(s, &repo)?;
    let before = check_chain(&repo)?;
    let today = machine_today();
    let mut accepted = Vec::new();
    let committed = repo.update_branch(LEDGER, |repo, tip| {
        let tip = tip.with_context(|| {
            format!("branch `{LEDGER}` does not exist: there is nothing to accept (hint: restore it first; see `railyard ledger verify`)")
        })?;
        let mut l = Ledger::read_at(repo, tip)?;
        let mut clock_note = String::new();
        if reset_clock {
            if let Some(clock) = l.clock.filter(|c| *c > today) {
                l.clock = Some(today);
                clock_note = format!("Clock-Reset: {clock} -> {today}\n");
            }
        }
        let tip_ok = ledger::check_tip(repo, Some(tip)).is_ok();
        if tip_ok && clock_note.is_empty() {
            return Ok(None);
        }
        let mut parents = vec![tip.to_string()];
        if let Some((_, referenced)) = ledger::main_reference(repo)? {
            if repo.has_commit(&referenced) && !repo.descends_from(tip, &referenced)? {
                parents.push(referenced);
            }
        }
        accepted = before
            .commits
            .iter()
            .filter(|c| matches!(c.state, CommitState::Unsealed | CommitState::BadSeal))
            .map(|c| c.commit.clone())
            .collect();
        let who = Forced {
            actor: &actor,
            actor_source: &source,
            reason: &reason,
        };
        let message = commit_message::accept_hand_edit(s, &who, &accepted, &clock_note);
        let refs: Vec<&str> = parents.iter().map(String::as_str).collect();
        let key = repo.seal_key().expect("opened with a key");
        // The accepted ledger is written whole, in the current layout, and sealed.
        Ok(Some(Ledger::commit_whole(repo, &l, &refs, Some(key), &message)?))
    })?;
    match committed {
        None => writeln!(out, "the ledger verifies: nothing to accept")?,
        Some(c) => writeln!(
            out,
            "accepted the ledger in {} (by {actor}: {reason}); accepted commit(s): {}",
            short(&c),
            if accepted.is_empty() {
                "none".to_string()
            } else {
                accepted.join(", ")
            }
        )?,
    }
    Ok(Outcome::Clean)
}
