//! Integration tests: one binary (link once), one module per area. Each module drives the real
//! `railyard` binary against real git repositories and servers on 127.0.0.1; `common` holds the
//! shared set-up.

mod bundled_exceptions_cli;
mod cfn_plan_cli;
mod cli_check;
mod codequality_cli;
mod common;
mod corpus_fixes_cli;
mod dashboard;
mod fixture_cache_cli;
mod fleet_cli;
mod floor_cli;
mod fork_safety;
mod frameworks;
mod fuzz_regressions;
mod governance_cli;
mod guardrail_fixes_cli;
mod hostile_cli;
mod identity_cli;
mod init_cli;
mod layers;
mod ledger_seal_cli;
mod loop_cli;
mod module_hint_cli;
mod notify_cli;
mod notify_severity;
mod observe_summary;
mod outputs;
mod parse_cache_cli;
mod preview;
mod registry_fetch;
mod regotest_cli;
mod render_cli;
mod safety_cli;
mod schemas_cli;
mod snapshots;
mod state_cli;
mod term_cli;
mod terraform_modules_cli;
mod test_bench_cli;
mod twins_cli;
mod yaml_skipped_cli;

// The binary's allocator (src/main.rs), so tests that fork in this process (fork_safety)
// prove the allocator that runs.
#[global_allocator]
static ALLOCATOR: railyard::sandbox::Allocator<mimalloc::MiMalloc> = railyard::sandbox::Allocator(mimalloc::MiMalloc);
