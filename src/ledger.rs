//! The ledger: the durable record of noncompliance, one entry per (guardrail, workload),
//! stored on branch `railyard/ledger` of the guardrails repo, one commit per run that changed
//! it. Layout 2 (see [`FILE`], [`WORKLOADS`], [`SUMMARY`]) keeps each workload's entries in
//! a file of their own, so a run reads the whole ledger but writes only what changed, and the
//! branch's history grows with what changed, not with the size of the fleet; layout 1 (one
//! `ledger.json` holding everything) is still read, and the first run that changes it
//! migrates it. Updates are functions applied to the freshly read ledger, so a run
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
use std::collections::{BTreeMap, HashMap};

/// The ledger's head: its version, clock and guardrail records (in layout 1, everything).
pub const FILE: &str = "ledger.json";
/// Folder of per-workload files (layout 2): `workloads/<workload>.json` holds that
/// workload's entries, keyed by guardrail.
pub const WORKLOADS: &str = "workloads";
/// Counts per guardrail on the clock's day, written with every commit (layout 2): the
/// dashboard's history reads this small file per run instead of the whole ledger.
pub const SUMMARY: &str = "summary.json";
/// The layout this Railyard writes.
pub const VERSION: u32 = 2;
/// The single-file layout, read and migrated.
pub const LEGACY_VERSION: u32 = 1;
/// Trailer of every ledger commit written with `RAILYARD_LEDGER_KEY`: the hex HMAC-SHA256
/// of the ledger's content (layout 1: `ledger.json`; layout 2: the commit's root tree id,
/// which covers every file), the parent's seal, the parent ids and the rest of the message.
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

/// What a seal covers, by layout: the bytes of `ledger.json` (1) or the root tree id (2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sealed<'a> {
    File(&'a [u8]),
    Tree(&'a str),
}

fn seal_fields<'a>(content: Sealed<'a>, parent_seal: &'a str, parents: &'a str, body: &'a str) -> [&'a [u8]; 5] {
    let (tag, content): (&[u8], &[u8]) = match content {
        Sealed::File(bytes) => (b"railyard-ledger-seal-v1", bytes),
        Sealed::Tree(id) => (b"railyard-ledger-seal-v2", id.as_bytes()),
    };
    [
        tag,
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
    content: Sealed<'_>,
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
    let head = repo.read_file(commit, FILE)?.unwrap_or_default();
    let tree = repo.root_tree(commit)?;
    // The head's own word decides what was sealed; a head that does not parse is checked
    // as layout 1, whose seal then fails unless those very bytes were sealed.
    let content = match layout_of(&head) {
        Some(VERSION) => Sealed::Tree(&tree),
        _ => Sealed::File(&head),
    };
    let parents = repo.parents(commit)?;
    let parents: Vec<&str> = parents.iter().map(String::as_str).collect();
    let ps = parent_seal(repo, &parents)?;
    let joined = parents.join(",");
    let body = unsealed_body(&message);
    Ok(Some(key.verify(seal_fields(content, &ps, &joined, body), seal)))
}

/// The `version` a ledger head declares, if it parses that far.
fn layout_of(head: &[u8]) -> Option<u32> {
    #[derive(Deserialize)]
    struct Version {
        version: u32,
    }
    serde_json::from_slice::<Version>(head).ok().map(|v| v.version)
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
    /// Per (guardrail, workload), keyed `guardrail/workload`. In layout 2 the head holds
    /// none: they are in the per-workload files.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub entries: BTreeMap<EntryKey, LedgerEntry>,
    /// Periodic (weekly) digests, keyed `team@channel`: the last period sent and the run
    /// sending the current one. The events waiting for them are in their entries' `queued`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub digests: BTreeMap<String, DigestRecord>,
}

/// One team channel's periodic digest: at most one per period, whichever run sends it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DigestRecord {
    /// First day of the last period whose digest went out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sent: Option<Day>,
    /// The run sending the digest of a period (taken in a compare-and-swap update, so of
    /// concurrent runs one sends it; it lapses as a [`Claim`] does).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claim: Option<PeriodClaim>,
}

/// A [`Claim`] on one period's digest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PeriodClaim {
    /// First day of the period.
    pub period: Day,
    pub at: u64,
    pub by: String,
}

impl PeriodClaim {
    pub fn live(&self) -> bool {
        Claim {
            at: self.at,
            by: self.by.clone(),
        }
        .live()
    }
}

/// An event held for a periodic digest until the digest of its period goes out.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Queued {
    /// The day it was queued.
    pub on: Day,
    /// The event as `notify` sends it (its payload form; the ledger keeps it, never reads it).
    pub event: serde_json::Value,
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

/// A guardrail's title and severity as shown: from its definition when it still has one,
/// else as the ledger recorded them (a guardrail removed since), else untitled and medium.
pub fn title_and_severity(
    g: Option<&crate::guardrail::Guardrail>,
    rec: Option<&GuardrailRecord>,
) -> (String, Severity) {
    let title = g
        .map(|g| g.meta.title.clone())
        .or_else(|| rec.map(|r| r.title.clone()))
        .unwrap_or_default();
    let severity = g
        .map(|g| g.meta.severity)
        .or_else(|| rec.map(|r| r.severity))
        .unwrap_or(Severity::Medium);
    (title, severity)
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

/// How a guardrail got to its state on `main`; recorded as the lowercase word.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum How {
    /// `observe`: it broke no workload.
    Observed,
    /// `observe`: removed from `develop`, so removed from `main` (removing breaks nobody).
    Removed,
    /// `enforce`: the grace period of every noncompliant workload is over.
    Deadline,
    /// `promote --force`: the security team activated it, with who and why.
    Forced,
    /// Found on `main` as observed without a recorded activation (e.g. a promotion commit
    /// made by a run that died before recording it).
    Reconciled,
}

impl How {
    pub fn as_str(self) -> &'static str {
        match self {
            How::Observed => "observed",
            How::Removed => "removed",
            How::Deadline => "deadline",
            How::Forced => "forced",
            How::Reconciled => "reconciled",
        }
    }
}

impl std::fmt::Display for How {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The key of a ledger entry: one (guardrail, workload) pair, written `guardrail/workload`.
/// Guardrail ids never contain `/` (see `guardrail::valid_id`), so the first `/` splits it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct EntryKey {
    pub guardrail: String,
    pub workload: String,
}

impl EntryKey {
    pub fn new(guardrail: &str, workload: &str) -> EntryKey {
        EntryKey {
            guardrail: guardrail.to_string(),
            workload: workload.to_string(),
        }
    }

    /// Bytes of the written form, without building it.
    fn bytes(&self) -> impl Iterator<Item = u8> + '_ {
        self.guardrail
            .bytes()
            .chain(std::iter::once(b'/'))
            .chain(self.workload.bytes())
    }
}

/// Ordered as the written strings are, so `ledger.json` lists entries as it always has.
impl Ord for EntryKey {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        // Slices where they decide (ledgers hold tens of thousands of keys, compared on every
        // lookup); byte by byte only when one guardrail id is a prefix of the other.
        let (a, b) = (self.guardrail.as_bytes(), other.guardrail.as_bytes());
        if a == b {
            return self.workload.as_bytes().cmp(other.workload.as_bytes());
        }
        let n = a.len().min(b.len());
        match a[..n].cmp(&b[..n]) {
            std::cmp::Ordering::Equal => self.bytes().cmp(other.bytes()),
            decided => decided,
        }
    }
}

impl PartialOrd for EntryKey {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl std::fmt::Display for EntryKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.guardrail, self.workload)
    }
}

/// A ledger key that is not `guardrail/workload`.
#[derive(Debug, thiserror::Error)]
#[error("ledger key `{0}` is not `guardrail/workload`")]
pub struct BadEntryKey(String);

impl std::str::FromStr for EntryKey {
    type Err = BadEntryKey;
    fn from_str(s: &str) -> std::result::Result<EntryKey, BadEntryKey> {
        match s.split_once('/') {
            Some((g, w)) if !g.is_empty() => Ok(EntryKey::new(g, w)),
            _ => Err(BadEntryKey(s.to_string())),
        }
    }
}

impl Serialize for EntryKey {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for EntryKey {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<EntryKey, D::Error> {
        let s = std::borrow::Cow::<str>::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Activation {
    pub on: Day,
    pub how: How,
    pub commit: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// What the ledger keeps of a guardrail's metadata (from `guardrail.toml` and the registry).
#[derive(Debug, Clone)]
pub struct GuardrailFacts {
    pub title: String,
    pub severity: Severity,
    pub fixed_deadline: Option<Day>,
    pub grace_days: u32,
}

impl GuardrailFacts {
    fn record(&self, state: GuardrailState, develop_tree: String, first_observed: Day) -> GuardrailRecord {
        GuardrailRecord {
            state,
            title: self.title.clone(),
            severity: self.severity,
            develop_tree,
            first_observed,
            fixed_deadline: self.fixed_deadline,
            grace_days: self.grace_days,
            activation: None,
        }
    }
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
    /// Read from ledgers written before they were dropped, never written: a day that moved on
    /// every run made every entry change every day, so a daily observation rewrote the whole
    /// ledger (1,000 workload files for a fleet where nothing changed). The ledger's `clock` is
    /// when every registered workload was last observed; its history, when anything changed.
    #[serde(default, skip_serializing, rename = "last_seen")]
    pub legacy_last_seen: serde::de::IgnoredAny,
    /// See `legacy_last_seen`.
    #[serde(default, skip_serializing, rename = "last_observed")]
    pub legacy_last_observed: serde::de::IgnoredAny,
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
    /// Events waiting for a periodic digest (`<key>@<channel>`), see [`Ledger::digests`].
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub queued: BTreeMap<String, Queued>,
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

pub fn key(guardrail: &str, workload: &str) -> EntryKey {
    EntryKey::new(guardrail, workload)
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
    /// What the ledger last recorded of `guardrail` on each of `workloads`, as exception
    /// staleness reads it: a workload never observed, or whose last evaluation could not be
    /// trusted, is unknown (and keeps its exceptions from being called stale).
    pub fn observed<'a>(
        &'a self,
        guardrail: &str,
        workloads: impl IntoIterator<Item = &'a str>,
    ) -> Vec<crate::guardrail::exceptions::Observed<'a>> {
        use crate::guardrail::exceptions::Observed;
        workloads
            .into_iter()
            .map(|workload| match self.entries.get(&key(guardrail, workload)) {
                None => Observed {
                    workload,
                    unknown: true,
                    resources: Vec::new(),
                },
                Some(e) => Observed {
                    workload,
                    unknown: e.status == Verdict::Unknown,
                    resources: e
                        .findings
                        .iter()
                        .chain(&e.excepted)
                        .map(|f| f.resource.as_str())
                        .collect(),
                },
            })
            .collect()
    }

    pub fn new() -> Ledger {
        Ledger {
            version: VERSION,
            ..Default::default()
        }
    }

    /// Parses `ledger.json` (a layout 2 head, or a whole layout 1 ledger); a ledger that is
    /// not Railyard's is an error, never reset.
    pub fn parse(text: &str) -> Result<Ledger> {
        let ledger: Ledger = serde_json::from_str(text).map_err(|e| {
            anyhow::anyhow!(
                "{LEDGER}:{FILE}:{}: the ledger is malformed ({e}); it was not modified (hint: fix or revert the last commit on `{LEDGER}`)",
                e.line()
            )
        })?;
        match ledger.version {
            LEGACY_VERSION => {}
            VERSION if ledger.entries.is_empty() => {}
            VERSION => bail!(
                "{LEDGER}:{FILE}: a version {VERSION} ledger keeps its entries in `{WORKLOADS}/`, but this `{FILE}` has `entries`: it was not written by Railyard; it was not modified"
            ),
            v => bail!(
                "{LEDGER}:{FILE}: ledger version {v} is not supported by this Railyard (reads {LEGACY_VERSION} and {VERSION})"
            ),
        }
        Ok(ledger)
    }

    /// The whole ledger as one JSON document (the layout 1 form, with this ledger's version).
    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).expect("the ledger always serialises");
        s.push('\n');
        s
    }

    /// Moves the clock to `now`, refusing to go backwards: a backdated run could dodge a
    /// deadline, so the ledger's latest date is a floor. The hint tells apart a `--now` in
    /// the past from a ledger whose clock an earlier run moved ahead of real time.
    pub fn advance_clock(&mut self, now: Day) -> Result<()> {
        self.check_clock(now)?;
        self.clock = Some(now.max(self.clock.unwrap_or(now)));
        Ok(())
    }

    /// Whether the clock may advance to `now` (an error saying what to do when it may not).
    pub fn check_clock(&self, now: Day) -> Result<()> {
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
        let verdict = eval.verdict();
        let mut e = self.entries.remove(&k).unwrap_or_else(|| LedgerEntry {
            guardrail: eval.guardrail.clone(),
            workload: eval.workload.clone(),
            team: team.to_string(),
            status: verdict,
            findings: Vec::new(),
            excepted: Vec::new(),
            problems: Vec::new(),
            first_seen: None,
            deadline: None,
            legacy_last_seen: Default::default(),
            legacy_last_observed: Default::default(),
            resolved: None,
            activated: None,
            workload_commit: String::new(),
            notified: BTreeMap::new(),
            claimed: BTreeMap::new(),
            queued: BTreeMap::new(),
        });
        e.team = team.to_string();
        e.status = verdict;
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
        // before ids (it may stand for any of the resources now told apart by id). Indexed:
        // an entry can hold hundreds of findings.
        let mut by_id: HashMap<&str, Day> = HashMap::new();
        let mut by_address: HashMap<&str, Day> = HashMap::new();
        let mut by_address_without_id: HashMap<&str, Day> = HashMap::new();
        let (old_findings, old_excepted) = (std::mem::take(&mut e.findings), std::mem::take(&mut e.excepted));
        fn keep<'a>(map: &mut HashMap<&'a str, Day>, k: &'a str, day: Day) {
            map.entry(k).and_modify(|d| *d = (*d).min(day)).or_insert(day);
        }
        for o in old_findings.iter().chain(&old_excepted) {
            keep(&mut by_address, &o.resource, o.first_seen);
            match o.id.is_empty() {
                true => keep(&mut by_address_without_id, &o.resource, o.first_seen),
                false => keep(&mut by_id, &o.id, o.first_seen),
            }
        }
        let earlier = |f: &Finding| match f.id.is_empty() {
            true => by_address.get(f.resource.as_str()).copied(),
            false => {
                let same = by_id.get(f.id.as_str()).copied();
                let older = by_address_without_id.get(f.resource.as_str()).copied();
                same.into_iter().chain(older).min()
            }
        };
        let record = |f: &Finding| RecordedFinding {
            resource: f.resource.clone(),
            id: f.id.clone(),
            file: f.file.clone(),
            line: f.line,
            message: f.message.clone(),
            first_seen: earlier(f).unwrap_or(now),
            exception_expires: f.exception.as_ref().map(|x| x.expires),
        };
        e.findings = eval.findings.iter().map(record).collect();
        e.excepted = eval.excepted.iter().map(record).collect();
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
            // A streak's deadline, once recorded, stays: only an explicit, recorded decision
            // (a forced promotion) changes when a workload fails.
            e.deadline = Some(e.deadline.unwrap_or_else(|| deadline_for(e.first_seen.unwrap_or(now))));
        }
        self.entries.insert(k, e);
    }

    /// Records an evaluation of a guardrail already active on `main`: its deadline, and the
    /// day it became active for the workload, are the guardrail's activation day.
    pub fn record_active(&mut self, eval: &Evaluation, team: &str, workload_commit: &str, activated: Day, now: Day) {
        self.record(eval, team, workload_commit, |_| activated, now);
        if let Some(e) = self.entries.get_mut(&key(&eval.guardrail, &eval.workload)) {
            e.activated.get_or_insert(activated);
        }
    }

    /// Notes that a guardrail on `develop` is also on `main` (active), creating its record
    /// if it has none. Returns the day it became active.
    pub fn observe_active(&mut self, id: &str, facts: &GuardrailFacts, now: Day) -> Day {
        let rec = self
            .guardrails
            .entry(id.to_string())
            .or_insert_with(|| facts.record(GuardrailState::Active, String::new(), now));
        rec.state = GuardrailState::Active;
        rec.activation.as_ref().map(|a| a.on).unwrap_or(rec.first_observed)
    }

    /// Notes that a candidate guardrail (tree `develop_tree` on `develop`) is being
    /// observed: pending. A new version of it starts a new observation.
    pub fn observe_pending(&mut self, id: &str, facts: &GuardrailFacts, develop_tree: &str, now: Day) {
        let rec = self
            .guardrails
            .entry(id.to_string())
            .or_insert_with(|| facts.record(GuardrailState::Pending, develop_tree.to_string(), now));
        if rec.develop_tree != develop_tree || rec.state != GuardrailState::Pending {
            rec.state = GuardrailState::Pending;
            rec.develop_tree = develop_tree.to_string();
            rec.activation = None;
        }
        rec.title = facts.title.clone();
        rec.severity = facts.severity;
        rec.fixed_deadline = facts.fixed_deadline;
        rec.grace_days = facts.grace_days;
    }

    /// Records that a guardrail reached `main` (or, `removed`, left it), with how; every
    /// entry of it is active from then on. A guardrail without a record gets one from
    /// `facts` (none: nothing is known of it to record).
    pub fn record_activation(
        &mut self,
        id: &str,
        activation: Activation,
        develop_tree: String,
        removed: bool,
        facts: Option<GuardrailFacts>,
    ) {
        let on = activation.on;
        if let Some(rec) = self.guardrails.get_mut(id) {
            rec.state = if removed {
                GuardrailState::Removed
            } else {
                GuardrailState::Active
            };
            rec.develop_tree = develop_tree;
            rec.activation = Some(activation);
        } else if let Some(facts) = facts {
            let mut rec = facts.record(GuardrailState::Active, develop_tree, on);
            rec.activation = Some(activation);
            self.guardrails.insert(id.to_string(), rec);
        }
        for e in self.entries.values_mut().filter(|e| e.guardrail == id) {
            if !removed && e.activated.is_none() {
                e.activated = Some(on);
            }
        }
    }

    /// Marks active each pending guardrail whose observed tree is on `main` (commit `main`;
    /// `tree_on_main` gives a guardrail's tree there) without a recorded activation: a run
    /// killed between promoting and recording, or a hand merge.
    pub fn reconcile(
        &mut self,
        main: &str,
        mut tree_on_main: impl FnMut(&str) -> Result<Option<String>>,
    ) -> Result<()> {
        let on = self.clock.unwrap_or_else(Day::today);
        for (id, rec) in self.guardrails.iter_mut() {
            if rec.state != GuardrailState::Pending {
                continue;
            }
            let on_main = tree_on_main(id)?;
            if on_main.as_deref() == Some(rec.develop_tree.as_str()) && rec.activation.is_none() {
                rec.state = GuardrailState::Active;
                rec.activation = Some(Activation {
                    on,
                    how: How::Reconciled,
                    commit: main.to_string(),
                    by: None,
                    reason: Some("found on main without a ledger record (an earlier run was interrupted, or someone merged it by hand)".into()),
                });
            }
        }
        Ok(())
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
    pub fn load(repo: &GuardrailsRepo) -> Result<(std::sync::Arc<Ledger>, Option<String>)> {
        let tip = repo.tip(LEDGER)?;
        check_tip(repo, tip.as_deref())?;
        match tip {
            None => Ok((std::sync::Arc::new(Ledger::new()), None)),
            Some(tip) => Ok((Stored::read(repo, &tip)?.ledger.clone(), Some(tip))),
        }
    }

    /// The ledger as recorded at `commit` of the ledger branch (no seal check).
    pub fn read_at(repo: &GuardrailsRepo, commit: &str) -> Result<Ledger> {
        Ok((*Stored::read(repo, commit)?.ledger).clone())
    }

    /// Applies `change` to the latest ledger and commits it by compare-and-swap, retrying
    /// on a lost race. Returns the new ledger (and whether a commit was made). Only the
    /// files whose content changed are written.
    pub fn update<F>(repo: &GuardrailsRepo, message: &str, mut change: F) -> Result<(std::sync::Arc<Ledger>, bool)>
    where
        F: FnMut(&mut Ledger) -> Result<()>,
    {
        let mut result = None;
        let committed = repo.update_branch(LEDGER, |repo, tip| {
            // Re-checked on every attempt: the branch may have moved since it was read.
            check_tip(repo, tip)?;
            let stored = match tip {
                None => std::sync::Arc::new(Stored::default()),
                Some(tip) => Stored::read(repo, tip)?,
            };
            let mut ledger = (*stored.ledger).clone();
            change(&mut ledger)?;
            let changed = ledger != *stored.ledger;
            let ledger = std::sync::Arc::new(ledger);
            let commit = if changed || tip.is_none() {
                let parents: Vec<&str> = tip.into_iter().collect();
                let message = match stored.legacy {
                    true => format!("{message}\n\nLedger-Layout: {VERSION} (moved from one `{FILE}` to one file per workload under `{WORKLOADS}/`)\n"),
                    false => message.to_string(),
                };
                let (commit, now) = stored.commit(repo, &ledger, &parents, &message)?;
                Stored::remember(repo, &commit, now);
                Some(commit)
            } else {
                None
            };
            result = Some(ledger);
            Ok(commit)
        })?;
        Ok((result.expect("the update ran at least once"), committed.is_some()))
    }

    /// Commits exactly this ledger's files on `parents` (nothing of the parent's tree is
    /// kept), sealed with `key` when given: how an accepted hand edit is written.
    pub fn commit_whole(
        repo: &GuardrailsRepo,
        ledger: &Ledger,
        parents: &[&str],
        key: Option<&SealKey>,
        message: &str,
    ) -> Result<String> {
        let changes: Vec<(String, Option<Vec<u8>>)> = ledger.files().into_iter().map(|(p, b)| (p, Some(b))).collect();
        commit_changes(repo, None, &changes, parents, key, message)
    }

    /// The files of layout 2: the head, one file per workload, the summary.
    pub fn files(&self) -> Vec<(String, Vec<u8>)> {
        let mut out = vec![(FILE.to_string(), self.head_file())];
        for (workload, entries) in self.by_workload() {
            out.push((workload_path(workload), workload_file(workload, entries)));
        }
        if let Some(summary) = self.summary() {
            out.push((SUMMARY.to_string(), pretty(&summary)));
        }
        out
    }

    fn head_file(&self) -> Vec<u8> {
        pretty(&Ledger {
            version: VERSION,
            clock: self.clock,
            guardrails: self.guardrails.clone(),
            entries: BTreeMap::new(),
            digests: self.digests.clone(),
        })
    }

    /// The entries grouped as they are filed: per workload, by guardrail.
    fn by_workload(&self) -> BTreeMap<&str, BTreeMap<&str, &LedgerEntry>> {
        let mut by_workload: BTreeMap<&str, BTreeMap<&str, &LedgerEntry>> = BTreeMap::new();
        for e in self.entries.values() {
            by_workload.entry(&e.workload).or_default().insert(&e.guardrail, e);
        }
        by_workload
    }

    /// The counts per guardrail on the clock's day (None before any run set the clock).
    pub fn summary(&self) -> Option<Summary> {
        let day = self.clock?;
        let mut guardrails: BTreeMap<String, Counts> = BTreeMap::new();
        for e in self.entries.values() {
            guardrails.entry(e.guardrail.clone()).or_default().add(e, day);
        }
        Some(Summary {
            version: VERSION,
            day,
            guardrails,
        })
    }
}

fn pretty<T: Serialize>(value: &T) -> Vec<u8> {
    let mut s = serde_json::to_vec_pretty(value).expect("ledger records always serialise");
    s.push(b'\n');
    s
}

/// `workloads/<name>.json`, with any byte outside `[A-Za-z0-9._-]` written `%XX`, so every
/// workload name (registries restrict them; old ledgers may not) is one safe file name.
pub fn workload_path(workload: &str) -> String {
    let mut name = String::with_capacity(workload.len() + 5);
    for b in workload.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'.' | b'_' | b'-' => name.push(b as char),
            _ => name.push_str(&format!("%{b:02X}")),
        }
    }
    format!("{WORKLOADS}/{name}.json")
}

fn workload_file(workload: &str, entries: BTreeMap<&str, &LedgerEntry>) -> Vec<u8> {
    pretty(&WorkloadFileRef {
        version: VERSION,
        workload,
        entries,
    })
}

#[derive(Serialize)]
struct WorkloadFileRef<'a> {
    version: u32,
    workload: &'a str,
    entries: BTreeMap<&'a str, &'a LedgerEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WorkloadFile {
    version: u32,
    workload: String,
    entries: BTreeMap<String, LedgerEntry>,
}

/// A ledger as read from a commit, with what is needed to write the next one: whether it
/// is in layout 1 (then the next commit migrates it) and the blob id of each file, so that
/// only changed files are written.
#[derive(Default)]
struct Stored {
    /// Shared with the callers of [`Ledger::load`]: a fleet's ledger is held once.
    ledger: std::sync::Arc<Ledger>,
    legacy: bool,
    blobs: BTreeMap<String, String>,
}

/// The ledger last read or written by this process, by (repository, commit): commits never
/// change, so a run that reads the ledger, updates it and updates it again parses it once.
type Memo = Option<(std::path::PathBuf, String, std::sync::Arc<Stored>)>;
static LAST: std::sync::Mutex<Memo> = std::sync::Mutex::new(None);

impl Stored {
    fn read(repo: &GuardrailsRepo, commit: &str) -> Result<std::sync::Arc<Stored>> {
        if let Ok(last) = LAST.lock() {
            if let Some((path, c, stored)) = last.as_ref() {
                if c == commit && path == repo.path() {
                    return Ok(stored.clone());
                }
            }
        }
        let stored = std::sync::Arc::new(Stored::parse(repo, commit)?);
        if let Ok(mut last) = LAST.lock() {
            *last = Some((repo.path().to_path_buf(), commit.to_string(), stored.clone()));
        }
        Ok(stored)
    }

    fn remember(repo: &GuardrailsRepo, commit: &str, stored: Stored) {
        if let Ok(mut last) = LAST.lock() {
            *last = Some((
                repo.path().to_path_buf(),
                commit.to_string(),
                std::sync::Arc::new(stored),
            ));
        }
    }

    fn parse(repo: &GuardrailsRepo, commit: &str) -> Result<Stored> {
        let head = repo.read_file(commit, FILE)?.with_context(|| {
            format!("branch `{LEDGER}` has no `{FILE}`: it was not written by Railyard; refusing to overwrite it")
        })?;
        let text = String::from_utf8(head).with_context(|| format!("{LEDGER}:{FILE}: the ledger is not UTF-8"))?;
        let mut ledger = Ledger::parse(&text)?;
        let files = repo.files_in(commit, WORKLOADS)?;
        let mut blobs = BTreeMap::new();
        if ledger.version == LEGACY_VERSION {
            if !files.is_empty() {
                bail!(
                    "{LEDGER}:{FILE}: a version {LEGACY_VERSION} ledger holds every entry, but the branch also has `{WORKLOADS}/`: two ledgers in one commit, so neither can be trusted; it was not modified (hint: revert the commit that mixed them, `git log {LEDGER}`)"
                );
            }
            ledger.version = VERSION;
            return Ok(Stored {
                ledger: ledger.into(),
                legacy: true,
                blobs,
            });
        }
        let mut texts = Vec::with_capacity(files.len());
        for crate::gitops::FolderFile { name, blob, bytes } in files {
            let path = format!("{WORKLOADS}/{name}");
            let Some(bytes) = bytes.filter(|_| name.ends_with(".json")) else {
                bail!("{LEDGER}:{path}: not a ledger file (only `{WORKLOADS}/<workload>.json` files are written by Railyard); it was not modified");
            };
            blobs.insert(path.clone(), blob);
            texts.push((path, bytes));
        }
        ledger.entries.extend(parse_workload_files(&texts)?);
        if let Some(blob) = repo.tree_id(commit, SUMMARY)? {
            blobs.insert(SUMMARY.to_string(), blob);
        }
        Ok(Stored {
            ledger: ledger.into(),
            legacy: false,
            blobs,
        })
    }

    /// Commits `ledger` on `parents`, writing only the files that differ from what was read
    /// (all of them when migrating), sealed with the repository's key if it has one. A
    /// workload whose entries are unchanged is not even serialised. Returns the commit and
    /// the ledger as now stored.
    fn commit(
        &self,
        repo: &GuardrailsRepo,
        ledger: &std::sync::Arc<Ledger>,
        parents: &[&str],
        message: &str,
    ) -> Result<(String, Stored)> {
        let mut changes: Vec<(String, Option<Vec<u8>>)> = Vec::new();
        let mut blobs = BTreeMap::new();
        let mut put = |path: String, bytes: Vec<u8>, blobs: &mut BTreeMap<String, String>| -> Result<()> {
            let id = git2::Oid::hash_object(git2::ObjectType::Blob, &bytes)?.to_string();
            if self.blobs.get(&path) != Some(&id) {
                changes.push((path.clone(), Some(bytes)));
            }
            blobs.insert(path, id);
            Ok(())
        };
        put(FILE.to_string(), ledger.head_file(), &mut blobs)?;
        if let Some(summary) = ledger.summary() {
            put(SUMMARY.to_string(), pretty(&summary), &mut blobs)?;
        }
        let before = self.ledger.by_workload();
        for (workload, entries) in ledger.by_workload() {
            let path = workload_path(workload);
            match self.blobs.get(&path) {
                Some(id) if before.get(workload) == Some(&entries) => {
                    blobs.insert(path, id.clone());
                }
                _ => put(path, workload_file(workload, entries), &mut blobs)?,
            }
        }
        for path in self.blobs.keys().filter(|p| !blobs.contains_key(*p)) {
            changes.push((path.clone(), None));
        }
        let base = parents.first().copied();
        let commit = commit_changes(repo, base, &changes, parents, repo.seal_key(), message)?;
        let stored = Stored {
            ledger: ledger.clone(),
            legacy: false,
            blobs,
        };
        Ok((commit, stored))
    }
}

/// Writes `base`'s tree with `changes` applied and commits it on `parents`, sealed over the
/// tree with `key` when given: the one way a layout 2 ledger commit is made.
fn commit_changes(
    repo: &GuardrailsRepo,
    base: Option<&str>,
    changes: &[(String, Option<Vec<u8>>)],
    parents: &[&str],
    key: Option<&SealKey>,
    message: &str,
) -> Result<String> {
    let tree = repo.write_tree(base, changes)?;
    let message = match key {
        Some(key) => seal_message(repo, key, parents, Sealed::Tree(&tree), message)?,
        None => message.to_string(),
    };
    repo.commit_tree(parents, &tree, &message)
}

/// Parses per-workload files (by several threads when there are many), checking that each
/// names the workload its file name says and that each entry sits under its guardrail.
fn parse_workload_files(texts: &[(String, Vec<u8>)]) -> Result<Vec<(EntryKey, LedgerEntry)>> {
    let one = |(path, bytes): &(String, Vec<u8>)| -> Result<Vec<(EntryKey, LedgerEntry)>> {
        let file: WorkloadFile = serde_json::from_slice(bytes).map_err(|e| {
            anyhow::anyhow!(
                "{LEDGER}:{path}:{}: the ledger is malformed ({e}); it was not modified (hint: fix or revert the last commit on `{LEDGER}`)",
                e.line()
            )
        })?;
        if file.version != VERSION {
            bail!(
                "{LEDGER}:{path}: version {} is not supported by this Railyard (expects {VERSION})",
                file.version
            );
        }
        if workload_path(&file.workload) != *path {
            bail!(
                "{LEDGER}:{path}: holds workload `{}`, whose file is `{}`: it was not written by Railyard; it was not modified",
                file.workload,
                workload_path(&file.workload)
            );
        }
        let mut out = Vec::with_capacity(file.entries.len());
        for (guardrail, e) in file.entries {
            if e.guardrail != guardrail || e.workload != file.workload {
                bail!(
                    "{LEDGER}:{path}: the entry under `{guardrail}` is for `{}/{}`: it was not written by Railyard; it was not modified",
                    e.guardrail,
                    e.workload
                );
            }
            out.push((key(&guardrail, &file.workload), e));
        }
        Ok(out)
    };
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(8);
    if texts.len() < 64 || threads < 2 {
        return Ok(texts.iter().map(one).collect::<Result<Vec<_>>>()?.concat());
    }
    let chunk = texts.len().div_ceil(threads);
    std::thread::scope(|scope| {
        let handles: Vec<_> = texts
            .chunks(chunk)
            .map(|part| {
                scope.spawn(move || Ok::<_, anyhow::Error>(part.iter().map(one).collect::<Result<Vec<_>>>()?.concat()))
            })
            .collect();
        let mut all = Vec::with_capacity(texts.len());
        for h in handles {
            all.extend(h.join().map_err(|_| anyhow::anyhow!("a ledger reader panicked"))??);
        }
        Ok(all)
    })
}

/// Counts of (guardrail, workload) pairs and of findings, as one revision records them on
/// its day: what the dashboard's history shows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Counts {
    /// Findings that count against workloads on the revision's day.
    pub open_findings: usize,
    /// Findings waived by an exception still valid on that day.
    pub excepted_findings: usize,
    /// Pairs: noncompliant, excepted, compliant, unknown (could not be evaluated).
    pub noncompliant: usize,
    pub excepted: usize,
    pub compliant: usize,
    pub unknown: usize,
    /// Pairs whose noncompliance was fixed (recorded `resolved`, compliant or excepted since).
    pub fixed: usize,
}

impl Counts {
    pub fn add(&mut self, e: &LedgerEntry, day: Day) {
        let failing = e.failing_on(day).len();
        self.open_findings += failing;
        self.excepted_findings += e.waived_on_day(day).len();
        let status = e.status_on(day);
        match status {
            Verdict::Noncompliant => self.noncompliant += 1,
            Verdict::Excepted => self.excepted += 1,
            Verdict::Compliant => self.compliant += 1,
            Verdict::Unknown => self.unknown += 1,
        }
        if e.resolved.is_some() && matches!(status, Verdict::Compliant | Verdict::Excepted) {
            self.fixed += 1;
        }
    }
}

impl std::ops::AddAssign for Counts {
    fn add_assign(&mut self, o: Counts) {
        self.open_findings += o.open_findings;
        self.excepted_findings += o.excepted_findings;
        self.noncompliant += o.noncompliant;
        self.excepted += o.excepted;
        self.compliant += o.compliant;
        self.unknown += o.unknown;
        self.fixed += o.fixed;
    }
}

/// `summary.json`: each guardrail's [`Counts`] on the day of the run that wrote it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Summary {
    pub version: u32,
    pub day: Day,
    pub guardrails: BTreeMap<String, Counts>,
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
        let err = Ledger::parse("{\"version\": 3}").unwrap_err().to_string();
        assert!(err.contains("ledger version 3"), "{err}");
        // Layout 2 keeps entries in per-workload files: a head with entries is not Railyard's.
        let mixed = "{\"version\": 2, \"entries\": {\"g/w\": {\"guardrail\": \"g\", \"workload\": \"w\", \"status\": \"compliant\", \"last_observed\": \"2026-11-01\"}}}";
        let err = Ledger::parse(mixed).unwrap_err().to_string();
        assert!(err.contains("keeps its entries in `workloads/`"), "{err}");
        let ok = Ledger::new().to_json();
        assert_eq!(Ledger::parse(&ok).unwrap(), Ledger::new());
    }

    #[test]
    fn layout_2_files_hold_the_whole_ledger_and_name_workloads_safely() {
        assert_eq!(workload_path("web-1.a_b"), "workloads/web-1.a_b.json");
        assert_eq!(workload_path("team/w"), "workloads/team%2Fw.json");
        assert_eq!(workload_path("a b"), "workloads/a%20b.json");
        let mut ledger = Ledger::new();
        ledger.clock = Some(day("2026-11-01"));
        ledger.observe_pending("g", &facts(), "tree", day("2026-11-01"));
        for w in ["web", "team/w"] {
            let eval = Evaluation {
                guardrail: "g".into(),
                workload: w.into(),
                findings: Vec::new(),
                excepted: Vec::new(),
                problems: Vec::new(),
            };
            ledger.record(&eval, "team", "c0ffee", |d| d, day("2026-11-01"));
        }
        let files = ledger.files();
        let paths: Vec<&str> = files.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(paths, [FILE, "workloads/team%2Fw.json", "workloads/web.json", SUMMARY]);
        // The head holds no entries; each file holds its workload's, and they read back whole.
        let head = Ledger::parse(std::str::from_utf8(&files[0].1).unwrap()).unwrap();
        assert!(head.entries.is_empty() && head.guardrails.contains_key("g"));
        let texts: Vec<(String, Vec<u8>)> = files[1..3].to_vec();
        let mut back = head.clone();
        back.entries.extend(parse_workload_files(&texts).unwrap());
        assert_eq!(back, ledger);
        let summary: Summary = serde_json::from_slice(&files[3].1).unwrap();
        assert_eq!(summary.guardrails["g"].compliant, 2);
        // A file under another workload's name is refused.
        let swapped = vec![("workloads/web.json".to_string(), files[1].1.clone())];
        let err = parse_workload_files(&swapped).unwrap_err().to_string();
        assert!(err.contains("holds workload `team/w`"), "{err}");
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
        let e = &ledger.entries[&key("g", "w")];
        assert_eq!(e.status, Verdict::Unknown);
        assert_eq!(
            e.problems,
            ["cannot fetch from https://***@git.example.com/a.git: 401".to_string()]
        );
        assert!(!ledger.to_json().contains("s3cr3t"));
    }

    #[test]
    fn activations_written_before_the_enum_read_and_write_the_same_words() {
        for word in ["observed", "removed", "deadline", "forced", "reconciled"] {
            let json = format!("{{\"on\": \"2026-11-01\", \"how\": \"{word}\", \"commit\": \"abc\"}}");
            let a: Activation = serde_json::from_str(&json).unwrap();
            assert_eq!(a.how.to_string(), word);
            assert_eq!(serde_json::to_value(&a).unwrap()["how"], word);
        }
        let err = serde_json::from_str::<Activation>("{\"on\": \"2026-11-01\", \"how\": \"magic\", \"commit\": \"\"}");
        assert!(err.unwrap_err().to_string().contains("magic"));
    }

    #[test]
    fn entry_keys_keep_their_written_form_and_order() {
        let old = r#"{
  "version": 1,
  "entries": {
    "a-b/w": {"guardrail": "a-b", "workload": "w", "status": "compliant", "last_observed": "2026-11-01"},
    "a/team/w": {"guardrail": "a", "workload": "team/w", "status": "compliant", "last_observed": "2026-11-01"}
  }
}
"#;
        let ledger = Ledger::parse(old).unwrap();
        let keys: Vec<String> = ledger.entries.keys().map(|k| k.to_string()).collect();
        // As the strings sort ('-' before '/'), not as (guardrail, workload) would.
        assert_eq!(keys, ["a-b/w", "a/team/w"]);
        assert_eq!(ledger.entries[&key("a", "team/w")].workload, "team/w");
        let written = ledger.to_json();
        assert!(written.find("\"a-b/w\"").unwrap() < written.find("\"a/team/w\"").unwrap());
        assert_eq!(Ledger::parse(&written).unwrap(), ledger);
        let err = Ledger::parse("{\"version\": 1, \"entries\": {\"nokey\": {}}}")
            .unwrap_err()
            .to_string();
        assert!(err.contains("`nokey` is not `guardrail/workload`"), "{err}");
    }

    fn facts() -> GuardrailFacts {
        GuardrailFacts {
            title: "t".into(),
            severity: Severity::High,
            fixed_deadline: None,
            grace_days: 30,
        }
    }

    #[test]
    fn the_ledger_owns_a_guardrails_way_from_pending_to_active() {
        let mut ledger = Ledger::new();
        let (d1, d2) = (day("2026-11-01"), day("2026-11-05"));
        ledger.observe_pending("g", &facts(), "tree1", d1);
        assert_eq!(ledger.guardrails["g"].state, GuardrailState::Pending);
        assert_eq!(ledger.activation_day("g"), Some(day("2026-12-01")));
        // A kill between promoting and recording: reconciled from main.
        ledger.clock = Some(d2);
        ledger
            .reconcile("c0ffee", |id| Ok((id == "g").then(|| "tree1".to_string())))
            .unwrap();
        let a = ledger.guardrails["g"].activation.clone().unwrap();
        assert_eq!((a.how, a.on, a.commit.as_str()), (How::Reconciled, d2, "c0ffee"));
        // A new version on develop starts a new observation.
        ledger.observe_pending("g", &facts(), "tree2", d2);
        let rec = &ledger.guardrails["g"];
        assert_eq!(
            (rec.state, rec.activation.is_none(), rec.first_observed),
            (GuardrailState::Pending, true, d1)
        );
        let forced = Activation {
            on: d2,
            how: How::Forced,
            commit: "abc".into(),
            by: Some("sec".into()),
            reason: Some("why".into()),
        };
        ledger.record_activation("g", forced.clone(), "tree2".into(), false, None);
        assert_eq!(ledger.guardrails["g"].state, GuardrailState::Active);
        assert_eq!(ledger.observe_active("g", &facts(), day("2026-11-09")), d2);
        // Nothing known of a guardrail, nothing recorded; with facts, a record.
        ledger.record_activation("h", forced.clone(), String::new(), false, None);
        assert!(!ledger.guardrails.contains_key("h"));
        ledger.record_activation("h", forced, String::new(), false, Some(facts()));
        assert_eq!(ledger.guardrails["h"].first_observed, d2);
    }
}
