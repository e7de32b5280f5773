//! `railyard demo`: the whole release loop on the bundled guardrails and example workloads,
//! in a sandbox of real git repositories. It runs the real workflows (nothing is simulated)
//! and checks that the story went as told, so it doubles as an end-to-end smoke test.
//!
//! The story: `develop` holds every bundled guardrail and `main` none. Observation promotes
//! what breaks nobody and holds three guardrails, each broken by one example workload. The
//! payments team fixes its code; the security team approves an exception for the web team;
//! the data team misses its deadline, `enforce` activates the guardrail, and the data team's
//! pipeline fails in `railyard check`.

use super::{check, enforce, observe, report, Outcome, Settings};
use crate::files::{read_dir, ReadLimits};
use crate::gitops;
use crate::output::Format;
use anyhow::{bail, Context, Result};
use std::io::Write;
use std::path::{Path, PathBuf};

/// (workload, team, example folder, the guardrail it breaks)
const WORKLOADS: &[(&str, &str, &str, &str)] = &[
    ("payments-api", "payments", "examples/payments-api", "aws-s3-versioning"),
    ("web-frontend", "web", "examples/web-frontend", "k8s-image-tag-pinned"),
    ("data-pipeline", "data", "examples/data-pipeline", "aws-dynamodb-pitr"),
];

pub fn demo(s: &Settings, keep: Option<&Path>, out: &mut dyn Write) -> Result<Outcome> {
    let source = source_dir()?;
    let temp;
    let sandbox: PathBuf = match keep {
        Some(dir) => {
            std::fs::create_dir_all(dir)?;
            if std::fs::read_dir(dir)?.next().is_some() {
                bail!("`{}` is not empty: give --keep an empty or new folder", dir.display());
            }
            dir.canonicalize()?
        }
        None => {
            temp = tempfile::Builder::new().prefix("railyard-demo-").tempdir()?;
            temp.path().to_path_buf()
        }
    };
    let repo = sandbox.join("guardrails-repo");
    let day0 = s.now;
    let mut settings = Settings {
        repo: repo.display().to_string(),
        repo_token_env: None,
        cache_dir: sandbox.join("cache"),
        now: day0,
        now_explicit: true,
        dry_run: false,
        // The sandbox's teams have no real channels: show what would be sent.
        no_notify: true,
        notify_timeout: crate::notify::DEFAULT_TIMEOUT,
        fetch_timeout: crate::gitops::fetch::DEFAULT_FETCH_TIMEOUT,
        format: Format::Table,
        actor: "security-lead@example.com".into(),
        actor_source: "demo".into(),
        ledger_key: s.ledger_key.clone(),
        run: s.run,
    };

    // The sandbox: three workload repos and a guardrails repo (main empty, develop full).
    let library = snapshot(&source.join("guardrails"), "guardrails")?;
    let ids: Vec<String> = crate::guardrail::load_library(
        &library
            .iter()
            .map(|(p, b)| crate::files::SourceFile::new(p.clone(), b.clone().unwrap_or_default()))
            .collect::<Vec<_>>(),
        "guardrails/",
    )?
    .guardrails
    .into_iter()
    .map(|g| g.id)
    .collect();
    let mut registry =
        String::from("# Workloads observed by Railyard (the demo's registry)\n[defaults]\ngrace_days = 30\n");
    for (name, team, folder, _) in WORKLOADS {
        let files = snapshot(&source.join(folder), "")?;
        gitops::commit_changes(
            &sandbox.join("workloads").join(name),
            "main",
            &files,
            &format!("{name}: infrastructure"),
        )?;
        registry.push_str(&format!(
            "\n[[workload]]\nname = \"{name}\"\nrepo = \"../workloads/{name}\"\nref = \"main\"\nteam = \"{team}\"\n"
        ));
    }
    for (_, team, _, _) in WORKLOADS {
        registry.push_str(&format!("\n[team.{team}]\nowners = [\"{team}-lead@example.com\"]\n"));
    }
    let lib: Vec<_> = library
        .iter()
        .filter(|(p, _)| p.starts_with("guardrails/lib/"))
        .cloned()
        .collect();
    let mut base = lib;
    base.push(("workloads.toml".into(), Some(registry.into_bytes())));
    // Governance on main: who may approve exceptions, and the key that proves it was them.
    let signer = demo_signer()?;
    base.push((
        crate::guardrail::governance::GOVERNANCE_FILE.into(),
        Some(b"# Who may waive what (read from main only)\napprovers = [\"security-lead@example.com\"]\nmax_lifetime_days = 180\n".to_vec()),
    ));
    base.push((
        crate::guardrail::governance::DEFAULT_ALLOWED_SIGNERS.into(),
        Some(
            format!(
                "security-lead@example.com namespaces=\"git\" {}\n",
                signer.public_key().to_openssh()?
            )
            .into_bytes(),
        ),
    ));
    gitops::commit_changes(&repo, "main", &base, "Guardrails repo: registry and shared helpers")?;
    gitops::create_branch(&repo, "develop", "main")?;
    gitops::commit_changes(
        &repo,
        "develop",
        &library,
        &format!("Add {} guardrails from the starter library", ids.len()),
    )?;

    heading(out, 1, "A guardrails repo", "git init; branches develop and main")?;
    writeln!(
        out,
        "{}: develop holds {} candidate guardrails, main none yet;",
        repo.display(),
        ids.len()
    )?;
    let names: Vec<String> = WORKLOADS.iter().map(|(n, t, _, _)| format!("{n} ({t})")).collect();
    writeln!(
        out,
        "workloads.toml registers {} workload repos: {}.",
        WORKLOADS.len(),
        names.join(", ")
    )?;

    // 1. Observation: promote what breaks nobody, hold the rest with a deadline.
    heading(out, 2, &format!("{day0}: observation"), "railyard observe")?;
    let run = json(|o| observe::observe(&settings.with_json(), o))?;
    observed(&run, out)?;
    for (_, _, _, guardrail) in WORKLOADS {
        expect(
            !on_main(&repo, guardrail)?,
            &format!("`{guardrail}` should be held by observation"),
        )?;
    }

    // 2. The exposure report, for an application team and for the security team.
    heading(out, 3, "The web team reads its exposure", "railyard report --team web")?;
    let team = json(|o| {
        report::report(
            &settings.with_json(),
            &report::ReportOptions {
                workload: None,
                team: Some("web".into()),
                framework: None,
            },
            o,
        )
    })?;
    for x in list(&team, "exposure") {
        writeln!(
            out,
            "{} breaks `{}` ({}, {}): fails the build from {} ({} days left).",
            text(x, "workload"),
            text(x, "guardrail"),
            text(x, "severity"),
            crate::output::plural(list(x, "findings").len(), "finding"),
            text(x, "deadline"),
            text(x, "days_left")
        )?;
    }
    let all = json(|o| report::report(&settings.with_json(), &report::ReportOptions::default(), o))?;
    let states = list(&all, "guardrails");
    let pending = states.iter().filter(|g| text(g, "state") == "pending").count();
    writeln!(
        out,
        "`railyard report` (security's view): {} guardrails, {} active, {pending} pending.",
        states.len(),
        states.len() - pending
    )?;

    // 3. The payments team fixes its code; the next observation promotes the guardrail.
    settings.now = day0.plus_days(2);
    heading(
        out,
        4,
        &format!("{}: the payments team enables S3 versioning", settings.now),
        "railyard observe",
    )?;
    let fix = snapshot(&source.join("examples/fixes/payments-api"), "")?;
    gitops::commit_changes(
        &sandbox.join("workloads/payments-api"),
        "main",
        &fix,
        "Enable versioning on the data bucket",
    )?;
    let run = json(|o| observe::observe(&settings.with_json(), o))?;
    observed(&run, out)?;
    expect(
        on_main(&repo, "aws-s3-versioning")?,
        "the fixed workload should let `aws-s3-versioning` be promoted",
    )?;

    // 4. The security team approves an exception; guardrail and exception promote together.
    settings.now = day0.plus_days(3);
    let expires = day0.plus_days(90);
    heading(
        out,
        5,
        &format!("{}: security approves an exception for web-frontend", settings.now),
        "git commit -S guardrails/k8s-image-tag-pinned/exceptions.toml; railyard observe",
    )?;
    let exception = format!(
        "[[exception]]\nworkload = \"web-frontend\"\nresource = \"Deployment.web.*\"\nreason = \"Vendor image is re-tagged upstream; pinning lands in Q1\"\napproved_by = \"security-lead@example.com\"\nticket = \"SEC-1042\"\napproved_on = {}\nexpires = {expires}\n",
        settings.now
    );
    write!(out, "{exception}")?;
    writeln!(
        out,
        "(SSH-signed by security-lead, whose key main's `allowed_signers` lists; unsigned, it waives nothing.)"
    )?;
    let sign = |content: &[u8]| -> Result<String> {
        Ok(signer
            .sign("git", ssh_key::HashAlg::Sha512, content)?
            .to_pem(ssh_key::LineEnding::LF)?)
    };
    gitops::commit_changes_signed(
        &repo,
        "develop",
        &[(
            "guardrails/k8s-image-tag-pinned/exceptions.toml".into(),
            Some(exception.into_bytes()),
        )],
        "Approve exception SEC-1042 for web-frontend",
        Some(&sign),
    )?;
    let run = json(|o| observe::observe(&settings.with_json(), o))?;
    observed(&run, out)?;
    expect(
        on_main(&repo, "k8s-image-tag-pinned")?,
        "the exception should let `k8s-image-tag-pinned` be promoted",
    )?;

    // 5. The deadline passes: the scheduled job activates the held guardrail.
    settings.now = day0.plus_days(30);
    heading(
        out,
        6,
        &format!("{}: the deadline passes; the scheduled job runs", settings.now),
        "railyard enforce",
    )?;
    let opts = enforce::EnforceOptions {
        exception_window: 14,
        reminder_days: vec![14, 3, 1],
        force_failing_fixtures: false,
        details: false,
    };
    let run = json(|o| enforce::enforce(&settings.with_json(), &opts, o))?;
    for a in list(&run, "activated") {
        let failing: Vec<&str> = list(a, "now_failing").iter().filter_map(|w| w.as_str()).collect();
        writeln!(
            out,
            "activated `{}` (deadline {}); pipelines that now fail: {}.",
            text(a, "guardrail"),
            text(a, "deadline"),
            if failing.is_empty() {
                "none".into()
            } else {
                failing.join(", ")
            }
        )?;
    }
    expect(
        on_main(&repo, "aws-dynamodb-pitr")?,
        "`enforce` should activate `aws-dynamodb-pitr` at its deadline",
    )?;

    // 6. The data team's pipeline runs `railyard check` against main: the build fails.
    heading(out, 7, "The data team's CI", "railyard check . --guardrails <repo>")?;
    let checkout = sandbox.join("checkout/data-pipeline");
    let files = snapshot(&source.join("examples/data-pipeline"), "")?;
    for (path, bytes) in &files {
        let p = checkout.join(path);
        std::fs::create_dir_all(p.parent().expect("a file has a folder"))?;
        std::fs::write(&p, bytes.as_deref().unwrap_or_default())?;
    }
    let (active, pending) = check::guardrails_for(&settings, &settings.repo, "data-pipeline")?;
    let outcome = check::check(
        check::CheckOptions {
            path: checkout,
            workload: crate::workload::WorkloadInfo {
                name: "data-pipeline".into(),
                team: "data".into(),
                commit: String::new(),
            },
            active,
            pending,
            now: settings.now,
            fail_on: crate::guardrail::Severity::Low,
            format: Format::Table,
            jobs: None,
            allow_empty: false,
            exclude: Vec::new(),
            path_base: None,
            settings: settings.run,
        },
        out,
    )?;
    writeln!(
        out,
        "exit code {}: the pipeline fails until the table has point-in-time recovery.",
        outcome.exit_code()
    )?;
    expect(
        outcome == Outcome::Findings,
        "`check` should fail the data team's pipeline",
    )?;

    // 7. git log main tells the story of every activation.
    heading(out, 8, "The audit trail: one commit per activation", "git log main")?;
    let log = gitops::log(&repo, gitops::MAIN, 100)?;
    for (id, summary) in log.iter().take(3) {
        writeln!(out, "  {id} {summary}")?;
    }
    if log.len() > 3 {
        writeln!(out, "  … {} more", log.len() - 3)?;
    }
    writeln!(out)?;
    match keep {
        Some(dir) => writeln!(
            out,
            "The sandbox is kept in {} (try `git -C {}/guardrails-repo log main`).",
            dir.display(),
            dir.display()
        )?,
        None => writeln!(
            out,
            "Done. (Use `railyard demo --keep DIR` to keep the sandbox and explore it.)"
        )?,
    }
    Ok(Outcome::Clean)
}

impl Settings {
    /// The same settings, rendering JSON: the demo reads the workflows' real reports and
    /// tells what happened in a few lines instead of printing every table.
    fn with_json(&self) -> Settings {
        Settings {
            format: Format::Json,
            ..self.clone()
        }
    }
}

/// Runs a workflow into a buffer and parses the JSON document it wrote.
fn json(run: impl FnOnce(&mut dyn Write) -> Result<Outcome>) -> Result<serde_json::Value> {
    let mut buf = Vec::new();
    run(&mut buf)?;
    serde_json::from_slice(&buf).context("demo: a workflow's JSON output does not parse")
}

fn list<'a>(v: &'a serde_json::Value, key: &str) -> &'a [serde_json::Value] {
    v.get(key).and_then(|l| l.as_array()).map_or(&[], |l| l.as_slice())
}

/// A field as text: strings as they are, numbers printed, absent as `-`.
fn text(v: &serde_json::Value, key: &str) -> String {
    match v.get(key) {
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(serde_json::Value::Null) | None => "-".into(),
        Some(x) => x.to_string(),
    }
}

/// An observation in a few lines: what was promoted, what is held until when and why.
fn observed(run: &serde_json::Value, out: &mut dyn Write) -> Result<()> {
    let candidates = list(run, "candidates");
    let promoted: Vec<String> = candidates
        .iter()
        .filter(|c| text(c, "action") == "promoted")
        .map(|c| text(c, "id"))
        .collect();
    match promoted.len() {
        0 => writeln!(out, "promoted: none")?,
        n if n <= 3 => writeln!(out, "promoted to main (break nobody): {}", promoted.join(", "))?,
        n => writeln!(out, "promoted to main: {n} guardrails that break nobody")?,
    }
    for c in candidates.iter().filter(|c| text(c, "action") != "promoted") {
        let breaks: Vec<String> = list(run, "to_fix")
            .iter()
            .filter(|f| text(f, "guardrail") == text(c, "id"))
            .map(|f| {
                format!(
                    "{} `{}` at {}:{}",
                    text(f, "workload"),
                    text(f, "resource"),
                    text(f, "file"),
                    text(f, "line")
                )
            })
            .collect();
        writeln!(
            out,
            "`{}` {} until {}: {}",
            text(c, "id"),
            text(c, "action"),
            text(c, "deadline"),
            breaks.join("; ")
        )?;
    }
    Ok(())
}
/// Where the bundled guardrails and examples are: `$RAILYARD_HOME`, the current folder, or
/// the source tree this binary was built from.
fn source_dir() -> Result<PathBuf> {
    let candidates = [
        std::env::var_os("RAILYARD_HOME").map(PathBuf::from),
        std::env::current_dir().ok(),
        Some(PathBuf::from(env!("CARGO_MANIFEST_DIR"))),
    ];
    candidates
        .into_iter()
        .flatten()
        .find(|d| d.join("guardrails").is_dir() && d.join("examples/payments-api").is_dir())
        .context("the demo needs the bundled `guardrails/` and `examples/` (run it from the Railyard source tree, or set RAILYARD_HOME)")
}

/// The security lead's signing key in the demo: derived from a fixed seed, so it is public
/// knowledge and protects nothing outside the demo's throw-away sandbox.
fn demo_signer() -> Result<ssh_key::PrivateKey> {
    use sha2::Digest;
    let seed: [u8; 32] = sha2::Sha256::digest(b"railyard demo: security-lead signing key").into();
    let pair = ssh_key::private::Ed25519Keypair::from_seed(&seed);
    Ok(ssh_key::PrivateKey::new(pair.into(), "security-lead@example.com")?)
}

/// Every file below `dir` as changes for [`gitops::commit_changes`], under `prefix`.
fn snapshot(dir: &Path, prefix: &str) -> Result<Vec<(String, Option<Vec<u8>>)>> {
    let (files, _) = read_dir(dir, ReadLimits::default()).with_context(|| format!("reading `{}`", dir.display()))?;
    Ok(files
        .into_iter()
        .map(|f| {
            let path = if prefix.is_empty() {
                f.path
            } else {
                format!("{prefix}/{}", f.path)
            };
            (path, Some(f.bytes))
        })
        .collect())
}

fn on_main(repo: &Path, guardrail: &str) -> Result<bool> {
    let r = gitops::GuardrailsRepo::open(
        &repo.display().to_string(),
        repo,
        None,
        gitops::fetch::DEFAULT_FETCH_TIMEOUT,
    )?;
    let main = r.require_tip(gitops::MAIN)?;
    Ok(r.tree_id(&main, &format!("guardrails/{guardrail}"))?.is_some())
}

/// A step: what happens, and the command a user would type for it.
fn heading(out: &mut dyn Write, n: usize, title: &str, command: &str) -> std::io::Result<()> {
    writeln!(out, "\n== {n}. {title}\n$ {command}")
}

fn expect(ok: bool, what: &str) -> Result<()> {
    if !ok {
        bail!("demo: {what}, but it was not (the bundled guardrails or examples changed?)");
    }
    Ok(())
}
