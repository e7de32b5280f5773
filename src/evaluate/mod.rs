//! (guardrail × workload) → findings. A workload is parsed once and its `input` prepared
//! once; every guardrail is evaluated against it; exceptions are applied to the findings.
//! A workload that could not be read completely, or a policy that errored, gives an
//! evaluation with an error: it is never counted as compliant.
//!
//! Evaluation is split in two: [`Evaluator::evaluate_raw`] gives the policy's located findings
//! before exceptions (a pure function of the guardrail's policy and metadata, the helpers and
//! the workload's files: what the result cache in [`crate::results`] stores), and
//! [`apply_exceptions`] waives findings per the guardrail's `exceptions.toml` on a given day
//! (cheap, never cached, so approving an exception needs no re-evaluation).

pub mod fixtures;
pub mod regotest;

use crate::config::ConfigError;
use crate::date::Day;
use crate::files::{Skipped, SourceFile};
use crate::guardrail::engine::{lock, Batch, Policy, PreparedInput, Violation};
use crate::guardrail::{ExceptionStatus, Guardrail, Library, Severity};
use crate::limits::RunSettings;
use crate::workload::parser::{parse_files_cached, ParseStore};
use crate::workload::{Input, ParseError, ResourceKind, WorkloadInfo};
use serde::{Deserialize, Serialize};

/// One resource of one workload that one guardrail rejects.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    pub guardrail: String,
    pub title: String,
    pub severity: Severity,
    pub resource: String,
    /// The resource's identity, unique within the workload (`envs/prod:aws_db_instance.main`,
    /// see `docs/input.md`); empty for a finding that names no resource of the workload.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub id: String,
    /// Path relative to the workload root.
    pub file: String,
    /// The offending attribute's line when the policy named it (`field`), else the
    /// resource's first line.
    pub line: usize,
    pub end_line: usize,
    /// The offending attribute as the policy named it (`spec.containers[0].securityContext.privileged`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    pub message: String,
    pub remediation: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub url: String,
    /// For a pending guardrail: the day it starts failing this workload.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deadline: Option<Day>,
    /// The exception that waives this finding, when one does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exception: Option<ExceptionRef>,
}

/// Enough of an exception to explain it in a report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExceptionRef {
    pub guardrail: String,
    pub workload: String,
    pub resource: String,
    pub reason: String,
    pub approved_by: String,
    pub expires: Day,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ticket: Option<String>,
    pub status: ExceptionStatus,
    /// `guardrails/<id>/exceptions.toml:<line>`
    pub source: String,
    /// `verified`, `unverified` or `ungoverned` (no governance on `main`).
    #[serde(default = "ungoverned")]
    pub approval: String,
    /// Why the approval did not verify (then it waives nothing).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unverified: Option<String>,
}

fn ungoverned() -> String {
    "ungoverned".into()
}

/// Why a (guardrail, workload) pair has no trustworthy verdict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EvalProblem {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guardrail: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    pub message: String,
}

impl std::fmt::Display for EvalProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some(g) = &self.guardrail {
            write!(f, "guardrail `{g}`: ")?;
        }
        match (&self.file, self.line) {
            (Some(file), Some(line)) => write!(f, "{file}:{line}: ")?,
            (Some(file), None) => write!(f, "{file}: ")?,
            _ => {}
        }
        f.write_str(&self.message)
    }
}

/// The verdict of one guardrail on one workload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Compliant,
    Excepted,
    Noncompliant,
    /// Could not be evaluated (unreadable workload, policy error): never compliant.
    Unknown,
}

/// One guardrail evaluated on one workload.
#[derive(Debug, Clone, Serialize)]
pub struct Evaluation {
    pub guardrail: String,
    pub workload: String,
    /// Findings no active exception covers.
    pub findings: Vec<Finding>,
    /// Findings an active exception waives.
    pub excepted: Vec<Finding>,
    pub problems: Vec<EvalProblem>,
}

impl Evaluation {
    pub fn verdict(&self) -> Verdict {
        if !self.problems.is_empty() {
            Verdict::Unknown
        } else if !self.findings.is_empty() {
            Verdict::Noncompliant
        } else if !self.excepted.is_empty() {
            Verdict::Excepted
        } else {
            Verdict::Compliant
        }
    }
}

/// One guardrail evaluated on one workload before exceptions: the located, sorted and
/// de-duplicated findings (none carries an exception) or the problems that make it unknown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RawEvaluation {
    pub guardrail: String,
    pub workload: String,
    #[serde(default)]
    pub findings: Vec<Finding>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub problems: Vec<EvalProblem>,
}

impl RawEvaluation {
    /// Could not be evaluated: never compliant (cached only when the workload's problems are
    /// settled by its files, see [`PreparedWorkload::settled`]).
    pub fn is_unknown(&self) -> bool {
        !self.problems.is_empty()
    }

    /// Every guardrail of a workload that could not be read at all.
    pub fn unreadable(guardrail: &str, workload: &str, problems: &[EvalProblem]) -> RawEvaluation {
        RawEvaluation {
            guardrail: guardrail.to_string(),
            workload: workload.to_string(),
            findings: Vec::new(),
            problems: problems.to_vec(),
        }
    }
}

/// A workload parsed and ready for evaluation.
pub struct PreparedWorkload {
    /// Whether every problem of the workload is settled by its files alone (parse errors,
    /// remote modules that are not present, no code found): then its unknown results are as
    /// repeatable as findings and may be cached. Not when code was left unread by a limit,
    /// a parse was stopped by its budget, or rendering depends on this machine's tools.
    pub settled: bool,
    pub input: Input,
    prepared: PreparedInput,
    /// Problems reading the workload; they make every evaluation on it *unknown*.
    pub problems: Vec<EvalProblem>,
    pub skipped: Vec<Skipped>,
    /// Code of one kind that was read but not evaluated (an unrendered Helm template): it
    /// makes *unknown* only the guardrails that judge that kind.
    kind_problems: Vec<(crate::workload::ResourceKind, EvalProblem)>,
    /// Position of the first resource with each address, so locating a finding is not a
    /// scan of every resource (100,000 findings on 100,000 resources).
    by_address: std::collections::HashMap<String, usize>,
    /// Position of the resource with each id.
    by_id: std::collections::HashMap<String, usize>,
    /// Addresses several resources share (`aws_db_instance.main` in `envs/dev` and
    /// `envs/prod`), with their positions: a finding naming only such an address is located
    /// by evaluating the guardrail again per partition (see [`PreparedWorkload::variant`]).
    ambiguous: std::collections::HashMap<String, Vec<usize>>,
    /// Inputs of one partition each, built when a guardrail first needs them.
    variants: std::sync::Mutex<std::collections::HashMap<String, std::sync::Arc<PreparedInput>>>,
    /// The text of each file holding resources, to find the line of a finding's `field`
    /// (only read for findings that name one).
    sources: std::collections::HashMap<String, std::sync::Arc<[u8]>>,
}

impl PreparedWorkload {
    /// Parses the files and builds the policy input once.
    pub fn new(info: WorkloadInfo, files: &[SourceFile], skipped: Vec<Skipped>, settings: &RunSettings) -> Self {
        Self::new_cached(info, files, skipped, settings, None)
    }

    /// [`PreparedWorkload::new`], taking what `store` holds for files and folders parsed
    /// before (in another workload or run) instead of parsing them again.
    pub fn new_cached(
        info: WorkloadInfo,
        files: &[SourceFile],
        skipped: Vec<Skipped>,
        settings: &RunSettings,
        store: Option<&dyn ParseStore>,
    ) -> Self {
        let parsed = phase("(parse)", &info.name, || parse_files_cached(files, settings, store));
        let mut w = PreparedWorkload::from_parsed(info, parsed, skipped, settings);
        let holding: std::collections::HashSet<&str> = w.input.resources.iter().map(|r| r.file.as_str()).collect();
        w.sources = files
            .iter()
            .filter(|f| holding.contains(f.path.as_str()))
            .map(|f| (f.path.clone(), std::sync::Arc::from(f.bytes.as_slice())))
            .collect();
        w
    }

    /// Builds the policy input once from what the parsers gave (references linked, the
    /// resource limit applied, converted for the engine).
    pub fn from_parsed(
        info: WorkloadInfo,
        mut parsed: crate::workload::Parsed,
        mut skipped: Vec<Skipped>,
        settings: &RunSettings,
    ) -> Self {
        let name = info.name.clone();
        let mut problems: Vec<EvalProblem> = parsed.errors.iter().map(parse_problem).collect();
        let unread = unread_code(&skipped);
        let mut settled = !parsed.transient && unread.is_empty();
        problems.extend(unread);
        skipped.append(&mut parsed.skipped);
        let kind_problems = skipped
            .iter()
            .filter_map(|s| Some((s.kind?, not_evaluated(s))))
            .collect();
        let max = settings.limits.max_resources;
        if parsed.resources.len() > max {
            // Refused whole: a partial input would let a guardrail call the workload compliant.
            problems.push(EvalProblem {
                guardrail: None,
                file: None,
                line: None,
                message: format!(
                    "the workload has {} resources, more than the limit of {max} (see --max-resources); not evaluated",
                    parsed.resources.len()
                ),
            });
            parsed.resources.clear();
            parsed.documents.clear();
            settled = false;
        }
        phase("(link)", &name, || crate::workload::links::link(&mut parsed.resources));
        let input = Input::new(info, parsed.resources, parsed.documents);

        let mut by_address = std::collections::HashMap::with_capacity(input.resources.len());
        let mut by_id = std::collections::HashMap::with_capacity(input.resources.len());
        let mut ambiguous: std::collections::HashMap<String, Vec<usize>> = std::collections::HashMap::new();
        for (i, r) in input.resources.iter().enumerate() {
            by_id.insert(r.id.clone(), i);
            if let Some(first) = by_address.get(&r.address) {
                ambiguous
                    .entry(r.address.clone())
                    .or_insert_with(|| vec![*first])
                    .push(i);
            } else {
                by_address.insert(r.address.clone(), i);
            }
        }
        PreparedWorkload {
            settled,
            by_address,
            by_id,
            ambiguous,
            variants: Default::default(),
            sources: Default::default(),
            prepared: phase("(convert)", &name, || PreparedInput::of(&input, settings.workers)),
            input,
            problems,
            skipped,
            kind_problems,
        }
    }

    /// Code of one kind that was read but not judged, with why (see `problems_for`).
    pub fn kind_problems(&self) -> &[(crate::workload::ResourceKind, EvalProblem)] {
        &self.kind_problems
    }

    /// The problems that make one guardrail's verdict on this workload unknown.
    pub fn problems_for(&self, guardrail: &crate::guardrail::Guardrail) -> Vec<EvalProblem> {
        let of_kind = self.kind_problems.iter().filter(|(k, _)| guardrail.meta.judges(*k));
        self.problems
            .iter()
            .cloned()
            .chain(of_kind.map(|(_, p)| EvalProblem {
                guardrail: Some(guardrail.id.clone()),
                ..p.clone()
            }))
            .collect()
    }

    /// The kinds of code the workload holds: those of its resources, or `None` when a file
    /// of it holds no resource (its document may still be read by a policy, and its kind is
    /// not told here), so that every guardrail judges it.
    pub fn kinds(&self) -> Option<Vec<ResourceKind>> {
        let mut kinds: Vec<ResourceKind> = Vec::new();
        let mut files: std::collections::HashSet<&str> = std::collections::HashSet::new();
        for r in &self.input.resources {
            if !kinds.contains(&r.kind) {
                kinds.push(r.kind);
            }
            files.insert(&r.file);
        }
        let described = self.input.files.keys().all(|f| files.contains(f.as_str()));
        described.then_some(kinds)
    }

    /// A workload that could not be read at all (unreachable repo, unknown ref).
    pub fn unreadable(info: WorkloadInfo, message: String) -> Self {
        // Nothing is read, so no setting applies.
        let mut w = PreparedWorkload::new(info, &[], Vec::new(), &RunSettings::default());
        // Reaching the repository again may well work.
        w.settled = false;
        w.problems.push(EvalProblem {
            guardrail: None,
            file: None,
            line: None,
            message,
        });
        w
    }

    pub fn name(&self) -> &str {
        &self.input.workload.name
    }

    /// Whether any infrastructure code was found (see [`code_found`]).
    pub fn has_code(&self) -> bool {
        code_found(self.input.resources.len(), &self.problems, &self.skipped)
    }

    /// The resource a violation names: its `id` when the workload has it, else the first
    /// resource with its `resource` address, else for a plain message the resource whose
    /// address it mentions (the longest, so `aws_s3_bucket.a` does not win over
    /// `aws_s3_bucket.ab`).
    fn named(&self, v: &Violation) -> Option<usize> {
        if let Some(i) = v.id.as_ref().and_then(|id| self.by_id.get(id)) {
            return Some(*i);
        }
        match &v.resource {
            Some(address) => self.by_address.get(address).copied(),
            None => self
                .input
                .resources
                .iter()
                .enumerate()
                .filter(|(_, r)| mentions(&v.message, &r.address))
                .max_by_key(|(_, r)| r.address.len())
                .map(|(i, _)| i),
        }
    }

    /// The address shared by several resources that a violation names without an id: which
    /// of them it means cannot be told from this evaluation.
    fn ambiguous_in(&self, v: &Violation) -> Option<&str> {
        if self.ambiguous.is_empty() || v.id.as_ref().is_some_and(|id| self.by_id.contains_key(id)) {
            return None;
        }
        let address = self.input.resources[self.named(v)?].address.as_str();
        self.ambiguous.contains_key(address).then_some(address)
    }

    /// The partition of the resource at `i` (`Resource::root`, see `workload::input::partition_of`).
    fn partition(&self, i: usize) -> &str {
        self.input.resources[i].root.as_deref().unwrap_or("")
    }

    /// The policy input of one partition: its resources and the resources linked to them
    /// (`referenced_by_index`, either way), without any other partition's resource whose
    /// address is shared, so each shared address names the partition's own resource.
    fn variant(&self, partition: &str) -> std::sync::Arc<PreparedInput> {
        if let Some(v) = lock(&self.variants).get(partition) {
            return v.clone();
        }
        let rs = &self.input.resources;
        let inside: Vec<bool> = rs.iter().map(|r| r.root.as_deref() == Some(partition)).collect();
        let mut keep = inside.clone();
        for (i, r) in rs.iter().enumerate() {
            for j in r.referenced_by_index.iter().filter(|j| **j < rs.len()) {
                if inside[i] {
                    keep[*j] = true;
                } else if inside[*j] {
                    keep[i] = true;
                }
            }
        }
        let keep: Vec<usize> = (0..rs.len())
            .filter(|i| keep[*i] && (inside[*i] || !self.ambiguous.contains_key(&rs[*i].address)))
            .collect();
        let prepared = std::sync::Arc::new(PreparedInput::of(&self.input.restricted(&keep), 1));
        lock(&self.variants)
            .entry(partition.to_string())
            .or_insert(prepared)
            .clone()
    }
}

/// Whether a workload holds infrastructure code: a resource, a file that failed to parse or
/// could not be read, or code that was not evaluated. A workload without any is a path
/// pointed at the wrong folder far more often than an empty workload.
pub fn code_found(resources: usize, problems: &[EvalProblem], skipped: &[Skipped]) -> bool {
    resources > 0
        || !problems.is_empty()
        || skipped
            .iter()
            .any(|s| s.kind.is_some() || crate::workload::parser::is_code_path(&s.path))
}

/// Files of the workload's code that were not read (too large, past the workload's size
/// limit, a symbolic link, not a regular file): the workload cannot be judged compliant.
fn unread_code(skipped: &[Skipped]) -> Vec<EvalProblem> {
    skipped
        .iter()
        .filter(|s| s.kind.is_none() && crate::workload::parser::is_code_path(&s.path))
        .map(|s| EvalProblem {
            guardrail: None,
            file: Some(s.path.clone()),
            line: None,
            message: format!("skipped: {}", s.reason),
        })
        .collect()
}

/// Code of a known kind that was not evaluated, and the ways out.
fn not_evaluated(s: &Skipped) -> EvalProblem {
    EvalProblem {
        guardrail: None,
        file: Some(s.path.clone()),
        line: None,
        message: format!(
            "skipped: {}; this guardrail judges {} code, so its verdict is unknown ({}, or list the path in the workload's `exclude` in workloads.toml)",
            s.reason,
            s.kind.map_or("this", |k| k.as_str()),
            s.remedy()
        ),
    }
}

fn parse_problem(e: &ParseError) -> EvalProblem {
    EvalProblem {
        guardrail: None,
        file: Some(e.file.clone()),
        line: Some(e.line),
        message: e.message.clone(),
    }
}

/// What evaluating libraries of guardrails on one workload gave, exceptions not applied.
#[derive(Debug, Serialize, Deserialize)]
pub struct WorkloadResults {
    /// Resources in the workload's input.
    pub resources: usize,
    /// Problems reading the workload; they make every evaluation on it unknown.
    pub problems: Vec<EvalProblem>,
    /// Per library, one evaluation per guardrail in the library's order.
    pub evaluations: Vec<Vec<RawEvaluation>>,
    /// Every file of the workload that was not evaluated (not read, or not rendered).
    #[serde(default)]
    pub skipped: Vec<Skipped>,
    /// Per library, the seconds each guardrail's evaluation took (see [`Evaluator::spent`]).
    #[serde(default)]
    pub seconds: Vec<Vec<f64>>,
}

/// Fewest resources for which `evaluate_workload` runs passes side by side on several workers.
const SIDE_BY_SIDE_MIN_RESOURCES: usize = 100;

/// Parses one workload and evaluates every guardrail of each library on it, as `check` does.
///
/// The fast way first: one child process does it all within the memory budget, parsing
/// folders and evaluating guardrails side by side on `settings.workers`
/// threads (one fork, and nothing parsed is copied between processes). If that process fails
/// in any way (a folder or a guardrail that overruns or crashes it), the work is done again
/// with one child process per job, which reports the failure against the folder or the
/// guardrail that caused it while everything else is evaluated normally.
pub fn evaluate_workload(
    info: &WorkloadInfo,
    files: &[SourceFile],
    skipped: &[Skipped],
    libraries: &[&Library],
    settings: &RunSettings,
) -> WorkloadResults {
    let run = || {
        let workload = PreparedWorkload::new(info.clone(), files, skipped.to_vec(), settings);
        // Built once the workload is parsed, with the guardrails that judge its code only.
        let kinds = workload.kinds();
        // Passes side by side cost a copy of the engine per thread and more, smaller passes
        // (1-2 ms of CPU on the corpus' small repositories): worth it only with enough to
        // evaluate. The results are the same either way.
        let settings = &match workload.input.resources.len() < SIDE_BY_SIDE_MIN_RESOURCES {
            true => settings.with_workers(1),
            false => *settings,
        };
        let mut evaluators: Vec<Evaluator> = libraries
            .iter()
            .map(|library| {
                let mut evaluator = Evaluator::for_kinds(library, settings, kinds.as_deref());
                evaluator.prepare_batch();
                evaluator
            })
            .collect();
        // Parsed: from now on each job has the evaluation's time budget.
        crate::isolate::next_phase();
        let evaluations = evaluators
            .iter_mut()
            .map(|evaluator| {
                let all: Vec<usize> = (0..evaluator.library.guardrails.len()).collect();
                evaluator.evaluate_raw_many(&all, &workload)
            })
            .collect();
        let seconds = evaluators.iter().map(|e| e.spent.clone()).collect();
        let results = WorkloadResults {
            resources: workload.input.resources.len(),
            problems: workload.problems.clone(),
            evaluations,
            skipped: workload.skipped.clone(),
            seconds,
        };
        if crate::isolate::in_child() {
            // The process ends as soon as the results are sent: freeing its largest values
            // (the input, the prepared engines) one piece at a time would only delay them.
            std::mem::forget(workload);
            std::mem::forget(evaluators);
        }
        results
    };
    let whole = crate::isolate::Budget::whole(settings);
    // (Timings are printed on stderr, which a child process does not share.)
    if whole.isolated() && !timings_wanted() {
        if let Ok(results) = crate::isolate::run_whole(whole, run) {
            return results;
        }
    }
    run()
}

/// Compiled policies of a library, one per guardrail, reused across workloads. Cloning gives
/// another worker its own engines (regorus engines are not `Sync`); clone after
/// [`Evaluator::warm_up`], or every clone redoes the engine's preparation on each evaluation.
#[derive(Clone)]
pub struct Evaluator<'a> {
    pub library: &'a Library,
    policies: Vec<Result<Policy, ConfigError>>,
    /// The guardrails that compiled, in one engine, in a bin per pass (one bin, or a few per
    /// worker when they run side by side; see [`Batch`]).
    batch: Option<Batch>,
    /// The budget and workers of each evaluation.
    settings: RunSettings,
    /// Seconds each guardrail spent in evaluations: its own (the clock of `RAILYARD_TIMINGS`,
    /// for `test --bench`), plus an equal share of each pass it was a member of (one engine
    /// run cannot be split by guardrail; `RAILYARD_TIMINGS` runs each on its own), for
    /// JUnit's per-case `time`.
    spent: Vec<f64>,
    /// Per guardrail, whether it judges code of the workload (see [`Evaluator::for_kinds`]).
    judges: Vec<bool>,
}

/// One job of a workload's evaluation, run within the budget in a child process.
#[derive(Clone, Copy)]
enum Job {
    /// Bin `b` of the batch: several guardrails in one engine run.
    Pass(usize),
    /// The guardrail at this index on its own.
    One(usize),
    /// The guardrail at this index on the input of one partition (the position of its
    /// prepared input in the list given to `run_jobs`).
    Variant(usize, usize),
}

/// What a run of jobs gave: each evaluated guardrail's violations or error, and which
/// passes succeeded.
#[derive(Default)]
struct Outcomes {
    ones: std::collections::HashMap<usize, Result<Vec<Violation>, Failure>>,
    passed: std::collections::HashSet<usize>,
    /// (guardrail, variant) → violations or error.
    variants: std::collections::HashMap<(usize, usize), Result<Vec<Violation>, Failure>>,
}

/// Why one guardrail's evaluation gave no violations: said by the evaluating child (the
/// policy's own failure crosses the pipe) or by the parent (the child was stopped). A
/// timeout is a variant, so it is reported with its budget without reading any text.
#[derive(Debug, Serialize, Deserialize)]
enum Failure {
    /// regorus' own timer stopped the policy; its message is kept as the detail.
    TimedOut(String),
    /// The policy failed (regorus' message), or its result was not usable.
    Policy(String),
    /// Its process was stopped or died (parent side only: never sent through a pipe).
    #[serde(skip)]
    Stopped(crate::isolate::Stopped),
}

impl From<crate::guardrail::engine::EvalError> for Failure {
    fn from(e: crate::guardrail::engine::EvalError) -> Self {
        match e.kind {
            crate::guardrail::engine::EvalErrorKind::TimedOut => Failure::TimedOut(e.message),
            crate::guardrail::engine::EvalErrorKind::Failed => Failure::Policy(e.message),
        }
    }
}

#[derive(Serialize, Deserialize)]
enum JobResult {
    /// Every member's violations, or `None` when the pass failed and its members must run
    /// one by one to tell which failed; and the seconds it took.
    Pass(Option<Vec<Vec<Violation>>>, f64),
    /// The violations or the error, and the seconds it took.
    One(Result<Vec<Violation>, Failure>, f64),
}

impl<'a> Evaluator<'a> {
    /// An evaluator for `settings.workers` workers, each evaluation within its budget.
    pub fn new(library: &'a Library, settings: &RunSettings) -> Self {
        Self::for_kinds(library, settings, None)
    }

    /// An evaluator for one workload holding code of `kinds` only (`None`: of any kind). A
    /// guardrail that declares none of them (`kinds` in `guardrail.toml`, "the kinds of code
    /// the guardrail judges") has nothing to judge there: it is not evaluated, nor put in the
    /// batch engine (preparing it is most of a small workload's cost), and its result is
    /// that of a policy that found nothing, the workload's problems included: unknown when
    /// the workload has problems or skipped code of a kind it judges, never a silent pass.
    pub fn for_kinds(library: &'a Library, settings: &RunSettings, kinds: Option<&[ResourceKind]>) -> Self {
        let judges: Vec<bool> = library
            .guardrails
            .iter()
            .map(|g| kinds.is_none_or(|kinds| kinds.iter().any(|k| g.meta.judges(*k))))
            .collect();
        let policies = library
            .guardrails
            .iter()
            .map(|g| match &g.compiled {
                Some(p) => Ok(p.clone()),
                None => Policy::compile(g, &library.helpers),
            })
            .collect::<Vec<_>>();
        let compiled: Vec<(usize, &Guardrail)> = policies
            .iter()
            .zip(&library.guardrails)
            .enumerate()
            .filter(|(i, (p, _))| p.is_ok() && judges[*i])
            .map(|(i, (_, g))| (i, g))
            .collect();
        // Side by side, a few passes per worker even out passes of unequal cost (measured on
        // the bench workload: 1 per worker 10% slower than 3 or more, which are alike).
        let workers = settings.workers;
        let bins = if workers > 1 { 4 * workers } else { 1 };
        let batch = Batch::build(&compiled, &library.helpers, bins, library.parsed.as_ref());
        Evaluator {
            library,
            spent: vec![0.0; policies.len()],
            policies,
            batch,
            settings: *settings,
            judges,
        }
    }

    /// Seconds the guardrail at `index` has spent so far in evaluations (its own, see
    /// [`Evaluator::evaluate_raw`], and its share of passes); policy time only, without
    /// parsing or forking.
    pub fn spent(&self, index: usize) -> f64 {
        self.spent.get(index).copied().unwrap_or(0.0)
    }

    /// Prepares the engine holding the whole library (a few milliseconds), so that its
    /// copies for worker threads start prepared.
    pub fn prepare_batch(&mut self) {
        if let Some(b) = &mut self.batch {
            b.prepare();
        }
    }

    /// Prepares every policy's engine without running it, so that clones start prepared.
    pub fn warm_up(&mut self) {
        for p in self.policies.iter_mut().flatten() {
            p.prepare();
        }
        if let Some(b) = &mut self.batch {
            b.prepare();
        }
    }

    /// Evaluates every guardrail of the library on the workload.
    pub fn evaluate_all(&mut self, workload: &PreparedWorkload, today: Day) -> Vec<Evaluation> {
        let all: Vec<usize> = (0..self.library.guardrails.len()).collect();
        self.evaluate_raw_many(&all, workload)
            .into_iter()
            .zip(&self.library.guardrails)
            .map(|(raw, g)| apply_exceptions(g, raw, today))
            .collect()
    }

    /// Evaluates the guardrail at `index` on the workload and applies its exceptions.
    pub fn evaluate_one(&mut self, index: usize, workload: &PreparedWorkload, today: Day) -> Evaluation {
        let raw = self.evaluate_raw(index, workload);
        apply_exceptions(&self.library.guardrails[index], raw, today)
    }

    /// Evaluates the guardrail at `index` on the workload, exceptions not applied.
    pub fn evaluate_raw(&mut self, index: usize, workload: &PreparedWorkload) -> RawEvaluation {
        let mut raw = self.evaluate_raw_many(&[index], workload);
        raw.pop()
            .unwrap_or_else(|| RawEvaluation::unreadable("", workload.name(), &[]))
    }

    /// Evaluates the guardrails at `indices` on the workload, exceptions not applied, each
    /// within the time and memory budget (`crate::isolate`): one that overruns
    /// is an error for that guardrail only.
    pub fn evaluate_raw_many(&mut self, indices: &[usize], workload: &PreparedWorkload) -> Vec<RawEvaluation> {
        // A guardrail that judges no code of the workload finds nothing (see `for_kinds`).
        let judged: Vec<usize> = indices.iter().copied().filter(|i| self.judges[*i]).collect();
        if judged.len() == indices.len() {
            return self.evaluate_judged(indices, workload);
        }
        let mut raw = self.evaluate_judged(&judged, workload).into_iter();
        indices
            .iter()
            .map(|i| match self.judges[*i] {
                // (One result per judged index; should one be missing, it is an error.)
                true => raw
                    .next()
                    .unwrap_or_else(|| self.raw_of(*i, workload, None, Vec::new())),
                false => self.raw_of(*i, workload, Some(Ok(Vec::new())), Vec::new()),
            })
            .collect()
    }

    /// [`Evaluator::evaluate_raw_many`] of guardrails that judge the workload's code.
    fn evaluate_judged(&mut self, indices: &[usize], workload: &PreparedWorkload) -> Vec<RawEvaluation> {
        let wanted: std::collections::HashSet<usize> = indices.iter().copied().collect();
        // A pass runs when most of its members are wanted (it evaluates all of them); the
        // rest run one by one.
        let mut jobs = Vec::new();
        let mut in_pass = std::collections::HashSet::new();
        if let Some(batch) = self.batch.as_ref().filter(|_| !timings_wanted()) {
            let asked = batch.members().iter().filter(|m| wanted.contains(m)).count();
            if asked >= 2 && asked * 2 >= batch.members().len() {
                jobs.extend((0..batch.bins().len()).map(Job::Pass));
                in_pass.extend(batch.members().iter().copied().filter(|m| wanted.contains(m)));
            }
        }
        jobs.extend(
            indices
                .iter()
                .filter(|i| self.policies[**i].is_ok() && !in_pass.contains(*i))
                .map(|i| Job::One(*i)),
        );
        let mut outcomes = self.run_jobs(&jobs, workload, &[]);
        // A pass that failed in any way tells nothing about which member failed: its
        // members run one by one, so an error or an overrun is reported against its cause.
        let retry: Vec<Job> = jobs
            .iter()
            .filter_map(|job| match job {
                Job::Pass(p) if !outcomes.passed.contains(p) => Some(*p),
                _ => None,
            })
            .flat_map(|b| self.bin_members(b))
            .filter(|m| wanted.contains(m))
            .map(Job::One)
            .collect();
        outcomes.ones.extend(self.run_jobs(&retry, workload, &[]).ones);
        // A violation naming without an id an address several resources share (two
        // `aws_db_instance.main` in `envs/dev` and `envs/prod`) cannot be located, and two
        // identical ones collapsed into one (`deny` is a set): the guardrail runs again on
        // each partition holding that address. Nothing is shared in the common case.
        let mut partitions: Vec<String> = Vec::new();
        let mut variant_jobs: Vec<Job> = Vec::new();
        if !workload.ambiguous.is_empty() {
            for i in indices {
                let Some(Ok(violations)) = outcomes.ones.get(i) else {
                    continue;
                };
                let mut wanted: std::collections::BTreeSet<&str> = std::collections::BTreeSet::new();
                for address in violations.iter().filter_map(|v| workload.ambiguous_in(v)) {
                    wanted.extend(workload.ambiguous[address].iter().map(|p| workload.partition(*p)));
                }
                for p in wanted {
                    let k = match partitions.iter().position(|q| q == p) {
                        Some(k) => k,
                        None => {
                            partitions.push(p.to_string());
                            partitions.len() - 1
                        }
                    };
                    variant_jobs.push(Job::Variant(*i, k));
                }
            }
        }
        let inputs: Vec<std::sync::Arc<PreparedInput>> = partitions.iter().map(|p| workload.variant(p)).collect();
        let mut variants = self.run_jobs(&variant_jobs, workload, &inputs).variants;
        indices
            .iter()
            .map(|i| {
                let outcome = outcomes.ones.remove(i);
                let mine: Vec<(&str, Result<Vec<Violation>, Failure>)> = variant_jobs
                    .iter()
                    .filter_map(|job| match job {
                        Job::Variant(g, k) if g == i => Some((
                            partitions[*k].as_str(),
                            variants
                                .remove(&(*g, *k))
                                .unwrap_or_else(|| Err(Failure::Policy("not evaluated".to_string()))),
                        )),
                        _ => None,
                    })
                    .collect();
                self.raw_of(*i, workload, outcome, mine)
            })
            .collect()
    }

    /// The guardrails (indices) of the batch's bin `b`.
    fn bin_members(&self, b: usize) -> Vec<usize> {
        self.batch
            .as_ref()
            .map(|batch| batch.bins()[b].clone())
            .unwrap_or_default()
    }

    /// Runs the jobs within the budget on the configured workers; the outcome of each
    /// guardrail evaluated, keyed by guardrail index (and each pass's own success).
    fn run_jobs(
        &mut self,
        jobs: &[Job],
        workload: &PreparedWorkload,
        variants: &[std::sync::Arc<PreparedInput>],
    ) -> Outcomes {
        let mut out = Outcomes::default();
        if jobs.is_empty() {
            return out;
        }
        // Prepared here once, so every child process and every thread's copy of the batch
        // starts with prepared engines.
        for job in jobs {
            if let Job::One(i) | Job::Variant(i, _) = job {
                if let Ok(p) = &mut self.policies[*i] {
                    p.prepare();
                }
            }
        }
        let budget = crate::isolate::Budget::evaluation(&self.settings);
        let limits = self.settings.limits;
        let side_by_side = !budget.isolated() && budget.workers > 1;
        let passes = jobs.iter().filter(|j| matches!(j, Job::Pass(_))).count();
        if let Some(batch) = self.batch.as_mut().filter(|_| passes > 0) {
            batch.prepare(); // before copying: a copy of a prepared engine is prepared
        }
        // One copy of the batch's engine per thread that may run a pass; each job has its
        // own engine, and the locks only let threads share the lists.
        let copies = if side_by_side { budget.workers.min(passes) } else { 1 };
        let mut spare: Vec<Batch> = match &self.batch {
            Some(b) if passes > 0 => (1..copies).map(|_| b.clone()).collect(),
            _ => Vec::new(),
        };
        let batches: Vec<std::sync::Mutex<&mut Batch>> = self
            .batch
            .iter_mut()
            .chain(spare.iter_mut())
            .map(std::sync::Mutex::new)
            .collect();
        let policies: Vec<std::sync::Mutex<&mut Result<Policy, ConfigError>>> =
            self.policies.iter_mut().map(std::sync::Mutex::new).collect();
        let results = crate::isolate::run_jobs(jobs.len(), budget, |k| match jobs[k] {
            Job::Pass(b) => {
                // As many copies as threads running passes: one is always free.
                let mut engine = loop {
                    if let Some(free) = batches.iter().find_map(|m| m.try_lock().ok()) {
                        break free;
                    }
                    std::thread::yield_now();
                };
                let start = std::time::Instant::now();
                let result = engine.evaluate(&workload.prepared, b, &limits);
                JobResult::Pass(result, start.elapsed().as_secs_f64())
            }
            Job::One(i) => {
                let start = std::time::Instant::now();
                let result = match &mut **lock(&policies[i]) {
                    Ok(policy) => policy.evaluate(&workload.prepared, &limits).map_err(Failure::from),
                    Err(message) => Err(Failure::Policy(message.to_string())),
                };
                JobResult::One(result, start.elapsed().as_secs_f64())
            }
            Job::Variant(i, k) => {
                let start = std::time::Instant::now();
                let result = match &mut **lock(&policies[i]) {
                    Ok(policy) => policy.evaluate(&variants[k], &limits).map_err(Failure::from),
                    Err(message) => Err(Failure::Policy(message.to_string())),
                };
                JobResult::One(result, start.elapsed().as_secs_f64())
            }
        });
        drop((policies, batches));
        for (job, result) in jobs.iter().zip(results) {
            match (job, result) {
                (Job::Pass(b), Ok(JobResult::Pass(result, secs))) => {
                    let members = self.bin_members(*b);
                    for m in &members {
                        self.spent[*m] += secs / members.len() as f64;
                    }
                    if let Some(all) = result {
                        out.passed.insert(*b);
                        for (m, v) in members.into_iter().zip(all) {
                            out.ones.insert(m, Ok(v));
                        }
                    }
                }
                (Job::Pass(_), _) => {}
                (Job::One(i), Ok(JobResult::One(r, secs))) => {
                    timing(&self.library.guardrails[*i].id, workload.name(), secs);
                    self.spent[*i] += secs;
                    out.ones.insert(*i, r);
                }
                (Job::One(i), Err(stopped)) => {
                    out.ones.insert(*i, Err(Failure::Stopped(stopped)));
                }
                (Job::One(i), Ok(JobResult::Pass(..))) => {
                    out.ones.insert(
                        *i,
                        Err(Failure::Policy("internal error: mismatched result".to_string())),
                    );
                }
                (Job::Variant(i, k), Ok(JobResult::One(r, secs))) => {
                    self.spent[*i] += secs;
                    out.variants.insert((*i, *k), r);
                }
                (Job::Variant(i, k), Err(stopped)) => {
                    out.variants.insert((*i, *k), Err(Failure::Stopped(stopped)));
                }
                (Job::Variant(i, k), Ok(JobResult::Pass(..))) => {
                    out.variants.insert(
                        (*i, *k),
                        Err(Failure::Policy("internal error: mismatched result".to_string())),
                    );
                }
            }
        }
        out
    }

    fn raw_of(
        &self,
        index: usize,
        workload: &PreparedWorkload,
        outcome: Option<Result<Vec<Violation>, Failure>>,
        variants: Vec<(&str, Result<Vec<Violation>, Failure>)>,
    ) -> RawEvaluation {
        let g = &self.library.guardrails[index];
        let mut eval = RawEvaluation {
            guardrail: g.id.clone(),
            workload: workload.name().to_string(),
            findings: Vec::new(),
            problems: workload.problems_for(g),
        };
        let violations = match (&self.policies[index], outcome) {
            (Err(error), _) => {
                eval.problems.push(EvalProblem {
                    guardrail: Some(g.id.clone()),
                    file: None,
                    line: None,
                    message: error.to_string(),
                });
                return eval;
            }
            (Ok(_), Some(Ok(v))) => v,
            (Ok(_), other) => {
                let failure = match other {
                    Some(Err(f)) => f,
                    _ => Failure::Policy("not evaluated".to_string()),
                };
                let (line, message) = self.explain(&failure);
                eval.problems.push(EvalProblem {
                    guardrail: Some(g.id.clone()),
                    file: Some(g.policy_path.clone()),
                    line,
                    message: format!("policy error: {message}"),
                });
                return eval;
            }
        };
        let shared: std::collections::HashSet<&str> =
            violations.iter().filter_map(|v| workload.ambiguous_in(v)).collect();
        let mut findings: Vec<Finding> = Vec::new();
        // Each partition's violations naming a shared address, located in that partition.
        let mut told_apart: std::collections::HashSet<&str> = std::collections::HashSet::new();
        for (partition, result) in variants {
            let vs = match result {
                Ok(vs) => vs,
                Err(failure) => {
                    let (line, message) = self.explain(&failure);
                    eval.problems.push(EvalProblem {
                        guardrail: Some(g.id.clone()),
                        file: Some(g.policy_path.clone()),
                        line,
                        message: format!(
                            "policy error evaluating resources of `{partition}` alone (to tell apart resources \
                             that share an address): {message}"
                        ),
                    });
                    continue;
                }
            };
            for v in vs {
                let Some(address) = workload.ambiguous_in(&v).filter(|a| shared.contains(a)) else {
                    continue;
                };
                let Some(at) = workload.ambiguous[address]
                    .iter()
                    .find(|p| workload.partition(**p) == partition)
                else {
                    continue;
                };
                told_apart.insert(workload.input.resources[*at].address.as_str());
                findings.push(locate(g, workload, v, Some(*at)));
            }
        }
        for v in violations {
            match workload.ambiguous_in(&v) {
                Some(address) if told_apart.contains(address) => {}
                // Not reproduced on any partition alone (the policy needs resources of
                // several): kept, on the first resource with the address, as before.
                _ => {
                    let at = workload.named(&v);
                    findings.push(locate(g, workload, v, at));
                }
            }
        }
        findings.sort_by(|a, b| {
            (&a.file, a.line, &a.resource, &a.id, &a.message).cmp(&(&b.file, b.line, &b.resource, &b.id, &b.message))
        });
        findings.dedup();
        eval.findings = findings;
        eval
    }

    /// A failure on one line, with the policy line it names: regorus' own timeout is said
    /// the way the other budget errors are, with regorus' words as the detail.
    fn explain(&self, failure: &Failure) -> (Option<usize>, String) {
        match failure {
            Failure::TimedOut(message) => {
                let (line, message) = condense(message);
                let budget = crate::isolate::Budget::evaluation(&self.settings);
                (line, format!("{} ({message})", budget.timed_out()))
            }
            Failure::Policy(message) => condense(message),
            Failure::Stopped(stopped) => condense(&stopped.to_string()),
        }
    }
}

/// regorus' runtime errors come as `--> path:line:col`, the source line and a caret, then
/// `error: …`: keep the line number and the message, on one line.
fn condense(message: &str) -> (Option<usize>, String) {
    let Some(at) = message.find("--> ") else {
        return (None, message.trim().to_string());
    };
    let location = message[at + 4..].lines().next().unwrap_or("");
    let line = location.rsplit(':').nth(1).and_then(|n| n.trim().parse().ok());
    let text = message
        .lines()
        .filter_map(|l| l.trim().strip_prefix("error:"))
        .map(str::trim)
        .rfind(|l| !l.is_empty())
        .unwrap_or(message.trim());
    (line, text.to_string())
}

/// Applies the guardrail's exceptions on `today` to a raw evaluation: findings an active
/// exception covers are waived; an expired one is shown but waives nothing.
pub fn apply_exceptions(g: &Guardrail, raw: RawEvaluation, today: Day) -> Evaluation {
    let mut eval = Evaluation {
        guardrail: raw.guardrail,
        workload: raw.workload,
        findings: Vec::new(),
        excepted: Vec::new(),
        problems: raw.problems,
    };
    for mut f in raw.findings {
        match exception_for(g, &eval.workload, &f.resource, &f.file, today) {
            Some(e) if e.status == ExceptionStatus::Active => {
                f.exception = Some(e);
                eval.excepted.push(f);
            }
            other => {
                f.exception = other; // an expired exception is shown, but no longer waives
                eval.findings.push(f);
            }
        }
    }
    eval
}

/// With `RAILYARD_TIMINGS` set, prints each evaluation's time on stderr, so a guardrail
/// author can see which policy is slow.
fn timing(guardrail: &str, workload: &str, secs: f64) {
    if timings_wanted() {
        eprintln!("timing: {guardrail} on {workload}: {:.1} ms", secs * 1000.0);
    }
}

/// The exception of `g` covering the resource (its address, and the file it lives in for an
/// exception with a `path`), preferring one that applies (active and verified), then the
/// latest to expire.
pub fn exception_for(g: &Guardrail, workload: &str, resource: &str, file: &str, today: Day) -> Option<ExceptionRef> {
    if g.exceptions.is_empty() {
        return None;
    }
    let mut covering: Vec<_> = g
        .exceptions
        .iter()
        .filter(|e| e.covers(workload, resource) && e.covers_path(file))
        .collect();
    covering.sort_by_key(|e| (e.status(today) != ExceptionStatus::Active, std::cmp::Reverse(e.expires)));
    covering.first().map(|e| ExceptionRef {
        guardrail: g.id.clone(),
        workload: e.workload.clone(),
        resource: e.resource.clone(),
        reason: e.reason.clone(),
        approved_by: e.approved_by.clone(),
        expires: e.expires,
        ticket: e.ticket.clone(),
        status: e.status(today),
        source: format!(
            "{}:{}",
            g.policy_path.trim_end_matches("policy.rego").to_string() + "exceptions.toml",
            e.line
        ),
        approval: e.approval.as_str().to_string(),
        unverified: e.approval.reason().map(str::to_string),
    })
}

/// Turns a policy's violation into a finding that points at code: the resource at `at` (see
/// [`PreparedWorkload::named`]), its file and lines, or the line of the violation's `field`.
fn locate(g: &Guardrail, workload: &PreparedWorkload, v: Violation, at: Option<usize>) -> Finding {
    let resource = at.map(|i| &workload.input.resources[i]);
    let (address, id, file, line, end_line) = match resource {
        Some(r) => (r.address.clone(), r.id.clone(), r.file.clone(), r.line, r.end_line),
        None => (
            v.resource.clone().unwrap_or_default(),
            String::new(),
            String::new(),
            0,
            0,
        ),
    };
    // The attribute's own line, when the policy named one and it is found in the source.
    let field_line = match (resource, &v.field, &v.file) {
        (Some(r), Some(field), None) => workload
            .sources
            .get(&r.file)
            .and_then(|text| crate::workload::position::field_line(text, r, field)),
        _ => None,
    };
    let file = v.file.unwrap_or(file);
    let (line, end_line) = match (v.line, field_line) {
        (Some(l), _) => (l, end_line.max(l)),
        (None, Some(l)) => (l, l),
        (None, None) => (line, end_line),
    };
    Finding {
        guardrail: g.id.clone(),
        title: g.meta.title.clone(),
        severity: g.meta.severity,
        resource: address,
        id,
        file,
        line,
        end_line: end_line.max(line),
        field: v.field,
        message: v.message,
        remediation: g.meta.remediation.clone(),
        url: g.meta.url.clone(),
        deadline: None,
        exception: None,
    }
}

/// Whether `message` names `address` as a whole word (so `aws_s3_bucket.a` is not found
/// inside `aws_s3_bucket.ab`).
fn mentions(message: &str, address: &str) -> bool {
    let is_word = |c: char| c.is_alphanumeric() || c == '_' || c == '-' || c == '.';
    message.match_indices(address).any(|(i, _)| {
        let before = message[..i].chars().next_back();
        let after = message[i + address.len()..].chars().next();
        !before.is_some_and(is_word) && !after.is_some_and(|c| is_word(c) && c != '.')
    })
}

fn timings_wanted() -> bool {
    std::env::var_os("RAILYARD_TIMINGS").is_some()
}

/// Runs one step of preparing a workload, timed under `RAILYARD_TIMINGS`.
fn phase<T>(label: &str, workload: &str, f: impl FnOnce() -> T) -> T {
    let start = std::time::Instant::now();
    let out = f();
    timing(label, workload, start.elapsed().as_secs_f64());
    out
}

#[cfg(test)]
mod tests {
    use super::mentions;

    #[test]
    fn mentions_whole_addresses_only() {
        assert!(mentions("bucket aws_s3_bucket.a is public", "aws_s3_bucket.a"));
        assert!(mentions("aws_s3_bucket.a.", "aws_s3_bucket.a"));
        assert!(!mentions("bucket aws_s3_bucket.ab is public", "aws_s3_bucket.a"));
        assert!(!mentions("xaws_s3_bucket.a", "aws_s3_bucket.a"));
    }
}
