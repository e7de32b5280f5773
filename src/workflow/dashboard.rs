//! `railyard dashboard --out DIR`: the release loop's history as a static page. Read the
//! release (ledger, registry, both branches' guardrails), select the guardrails of
//! `--framework`, read one point per ledger commit, shape today's ledger, write `index.html`.

use super::release::Release;
use super::{Outcome, Settings};
use crate::dashboard::{history, html, model};
use anyhow::{bail, Context, Result};
use std::collections::BTreeSet;
use std::io::Write;
use std::path::PathBuf;

#[derive(Debug, Clone)]
pub struct DashboardOptions {
    /// The folder `index.html` is written to (made when missing).
    pub out: PathBuf,
    /// Only guardrails mapping a control whose name starts with this (e.g. `PCI-DSS`).
    pub framework: Option<String>,
    /// Threads reading the ledger's history.
    pub jobs: usize,
}

pub fn dashboard(s: &Settings, opts: &DashboardOptions, out: &mut dyn Write) -> Result<Outcome> {
    // The release as every workflow reads it: a tampered ledger stops here (exit 2).
    let release = Release::open(s)?;
    let candidates: BTreeSet<String> = release.candidates.iter().map(|c| c.id.clone()).collect();
    let sources = model::Sources {
        ledger: &release.ledger,
        registry: &release.registry,
        develop_lib: &release.develop_lib,
        main_lib: &release.main_lib,
        candidates: &candidates,
        unverified: release.unverified(),
    };

    // The guardrails shown: all, or those mapping a control of `--framework`.
    let framework = opts.framework.as_deref();
    let all = model::guardrails(&sources);
    let shown: BTreeSet<String> = all
        .iter()
        .filter(|g| model::matches(&g.frameworks, framework))
        .map(|g| g.id.clone())
        .collect();
    if let (Some(f), true) = (framework, shown.is_empty()) {
        let known: BTreeSet<&str> = all
            .iter()
            .flat_map(|g| g.frameworks.iter().map(|x| x.split(' ').next().unwrap_or(x)))
            .collect();
        bail!(
            "--framework {f}: no guardrail maps a control starting with `{f}` (frameworks mapped: {})",
            known.into_iter().collect::<Vec<_>>().join(", ")
        );
    }

    // One point per recorded run, then today's sections.
    let keep = |id: &str| shown.contains(id);
    let history = history::read(&release.repo, &keep, opts.jobs)?;
    let snapshot = model::snapshot(&sources, s.now, framework);
    let page = html::render(&snapshot, &history);

    std::fs::create_dir_all(&opts.out).with_context(|| format!("cannot create `{}`", opts.out.display()))?;
    let index = opts.out.join("index.html");
    // Written beside and renamed: a reader never sees half a page.
    let tmp = opts.out.join(".index.html.tmp");
    std::fs::write(&tmp, page.as_bytes()).with_context(|| format!("cannot write `{}`", tmp.display()))?;
    std::fs::rename(&tmp, &index).with_context(|| format!("cannot write `{}`", index.display()))?;
    writeln!(
        out,
        "wrote {}: {} recorded runs, {} guardrails, {} workloads, {} noncompliant or unknown pairs",
        index.display(),
        history.points.len(),
        snapshot.guardrails.len(),
        snapshot.workloads,
        snapshot.exposure.len()
    )?;
    for p in &history.problems {
        eprintln!(
            "error: ledger commit {} on `{}`: {}; this run is missing from the dashboard",
            p.commit,
            crate::gitops::LEDGER,
            p.reason
        );
    }
    Ok(if history.problems.is_empty() {
        Outcome::Clean
    } else {
        Outcome::Error
    })
}
