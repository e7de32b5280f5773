//! `railyard preview`: what merging a ref of the guardrails repo (default `develop`) would do,
//! compared with `main`, before anyone merges it. It runs observe's own steps — evaluate the
//! fleet (through the result cache), apply exceptions, record in a copy of the ledger, decide
//! each candidate — as a dry run, so its numbers are the ones the next `observe` produces,
//! and writes nothing: no ref, no ledger entry, no notification (only the cache may fill).

use super::observe::{self, Action, ObserveOptions, Observed};
use super::release::{Change, Release, GUARDRAILS_DIR};
use super::{Outcome, Settings};
use crate::evaluate::{apply_exceptions, Evaluation, Finding, Verdict};
use crate::gitops::MAIN;
use crate::guardrail::Library;
use crate::report::preview::{
    BrokenWorkload, ExceptionPreview, GuardrailPreview, PreviewAction, PreviewFinding, PreviewReport, UnknownWorkload,
    WaiverChange,
};
use anyhow::Result;
use std::io::Write;

pub struct PreviewOptions {
    /// The ref to preview: a branch, tag or commit of the guardrails repo.
    pub git_ref: String,
    /// Worker threads (as `observe --jobs`).
    pub jobs: Option<usize>,
    /// `--framework`: only the changes of guardrails mapped to it.
    pub framework: Option<super::frameworks::Framework>,
}

pub fn preview(s: &Settings, opts: &PreviewOptions, out: &mut dyn Write) -> Result<Outcome> {
    // Observe's steps, as a dry run that never notifies: nothing below writes to the repo.
    let s = &Settings {
        dry_run: true,
        no_notify: true,
        ..s.clone()
    };
    let release = Release::open_at(s, Some(&opts.git_ref))?;
    let library = release.develop_lib.clone();
    let fixture_failures = observe::fixture_failures(s, &release, &library);
    let observe_opts = ObserveOptions {
        jobs: opts.jobs,
        ..ObserveOptions::default()
    };
    let (workloads, stats) = observe::evaluate_fleet(s, &observe_opts, &release, &library)?;
    // The raw results (no exceptions applied) stay for the exception preview below.
    let raw: Vec<Vec<crate::evaluate::RawEvaluation>> = workloads.iter().map(|w| w.results.clone()).collect();
    let fleet = Observed::new(&library, workloads, s.now);
    // The ledger as the next observe would record it: deadlines already running are kept,
    // new noncompliance starts its grace period today (and the clock may not go back).
    let (ledger, _) = observe::record_observations(s, &release, &library, &fleet)?;

    let mut guardrails = Vec::new();
    for c in &release.candidates {
        let (r, _) = observe::promote_if_ready(
            s,
            &release,
            &library,
            &fleet,
            &ledger,
            c,
            fixture_failures.get(&c.id),
            release.ledger_tip.as_deref(),
        )?;
        let action = match (r.action, c.change) {
            (Action::WouldPromote, Change::Removed) => PreviewAction::WouldRemove,
            (Action::WouldPromote | Action::Promoted, _) => PreviewAction::WouldPromote,
            (Action::Removed, _) => PreviewAction::WouldRemove,
            (Action::Held, _) => PreviewAction::WouldHold,
            (Action::Blocked, _) => PreviewAction::Blocked,
            (Action::Broken, _) => PreviewAction::Broken,
        };
        let held = action == PreviewAction::WouldHold || action == PreviewAction::Blocked;
        let mut p = GuardrailPreview {
            id: c.id.clone(),
            change: c.change,
            title: r.title,
            severity: r.severity,
            action,
            workloads: fleet.workloads.len(),
            breaks: r.noncompliant,
            compliant: r.compliant,
            excepted: r.excepted,
            unknown: r.unknown,
            activation: if held { ledger.activation_day(&c.id) } else { None },
            breaking: Vec::new(),
            unknowns: Vec::new(),
            problems: r.problems,
        };
        if c.change != Change::Removed {
            for (w, eval) in fleet.pairs(&c.id) {
                match eval.verdict() {
                    Verdict::Noncompliant => p.breaking.push(BrokenWorkload {
                        workload: w.info.name.clone(),
                        team: w.info.team.clone(),
                        owners: owners(&release, &w.info.name),
                        deadline: held
                            .then(|| observe::open_deadline(&ledger, &c.id, &w.info.name))
                            .flatten(),
                        resources: eval.findings.iter().map(finding).collect(),
                    }),
                    Verdict::Unknown => p.unknowns.push(UnknownWorkload {
                        workload: w.info.name.clone(),
                        problems: eval
                            .problems
                            .iter()
                            .map(|x| crate::gitops::fetch::redact(&x.to_string()))
                            .collect(),
                    }),
                    Verdict::Compliant | Verdict::Excepted => {}
                }
            }
        }
        guardrails.push(p);
    }

    let mut exceptions = exception_changes(&release, &library, &fleet, &raw, s.now)?;
    if let Some(f) = &opts.framework {
        f.require_known(&[&release.develop_lib, &release.main_lib])?;
        // A guardrail counts when either version maps to it (a change may drop the mapping).
        let mapped = |id: &str| {
            [release.develop_lib.get(id), release.main_lib.get(id)]
                .into_iter()
                .flatten()
                .any(|g| f.maps(g))
        };
        guardrails.retain(|g| mapped(&g.id));
        exceptions.retain(|x| mapped(&x.guardrail));
    }
    let report = PreviewReport {
        version: 1,
        now: s.now,
        git_ref: opts.git_ref.clone(),
        ref_commit: release.develop.clone(),
        main: release.repo.require_tip(MAIN)?,
        workloads: fleet.workloads.len(),
        exceptions,
        guardrails,
        exception_errors: release.governance.iter().map(|e| e.to_string()).collect(),
        stats,
    };
    crate::output::preview::render(s.format, &report, out)?;
    for e in &report.exception_errors {
        eprintln!("error: {e}");
    }
    let unknown = !report.exception_errors.is_empty()
        || report
            .guardrails
            .iter()
            .any(|g| matches!(g.action, PreviewAction::Blocked | PreviewAction::Broken));
    Ok(if unknown { Outcome::Error } else { Outcome::Clean })
}

fn owners(release: &Release, workload: &str) -> Vec<String> {
    release
        .registry
        .workload(workload)
        .map(|w| release.registry.owners_of(w))
        .unwrap_or_default()
}

fn finding(f: &Finding) -> PreviewFinding {
    PreviewFinding {
        resource: f.resource.clone(),
        file: f.file.clone(),
        line: f.line,
        message: f.message.clone(),
    }
}

/// Per guardrail of the ref whose `exceptions.toml` differs from `main`'s: the same raw
/// results (from the cache) with `main`'s exceptions and with the ref's, compared.
fn exception_changes(
    release: &Release,
    library: &Library,
    fleet: &Observed,
    raw: &[Vec<crate::evaluate::RawEvaluation>],
    now: crate::date::Day,
) -> Result<Vec<ExceptionPreview>> {
    let mut out = Vec::new();
    for (i, g) in library.guardrails.iter().enumerate() {
        let file = format!("{GUARDRAILS_DIR}/{}/exceptions.toml", g.id);
        if release.repo.tree_id(&release.develop, &file)? == release.repo.tree_id(&release.main, &file)? {
            continue;
        }
        // `main`'s exceptions, as `main`'s governance judged them (none for a new guardrail).
        let mut on_main = g.clone();
        on_main.exceptions = release
            .main_lib
            .get(&g.id)
            .map(|m| m.exceptions.clone())
            .unwrap_or_default();
        let mut change = ExceptionPreview {
            guardrail: g.id.clone(),
            file,
            waives: Vec::new(),
            stops_waiving: Vec::new(),
            unknown: Vec::new(),
        };
        for ((w, evals), raw) in fleet.workloads.iter().zip(&fleet.evaluations).zip(raw) {
            let after: &Evaluation = &evals[i];
            if after.verdict() == Verdict::Unknown {
                change.unknown.push(w.info.name.clone());
                continue;
            }
            let before = apply_exceptions(&on_main, raw[i].clone(), now);
            let waiver = |f: &Finding| WaiverChange {
                workload: w.info.name.clone(),
                team: w.info.team.clone(),
                finding: finding(f),
            };
            let waived_before = |f: &Finding| before.excepted.iter().any(|b| same(b, f));
            let waived_after = |f: &Finding| after.excepted.iter().any(|a| same(a, f));
            change
                .waives
                .extend(after.excepted.iter().filter(|f| !waived_before(f)).map(waiver));
            change
                .stops_waiving
                .extend(before.excepted.iter().filter(|f| !waived_after(f)).map(waiver));
        }
        out.push(change);
    }
    Ok(out)
}

/// The same finding, whichever exception list it went through.
fn same(a: &Finding, b: &Finding) -> bool {
    (&a.resource, &a.id, &a.file, a.line, &a.message) == (&b.resource, &b.id, &b.file, b.line, &b.message)
}
