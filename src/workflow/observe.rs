//! `railyard observe`: observation mode. Evaluates every candidate guardrail on `develop`
//! against every registered workload without breaking anyone, records noncompliance in the
//! ledger with a deadline, and promotes each candidate that breaks nobody to `main`.

use super::commit_message;
use super::fleet::{self, ObservedWorkload, Stats};
use super::promote::{carry, record_activation};
use super::release::{Candidate, Change, Release};
use super::shard::{self, Shard};
use super::{step, Outcome, Settings};
use crate::date::Day;
use crate::evaluate::{apply_exceptions, Evaluation, Verdict};
use crate::gitops::blame::Blamer;
use crate::gitops::fetch::Cache;
use crate::guardrail::exceptions::{self, StaleException};
use crate::guardrail::Library;
use crate::ledger::{Activation, How, Ledger};
use crate::notify::{Event, EventKind, EventResource};
pub use crate::report::observe::{Action, CandidateResult, ObserveReport, ToFix, WorkloadResult};
use crate::results::ResultCache;
use crate::workload::registry::WorkloadSpec;
use anyhow::Result;
use std::collections::HashMap;
use std::io::Write;
use std::path::PathBuf;

/// How to run an observation at fleet scale.
#[derive(Debug, Clone, Default)]
pub struct ObserveOptions {
    /// Worker threads for fetching and evaluating (default: every core).
    pub jobs: Option<usize>,
    /// Evaluate only this shard and write its results; no ledger, no promotion.
    pub shard: Option<Shard>,
    /// Take the results from the shard files in this folder instead of evaluating.
    pub merge_shards: Option<PathBuf>,
    /// List at most this many per-resource findings in the table (`--top`; 0: none).
    pub top: Option<usize>,
    /// `--details`: list everything instead of a bounded summary (people's formats).
    pub details: bool,
}

pub fn observe(s: &Settings, out: &mut dyn Write) -> Result<Outcome> {
    observe_with(s, &ObserveOptions::default(), out)
}

pub fn observe_with(s: &Settings, opts: &ObserveOptions, out: &mut dyn Write) -> Result<Outcome> {
    // 1. Read develop and main; the ledger's clock may not go back.
    let release = step("read develop and main", || Release::open(s))?;
    release.ledger.check_clock(s.now)?;
    if !s.dry_run && opts.shard.is_none() {
        release
            .repo
            .ensure_work_tree_clean(&[crate::gitops::MAIN, crate::gitops::LEDGER])?;
    }

    // 2. Candidates are the guardrail folders that differ between develop and main. Every
    //    guardrail on develop is evaluated (the active ones keep the exposure report
    //    current); only candidates can be promoted. Fail closed: a candidate's own fixtures
    //    run first; one whose fixtures fail is still observed (teams see its findings) but
    //    never promoted.
    let library = release.develop_lib.clone();
    let fixture_failures = step("fixtures", || fixture_failures(s, &release, &library));

    // 3. Fetch and evaluate every workload (or this shard's slice, written for a later
    //    `--merge-shards`, which takes its results from the shard files instead).
    let (workloads, stats) = step("fetch and evaluate", || evaluate_fleet(s, opts, &release, &library))?;
    if let Some(sh) = &opts.shard {
        return shard::write(s, &release, &library, sh, workloads, stats, out);
    }

    // 4. Apply exceptions (after the cache: approving one needs no re-evaluation).
    let fleet = step("apply exceptions", || Observed::new(&library, workloads, s.now));
    let stale_exceptions = fleet.stale_exceptions(&library);

    // 5. Record what was seen in the ledger (compare-and-swap; re-applied on a lost race).
    let (ledger, ledger_committed) = step("record", || record_observations(s, &release, &library, &fleet))?;
    // The ledger commit promotions are decided on (recorded in each promotion commit).
    let ledger_tip = if s.dry_run {
        release.ledger_tip.clone()
    } else {
        release.repo.tip(crate::gitops::LEDGER)?
    };

    // 6. Promote each candidate with zero unexcepted findings and no unknowns, one commit
    //    each; removed guardrails are removed from main (removing breaks nobody).
    let mut results = Vec::new();
    let mut activations = Vec::new();
    for c in &release.candidates {
        let (r, activation) = promote_if_ready(
            s,
            &release,
            &library,
            &fleet,
            &ledger,
            c,
            fixture_failures.get(&c.id),
            ledger_tip.as_deref(),
        )?;
        results.push(r);
        activations.extend(activation.map(|a| (c.id.clone(), a)));
    }

    // 7. Record the activations.
    if !activations.is_empty() {
        let msg = commit_message::record_activations(s, activations.len());
        Ledger::update(&release.repo, &msg, |ledger| {
            ledger.advance_clock(s.now)?;
            for (id, a) in &activations {
                record_activation(ledger, &release, id, a.clone());
            }
            Ok(())
        })?;
    }

    // 8. Tell each owning team what to fix, where, and by when.
    let blames = crate::gitops::blame::BlameCache::new(&s.cache_dir, release.repo.seal_key().cloned());
    let to_fix = step("what to fix", || {
        what_to_fix(&fleet, &results, &ledger, &blames, fleet::jobs(opts.jobs))
    });
    let events = step("events", || {
        events(&release, &ledger, &fleet.evaluations, &to_fix, &activations, s.now)
    });
    let notifications = super::tell_owners(s, &release, &ledger, &events, "observe");
    let workloads: Vec<WorkloadResult> = step("workload results", || {
        fleet.workloads.iter().map(workload_result).collect()
    });
    let (guardrails, unknowns) = step("summarise", || {
        crate::report::observe::summarise(&library, &results, &workloads, fleet.evaluations.iter().flatten())
    });
    let report = ObserveReport {
        version: 1,
        now: s.now,
        dry_run: s.dry_run,
        develop: release.develop.clone(),
        main: release.repo.require_tip(crate::gitops::MAIN)?,
        workloads,
        candidates: results,
        to_fix,
        ledger_committed,
        notifications,
        stats,
        stale_exceptions,
        exception_errors: release.governance.iter().map(|e| e.to_string()).collect(),
        list_limit: opts.top,
        details: opts.details,
        guardrails,
        unknowns,
    };
    step("render", || crate::output::render(s.format, &report, out))?;
    for e in &report.exception_errors {
        eprintln!("error: {e}");
    }
    let unknown = !report.exception_errors.is_empty()
        || report
            .candidates
            .iter()
            .any(|c| matches!(c.action, Action::Blocked | Action::Broken));
    Ok(if unknown { Outcome::Error } else { Outcome::Clean })
}

/// The candidates whose own fixtures fail, with the failures. Fixtures that passed before
/// with the same content (guardrail files, helpers, limits, version) are not run again: a
/// warm run over an unchanged library runs none (`results::FixturePasses`).
pub(crate) fn fixture_failures(s: &Settings, release: &Release, library: &Library) -> HashMap<String, Vec<String>> {
    let passes = crate::results::FixturePasses::new(&s.cache_dir, s.ledger_key.clone());
    let mut to_run = Vec::new();
    for c in release.candidates.iter().filter(|c| c.change != Change::Removed) {
        let Some(g) = library.get(&c.id) else { continue };
        let digest = crate::results::FixturePasses::digest(g, &library.helpers, &s.run);
        if !passes.passed(&digest) {
            to_run.push((c.id.as_str(), digest));
        }
    }
    let ids: Vec<&str> = to_run.iter().map(|(id, _)| *id).collect();
    let mut failing = HashMap::new();
    for ((id, failures), (_, digest)) in crate::evaluate::fixtures::failures_of(library, &ids, &s.run)
        .into_iter()
        .zip(&to_run)
    {
        if failures.is_empty() {
            passes.record(digest);
        } else {
            failing.insert(id, failures);
        }
    }
    failing
}

/// Step 3: fetch every workload into the cache; parse and evaluate (every guardrail of
/// develop) only what the result cache does not already know, on every core. An unreachable
/// workload or unknown ref becomes *unknown* for every guardrail; the run goes on.
pub(crate) fn evaluate_fleet(
    s: &Settings,
    opts: &ObserveOptions,
    release: &Release,
    library: &Library,
) -> Result<(Vec<ObservedWorkload>, Stats)> {
    let cache = Cache::new(s.cache_dir.join("workloads")).with_fetch_timeout(s.fetch_timeout);
    let result_cache = ResultCache::new(s.cache_dir.join("results")).with_key(s.ledger_key.clone());
    let parse_cache = crate::parsed::ParsedCache::new(s.cache_dir.join("parsed")).with_key(s.ledger_key.clone());
    let base_dir = release.repo.base_dir();
    if library.guardrails.is_empty() {
        return Ok((Vec::new(), Stats::default()));
    }
    if let Some(dir) = &opts.merge_shards {
        return shard::merge(release, library, &cache, &base_dir, dir);
    }
    let specs: Vec<&WorkloadSpec> = release
        .registry
        .workloads
        .iter()
        .filter(|w| opts.shard.as_ref().is_none_or(|sh| sh.contains(&w.name)))
        .collect();
    Ok(fleet::observe_workloads(
        &specs,
        library,
        &cache,
        &result_cache,
        &parse_cache,
        &base_dir,
        fleet::fetch_workers(opts.jobs),
        &s.run,
    ))
}

/// The fleet as observed: each workload with its evaluations (exceptions applied), in the
/// order of the library's guardrails.
pub(crate) struct Observed {
    pub(crate) workloads: Vec<ObservedWorkload>,
    pub(crate) evaluations: Vec<Vec<Evaluation>>,
    index_of: HashMap<String, usize>,
}

impl Observed {
    /// Moves each workload's raw results into its evaluations (a fleet holds every finding
    /// once, not twice).
    pub(crate) fn new(library: &Library, mut workloads: Vec<ObservedWorkload>, now: Day) -> Observed {
        let evaluations = workloads
            .iter_mut()
            .map(|w| {
                std::mem::take(&mut w.results)
                    .into_iter()
                    .zip(&library.guardrails)
                    .map(|(r, g)| apply_exceptions(g, r, now))
                    .collect()
            })
            .collect();
        let index_of = workloads
            .iter()
            .enumerate()
            .map(|(i, w)| (w.info.name.clone(), i))
            .collect();
        Observed {
            workloads,
            evaluations,
            index_of,
        }
    }

    fn of_guardrail<'a>(&'a self, id: &'a str) -> impl Iterator<Item = &'a Evaluation> + 'a {
        self.evaluations.iter().flatten().filter(move |e| e.guardrail == id)
    }

    /// Each workload with its evaluation of guardrail `id`.
    pub(crate) fn pairs<'a>(
        &'a self,
        id: &'a str,
    ) -> impl Iterator<Item = (&'a ObservedWorkload, &'a Evaluation)> + 'a {
        self.workloads
            .iter()
            .zip(&self.evaluations)
            .filter_map(move |(w, evals)| evals.iter().find(|e| e.guardrail == id).map(|e| (w, e)))
    }

    fn workload(&self, name: &str) -> Option<&ObservedWorkload> {
        self.index_of.get(name).map(|i| &self.workloads[*i])
    }

    /// Exceptions that match no finding any more: the security team can remove them.
    fn stale_exceptions(&self, library: &Library) -> Vec<StaleException> {
        library
            .guardrails
            .iter()
            .flat_map(|g| {
                let observed: Vec<exceptions::Observed> = self
                    .of_guardrail(&g.id)
                    .map(|e| exceptions::Observed {
                        workload: &e.workload,
                        unknown: e.verdict() == Verdict::Unknown,
                        resources: e
                            .findings
                            .iter()
                            .chain(&e.excepted)
                            .map(|f| f.resource.as_str())
                            .collect(),
                    })
                    .collect();
                let file = format!("{}/{}/exceptions.toml", super::release::GUARDRAILS_DIR, g.id);
                exceptions::stale(&g.id, &file, &g.exceptions, &observed)
            })
            .collect()
    }
}

/// Step 5: records every evaluation in the ledger: findings of active guardrails as active,
/// of candidates as pending with their deadline. Returns the ledger as recorded (as it would
/// be, in a dry run) and whether a commit was made.
pub(crate) fn record_observations(
    s: &Settings,
    release: &Release,
    library: &Library,
    fleet: &Observed,
) -> Result<(std::sync::Arc<Ledger>, bool)> {
    let apply = |ledger: &mut Ledger| -> Result<()> {
        ledger.advance_clock(s.now)?;
        release.reconcile(ledger)?;
        for g in &library.guardrails {
            let facts = release.facts(g);
            let Some(c) = release.candidate(&g.id) else {
                // Already on main: record its findings as active.
                let activated = ledger.observe_active(&g.id, &facts, s.now);
                for (w, eval) in fleet.pairs(&g.id) {
                    ledger.record_active(eval, &w.info.team, &w.info.commit, activated, s.now);
                }
                continue;
            };
            let tree = c.develop_tree.clone().unwrap_or_default();
            ledger.observe_pending(&g.id, &facts, &tree, s.now);
            let grace = facts.grace_days as i64;
            let deadline_for = |first_seen: Day| facts.fixed_deadline.unwrap_or_else(|| first_seen.plus_days(grace));
            for (w, eval) in fleet.pairs(&g.id) {
                ledger.record(eval, &w.info.team, &w.info.commit, deadline_for, s.now);
            }
        }
        Ok(())
    };
    if s.dry_run || library.guardrails.is_empty() {
        let mut ledger = (*release.ledger).clone();
        apply(&mut ledger)?;
        return Ok((std::sync::Arc::new(ledger), false));
    }
    let msg = commit_message::observations(s, release.candidates.len(), fleet.workloads.len(), &release.develop);
    Ledger::update(&release.repo, &msg, apply)
}

/// Step 6 for one candidate: its counts and what became of it; promotes it to `main` (or
/// removes it) when it is ready, returning the activation to record.
#[allow(clippy::too_many_arguments)]
pub(crate) fn promote_if_ready(
    s: &Settings,
    release: &Release,
    library: &Library,
    fleet: &Observed,
    ledger: &Ledger,
    c: &Candidate,
    fixture_failures: Option<&Vec<String>>,
    ledger_tip: Option<&str>,
) -> Result<(CandidateResult, Option<Activation>)> {
    let evals: Vec<&Evaluation> = fleet.of_guardrail(&c.id).collect();
    let count = |v: Verdict| evals.iter().filter(|e| e.verdict() == v).count();
    let g = library.get(&c.id);
    let mut r = CandidateResult {
        id: c.id.clone(),
        change: c.change,
        title: g.map(|g| g.meta.title.clone()).unwrap_or_default(),
        severity: g.map(|g| g.meta.severity),
        compliant: count(Verdict::Compliant),
        noncompliant: count(Verdict::Noncompliant),
        excepted: count(Verdict::Excepted),
        unknown: count(Verdict::Unknown),
        action: Action::Held,
        deadline: None,
        commit: None,
        problems: Vec::new(),
    };
    if let Some(errors) = release.broken.get(&c.id).or_else(|| release.broken.get("lib")) {
        r.action = Action::Broken;
        r.problems = errors.iter().map(|e| e.to_string()).collect();
        return Ok((r, None));
    }
    if let Some(failures) = fixture_failures {
        r.action = Action::Held;
        r.deadline = ledger.activation_day(&c.id);
        r.problems = failures.clone();
        return Ok((r, None));
    }
    let (ready, how) = match c.change {
        Change::Removed => (true, How::Removed),
        _ => (r.noncompliant == 0 && r.unknown == 0, How::Observed),
    };
    if !ready {
        r.action = if r.unknown > 0 { Action::Blocked } else { Action::Held };
        r.deadline = ledger.activation_day(&c.id);
        r.problems = evals
            .iter()
            .flat_map(|e| {
                e.problems
                    .iter()
                    .map(|p| crate::gitops::fetch::redact(&format!("{}: {p}", e.workload)))
            })
            .collect();
        return Ok((r, None));
    }
    let message = match c.change {
        Change::Removed => commit_message::remove(s, &c.id, &release.develop, ledger_tip),
        _ => {
            let evidence = commit_message::Evidence {
                workloads: evals.len(),
                compliant: r.compliant,
                excepted: r.excepted,
                findings: evals.iter().map(|e| e.findings.len()).sum(),
                lines: evidence_lines(fleet, &evals),
            };
            commit_message::activate_observed(s, &c.id, c.change, &release.develop, &evidence, ledger_tip)
        }
    };
    if s.dry_run {
        r.action = Action::WouldPromote;
        return Ok((r, None));
    }
    let commit = carry(release, &c.id, &message)?;
    r.action = if c.change == Change::Removed {
        Action::Removed
    } else {
        Action::Promoted
    };
    r.commit = commit.clone();
    let activation = Activation {
        on: s.now,
        how,
        commit: commit.unwrap_or_default(),
        by: None,
        reason: None,
    };
    Ok((r, Some(activation)))
}

/// One `Workload: name@commit Verdict (n findings, m excepted)` line per evaluation.
fn evidence_lines(fleet: &Observed, evals: &[&Evaluation]) -> String {
    evals
        .iter()
        .map(|e| {
            let commit = fleet
                .workload(&e.workload)
                .map(|w| w.info.commit.as_str())
                .unwrap_or("");
            format!(
                "Workload: {}@{} {:?} ({} findings, {} excepted)",
                e.workload,
                short(commit),
                e.verdict(),
                e.findings.len(),
                e.excepted.len()
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Step 8: each unexcepted finding, for its owning team, with who last changed it and, for
/// a guardrail still held, the day their pipeline starts failing on it.
fn what_to_fix(
    fleet: &Observed,
    results: &[CandidateResult],
    ledger: &Ledger,
    blames: &crate::gitops::blame::BlameCache,
    jobs: usize,
) -> Vec<ToFix> {
    // A held guardrail's activation day scans its ledger entries: once per guardrail, not per
    // finding (warm observations of large fleets spent most of their time here).
    let activation: HashMap<&str, Option<Day>> = results
        .iter()
        .filter(|r| matches!(r.action, Action::Held | Action::Blocked))
        .map(|r| (r.id.as_str(), ledger.activation_day(&r.id)))
        .collect();
    // Workloads are independent (each is blamed in its own repository): on every core, in
    // fleet order.
    let per_workload = |i: usize| {
        let w = &fleet.workloads[i];
        let mut blamer = w.repo_path.as_deref().and_then(|p| Blamer::open(p, Some(blames)));
        let mut to_fix = Vec::new();
        for eval in fleet.evaluations[i].iter().filter(|e| !e.findings.is_empty()) {
            let deadline = activation.get(eval.guardrail.as_str()).and_then(|day| {
                ledger
                    .entries
                    .get(&crate::ledger::key(&eval.guardrail, &eval.workload))
                    .and_then(|e| e.deadline)
                    .or(*day)
            });
            for f in &eval.findings {
                let last_changed = blamer
                    .as_mut()
                    .and_then(|b| b.last_change(&w.info.commit, &f.file, f.line, f.end_line));
                to_fix.push(ToFix {
                    workload: eval.workload.clone(),
                    team: w.info.team.clone(),
                    guardrail: f.guardrail.clone(),
                    severity: f.severity,
                    resource: f.resource.clone(),
                    file: f.file.clone(),
                    line: f.line,
                    message: f.message.clone(),
                    remediation: f.remediation.clone(),
                    url: f.url.clone(),
                    deadline,
                    last_changed,
                });
            }
        }
        to_fix
    };
    fleet::in_order(fleet.workloads.len(), jobs, per_workload)
        .into_iter()
        .flatten()
        .collect()
}

/// The day a held guardrail starts failing `workload`: its recorded deadline, else the
/// guardrail's activation day.
pub(crate) fn open_deadline(ledger: &Ledger, guardrail: &str, workload: &str) -> Option<Day> {
    ledger
        .entries
        .get(&crate::ledger::key(guardrail, workload))
        .and_then(|e| e.deadline)
        .or_else(|| ledger.activation_day(guardrail))
}

fn workload_result(w: &ObservedWorkload) -> WorkloadResult {
    WorkloadResult {
        name: w.info.name.clone(),
        team: w.info.team.clone(),
        commit: w.info.commit.clone(),
        resources: w.resources,
        problems: w
            .problems
            .iter()
            .map(|p| crate::gitops::fetch::redact(&p.to_string()))
            .collect(),
    }
}

/// What the owning teams hear about from this observation: new noncompliance (with what to
/// fix), guardrails now enforced on their workloads, and noncompliance they resolved.
fn events(
    release: &Release,
    ledger: &Ledger,
    evaluations: &[Vec<Evaluation>],
    to_fix: &[ToFix],
    activations: &[(String, Activation)],
    now: Day,
) -> Vec<Event> {
    let mut out = Vec::new();
    let lib = &release.develop_lib;
    // Indexed once: a fleet's thousands of events each looked through every finding and
    // every registered workload.
    let mut fixes_of: HashMap<(&str, &str), Vec<&ToFix>> = HashMap::new();
    for f in to_fix {
        fixes_of.entry((&f.guardrail, &f.workload)).or_default().push(f);
    }
    let repos: HashMap<&str, &str> = release
        .registry
        .workloads
        .iter()
        .map(|w| (w.name.as_str(), w.repo.as_str()))
        .collect();
    let fill = |e: &mut Event| {
        if let Some(g) = lib.get(&e.guardrail) {
            e.title = g.meta.title.clone();
            e.severity = Some(g.meta.severity);
            e.remediation = g.meta.remediation.clone();
            e.url = g.meta.url.clone();
        }
        if let Some(repo) = repos.get(e.workload.as_str()) {
            e.repo = repo.to_string();
        }
    };
    for eval in evaluations.iter().flatten() {
        let Some(entry) = ledger.entries.get(&crate::ledger::key(&eval.guardrail, &eval.workload)) else {
            continue;
        };
        match (entry.status, entry.first_seen, entry.resolved) {
            (crate::evaluate::Verdict::Noncompliant, Some(first), _) => {
                let mut e = Event::basic(
                    EventKind::New,
                    format!("new:{first}"),
                    &eval.guardrail,
                    &eval.workload,
                    &entry.team,
                );
                fill(&mut e);
                let fixes: &[&ToFix] = fixes_of
                    .get(&(eval.guardrail.as_str(), eval.workload.as_str()))
                    .map_or(&[], Vec::as_slice);
                e.deadline = fixes.iter().find_map(|f| f.deadline);
                e.days_left = e.deadline.map(|d| now.days_until(d));
                e.resources = fixes
                    .iter()
                    .map(|f| EventResource {
                        resource: f.resource.clone(),
                        file: f.file.clone(),
                        line: f.line,
                        message: f.message.clone(),
                        last_changed: f.last_changed.clone(),
                    })
                    .collect();
                let when = match e.deadline {
                    Some(d) => format!("your pipeline fails on it from {d}"),
                    None => "the guardrail is active: your pipeline fails on it now".into(),
                };
                e.summary = format!(
                    "New: `{}` ({}) flags {} in `{}`; {when}",
                    e.guardrail,
                    e.severity.map(|s| format!("{s:?}").to_lowercase()).unwrap_or_default(),
                    crate::output::plural(e.resources.len(), "resource"),
                    e.workload
                );
                out.push(e);
            }
            (crate::evaluate::Verdict::Compliant | crate::evaluate::Verdict::Excepted, Some(first), Some(resolved))
                if entry.notified.keys().any(|k| k.starts_with(&format!("new:{first}@"))) =>
            {
                let mut e = Event::basic(
                    EventKind::Resolved,
                    format!("resolved:{resolved}"),
                    &eval.guardrail,
                    &eval.workload,
                    &entry.team,
                );
                fill(&mut e);
                e.summary = format!(
                    "Resolved: `{}` no longer flags `{}` (since {resolved})",
                    e.guardrail, e.workload
                );
                out.push(e);
            }
            _ => {}
        }
    }
    for (id, a) in activations {
        for entry in ledger.entries_of(id).filter(|e| {
            matches!(
                e.status,
                crate::evaluate::Verdict::Noncompliant | crate::evaluate::Verdict::Excepted
            )
        }) {
            let mut e = Event::basic(
                EventKind::Activated,
                format!("activated:{}", a.on),
                id,
                &entry.workload,
                &entry.team,
            );
            fill(&mut e);
            e.summary = format!(
                "Activated: `{id}` is now enforced; `{}` pipelines fail on its findings ({} open, {} excepted)",
                entry.workload,
                entry.findings.len(),
                entry.excepted.len()
            );
            out.push(e);
        }
    }
    out
}

pub fn short(commit: &str) -> &str {
    &commit[..commit.len().min(12)]
}
