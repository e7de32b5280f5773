//! The release state every loop workflow starts from: the guardrails repo's `develop` and
//! `main`, the guardrails on each, the candidates (folders that differ), the workload
//! registry, and the ledger.

use super::Settings;
use crate::config::ConfigError;
use crate::gitops::{GuardrailsRepo, DEVELOP, MAIN};
use crate::guardrail::exceptions::Approval;
use crate::guardrail::governance::{self, Governance, GOVERNANCE_FILE};
use crate::guardrail::{load_library_lenient, Library};
use crate::ledger::Ledger;
pub use crate::report::release::{Change, UnverifiedException};
use crate::workload::registry::{self, Registry};
use anyhow::{Context, Result};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

pub use crate::gitops::GUARDRAILS_DIR;
pub const LIB_DIR: &str = "guardrails/lib";
pub const REGISTRY_FILE: &str = "workloads.toml";

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
    pub ledger: std::sync::Arc<Ledger>,
    /// The ledger commit `ledger` was read from (verified when a key is set).
    pub ledger_tip: Option<String>,
}

impl Release {
    /// Reads everything a loop workflow needs. The registry comes from `develop`, where
    /// the security team maintains it.
    pub fn open(s: &Settings) -> Result<Release> {
        Release::open_at(s, None)
    }

    /// [`open`](Self::open) with `candidates_ref` (a branch, tag or commit; `preview --ref`)
    /// in the place of `develop`: its guardrails and registry are read, compared with `main`.
    pub fn open_at(s: &Settings, candidates_ref: Option<&str>) -> Result<Release> {
        let mut repo = GuardrailsRepo::open(&s.repo, &s.cache_dir, s.repo_token_env.as_deref(), s.fetch_timeout)?;
        repo.set_seal_key(s.ledger_key.clone());
        let develop = match candidates_ref {
            Some(r) => repo.resolve(r)?,
            None => repo.require_tip(DEVELOP)?,
        };
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
        let (ledger, ledger_tip) = Ledger::load(&repo)?;
        // Who may waive what is decided on `main`, never on `develop` (docs/release-loop.md,
        // Governance).
        let governance_config = load_governance(&repo, &main)?;
        let main_registry = main_registry(&repo, &main)?;
        let max_lifetime = [
            governance_config.as_ref().and_then(|g| g.max_lifetime_days),
            main_registry.as_ref().and_then(|r| r.exceptions.max_lifetime_days),
        ]
        .into_iter()
        .flatten()
        .min();
        if registry.exceptions.max_lifetime_days.is_some() && registry.exceptions.max_lifetime_days != max_lifetime {
            eprintln!(
                "warning: `[exceptions]` in `{REGISTRY_FILE}` on `{DEVELOP}` differs from `{MAIN}`'s; only `{MAIN}`'s applies"
            );
        }
        let registries: Vec<&Registry> = std::iter::once(&registry).chain(main_registry.as_ref()).collect();
        govern(
            &repo,
            &develop,
            &mut develop_lib,
            governance_config.as_ref(),
            &registries,
            None,
        );
        let mut main_lib = main_lib;
        govern(
            &repo,
            &main,
            &mut main_lib,
            governance_config.as_ref(),
            &registries,
            Some(&develop),
        );
        warn_ungoverned(&develop_lib, governance_config.as_ref());
        for x in unverified_of(&develop_lib) {
            eprintln!(
                "warning: {}:{}: exception for `{}` / `{}` is unverified and waives nothing: {}",
                x.file, x.line, x.workload, x.resource, x.reason
            );
        }

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
        if let Some(max) = max_lifetime {
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
            ledger_tip,
        })
    }

    /// Exceptions of `develop`'s guardrails whose approval did not verify.
    pub fn unverified(&self) -> Vec<UnverifiedException> {
        unverified_of(&self.develop_lib)
    }

    pub fn candidate(&self, id: &str) -> Option<&Candidate> {
        self.candidates.iter().find(|c| c.id == id)
    }

    /// Grace period for a guardrail: its own `grace_days`, else the registry default.
    /// What the ledger keeps of guardrail `g` of `develop`.
    pub fn facts(&self, g: &crate::guardrail::Guardrail) -> crate::ledger::GuardrailFacts {
        crate::ledger::GuardrailFacts {
            title: g.meta.title.clone(),
            severity: g.meta.severity,
            fixed_deadline: g.meta.deadline,
            grace_days: self.grace_days(&g.id),
        }
    }

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
        ledger.reconcile(&main, |id| self.repo.tree_id(&main, &format!("{GUARDRAILS_DIR}/{id}")))
    }
}

/// The unverified exceptions of a library.
pub fn unverified_of(lib: &Library) -> Vec<UnverifiedException> {
    let mut out = Vec::new();
    for g in &lib.guardrails {
        for x in &g.exceptions {
            if let Some(reason) = x.approval.reason() {
                out.push(UnverifiedException {
                    guardrail: g.id.clone(),
                    workload: x.workload.clone(),
                    resource: x.resource.clone(),
                    approved_by: x.approved_by.clone(),
                    file: format!("{GUARDRAILS_DIR}/{}/exceptions.toml", g.id),
                    line: x.line,
                    reason: reason.to_string(),
                });
            }
        }
    }
    out
}

/// Reads `governance.toml` and the allowed signers it names from `main`; `None` when `main`
/// has no `governance.toml`. A malformed one stops the run (exit 2) with file and line.
pub fn load_governance(repo: &GuardrailsRepo, main: &str) -> Result<Option<Governance>> {
    let Some(bytes) = repo.read_file(main, GOVERNANCE_FILE)? else {
        return Ok(None);
    };
    let name = format!("{MAIN}:{GOVERNANCE_FILE}");
    let text = String::from_utf8(bytes).map_err(|_| anyhow::anyhow!("{name}:1: not UTF-8; it was not read"))?;
    let mut gov = governance::parse(&name, &text).map_err(config_errors)?;
    if let Some(bytes) = repo.read_file(main, &gov.allowed_signers_path)? {
        let name = format!("{MAIN}:{}", gov.allowed_signers_path);
        let text = String::from_utf8(bytes).map_err(|_| anyhow::anyhow!("{name}:1: not UTF-8; it was not read"))?;
        gov.signers = Some(governance::parse_allowed_signers(&name, &text).map_err(config_errors)?);
    }
    Ok(Some(gov))
}

/// `main`'s `workloads.toml`, when it has one (its `[exceptions]` and owners count).
fn main_registry(repo: &GuardrailsRepo, main: &str) -> Result<Option<Registry>> {
    let Some(bytes) = repo.read_file(main, REGISTRY_FILE)? else {
        return Ok(None);
    };
    let name = format!("{MAIN}:{REGISTRY_FILE}");
    registry::parse(&name, &String::from_utf8_lossy(&bytes))
        .map(Some)
        .map_err(config_errors)
}

fn config_errors(errors: Vec<ConfigError>) -> anyhow::Error {
    anyhow::anyhow!(
        "{}",
        errors.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("\n")
    )
}

/// Judges every exception of `lib` (read at `commit`) against `main`'s governance; without
/// one, exceptions stay ungoverned (honoured, flagged). Owners come from every registry
/// given, so removing oneself from a team on `develop` does not make self-approval pass.
///
/// `origin` is `develop`'s tip when `lib` was read from `main`: Railyard's promotion commits
/// carry `exceptions.toml` over unsigned, so its lines are blamed on `develop`, at the newest
/// commit holding the very same file.
pub fn govern(
    repo: &GuardrailsRepo,
    commit: &str,
    lib: &mut Library,
    gov: Option<&Governance>,
    registries: &[&Registry],
    origin: Option<&str>,
) {
    let Some(gov) = gov else { return };
    for g in &mut lib.guardrails {
        let file = format!("{GUARDRAILS_DIR}/{}/exceptions.toml", g.id);
        if g.exceptions.is_empty() {
            continue;
        }
        let blob = repo.tree_id(commit, &file).ok().flatten();
        let at = origin
            .zip(blob)
            .and_then(|(o, b)| crate::gitops::blame::commit_holding(repo.path(), o, &file, &b, 10_000))
            .unwrap_or_else(|| commit.to_string());
        for x in &mut g.exceptions {
            let owners: governance::CoveredOwners = registries
                .iter()
                .flat_map(|r| r.workloads.iter().map(move |w| (r, w)))
                .filter(|(_, w)| x.covers_workload(&w.name))
                .map(|(r, w)| (w.name.clone(), r.owners_of(w)))
                .collect();
            let commits = crate::gitops::blame::line_commits(repo.path(), &at, &file, x.line, x.end_line);
            x.approval = gov.judge(x, &owners, commits);
        }
    }
}

/// Says once that exceptions are honoured unverified, when `main` has no governance.
pub fn warn_ungoverned(lib: &Library, gov: Option<&Governance>) {
    let n = lib
        .guardrails
        .iter()
        .flat_map(|g| &g.exceptions)
        .filter(|x| x.approval == Approval::Ungoverned)
        .count();
    if gov.is_none() && n > 0 {
        eprintln!(
            "warning: no `{GOVERNANCE_FILE}` on `{MAIN}`: {} honoured without a verified approval \
             (see docs/release-loop.md, Governance)",
            if n == 1 {
                "1 exception is".to_string()
            } else {
                format!("{n} exceptions are")
            }
        );
    }
}
