//! Railyard: a git-driven release manager for security guardrails.
//!
//! The library holds every workflow so tests drive it directly; `main.rs` only parses the
//! command line and maps outcomes to exit codes.

pub mod cli;
pub mod config;
pub mod dashboard;
pub mod date;
pub mod evaluate;
pub mod files;
pub mod gitops;
pub mod guardrail;
pub mod isolate;
pub mod ledger;
pub mod limits;
pub mod notify;
pub mod output;
pub mod progress;
pub mod report;
pub mod results;
pub mod seal;
pub mod severity;
pub mod workflow;
pub mod workload;

#[doc(hidden)]
pub mod fuzzing;
