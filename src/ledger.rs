//! The ledger: the durable record of noncompliance, one entry per (guardrail, workload),
//! stored as `ledger.json` on branch `railyard/ledger` of the guardrails repo, one commit per
//! run that changed it. Updates are functions applied to the freshly read ledger, so a run
//! that loses a compare-and-swap race simply re-reads and applies its observations again:
//! concurrent or killed runs lose nothing and never leave half-written state.

use crate::date::Day;
use crate::evaluate::{Evaluation, Finding, Verdict};
use crate::gitops::{GuardrailsRepo, LEDGER};
use crate::guardrail::Severity;
use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub const FILE: &str = "ledger.json";
pub const VERSION: u32 = 1;

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
    /// Events a run has claimed and is sending (`<key>@<channel>`), see `notify::Claim`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub claimed: BTreeMap<String, crate::notify::Claim>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordedFinding {
    pub resource: String,
    pub file: String,
    pub line: usize,
    pub message: String,
    pub first_seen: Day,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exception_expires: Option<Day>,
}

pub fn key(guardrail: &str, workload: &str) -> String {
    format!("{guardrail}/{workload}")
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
    /// deadline, so the ledger's latest date is a floor.
    pub fn advance_clock(&mut self, now: Day) -> Result<()> {
        if let Some(clock) = self.clock {
            if now < clock {
                bail!("--now {now} is before the ledger's clock {clock}: Railyard does not backdate (hint: omit --now, or use {clock} or later)");
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
        let earlier = |resource: &str, list: &[RecordedFinding]| {
            list.iter().find(|f| f.resource == resource).map(|f| f.first_seen)
        };
        let record = |f: &Finding, old: &[RecordedFinding]| RecordedFinding {
            resource: f.resource.clone(),
            file: f.file.clone(),
            line: f.line,
            message: f.message.clone(),
            first_seen: earlier(&f.resource, old).unwrap_or(now),
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
                // A new streak of noncompliance starts today.
                e.first_seen = Some(now);
                e.resolved = None;
            }
            e.last_seen = Some(now);
            e.deadline = Some(deadline_for(e.first_seen.unwrap_or(now)));
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
            None => Ok((Ledger::new(), None)),
            Some(tip) => {
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
            Ok(Some(repo.commit_files(tip, &[(FILE, json.as_bytes())], message)?))
        })?;
        Ok((result.expect("the update ran at least once"), committed.is_some()))
    }
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
