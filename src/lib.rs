//! Railyard: a git-driven release manager for security guardrails.
//!
//! The library holds every workflow so tests drive it directly; `main.rs` only parses the
//! command line and maps outcomes to exit codes.

pub mod config;
pub mod date;
pub mod files;
pub mod guardrail;
pub mod workload;
