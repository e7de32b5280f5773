//! One parser per input format, each in its own file behind the small [`Parser`] trait, all
//! listed once in [`PARSERS`]. Adding a format is one new file and one new line here.
//!
//! The first parser in the list that claims a file parses it; files nobody claims are not
//! infrastructure code. Code that is rendered first (kustomize overlays, Helm charts) is
//! rendered before the parsers run; what cannot be rendered is listed in [`Parsed::skipped`].

mod cache;
mod cloudformation;
pub mod helm;
mod kubernetes;
pub mod kustomize;
mod terraform;
mod terraform_plan;
mod yaml;

use super::input::{Resource, ResourceKind};
use crate::files::{Skipped, SourceFile};
use crate::limits::RunSettings;
// Defined below the parsers (files and configuration need them too); re-exported where
// the parsers have always found them.
pub use crate::config::line_of;
pub use crate::files::{has_ext, ParseError};
use std::collections::BTreeMap;

/// What parsing a group of files produced. A file with an error contributes no resources,
/// and its error makes the workload's result *error*, never *compliant*.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Parsed {
    pub resources: Vec<Resource>,
    pub documents: BTreeMap<String, serde_json::Value>,
    pub errors: Vec<ParseError>,
    /// Code found while parsing but not evaluated, with its kind and reason (a remote
    /// Terraform module that is not present, an overlay outside the rendered subset, a chart
    /// without `helm`): the guardrails judging that kind cannot call the workload compliant.
    #[serde(default)]
    pub skipped: Vec<Skipped>,
    /// Folders whose files the parse read besides the files it was given (the folders of
    /// the modules a Terraform root module calls): what a cached result also depends on.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub read: Vec<String>,
    /// Whether an error or skipped item may come out differently on another run with the
    /// same files: a parse stopped by its budget, or rendering that depends on tools on this
    /// machine (`helm`, `kustomize`). Without it the result is settled by the files alone.
    #[serde(skip)]
    pub transient: bool,
}

impl Parsed {
    pub fn extend(&mut self, other: Parsed) {
        self.resources.extend(other.resources);
        self.documents.extend(other.documents);
        self.errors.extend(other.errors);
        self.skipped.extend(other.skipped);
        self.read.extend(other.read);
        self.transient |= other.transient;
    }
}

/// Parse results kept by content between workloads and runs (`crate::parsed` keeps them on
/// disk, sealed): a file or a folder byte-identical to one parsed before is not parsed again.
/// Keys are computed here, where what a parse depends on is known; the store only keeps
/// entries and must return an entry only for the exact key it was stored under.
pub trait ParseStore: Sync {
    fn load(&self, key: &str) -> Option<Stored>;
    fn store(&self, key: &str, entry: &Stored);
}

/// One cached parse: what the parser gave for a file or a folder, the path it was given
/// under, and the folders it read besides, each with the digest of their files then.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Stored {
    pub path: String,
    pub deps: Vec<(String, String)>,
    pub parsed: Parsed,
}

pub trait Parser: Sync {
    fn kind(&self) -> ResourceKind;
    /// Whether this parser reads the file. Decided on the path and, for ambiguous
    /// extensions such as `.yaml` or `.json`, a cheap look at the content.
    fn claims(&self, path: &str, bytes: &[u8]) -> bool;
    /// Parses the claimed files of one folder together (Terraform resolves variables and
    /// locals across the files of a module).
    fn parse(&self, files: &[&SourceFile]) -> Parsed;
    /// [`Parser::parse`] with every file of the workload at hand, sorted by path (Terraform
    /// reads the modules a folder calls, wherever they are).
    fn parse_in(&self, files: &[&SourceFile], _workload: &[&SourceFile]) -> Parsed {
        self.parse(files)
    }
    /// Whether each file parses on its own, its result depending only on its name and bytes
    /// and naming its path only as a resource's `file` and a document's key: then a file is
    /// cached by content and its result re-pathed wherever a copy of it lives.
    fn per_file(&self) -> bool {
        false
    }
}

/// Every format Railyard reads, in order of precedence.
pub static PARSERS: &[&dyn Parser] = &[
    &terraform_plan::TerraformPlan,
    &terraform::Terraform,
    &cloudformation::CloudFormation,
    &kubernetes::Kubernetes,
];

/// Whether some parser could read a file of this name, whatever its content: such files are
/// the workload's code, and one that cannot be read (too large, a symlink, not a regular
/// file) leaves the workload's verdict unknown.
pub fn is_code_path(path: &str) -> bool {
    // Content that every content-sniffing parser accepts, so only the name decides.
    const ANY: &[u8] = b"{\"AWSTemplateFormatVersion\": 1, \"format_version\": 1, \"planned_values\": 1}";
    PARSERS.iter().any(|p| p.claims(path, ANY)) || helm::is_chart_file(path)
}

/// [`parse_files_with`] the default settings (one worker, the default budgets): for tests,
/// fuzzing and tools; a run passes its own.
pub fn parse_files(files: &[SourceFile]) -> Parsed {
    parse_files_with(files, &RunSettings::default())
}

/// Parses a workload's files: each file goes to the first parser that claims it, grouped by
/// folder, within the parse budget and on the workers of `settings`. Resources come out
/// sorted by (file, line).
pub fn parse_files_with(files: &[SourceFile], settings: &RunSettings) -> Parsed {
    parse_files_cached(files, settings, None)
}

/// [`parse_files_with`], taking from `store` the results of files and folders parsed before
/// and putting there the new ones (see [`ParseStore`], and `docs/fleet.md`).
pub fn parse_files_cached(files: &[SourceFile], settings: &RunSettings, store: Option<&dyn ParseStore>) -> Parsed {
    // Rendered code first: kustomize overlays (the files they use as patches are not
    // manifests) and Helm charts (their templates are not manifests either).
    let mut rendered = kustomize::render(files);
    let charts = helm::render(files, settings.limits.parse_timeout);
    rendered.resources.extend(charts.resources);
    rendered.consumed.extend(charts.consumed);
    rendered.skipped.extend(charts.skipped);
    rendered.errors.extend(charts.errors);
    let mut groups: BTreeMap<(usize, &str), Vec<&SourceFile>> = BTreeMap::new();
    let mut workload: Vec<&SourceFile> = files.iter().collect();
    if !workload.is_sorted_by(|a, b| a.path <= b.path) {
        workload.sort_by(|a, b| a.path.cmp(&b.path));
    }
    for f in files {
        // Code below `vendor/` or `.terraform/` is read only as the modules calls point at;
        // patches and chart templates only as part of their rendering.
        if crate::files::module_only(&f.path) || rendered.consumed.contains(&f.path) {
            continue;
        }
        if let Some(i) = PARSERS.iter().position(|p| p.claims(&f.path, &f.bytes)) {
            groups.entry((i, f.dir())).or_default().push(f);
        }
    }
    let mut groups: Vec<(usize, Vec<&SourceFile>)> = groups.into_iter().map(|((i, _), g)| (i, g)).collect();
    // With a store, files that parse on their own are looked up (and parsed) one by one.
    let mut keyer = store.map(|_| cache::Keyer::new(&workload));
    let mut cached: Vec<Option<Parsed>> = Vec::new();
    let mut keys: Vec<Option<String>> = Vec::new();
    if let (Some(store), Some(keyer)) = (store, keyer.as_mut()) {
        groups = groups
            .into_iter()
            .flat_map(|(i, g)| match PARSERS[i].per_file() {
                true => g.into_iter().map(|f| (i, vec![f])).collect(),
                false => vec![(i, g)],
            })
            .collect();
        for (i, g) in &groups {
            let key = keyer.key(*i, g);
            cached.push(keyer.load(store, *i, &key, g));
            keys.push(Some(key));
        }
    }
    // Only the groups not found in the store are parsed.
    let todo: Vec<usize> = (0..groups.len())
        .filter(|k| cached.get(*k).is_none_or(Option::is_none))
        .collect();
    if store.is_some() && std::env::var_os("RAILYARD_TIMINGS").is_some() {
        eprintln!(
            "timing: (parse cache) {} of {} files and folders from the cache",
            groups.len() - todo.len(),
            groups.len()
        );
    }
    let parse = |j: usize| PARSERS[groups[todo[j]].0].parse_in(&groups[todo[j]].1, &workload);
    let budget = crate::isolate::Budget::parsing(settings);
    let outcomes: Vec<Result<Parsed, crate::isolate::Stopped>> = if budget.isolated() {
        // Terraform folders are parsed within a time and memory budget (in a child process,
        // see `crate::isolate`): its static evaluation (locals, functions, `for`
        // expressions) can be made to compute without end. The other formats are parsed here
        // in time and memory linear in their size, within their depth and alias limits.
        let bounded = |j: &usize| PARSERS[groups[todo[*j]].0].kind() == ResourceKind::Terraform;
        let pooled: Vec<usize> = (0..todo.len()).filter(bounded).collect();
        let mut pooled_outcomes = crate::isolate::run_batch(pooled.len(), budget, |j| parse(pooled[j])).into_iter();
        (0..todo.len())
            .map(|j| match bounded(&j) {
                true => pooled_outcomes
                    .next()
                    .unwrap_or(Err(crate::isolate::Stopped::NotEvaluated)),
                false => Ok(parse(j)),
            })
            .collect()
    } else {
        // Already in a child process (or isolation is off): every folder side by side.
        crate::isolate::run_jobs(todo.len(), budget, parse)
    };
    let mut outcomes = outcomes.into_iter();
    let outcomes: Vec<Result<Parsed, crate::isolate::Stopped>> = (0..groups.len())
        .map(|k| match cached.get_mut(k).and_then(Option::take) {
            Some(hit) => Ok(hit),
            None => {
                let outcome = outcomes.next().unwrap_or(Err(crate::isolate::Stopped::NotEvaluated));
                if let (Some(store), Some(keyer), Some(Some(key)), Ok(parsed)) =
                    (store, keyer.as_mut(), keys.get(k), &outcome)
                {
                    keyer.store(store, groups[k].0, key, &groups[k].1, parsed);
                }
                outcome
            }
        })
        .collect();
    let rendered_problems = !rendered.errors.is_empty() || !rendered.skipped.is_empty();
    let mut out = Parsed {
        resources: rendered.resources,
        errors: rendered.errors,
        skipped: rendered
            .skipped
            .into_iter()
            .map(|(path, reason)| Skipped {
                path,
                reason,
                kind: Some(ResourceKind::Kubernetes),
            })
            .collect(),
        transient: rendered_problems,
        ..Parsed::default()
    };
    for ((_, group), outcome) in groups.iter().zip(outcomes) {
        match outcome {
            Ok(parsed) => out.extend(parsed),
            Err(reason) => {
                out.transient = true;
                out.errors.extend(
                    group
                        .iter()
                        .map(|f| ParseError::new(&f.path, 1, format!("not parsed: {reason}"))),
                )
            }
        }
    }
    // Nested stacks whose template is not among the files (across files, as links are).
    out.skipped
        .extend(cloudformation::absent_templates(&out.resources, files));
    out.resources
        .sort_by(|a, b| (&a.file, a.line, &a.address).cmp(&(&b.file, b.line, &b.address)));
    // A module's file is read by each root module that calls it: its error is one error.
    let mut seen = std::collections::HashSet::new();
    out.errors.retain(|e| seen.insert(e.clone()));
    let mut seen = std::collections::HashSet::new();
    out.skipped.retain(|s| seen.insert((s.path.clone(), s.reason.clone())));
    out
}

/// `dir` joined with a relative path, with `.` and `..` resolved (`/`-separated, no leading `/`).
pub(crate) fn join_path(dir: &str, rel: &str) -> String {
    let mut parts: Vec<&str> = if rel.starts_with('/') {
        Vec::new()
    } else {
        dir.split('/').filter(|p| !p.is_empty()).collect()
    };
    for p in rel.split('/') {
        match p {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    parts.join("/")
}

/// One file's plain document, resources, and what it holds that is not evaluated.
pub type FileResult = (serde_json::Value, Vec<Resource>, Vec<Skipped>);

/// For formats where each file stands alone: parses every file with `parse_file`, keeping
/// its document, resources and skipped code, or its error.
pub fn parse_each(files: &[&SourceFile], parse_file: fn(&SourceFile) -> Result<FileResult, ParseError>) -> Parsed {
    let mut out = Parsed::default();
    for file in files {
        match parse_file(file) {
            Ok((document, resources, skipped)) => {
                out.documents.insert(file.path.clone(), document);
                out.resources.extend(resources);
                out.skipped.extend(skipped);
            }
            Err(e) => out.errors.push(e),
        }
    }
    out
}

/// Test support: parses a fixture folder under `tests/fixtures/` through [`parse_files`] and
/// returns the result, asserting it parsed without errors.
#[cfg(test)]
pub fn parse_fixture_dir(name: &str) -> Parsed {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    let (files, _) = crate::files::read_dir(&root, Default::default()).expect("fixtures readable");
    let p = parse_files(&files);
    assert!(p.errors.is_empty(), "{:?}", p.errors);
    p
}

#[cfg(test)]
#[test]
fn line_index_agrees_with_line_of() {
    let text = "a\nbb\n\nccc\n";
    let idx = LineIndex::new(text);
    for offset in 0..text.len() + 3 {
        assert_eq!(idx.line(offset), line_of(text, offset), "{offset}");
    }
}

#[cfg(test)]
#[test]
fn code_paths_by_name() {
    for p in [
        "main.tf",
        "a/b.tf.json",
        "x.tfvars",
        "t.yaml",
        "k.yml",
        "plan.json",
        "t.template",
    ] {
        assert!(is_code_path(p), "{p}");
    }
    for p in ["README.md", "lambda.zip", "passwd", "main.tf.bak", "Makefile"] {
        assert!(!is_code_path(p), "{p}");
    }
}

/// Line numbers of byte offsets in one text, found by binary search over the line starts:
/// a file with many blocks is not rescanned from its start for each one.
pub struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    pub fn new(text: &str) -> Self {
        let mut starts = vec![0];
        starts.extend(
            text.bytes()
                .enumerate()
                .filter(|(_, b)| *b == b'\n')
                .map(|(i, _)| i + 1),
        );
        LineIndex { starts }
    }

    /// 1-based line number of a byte offset (as [`line_of`]).
    pub fn line(&self, offset: usize) -> usize {
        self.starts.partition_point(|s| *s <= offset).max(1)
    }
}
