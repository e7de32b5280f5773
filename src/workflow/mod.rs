//! The workflows, one file each, each readable top to bottom in the words of DESIGN.md.

pub mod check;
pub mod demo;
pub mod enforce;
pub mod observe;
pub mod promote;
pub mod release;
pub mod report;
pub mod test;

use crate::date::Day;
use crate::output::Format;
use std::path::PathBuf;

/// What every loop workflow gets from the command line, resolved once.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The guardrails repo: a local path or a URL.
    pub repo: String,
    /// Environment variable holding an https token for a remote guardrails repo.
    pub repo_token_env: Option<String>,
    /// Persistent clones of workloads (and the mirror of a remote guardrails repo).
    pub cache_dir: PathBuf,
    pub now: Day,
    /// Whether `--now` was given (recorded in what the run causes).
    pub now_explicit: bool,
    pub dry_run: bool,
    pub format: Format,
    /// Who runs this (recorded in forced promotions).
    pub actor: String,
}

/// How a run ended; `main` maps it to the documented exit codes (docs/exit-codes.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// 0: nothing to report.
    Clean,
    /// 1: findings that fail the build (or fixtures that failed).
    Findings,
    /// 2: something could not be evaluated or configured; never read as compliant.
    Error,
}

impl Outcome {
    pub fn exit_code(self) -> u8 {
        match self {
            Outcome::Clean => 0,
            Outcome::Findings => 1,
            Outcome::Error => 2,
        }
    }
}
