//! `railyard-fleet`: synthetic workloads for benchmarks (not a Railyard user command; not
//! installed with `railyard`). Run it from the repository root:
//!
//! ```sh
//! cargo run --release -p railyard-fleet -- generate --out /tmp/fleet --workloads 1000 --seed 42
//! cargo run --release -p railyard-fleet -- generate --out /tmp/real --workloads 1000 --sources /work/corpus2/tf-vpc,/work/corpus2/sock-shop
//! cargo run --release -p railyard-fleet -- change --out /tmp/fleet --count 10 --seed 7
//! cargo run --release -p railyard-fleet -- check-workload --out /tmp/big --files 100
//! cargo run --release -p railyard-fleet -- bench-workload --out /tmp/bench --files 100
//! ```

use anyhow::Result;
use clap::{Parser, Subcommand};
use railyard_fleet::{fleet, terraform};
use std::path::PathBuf;

#[derive(Parser)]
#[command(
    name = "railyard-fleet",
    about = "Synthetic workloads and fleets for Railyard benchmarks"
)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Create N workload repos, a guardrails repo and its workloads.toml.
    Generate {
        #[arg(long)]
        out: PathBuf,
        #[arg(long, default_value_t = 1000)]
        workloads: usize,
        #[arg(long, default_value_t = 42)]
        seed: u64,
        #[arg(long, default_value_t = 20)]
        noncompliant_percent: usize,
        /// The bundled guardrails folder.
        #[arg(long, default_value = "guardrails")]
        guardrails: PathBuf,
        /// Copy real repositories instead of generating code: workload i is a copy of the
        /// files of source i mod N (no `.git`) with one file changed (comma-separated
        /// folders; `--noncompliant-percent` does not apply).
        #[arg(long, value_delimiter = ',')]
        sources: Vec<PathBuf>,
    },
    /// Make a new (still compliant-as-before) commit in COUNT workloads chosen by the seed.
    Change {
        #[arg(long)]
        out: PathBuf,
        #[arg(long, default_value_t = 10)]
        count: usize,
        #[arg(long, default_value_t = 7)]
        seed: u64,
    },
    /// Write one workload folder of FILES Terraform files built from the bundled examples.
    CheckWorkload {
        #[arg(long)]
        out: PathBuf,
        #[arg(long, default_value_t = 100)]
        files: usize,
    },
    /// Write the workload of `cargo bench --bench check` and `bench/compare-checkov.py`
    /// (FILES Terraform files; 100 give 819 resources).
    BenchWorkload {
        #[arg(long)]
        out: PathBuf,
        #[arg(long, default_value_t = 100)]
        files: usize,
    },
}

fn main() -> Result<()> {
    match Cli::parse().command {
        Cmd::Generate {
            out,
            workloads,
            seed,
            noncompliant_percent,
            guardrails,
            sources,
        } => match sources.is_empty() {
            true => fleet::generate(&out, workloads, seed, noncompliant_percent, &guardrails),
            false => fleet::generate_real(&out, workloads, seed, &sources, &guardrails),
        },
        Cmd::Change { out, count, seed } => fleet::change(&out, count, seed),
        Cmd::CheckWorkload { out, files } => fleet::check_workload(&out, files),
        Cmd::BenchWorkload { out, files } => {
            let resources = terraform::write(&out, files)?;
            // One line a script can parse: `files=N resources=R`.
            println!("files={files} resources={resources}");
            Ok(())
        }
    }
}
