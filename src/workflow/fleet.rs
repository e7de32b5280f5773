//! Observation at fleet scale: fetch and evaluate many workloads on every core, each parsed
//! once and only when some guardrail's result for its files is not in the result cache.
//!
//! Workers take workloads from a shared counter (`std::thread::scope`, as many workers as
//! `jobs`). Each worker gets its own clone of the compiled policies (regorus engines are not
//! `Sync`), made from one warmed-up evaluator that is only compiled when a first cache miss
//! needs it. Results come back in registry order, whatever the number of workers.
//!
//! Two steps: every workload fetched and its cached results read, then the cache misses read,
//! parsed and evaluated. Misses go to the worker's helper process (`isolate::helper`), forked
//! between the steps, when no other thread runs: the budgeted children are forked from it,
//! not from this process, which grows as results accumulate (forking from it had cost more
//! than the evaluations) and runs several threads (a process may not fork while another of
//! its threads allocates: see `isolate`). Same code either way ([`evaluate_workload`]). A
//! worker whose helper is gone stops; what no helper took is evaluated after the workers, on
//! this thread alone.

use crate::evaluate::{EvalProblem, Evaluator, PreparedWorkload, RawEvaluation};
use crate::files::ReadLimits;
use crate::gitops::fetch::{read_tree, Cache};
use crate::guardrail::{Guardrail, Library};
use crate::limits::RunSettings;
use crate::parsed::ParsedCache;
pub use crate::report::observe::Stats;
use crate::results::{library_fingerprints, workload_key, ResultCache};
use crate::workload::registry::WorkloadSpec;
use crate::workload::WorkloadInfo;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};

/// One workload as observed: who it is, what was read, and every guardrail's raw result
/// (library order, exceptions not applied).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ObservedWorkload {
    pub info: WorkloadInfo,
    pub resources: usize,
    /// Problems reading the workload (they make every result on it unknown).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub problems: Vec<EvalProblem>,
    /// The cached bare repository (for blame); not part of shard files.
    #[serde(skip)]
    pub repo_path: Option<PathBuf>,
    pub results: Vec<RawEvaluation>,
}

impl ObservedWorkload {
    /// A workload no result is known for (unreachable, or missing from every shard).
    pub fn unknown(info: WorkloadInfo, library: &Library, message: String) -> ObservedWorkload {
        let problems = vec![EvalProblem {
            guardrail: None,
            file: None,
            line: None,
            message,
        }];
        ObservedWorkload {
            results: library
                .guardrails
                .iter()
                .map(|g| RawEvaluation::unreadable(&g.id, &info.name, &problems))
                .collect(),
            info,
            resources: 0,
            problems,
            repo_path: None,
        }
    }
}

/// The worker count: `requested`, else every core.
pub fn jobs(requested: Option<usize>) -> usize {
    requested
        .filter(|j| *j > 0)
        .unwrap_or_else(|| std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1))
}

/// The number of workers fetching and evaluating: `requested`, else one more than the
/// cores. A worker spends part of each workload waiting (on its helper process, which waits
/// on the isolated child it forked), so one more keeps every core busy: a cold observation of
/// 1,000 real workloads on 2 cores took 29.4 s with 2 workers, 26.9-27.9 s with 3 and
/// 28.8 s with 4 (docs/fleet.md).
pub fn fetch_workers(requested: Option<usize>) -> usize {
    requested.filter(|j| *j > 0).unwrap_or_else(|| jobs(None) + 1)
}

/// `f(0..n)` on up to `jobs` threads, results in index order (for work that is independent
/// per workload, such as attributing its findings).
pub(crate) fn in_order<T: Send>(n: usize, jobs: usize, f: impl Fn(usize) -> T + Sync) -> Vec<T> {
    let workers = jobs.clamp(1, n.max(1));
    if workers == 1 {
        return (0..n).map(f).collect();
    }
    let next = AtomicUsize::new(0);
    let done: Mutex<Vec<(usize, T)>> = Mutex::new(Vec::with_capacity(n));
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                let mut mine = Vec::new();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= n {
                        break;
                    }
                    mine.push((i, f(i)));
                }
                done.lock()
                    .expect("no worker panics while holding the lock")
                    .extend(mine);
            });
        }
    });
    let mut done = done.into_inner().expect("workers finished");
    done.sort_by_key(|(i, _)| *i);
    done.into_iter().map(|(_, t)| t).collect()
}

/// Stack size of a worker thread.
const WORKER_STACK: usize = 16 * 1024 * 1024;

/// Fetches and evaluates `specs` with `jobs` workers; results in the order of `specs`.
///
/// 1. What is known: each workload fetched and its cached results read.
/// 2. What is not: the workloads with results missing read, parsed and evaluated, by helper
///    processes when there are more of them than workers (forked now, when no other thread
///    runs), and their results stored.
#[allow(clippy::too_many_arguments)]
pub fn observe_workloads(
    specs: &[&WorkloadSpec],
    library: &Library,
    cache: &Cache,
    results: &ResultCache,
    parsed: &ParsedCache,
    base_dir: &Path,
    jobs: usize,
    settings: &RunSettings,
) -> (Vec<ObservedWorkload>, Stats) {
    let fingerprints = library_fingerprints(library);
    let asked: Vec<(&str, &Guardrail)> = fingerprints
        .iter()
        .map(String::as_str)
        .zip(&library.guardrails)
        .collect();
    let workers = jobs.clamp(1, specs.len().max(1));
    let mut stats = Stats {
        workloads: specs.len(),
        jobs: workers,
        ..Stats::default()
    };

    // 1. What is known.
    let progress = crate::progress::bar(specs.len() as u64, "fetching", "workloads");
    let known: Vec<Known> = in_order(specs.len(), workers, |i| {
        let k = known_of(specs[i], i, library, &asked, cache, results, base_dir);
        progress.inc(1);
        k
    });
    crate::progress::done(&progress, "fetched workloads:");
    // Its ticking thread ends here, before any helper is forked.
    drop(progress);
    let mut observed: Vec<Option<ObservedWorkload>> = Vec::with_capacity(known.len());
    let mut missing: Vec<Mutex<Option<Missing>>> = Vec::new();
    for k in known {
        match k {
            Known::Done(w, hits) => {
                stats.cache_hits += hits;
                observed.push(Some(w));
            }
            Known::Missing(m) => {
                stats.cache_hits += m.raw.iter().filter(|r| r.is_some()).count();
                observed.push(None);
                missing.push(Mutex::new(Some(m)));
            }
        }
    }

    // 2. What is not. With isolation every evaluation forks, so it happens in the helpers,
    // forked here while no other thread runs (never from a worker thread: see `isolate`).
    let workers = workers.min(missing.len().max(1));
    let isolated = crate::isolate::Budget::evaluation(settings).isolated();
    let master: OnceLock<Evaluator> = OnceLock::new();
    let mut started: Vec<EvalHelper> = Vec::new();
    while !missing.is_empty() && started.len() < workers {
        match start_helper(&started, specs, library, parsed, &master, settings) {
            Some(h) => started.push(h),
            None => break,
        }
    }
    let helpers = Mutex::new(started);
    let next = AtomicUsize::new(0);
    let done: Mutex<Vec<(usize, ObservedWorkload, Stats)>> = Mutex::new(Vec::with_capacity(missing.len()));
    let progress = crate::progress::bar(missing.len() as u64, "evaluating", "workloads");
    let work = || {
        let mut evaluator: Option<Evaluator> = None;
        let mut helper = helpers.lock().expect("no worker panics while holding the lock").pop();
        loop {
            // Without its helper a worker could only fork beside the other workers: it
            // leaves the rest to them, and what nobody took to the main thread after them.
            if isolated && helper.is_none() {
                break;
            }
            let j = next.fetch_add(1, Ordering::Relaxed);
            let Some(slot) = missing.get(j) else { break };
            let Some(m) = slot.lock().expect("no worker panics while holding the lock").take() else {
                continue;
            };
            let spec = specs[m.ask.spec];
            progress.set_message(spec.name.clone());
            let mut evaluator = Workers {
                master: &master,
                own: &mut evaluator,
                settings,
            };
            let Some(evaluated) = evaluate_via(&mut helper, &m.ask, spec, library, parsed, &mut evaluator) else {
                // Its helper was gone before it took the workload: nothing was done.
                *slot.lock().expect("no worker panics while holding the lock") = Some(m);
                break;
            };
            let (i, w, s) = finish(m, evaluated, library, &asked, results);
            done.lock()
                .expect("no worker panics while holding the lock")
                .push((i, w, s));
            progress.inc(1);
        }
    };
    std::thread::scope(|scope| {
        for _ in 0..workers {
            // Parsers and the Rego engine recurse (to bounded depths): give workers the main
            // thread's stack rather than the 2 MiB default of spawned threads.
            let builder = std::thread::Builder::new().stack_size(WORKER_STACK);
            if let Err(e) = builder.spawn_scoped(scope, work) {
                eprintln!("warning: cannot start a worker thread ({e}); working on this one");
                work();
            }
        }
    });
    crate::progress::done(&progress, "evaluated workloads:");
    // Its ticking thread ends here: what is left (no helper could start, or they ended) is
    // evaluated on this thread alone, which may fork.
    drop(progress);
    let left: Vec<Missing> = missing.iter().filter_map(|slot| slot.lock().ok()?.take()).collect();
    let mut done = done.into_inner().expect("workers finished");
    if !left.is_empty() {
        if isolated {
            eprintln!(
                "note: {} evaluated one at a time: no helper process took them",
                crate::output::plural(left.len(), "workload")
            );
        }
        let mut own: Option<Evaluator> = None;
        for m in left {
            let spec = specs[m.ask.spec];
            let mut evaluator = Workers {
                master: &master,
                own: &mut own,
                settings,
            };
            let evaluated = evaluate_via(&mut None, &m.ask, spec, library, parsed, &mut evaluator)
                .expect("without a helper the workload is always evaluated");
            done.push(finish(m, evaluated, library, &asked, results));
        }
    }
    for (i, w, s) in done {
        stats.workloads_parsed += s.workloads_parsed;
        stats.evaluations += s.evaluations;
        observed[i] = Some(w);
    }
    let observed = observed
        .into_iter()
        .zip(specs)
        .map(|(w, spec)| {
            w.unwrap_or_else(|| {
                let info = WorkloadInfo {
                    name: spec.name.clone(),
                    team: spec.team.clone(),
                    commit: String::new(),
                };
                ObservedWorkload::unknown(info, library, "internal error: not evaluated".to_string())
            })
        })
        .collect();
    (observed, stats)
}

/// A worker's evaluator, cloned on first use from the shared warmed-up one.
struct Workers<'s, 'a> {
    master: &'s OnceLock<Evaluator<'a>>,
    own: &'s mut Option<Evaluator<'a>>,
    settings: &'s RunSettings,
}

impl<'a> Workers<'_, 'a> {
    fn get(&mut self, library: &'a Library) -> &mut Evaluator<'a> {
        let (master, settings) = (self.master, self.settings);
        self.own.get_or_insert_with(|| {
            master
                .get_or_init(|| {
                    let mut e = Evaluator::new(library, settings);
                    e.warm_up();
                    e
                })
                .clone()
        })
    }
}

/// What a worker asks its helper process: evaluate the guardrails `missing` (library
/// positions) of workload `spec` (its position in the specs) at `commit`, read from the
/// cached repository `repo_path`.
#[derive(Serialize, Deserialize)]
struct Ask {
    spec: usize,
    info: WorkloadInfo,
    repo_path: PathBuf,
    missing: Vec<usize>,
}

/// What reading, parsing and evaluating a workload gave.
#[derive(Serialize, Deserialize)]
enum Evaluated {
    /// Its tree could not be read: every guardrail's verdict is unknown.
    Unreadable(String),
    Done {
        resources: usize,
        problems: Vec<EvalProblem>,
        /// Its problems, when its files settle them (unknown results may then be cached).
        settled: Option<crate::results::Settled>,
        /// Per guardrail asked about, its result and whether it may be cached.
        results: Vec<(RawEvaluation, bool)>,
    },
}

#[cfg(target_os = "linux")]
type EvalHelper = crate::isolate::helper::Helper<Ask, Evaluated>;
#[cfg(not(target_os = "linux"))]
type EvalHelper = std::convert::Infallible;

/// A helper process that reads, parses and evaluates the workloads a worker asks it to
/// (`None` without isolation, where nothing is forked, or when it cannot start).
fn start_helper<'a>(
    beside: &[EvalHelper],
    specs: &[&WorkloadSpec],
    library: &'a Library,
    parsed: &ParsedCache,
    master: &OnceLock<Evaluator<'a>>,
    settings: &RunSettings,
) -> Option<EvalHelper> {
    if !crate::isolate::Budget::evaluation(settings).isolated() {
        return None;
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = (beside, specs, library, parsed, master);
        None
    }
    #[cfg(target_os = "linux")]
    {
        let mut own: Option<Evaluator> = None;
        EvalHelper::start(beside, move |ask: Ask| {
            let mut evaluator = Workers {
                master,
                own: &mut own,
                settings,
            };
            match specs.get(ask.spec) {
                Some(spec) => evaluate_workload(&ask, spec, library, parsed, &mut evaluator),
                None => Evaluated::Unreadable("internal error: no such workload".to_string()),
            }
        })
    }
}

/// Asks the helper when there is one (and it is still there), else does the work here. A
/// helper that ended while working on this workload makes it unknown (doing it again here
/// could end this process the same way); `None`: it was gone before it took the workload,
/// and nothing was done (the caller gives the workload back).
fn evaluate_via<'a>(
    helper: &mut Option<EvalHelper>,
    ask: &Ask,
    spec: &WorkloadSpec,
    library: &'a Library,
    parsed: &ParsedCache,
    evaluator: &mut Workers<'_, 'a>,
) -> Option<Evaluated> {
    #[cfg(target_os = "linux")]
    if let Some(h) = helper.as_mut() {
        use crate::isolate::helper::Lost;
        let lost = match h.call(ask) {
            Ok(answer) => return Some(answer),
            Err(lost) => lost,
        };
        *helper = None;
        eprintln!(
            "warning: {lost} while evaluating `{}`; the other workers go on without it",
            spec.name
        );
        return match lost {
            Lost::During { .. } => Some(Evaluated::Unreadable(format!(
                "not evaluated: {lost}; the next run evaluates it again"
            ))),
            Lost::Before => None,
        };
    }
    #[cfg(not(target_os = "linux"))]
    let _ = helper;
    Some(evaluate_workload(ask, spec, library, parsed, evaluator))
}

/// A workload once fetched and its cached results read.
enum Known {
    /// Every result known: from the cache (how many), or unknown (it could not be fetched).
    Done(ObservedWorkload, usize),
    /// Some results are not cached.
    Missing(Missing),
}

/// A workload whose results are partly (or not at all) cached.
struct Missing {
    /// What is known so far (no results yet).
    w: ObservedWorkload,
    /// Per guardrail of the library, its cached result.
    raw: Vec<Option<RawEvaluation>>,
    /// Its result-cache key.
    key: String,
    /// What to read and evaluate.
    ask: Ask,
}

/// Fetches workload `spec` (position `index`) and reads its cached results.
fn known_of(
    spec: &WorkloadSpec,
    index: usize,
    library: &Library,
    asked: &[(&str, &Guardrail)],
    cache: &Cache,
    results: &ResultCache,
    base_dir: &Path,
) -> Known {
    let mut info = WorkloadInfo {
        name: spec.name.clone(),
        team: spec.team.clone(),
        commit: String::new(),
    };
    let fetched = match cache.fetch(spec, base_dir) {
        Err(e) => return Known::Done(ObservedWorkload::unknown(info, library, e.to_string()), 0),
        Ok(f) => f,
    };
    info.commit = fetched.commit.clone();
    // Excluded paths change what is evaluated: they are part of the cache key.
    let scope: Vec<String> = spec
        .paths
        .iter()
        .cloned()
        .chain(spec.exclude.iter().map(|g| format!("exclude:{g}")))
        .collect();
    let key = workload_key(&spec.name, &spec.team, &fetched.tree, &scope);
    let cached = results.load(&key, &spec.name, asked).unwrap_or_default();
    let raw: Vec<Option<RawEvaluation>> = match cached.results.is_empty() {
        true => vec![None; asked.len()],
        false => cached.results,
    };
    let w = ObservedWorkload {
        info: info.clone(),
        resources: cached.resources,
        problems: cached.problems,
        repo_path: Some(fetched.repo_path.clone()),
        results: Vec::new(),
    };
    let missing: Vec<usize> = (0..raw.len()).filter(|&i| raw[i].is_none()).collect();
    if missing.is_empty() {
        let hits = raw.len();
        let mut w = w;
        w.results = raw.into_iter().flatten().collect();
        return Known::Done(w, hits);
    }
    Known::Missing(Missing {
        w,
        raw,
        key,
        ask: Ask {
            spec: index,
            info,
            repo_path: fetched.repo_path,
            missing,
        },
    })
}

/// Puts a workload's cached and new results together and stores them; its position, the
/// workload and what it cost.
fn finish(
    m: Missing,
    evaluated: Evaluated,
    library: &Library,
    asked: &[(&str, &Guardrail)],
    results: &ResultCache,
) -> (usize, ObservedWorkload, Stats) {
    let Missing {
        mut w,
        mut raw,
        key,
        ask,
    } = m;
    let unknown = |message: String, repo_path: Option<PathBuf>| {
        let mut u = ObservedWorkload::unknown(ask.info.clone(), library, message);
        u.repo_path = repo_path;
        (ask.spec, u, Stats::default())
    };
    let (resources, problems, settled, evaluated) = match evaluated {
        Evaluated::Unreadable(message) => return unknown(message, w.repo_path),
        Evaluated::Done {
            resources,
            problems,
            settled,
            results,
        } if results.len() == ask.missing.len() => (resources, problems, settled, results),
        Evaluated::Done { .. } => {
            return unknown(
                "internal error: an evaluation gave too few results".to_string(),
                w.repo_path,
            )
        }
    };
    let stats = Stats {
        workloads_parsed: 1,
        evaluations: ask.missing.len(),
        ..Stats::default()
    };
    // Cached results were storable when stored; new ones say whether they are.
    let mut storable = vec![true; raw.len()];
    for (i, (eval, keep)) in ask.missing.iter().zip(evaluated) {
        raw[*i] = Some(eval);
        storable[*i] = keep;
    }
    w.resources = resources;
    w.problems = problems;
    let store: Vec<(&str, &Guardrail, &RawEvaluation)> = asked
        .iter()
        .zip(&raw)
        .zip(&storable)
        .filter(|(_, keep)| **keep)
        .filter_map(|(((fp, g), r), _)| r.as_ref().map(|r| (*fp, *g, r)))
        .collect();
    if let Err(e) = results.store(&key, w.resources, settled, &store) {
        eprintln!("warning: result cache: cannot write for `{}`: {e}", w.info.name);
    }
    w.results = raw.into_iter().map(|r| r.expect("every slot filled")).collect();
    (ask.spec, w, stats)
}

/// Reads the workload's tree, parses it and evaluates the guardrails `ask.missing` (in this
/// process or in a helper: the same code either way).
fn evaluate_workload<'a>(
    ask: &Ask,
    spec: &WorkloadSpec,
    library: &'a Library,
    parsed: &ParsedCache,
    evaluator: &mut Workers<'_, 'a>,
) -> Evaluated {
    let (mut files, mut skipped) = match read_tree(
        &ask.repo_path,
        &ask.info.commit,
        &spec.paths,
        ReadLimits::for_workload(&evaluator.settings.limits),
    ) {
        Err(e) => return Evaluated::Unreadable(e.to_string()),
        Ok(read) => read,
    };
    // Validated when workloads.toml was loaded.
    crate::files::Exclude::new(&spec.exclude)
        .unwrap_or_default()
        .apply(&mut files, &mut skipped);
    let mut prepared =
        PreparedWorkload::new_cached(ask.info.clone(), &files, skipped, evaluator.settings, Some(parsed));
    if !prepared.has_code() {
        // A workload registered with the wrong paths must not count as compliant.
        prepared.problems.push(crate::evaluate::EvalProblem {
            guardrail: None,
            file: None,
            line: None,
            message: format!(
                "no infrastructure code found (no Terraform, CloudFormation or Kubernetes resources) under {}",
                match spec.paths.is_empty() {
                    true => "the repository root".to_string(),
                    false => format!("paths {:?}", spec.paths),
                }
            ),
        });
    }
    drop(files);
    let ev = evaluator.get(library);
    let results = ask
        .missing
        .iter()
        .zip(ev.evaluate_raw_many(&ask.missing, &prepared))
        .map(|(i, r)| {
            // Unknown results are kept only when the workload's files settle its problems
            // and the evaluation added none of its own (a policy error or a budget may
            // differ next run).
            let g = &library.guardrails[*i];
            let keep = !r.is_unknown() || (prepared.settled && r.problems.len() == prepared.problems_for(g).len());
            (r, keep)
        })
        .collect();
    Evaluated::Done {
        resources: prepared.input.resources.len(),
        problems: prepared.problems.clone(),
        settled: prepared.settled.then(|| crate::results::Settled {
            problems: prepared.problems.clone(),
            kind_problems: prepared.kind_problems().to_vec(),
        }),
        results,
    }
}
