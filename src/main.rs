//! Thin entry point: parse the command line, run the workflow, map the outcome to the
//! documented exit codes (docs/exit-codes.md): 0 clean, 1 findings, 2 could not evaluate.

use clap::Parser;
use std::io::Write;
use std::process::ExitCode;

// The policy engine and the parsers allocate many small, short-lived values; mimalloc
// spends about half the time glibc's allocator does on them (see README, Performance). The
// sandbox's wrapper ends a child whose allocation fails at once (see `isolate::Allocator`).
#[global_allocator]
static ALLOCATOR: railyard::sandbox::Allocator<mimalloc::MiMalloc> = railyard::sandbox::Allocator(mimalloc::MiMalloc);

fn main() -> ExitCode {
    // The Rego parser uses errors to backtrack: with RUST_BACKTRACE set, anyhow would capture
    // a backtrace for each one (seconds per policy). Panics keep RUST_BACKTRACE's setting.
    if std::env::var_os("RUST_LIB_BACKTRACE").is_none() {
        std::env::set_var("RUST_LIB_BACKTRACE", "0");
    }
    // Debug builds (what the CLI tests run) check that no fork happens beside another thread.
    if cfg!(debug_assertions) {
        railyard::sandbox::check_forks();
    }
    let cli = match railyard::cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let result = railyard::cli::run(cli, &mut out);
    let _ = out.flush();
    match result {
        Ok(outcome) => ExitCode::from(outcome.exit_code()),
        Err(e) => {
            // A closed pipe (`railyard check | head`) is not an error.
            if e.chain().any(|c| {
                c.downcast_ref::<std::io::Error>()
                    .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            }) {
                return ExitCode::SUCCESS;
            }
            // Last line of defence: no credential in a URL reaches the terminal or CI log.
            eprintln!("error: {}", railyard::git::redact(&format!("{e:#}")));
            ExitCode::from(2)
        }
    }
}
