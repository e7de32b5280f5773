//! The ledger: the durable record of noncompliance, one entry per (guardrail, workload),
//! stored as `ledger.json` on branch `railyard/ledger` of the guardrails repo, one commit per
//! run that changed it. Updates are functions applied to the freshly read ledger, so a run
//! that loses a compare-and-swap race simply re-reads and applies its observations again:
//! concurrent or killed runs lose nothing and never leave half-written state. The ledger owns
//! its record types, notification claims ([`Claim`]) included: `notify` writes them, but
//! through the ledger's types, so the ledger depends on nothing above it.

use crate::date::Day;
use crate::evaluate::{Evaluation, Finding, Verdict};
use crate::gitops::{GuardrailsRepo, LEDGER, MAIN};
use crate::guardrail::Severity;
use crate::seal::SealKey;
use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub const FILE: &str = "ledger.json";
pub const VERSION: u32 = 1;
/// Trailer of every ledger commit written with `RAILYARD_LEDGER_KEY`: the hex HMAC-SHA256
/// of the ledger's content, the parent's seal, the parent ids and the rest of the message.
pub const SEAL_TRAILER: &str = "Railyard-Seal";
/// Trailer of promotion commits on `main`: the ledger commit the decision was taken on.
pub const LEDGER_TRAILER: &str = "Railyard-Ledger";

/// A ledger that cannot be trusted: stops the run (exit 2), naming the commit.
#[derive(Debug, thiserror::Error)]
pub enum TamperError {
    #[error("ledger commit {commit} on `{LEDGER}`: its seal does not verify (changed outside Railyard, or sealed with another key); nothing was changed (hint: review it with `git show {commit}`; if the change is deliberate, run `railyard ledger accept --reason \"<why>\"`, else reset `{LEDGER}` to the last commit `railyard ledger verify` accepts)")]
    BadSeal { commit: String },
    #[error("ledger commit {commit} on `{LEDGER}` is not sealed, although {sealed} before it is: it was made outside Railyard; nothing was changed (hint: review it with `git show {commit}`; if it is deliberate, run `railyard ledger accept --reason \"<why>\"`, else reset `{LEDGER}` to {sealed})")]
    Unsealed { commit: String, sealed: String },
    #[error("branch `{LEDGER}` is missing, but `main` commit {main} was decided on ledger commit {ledger}: the ledger was deleted; nothing was changed (hint: restore it, e.g. `git branch {LEDGER} {ledger}` or push it back from a clone, and run again)")]
    Missing { main: String, ledger: String },
    #[error("ledger head {tip} on `{LEDGER}` does not descend from ledger commit {ledger}, which `main` commit {main} was decided on: the ledger was reset or replaced; nothing was changed (hint: restore `{LEDGER}` to {ledger} or a descendant of it, from a clone or `git reflog`; if the replacement is deliberate, run `railyard ledger accept --reason \"<why>\"`)")]
    NotDescendant { tip: String, ledger: String, main: String },
}

/// The seal in a commit message (the value of its last `Railyard-Seal:` line).
pub fn seal_of(message: &str) -> Option<&str> {
    message
        .lines()
        .rev()
        .find_map(|l| l.strip_prefix(SEAL_TRAILER).and_then(|r| r.strip_prefix(": ")))
        .map(str::trim)
}

/// The message without its seal line (what the seal covers).
fn unsealed_body(message: &str) -> &str {
    let marker = format!("{SEAL_TRAILER}: ");
    match message.rfind(&marker) {
        Some(i) if i == 0 || message.as_bytes()[i - 1] == b'\n' => &message[..i],
        _ => message,
    }
}

fn seal_fields<'a>(content: &'a [u8], parent_seal: &'a str, parents: &'a str, body: &'a str) -> [&'a [u8]; 5] {
    [
        b"railyard-ledger-seal-v1",
        content,
        parent_seal.as_bytes(),
        parents.as_bytes(),
        body.as_bytes(),
    ]
}

/// The first parent's seal ("" when unsealed or a root).
fn parent_seal(repo: &GuardrailsRepo, parents: &[&str]) -> Result<String> {
    Ok(match parents.first() {
        Some(p) => seal_of(&repo.message(p)?).unwrap_or("").to_string(),
        None => String::new(),
    })
}

/// `message` with the seal of a commit of `content` on `parents` appended.
pub fn seal_message(
    repo: &GuardrailsRepo,
    key: &SealKey,
    parents: &[&str],
    content: &[u8],
    message: &str,
) -> Result<String> {
    let mut body = message.to_string();
    if !body.ends_with('\n') {
        body.push('\n');
    }
    let ps = parent_seal(repo, parents)?;
    let joined = parents.join(",");
    let mac = key.mac(seal_fields(content, &ps, &joined, &body));
    Ok(format!("{body}{SEAL_TRAILER}: {mac}\n"))
}

/// `Some(true)` when the commit's seal verifies, `Some(false)` when it does not, `None`
/// when the commit carries no seal.
pub fn verify_commit(repo: &GuardrailsRepo, key: &SealKey, commit: &str) -> Result<Option<bool>> {
    let message = repo.message(commit)?;
    let Some(seal) = seal_of(&message) else { return Ok(None) };
    let content = repo.read_file(commit, FILE)?.unwrap_or_default();
    let parents = repo.parents(commit)?;
    let parents: Vec<&str> = parents.iter().map(String::as_str).collect();
    let ps = parent_seal(repo, &parents)?;
    let joined = parents.join(",");
    let body = unsealed_body(&message);
    Ok(Some(key.verify(seal_fields(&content, &ps, &joined, body), seal)))
}

/// The ledger commit `main`'s newest promotion was decided on: (main commit, ledger commit).
pub fn main_reference(repo: &GuardrailsRepo) -> Result<Option<(String, String)>> {
    repo.latest_trailer(MAIN, LEDGER_TRAILER)
}

/// With a key: the ledger head must carry a seal that verifies (or no commit of the branch
/// is sealed yet: sealing starts now), and must exist and descend from the ledger commit
/// `main` references. Without a key nothing can be verified.
pub fn check_tip(repo: &GuardrailsRepo, tip: Option<&str>) -> Result<()> {
    let Some(key) = repo.seal_key() else { return Ok(()) };
    if let Some((main, ledger)) = main_reference(repo)? {
        match tip {
            None => return Err(TamperError::Missing { main, ledger }.into()),
            Some(t) if !repo.has_commit(&ledger) || !repo.descends_from(t, &ledger)? => {
                return Err(TamperError::NotDescendant {
                    tip: t.to_string(),
                    ledger,
                    main,
                }
                .into())
            }
            _ => {}
        }
    }
    let Some(tip) = tip else { return Ok(()) };
    match verify_commit(repo, key, tip)? {
        Some(true) => Ok(()),
        Some(false) => Err(TamperError::BadSeal {
            commit: tip.to_string(),
        }
        .into()),
        None => {
            let history = repo.first_parent_history(LEDGER)?;
            for c in history.iter().skip_while(|c| c.as_str() != tip).skip(1) {
                if seal_of(&repo.message(c)?).is_some() {
                    return Err(TamperError::Unsealed {
                        commit: tip.to_string(),
                        sealed: c.clone(),
                    }
                    .into());
                }
            }
            static ONCE: std::sync::Once = std::sync::Once::new();
            ONCE.call_once(|| {
                eprintln!("warning: no commit of `{LEDGER}` is sealed yet: sealing starts with the next ledger commit Railyard writes")
            });
            Ok(())
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ledger {
    pub version: u32,
    /// The latest date any run acted on; `--now` may not go behind it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clock: Option<Day>,
    /// Per guardrail: pending or active, and how it got there.
    #[serde(default)]
    pub guardrails: BTreeMap<String, GuardrailRecord>,
    /// Per (guardrail, workload), keyed `guardrail/workload`.
    #[serde(default)]
    pub entries: BTreeMap<String, LedgerEntry>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum GuardrailState {
    /// On `develop`, differing from `main`: observed, not enforced.
    Pending,
    /// On `main` as observed: application pipelines fail on its findings.
    Active,
    /// Removed from `develop` and then from `main`.
    Removed,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GuardrailRecord {
    pub state: GuardrailState,
    pub title: String,
    pub severity: Severity,
    /// Tree id of the guardrail folder last observed on `develop`.
    pub develop_tree: String,
    /// First day this guardrail was observed as a candidate.
    pub first_observed: Day,
    /// Fixed deadline from `guardrail.toml`, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fixed_deadline: Option<Day>,
    pub grace_days: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub activation: Option<Activation>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Activation {
    pub on: Day,
    /// `observed` (broke nobody), `deadline` (grace period over), `forced` (security team).
    pub how: String,
    pub commit: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LedgerEntry {
    pub guardrail: String,
    pub workload: String,
    #[serde(default)]
    pub team: String,
    pub status: Verdict,
    /// Unexcepted findings as last seen.
    #[serde(default)]
    pub findings: Vec<RecordedFinding>,
    /// Findings waived by an exception, as last seen.
    #[serde(default)]
    pub excepted: Vec<RecordedFinding>,
    /// Why the last evaluation could not be trusted (status `unknown`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub problems: Vec<String>,
    /// First day of the current noncompliance.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_seen: Option<Day>,
    /// The day this workload's pipeline starts failing on this guardrail.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deadline: Option<Day>,
    /// Last day findings were seen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_seen: Option<Day>,
    /// Last day this pair was evaluated.
    pub last_observed: Day,
    /// Day the noncompliance was fixed (cleared when it comes back).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolved: Option<Day>,
    /// Day the guardrail became active for this workload.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub activated: Option<Day>,
    #[serde(default)]
    pub workload_commit: String,
    /// Events sent to the owners: (event key, day).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub notified: BTreeMap<String, Day>,
    /// Events a run has claimed and is sending (`<key>@<channel>`), see [`Claim`].
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub claimed: BTreeMap<String, Claim>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordedFinding {
    pub resource: String,
    /// The resource's identity (`envs/prod:aws_db_instance.main`). Empty in entries written
    /// before identities existed: those are matched by `resource` and get their id when next
    /// recorded, so no first-seen day (or deadline) is lost.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub id: String,
    pub file: String,
    pub line: usize,
    pub message: String,
    pub first_seen: Day,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exception_expires: Option<Day>,
}

/// The machine's date: the latest day a run that writes may act on, so the ledger's clock
/// never runs ahead of real time. Debug builds (the binary the tests run) take
/// `RAILYARD_TEST_TODAY` instead, so that tests of deadlines run on any day; release builds
/// ignore it.
pub fn machine_today() -> Day {
    #[cfg(debug_assertions)]
    if let Some(d) = std::env::var("RAILYARD_TEST_TODAY")
        .ok()
        .and_then(|v| Day::parse(&v).ok())
    {
        return d;
    }
    Day::today()
}

pub fn key(guardrail: &str, workload: &str) -> String {
    format!("{guardrail}/{workload}")
}

impl LedgerEntry {
    /// Whether a recorded excepted finding is still waived on `day`: its exception's expiry
    /// is a point in time every command reads the same way (the day itself included).
    fn waived_on(f: &RecordedFinding, day: Day) -> bool {
        f.exception_expires.is_some_and(|x| day <= x)
    }

    /// The findings that count against the workload on `day`: the unexcepted ones and those
    /// whose exception has expired since they were recorded.
    pub fn failing_on(&self, day: Day) -> Vec<&RecordedFinding> {
        let expired = self.excepted.iter().filter(|f| !Self::waived_on(f, day));
        self.findings.iter().chain(expired).collect()
    }

    /// The findings still waived on `day`.
    pub fn waived_on_day(&self, day: Day) -> Vec<&RecordedFinding> {
        self.excepted.iter().filter(|f| Self::waived_on(f, day)).collect()
    }

    /// The status on `day`: an `excepted` entry whose exception expired is noncompliant.
    pub fn status_on(&self, day: Day) -> Verdict {
        match self.status {
            Verdict::Excepted if !self.failing_on(day).is_empty() => Verdict::Noncompliant,
            other => other,
        }
    }
}

impl Ledger {
    pub fn new() -> Ledger {
        Ledger {
            version: VERSION,
            ..Default::default()
        }
    }

    /// Parses `ledger.json`; a ledger that is not Railyard's is an error, never reset.
    pub fn parse(text: &str) -> Result<Ledger> {
        let ledger: Ledger = serde_json::from_str(text).map_err(|e| {
            anyhow::anyhow!(
                "{LEDGER}:{FILE}:{}: the ledger is malformed ({e}); it was not modified (hint: fix or revert the last commit on `{LEDGER}`)",
                e.line()
            )
        })?;
        if ledger.version != VERSION {
            bail!(
                "{LEDGER}:{FILE}: ledger version {} is not supported by this Railyard (expects {VERSION})",
                ledger.version
            );
        }
        Ok(ledger)
    }

    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).expect("the ledger always serialises");
        s.push('\n');
        s
    }

    /// Moves the clock to `now`, refusing to go backwards: a backdated run could dodge a
    /// deadline, so the ledger's latest date is a floor. The hint tells apart a `--now` in
    /// the past from a ledger whose clock an earlier run moved ahead of real time.
    pub fn advance_clock(&mut self, now: Day) -> Result<()> {
        if let Some(clock) = self.clock {
            if now < clock {
                let today = machine_today();
                if clock > today {
                    bail!(
                        "the ledger's clock ({clock}) is ahead of real time (today is {today}): a run acted with a future --now, so every run on a real date is refused as backdating (hint: review the ledger, then set its clock back to today with `railyard ledger accept --reset-clock --reason \"<why>\"`, which records who and why)"
                    );
                }
                bail!("--now {now} is before the ledger's clock {clock}: Railyard does not backdate (hint: omit --now to act on today, {today}; a --now must be between {clock} and {today})");
            }
        }
        self.clock = Some(now.max(self.clock.unwrap_or(now)));
        Ok(())
    }

    /// Records one evaluation of a candidate guardrail on a workload.
    pub fn record(
        &mut self,
        eval: &Evaluation,
        team: &str,
        workload_commit: &str,
        deadline_for: impl Fn(Day) -> Day,
        now: Day,
    ) {
        let k = key(&eval.guardrail, &eval.workload);
        let previous = self.entries.get(&k).cloned();
        let verdict = eval.verdict();
        let mut e = previous.clone().unwrap_or(LedgerEntry {
            guardrail: eval.guardrail.clone(),
            workload: eval.workload.clone(),
            team: team.to_string(),
            status: verdict,
            findings: Vec::new(),
            excepted: Vec::new(),
            problems: Vec::new(),
            first_seen: None,
            deadline: None,
            last_seen: None,
            last_observed: now,
            resolved: None,
            activated: None,
            workload_commit: String::new(),
            notified: BTreeMap::new(),
            claimed: BTreeMap::new(),
        });
        e.team = team.to_string();
        e.status = verdict;
        e.last_observed = now;
        e.workload_commit = workload_commit.to_string();
        // Problems can quote git or HTTP errors: never commit a credential to the ledger.
        e.problems = eval
            .problems
            .iter()
            .map(|p| crate::gitops::fetch::redact(&p.to_string()))
            .collect();
        if verdict == Verdict::Unknown {
            // Nothing trustworthy was learned: keep what was recorded before.
            self.entries.insert(k, e);
            return;
        }
        // The same resource as recorded before: by id, or by address for an entry recorded
        // before ids (it may stand for any of the resources now told apart by id).
        let earlier = |f: &Finding, list: &[RecordedFinding]| {
            list.iter()
                .filter(|o| match (o.id.is_empty(), f.id.is_empty()) {
                    (false, false) => o.id == f.id,
                    _ => o.resource == f.resource,
                })
                .map(|o| o.first_seen)
                .min()
        };
        let record = |f: &Finding, old: &[RecordedFinding]| RecordedFinding {
            resource: f.resource.clone(),
            id: f.id.clone(),
            file: f.file.clone(),
            line: f.line,
            message: f.message.clone(),
            first_seen: earlier(f, old).unwrap_or(now),
            exception_expires: f.exception.as_ref().map(|x| x.expires),
        };
        let old_all: Vec<RecordedFinding> = e.findings.iter().chain(&e.excepted).cloned().collect();
        e.findings = eval.findings.iter().map(|f| record(f, &old_all)).collect();
        e.excepted = eval.excepted.iter().map(|f| record(f, &old_all)).collect();
        if e.findings.is_empty() {
            if e.first_seen.is_some() && e.resolved.is_none() {
                e.resolved = Some(now);
            }
        } else {
            if e.resolved.is_some() || e.first_seen.is_none() {
                // A new streak of noncompliance starts: on the day its oldest finding was
                // first seen (a finding whose exception expired was known, and waived,
                // since then; it gets no fresh grace period).
                let oldest = e.findings.iter().map(|f| f.first_seen).min().unwrap_or(now);
                e.first_seen = Some(oldest.min(now));
                e.resolved = None;
                e.deadline = None;
            }
            e.last_seen = Some(now);
            // A streak's deadline, once recorded, stays: only an explicit, recorded decision
            // (a forced promotion) changes when a workload fails.
            e.deadline = Some(e.deadline.unwrap_or_else(|| deadline_for(e.first_seen.unwrap_or(now))));
        }
        self.entries.insert(k, e);
    }

    pub fn entries_of<'a>(&'a self, guardrail: &'a str) -> impl Iterator<Item = &'a LedgerEntry> + 'a {
        self.entries.values().filter(move |e| e.guardrail == guardrail)
    }

    /// The day a pending guardrail is activated by `enforce`: when every open
    /// noncompliance's deadline has passed (so no workload is broken before its own
    /// deadline), or the fixed deadline. `None` until it has been observed.
    pub fn activation_day(&self, guardrail: &str) -> Option<Day> {
        let rec = self.guardrails.get(guardrail)?;
        if let Some(d) = rec.fixed_deadline {
            return Some(d);
        }
        let open = self
            .entries_of(guardrail)
            .filter(|e| e.status == Verdict::Noncompliant)
            .filter_map(|e| e.deadline)
            .max();
        Some(open.unwrap_or(rec.first_observed.plus_days(rec.grace_days as i64)))
    }

    /// Reads the ledger from its branch (an empty ledger when the branch does not exist).
    pub fn load(repo: &GuardrailsRepo) -> Result<(Ledger, Option<String>)> {
        match repo.tip(LEDGER)? {
            None => {
                check_tip(repo, None)?;
                Ok((Ledger::new(), None))
            }
            Some(tip) => {
                check_tip(repo, Some(&tip))?;
                let bytes = repo.read_file(&tip, FILE)?.with_context(|| {
                    format!(
                        "branch `{LEDGER}` has no `{FILE}`: it was not written by Railyard; refusing to overwrite it"
                    )
                })?;
                let text = String::from_utf8(bytes).context("the ledger is not UTF-8")?;
                Ok((Ledger::parse(&text)?, Some(tip)))
            }
        }
    }

    /// Applies `change` to the latest ledger and commits it by compare-and-swap, retrying
    /// on a lost race. Returns the new ledger (and whether a commit was made).
    pub fn update<F>(repo: &GuardrailsRepo, message: &str, mut change: F) -> Result<(Ledger, bool)>
    where
        F: FnMut(&mut Ledger) -> Result<()>,
    {
        let mut result = None;
        let committed = repo.update_branch(LEDGER, |repo, tip| {
            // Re-checked on every attempt: the branch may have moved since it was read.
            check_tip(repo, tip)?;
            let mut ledger = match tip {
                None => Ledger::new(),
                Some(tip) => {
                    let bytes = repo
                        .read_file(tip, FILE)?
                        .with_context(|| format!("branch `{LEDGER}` has no `{FILE}`; refusing to overwrite it"))?;
                    Ledger::parse(&String::from_utf8_lossy(&bytes))?
                }
            };
            let before = ledger.clone();
            change(&mut ledger)?;
            let changed = ledger != before;
            let json = ledger.to_json();
            result = Some(ledger);
            if !changed && tip.is_some() {
                return Ok(None);
            }
            let parents: Vec<&str> = tip.into_iter().collect();
            let message = match repo.seal_key() {
                Some(key) => seal_message(repo, key, &parents, json.as_bytes(), message)?,
                None => message.to_string(),
            };
            Ok(Some(repo.commit_files_on(
                &parents,
                &[(FILE, json.as_bytes())],
                &message,
            )?))
        })?;
        Ok((result.expect("the update ran at least once"), committed.is_some()))
    }
}

/// How long a claim holds before another run may take the message over: a run that claimed
/// and then died (killed, crashed) is re-sent after this. A live run sends well within it
/// (each request is bounded by `--fetch-timeout`).
pub const CLAIM_LEASE: std::time::Duration = std::time::Duration::from_secs(15 * 60);

/// A message a run has claimed in the ledger before sending it: claims are written by
/// compare-and-swap, so of N concurrent runs exactly one sends each message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Claim {
    /// Seconds since the Unix epoch when it was claimed (machine time, for the lease).
    pub at: u64,
    /// The claiming run.
    pub by: String,
}

impl Claim {
    pub fn live(&self) -> bool {
        now_secs() < self.at.saturating_add(CLAIM_LEASE.as_secs())
    }
}

pub fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evaluate::EvalProblem;

    fn day(s: &str) -> Day {
        Day::parse(s).unwrap()
    }

    #[test]
    fn a_malformed_ledger_names_file_and_line_and_is_never_replaced() {
        let err = Ledger::parse("{\n  \"version\": 1,\n  oops\n}\n")
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("railyard/ledger:ledger.json:3:"), "{err}");
        assert!(err.contains("was not modified"), "{err}");
        let bad_field = "{\n  \"version\": 1,\n  \"entries\": {},\n  \"mine\": true\n}\n";
        let err = Ledger::parse(bad_field).unwrap_err().to_string();
        assert!(err.contains("ledger.json:4:") && err.contains("mine"), "{err}");
        let err = Ledger::parse("{\"version\": 2}").unwrap_err().to_string();
        assert!(err.contains("ledger version 2"), "{err}");
        let ok = Ledger::new().to_json();
        assert_eq!(Ledger::parse(&ok).unwrap(), Ledger::new());
    }

    #[test]
    fn the_seal_is_the_last_seal_line_and_the_body_is_what_precedes_it() {
        let m = "railyard: observe\n\nRailyard-Now: 2026-11-01\nRailyard-Seal: abc\n";
        assert_eq!(seal_of(m), Some("abc"));
        assert_eq!(unsealed_body(m), "railyard: observe\n\nRailyard-Now: 2026-11-01\n");
        assert_eq!(seal_of("hand edit\n"), None);
        assert_eq!(unsealed_body("x Railyard-Seal: abc\n"), "x Railyard-Seal: abc\n");
    }

    #[test]
    fn problems_are_recorded_without_credentials() {
        let mut ledger = Ledger::new();
        let eval = Evaluation {
            guardrail: "g".into(),
            workload: "w".into(),
            findings: Vec::new(),
            excepted: Vec::new(),
            problems: vec![EvalProblem {
                guardrail: None,
                file: None,
                line: None,
                message: "cannot fetch from https://bob:s3cr3t@git.example.com/a.git: 401".into(),
            }],
        };
        ledger.record(&eval, "team", "", |d| d, day("2026-11-01"));
        let e = &ledger.entries["g/w"];
        assert_eq!(e.status, Verdict::Unknown);
        assert_eq!(
            e.problems,
            ["cannot fetch from https://***@git.example.com/a.git: 401".to_string()]
        );
        assert!(!ledger.to_json().contains("s3cr3t"));
    }
}
