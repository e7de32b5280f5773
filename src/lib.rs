//! Railyard: a git-driven release manager for security guardrails.
//!
//! The library holds every workflow; `main.rs` parses the command line through [`cli`] and
//! maps outcomes to exit codes. Every module is private to the crate (docs/ARCHITECTURE.md
//! draws their layers); what is public below is the small facade the integration tests, the
//! benchmarks, the fuzz targets and the fleet generator (`tools/fleet`) use.

pub mod cli;
#[doc(hidden)]
pub mod fuzzing;

mod config;
mod dashboard;
mod date;
mod evaluate;
mod files;
mod gitops;
mod guardrail;
mod isolate;
mod ledger;
mod limits;
mod notify;
mod output;
mod parsed;
mod progress;
mod report;
mod results;
mod seal;
mod severity;
mod workflow;
mod workload;

// Reading and evaluating one workload (`bench/check.rs`).
pub use date::Day;
pub use evaluate::{Evaluator, PreparedWorkload, Verdict};
pub use files::{read_dir, ReadLimits, SourceFile};
pub use guardrail::{load_dir, Severity};
pub use limits::RunSettings;
pub use workload::registry::{parse as parse_registry, WorkloadSpec};
pub use workload::{parse_files, WorkloadInfo};

/// Git plumbing the tests and the fleet generator drive directly.
pub mod git {
    pub use crate::gitops::fetch::{read_tree, redact, Cache, FetchError};
    pub use crate::gitops::{commit_changes, create_branch, GuardrailsRepo, LEDGER};
}

/// The ledger's data model (the dashboard benchmark writes histories with it).
pub mod record {
    pub use crate::ledger::{key, GuardrailRecord, GuardrailState, Ledger, LedgerEntry, RecordedFinding};
}

/// Budgeted jobs in forked children (the fork-safety test forks through it).
pub mod sandbox {
    pub use crate::isolate::{check_forks, run_batch, threads, Allocator, Budget};
}

// The unit tests' allocator: the system's, with the sandbox's handling of a child's failed
// allocation, as the binary's (`src/main.rs`).
#[cfg(test)]
#[global_allocator]
static ALLOCATOR: isolate::Allocator<std::alloc::System> = isolate::Allocator(std::alloc::System);
