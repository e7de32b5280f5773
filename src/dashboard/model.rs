//! Today's state, shaped for the page: the guardrails shown (after `--framework`), pending
//! guardrails' activation days, exposure per team and workload, exceptions expiring soon,
//! stale and unverified exceptions, and per framework control how many workloads comply.

use crate::date::Day;
use crate::evaluate::Verdict;
use crate::guardrail::exceptions::{self, StaleException};
use crate::guardrail::{Library, Severity};
use crate::ledger::{GuardrailState, Ledger};
use crate::report::release::UnverifiedException;
use crate::workload::registry::Registry;
use std::collections::{BTreeMap, BTreeSet, HashSet};

/// Exceptions expiring within this many days are listed as expiring soon.
pub const EXPIRING_WINDOW_DAYS: i64 = 30;

/// One guardrail on the page.
#[derive(Debug, Clone)]
pub struct GuardrailInfo {
    pub id: String,
    pub title: String,
    pub severity: Severity,
    pub state: GuardrailState,
    pub frameworks: Vec<String>,
    /// For a pending guardrail: the day `enforce` activates it.
    pub activation_day: Option<Day>,
}

/// A (guardrail, workload) pair that is not compliant today.
#[derive(Debug, Clone)]
pub struct Exposure {
    pub team: String,
    pub workload: String,
    pub guardrail: String,
    pub severity: Severity,
    pub state: GuardrailState,
    pub status: Verdict,
    pub findings: usize,
    /// When the guardrail fails this workload's pipeline: `None` for an active guardrail
    /// (it already does) or an unknown verdict.
    pub breaks_on: Option<Day>,
    /// The first failing finding, `file:line resource`, to point at code.
    pub first: String,
}

#[derive(Debug, Clone)]
pub struct Expiring {
    pub guardrail: String,
    pub workload: String,
    pub resource: String,
    pub expires: Day,
}

/// Per framework control: the workloads that comply with every guardrail mapped to it.
#[derive(Debug, Clone, Default)]
pub struct Control {
    pub framework: String,
    pub control: String,
    pub guardrails: Vec<String>,
    pub comply: usize,
    pub noncompliant: usize,
    /// Some mapped guardrail could not be evaluated, or was never observed, on the workload.
    pub unknown: usize,
}

#[derive(Debug, Clone)]
pub struct Snapshot {
    pub now: Day,
    pub framework: Option<String>,
    pub guardrails: Vec<GuardrailInfo>,
    pub workloads: usize,
    pub exposure: Vec<Exposure>,
    pub expiring: Vec<Expiring>,
    pub stale: Vec<StaleException>,
    pub unverified: Vec<UnverifiedException>,
    pub controls: Vec<Control>,
}

/// What the page is built from (the parts of a `Release` it reads).
pub struct Sources<'a> {
    pub ledger: &'a Ledger,
    pub registry: &'a Registry,
    pub develop_lib: &'a Library,
    pub main_lib: &'a Library,
    /// Ids of the guardrails on `develop` that differ from `main`.
    pub candidates: &'a BTreeSet<String>,
    pub unverified: Vec<UnverifiedException>,
}

/// Whether a guardrail mapping `frameworks` is selected by `--framework PREFIX`.
pub fn matches(frameworks: &[String], prefix: Option<&str>) -> bool {
    prefix.is_none_or(|p| frameworks.iter().any(|f| f.starts_with(p)))
}

/// The guardrails known to the ledger or either branch, except removed ones.
pub fn guardrails(src: &Sources) -> Vec<GuardrailInfo> {
    let mut ids: BTreeSet<&str> = src.ledger.guardrails.keys().map(String::as_str).collect();
    ids.extend(src.develop_lib.guardrails.iter().map(|g| g.id.as_str()));
    ids.extend(src.main_lib.guardrails.iter().map(|g| g.id.as_str()));
    ids.into_iter()
        .filter_map(|id| {
            let rec = src.ledger.guardrails.get(id);
            let g = src.develop_lib.get(id).or_else(|| src.main_lib.get(id));
            let state = if src.candidates.contains(id) {
                GuardrailState::Pending
            } else {
                rec.map(|r| r.state).unwrap_or(GuardrailState::Active)
            };
            if state == GuardrailState::Removed || (g.is_none() && rec.is_none()) {
                return None;
            }
            let (title, severity) = crate::ledger::title_and_severity(g, rec);
            Some(GuardrailInfo {
                id: id.to_string(),
                title,
                severity,
                state,
                frameworks: g.map(|g| g.meta.frameworks.clone()).unwrap_or_default(),
                activation_day: (state == GuardrailState::Pending)
                    .then(|| src.ledger.activation_day(id))
                    .flatten(),
            })
        })
        .collect()
}

pub fn snapshot(src: &Sources, now: Day, framework: Option<&str>) -> Snapshot {
    let shown: Vec<GuardrailInfo> = guardrails(src)
        .into_iter()
        .filter(|g| matches(&g.frameworks, framework))
        .collect();
    let by_id: BTreeMap<&str, &GuardrailInfo> = shown.iter().map(|g| (g.id.as_str(), g)).collect();
    let registered: HashSet<&str> = src.registry.workloads.iter().map(|w| w.name.as_str()).collect();
    let entries = || {
        src.ledger
            .entries
            .values()
            .filter(|e| by_id.contains_key(e.guardrail.as_str()) && registered.contains(e.workload.as_str()))
    };

    let mut exposure: Vec<Exposure> = entries()
        .filter_map(|e| {
            let status = e.status_on(now);
            if matches!(status, Verdict::Compliant | Verdict::Excepted) {
                return None;
            }
            let g = by_id[e.guardrail.as_str()];
            let failing = e.failing_on(now);
            Some(Exposure {
                team: e.team.clone(),
                workload: e.workload.clone(),
                guardrail: e.guardrail.clone(),
                severity: g.severity,
                state: g.state,
                status,
                findings: failing.len(),
                breaks_on: match (g.state, status) {
                    (GuardrailState::Pending, Verdict::Noncompliant) => e.deadline,
                    _ => None,
                },
                first: failing
                    .first()
                    .map(|f| format!("{}:{} {}", f.file, f.line, f.resource))
                    .or_else(|| e.problems.first().cloned())
                    .unwrap_or_default(),
            })
        })
        .collect();
    exposure.sort_by(|a, b| {
        (
            &a.team,
            &a.workload,
            a.state != GuardrailState::Active,
            a.breaks_on,
            &a.guardrail,
        )
            .cmp(&(
                &b.team,
                &b.workload,
                b.state != GuardrailState::Active,
                b.breaks_on,
                &b.guardrail,
            ))
    });

    let mut expiring: Vec<Expiring> = entries()
        .flat_map(|e| {
            e.waived_on_day(now).into_iter().filter_map(move |f| {
                let x = f.exception_expires?;
                (now.days_until(x) <= EXPIRING_WINDOW_DAYS).then(|| Expiring {
                    guardrail: e.guardrail.clone(),
                    workload: e.workload.clone(),
                    resource: f.resource.clone(),
                    expires: x,
                })
            })
        })
        .collect();
    expiring.sort_by(|a, b| (a.expires, &a.workload, &a.guardrail).cmp(&(b.expires, &b.workload, &b.guardrail)));

    let stale = stale_exceptions(src, &by_id);
    let unverified = src
        .unverified
        .iter()
        .filter(|x| by_id.contains_key(x.guardrail.as_str()))
        .cloned()
        .collect();
    Snapshot {
        now,
        framework: framework.map(str::to_string),
        workloads: registered.len(),
        controls: controls(src, &shown, now, framework),
        guardrails: shown,
        exposure,
        expiring,
        stale,
        unverified,
    }
}

/// The exceptions on `develop` that match no finding the ledger holds (as `report` lists
/// them): a workload never observed or unknown keeps its exceptions from being called stale.
fn stale_exceptions(src: &Sources, shown: &BTreeMap<&str, &GuardrailInfo>) -> Vec<StaleException> {
    let mut out = Vec::new();
    for g in src
        .develop_lib
        .guardrails
        .iter()
        .filter(|g| shown.contains_key(g.id.as_str()))
    {
        if g.exceptions.is_empty() {
            continue;
        }
        let observed = src
            .ledger
            .observed(&g.id, src.registry.workloads.iter().map(|w| w.name.as_str()));
        let file = format!("{}/{}/exceptions.toml", crate::gitops::GUARDRAILS_DIR, g.id);
        out.extend(exceptions::stale(&g.id, &file, &g.exceptions, &observed));
    }
    out
}

/// Per control: a workload complies when every guardrail mapped to the control is compliant
/// or excepted on it today; one noncompliant verdict makes it noncompliant; otherwise a
/// verdict that is unknown or was never recorded makes it unknown (never compliant).
fn controls(src: &Sources, shown: &[GuardrailInfo], now: Day, framework: Option<&str>) -> Vec<Control> {
    let mut mapped: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for g in shown {
        for f in &g.frameworks {
            if framework.is_none_or(|p| f.starts_with(p)) {
                mapped.entry(f.as_str()).or_default().push(g.id.as_str());
            }
        }
    }
    mapped
        .into_iter()
        .map(|(name, ids)| {
            let (framework, control) = name.split_once(' ').unwrap_or((name, ""));
            let mut c = Control {
                framework: framework.to_string(),
                control: control.to_string(),
                guardrails: ids.iter().map(|s| s.to_string()).collect(),
                ..Default::default()
            };
            for w in &src.registry.workloads {
                let verdicts: Vec<Option<Verdict>> = ids
                    .iter()
                    .map(|id| {
                        src.ledger
                            .entries
                            .get(&crate::ledger::key(id, &w.name))
                            .map(|e| e.status_on(now))
                    })
                    .collect();
                if verdicts.contains(&Some(Verdict::Noncompliant)) {
                    c.noncompliant += 1;
                } else if verdicts
                    .iter()
                    .all(|v| matches!(v, Some(Verdict::Compliant | Verdict::Excepted)))
                {
                    c.comply += 1;
                } else {
                    c.unknown += 1;
                }
            }
            c
        })
        .collect()
}
