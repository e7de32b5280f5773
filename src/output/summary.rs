//! The fleet summary `observe` prints for people (table and Markdown): one line per
//! guardrail with its decision and why, one per team, the unknowns by name, each list
//! bounded so that 1,000 workloads fit a screen. What is left out is counted and the output
//! says how to see it (`--details`, `railyard report`); an unknown is always counted and, up
//! to the bound, named with its reason. Shared by both renderers so they say the same.

use crate::date::Day;
use crate::report::observe::{Action, CandidateResult, GuardrailLine, ObserveReport, State};
use crate::report::plural;
use crate::report::release::Change;
use std::collections::{BTreeMap, BTreeSet};

/// Teams listed without `--details` (the most findings first).
pub(crate) const TEAMS: usize = 20;
/// Unknown groups (a workload and one reason) listed without `--details`.
pub(crate) const UNKNOWNS: usize = 20;
/// Stale exceptions listed without `--details`.
pub(crate) const STALE: usize = 10;
/// Problems listed per candidate without `--details`.
pub(crate) const PROBLEMS: usize = 5;

/// How a decision reads: good news, waiting, or a problem (the renderers colour or bold it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tone {
    Good,
    Wait,
    Bad,
    Plain,
}

/// The guardrails the summary shows: every candidate, and each active guardrail that some
/// workload fails or could not be evaluated on (an active guardrail everyone passes is
/// counted in [`quiet_active`], not listed).
pub(crate) fn lines(r: &ObserveReport) -> Vec<&GuardrailLine> {
    r.guardrails
        .iter()
        .filter(|l| l.state != State::Active || l.noncompliant + l.unknown > 0)
        .collect()
}

/// Active guardrails every workload passes (or is excepted from).
pub(crate) fn quiet_active(r: &ObserveReport) -> usize {
    r.guardrails
        .iter()
        .filter(|l| l.state == State::Active && l.noncompliant + l.unknown == 0)
        .count()
}

/// `new`, `changed`, `removed`, `active`.
pub(crate) fn state(s: State) -> &'static str {
    match s {
        State::Active => "active",
        State::Candidate(Change::New) => "new",
        State::Candidate(Change::Changed) => "changed",
        State::Candidate(Change::Removed) => "removed",
    }
}

/// The earliest day one of guardrail `id`'s noncompliant workloads starts failing.
pub(crate) fn earliest_deadline(r: &ObserveReport, id: &str) -> Option<Day> {
    r.to_fix
        .iter()
        .filter(|f| f.guardrail == id)
        .filter_map(|f| f.deadline)
        .min()
}

/// What this run decided for a guardrail, and why, in words.
pub(crate) fn decision(r: &ObserveReport, l: &GuardrailLine) -> (Tone, String) {
    let Some(c) = r.candidates.iter().find(|c| c.id == l.id) else {
        return match (l.noncompliant, l.unknown) {
            (0, u) => (Tone::Bad, format!("{u} unknown")),
            (n, 0) => (Tone::Bad, format!("{n} failing now")),
            (n, u) => (Tone::Bad, format!("{n} failing now, {u} unknown")),
        };
    };
    candidate_decision(r, c)
}

fn candidate_decision(r: &ObserveReport, c: &CandidateResult) -> (Tone, String) {
    // The day the first team starts failing, when it is before the guardrail activates.
    let first = earliest_deadline(r, &c.id)
        .filter(|d| Some(*d) != c.deadline)
        .map(|d| format!(", first deadline {d}"))
        .unwrap_or_default();
    let until = c.deadline.map(|d| format!(" until {d}")).unwrap_or_default();
    match c.action {
        Action::Promoted => {
            let commit = c.commit.as_deref().map(|x| format!(" ({})", &x[..x.len().min(7)]));
            (
                Tone::Good,
                format!("promoted{}: breaks nobody", commit.unwrap_or_default()),
            )
        }
        Action::WouldPromote => (Tone::Good, "would-promote: breaks nobody".into()),
        Action::Held if !c.problems.is_empty() => (Tone::Bad, format!("held{until}: its own fixtures fail")),
        Action::Held => (
            Tone::Wait,
            format!("held{until}: {} failing{first}", plural(c.noncompliant, "workload")),
        ),
        Action::Blocked => (
            Tone::Bad,
            format!(
                "blocked: {} could not be evaluated, never read as compliant",
                plural(c.unknown, "workload")
            ),
        ),
        Action::Broken => (Tone::Bad, "broken: does not load".into()),
        Action::Removed => (Tone::Plain, "taken off main".into()),
    }
}

/// One team's share of the noncompliance and the unknowns.
pub(crate) struct Team<'a> {
    pub name: &'a str,
    /// Workloads with a finding or an unknown.
    pub workloads: usize,
    pub findings: usize,
    /// (guardrail, workload) results that could not be evaluated.
    pub unknown: usize,
    pub deadline: Option<Day>,
    pub guardrails: BTreeSet<&'a str>,
}

/// Every team with a finding or an unknown, the most findings (then unknowns) first.
pub(crate) fn teams(r: &ObserveReport) -> Vec<Team<'_>> {
    let mut by: BTreeMap<&str, (Team, BTreeSet<&str>)> = BTreeMap::new();
    fn slot<'m, 'a>(
        by: &'m mut BTreeMap<&'a str, (Team<'a>, BTreeSet<&'a str>)>,
        team: &'a str,
    ) -> &'m mut (Team<'a>, BTreeSet<&'a str>) {
        by.entry(team).or_insert_with(|| {
            let t = Team {
                name: team,
                workloads: 0,
                findings: 0,
                unknown: 0,
                deadline: None,
                guardrails: BTreeSet::new(),
            };
            (t, BTreeSet::new())
        })
    }
    for f in &r.to_fix {
        let (t, w) = slot(&mut by, &f.team);
        w.insert(f.workload.as_str());
        t.guardrails.insert(f.guardrail.as_str());
        t.findings += 1;
        t.deadline = match (t.deadline, f.deadline) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
    }
    for u in &r.unknowns {
        let (t, w) = slot(&mut by, &u.team);
        w.insert(u.workload.as_str());
        t.guardrails.insert(u.guardrail.as_str());
        t.unknown += 1;
    }
    let mut teams: Vec<Team> = by
        .into_values()
        .map(|(mut t, w)| {
            t.workloads = w.len();
            t
        })
        .collect();
    teams.sort_by(|a, b| {
        (b.findings, b.unknown)
            .cmp(&(a.findings, a.unknown))
            .then(a.name.cmp(b.name))
    });
    teams
}

/// The unknowns of one workload that share their reasons (an unreadable workload: every
/// guardrail; a policy error: that guardrail).
pub(crate) struct UnknownGroup<'a> {
    pub workload: &'a str,
    pub team: &'a str,
    pub guardrails: Vec<&'a str>,
    pub reasons: &'a [String],
}

/// How many of `groups` unknown groups a renderer lists: all with `--details`, else at most
/// [`UNKNOWNS`] (the rest are counted, never dropped).
pub(crate) fn unknowns_shown(r: &ObserveReport, groups: usize) -> usize {
    if r.details {
        groups
    } else {
        UNKNOWNS.min(groups)
    }
}

/// The unknowns grouped per workload and reason, in the order they were observed.
pub(crate) fn unknown_groups(r: &ObserveReport) -> Vec<UnknownGroup<'_>> {
    let mut groups: Vec<UnknownGroup> = Vec::new();
    let mut at: BTreeMap<(&str, &[String]), usize> = BTreeMap::new();
    for u in &r.unknowns {
        let key = (u.workload.as_str(), u.reasons.as_slice());
        match at.get(&key) {
            Some(i) => groups[*i].guardrails.push(&u.guardrail),
            None => {
                at.insert(key, groups.len());
                groups.push(UnknownGroup {
                    workload: &u.workload,
                    team: &u.team,
                    guardrails: vec![&u.guardrail],
                    reasons: &u.reasons,
                });
            }
        }
    }
    groups
}

/// `every guardrail`, `aws-a, aws-b`, or `12 guardrails (aws-a, aws-b, aws-c, …)`.
pub(crate) fn guardrail_names(r: &ObserveReport, names: &[&str]) -> String {
    let on_develop = r
        .guardrails
        .iter()
        .filter(|l| l.state != State::Candidate(Change::Removed))
        .count();
    match names.len() {
        n if n == on_develop && n > 1 => "every guardrail".into(),
        n if n <= 3 => names.join(", "),
        n => format!("{n} guardrails ({}, …)", names[..3].join(", ")),
    }
}

/// The reasons of an unknown, joined; "no reason recorded" rather than nothing.
pub(crate) fn reasons(reasons: &[String]) -> String {
    match reasons.is_empty() {
        true => "no reason recorded".into(),
        false => reasons.join("; "),
    }
}

/// Workloads with at least one unknown.
pub(crate) fn unknown_workloads(r: &ObserveReport) -> usize {
    r.unknowns
        .iter()
        .map(|u| u.workload.as_str())
        .collect::<BTreeSet<_>>()
        .len()
}

/// The closing line of a summary that left findings out: how to see each one.
pub(crate) fn pointer(r: &ObserveReport, listed: usize) -> Option<String> {
    let left = r.to_fix.len().checked_sub(listed).filter(|n| *n > 0)?;
    let workloads = r
        .to_fix
        .iter()
        .map(|f| f.workload.as_str())
        .collect::<BTreeSet<_>>()
        .len();
    let what = match listed {
        0 => format!(
            "{} on {} not listed here",
            plural(left, "finding"),
            plural(workloads, "workload")
        ),
        _ => format!("{} more not listed", plural(left, "finding")),
    };
    Some(format!(
        "{what}: `--details` lists every one, `railyard report --team NAME` a team's, `--format json` all of them."
    ))
}

/// `enforce` lists (upcoming deadlines, exceptions, workloads an activation fails) printed
/// in full up to this many items without `--details`; longer ones are summarised.
pub(crate) const ENFORCE_LIST: usize = 20;

/// One pending guardrail's upcoming deadlines, over every workload it will fail.
pub(crate) struct UpcomingGroup<'a> {
    pub guardrail: &'a str,
    pub workloads: usize,
    pub teams: BTreeSet<&'a str>,
    pub findings: usize,
    pub first: Day,
    pub last: Day,
    pub days_left: i64,
    /// Workloads whose reminder is due today.
    pub reminders: usize,
}

/// The upcoming deadlines per guardrail, the soonest first.
pub(crate) fn upcoming_groups(r: &crate::report::enforce::EnforceReport) -> Vec<UpcomingGroup<'_>> {
    let mut by: BTreeMap<&str, UpcomingGroup> = BTreeMap::new();
    for u in &r.upcoming {
        let g = by.entry(u.guardrail.as_str()).or_insert_with(|| UpcomingGroup {
            guardrail: &u.guardrail,
            workloads: 0,
            teams: BTreeSet::new(),
            findings: 0,
            first: u.deadline,
            last: u.deadline,
            days_left: u.days_left,
            reminders: 0,
        });
        g.workloads += 1;
        g.teams.insert(&u.team);
        g.findings += u.findings;
        g.first = g.first.min(u.deadline);
        g.last = g.last.max(u.deadline);
        g.days_left = g.days_left.min(u.days_left);
        g.reminders += usize::from(u.remind);
    }
    let mut groups: Vec<UpcomingGroup> = by.into_values().collect();
    groups.sort_by(|a, b| a.first.cmp(&b.first).then(a.guardrail.cmp(b.guardrail)));
    groups
}

/// The first [`ENFORCE_LIST`] names (all with `details`), then how many more.
pub(crate) fn names(names: &[String], details: bool, quote: impl Fn(&str) -> String) -> String {
    let shown = if details {
        names.len()
    } else {
        ENFORCE_LIST.min(names.len())
    };
    let mut out: Vec<String> = names[..shown].iter().map(|n| quote(n)).collect();
    if shown < names.len() {
        out.push(format!("and {} more", names.len() - shown));
    }
    out.join(", ")
}
