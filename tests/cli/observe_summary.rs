//! `observe`'s default output for people summarises the fleet (issue 14): at 1,000 workloads
//! it printed every finding (~67,000 lines). These tests observe a fleet with many findings,
//! teams and unreachable workloads and pin that the table and Markdown stay bounded, that
//! every unknown is still counted and named (never summarised away), that `--details` lists
//! every finding, and that JSON stays complete.

use crate::common::sandbox::{bundled, command, commit_all, main_and_develop, text, Root, Sandbox};
use std::fmt::Write as _;

/// Workloads that fail aws-s3-versioning, each in its own team.
const FAILING: usize = 30;
/// Unversioned buckets in each failing workload.
const BUCKETS: usize = 60;
/// Workloads whose repository does not exist (unknown for every guardrail), team `ops`.
const UNREACHABLE: usize = 25;

/// One workload repo with [`BUCKETS`] unversioned buckets, registered [`FAILING`] times,
/// and [`UNREACHABLE`] workloads that cannot be fetched; develop holds two candidates.
fn big_fleet() -> Sandbox {
    let sb = Sandbox::empty();
    let mut tf = String::new();
    for i in 0..BUCKETS {
        writeln!(
            tf,
            "resource \"aws_s3_bucket\" \"b{i:02}\" {{\n  bucket = \"b{i:02}\"\n}}\n"
        )
        .unwrap();
    }
    commit_all(&sb.repo("many"), "main", &[("main.tf".into(), tf)], "buckets");
    let mut registry = String::from("[defaults]\ngrace_days = 30\n");
    for i in 0..FAILING {
        writeln!(
            registry,
            "\n[[workload]]\nname = \"app-{i:02}\"\nrepo = \"../many\"\nteam = \"team-{i:02}\""
        )
        .unwrap();
    }
    for i in 0..UNREACHABLE {
        writeln!(
            registry,
            "\n[[workload]]\nname = \"gone-{i:02}\"\nrepo = \"../missing-{i:02}\"\nteam = \"ops\""
        )
        .unwrap();
    }
    let mut base = bundled("lib");
    base.push(("workloads.toml".into(), registry));
    let mut cands = bundled("aws-s3-versioning");
    cands.extend(bundled("aws-ebs-volume-encryption"));
    main_and_develop(&sb.repo("guardrails"), &base, &cands, "two candidates");
    sb
}

/// A dry-run observation's stdout; blocked candidates (unknowns) make it exit 2.
fn observe(sb: &Sandbox, extra: &[&str]) -> String {
    let mut args = vec![
        "observe",
        "--now",
        "2026-11-01",
        "--dry-run",
        "--no-notify",
        "--jobs",
        "2",
    ];
    args.extend_from_slice(extra);
    let out = command(sb.root(), &args).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn default_output_is_bounded_names_unknowns_and_details_lists_every_finding() {
    let sb = big_fleet();
    let findings = FAILING * BUCKETS;

    // JSON stays complete: every finding, for tools.
    let json = observe(&sb, &["--format", "json"]);
    let doc: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(doc["to_fix"].as_array().unwrap().len(), findings);

    // The table: a screenful however many findings, with the per-guardrail decisions, the
    // teams, the unknowns by name and reason, and how to see the rest.
    let table = observe(&sb, &[]);
    let lines = table.lines().count();
    assert!(lines <= 80, "{lines} lines for {findings} findings:\n{table}");
    assert!(
        table.contains("blocked: 25 workloads could not be evaluated, never read as compliant"),
        "{table}"
    );
    assert!(
        !table.contains("aws_s3_bucket.b59"),
        "no per-resource list by default:\n{table}"
    );
    assert!(
        table.contains(&format!(
            "{findings} findings on {FAILING} workloads not listed here: `--details` lists every one"
        )),
        "{table}"
    );
    // 31 teams (30 failing, `ops` unknown): the 20 with most findings, then a count (the
    // unknowns of `ops` are named below).
    assert!(table.contains("team-00"), "{table}");
    assert!(
        table.contains("11 more teams with 600 findings and 50 unknowns"),
        "{table}"
    );
    // Unknowns: all counted; the first 20 workloads named with their reason; the rest counted.
    assert!(
        table.contains("Unknown: 50 results on 25 workloads could not be evaluated (never counted as compliant):"),
        "{table}"
    );
    assert!(table.contains("gone-00 (ops): every guardrail — "), "{table}");
    assert!(
        table.contains("missing-00"),
        "the reason names the repository:\n{table}"
    );
    assert!(
        table.contains("… and 10 more unknown results on 5 workloads"),
        "{table}"
    );

    // Markdown, for job summaries: bounded the same way, unknowns named.
    let md = observe(&sb, &["--format", "markdown"]);
    let lines = md.lines().count();
    assert!(lines <= 90, "{lines} lines of Markdown:\n{md}");
    assert!(md.contains("### Unknown: 50 results on 25 workloads"), "{md}");
    assert!(md.contains("- `gone-00` (ops): every guardrail — "), "{md}");
    assert!(!md.contains("aws_s3_bucket.b59"), "{md}");
    assert!(md.contains("`--details` lists every one"), "{md}");

    // `--details`: every finding, team and unknown.
    let all = observe(&sb, &["--details"]);
    for i in 0..FAILING {
        for b in [0, BUCKETS - 1] {
            let row = all
                .lines()
                .any(|l| l.contains(&format!(" app-{i:02} ")) && l.contains(&format!("aws_s3_bucket.b{b:02} ")));
            assert!(row, "app-{i:02} aws_s3_bucket.b{b:02} not listed:\n{all}");
        }
    }
    let rows = all.lines().filter(|l| l.contains("aws_s3_bucket.b")).count();
    assert_eq!(rows, findings, "one row per finding");
    for i in 0..UNREACHABLE {
        assert!(all.contains(&format!("gone-{i:02} (ops): every guardrail")), "{all}");
    }
    assert!(all.contains("team-29"), "{all}");
    assert!(!all.contains("not listed"), "{all}");
    let same = observe(&sb, &["--details", "all"]);
    assert_eq!(same, all, "`--details` is `--details all`");

    let md_all = observe(&sb, &["--details", "--format", "markdown"]);
    let rows = md_all.lines().filter(|l| l.contains("`aws_s3_bucket.b")).count();
    assert_eq!(rows, findings, "{md_all}");
}

#[test]
fn an_unknown_is_never_summarised_away() {
    // One unreachable workload among compliant ones: the summary has nothing to fix, and
    // still names the unknown with its reason.
    let sb = Sandbox::empty();
    commit_all(
        &sb.repo("ok"),
        "main",
        &[("main.tf".into(), crate::common::COMPLIANT_TF.into())],
        "compliant",
    );
    let registry = "[[workload]]\nname = \"ok\"\nrepo = \"../ok\"\nteam = \"a\"\n\n[[workload]]\nname = \"lost\"\nrepo = \"../nowhere\"\nteam = \"b\"\n";
    let mut base = bundled("lib");
    base.push(("workloads.toml".into(), registry.into()));
    main_and_develop(
        &sb.repo("guardrails"),
        &base,
        &bundled("aws-s3-versioning"),
        "one candidate",
    );
    for format in ["table", "markdown"] {
        let out = observe(&sb, &["--format", format]);
        assert!(out.contains("1 result on 1 workload could not be evaluated"), "{out}");
        assert!(out.contains("lost") && out.contains("nowhere"), "{out}");
        assert!(out.contains("aws-s3-versioning"), "{out}");
        assert!(out.contains("blocked"), "{out}");
    }
}

#[test]
fn enforce_summarises_a_fleets_upcoming_deadlines_per_guardrail() {
    let sb = big_fleet();
    // Record the fleet's findings (the unknowns block promotion: exit 2).
    let out = command(
        sb.root(),
        &["observe", "--now", "2026-11-01", "--no-notify", "--jobs", "2"],
    )
    .output()
    .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let enforce = |extra: &[&str]| {
        let mut args = vec!["enforce", "--now", "2026-11-20", "--dry-run", "--no-notify"];
        args.extend_from_slice(extra);
        let out = command(sb.root(), &args).output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let summary = enforce(&[]);
    assert!(summary.lines().count() <= 10, "{summary}");
    assert!(
        summary.contains(&format!(
            "upcoming: `aws-s3-versioning` fails {FAILING} workloads of {FAILING} teams from 2026-12-01: 11 days left, {} findings",
            FAILING * BUCKETS
        )),
        "{summary}"
    );
    assert!(
        summary.contains("`railyard enforce --details` lists every"),
        "{summary}"
    );
    assert!(!summary.contains("`app-00`"), "{summary}");

    let all = enforce(&["--details"]);
    for i in 0..FAILING {
        assert!(
            all.contains(&format!(
                "upcoming: `aws-s3-versioning` fails `app-{i:02}` (team-{i:02}) from 2026-12-01"
            )),
            "{all}"
        );
    }
    assert!(!all.contains("--details` lists"), "{all}");

    let md = enforce(&["--format", "markdown"]);
    assert!(md.contains("### Upcoming deadlines (30), per guardrail"), "{md}");
    assert!(!md.contains("`app-00`"), "{md}");
    let md = enforce(&["--details", "--format", "markdown"]);
    assert!(
        md.contains("| `aws-s3-versioning` | `app-29` | team-29 | 2026-12-01 |"),
        "{md}"
    );

    // JSON stays complete.
    let json = enforce(&["--format", "json"]);
    let doc: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(doc["upcoming"].as_array().unwrap().len(), FAILING);
}
