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
///
/// Each subcommand takes only the options it uses: `railyard <command> --help`.
#[derive(Debug, Parser)]
#[command(name = "railyard", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

// The option groups below are flattened into the subcommands they apply to, so that each
// `--help` lists what that command reads and nothing else. `Parts` gathers them back, with
// the defaults for the groups a command does not take.

/// `--format`.
#[derive(Debug, Clone, clap::Args)]
#[command(next_help_heading = "Output")]
pub struct OutputArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

impl Default for OutputArgs {
    fn default() -> Self {
        OutputArgs { format: Format::Table }
    }
}

/// `--now`.
#[derive(Debug, Clone, Default, clap::Args)]
#[command(next_help_heading = "Date")]
pub struct ClockArgs {
    /// The date to act on (YYYY-MM-DD) instead of today, to plan or test deadlines. Recorded
    /// in what the run writes; refused when behind the ledger's clock (no backdating).
    #[arg(long, value_parser = parse_day)]
    pub now: Option<Day>,
}

/// `--repo`: the guardrails repository the loop commands work on.
#[derive(Debug, Clone, clap::Args)]
#[command(next_help_heading = "Guardrails repository")]
pub struct RepoArgs {
    /// The guardrails repository (local path or URL).
    #[arg(long, default_value = DEFAULT_REPO)]
    pub repo: String,
}

impl Default for RepoArgs {
    fn default() -> Self {
        RepoArgs {
            repo: DEFAULT_REPO.into(),
        }
    }
}

const DEFAULT_REPO: &str = ".";
const DEFAULT_TOKEN_ENV: &str = "RAILYARD_GIT_TOKEN";
const DEFAULT_FETCH_TIMEOUT: &str = "60s";

/// How remote repositories are reached and kept.
#[derive(Debug, Clone, clap::Args)]
#[command(next_help_heading = "Remote repositories")]
pub struct RemoteArgs {
    /// Environment variable holding an https token for a remote repository (never the token itself).
    #[arg(long, default_value = DEFAULT_TOKEN_ENV)]
    pub repo_token_env: String,
    /// Where repository clones are kept between runs (default: the user's cache folder).
    #[arg(long, env = "RAILYARD_CACHE_DIR")]
    pub cache_dir: Option<PathBuf>,
    /// Time any one git fetch, clone or push, or HTTP request may take (connect and total;
    /// e.g. 30s) before that workload is *unknown* (the guardrails repo: exit 2).
    #[arg(long, env = "RAILYARD_FETCH_TIMEOUT", value_name = "DURATION", value_parser = crate::limits::parse_duration, default_value = DEFAULT_FETCH_TIMEOUT)]
    pub fetch_timeout: std::time::Duration,
}

impl Default for RemoteArgs {
    fn default() -> Self {
        RemoteArgs {
            repo_token_env: DEFAULT_TOKEN_ENV.into(),
            cache_dir: None,
            fetch_timeout: crate::limits::parse_duration(DEFAULT_FETCH_TIMEOUT).expect("valid default"),
        }
    }
}

/// For the commands that write commits, ledger entries or notifications.
#[derive(Debug, Clone, Default, clap::Args)]
#[command(next_help_heading = "Writing")]
pub struct WriteArgs {
    /// Print what would happen; write no commit, ledger entry or notification.
    #[arg(long)]
    pub dry_run: bool,
    /// Send no notification: print what would be sent (on stderr and in JSON output).
    #[arg(long)]
    pub no_notify: bool,
}

/// Progress on stderr (only ever drawn on a terminal).
#[derive(Debug, Clone, Default, clap::Args)]
#[command(next_help_heading = "Output")]
pub struct ProgressArgs {
    /// No progress bar on stderr (it is only drawn on a terminal anyway).
    #[arg(long, short = 'q')]
    pub quiet: bool,
}

/// The limits on reading and evaluating a workload (docs/limits.md); defaults shown.
#[derive(Debug, Clone, Default, clap::Args)]
#[command(next_help_heading = "Limits")]
pub struct LimitArgs {
    /// Largest workload file read; a larger code file is an error for its workload.
    #[arg(long, env = "RAILYARD_MAX_FILE_SIZE", value_name = "SIZE", value_parser = crate::limits::parse_size, default_value = "8MiB")]
    pub max_file_size: Option<u64>,
    /// Most bytes of code read from one workload; files past it are errors.
    #[arg(long, env = "RAILYARD_MAX_WORKLOAD_SIZE", value_name = "SIZE", value_parser = crate::limits::parse_size, default_value = "512MiB")]
    pub max_workload_size: Option<u64>,
    /// Most resources in one workload; a larger workload is not evaluated (an error).
    #[arg(long, env = "RAILYARD_MAX_RESOURCES", value_name = "N", default_value = "50000")]
    pub max_resources: Option<usize>,
    /// Time one policy evaluation may take before it is stopped (an error).
    #[arg(long, env = "RAILYARD_EVAL_TIMEOUT", value_name = "DURATION", value_parser = crate::limits::parse_duration, default_value = "10s")]
    pub eval_timeout: Option<std::time::Duration>,
    /// Time parsing one folder of a workload may take before it is stopped (an error).
    #[arg(long, env = "RAILYARD_PARSE_TIMEOUT", value_name = "DURATION", value_parser = crate::limits::parse_duration, default_value = "60s")]
    pub parse_timeout: Option<std::time::Duration>,
    /// Memory one policy evaluation (or the parsing of one folder) may use before it is
    /// stopped (an error); 0 runs both in-process, with the time budget only.
    #[arg(long, env = "RAILYARD_EVAL_MEMORY", value_name = "SIZE", value_parser = crate::limits::parse_size, default_value = "1GiB")]
    pub eval_memory: Option<u64>,
    /// Most findings kept per guardrail and workload; more is an error for that guardrail
    /// (never a pass), reported with the count.
    #[arg(long, env = "RAILYARD_MAX_FINDINGS", value_name = "N", default_value = "10000")]
    pub max_findings: Option<usize>,
}

impl LimitArgs {
    /// The limits asked for (defaults where a flag is not given).
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

/// The option groups of the command given, with defaults for those it does not take.
#[derive(Debug, Clone, Default)]
pub struct Parts {
    pub output: OutputArgs,
    pub clock: ClockArgs,
    pub repo: RepoArgs,
    pub remote: RemoteArgs,
    pub write: WriteArgs,
    pub progress: ProgressArgs,
    pub limits: LimitArgs,
}

impl Cli {
    /// The option groups this command line gave (defaults for the others).
    pub fn parts(&self) -> Parts {
        let mut p = Parts::default();
        match &self.command {
            Command::Check(a) => {
                (p.output, p.clock, p.remote, p.limits) =
                    (a.output.clone(), a.clock.clone(), a.remote.clone(), a.limits.clone())
            }
            Command::Test(a) => (p.output, p.limits) = (a.output.clone(), a.limits.clone()),
            Command::Observe(a) => {
                (p.output, p.clock, p.repo, p.remote, p.write, p.progress, p.limits) = (
                    a.output.clone(),
                    a.clock.clone(),
                    a.repo.clone(),
                    a.remote.clone(),
                    a.write.clone(),
                    a.progress.clone(),
                    a.limits.clone(),
                )
            }
            Command::Enforce(a) => {
                (p.output, p.clock, p.repo, p.remote, p.write, p.limits) = (
                    a.output.clone(),
                    a.clock.clone(),
                    a.repo.clone(),
                    a.remote.clone(),
                    a.write.clone(),
                    a.limits.clone(),
                )
            }
            Command::Promote(a) => {
                (p.clock, p.repo, p.remote, p.write, p.limits) = (
                    a.clock.clone(),
                    a.repo.clone(),
                    a.remote.clone(),
                    a.write.clone(),
                    a.limits.clone(),
                )
            }
            Command::Report(a) => {
                (p.output, p.clock, p.repo, p.remote) =
                    (a.output.clone(), a.clock.clone(), a.repo.clone(), a.remote.clone())
            }
            Command::Demo(a) => (p.clock, p.limits) = (a.clock.clone(), a.limits.clone()),
            Command::Ledger(LedgerCommand::Verify(a)) => {
                (p.output, p.repo, p.remote) = (a.output.clone(), a.repo.clone(), a.remote.clone())
            }
            Command::Ledger(LedgerCommand::Accept(a)) => {
                (p.output, p.repo, p.remote) = (a.output.clone(), a.repo.clone(), a.remote.clone())
            }
            Command::Preview(a) => {
                (p.output, p.clock, p.repo, p.remote, p.progress, p.limits) = (
                    a.output.clone(),
                    a.clock.clone(),
                    a.repo.clone(),
                    a.remote.clone(),
                    a.progress.clone(),
                    a.limits.clone(),
                )
            }
            Command::Dashboard(a) => (p.clock, p.repo, p.remote) = (a.clock.clone(), a.repo.clone(), a.remote.clone()),
            // Set-up commands: no shared option groups.
            Command::Init(_) | Command::Completions(_) | Command::Man(_) => {}
        }
        p
    }

    /// The limits this command line asks for (defaults where a flag is not given).
    pub fn limits(&self) -> crate::limits::Limits {
        self.parts().limits.limits()
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Evaluate guardrails on a local workload; fail on findings (an application pipeline's gate).
    #[command(after_help = CHECK_EXAMPLES)]
    Check(CheckArgs),
    /// Run every guardrail's pass/fail fixtures.
    #[command(after_help = TEST_EXAMPLES)]
    Test(TestArgs),
    /// Observation mode: evaluate develop's candidate guardrails on every registered workload,
    /// record noncompliance with deadlines, promote each candidate that breaks nobody.
    #[command(after_help = OBSERVE_EXAMPLES)]
    Observe(ObserveArgs),
    /// The scheduled job: activate candidates whose deadline passed, list upcoming deadlines
    /// and exceptions that expire soon.
    #[command(after_help = ENFORCE_EXAMPLES)]
    Enforce(EnforceArgs),
    /// Activate a guardrail now, ahead of observation (security team).
    #[command(after_help = PROMOTE_EXAMPLES)]
    Promote(PromoteArgs),
    /// Exposure per workload or team, or the per-guardrail status for the security team.
    #[command(after_help = REPORT_EXAMPLES)]
    Report(ReportArgs),
    /// The whole loop on bundled guardrails and example workloads, in a temporary sandbox.
    #[command(after_help = DEMO_EXAMPLES)]
    Demo(DemoArgs),
    /// The ledger's seals (`RAILYARD_LEDGER_KEY`): verify the chain, or accept a reviewed
    /// hand edit.
    #[command(subcommand)]
    Ledger(LedgerCommand),
    /// A static page of the ledger's history: compliance over time, burn-downs, exposure,
    /// exceptions, framework controls (docs/dashboard.md).
    Dashboard(DashboardArgs),
    /// What merging a ref (default `develop`) would do, compared with `main`: per changed
    /// guardrail and exception, whom it breaks and when. Writes nothing.
    Preview(PreviewArgs),
    /// Create a guardrails repository ready for the loop: branches `develop` and `main`,
    /// `workloads.toml`, `guardrails/lib/`, an example guardrail with fixtures, CI files.
    Init(InitArgs),
    /// Print a shell completion script (e.g. `railyard completions bash > /etc/bash_completion.d/railyard`).
    Completions(CompletionsArgs),
    /// Print the manual page (roff), or write one page per subcommand with `--dir`.
    Man(ManArgs),
}

#[derive(Debug, clap::Args)]
pub struct InitArgs {
    /// The new repository's folder: missing or empty.
    #[arg(default_value = ".")]
    pub dir: PathBuf,
}

#[derive(Debug, clap::Args)]
pub struct CompletionsArgs {
    /// The shell.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, clap::Args)]
pub struct ManArgs {
    /// Write `railyard.1` and `railyard-<subcommand>.1` into this folder instead of printing
    /// `railyard.1`.
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct PreviewArgs {
    /// The guardrails repo's branch, tag or commit to preview (a pull request's head).
    #[arg(long = "ref", value_name = "REF", default_value = "develop")]
    pub git_ref: String,
    /// Worker threads fetching and evaluating workloads (default: one more than the cores).
    #[arg(long, env = "RAILYARD_JOBS")]
    pub jobs: Option<usize>,
    /// Only the guardrails mapped to this framework (prefix of a `frameworks` entry, e.g. `PCI-DSS`).
    #[arg(long, value_name = "NAME")]
    pub framework: Option<String>,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub clock: ClockArgs,
    #[command(flatten)]
    pub repo: RepoArgs,
    #[command(flatten)]
    pub remote: RemoteArgs,
    #[command(flatten)]
    pub progress: ProgressArgs,
    #[command(flatten)]
    pub limits: LimitArgs,
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
    #[command(flatten)]
    pub clock: ClockArgs,
    #[command(flatten)]
    pub repo: RepoArgs,
    #[command(flatten)]
    pub remote: RemoteArgs,
}

#[derive(Debug, Subcommand)]
pub enum LedgerCommand {
    /// Check every commit of the ledger branch: seals, accepted hand edits, and that the
    /// ledger descends from the commit `main`'s last promotion was decided on.
    #[command(after_help = VERIFY_EXAMPLES)]
    Verify(VerifyArgs),
    /// Re-seal the ledger after a deliberate, reviewed hand edit, recording who and why.
    #[command(after_help = ACCEPT_EXAMPLES)]
    Accept(AcceptArgs),
}

const CHECK_EXAMPLES: &str = "\
Examples:
  railyard check infra --guardrails ../guardrails
  railyard check . --guardrails https://git.example.com/security/guardrails.git@main --fail-on high
  railyard check . --workload payments-api --format sarif > railyard.sarif";
const TEST_EXAMPLES: &str = "\
Examples:
  railyard test guardrails/
  railyard test . --format json
  railyard test guardrails/ --bench --bench-workload infra/";
const OBSERVE_EXAMPLES: &str = "\
Examples:
  railyard observe --repo path/to/guardrails-repo
  railyard observe --repo https://git.example.com/security/guardrails.git --top 20
  railyard observe --dry-run --now 2030-01-01 --details";
const ENFORCE_EXAMPLES: &str = "\
Examples:
  railyard enforce --repo path/to/guardrails-repo
  railyard enforce --dry-run --now 2030-01-01
  railyard enforce --exception-window 30 --reminder-days 7,1";
const PROMOTE_EXAMPLES: &str = "\
Examples:
  railyard promote aws-s3-versioning --force --reason \"incident 42\"
  railyard promote aws-s3-versioning --force --reason \"audit\" --dry-run";
const REPORT_EXAMPLES: &str = "\
Examples:
  railyard report --repo path/to/guardrails-repo
  railyard report --team payments
  railyard report --workload payments-api --format markdown";
const DEMO_EXAMPLES: &str = "\
Examples:
  railyard demo
  railyard demo --keep /tmp/railyard-demo";
const VERIFY_EXAMPLES: &str = "\
Examples:
  railyard ledger verify --repo path/to/guardrails-repo    (with RAILYARD_LEDGER_KEY set)
  railyard ledger verify --format json";
const ACCEPT_EXAMPLES: &str = "\
Examples:
  railyard ledger accept --reason \"removed a duplicate entry (ticket SEC-12)\"
  railyard ledger accept --reason \"clock set ahead by mistake\" --reset-clock";

#[derive(Debug, clap::Args)]
pub struct VerifyArgs {
    #[command(flatten)]
    pub repo: RepoArgs,
    #[command(flatten)]
    pub remote: RemoteArgs,
    #[command(flatten)]
    pub output: OutputArgs,
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
    #[command(flatten)]
    pub repo: RepoArgs,
    #[command(flatten)]
    pub remote: RemoteArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, clap::Args)]
pub struct ObserveArgs {
    /// Worker threads fetching and evaluating workloads (default: one more than the cores).
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
    /// `--details` (`all`): after the summaries, every finding, team, unknown and stale
    /// exception; by default (`summary`) a bounded summary that counts them all.
    #[arg(
        long,
        value_enum,
        num_args = 0..=1,
        default_value_t = Details::Summary,
        default_missing_value = "all",
        help_heading = "Output"
    )]
    pub details: Details,
    /// List at most N per-resource findings (the summaries still count them all).
    #[arg(long, value_name = "N", help_heading = "Output")]
    pub top: Option<usize>,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub progress: ProgressArgs,
    #[command(flatten)]
    pub clock: ClockArgs,
    #[command(flatten)]
    pub write: WriteArgs,
    #[command(flatten)]
    pub repo: RepoArgs,
    #[command(flatten)]
    pub remote: RemoteArgs,
    #[command(flatten)]
    pub limits: LimitArgs,
}

/// How much of a fleet `observe` and `enforce` print for people (table, Markdown).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Details {
    /// Summaries (per guardrail, per team, the unknowns by name), bounded at any fleet size.
    #[value(alias = "none")]
    Summary,
    /// The summaries, then every finding (or `--top N` of them) and everything else in full.
    All,
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
    /// `--details` (`all`): every upcoming deadline, workload and exception; by default
    /// (`summary`) long lists are summarised per guardrail and counted.
    #[arg(
        long,
        value_enum,
        num_args = 0..=1,
        default_value_t = Details::Summary,
        default_missing_value = "all",
        help_heading = "Output"
    )]
    pub details: Details,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub clock: ClockArgs,
    #[command(flatten)]
    pub write: WriteArgs,
    #[command(flatten)]
    pub repo: RepoArgs,
    #[command(flatten)]
    pub remote: RemoteArgs,
    #[command(flatten)]
    pub limits: LimitArgs,
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
    #[command(flatten)]
    pub clock: ClockArgs,
    #[command(flatten)]
    pub write: WriteArgs,
    #[command(flatten)]
    pub repo: RepoArgs,
    #[command(flatten)]
    pub remote: RemoteArgs,
    #[command(flatten)]
    pub limits: LimitArgs,
}

#[derive(Debug, clap::Args)]
pub struct ReportArgs {
    /// One workload's exposure.
    #[arg(long)]
    pub workload: Option<String>,
    /// One team's exposure (all its workloads).
    #[arg(long)]
    pub team: Option<String>,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub clock: ClockArgs,
    #[command(flatten)]
    pub repo: RepoArgs,
    #[command(flatten)]
    pub remote: RemoteArgs,
    /// Only the guardrails mapped to this framework (prefix of a `frameworks` entry, e.g. `PCI-DSS`).
    #[arg(long, value_name = "NAME")]
    pub framework: Option<String>,
    /// Summarise another way: `framework` = compliance per control of each framework.
    #[arg(long, value_enum, conflicts_with_all = ["workload", "team"])]
    pub by: Option<ReportBy>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ReportBy {
    /// Per framework control: how many workloads comply with every guardrail mapped to it.
    Framework,
}

#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    /// Keep the sandbox in this folder instead of a temporary one.
    #[arg(long)]
    pub keep: Option<PathBuf>,
    #[command(flatten)]
    pub clock: ClockArgs,
    #[command(flatten)]
    pub limits: LimitArgs,
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
    /// SARIF paths relative to this folder (default: the root of the git repository holding PATH).
    #[arg(long, value_name = "DIR")]
    pub path_base: Option<PathBuf>,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub clock: ClockArgs,
    #[command(flatten)]
    pub remote: RemoteArgs,
    #[command(flatten)]
    pub limits: LimitArgs,
    /// Only the guardrails mapped to this framework (prefix of a `frameworks` entry, e.g. `PCI-DSS`).
    #[arg(long, value_name = "NAME")]
    pub framework: Option<String>,
}

#[derive(Debug, clap::Args)]
pub struct TestArgs {
    /// The guardrails folder (or a repository root containing `guardrails/`).
    #[arg(default_value = "guardrails")]
    pub dir: PathBuf,
    /// Also time each guardrail's policy on its fixtures (ms, µs per resource), costliest first.
    #[arg(long)]
    pub bench: bool,
    /// With --bench: also time every guardrail on this workload folder, and rank by it.
    #[arg(long, value_name = "DIR", requires = "bench")]
    pub bench_workload: Option<PathBuf>,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub limits: LimitArgs,
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

fn parse_day(s: &str) -> Result<Day, crate::date::BadDay> {
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
fn writes(cli: &Cli, parts: &Parts) -> bool {
    !parts.write.dry_run
        && matches!(
            &cli.command,
            Command::Observe(_) | Command::Enforce(_) | Command::Promote(_) | Command::Ledger(LedgerCommand::Accept(_))
        )
}

/// Runs the parsed command, writing data to `out`.
pub fn run(cli: Cli, out: &mut dyn Write) -> anyhow::Result<Outcome> {
    let parts = cli.parts();
    let today = crate::ledger::machine_today();
    let now = parts.clock.now.unwrap_or(today);
    // A run that writes may not act on a day that has not come: its clock would become the
    // ledger's, ahead of real time, and activate deadlines early.
    if let Some(n) = parts.clock.now.filter(|n| *n > today && writes(&cli, &parts)) {
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
        // Two short lines: they fit an 80-column terminal.
        eprintln!(
            "warning: {} is not set: the ledger is not tamper-evident\n  (hand edits, deleted entries or branches and a reset clock go unnoticed)",
            crate::seal::KEY_ENV
        );
    }
    let flag_actor = match &cli.command {
        Command::Promote(a) => a.actor.clone(),
        Command::Ledger(LedgerCommand::Accept(a)) => a.actor.clone(),
        _ => None,
    };
    let (actor, actor_source) = actor_from(flag_actor.as_deref()).unwrap_or_default();
    // Before any work (observe commits, enforce activates): a format the command cannot
    // write is refused, never replaced by another.
    refuse_unsupported_format(&cli, parts.output.format)?;
    crate::progress::configure(!parts.progress.quiet);
    let settings = Settings {
        repo: parts.repo.repo.clone(),
        repo_token_env: Some(parts.remote.repo_token_env.clone()),
        cache_dir: parts
            .remote
            .cache_dir
            .clone()
            .unwrap_or_else(crate::gitops::default_cache_dir),
        now,
        now_explicit: parts.clock.now.is_some(),
        dry_run: parts.write.dry_run,
        no_notify: parts.write.no_notify,
        notify_timeout: std::env::var("RAILYARD_NOTIFY_TIMEOUT_MS")
            .ok()
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(std::time::Duration::from_millis)
            .unwrap_or(crate::notify::DEFAULT_TIMEOUT)
            .min(parts.remote.fetch_timeout),
        fetch_timeout: parts.remote.fetch_timeout,
        format: parts.output.format,
        actor,
        actor_source,
        ledger_key,
        run: crate::limits::RunSettings {
            limits: parts.limits.limits(),
            workers: 1,
        },
    };
    let outcome = command(cli, settings, now, out);
    // The evaluating child processes still leaving: waited for, so that their time counts
    // towards this process' (`time`, CI accounting) and no zombie outlives the run.
    crate::isolate::reap();
    outcome
}

fn command(cli: Cli, settings: Settings, now: Day, out: &mut dyn Write) -> anyhow::Result<Outcome> {
    match cli.command {
        Command::Check(args) => {
            let name = match args.workload {
                Some(n) => n,
                None => folder_name(&args.path),
            };
            let (mut active, mut pending) = workflow::check::guardrails_for(&settings, &args.guardrails, &name)?;
            if let Some(f) = args.framework.map(workflow::frameworks::Framework) {
                let libs: Vec<&crate::guardrail::Library> =
                    std::iter::once(&active).chain(pending.iter().map(|(l, _)| l)).collect();
                f.require_known(&libs)?;
                f.retain(&mut active);
                pending.retain(|(l, _)| l.guardrails.iter().any(|g| f.maps(g)));
            }
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
                format: settings.format,
                jobs: args.jobs,
                allow_empty: args.allow_empty,
                exclude: args.exclude,
                path_base: args.path_base,
                settings: settings.run,
            };
            workflow::check::check(opts, out)
        }
        Command::Test(args) => {
            let library = crate::guardrail::load_dir(&args.dir)
                .with_context(|| format!("loading guardrails from `{}`", args.dir.display()))?;
            let bench = args.bench.then_some(workflow::test::BenchOptions {
                workload: args.bench_workload,
            });
            workflow::test::test(&library, &settings.run, settings.format, bench, out)
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
                top: match args.details {
                    Details::Summary => args.top.or(Some(0)),
                    Details::All => args.top,
                },
                details: args.details == Details::All,
            };
            workflow::observe::observe_with(&settings, &opts, out)
        }
        Command::Enforce(args) => {
            let opts = workflow::enforce::EnforceOptions {
                exception_window: args.exception_window,
                reminder_days: args.reminder_days,
                force_failing_fixtures: args.force_failing_fixtures,
                details: args.details == Details::All,
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
        Command::Ledger(LedgerCommand::Verify(_)) => workflow::ledger_cmd::verify(&settings, out),
        Command::Ledger(LedgerCommand::Accept(args)) => {
            workflow::ledger_cmd::accept(&settings, &args.reason, args.reset_clock, out)
        }
        Command::Report(args) if args.by == Some(ReportBy::Framework) => {
            let f = args.framework.map(workflow::frameworks::Framework);
            workflow::frameworks::report(&settings, f.as_ref(), out)
        }
        Command::Report(args) => {
            let opts = workflow::report::ReportOptions {
                workload: args.workload,
                team: args.team,
                framework: args.framework.map(workflow::frameworks::Framework),
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
        Command::Preview(args) => {
            let opts = workflow::preview::PreviewOptions {
                git_ref: args.git_ref,
                jobs: args.jobs,
                framework: args.framework.map(workflow::frameworks::Framework),
            };
            workflow::preview::preview(&settings, &opts, out)
        }
        Command::Init(args) => workflow::init::init(&args.dir, out),
        Command::Completions(args) => {
            let mut cmd = <Cli as clap::CommandFactory>::command();
            clap_complete::generate(args.shell, &mut cmd, "railyard", out);
            Ok(Outcome::Clean)
        }
        Command::Man(args) => man(args.dir.as_deref(), out),
    }
}

/// The manual page of `railyard`, or with `dir` one page per command written there.
fn man(dir: Option<&std::path::Path>, out: &mut dyn Write) -> anyhow::Result<Outcome> {
    let cmd = <Cli as clap::CommandFactory>::command();
    let Some(dir) = dir else {
        clap_mangen::Man::new(cmd).render(out)?;
        return Ok(Outcome::Clean);
    };
    std::fs::create_dir_all(dir).with_context(|| format!("creating `{}`", dir.display()))?;
    let mut pages = vec![("railyard".to_string(), cmd.clone())];
    pages.extend(
        cmd.get_subcommands()
            .map(|sub| (format!("railyard-{}", sub.get_name()), sub.clone())),
    );
    for (name, page) in pages {
        let path = dir.join(format!("{name}.1"));
        let mut buf = Vec::new();
        // clap_mangen titles a subcommand's page with its own name: give it the full one.
        clap_mangen::Man::new(page).title(name.clone()).render(&mut buf)?;
        std::fs::write(&path, buf).with_context(|| format!("writing `{}`", path.display()))?;
        writeln!(out, "{}", path.display())?;
    }
    Ok(Outcome::Clean)
}

/// Exit 2 with the formats the command writes when `--format` is not one of them.
fn refuse_unsupported_format(cli: &Cli, f: crate::output::Format) -> Result<(), crate::output::RenderError> {
    use crate::output::{ensure, ensure_for, Format::*};
    match &cli.command {
        Command::Check(_) => ensure_for::<workflow::check::CheckReport>(f),
        Command::Test(_) => ensure_for::<workflow::test::TestReport>(f),
        Command::Observe(a) if a.shard.is_some() => ensure("observe --shard", f, &[Table, Json]),
        Command::Observe(_) => ensure_for::<workflow::observe::ObserveReport>(f),
        Command::Enforce(_) => ensure_for::<workflow::enforce::EnforceReport>(f),
        Command::Report(_) => ensure_for::<workflow::report::Report>(f),
        Command::Ledger(LedgerCommand::Verify(_)) => ensure("ledger verify", f, &[Table, Json]),
        Command::Ledger(LedgerCommand::Accept(_)) => ensure("ledger accept", f, &[Table]),
        // No `--format` option: clap refuses one.
        Command::Promote(_)
        | Command::Demo(_)
        | Command::Init(_)
        | Command::Completions(_)
        | Command::Man(_)
        | Command::Dashboard(_) => Ok(()),
        Command::Preview(_) => ensure("preview", f, &[Table, Json, Markdown]),
    }
}

fn folder_name(path: &std::path::Path) -> String {
    let abs = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    abs.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "workload".into())
}
