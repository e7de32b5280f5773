//! Compliance frameworks as the guardrails map them (`frameworks = ["PCI-DSS-3.2.1 3.4", …]`
//! in `guardrail.toml`): the `--framework NAME` filter of `check`, `report` and `preview`, and
//! `report --by framework`, compliance per control over the registered workloads.

use super::release::Release;
use super::{Outcome, Settings};
use crate::evaluate::Verdict;
use crate::guardrail::{Guardrail, Library};
use crate::ledger::GuardrailState;
use anyhow::{bail, Result};
use std::collections::BTreeMap;
use std::io::Write;

pub use crate::report::frameworks::{ControlStatus, FrameworkReport};

/// `--framework NAME`: a guardrail belongs to it when one of its `frameworks` entries starts
/// with NAME (ASCII case ignored): `PCI-DSS` takes `PCI-DSS-3.2.1 3.4`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Framework(pub String);

impl Framework {
    pub fn maps(&self, g: &Guardrail) -> bool {
        g.meta.frameworks.iter().any(|e| self.covers(e))
    }

    fn covers(&self, entry: &str) -> bool {
        entry
            .get(..self.0.len())
            .is_some_and(|p| p.eq_ignore_ascii_case(&self.0))
    }

    /// Keeps the guardrails of `lib` this framework maps.
    pub fn retain(&self, lib: &mut Library) {
        lib.guardrails.retain(|g| self.maps(g));
    }

    /// Refuses a framework no guardrail of `libs` maps: a typo would otherwise evaluate
    /// nothing and look like a pass.
    pub fn require_known(&self, libs: &[&Library]) -> Result<()> {
        if libs.iter().flat_map(|l| &l.guardrails).any(|g| self.maps(g)) {
            return Ok(());
        }
        let mut known: Vec<&str> = libs
            .iter()
            .flat_map(|l| &l.guardrails)
            .flat_map(|g| &g.meta.frameworks)
            .filter_map(|e| e.split_whitespace().next())
            .collect();
        known.sort_unstable();
        known.dedup();
        bail!(
            "no guardrail maps to framework `{}` (`frameworks` in guardrail.toml; mapped here: {})",
            self.0,
            if known.is_empty() {
                "none".to_string()
            } else {
                known.join(", ")
            }
        )
    }
}

pub fn report(s: &Settings, framework: Option<&Framework>, out: &mut dyn Write) -> Result<Outcome> {
    let release = Release::open(s)?;
    if let Some(f) = framework {
        f.require_known(&[&release.develop_lib, &release.main_lib])?;
    }
    let ledger = &release.ledger;
    // Every guardrail on main or develop, each with the metadata of the version the ledger
    // observes (develop's for a candidate), except those removed everywhere.
    let mut guardrails: BTreeMap<&str, &Guardrail> = BTreeMap::new();
    for g in release
        .main_lib
        .guardrails
        .iter()
        .chain(&release.develop_lib.guardrails)
    {
        guardrails.insert(&g.id, g);
    }
    guardrails.retain(|id, _| {
        ledger
            .guardrails
            .get(*id)
            .is_none_or(|r| r.state != GuardrailState::Removed)
    });

    let mut by_control: BTreeMap<(String, String), Vec<&str>> = BTreeMap::new();
    for (id, g) in &guardrails {
        for entry in &g.meta.frameworks {
            if framework.is_some_and(|f| !f.covers(entry)) {
                continue;
            }
            let (fw, control) = entry
                .trim()
                .split_once(char::is_whitespace)
                .unwrap_or((entry.trim(), ""));
            let ids = by_control
                .entry((fw.to_string(), control.trim().to_string()))
                .or_default();
            if !ids.contains(id) {
                ids.push(id);
            }
        }
    }
    let controls = by_control
        .into_iter()
        .map(|((framework, control), ids)| {
            let mut c = ControlStatus {
                framework,
                control,
                guardrails: ids.iter().map(|i| i.to_string()).collect(),
                compliant: 0,
                noncompliant: 0,
                excepted: 0,
                unknown: 0,
            };
            for w in &release.registry.workloads {
                // The worst of the workload's verdicts under every guardrail of the control;
                // one never observed is unknown.
                let verdicts = ids.iter().map(|id| {
                    ledger
                        .entries
                        .get(&crate::ledger::key(id, &w.name))
                        .map_or(Verdict::Unknown, |e| e.status_on(s.now))
                });
                let worst = verdicts.max_by_key(|v| rank(*v)).unwrap_or(Verdict::Unknown);
                match worst {
                    Verdict::Compliant => c.compliant += 1,
                    Verdict::Excepted => c.excepted += 1,
                    Verdict::Unknown => c.unknown += 1,
                    Verdict::Noncompliant => c.noncompliant += 1,
                }
            }
            c
        })
        .collect();
    let report = FrameworkReport {
        version: 1,
        now: s.now,
        view: "framework".into(),
        subject: framework.map_or_else(|| "all".to_string(), |f| f.0.clone()),
        workloads: release.registry.workloads.len(),
        controls,
    };
    crate::output::frameworks::render(s.format, &report, out)?;
    Ok(Outcome::Clean)
}

/// Which verdict decides a control: a noncompliant guardrail, else an unknown one, else an
/// exception, else compliant.
fn rank(v: Verdict) -> u8 {
    match v {
        Verdict::Compliant => 0,
        Verdict::Excepted => 1,
        Verdict::Unknown => 2,
        Verdict::Noncompliant => 3,
    }
}
