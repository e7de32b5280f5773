//! `railyard preview` on real repositories: a pull-request branch of the guardrails repo is
//! previewed against `main`; the preview's numbers are the ones the next `observe` (after the
//! branch is merged into `develop`) produces, and the preview writes nothing.

use crate::common::sandbox::{bundled, command, ledger_json, main_and_develop, text, two_workloads, Root, Sandbox};
use crate::common::{commit, REGISTRY};
use git2::Repository;
use std::collections::BTreeMap;
use std::process::Output;

trait PreviewSandbox {
    fn run(&self, args: &[&str]) -> Output;
}

impl PreviewSandbox for Sandbox {
    fn run(&self, args: &[&str]) -> Output {
        let mut cmd = command(self.dir.path(), args);
        cmd.env("RAILYARD_ACTOR", "sec-lead")
            .env("RAILYARD_TEST_TODAY", "2026-12-31")
            .env_remove("RAILYARD_LEDGER_KEY");
        cmd.output().unwrap()
    }
}

/// Two workloads (`payments-api` compliant, `web` with an unversioned bucket); `develop`'s
/// aws-ebs-volume-encryption observed and promoted on 2026-10-01 (so a ledger exists); a
/// pull-request branch `pr-1` off `develop` adding aws-s3-versioning (breaks `web`) and
/// aws-rds-encryption (breaks nobody).
fn with_pull_request() -> Sandbox {
    let sb = Sandbox::empty();
    two_workloads(sb.dir.path(), ["payments infra", "web infra"]);
    let mut base = bundled("lib");
    base.push(("workloads.toml".into(), REGISTRY.into()));
    let g = sb.repo("guardrails");
    main_and_develop(&g, &base, &bundled("aws-ebs-volume-encryption"), "ebs");
    let out = sb.run(&["observe", "--now", "2026-10-01"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let develop = g
        .find_reference("refs/heads/develop")
        .unwrap()
        .peel_to_commit()
        .unwrap();
    g.branch("pr-1", &develop, false).unwrap();
    let mut added = bundled("aws-s3-versioning");
    added.extend(bundled("aws-rds-encryption"));
    crate::common::sandbox::commit_all(&g, "pr-1", &added, "add two guardrails");
    sb
}

/// Every ref of the repository with the object it points at.
fn refs(g: &Repository) -> BTreeMap<String, String> {
    g.references()
        .unwrap()
        .map(|r| {
            let r = r.unwrap();
            let target = r
                .target()
                .map(|o| o.to_string())
                .or_else(|| r.symbolic_target().ok().flatten().map(str::to_string))
                .unwrap_or_default();
            (r.name().unwrap().to_string(), target)
        })
        .collect()
}

fn guardrail<'a>(report: &'a serde_json::Value, id: &str) -> &'a serde_json::Value {
    report["guardrails"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["id"] == id)
        .unwrap_or_else(|| panic!("{id} not in the preview: {report}"))
}

#[test]
fn preview_of_a_pull_request_matches_the_next_observe_and_writes_nothing() {
    let sb = with_pull_request();
    let g = sb.repo("guardrails");
    let refs_before = refs(&g);
    let ledger_before = ledger_json(&g);

    let out = sb.run(&["preview", "--ref", "pr-1", "--now", "2026-11-01", "--format", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let p: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(p["ref"], "pr-1");
    assert_eq!(p["workloads"], 2);
    assert_eq!(p["guardrails"].as_array().unwrap().len(), 2, "{p}");
    let s3 = guardrail(&p, "aws-s3-versioning");
    assert_eq!(s3["change"], "new");
    assert_eq!(s3["action"], "would-hold");
    assert_eq!(s3["breaks"], 1);
    assert_eq!(s3["workloads"], 2);
    assert_eq!(s3["activation"], "2026-12-01");
    let b = &s3["breaking"][0];
    assert_eq!(b["workload"], "web");
    assert_eq!(b["team"], "web");
    assert_eq!(b["owners"][0], "bob@example.com");
    assert_eq!(b["deadline"], "2026-12-01");
    assert_eq!(b["resources"][0]["resource"], "aws_s3_bucket.logs");
    assert_eq!(b["resources"][0]["file"], "main.tf");
    assert_eq!(b["resources"][0]["line"], 1);
    let rds = guardrail(&p, "aws-rds-encryption");
    assert_eq!(rds["action"], "would-promote");
    assert_eq!(rds["breaks"], 0);
    assert_eq!(rds["unknown"], 0);

    // Nothing written: every ref (branches, ledger) and the ledger's content as before.
    assert_eq!(refs(&g), refs_before, "preview moved a ref");
    assert_eq!(ledger_json(&g), ledger_before);

    // The table says the same for people.
    let out = sb.run(&["preview", "--ref", "pr-1", "--now", "2026-11-01"]);
    let t = text(&out);
    assert!(t.contains("1 of 2"), "{t}");
    assert!(t.contains("would be held until 2026-12-01"), "{t}");
    assert!(t.contains("would promote now"), "{t}");
    assert!(
        t.contains("breaks web (team web, owners bob@example.com), fails from 2026-12-01"),
        "{t}"
    );
    assert!(t.contains("aws_s3_bucket.logs at main.tf:1"), "{t}");
    assert_eq!(refs(&g), refs_before);

    // Merge the pull request; the next observe does what the preview said.
    let pr = g.find_reference("refs/heads/pr-1").unwrap().target().unwrap();
    g.reference("refs/heads/develop", pr, true, "merge pr-1").unwrap();
    let out = sb.run(&["observe", "--now", "2026-11-01", "--format", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let o: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let cand = |id: &str| {
        o["candidates"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == id)
            .unwrap()
            .clone()
    };
    assert_eq!(cand("aws-s3-versioning")["action"], "held");
    assert_eq!(cand("aws-s3-versioning")["noncompliant"], s3["breaks"]);
    assert_eq!(cand("aws-s3-versioning")["deadline"], s3["activation"]);
    assert_eq!(cand("aws-rds-encryption")["action"], "promoted");
    let l = ledger_json(&g);
    assert_eq!(l["entries"]["aws-s3-versioning/web"]["deadline"], b["deadline"]);
    assert_eq!(l["entries"]["aws-s3-versioning/payments-api"]["status"], "compliant");
}

#[test]
fn preview_shows_which_findings_a_changed_exception_waives() {
    let sb = with_pull_request();
    let g = sb.repo("guardrails");
    let exc = "[[exception]]\nworkload = \"web\"\nresource = \"aws_s3_bucket.log*\"\nreason = \"Logs bucket is recreated in Q1\"\napproved_by = \"security@example.com\"\nticket = \"SEC-1\"\nexpires = 2026-11-20\n";
    commit(
        &g,
        "pr-1",
        &[("guardrails/aws-s3-versioning/exceptions.toml", Some(exc))],
        "approve exception",
    );
    let out = sb.run(&["preview", "--ref", "pr-1", "--now", "2026-11-01", "--format", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let p: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let x = &p["exceptions"][0];
    assert_eq!(x["file"], "guardrails/aws-s3-versioning/exceptions.toml");
    assert_eq!(x["waives"][0]["workload"], "web");
    assert_eq!(x["waives"][0]["resource"], "aws_s3_bucket.logs");
    assert_eq!(x["waives"][0]["line"], 1);
    assert_eq!(x["stops_waiving"].as_array().unwrap().len(), 0);
    // With its finding waived, the guardrail breaks nobody and would promote.
    assert_eq!(guardrail(&p, "aws-s3-versioning")["action"], "would-promote");

    // The pull-request comment says the same.
    let out = sb.run(&[
        "preview",
        "--ref",
        "pr-1",
        "--now",
        "2026-11-01",
        "--format",
        "markdown",
    ]);
    let md = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(md.contains("## Railyard preview: `pr-1` against `main`"), "{md}");
    assert!(
        md.contains("| waives | `web` | `aws_s3_bucket.logs` | `main.tf:1` |"),
        "{md}"
    );
    assert!(
        md.contains("| `aws-s3-versioning` | New | medium | 0 of 2 | 0 | would promote now |"),
        "{md}"
    );

    // Merged and promoted with its exception; a later branch withdrawing the exception
    // stops waiving the finding, and the changed guardrail would be held for `web`.
    let pr = g.find_reference("refs/heads/pr-1").unwrap().target().unwrap();
    g.reference("refs/heads/develop", pr, true, "merge pr-1").unwrap();
    let out = sb.run(&["observe", "--now", "2026-11-01"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    g.branch("pr-2", &g.find_commit(pr).unwrap(), false).unwrap();
    commit(
        &g,
        "pr-2",
        &[("guardrails/aws-s3-versioning/exceptions.toml", None)],
        "withdraw",
    );
    let out = sb.run(&["preview", "--ref", "pr-2", "--now", "2026-11-02", "--format", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let p: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let x = &p["exceptions"][0];
    assert_eq!(x["waives"].as_array().unwrap().len(), 0, "{x}");
    assert_eq!(x["stops_waiving"][0]["workload"], "web", "{x}");
    assert_eq!(x["stops_waiving"][0]["resource"], "aws_s3_bucket.logs");
    let s3 = guardrail(&p, "aws-s3-versioning");
    assert_eq!(s3["change"], "changed");
    assert_eq!(s3["action"], "would-hold");
    assert_eq!(s3["breaks"], 1);
}

#[test]
fn a_workload_that_cannot_be_evaluated_blocks_would_promote() {
    let sb = with_pull_request();
    let g = sb.repo("guardrails");
    let registry = format!("{REGISTRY}\n[[workload]]\nname = \"gone\"\nrepo = \"../gone\"\nteam = \"web\"\n");
    commit(&g, "pr-1", &[("workloads.toml", Some(&registry))], "register gone");
    let refs_before = refs(&g);
    let out = sb.run(&["preview", "--ref", "pr-1", "--now", "2026-11-01", "--format", "json"]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "unknowns are an error, never a pass: {}",
        text(&out)
    );
    let p: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let rds = guardrail(&p, "aws-rds-encryption");
    assert_eq!(rds["action"], "blocked", "{rds}");
    assert_eq!(rds["unknown"], 1);
    assert_eq!(rds["unknowns"][0]["workload"], "gone");
    assert!(!rds["unknowns"][0]["problems"].as_array().unwrap().is_empty());
    assert_eq!(refs(&g), refs_before);
    let t = text(&sb.run(&["preview", "--ref", "pr-1", "--now", "2026-11-01"]));
    assert!(t.contains("unknown on gone (could not evaluate)"), "{t}");
}

#[test]
fn preview_of_a_ref_that_does_not_exist_says_so() {
    let sb = with_pull_request();
    let out = sb.run(&["preview", "--ref", "no-such-branch"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("`no-such-branch` is not a branch, tag or commit"),
        "{}",
        text(&out)
    );
}
