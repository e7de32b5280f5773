//! Integration tests: one binary (link once), one module per area. Each module drives the real
//! `railyard` binary against real git repositories and servers on 127.0.0.1; `common` holds the
//! shared set-up.

mod cfn_plan_cli;
mod cli_check;
mod common;
mod corpus_fixes_cli;
mod dashboard;
mod fleet_cli;
mod fuzz_regressions;
mod governance_cli;
mod guardrail_fixes_cli;
mod hostile_cli;
mod identity_cli;
mod ledger_seal_cli;
mod loop_cli;
mod notify_cli;
mod registry_fetch;
mod render_cli;
mod safety_cli;
mod snapshots;
mod state_cli;
mod terraform_modules_cli;
mod yaml_skipped_cli;
