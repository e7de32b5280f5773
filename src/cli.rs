//! The command line, defined once. Doc comments become `--help`. Arguments are resolved into
//! workflow options in `run`, so no workflow reads argv or the environment itself.

use crate::date::Day;
use crate::guardrail::Severity;
use crate::output::Format;
use crate::workflow::{self, Outcome, Settings};
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
    /// The date to act on (YYYY-MM-DD) instead of today, to plan or test deadlines. Recorded
    /// in what the run writes; refused when behind the ledger's clock (no backdating).
    #[arg(long, global = true, value_parser = parse_day)]
    pub now: Option<Day>,
    /// The guardrails repository (local path or URL) for observe, enforce, promote, report.
    #[arg(long, global = true, default_value = ".")]
    pub repo: String,
    /// Environment variable holding an https token for a remote `--repo` (never the token itself).
    #[arg(long, global = true, default_value = "RAILYARD_GIT_TOKEN")]
    pub repo_token_env: String,
    /// Where workload clones are kept between runs (default: the user's cache folder).
    #[arg(long, global = true, env = "RAILYARD_CACHE_DIR")]
    pub cache_dir: Option<PathBuf>,
    /// Print what would happen; write no commit, ledger entry or notification.
    #[arg(long, global = true)]
    pub dry_run: bool,
    /// Send no notification: print what would be sent (on stderr and in JSON output).
    #[arg(long, global = true)]
    pub no_notify: bool,
    /// Largest workload file read (e.g. 8MiB); a larger code file is an error for its workload.
    #[arg(long, global = true, env = "RAILYARD_MAX_FILE_SIZE", value_name = "SIZE", value_parser = crate::limits::parse_size)]
    pub max_file_size: Option<u64>,
    /// Most bytes of code read from one workload (e.g. 512MiB); files past it are errors.
    #[arg(long, global = true, env = "RAILYARD_MAX_WORKLOAD_SIZE", value_name = "SIZE", value_parser = crate::limits::parse_size)]
    pub max_workload_size: Option<u64>,
    /// Most resources in one workload; a larger workload is not evaluated (an error).
    #[arg(long, global = true, env = "RAILYARD_MAX_RESOURCES", value_name = "N")]
    pub max_resources: Option<usize>,
    /// Time one policy evaluation may take (e.g. 10s, 500ms) before it is stopped (an error).
    #[arg(long, global = true, env = "RAILYARD_EVAL_TIMEOUT", value_name = "DURATION", value_parser = crate::limits::parse_duration)]
    pub eval_timeout: Option<std::time::Duration>,
    /// Time parsing one folder of a workload may take (e.g. 60s) before it is stopped (an error).
    #[arg(long, global = true, env = "RAILYARD_PARSE_TIMEOUT", value_name = "DURATION", value_parser = crate::limits::parse_duration)]
    pub parse_timeout: Option<std::time::Duration>,
    /// Memory one policy evaluation (or the parsing of one folder) may use (e.g. 1GiB) before
    /// it is stopped (an error); 0 runs both in-process, with the time budget only.
    #[arg(long, global = true, env = "RAILYARD_EVAL_MEMORY", value_name = "SIZE", value_parser = crate::limits::parse_size)]
    pub eval_memory: Option<u64>,
    /// Most findings kept per guardrail and workload; more is an error for that guardrail
    /// (never a pass), reported with the count.
    #[arg(long, global = true, env = "RAILYARD_MAX_FINDINGS", value_name = "N")]
    pub max_findings: Option<usize>,
    /// Time any one git fetch, clone or push, or HTTP request may take (connect and total;
    /// e.g. 30s) before that workload is *unknown* (the guardrails repo: exit 2).
    #[arg(long, global = true, env = "RAILYARD_FETCH_TIMEOUT", value_name = "DURATION", value_parser = crate::limits::parse_duration, default_value = "60s")]
    pub fetch_timeout: std::time::Duration,
    #[command(subcommand)]
    pub command: Command,
}

impl Cli {
    /// The limits this command line asks for (defaults where a flag is not given).
    pub fn limits(&self) -> crate::limits::Limits {
        let d = crate::limits::Limits::default();
        crate::limits::Limits {
            max_file_bytes: self.max_file_size.unwrap_or(d.max_file_bytes),
            max_workload_bytes: self.max_workload_size.unwrap_or(d.max_workload_bytes),
            max_resources: self.max_resources.unwrap_or(d.max_resources),
            eval_timeout: self.eval_timeout.unwrap_or(d.eval_timeout),
            parse_timeout: self.parse_timeout.unwrap_or(d.parse_timeout),
            eval_memory: self.eval_memory.unwrap_or(d.eval_memory),
            max_findings: self.max_findings.unwrap_or(d.max_findings),
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Evaluate guardrails on a local workload; fail on findings (an application pipeline's gate).
    Check(CheckArgs),
    /// Run every guardrail's pass/fail fixtures.
    Test(TestArgs),
    /// Observation mode: evaluate develop's candidate guardrails on every registered workload,
    /// record noncompliance with deadlines, promote each candidate that breaks nobody.
    Observe(ObserveArgs),
    /// The scheduled job: activate candidates whose deadline passed, list upcoming deadlines
    /// and exceptions that expire soon.
    Enforce(EnforceArgs),
    /// Activate a guardrail now, ahead of observation (security team).
    Promote(PromoteArgs),
    /// Exposure per workload or team, or the per-guardrail status for the security team.
    Report(ReportArgs),
    /// The whole loop on bundled guardrails and example workloads, in a temporary sandbox.
    Demo(DemoArgs),
    /// The ledger's seals (`RAILYARD_LEDGER_KEY`): verify the chain, or accept a reviewed
    /// hand edit.
    #[command(subcommand)]
    Ledger(LedgerCommand),
    /// A static page of the ledger's history: compliance over time, burn-downs, exposure,
    /// exceptions, framework controls (docs/dashboard.md).
    Dashboard(DashboardArgs),
}

#[derive(Debug, clap::Args)]
pub struct DashboardArgs {
    /// The folder to write `index.html` to.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// The guardrails repository whose ledger is shown (path or URL; default: `--repo`).
    #[arg(long, value_name = "SRC")]
    pub guardrails: Option<String>,
    /// Only guardrails mapping a control that starts with NAME (e.g. `PCI-DSS`, `NIST-800-53 AU`).
    #[arg(long, value_name = "NAME")]
    pub framework: Option<String>,
    /// Threads reading the ledger's history (default: every core).
    #[arg(long, env = "RAILYARD_JOBS")]
    pub jobs: Option<usize>,
}

#[derive(Debug, Subcommand)]
pub enum LedgerCommand {
    /// Check every commit of the ledger branch: seals, accepted hand edits, and that the
    /// ledger descends from the commit `main`'s last promotion was decided on.
    Verify,
    /// Re-seal the ledger after a deliberate, reviewed hand edit, recording who and why.
    Accept(AcceptArgs),
}

#[derive(Debug, clap::Args)]
pub struct AcceptArgs {
    /// Why the hand edit is accepted (recorded in the commit, one line).
    #[arg(long)]
    pub reason: String,
    /// Also set a clock that runs ahead of real time back to today.
    #[arg(long)]
    pub reset_clock: bool,
    /// Who accepts it (default: the CI's user, else the git identity).
    #[arg(long)]
    pub actor: Option<String>,
}

#[derive(Debug, clap::Args)]
pub struct ObserveArgs {
    /// Worker threads fetching and evaluating workloads (default: every core).
    #[arg(long, env = "RAILYARD_JOBS")]
    pub jobs: Option<usize>,
    /// Evaluate only slice K of N of the workloads (1-based) and write the results to
    /// `--shard-dir`; no ledger, promotion or notification (see docs/fleet.md).
    #[arg(long, value_name = "K/N", requires = "shard_dir")]
    pub shard: Option<String>,
    /// Where `--shard` writes `shard-K-of-N.json`.
    #[arg(long, value_name = "DIR")]
    pub shard_dir: Option<PathBuf>,
    /// Merge the shard files in DIR instead of evaluating: ledger, promotions and
    /// notifications as a single run would make them.
    #[arg(long, value_name = "DIR", conflicts_with = "shard")]
    pub merge_shards: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct EnforceArgs {
    /// Report exceptions that expire within this many days.
    #[arg(long, default_value_t = 14)]
    pub exception_window: u32,
    /// Days before a deadline on which owners are reminded.
    #[arg(long, value_delimiter = ',', default_value = "14,3,1")]
    pub reminder_days: Vec<u32>,
    /// Activate due guardrails even when their own fixtures fail (otherwise they are refused,
    /// exit 2).
    #[arg(long)]
    pub force_failing_fixtures: bool,
}

#[derive(Debug, clap::Args)]
pub struct PromoteArgs {
    /// The guardrail id (its folder name).
    pub id: String,
    /// Required: activate ahead of observation.
    #[arg(long)]
    pub force: bool,
    /// Activate even though the guardrail fails its own fixtures.
    #[arg(long, requires = "force")]
    pub force_failing_fixtures: bool,
    /// Why the guardrail is activated now (recorded in the commit and the ledger).
    #[arg(long, default_value = "")]
    pub reason: String,
    /// Who activates it (default: $RAILYARD_ACTOR, else the CI's user — GITHUB_ACTOR,
    /// GITLAB_USER_LOGIN, BUILD_REQUESTEDFOREMAIL, … — else the repository's git identity).
    #[arg(long)]
    pub actor: Option<String>,
}

#[derive(Debug, clap::Args)]
pub struct ReportArgs {
    /// One workload's exposure.
    #[arg(long)]
    pub workload: Option<String>,
    /// One team's exposure (all its workloads).
    #[arg(long)]
    pub team: Option<String>,
}

#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    /// Keep the sandbox in this folder instead of a temporary one.
    #[arg(long)]
    pub keep: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// The workload to check: a folder (or one file) of Terraform, CloudFormation, Kubernetes code.
    #[arg(default_value = ".")]
    pub path: PathBuf,
    /// The guardrails: a folder of guardrail folders (or a folder containing `guardrails/`),
    /// or a guardrails repository `REPO[@REF]` (path or URL): REF's guardrails (default `main`)
    /// fail the build, `develop`'s pending ones are shown as warnings with their deadline.
    #[arg(long, env = "RAILYARD_GUARDRAILS", default_value = "guardrails")]
    pub guardrails: String,
    /// The workload's name, as exceptions name it (default: the folder's name).
    #[arg(long)]
    pub workload: Option<String>,
    /// The owning team, passed to policies as `input.workload.team`.
    #[arg(long, default_value = "")]
    pub team: String,
    /// Only findings of this severity or above fail the build (all are reported).
    #[arg(long, value_enum, default_value = "low")]
    pub fail_on: SeverityArg,
    /// Processes evaluating the workload at once (default: the machine's cores).
    #[arg(long, short = 'j', env = "RAILYARD_JOBS")]
    pub jobs: Option<usize>,
    /// Finding no infrastructure code under PATH is expected (otherwise exit code 2).
    #[arg(long)]
    pub allow_empty: bool,
    /// Do not evaluate paths matching this glob (relative to PATH; repeatable), e.g. a Helm chart
    /// that cannot be rendered here.
    #[arg(long, value_name = "GLOB")]
    pub exclude: Vec<String>,
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

/// CI variables naming the user who started the job, in the order they are consulted.
const CI_ACTOR_VARS: &[&str] = &[
    "GITHUB_ACTOR",
    "GITLAB_USER_LOGIN",
    "BUILD_REQUESTEDFOREMAIL",
    "BUILD_REQUESTEDFOR",
    "BITBUCKET_STEP_TRIGGERER_UUID",
    "CIRCLE_USERNAME",
    "BUILDKITE_BUILD_CREATOR_EMAIL",
    "BUILD_USER_ID",
];

/// Who runs this, and where that came from: `--actor`, `$RAILYARD_ACTOR`, else the CI's
/// user. `None` leaves it to the workflow (the repository's git identity).
fn actor_from(flag: Option<&str>) -> Option<(String, String)> {
    if let Some(a) = flag {
        return Some((a.to_string(), "--actor".into()));
    }
    std::iter::once("RAILYARD_ACTOR")
        .chain(CI_ACTOR_VARS.iter().copied())
        .find_map(|v| {
            std::env::var(v)
                .ok()
                .filter(|x| !x.is_empty())
                .map(|x| (x, v.to_string()))
        })
}

/// Whether the command writes to the guardrails repo (and so moves the ledger's clock).
fn writes(cli: &Cli) -> bool {
    !cli.dry_run
        && matches!(
            &cli.command,
            Command::Observe(_) | Command::Enforce(_) | Command::Promote(_) | Command::Ledger(LedgerCommand::Accept(_))
        )
}

/// Runs the parsed command, writing data to `out`.
pub fn run(cli: Cli, out: &mut dyn Write) -> anyhow::Result<Outcome> {
    let today = crate::ledger::machine_today();
    let now = cli.now.unwrap_or(today);
    // A run that writes may not act on a day that has not come: its clock would become the
    // ledger's, ahead of real time, and activate deadlines early.
    if let Some(n) = cli.now.filter(|n| *n > today && writes(&cli)) {
        anyhow::bail!(
            "--now {n} is later than today ({today}): a run that writes acts on real time, so the ledger's clock never runs ahead (hint: add --dry-run to see what would happen on {n}; it writes nothing)"
        );
    }
    let ledger_key = std::env::var(crate::seal::KEY_ENV)
        .ok()
        .and_then(|v| crate::seal::SealKey::new(&v));
    if ledger_key.is_none()
        && matches!(
            &cli.command,
            Command::Observe(_) | Command::Enforce(_) | Command::Promote(_)
        )
    {
        eprintln!(
            "warning: {} is not set: the ledger is not tamper-evident (hand edits, deleted entries or branches and a reset clock go unnoticed)",
            crate::seal::KEY_ENV
        );
    }
    let flag_actor = match &cli.command {
        Command::Promote(a) => a.actor.clone(),
        Command::Ledger(LedgerCommand::Accept(a)) => a.actor.clone(),
        _ => None,
    };
    let (actor, actor_source) = actor_from(flag_actor.as_deref()).unwrap_or_default();
    crate::limits::configure(cli.limits());
    crate::gitops::fetch::configure_timeout(cli.fetch_timeout);
    let settings = Settings {
        repo: cli.repo.clone(),
        repo_token_env: Some(cli.repo_token_env.clone()),
        cache_dir: cli.cache_dir.clone().unwrap_or_else(crate::gitops::default_cache_dir),
        now,
        now_explicit: cli.now.is_some(),
        dry_run: cli.dry_run,
        no_notify: cli.no_notify,
        notify_timeout: std::env::var("RAILYARD_NOTIFY_TIMEOUT_MS")
            .ok()
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(std::time::Duration::from_millis)
            .unwrap_or(crate::notify::DEFAULT_TIMEOUT)
            .min(cli.fetch_timeout),
        format: cli.format,
        actor,
        actor_source,
        ledger_key,
    };
    let outcome = command(cli, settings, now, out);
    // The evaluating child processes still leaving: waited for, so that their time counts
    // towards this process' (`time`, CI accounting) and no zombie outlives the run.
    crate::guardrail::sandbox::reap();
    outcome
}

fn command(cli: Cli, settings: Settings, now: Day, out: &mut dyn Write) -> anyhow::Result<Outcome> {
    match cli.command {
        Command::Check(args) => {
            let name = match args.workload {
                Some(n) => n,
                None => folder_name(&args.path),
            };
            let (active, pending) = workflow::check::guardrails_for(&settings, &args.guardrails, &name)?;
            let opts = workflow::check::CheckOptions {
                path: args.path,
                workload: WorkloadInfo {
                    name,
                    team: args.team,
                    commit: String::new(),
                },
                active,
                pending,
                now,
                fail_on: args.fail_on.into(),
                format: cli.format,
                jobs: args.jobs,
                allow_empty: args.allow_empty,
                exclude: args.exclude,
            };
            workflow::check::check(opts, out)
        }
        Command::Test(args) => {
            let library = crate::guardrail::load_dir(&args.dir)
                .with_context(|| format!("loading guardrails from `{}`", args.dir.display()))?;
            workflow::test::test(&library, cli.format, out)
        }
        Command::Observe(args) => {
            let shard = match (&args.shard, &args.shard_dir) {
                (Some(k), Some(dir)) => {
                    Some(workflow::shard::Shard::parse(k, dir.clone()).map_err(|e| anyhow::anyhow!("--shard {e}"))?)
                }
                _ => None,
            };
            let opts = workflow::observe::ObserveOptions {
                jobs: args.jobs,
                shard,
                merge_shards: args.merge_shards,
            };
            workflow::observe::observe_with(&settings, &opts, out)
        }
        Command::Enforce(args) => {
            let opts = workflow::enforce::EnforceOptions {
                exception_window: args.exception_window,
                reminder_days: args.reminder_days,
                force_failing_fixtures: args.force_failing_fixtures,
            };
            workflow::enforce::enforce(&settings, &opts, out)
        }
        Command::Promote(args) => workflow::promote::promote(
            &settings,
            &args.id,
            args.force,
            args.force_failing_fixtures,
            &args.reason,
            out,
        ),
        Command::Ledger(LedgerCommand::Verify) => workflow::ledger_cmd::verify(&settings, out),
        Command::Ledger(LedgerCommand::Accept(args)) => {
            workflow::ledger_cmd::accept(&settings, &args.reason, args.reset_clock, out)
        }
        Command::Report(args) => {
            let opts = workflow::report::ReportOptions {
                workload: args.workload,
                team: args.team,
            };
            workflow::report::report(&settings, &opts, out)
        }
        Command::Demo(args) => workflow::demo::demo(&settings, args.keep.as_deref(), out),
        Command::Dashboard(args) => {
            let mut settings = settings;
            if let Some(g) = args.guardrails {
                settings.repo = g;
            }
            let opts = workflow::dashboard::DashboardOptions {
                out: args.out,
                framework: args.framework,
                jobs: args
                    .jobs
                    .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get())),
            };
            workflow::dashboard::dashboard(&settings, &opts, out)
        }
    }
}

fn folder_name(path: &std::path::Path) -> String {
    let abs = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    abs.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "workload".into())
}
