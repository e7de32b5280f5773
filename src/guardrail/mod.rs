//! Guardrails: one folder `guardrails/<id>/` each, holding `guardrail.toml` (metadata),
//! `policy.rego` (the rule), `exceptions.toml` (approved waivers) and `tests/` (fixtures).
//! Folders are loaded from a snapshot of files, so a directory on disk and a git tree read
//! the same way. Shared Rego helpers live in `guardrails/lib/`.

pub mod engine;
pub mod exceptions;
pub mod governance;
pub mod indexes;
pub mod resolve;

use crate::config::{from_toml, ConfigError};
use crate::date::Day;
use crate::files::SourceFile;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub use exceptions::{Exception, ExceptionStatus};

pub use crate::severity::Severity;

/// `guardrail.toml`. Unknown keys are rejected so a typo never silently drops a setting.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Metadata {
    /// Optional; when given it must equal the folder name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    pub title: String,
    pub severity: Severity,
    #[serde(default)]
    pub description: String,
    pub remediation: String,
    #[serde(default)]
    pub url: String,
    #[serde(default)]
    pub frameworks: Vec<String>,
    /// Days a workload has, from first seen, before this guardrail fails its pipeline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grace_days: Option<u32>,
    /// A fixed activation date instead of a grace period.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deadline: Option<Day>,
    /// The same check in other scanners (`checkov = ["CKV_AWS_19"]`), for migration.
    #[serde(default)]
    pub equivalents: BTreeMap<String, Vec<String>>,
    /// The kinds of code this guardrail judges (`kinds = ["kubernetes"]`); empty: every kind.
    /// Code of a judged kind that was not evaluated (an unrendered Helm chart) makes its
    /// verdict on the workload unknown.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub kinds: Vec<crate::workload::ResourceKind>,
}

impl Metadata {
    /// Whether the guardrail judges code of this kind (see [`Metadata::kinds`]).
    pub fn judges(&self, kind: crate::workload::ResourceKind) -> bool {
        self.kinds.is_empty() || self.kinds.contains(&kind)
    }
}

/// One guardrail folder, loaded and validated.
#[derive(Debug, Clone)]
pub struct Guardrail {
    pub id: String,
    pub meta: Metadata,
    /// Path of `policy.rego` as loaded (for error messages).
    pub policy_path: String,
    pub policy: String,
    pub exceptions: Vec<Exception>,
    /// The folder's files, paths relative to the guardrail folder (fixtures among them).
    pub files: Vec<SourceFile>,
    /// The policy compiled with its library's helpers, once the library is loaded (its own
    /// engine is built when it first runs alone; see [`engine::Policy`]).
    pub compiled: Option<engine::Policy>,
}

/// A set of guardrails and the shared Rego helpers they may import.
#[derive(Debug, Clone, Default)]
pub struct Library {
    pub guardrails: Vec<Guardrail>,
    /// `lib/*.rego`: (path, source).
    pub helpers: Vec<(String, String)>,
    /// `lib/**/*_test.rego`: the helpers' Rego unit tests, run by `railyard test` only (see
    /// [`regotest`]); never part of a policy.
    pub helper_tests: Vec<SourceFile>,
    /// The helpers and policies as parsed when the library loaded, so evaluating does not
    /// parse them again (`None` when the library was not loaded by [`load_library`]).
    pub parsed: Option<engine::Parsed>,
}

impl Library {
    pub fn get(&self, id: &str) -> Option<&Guardrail> {
        self.guardrails.iter().find(|g| g.id == id)
    }
}

/// Errors found while loading a library. All are collected, not just the first, so one run
/// shows the author every broken file.
#[derive(Debug, thiserror::Error)]
#[error("{}", .0.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("\n"))]
pub struct LoadErrors(pub Vec<ConfigError>);

const HELPERS_DIR: &str = "lib";

/// Loads every guardrail below `prefix` (e.g. `"guardrails/"` in a repo tree, or `""` when
/// the snapshot was taken inside the guardrails folder itself). Any error fails the load.
pub fn load_library(files: &[SourceFile], prefix: &str) -> Result<Library, LoadErrors> {
    let (library, broken) = load_library_lenient(files, prefix);
    let errors: Vec<ConfigError> = broken.into_values().flatten().collect();
    if errors.is_empty() {
        Ok(library)
    } else {
        Err(LoadErrors(errors))
    }
}

/// Loads what loads: the valid guardrails, and the errors of each broken one by id, so one
/// broken candidate never stops the others from being observed. A broken `lib/` helper
/// breaks every guardrail (reported under the id `lib`).
pub fn load_library_lenient(files: &[SourceFile], prefix: &str) -> (Library, BTreeMap<String, Vec<ConfigError>>) {
    let mut folders: BTreeMap<String, Vec<SourceFile>> = BTreeMap::new();
    let mut helpers = Vec::new();
    let mut helper_tests = Vec::new();
    let mut helper_errors = Vec::new();
    for f in files {
        let Some(rel) = f.path.strip_prefix(prefix) else {
            continue;
        };
        let Some((folder, inner)) = rel.split_once('/') else {
            continue;
        };
        if folder == HELPERS_DIR {
            if inner.ends_with("_test.rego") {
                helper_tests.push(f.clone());
            } else if inner.ends_with(".rego") {
                match crate::config::utf8(&f.path, &f.bytes) {
                    Ok(text) => helpers.push((f.path.clone(), text.to_string())),
                    Err(e) => helper_errors.push(e),
                }
            }
            continue;
        }
        if folder.starts_with('.') {
            continue;
        }
        folders
            .entry(folder.to_string())
            .or_default()
            .push(SourceFile::new(inner, f.bytes.clone()));
    }
    let mut broken: BTreeMap<String, Vec<ConfigError>> = BTreeMap::new();
    let mut guardrails = Vec::new();
    for (id, files) in folders {
        // A folder without guardrail.toml or policy.rego is not a guardrail (docs, assets).
        let has = |n: &str| files.iter().any(|f| f.path == n);
        if !has("guardrail.toml") && !has("policy.rego") {
            continue;
        }
        match load_guardrail(&id, &format!("{prefix}{id}"), files) {
            Ok(g) => guardrails.push(g),
            Err(e) => {
                broken.insert(id, e);
            }
        }
    }
    // Broken helpers break every guardrail: a library of none, with the helpers' errors.
    let without_guardrails = |helpers, helper_tests, mut broken: BTreeMap<String, Vec<ConfigError>>, errors| {
        broken.insert(HELPERS_DIR.to_string(), errors);
        let library = Library {
            guardrails: Vec::new(),
            helpers,
            helper_tests,
            parsed: None,
        };
        (library, broken)
    };
    if !helper_errors.is_empty() {
        return without_guardrails(helpers, helper_tests, broken, helper_errors);
    }
    // Each helper and each policy parsed once, for checking and for evaluating alike.
    let (parsed, policies) = match engine::parse_library(&guardrails, &helpers) {
        Ok(parsed) => parsed,
        Err(errors) => return without_guardrails(helpers, helper_tests, broken, errors),
    };
    let mut compiled = Vec::with_capacity(guardrails.len());
    for (mut g, policy) in guardrails.into_iter().zip(policies) {
        match policy {
            Ok(policy) => {
                g.compiled = Some(policy);
                compiled.push(g);
            }
            Err(e) => {
                broken.insert(g.id.clone(), vec![e]);
            }
        }
    }
    (
        Library {
            guardrails: compiled,
            helpers,
            helper_tests,
            parsed: Some(parsed),
        },
        broken,
    )
}

/// Loads one guardrail folder from its files (paths relative to the folder).
pub fn load_guardrail(id: &str, folder: &str, files: Vec<SourceFile>) -> Result<Guardrail, Vec<ConfigError>> {
    let mut errors = Vec::new();
    for name in ["guardrail.toml", "policy.rego", "exceptions.toml"] {
        if let Some(f) = files.iter().find(|f| f.path == name) {
            if let Err(e) = crate::config::utf8(&format!("{folder}/{name}"), &f.bytes) {
                errors.push(e);
            }
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let text_of = |name: &str| {
        files
            .iter()
            .find(|f| f.path == name)
            .map(|f| String::from_utf8_lossy(&f.bytes).into_owned())
    };
    if !valid_id(id) {
        errors.push(ConfigError::new(
            folder,
            1,
            format!("guardrail id `{id}` must be lowercase letters, digits, `-` or `_`"),
        ));
    }
    let meta_path = format!("{folder}/guardrail.toml");
    let meta = match text_of("guardrail.toml") {
        None => {
            errors.push(ConfigError::new(
                &meta_path,
                1,
                "missing guardrail.toml (title, severity, remediation are required)",
            ));
            None
        }
        Some(text) => match from_toml::<Metadata>(&meta_path, &text) {
            Err(e) => {
                errors.push(e);
                None
            }
            Ok(m) => {
                if let Some(declared) = &m.id {
                    if declared != id {
                        let line = crate::config::line_of_key(&text, "id", 1);
                        errors.push(ConfigError::new(
                            &meta_path,
                            line,
                            format!("id `{declared}` differs from the folder name `{id}`"),
                        ));
                    }
                }
                if m.grace_days.is_some() && m.deadline.is_some() {
                    let line = crate::config::line_of_key(&text, "deadline", 1);
                    errors.push(ConfigError::new(
                        &meta_path,
                        line,
                        "set either grace_days or deadline, not both",
                    ));
                }
                if m.title.trim().is_empty() {
                    errors.push(ConfigError::new(
                        &meta_path,
                        crate::config::line_of_key(&text, "title", 1),
                        "title must not be empty",
                    ));
                }
                Some(m)
            }
        },
    };
    let policy_path = format!("{folder}/policy.rego");
    let policy = text_of("policy.rego");
    if policy.is_none() {
        errors.push(ConfigError::new(&policy_path, 1, "missing policy.rego"));
    }
    let exc_path = format!("{folder}/exceptions.toml");
    let exceptions = match text_of("exceptions.toml") {
        None => Vec::new(),
        Some(text) => exceptions::parse(&exc_path, &text).unwrap_or_else(|mut e| {
            errors.append(&mut e);
            Vec::new()
        }),
    };
    match (meta, policy) {
        (Some(meta), Some(policy)) if errors.is_empty() => Ok(Guardrail {
            compiled: None,
            id: id.to_string(),
            meta,
            policy_path,
            policy,
            exceptions,
            files,
        }),
        _ => Err(errors),
    }
}

fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}

/// Reads a guardrails library from a directory: either the guardrails folder itself or a
/// repository root that contains `guardrails/`.
pub fn load_dir(dir: &std::path::Path) -> anyhow::Result<Library> {
    load_dir_with(dir, |_| false)
}

/// [`load_dir`] without reading the guardrails' fixtures (`<id>/tests/`): for evaluating
/// workloads (`check`), which never runs them; `test` and the fixture gates need them.
pub fn load_dir_without_fixtures(dir: &std::path::Path) -> anyhow::Result<Library> {
    load_dir_with(dir, is_fixtures)
}

/// Whether `path` (relative to the guardrails folder) is a guardrail's `tests/` folder.
fn is_fixtures(path: &str) -> bool {
    path.split_once('/')
        .is_some_and(|(id, rest)| id != HELPERS_DIR && rest == "tests")
}

fn load_dir_with(dir: &std::path::Path, prune: fn(&str) -> bool) -> anyhow::Result<Library> {
    use anyhow::Context;
    let root = if dir.join("guardrails").is_dir() {
        dir.join("guardrails")
    } else {
        dir.to_path_buf()
    };
    let (files, _) = crate::files::read_dir_pruned(&root, crate::files::ReadLimits::default(), prune)
        .with_context(|| format!("reading guardrails from `{}`", root.display()))?;
    // `guardrails/` given with its slash: no `guardrails//id/policy.rego` in messages.
    let base = crate::files::clean_path(&root.display().to_string());
    let files: Vec<SourceFile> = files
        .into_iter()
        .map(|f| SourceFile::new(format!("{base}/{}", f.path), f.bytes))
        .collect();
    let prefix = format!("{base}/");
    Ok(load_library(&files, &prefix)?)
}

#[cfg(test)]
mod tests {
    #[test]
    fn check_loads_no_fixtures_and_test_loads_them() {
        let dir = tempfile::tempdir().unwrap();
        let bundled = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("guardrails");
        let g = dir.path().join("guardrails/g");
        std::fs::create_dir_all(g.join("tests/fail")).unwrap();
        std::fs::create_dir_all(dir.path().join("guardrails/lib")).unwrap();
        for f in ["guardrail.toml", "policy.rego"] {
            std::fs::copy(bundled.join("k8s-no-host-pid").join(f), g.join(f)).unwrap();
        }
        std::fs::write(g.join("tests/fail/pod.yaml"), "kind: Pod\n").unwrap();
        for f in ["core.rego", "kubernetes.rego"] {
            std::fs::copy(bundled.join("lib").join(f), dir.path().join("guardrails/lib").join(f)).unwrap();
        }
        let paths =
            |lib: &super::Library| -> Vec<String> { lib.guardrails[0].files.iter().map(|f| f.path.clone()).collect() };
        let all = super::load_dir(dir.path()).unwrap();
        assert_eq!(paths(&all), ["guardrail.toml", "policy.rego", "tests/fail/pod.yaml"]);
        let rules_only = super::load_dir_without_fixtures(dir.path()).unwrap();
        assert_eq!(paths(&rules_only), ["guardrail.toml", "policy.rego"]);
        assert_eq!(rules_only.helpers.len(), 2);
    }
}
