//! `railyard check [PATH]`: an application pipeline's gate. Evaluates the active guardrails
//! on a local workload and fails on findings; pending guardrails are shown as warnings with
//! their deadline and never fail the build.

use super::Outcome;
use crate::date::Day;
use crate::evaluate::{apply_exceptions, evaluate_workload, EvalProblem};
use crate::files::{read_dir, ReadLimits};
use crate::guardrail::{Library, Severity};
use crate::output::Format;
pub use crate::report::check::{CheckReport, EvaluatedGuardrail, Summary};
use crate::workload::WorkloadInfo;
use anyhow::Context;
use std::io::Write;
use std::path::PathBuf;

/// A pending guardrail (as a one-guardrail library) and its deadline for this workload.
pub type Pending = (Library, Option<Day>);

/// Everything `check` needs, resolved from the command line once.
pub struct CheckOptions {
    pub path: PathBuf,
    pub workload: WorkloadInfo,
    /// Active guardrails: their findings fail the build.
    pub active: Library,
    /// Pending guardrails and each one's deadline for this workload: warnings only.
    pub pending: Vec<Pending>,
    pub now: Day,
    /// Findings below this severity are reported but do not fail the build.
    pub fail_on: Severity,
    pub format: Format,
    /// Processes evaluating the workload at once; `None` = the machine's cores.
    pub jobs: Option<usize>,
    /// A path with no infrastructure code at all is expected (otherwise it is an error).
    pub allow_empty: bool,
    /// Globs of paths not to evaluate (`--exclude`).
    pub exclude: Vec<String>,
    /// `--path-base`: SARIF paths relative to this folder instead of the git repository root.
    pub path_base: Option<PathBuf>,
    /// The run's limits (its worker count is `jobs`).
    pub settings: crate::limits::RunSettings,
}

pub fn check(opts: CheckOptions, out: &mut dyn Write) -> anyhow::Result<Outcome> {
    // One workload: it may use every core (parsing folders and evaluating guardrails side
    // by side).
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let settings = opts.settings.with_workers(opts.jobs.unwrap_or(cores));
    let started = std::time::Instant::now();

    // Read the workload from disk (symlinks are never followed) and parse it once.
    let (mut files, mut skipped) = read_dir(&opts.path, ReadLimits::for_workload(&settings.limits))
        .with_context(|| format!("reading workload `{}`", opts.path.display()))?;
    let exclude = crate::files::Exclude::new(&opts.exclude).context("--exclude")?;
    exclude.apply(&mut files, &mut skipped);
    // Only SARIF and Code Quality use it; a `--path-base` that does not hold the path is refused whatever the format.
    let path_base = match (opts.format, &opts.path_base) {
        (Format::Sarif | Format::Codequality, _) | (_, Some(_)) => {
            crate::output::PathBase::resolve(&opts.path, opts.path_base.as_deref())?
        }
        _ => crate::output::PathBase::default(),
    };
    let file_count = files.len();
    let libraries: Vec<&Library> = std::iter::once(&opts.active)
        .chain(opts.pending.iter().map(|(library, _)| library))
        .collect();
    let results = evaluate_workload(&opts.workload, &files, &skipped, &libraries, &settings);
    // Read and not read, rendered or not: every file of code that was not evaluated.
    let skipped = results.skipped;
    let seconds = results.seconds;
    let mut evaluations = results.evaluations.into_iter();

    // Code of a kind that was not evaluated (an unrendered Helm chart) is reported once per
    // file below, not once per guardrail. A guardrail's problem of that kind is the one that
    // names such a file and no line (a policy's own errors name its policy file).
    let not_evaluated = |p: &EvalProblem| {
        p.guardrail.is_some()
            && p.line.is_none()
            && skipped
                .iter()
                .any(|s| s.kind.is_some() && p.file.as_deref() == Some(s.path.as_str()))
    };

    // The active guardrails: their findings fail the build.
    let mut findings = Vec::new();
    let mut excepted = Vec::new();
    let mut errors: Vec<EvalProblem> = results.problems.clone();
    let active = evaluations.next().unwrap_or_default();
    for (raw, g) in active.into_iter().zip(&opts.active.guardrails) {
        let eval = apply_exceptions(g, raw, opts.now);
        findings.extend(eval.findings);
        excepted.extend(eval.excepted);
        errors.extend(
            eval.problems
                .into_iter()
                .filter(|p| p.guardrail.is_some() && !not_evaluated(p)),
        );
    }
    // Fail closed: code an active guardrail would judge was not evaluated.
    for s in &skipped {
        let Some(kind) = s.kind else { continue };
        let judges: Vec<&str> = opts
            .active
            .guardrails
            .iter()
            .filter(|g| g.meta.judges(kind))
            .map(|g| g.id.as_str())
            .collect();
        if !judges.is_empty() {
            errors.push(EvalProblem {
                guardrail: None,
                file: Some(s.path.clone()),
                line: None,
                message: format!(
                    "skipped: {}; not evaluated by {} that judge {} code ({}, or --exclude the path)",
                    s.reason,
                    crate::output::plural(judges.len(), "active guardrail"),
                    kind.as_str(),
                    s.remedy()
                ),
            });
        }
    }
    // A pipeline pointed at the wrong folder must not pass on nothing.
    if !crate::evaluate::code_found(results.resources, &results.problems, &skipped) && !opts.allow_empty {
        errors.push(EvalProblem {
            guardrail: None,
            file: Some(opts.path.display().to_string()),
            line: None,
            message: "no infrastructure code found (no Terraform, CloudFormation or Kubernetes resources): is the path right? Pass --allow-empty if this is expected".into(),
        });
    }

    // The pending guardrails: warnings that carry their deadline.
    let mut warnings = Vec::new();
    let mut pending_count = 0;
    for ((library, deadline), raws) in opts.pending.iter().zip(evaluations) {
        pending_count += library.guardrails.len();
        for (raw, g) in raws.into_iter().zip(&library.guardrails) {
            let eval = apply_exceptions(g, raw, opts.now);
            warnings.extend(eval.findings.into_iter().map(|mut f| {
                f.deadline = *deadline;
                f
            }));
            errors.extend(
                eval.problems
                    .into_iter()
                    .filter(|p| p.guardrail.is_some() && !not_evaluated(p)),
            );
        }
    }

    // Decide the outcome: errors first (never read as compliant), then failing findings.
    let failing = findings.iter().filter(|f| f.severity >= opts.fail_on).count();
    let evaluated = opts
        .active
        .guardrails
        .iter()
        .map(|g| (g, false, None))
        .chain(
            opts.pending
                .iter()
                .flat_map(|(library, deadline)| library.guardrails.iter().map(|g| (g, true, *deadline))),
        )
        .zip(seconds.iter().flatten().copied().chain(std::iter::repeat(0.0)))
        .map(|((g, pending, _deadline), secs)| EvaluatedGuardrail {
            id: g.id.clone(),
            pending,
            elapsed: std::time::Duration::try_from_secs_f64(secs).unwrap_or_default(),
        })
        .collect();
    let report = CheckReport {
        version: 1,
        workload: opts.workload.name.clone(),
        path: crate::files::clean_path(&opts.path.display().to_string()),
        now: opts.now,
        summary: Summary {
            guardrails: opts.active.guardrails.len(),
            pending_guardrails: pending_count,
            resources: results.resources,
            files: file_count,
            findings: findings.len(),
            failing,
            warnings: warnings.len(),
            excepted: excepted.len(),
            errors: errors.len(),
        },
        findings,
        warnings,
        excepted,
        errors,
        skipped,
        path_base,
        evaluated,
        elapsed: started.elapsed(),
    };
    // Rendered whole, then written at once: stdout is line-buffered, and a report of a few
    // hundred findings is thousands of lines.
    let mut rendered = Vec::new();
    crate::output::render(opts.format, &report, &mut rendered)?;
    out.write_all(&rendered)?;
    out.flush()?;
    // The table shows errors itself; behind a machine format (`--format sarif > file`) the CI
    // log would otherwise show an exit code and no reason. One line each, file:line first.
    if opts.format != Format::Table {
        for e in &report.errors {
            // Location first, as compilers print it (CI log matchers read `file:line:`).
            let at = match (&e.file, e.line) {
                (Some(file), Some(line)) => format!("{file}:{line}: "),
                (Some(file), None) => format!("{file}: "),
                _ => String::new(),
            };
            let guardrail = e
                .guardrail
                .as_ref()
                .map(|g| format!("guardrail `{g}`: "))
                .unwrap_or_default();
            let text = format!("{at}{guardrail}{}", e.message);
            eprintln!("error: {}", crate::report::escape::line(&text));
        }
    }
    let outcome = if !report.errors.is_empty() {
        Outcome::Error
    } else if failing > 0 {
        Outcome::Findings
    } else {
        Outcome::Clean
    };
    drop(report);
    // `check` runs once per process, which ends here: freeing the loaded guardrails (every
    // policy's syntax tree) one node at a time would only delay the exit (about 1 ms).
    std::mem::forget(opts);
    Ok(outcome)
}

/// Resolves `--guardrails`: a folder (every guardrail in it is active), or a guardrails
/// repository `REPO[@REF]` whose REF (default `main`) holds the active guardrails and whose
/// `develop` holds the pending ones, each with this workload's deadline from the ledger.
pub fn guardrails_for(s: &super::Settings, spec: &str, workload: &str) -> anyhow::Result<(Library, Vec<Pending>)> {
    use crate::gitops::{GuardrailsRepo, DEVELOP, MAIN};
    use crate::guardrail::load_library;
    use crate::ledger::Ledger;

    let (repo_spec, reference) = split_ref(spec);
    let path = std::path::Path::new(repo_spec);
    let is_repo = reference.is_some()
        || crate::gitops::is_url(repo_spec)
        || path.join(".git").exists()
        || path.join("HEAD").is_file();
    if !is_repo {
        let library = crate::guardrail::load_dir_without_fixtures(path)
            .with_context(|| format!("loading guardrails from `{spec}`"))?;
        return Ok((library, Vec::new()));
    }
    let mut repo = GuardrailsRepo::open(repo_spec, &s.cache_dir, s.repo_token_env.as_deref(), s.fetch_timeout)?;
    repo.set_seal_key(s.ledger_key.clone());
    let active_ref = reference.unwrap_or(MAIN);
    let active_commit = repo.resolve(active_ref)?;
    let prefix = "guardrails/";
    let mut active = load_library(&repo.read_tree(&active_commit, "guardrails")?, prefix)
        .with_context(|| format!("loading guardrails from `{}` at `{active_ref}`", repo.display))?;
    // Exceptions count only when `main`'s governance verifies their approval, as in the loop.
    let main_commit = repo.tip(MAIN)?;
    let governance = match &main_commit {
        Some(main) => super::release::load_governance(&repo, main)?,
        None => None,
    };
    // The owners (no self-approval) come from both registries; with governance on, one that
    // does not parse is an error, not an empty owner list.
    let mut registries = Vec::new();
    for (branch, commit) in [(DEVELOP, repo.tip(DEVELOP)?), (MAIN, main_commit.clone())] {
        let Some(commit) = commit.filter(|_| governance.is_some()) else {
            continue;
        };
        if let Some(text) = repo.read_file(&commit, super::release::REGISTRY_FILE)? {
            let name = format!("{branch}:{}", super::release::REGISTRY_FILE);
            let parsed = crate::workload::registry::parse(&name, &String::from_utf8_lossy(&text));
            registries.push(parsed.map_err(|errors| {
                anyhow::anyhow!(
                    "{}",
                    errors.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("\n")
                )
            })?);
        }
    }
    let registry_refs: Vec<&crate::workload::registry::Registry> = registries.iter().collect();
    let develop_tip = repo.tip(DEVELOP)?;
    super::release::govern(
        &repo,
        &active_commit,
        &mut active,
        governance.as_ref(),
        &registry_refs,
        develop_tip.as_deref().filter(|_| active_ref != DEVELOP),
    );
    super::release::warn_ungoverned(&active, governance.as_ref());
    let mut pending = Vec::new();
    if let (Some(develop), true) = (repo.tip(DEVELOP)?, active_ref != DEVELOP) {
        let mut candidates = load_library(&repo.read_tree(&develop, "guardrails")?, prefix)
            .with_context(|| format!("loading guardrails from `{}` at `{DEVELOP}`", repo.display))?;
        super::release::govern(
            &repo,
            &develop,
            &mut candidates,
            governance.as_ref(),
            &registry_refs,
            None,
        );
        let (ledger, _) = Ledger::load(&repo)?;
        // An explicit `--now` behind the ledger's clock would read deadlines as not yet due.
        if s.now_explicit {
            ledger.check_clock(s.now)?;
        }
        for g in &candidates.guardrails {
            let path = format!("guardrails/{}", g.id);
            if repo.tree_id(&develop, &path)? == repo.tree_id(&active_commit, &path)? {
                continue;
            }
            let deadline = ledger
                .entries
                .get(&crate::ledger::key(&g.id, workload))
                .and_then(|e| e.deadline)
                .or_else(|| ledger.activation_day(&g.id))
                .or(g.meta.deadline);
            let mut one = candidates.clone();
            one.guardrails.retain(|x| x.id == g.id);
            pending.push((one, deadline));
        }
    }
    Ok((active, pending))
}

/// `REPO@REF` → (REPO, Some(REF)); a `@` inside `git@host:path` is not a ref separator.
fn split_ref(spec: &str) -> (&str, Option<&str>) {
    match spec.rsplit_once('@') {
        Some((repo, r))
            if !repo.is_empty() && !r.is_empty() && !r.contains(':') && !r.contains('/')
                || spec.rsplit_once('@').is_some_and(|(_, r)| r.starts_with("refs/")) =>
        {
            let (repo, r) = spec.rsplit_once('@').expect("checked");
            (repo, Some(r))
        }
        _ => (spec, None),
    }
}

#[cfg(test)]
mod tests {
    use super::split_ref;

    #[test]
    fn splits_refs_but_not_ssh_users() {
        assert_eq!(split_ref("../guardrails@main"), ("../guardrails", Some("main")));
        assert_eq!(split_ref("git@host:org/repo.git"), ("git@host:org/repo.git", None));
        assert_eq!(
            split_ref("git@host:org/repo.git@v1"),
            ("git@host:org/repo.git", Some("v1"))
        );
        assert_eq!(split_ref("guardrails"), ("guardrails", None));
    }
}
