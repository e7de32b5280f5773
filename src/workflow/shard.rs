//! Sharded observation: `observe --shard K/N --shard-dir DIR` evaluates the workloads whose
//! name hashes to slice K of N and writes `DIR/shard-K-of-N.json` (no ledger, no promotion,
//! no notification); `observe --merge-shards DIR` then takes every workload's results from
//! those files and does the rest of an observation (exceptions, ledger, promotions,
//! notifications) exactly as a single run would.
//!
//! Decisions:
//! - The slice is FNV-1a-64 of the workload name modulo N: stable across machines, Rust
//!   versions and registry order, so adding a workload moves no other.
//! - A shard file records the develop commit it evaluated. The merge refuses files of another
//!   develop commit (the guardrails or registry changed in between: re-run the shards) and of
//!   a different N.
//! - A workload found in no shard file is *unknown* for every guardrail ("not evaluated by
//!   any shard"), so a missing or failed shard job can never promote a candidate.
//! - Results in shard files are before exceptions; the merge applies develop's exceptions.

use super::fleet::{ObservedWorkload, Stats};
use super::release::Release;
use super::{Outcome, Settings};
use crate::gitops::fetch::Cache;
use crate::guardrail::Library;
use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeSet, HashMap};
use std::io::Write;
use std::path::{Path, PathBuf};

pub const VERSION: u32 = 1;

/// Slice `index` (1-based) of `count`, and where its results go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shard {
    pub index: u32,
    pub count: u32,
    pub dir: PathBuf,
}

/// A `--shard` that is not `K/N` with 1 ≤ K ≤ N.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{text}`: {why}")]
pub struct BadShard {
    text: String,
    why: &'static str,
}

impl Shard {
    /// Parses `K/N` (1 ≤ K ≤ N).
    pub fn parse(text: &str, dir: PathBuf) -> Result<Shard, BadShard> {
        let bad = |why| BadShard {
            text: text.to_string(),
            why,
        };
        let (k, n) = text.split_once('/').ok_or(bad("expected K/N, e.g. 1/4"))?;
        let k: u32 = k.trim().parse().map_err(|_| bad("K is not a number"))?;
        let n: u32 = n.trim().parse().map_err(|_| bad("N is not a number"))?;
        if n == 0 || k == 0 || k > n {
            return Err(bad("need 1 <= K <= N"));
        }
        Ok(Shard {
            index: k,
            count: n,
            dir,
        })
    }

    pub fn contains(&self, workload: &str) -> bool {
        slice_of(workload, self.count) == self.index
    }

    pub fn file(&self) -> PathBuf {
        self.dir.join(format!("shard-{}-of-{}.json", self.index, self.count))
    }
}

/// The 1-based slice of `count` a workload belongs to (FNV-1a-64 of its name).
pub fn slice_of(workload: &str, count: u32) -> u32 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in workload.as_bytes() {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    (h % u64::from(count.max(1))) as u32 + 1
}

/// `shard-K-of-N.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ShardFile {
    pub version: u32,
    pub railyard: String,
    pub develop: String,
    pub shard: u32,
    pub of: u32,
    /// Guardrail ids, in the order of each workload's `results`.
    pub guardrails: Vec<String>,
    pub stats: Stats,
    pub workloads: Vec<ObservedWorkload>,
}

/// What a shard run prints.
#[derive(Debug, Clone, Serialize)]
pub struct ShardReport {
    pub version: u32,
    pub shard: u32,
    pub of: u32,
    pub develop: String,
    pub file: String,
    pub unknown_workloads: Vec<String>,
    pub stats: Stats,
}

/// Writes a shard's results (atomically) and reports them.
pub fn write(
    s: &Settings,
    release: &Release,
    library: &Library,
    shard: &Shard,
    workloads: Vec<ObservedWorkload>,
    stats: Stats,
    out: &mut dyn Write,
) -> Result<Outcome> {
    let unknown_workloads: Vec<String> = workloads
        .iter()
        .filter(|w| w.results.iter().any(|r| r.is_unknown()))
        .map(|w| w.info.name.clone())
        .collect();
    let file = ShardFile {
        version: VERSION,
        railyard: crate::results::ENGINE_VERSION.to_string(),
        develop: release.develop.clone(),
        shard: shard.index,
        of: shard.count,
        guardrails: library.guardrails.iter().map(|g| g.id.clone()).collect(),
        stats: stats.clone(),
        workloads,
    };
    std::fs::create_dir_all(&shard.dir).with_context(|| format!("creating `{}`", shard.dir.display()))?;
    let mut tmp = tempfile::NamedTempFile::new_in(&shard.dir)?;
    serde_json::to_writer(&mut tmp, &file)?;
    let path = shard.file();
    tmp.persist(&path)
        .with_context(|| format!("writing `{}`", path.display()))?;
    let report = ShardReport {
        version: 1,
        shard: shard.index,
        of: shard.count,
        develop: release.develop.clone(),
        file: path.display().to_string(),
        unknown_workloads,
        stats,
    };
    match s.format {
        crate::output::Format::Json => crate::output::json::write_json(&report, out)?,
        _ => {
            writeln!(
                out,
                "Shard {}/{}: {} workload(s) observed ({} parsed, {} evaluations, {} cached results, {} workers); results in {}",
                report.shard,
                report.of,
                report.stats.workloads,
                report.stats.workloads_parsed,
                report.stats.evaluations,
                report.stats.cache_hits,
                report.stats.jobs,
                report.file
            )?;
            for w in &report.unknown_workloads {
                writeln!(
                    out,
                    "  unknown: {w} (could not be evaluated; blocks promotion at the merge)"
                )?;
            }
            writeln!(
                out,
                "Run `railyard observe --merge-shards {}` once every shard is done.",
                shard.dir.display()
            )?;
        }
    }
    Ok(Outcome::Clean)
}

/// Reads every shard file in `dir` and gives each registered workload its results, in
/// registry order; a workload in no shard is unknown.
pub fn merge(
    release: &Release,
    library: &Library,
    cache: &Cache,
    base_dir: &Path,
    dir: &Path,
) -> Result<(Vec<ObservedWorkload>, Stats)> {
    let mut files = Vec::new();
    let entries = std::fs::read_dir(dir).with_context(|| format!("reading shard folder `{}`", dir.display()))?;
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("shard-") && n.ends_with(".json"))
        })
        .collect();
    paths.sort();
    for p in &paths {
        let bytes = std::fs::read(p).with_context(|| format!("reading `{}`", p.display()))?;
        let f: ShardFile = serde_json::from_slice(&bytes)
            .with_context(|| format!("`{}` is not a Railyard shard file", p.display()))?;
        if f.version != VERSION {
            bail!(
                "`{}`: shard file version {} (expected {VERSION})",
                p.display(),
                f.version
            );
        }
        if f.develop != release.develop {
            bail!(
                "`{}` evaluated develop {} but develop is now {}: re-run the shards on the same commit",
                p.display(),
                f.develop,
                release.develop
            );
        }
        files.push(f);
    }
    if files.is_empty() {
        bail!("no shard files (shard-K-of-N.json) in `{}`", dir.display());
    }
    let counts: BTreeSet<u32> = files.iter().map(|f| f.of).collect();
    if counts.len() > 1 {
        bail!(
            "shard files of different splits (N = {counts:?}) in `{}`",
            dir.display()
        );
    }
    let of = files[0].of;
    let present: BTreeSet<u32> = files.iter().map(|f| f.shard).collect();
    let missing: Vec<String> = (1..=of)
        .filter(|k| !present.contains(k))
        .map(|k| format!("{k}/{of}"))
        .collect();
    if !missing.is_empty() {
        eprintln!(
            "warning: shard(s) {} missing in `{}`: their workloads are unknown",
            missing.join(", "),
            dir.display()
        );
    }
    let mut stats = Stats::default();
    let mut by_name: HashMap<String, ObservedWorkload> = HashMap::new();
    for f in files {
        stats.workloads_parsed += f.stats.workloads_parsed;
        stats.evaluations += f.stats.evaluations;
        stats.cache_hits += f.stats.cache_hits;
        stats.jobs = stats.jobs.max(f.stats.jobs);
        for mut w in f.workloads {
            // Results in this library's order, by guardrail id.
            let mut results = Vec::with_capacity(library.guardrails.len());
            for g in &library.guardrails {
                match f.guardrails.iter().position(|id| *id == g.id) {
                    Some(i) if i < w.results.len() => results.push(w.results[i].clone()),
                    _ => results.push(crate::evaluate::RawEvaluation::unreadable(
                        &g.id,
                        &w.info.name,
                        &[problem(format!(
                            "guardrail `{}` missing from the shard's results",
                            g.id
                        ))],
                    )),
                }
            }
            w.results = results;
            by_name.entry(w.info.name.clone()).or_insert(w);
        }
    }
    let workloads: Vec<ObservedWorkload> = release
        .registry
        .workloads
        .iter()
        .map(|spec| match by_name.remove(&spec.name) {
            Some(mut w) => {
                // Blame works when this runner's cache has the repository (best effort).
                let path = cache.repo_path(spec, base_dir);
                w.repo_path = path.exists().then_some(path);
                w
            }
            None => ObservedWorkload::unknown(
                crate::workload::WorkloadInfo {
                    name: spec.name.clone(),
                    team: spec.team.clone(),
                    commit: String::new(),
                },
                library,
                format!(
                    "not evaluated by any shard (expected in shard {}/{of})",
                    slice_of(&spec.name, of)
                ),
            ),
        })
        .collect();
    stats.workloads = workloads.len();
    Ok((workloads, stats))
}

fn problem(message: String) -> crate::evaluate::EvalProblem {
    crate::evaluate::EvalProblem {
        guardrail: None,
        file: None,
        line: None,
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slices_are_stable_and_cover_everything() {
        assert_eq!(slice_of("payments-api", 4), slice_of("payments-api", 4));
        let names: Vec<String> = (0..1000).map(|i| format!("workload-{i:04}")).collect();
        let mut sizes = [0usize; 4];
        for n in &names {
            let k = slice_of(n, 4);
            assert!((1..=4).contains(&k));
            sizes[(k - 1) as usize] += 1;
        }
        assert!(sizes.iter().all(|s| *s > 150), "{sizes:?}");
        assert_eq!(slice_of("anything", 1), 1);
    }

    #[test]
    fn parses_k_of_n() {
        let s = Shard::parse("2/3", PathBuf::from("d")).unwrap();
        assert_eq!((s.index, s.count), (2, 3));
        assert!(Shard::parse("0/3", PathBuf::new()).is_err());
        assert!(Shard::parse("4/3", PathBuf::new()).is_err());
        assert!(Shard::parse("x", PathBuf::new()).is_err());
    }
}
