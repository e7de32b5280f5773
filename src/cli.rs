//! The command line, defined once. Doc comments become `--help`. Arguments are resolved into
//! workflow options in `run`, so no workflow reads argv or the environment itself.

use crate::date::Day;
use crate::guardrail::Severity;
use crate::output::Format;
use crate::workflow::{self, Outcome};
use crate::workload::WorkloadInfo;
use anyhow::Context;
use clap::{Parser, Subcommand};
use std::io::Write;
use std::path::PathBuf;

/// Railyard: a git-driven release manager for security guardrails.
///
/// Guardrails (Rego policies) are developed on `develop`, observed against every registered
/// workload, and promoted to `main` one at a time, where application pipelines enforce them.
#[derive(Debug, Parser)]
#[command(name = "railyard", version, about, long_about = None)]
pub struct Cli {
    /// Output format.
    #[arg(long, global = true, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// The date to act on (YYYY-MM-DD) instead of today, to plan or test deadlines.
    #[arg(long, global = true, value_parser = parse_day)]
    pub now: Option<Day>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Evaluate guardrails on a local workload; fail on findings (an application pipeline's gate).
    Check(CheckArgs),
    /// Run every guardrail's pass/fail fixtures.
    Test(TestArgs),
}

#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// The workload to check: a folder (or one file) of Terraform, CloudFormation, Kubernetes code.
    #[arg(default_value = ".")]
    pub path: PathBuf,
    /// The guardrails: a folder of guardrail folders, or a repository root containing `guardrails/`.
    #[arg(long, env = "RAILYARD_GUARDRAILS", default_value = "guardrails")]
    pub guardrails: PathBuf,
    /// The workload's name, as exceptions name it (default: the folder's name).
    #[arg(long)]
    pub workload: Option<String>,
    /// The owning team, passed to policies as `input.workload.team`.
    #[arg(long, default_value = "")]
    pub team: String,
    /// Only findings of this severity or above fail the build (all are reported).
    #[arg(long, value_enum, default_value = "low")]
    pub fail_on: SeverityArg,
}

#[derive(Debug, clap::Args)]
pub struct TestArgs {
    /// The guardrails folder (or a repository root containing `guardrails/`).
    #[arg(default_value = "guardrails")]
    pub dir: PathBuf,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum SeverityArg {
    Low,
    Medium,
    High,
    Critical,
}

impl From<SeverityArg> for Severity {
    fn from(s: SeverityArg) -> Severity {
        match s {
            SeverityArg::Low => Severity::Low,
            SeverityArg::Medium => Severity::Medium,
            SeverityArg::High => Severity::High,
            SeverityArg::Critical => Severity::Critical,
        }
    }
}

fn parse_day(s: &str) -> Result<Day, String> {
    Day::parse(s)
}

/// Runs the parsed command, writing data to `out`.
pub fn run(cli: Cli, out: &mut dyn Write) -> anyhow::Result<Outcome> {
    let now = cli.now.unwrap_or_else(Day::today);
    match cli.command {
        Command::Check(args) => {
            let active = crate::guardrail::load_dir(&args.guardrails).with_context(|| {
                format!("loading guardrails from `{}`", args.guardrails.display())
            })?;
            let name = match args.workload {
                Some(n) => n,
                None => folder_name(&args.path),
            };
            let opts = workflow::check::CheckOptions {
                path: args.path,
                workload: WorkloadInfo {
                    name,
                    team: args.team,
                    commit: String::new(),
                },
                active,
                pending: Vec::new(),
                now,
                fail_on: args.fail_on.into(),
                format: cli.format,
            };
            workflow::check::check(opts, out)
        }
        Command::Test(args) => {
            let library = crate::guardrail::load_dir(&args.dir)
                .with_context(|| format!("loading guardrails from `{}`", args.dir.display()))?;
            workflow::test::test(&library, cli.format, out)
        }
    }
}

fn folder_name(path: &std::path::Path) -> String {
    let abs = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    abs.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "workload".into())
}
