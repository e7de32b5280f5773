//! The release state every loop workflow starts from: the guardrails repo's `develop` and
//! `main`, the guardrails on each, the candidates (folders that differ), the workload
//! registry, and the ledger.

use super::Settings;
use crate::config::ConfigError;
use crate::gitops::{GuardrailsRepo, DEVELOP, MAIN};
use crate::guardrail::{load_library_lenient, Library};
use crate::ledger::{GuardrailState, Ledger};
use crate::workload::registry::{self, Registry};
use anyhow::{Context, Result};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

pub const GUARDRAILS_DIR: &str = "guardrails";
pub const LIB_DIR: &str = "guardrails/lib";
pub const REGISTRY_FILE: &str = "workloads.toml";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Change {
    New,
    Changed,
    Removed,
}

/// A guardrail folder that differs between `develop` and `main`.
#[derive(Debug, Clone, Serialize)]
pub struct Candidate {
    pub id: String,
    pub change: Change,
    pub develop_tree: Option<String>,
    pub main_tree: Option<String>,
}

pub struct Release {
    pub repo: GuardrailsRepo,
    pub develop: String,
    pub main: String,
    /// Every guardrail on `develop` that loads; broken ones are in `broken`.
    pub develop_lib: Library,
    pub broken: BTreeMap<String, Vec<ConfigError>>,
    /// Exceptions on `develop` that break the repository's governance (`[exceptions]
    /// max_lifetime_days`), with file and line. A candidate with such an exception is in
    /// `broken` too (never promoted); for the others the run reports them and exits 2.
    pub governance: Vec<ConfigError>,
    pub main_lib: Library,
    pub candidates: Vec<Candidate>,
    /// Whether `guardrails/lib` differs: promotions then carry it along.
    pub lib_changed: bool,
    pub registry: Registry,
    pub ledger: Ledger,
}

impl Release {
    /// Reads everything a loop workflow needs. The registry comes from `develop`, where
    /// the security team maintains it.
    pub fn open(s: &Settings) -> Result<Release> {
        let repo = GuardrailsRepo::open(&s.repo, &s.cache_dir, s.repo_token_env.as_deref())?;
        let develop = repo.require_tip(DEVELOP)?;
        let main = repo.require_tip(MAIN)?;
        let (mut develop_lib, mut broken) = load_library_lenient(
            &repo.read_tree(&develop, GUARDRAILS_DIR)?,
            &format!("{GUARDRAILS_DIR}/"),
        );
        let (main_lib, _) =
            load_library_lenient(&repo.read_tree(&main, GUARDRAILS_DIR)?, &format!("{GUARDRAILS_DIR}/"));
        let registry_text = repo.read_file(&develop, REGISTRY_FILE)?.with_context(|| {
            format!(
                "`{REGISTRY_FILE}` is missing on `{DEVELOP}` of `{}` (hint: register workloads there)",
                repo.display
            )
        })?;
        let registry_text = crate::config::utf8(REGISTRY_FILE, &registry_text).map_err(anyhow::Error::new)?;
        let registry = registry::parse(REGISTRY_FILE, registry_text).map_err(|errors| {
            anyhow::anyhow!(
                "{}",
                errors.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("\n")
            )
        })?;
        let (ledger, _) = Ledger::load(&repo)?;

        let mut ids: BTreeSet<String> = BTreeSet::new();
        ids.extend(repo.folders(&develop, GUARDRAILS_DIR)?);
        ids.extend(repo.folders(&main, GUARDRAILS_DIR)?);
        ids.remove("lib");
        let mut candidates = Vec::new();
        for id in ids {
            let path = format!("{GUARDRAILS_DIR}/{id}");
            let d = repo.tree_id(&develop, &path)?;
            let m = repo.tree_id(&main, &path)?;
            if d == m {
                continue;
            }
            let is_guardrail =
                develop_lib.get(&id).is_some() || broken.contains_key(&id) || main_lib.get(&id).is_some();
            if !is_guardrail {
                continue;
            }
            let change = match (&d, &m) {
                (Some(_), None) => Change::New,
                (None, Some(_)) => Change::Removed,
                _ => Change::Changed,
            };
            candidates.push(Candidate {
                id,
                change,
                develop_tree: d,
                main_tree: m,
            });
        }
        let lib_changed = repo.tree_id(&develop, LIB_DIR)? != repo.tree_id(&main, LIB_DIR)?;

        // Exception governance: an exception may not outlive the repository's maximum. A
        // candidate carrying one is broken (it would ship the exception to `main`).
        let mut governance = Vec::new();
        if let Some(max) = registry.exceptions.max_lifetime_days {
            let mut rejected = Vec::new();
            for g in &develop_lib.guardrails {
                let file = format!("{GUARDRAILS_DIR}/{}/exceptions.toml", g.id);
                let errors = crate::guardrail::exceptions::check_lifetime(&file, &g.exceptions, max, s.now);
                if errors.is_empty() {
                    continue;
                }
                governance.extend(errors.iter().cloned());
                if candidates.iter().any(|c| c.id == g.id) {
                    broken.insert(g.id.clone(), errors);
                    rejected.push(g.id.clone());
                }
            }
            develop_lib.guardrails.retain(|g| !rejected.contains(&g.id));
        }
        Ok(Release {
            governance,
            repo,
            develop,
            main,
            develop_lib,
            broken,
            main_lib,
            candidates,
            lib_changed,
            registry,
            ledger,
        })
    }

    pub fn candidate(&self, id: &str) -> Option<&Candidate> {
        self.candidates.iter().find(|c| c.id == id)
    }

    /// The develop library restricted to the candidates (what observation evaluates).
    pub fn candidate_library(&self) -> Library {
        let mut lib = self.develop_lib.clone();
        lib.guardrails
            .retain(|g| self.candidate(&g.id).is_some_and(|c| c.change != Change::Removed));
        lib
    }

    /// Grace period for a guardrail: its own `grace_days`, else the registry default.
    pub fn grace_days(&self, id: &str) -> u32 {
        self.develop_lib
            .get(id)
            .and_then(|g| g.meta.grace_days)
            .unwrap_or(self.registry.defaults.grace_days)
    }

    /// Paths a promotion of `id` carries from develop to main.
    pub fn promotion_paths(&self, id: &str) -> Vec<String> {
        let mut paths = vec![format!("{GUARDRAILS_DIR}/{id}")];
        if self.lib_changed {
            paths.push(LIB_DIR.to_string());
        }
        paths
    }

    /// Marks guardrails whose observed develop tree is now on `main` as active, so a run
    /// killed between promoting and recording leaves a ledger the next run completes.
    pub fn reconcile(&self, ledger: &mut Ledger) -> Result<()> {
        let main = self.repo.require_tip(MAIN)?;
        for (id, rec) in ledger.guardrails.iter_mut() {
            if rec.state != GuardrailState::Pending {
                continue;
            }
            let on_main = self.repo.tree_id(&main, &format!("{GUARDRAILS_DIR}/{id}"))?;
            if on_main.as_deref() == Some(rec.develop_tree.as_str()) && rec.activation.is_none() {
                rec.state = GuardrailState::Active;
                rec.activation = Some(crate::ledger::Activation {
                    on: ledger.clock.unwrap_or_else(crate::date::Day::today),
                    how: "reconciled".into(),
                    commit: main.clone(),
                    by: None,
                    reason: Some("found on main without a ledger record (an earlier run was interrupted, or someone merged it by hand)".into()),
                });
            }
        }
        Ok(())
    }
}
