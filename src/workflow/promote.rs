//! Promotion: carries one guardrail folder from `develop` to `main` as a single commit whose
//! message records the evidence; `main` moves only by compare-and-swap. Also `railyard
//! promote <id> --force --reason …`: the security team activates a guardrail now.

use super::commit_message;
use super::release::{Change, Release};
use super::{Outcome, Settings};
use crate::gitops::MAIN;
use crate::ledger::{Activation, Ledger};
use anyhow::{bail, Result};
use std::io::Write;

/// Commits the candidate's folder (and `guardrails/lib` when it changed) onto `main`.
/// Returns the new `main` commit, or `None` when `main` already had it (another run won).
pub fn carry(release: &Release, id: &str, message: &str) -> Result<Option<String>> {
    let paths = release.promotion_paths(id);
    let paths: Vec<&str> = paths.iter().map(String::as_str).collect();
    release.repo.update_branch(MAIN, |repo, tip| {
        let tip = tip.ok_or_else(|| anyhow::anyhow!("branch `{MAIN}` disappeared"))?;
        repo.commit_carrying(tip, &release.develop, &paths, message)
    })
}

/// Checks a name recorded as who decided something: one line of printable text.
pub fn validate_actor(actor: &str, source: &str) -> Result<String> {
    let a = actor.trim();
    if a.is_empty() {
        bail!("the actor ({source}) is empty: Railyard records who forces a decision (hint: pass --actor NAME, or run where the CI sets GITHUB_ACTOR / GITLAB_USER_LOGIN, or set git's user.name/user.email)");
    }
    if a.chars()
        .any(|c| c.is_control() || matches!(c, '\u{2028}' | '\u{2029}'))
    {
        bail!("the actor ({source}) contains a line break or control character: it must be one line of text (hint: pass --actor NAME)");
    }
    if a.chars().count() > 200 {
        bail!("the actor ({source}) is longer than 200 characters");
    }
    Ok(a.to_string())
}

/// A reason recorded in a commit, as one line: line breaks and tabs fold into spaces (so
/// no text can start a trailer line of its own), other control characters are refused.
pub fn one_line_reason(reason: &str) -> Result<String> {
    let folded: String = reason
        .chars()
        .map(|c| match c {
            '\n' | '\r' | '\t' | '\u{0b}' | '\u{0c}' | '\u{85}' | '\u{2028}' | '\u{2029}' => ' ',
            c => c,
        })
        .collect();
    if folded.chars().any(char::is_control) {
        bail!("--reason contains a control character (e.g. a terminal escape): it must be printable text");
    }
    let one = folded.split_whitespace().collect::<Vec<_>>().join(" ");
    if one.chars().count() > 2000 {
        bail!("--reason is longer than 2000 characters");
    }
    Ok(one)
}

/// Who runs this: the actor the command line or CI gave, else the repository's git
/// identity; refused when empty or not one line.
pub fn resolve_actor(s: &Settings, repo: &crate::gitops::GuardrailsRepo) -> Result<(String, String)> {
    if !s.actor.is_empty() || !s.actor_source.is_empty() {
        return Ok((validate_actor(&s.actor, &s.actor_source)?, s.actor_source.clone()));
    }
    match repo.git_identity() {
        Some(id) => Ok((validate_actor(&id, "git user.name/user.email")?, "git config".into())),
        None => validate_actor("", "none found").map(|a| (a, String::new())),
    }
}

/// Marks a guardrail active in the ledger (removed, for a removal), as `release` has it.
pub fn record_activation(ledger: &mut Ledger, release: &Release, id: &str, activation: Activation) {
    let candidate = release.candidate(id);
    let develop_tree = candidate.and_then(|c| c.develop_tree.clone()).unwrap_or_default();
    let removed = candidate.is_some_and(|c| c.change == Change::Removed);
    let facts = release.develop_lib.get(id).map(|g| release.facts(g));
    ledger.record_activation(id, activation, develop_tree, removed, facts);
}

/// `railyard promote <id> --force --reason TEXT`
pub fn promote(
    s: &Settings,
    id: &str,
    force: bool,
    force_failing_fixtures: bool,
    reason: &str,
    out: &mut dyn Write,
) -> Result<Outcome> {
    // Read develop, main and the ledger; the clock may not go back.
    let release = Release::open(s)?;
    release.ledger.check_clock(s.now)?;
    if !force {
        bail!("promoting `{id}` ahead of observation needs --force and --reason (hint: `railyard observe` promotes guardrails that break nobody)");
    }
    let reason = one_line_reason(reason)?;
    if reason.is_empty() {
        bail!("--reason must say why `{id}` is activated now");
    }
    let (actor, actor_source) = resolve_actor(s, &release.repo)?;
    if !s.dry_run {
        release.repo.ensure_work_tree_clean(&[MAIN, crate::gitops::LEDGER])?;
    }
    if let Some(errors) = release.broken.get(id) {
        bail!(
            "guardrail `{id}` on develop does not load:\n{}",
            errors.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("\n")
        );
    }
    // Fail closed: --force overrides observation, not a guardrail that fails its own
    // fixtures; that takes its own flag.
    let failures = crate::evaluate::fixtures::failures(&release.develop_lib, id, &s.run);
    if !failures.is_empty() && !force_failing_fixtures {
        bail!(
            "guardrail `{id}` fails its own fixtures:\n{}\n(hint: fix the guardrail or its tests/; to activate it anyway add --force-failing-fixtures)",
            failures.join("\n")
        );
    }
    let Some(candidate) = release.candidate(id) else {
        if release.main_lib.get(id).is_some() {
            writeln!(out, "`{id}` is already active: main has the same folder as develop")?;
            return Ok(Outcome::Clean);
        }
        bail!(
            "no guardrail `{id}` on develop (known candidates: {})",
            release
                .candidates
                .iter()
                .map(|c| c.id.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        );
    };

    // Name the workloads that will now fail, from the latest observation.
    let failing: Vec<String> = release
        .ledger
        .entries_of(id)
        .filter(|e| e.status == crate::evaluate::Verdict::Noncompliant)
        .map(|e| format!("{} ({} findings)", e.workload, e.findings.len()))
        .collect();
    let forced = commit_message::Forced {
        actor: &actor,
        actor_source: &actor_source,
        reason: &reason,
    };
    let message = commit_message::activate_forced(
        s,
        id,
        candidate.change,
        &release.develop,
        &forced,
        &failing,
        release.ledger_tip.as_deref(),
    );
    if s.dry_run {
        writeln!(out, "dry run: would commit on main:\n\n{message}")?;
        return Ok(Outcome::Clean);
    }

    // Commit on main, then record the activation in the ledger.
    let commit = carry(&release, id, &message)?;
    let commit = match commit {
        Some(c) => c,
        None => release.repo.require_tip(MAIN)?,
    };
    let activation = Activation {
        on: s.now,
        how: crate::ledger::How::Forced,
        commit: commit.clone(),
        by: Some(actor.clone()),
        reason: Some(reason.clone()),
    };
    Ledger::update(
        &release.repo,
        &commit_message::record_forced_activation(s, id),
        |ledger| {
            ledger.advance_clock(s.now)?;
            record_activation(ledger, &release, id, activation.clone());
            Ok(())
        },
    )?;
    writeln!(
        out,
        "activated `{id}` on main in {} (forced by {actor}: {reason})",
        &commit[..12],
    )?;
    if !failing.is_empty() {
        writeln!(out, "workloads that now fail: {}", failing.join(", "))?;
    }
    Ok(Outcome::Clean)
}
