//! The terminal experience (issue 12, item 8): colour on a terminal and none when piped or
//! with `NO_COLOR`, tables that fit `COLUMNS`, progress on stderr during `observe`, the
//! per-team summary and `--top`/`--details`, and per-subcommand `--help`. Terminal runs go
//! through a real pseudo-terminal: util-linux `script`.

use crate::common::sandbox::{bundled, command, main_and_develop, text, two_workloads, Root, Sandbox};
use crate::common::{bundled_guardrails, railyard, railyard_env, REGISTRY};
use std::path::Path;
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_railyard");
const ESC: char = '\u{1b}';

/// Runs `railyard ARGS` in `cwd` on a pseudo-terminal (`script -qfec`), with `env` set, and
/// returns everything the terminal showed (stdout and stderr, as a user sees them).
fn on_tty(cwd: &Path, args: &[&str], env: &[(&str, &str)]) -> String {
    let quoted: Vec<String> = std::iter::once(BIN)
        .chain(args.iter().copied())
        .map(|a| format!("'{}'", a.replace('\'', r"'\''")))
        .collect();
    // A terminal of COLUMNS columns (100 by default), as a real one has a size.
    let cols = env.iter().find(|(k, _)| *k == "COLUMNS").map_or("100", |(_, v)| v);
    let line = format!("stty cols {cols} rows 40 2>/dev/null; exec {}", quoted.join(" "));
    let mut cmd = Command::new("script");
    cmd.args(["-qfec", &line, "/dev/null"])
        .current_dir(cwd)
        .env("TERM", "xterm-256color")
        .env_remove("NO_COLOR")
        .env_remove("CLICOLOR_FORCE")
        .env_remove("CLICOLOR")
        .env_remove("COLUMNS")
        .env("RAILYARD_ACTOR", "sec-lead")
        .env("RAILYARD_TEST_TODAY", "2026-12-31");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("util-linux `script` runs");
    String::from_utf8_lossy(&out.stdout).replace("\r\n", "\n")
}

/// The lines as shown: colour codes removed; a carriage return or a cursor movement (the
/// progress bar redrawing itself) starts a new piece, each measured on its own.
fn shown(text: &str) -> Vec<String> {
    let mut pieces = vec![String::new()];
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\n' | '\r' => pieces.push(String::new()),
            ESC => {
                // CSI: ESC [ parameters final-byte; `m` (colour) shows nothing, the others move.
                if chars.peek() == Some(&'[') {
                    chars.next();
                    for d in chars.by_ref() {
                        if ('@'..='~').contains(&d) {
                            if d != 'm' {
                                pieces.push(String::new());
                            }
                            break;
                        }
                    }
                }
            }
            c => pieces.last_mut().expect("one piece at least").push(c),
        }
    }
    pieces
}

fn assert_fits(text: &str, width: usize) {
    for piece in shown(text) {
        assert!(
            piece.trim_end().chars().count() <= width,
            "wider than COLUMNS={width}: {piece:?}\n{text}"
        );
    }
}

/// A workload with a finding (the payments example) next to the bundled guardrails.
fn workspace() -> tempfile::TempDir {
    let ws = tempfile::tempdir().unwrap();
    crate::common::copy_dir(
        &bundled_guardrails().join("..").join("examples/payments-api"),
        &ws.path().join("app"),
    );
    ws
}

fn check_args(guardrails: &Path) -> Vec<String> {
    vec![
        "check".into(),
        "app".into(),
        "--guardrails".into(),
        guardrails.display().to_string(),
    ]
}

#[test]
fn colour_on_a_terminal_none_when_piped_or_with_no_color() {
    let ws = workspace();
    let gr = bundled_guardrails();
    let args = check_args(&gr);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();

    let tty = on_tty(ws.path(), &args, &[]);
    assert!(tty.contains("FAIL"), "{tty}");
    assert!(tty.contains(ESC), "no colour on a terminal:\n{tty}");

    let no_color = on_tty(ws.path(), &args, &[("NO_COLOR", "1")]);
    assert!(no_color.contains("FAIL"), "{no_color}");
    assert!(!no_color.contains(ESC), "colour despite NO_COLOR:\n{no_color}");

    // Piped: plain text; CLICOLOR_FORCE brings the colour back for CI logs that show it.
    let piped = |env: &[(&str, &str)]| {
        let out = Command::new(BIN)
            .args(&args)
            .current_dir(ws.path())
            .env_remove("NO_COLOR")
            .env_remove("CLICOLOR_FORCE")
            .envs(env.iter().copied())
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{}", text(&out));
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let plain = piped(&[]);
    assert!(
        plain.contains("FAIL") && !plain.contains(ESC),
        "colour in a pipe:\n{plain}"
    );
    let forced = piped(&[("CLICOLOR_FORCE", "1")]);
    assert!(forced.contains(ESC), "CLICOLOR_FORCE ignored:\n{forced}");
    let both = piped(&[("CLICOLOR_FORCE", "1"), ("NO_COLOR", "1")]);
    assert!(!both.contains(ESC), "NO_COLOR wins over CLICOLOR_FORCE:\n{both}");
}

#[test]
fn tables_fit_columns_and_start_with_the_summary() {
    let ws = workspace();
    let gr = bundled_guardrails();
    let args = check_args(&gr);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let wide = railyard_env(ws.path(), &args, &[("COLUMNS", "")]);
    let longest = wide.stdout.lines().map(|l| l.chars().count()).max().unwrap_or(0);
    assert!(
        longest > 100,
        "the unbounded table should be wider than 100 (is {longest}):\n{}",
        wide.stdout
    );

    let tty = on_tty(ws.path(), &args, &[("COLUMNS", "100")]);
    assert_fits(&tty, 100);
    // Summary first, details after; counts in the right number.
    let first = shown(&tty).into_iter().next().unwrap_or_default();
    assert!(first.starts_with("FAIL app: 30 guardrails on "), "{tty}");
    assert!(first.contains(": 1 finding, 0 warnings"), "{tty}");
    assert!(tty.contains("versioning is not enabled"), "{tty}");
}

/// A guardrails repo with two candidates and the two standard workloads (`web` breaks
/// `aws-s3-versioning`).
fn fleet() -> Sandbox {
    let sb = Sandbox::empty();
    two_workloads(sb.root(), ["payments infra", "web infra"]);
    let mut base: Vec<(String, String)> = bundled("lib");
    base.push(("workloads.toml".into(), REGISTRY.into()));
    let mut cands = bundled("aws-ebs-volume-encryption");
    cands.extend(bundled("aws-s3-versioning"));
    main_and_develop(&sb.repo("guardrails"), &base, &cands, "two candidates");
    sb
}

fn observe_args(sb: &Sandbox, extra: &[&str]) -> Vec<String> {
    let mut args: Vec<String> = ["observe", "--now", "2026-11-01", "--no-notify", "--dry-run"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    args.extend(extra.iter().map(|s| s.to_string()));
    args.extend([
        "--repo".into(),
        sb.path("guardrails").display().to_string(),
        "--cache-dir".into(),
        sb.path("cache").display().to_string(),
    ]);
    args
}

#[test]
fn observe_shows_progress_on_a_terminal_only_and_fits_columns() {
    let sb = fleet();
    let args = observe_args(&sb, &[]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let tty = on_tty(sb.root(), &args, &[("COLUMNS", "100")]);
    assert!(tty.contains("fetching "), "no progress on a terminal:\n{tty}");
    assert!(tty.contains("/2 workloads"), "{tty}");
    assert!(tty.contains("ETA"), "{tty}");
    assert!(tty.contains("fetched workloads: 2 in "), "{tty}");
    assert!(tty.contains("evaluated workloads: 2 in "), "{tty}");
    assert!(tty.contains("Noncompliance per team:"), "{tty}");
    assert_fits(&tty, 100);

    let quiet = observe_args(&sb, &["--quiet"]);
    let quiet: Vec<&str> = quiet.iter().map(String::as_str).collect();
    let tty = on_tty(sb.root(), &quiet, &[]);
    assert!(
        !tty.contains("fetching ") && !tty.contains("evaluated workloads"),
        "progress despite --quiet:\n{tty}"
    );
    assert!(tty.contains("Noncompliance per team:"), "{tty}");

    // Piped: no progress on stderr, nothing but the report on stdout.
    let out = command(
        sb.root(),
        &["observe", "--now", "2026-11-01", "--no-notify", "--dry-run"],
    )
    .env("RAILYARD_TEST_TODAY", "2026-12-31")
    .output()
    .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        !text(&out).contains("fetching ") && !text(&out).contains("evaluated workloads"),
        "{}",
        text(&out)
    );
}

#[test]
fn observe_summarises_per_guardrail_and_team_and_limits_the_list() {
    let sb = fleet();
    let run = |extra: &[&str]| {
        let args = observe_args(&sb, extra);
        let out = Command::new(BIN)
            .args(&args)
            .env("RAILYARD_TEST_TODAY", "2026-12-31")
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    // By default: the summaries and how to see every finding, not the list.
    let summary = run(&[]);
    let guardrail = summary.find("per guardrail:").expect("per-guardrail summary");
    let team = summary.find("Noncompliance per team:").expect("per-team summary");
    assert!(guardrail < team, "{summary}");
    assert!(!summary.contains("What to fix, where"), "{summary}");
    assert!(
        summary.contains("1 finding on 1 workload not listed here: `--details` lists every one"),
        "{summary}"
    );
    assert!(summary.contains("Observed 2 workloads with "), "{summary}");
    // (The first line's cache statistics differ between runs.)
    let none = run(&["--details", "none"]);
    assert_eq!(
        none.lines().skip(1).collect::<Vec<_>>(),
        summary.lines().skip(1).collect::<Vec<_>>(),
        "`none` is the summary"
    );

    let all = run(&["--details"]);
    let guardrail = all.find("per guardrail:").expect("per-guardrail summary");
    let team = all.find("Noncompliance per team:").expect("per-team summary");
    let list = all.find("What to fix, where, and by when:").expect("per-resource list");
    assert!(guardrail < team && team < list, "summaries come first:\n{all}");
    assert!(all.contains("aws_s3_bucket.logs"), "{all}");
    assert!(!all.contains("not listed"), "{all}");

    let top = run(&["--details", "--top", "0"]);
    assert!(!top.contains("What to fix, where"), "{top}");
    assert!(top.contains("1 finding on 1 workload not listed here"), "{top}");
    let top = run(&["--top", "5"]);
    assert!(top.contains("What to fix, where, and by when:"), "{top}");
}

#[test]
fn each_subcommand_help_lists_only_its_options_with_examples_and_defaults() {
    let dir = tempfile::tempdir().unwrap();
    let help = |cmd: &[&str]| {
        let mut args = cmd.to_vec();
        args.push("--help");
        let run = railyard(dir.path(), &args);
        run.expect_code(0);
        run.stdout.clone()
    };
    let check = help(&["check"]);
    for observe_only in ["--repo ", "--dry-run", "--no-notify", "--shard", "--top", "--quiet"] {
        assert!(
            !check.contains(observe_only),
            "`check --help` lists {observe_only}:\n{check}"
        );
    }
    for own in [
        "--guardrails",
        "--fail-on",
        "--format",
        "--max-file-size",
        "Examples:",
        "[default: 8MiB]",
        "[default: 10s]",
    ] {
        assert!(check.contains(own), "`check --help` lacks {own}:\n{check}");
    }
    let test = help(&["test"]);
    for other in ["--repo ", "--now", "--dry-run", "--cache-dir", "--guardrails"] {
        assert!(!test.contains(other), "`test --help` lists {other}:\n{test}");
    }
    let observe = help(&["observe"]);
    for own in [
        "--repo ",
        "--dry-run",
        "--top",
        "--details",
        "--quiet",
        "--jobs",
        "Examples:",
    ] {
        assert!(observe.contains(own), "`observe --help` lacks {own}:\n{observe}");
    }
    assert!(!observe.contains("--fail-on"), "{observe}");
    let report = help(&["report"]);
    assert!(
        !report.contains("--dry-run") && !report.contains("--max-file-size"),
        "{report}"
    );
    for cmd in [
        &["enforce"][..],
        &["promote"],
        &["demo"],
        &["ledger", "verify"],
        &["ledger", "accept"],
    ] {
        let h = help(cmd);
        assert!(h.contains("Examples:\n  railyard"), "{cmd:?} has no examples:\n{h}");
    }
}

#[test]
fn messages_have_clean_paths_and_no_libgit2_internals() {
    let ws = workspace();
    // A guardrail that does not compile, in a folder given with a trailing slash.
    crate::common::guardrails_with(&ws.path().join("gr"), &["aws-s3-versioning"]);
    let policy = ws.path().join("gr/aws-s3-versioning/policy.rego");
    let mut text = std::fs::read_to_string(&policy).unwrap();
    text.push_str("\nbroken {\n");
    std::fs::write(&policy, text).unwrap();
    let run = railyard(ws.path(), &["test", "gr/"]);
    run.expect_code(2);
    assert!(
        run.stderr.contains("gr/aws-s3-versioning/policy.rego:"),
        "{}",
        run.stderr
    );
    assert!(!run.all().contains("//"), "{}", run.all());
    let run = railyard(
        ws.path(),
        &["check", "./app//", "--guardrails", "gr/", "--format", "json"],
    );
    assert!(!run.all().contains("gr//"), "{}", run.all());

    // Not a repository: the reason, without `class=…; code=…`.
    let run = railyard(ws.path(), &["report", "--repo", "app"]);
    run.expect_code(2);
    assert!(run.stderr.contains("is not a git repository"), "{}", run.stderr);
    assert!(!run.stderr.contains("class="), "{}", run.stderr);
    assert!(!run.stderr.contains("code="), "{}", run.stderr);

    // Counts in the right number.
    crate::common::guardrails_with(&ws.path().join("ok"), &["aws-s3-versioning"]);
    let run = railyard(ws.path(), &["check", "app", "--guardrails", "ok"]);
    assert!(run.stdout.contains("1 guardrail on "), "{}", run.stdout);
}
