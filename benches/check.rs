//! Benchmark of `railyard check` on a generated, realistic 100-file Terraform workload with
//! the bundled guardrail library. Run it with:
//!
//!     cargo bench --bench check
//!
//! (`cargo bench` builds the binary and the library with the optimised `bench` profile.)
//! Settings: RAILYARD_BENCH_RUNS (default 20), RAILYARD_BENCH_FILES (default 100),
//! RAILYARD_BENCH_KEEP=<dir> to write the workload there and keep it.
//!
//! Prints the workload's size, then for the binary (process start, load and compile of the
//! guardrails, read, parse, evaluate, render JSON) and for the in-process library path
//! (read + parse + evaluate with compiled policies) the median and p95 latency and
//! resources per second.

use railyard::date::Day;
use railyard::evaluate::{Evaluator, PreparedWorkload};
use railyard::files::{read_dir, ReadLimits};
use railyard::workload::WorkloadInfo;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// A small deterministic generator (64-bit LCG), so every run checks the same workload.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

/// One Terraform file: variables and locals, then 5–10 resources from a realistic mix.
fn terraform_file(index: usize, rng: &mut Rng) -> (String, usize) {
    let mut s = String::new();
    let env = ["prod", "staging", "dev"][rng.below(3) as usize];
    let team = ["payments", "search", "platform", "data"][rng.below(4) as usize];
    writeln!(
        s,
        r#"variable "environment_{index}" {{
  type    = string
  default = "{env}"
}}

variable "kms_key_{index}" {{
  type = string
}}

locals {{
  prefix_{index} = "acme-{team}-${{var.environment_{index}}}"
  tags_{index} = {{
    owner       = "{team}"
    environment = var.environment_{index}
  }}
}}
"#
    )
    .unwrap();
    let mut resources = 0;
    let target = 5 + rng.below(6) as usize;
    let mut n = 0;
    while resources < target {
        n += 1;
        let name = format!("r{index}_{n}");
        match rng.below(6) {
            // An S3 bucket with separate versioning, encryption and public-access resources,
            // each present or not.
            0 | 1 => {
                let tags = if rng.chance(70) {
                    format!("\n  tags = local.tags_{index}\n")
                } else {
                    "\n".to_string()
                };
                writeln!(
                    s,
                    "resource \"aws_s3_bucket\" \"{name}\" {{\n  bucket = \"${{local.prefix_{index}}}-{n}\"{tags}}}\n"
                )
                .unwrap();
                resources += 1;
                if rng.chance(70) {
                    let status = if rng.chance(85) { "Enabled" } else { "Suspended" };
                    writeln!(s, "resource \"aws_s3_bucket_versioning\" \"{name}\" {{\n  bucket = aws_s3_bucket.{name}.id\n  versioning_configuration {{\n    status = \"{status}\"\n  }}\n}}\n").unwrap();
                    resources += 1;
                }
                if rng.chance(70) {
                    let algo = if rng.chance(60) { "aws:kms" } else { "AES256" };
                    writeln!(s, "resource \"aws_s3_bucket_server_side_encryption_configuration\" \"{name}\" {{\n  bucket = aws_s3_bucket.{name}.id\n  rule {{\n    apply_server_side_encryption_by_default {{\n      sse_algorithm     = \"{algo}\"\n      kms_master_key_id = var.kms_key_{index}\n    }}\n  }}\n}}\n").unwrap();
                    resources += 1;
                }
                if rng.chance(60) {
                    let b = rng.chance(90);
                    writeln!(s, "resource \"aws_s3_bucket_public_access_block\" \"{name}\" {{\n  bucket                  = aws_s3_bucket.{name}.id\n  block_public_acls       = {b}\n  block_public_policy     = {b}\n  ignore_public_acls      = true\n  restrict_public_buckets = true\n}}\n").unwrap();
                    resources += 1;
                }
                if rng.chance(40) {
                    writeln!(s, "resource \"aws_s3_bucket_logging\" \"{name}\" {{\n  bucket        = aws_s3_bucket.{name}.id\n  target_bucket = \"acme-central-logs\"\n  target_prefix = \"{name}/\"\n}}\n").unwrap();
                    resources += 1;
                }
            }
            // A security group with a few ingress rules, sometimes open to the world.
            2 => {
                let mut ingress = String::new();
                for _ in 0..1 + rng.below(3) {
                    let port = [22, 443, 3389, 5432, 8080][rng.below(5) as usize];
                    let cidr = if rng.chance(20) { "0.0.0.0/0" } else { "10.0.0.0/8" };
                    write!(ingress, "\n  ingress {{\n    from_port   = {port}\n    to_port     = {port}\n    protocol    = \"tcp\"\n    cidr_blocks = [\"{cidr}\"]\n  }}\n").unwrap();
                }
                writeln!(s, "resource \"aws_security_group\" \"{name}\" {{\n  name   = \"${{local.prefix_{index}}}-{n}\"\n  vpc_id = \"vpc-123456\"\n{ingress}\n  egress {{\n    from_port   = 0\n    to_port     = 0\n    protocol    = \"-1\"\n    cidr_blocks = [\"0.0.0.0/0\"]\n  }}\n\n  tags = local.tags_{index}\n}}\n").unwrap();
                resources += 1;
            }
            // An RDS instance.
            3 => {
                let enc = rng.chance(80);
                let public = rng.chance(10);
                writeln!(s, "resource \"aws_db_instance\" \"{name}\" {{\n  identifier          = \"${{local.prefix_{index}}}-{n}\"\n  engine              = \"postgres\"\n  engine_version      = \"15.4\"\n  instance_class      = \"db.t3.medium\"\n  allocated_storage   = 50\n  storage_encrypted   = {enc}\n  kms_key_id          = var.kms_key_{index}\n  publicly_accessible = {public}\n  username            = \"app\"\n  manage_master_user_password = true\n  tags = local.tags_{index}\n}}\n").unwrap();
                resources += 1;
            }
            // An EBS volume.
            4 => {
                let enc = rng.chance(75);
                writeln!(s, "resource \"aws_ebs_volume\" \"{name}\" {{\n  availability_zone = \"eu-west-1a\"\n  size              = {}\n  encrypted         = {enc}\n  tags = merge(local.tags_{index}, {{ Name = \"{name}\" }})\n}}\n", 20 + rng.below(200)).unwrap();
                resources += 1;
            }
            // An IAM policy through jsonencode, sometimes admin.
            _ => {
                let (action, resource) = if rng.chance(15) {
                    ("*", "*".to_string())
                } else {
                    ("s3:GetObject", format!("arn:aws:s3:::acme-{team}-{n}/*"))
                };
                writeln!(s, "resource \"aws_iam_policy\" \"{name}\" {{\n  name = \"${{local.prefix_{index}}}-{n}\"\n  policy = jsonencode({{\n    Version = \"2012-10-17\"\n    Statement = [\n      {{\n        Effect   = \"Allow\"\n        Action   = [\"{action}\"]\n        Resource = \"{resource}\"\n      }}\n    ]\n  }})\n}}\n").unwrap();
                resources += 1;
            }
        }
    }
    (s, resources)
}

/// Writes the workload into `dir`: `files` Terraform files in a few module-like folders.
fn generate(dir: &Path, files: usize) -> usize {
    let mut rng = Rng(0x5241_494c_5941_5244);
    let mut total = 0;
    for i in 0..files {
        let (text, n) = terraform_file(i, &mut rng);
        let folder = dir.join(["network", "storage", "data", "iam", "app"][i % 5]);
        std::fs::create_dir_all(&folder).unwrap();
        std::fs::write(folder.join(format!("file_{i:03}.tf")), text).unwrap();
        total += n;
    }
    total
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn report(label: &str, mut times: Vec<Duration>, resources: usize) {
    times.sort();
    let median = percentile(&times, 50.0);
    let p95 = percentile(&times, 95.0);
    println!(
        "{label:<28} runs {:>3}  median {:>9.1} ms  p95 {:>9.1} ms  min {:>9.1} ms  {:>9.0} resources/s",
        times.len(),
        ms(median),
        ms(p95),
        ms(times[0]),
        resources as f64 / median.as_secs_f64()
    );
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` passes nothing: run once there.
    let quick = !std::env::args().any(|a| a == "--bench");
    let env_usize = |k: &str, d: usize| std::env::var(k).ok().and_then(|v| v.parse().ok()).unwrap_or(d);
    let runs = if quick { 1 } else { env_usize("RAILYARD_BENCH_RUNS", 20) };
    let file_count = env_usize("RAILYARD_BENCH_FILES", 100);

    let tmp = tempfile::tempdir().unwrap();
    let dir: PathBuf = match std::env::var("RAILYARD_BENCH_KEEP") {
        Ok(d) => PathBuf::from(d),
        Err(_) => tmp.path().join("workload"),
    };
    let generated = generate(&dir, file_count);
    let guardrails = Path::new(env!("CARGO_MANIFEST_DIR")).join("guardrails");
    let bin = env!("CARGO_BIN_EXE_railyard");

    // One run to learn what the binary sees, and to check it really evaluated everything.
    let out = Command::new(bin)
        .args(["check", "--format", "json", "--now", "2030-01-01", "--guardrails"])
        .arg(&guardrails)
        .arg(&dir)
        .output()
        .unwrap();
    let report_json: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("railyard check: {e}: {}", String::from_utf8_lossy(&out.stderr)));
    let summary = &report_json["summary"];
    let errors = report_json["errors"].as_array().unwrap();
    assert!(
        errors.iter().all(|e| e["guardrail"].is_string()),
        "the generated workload must parse: {errors:?}"
    );
    for e in errors {
        println!("WARNING: could not evaluate: {} {}", e["guardrail"], e["message"]);
    }
    let expected_code = if errors.is_empty() { 1 } else { 2 };
    assert_eq!(
        out.status.code(),
        Some(expected_code),
        "the generated workload has findings"
    );
    let resources = summary["resources"].as_u64().unwrap() as usize;
    let bytes: u64 = walk_size(&dir);
    println!(
        "workload: {} files, {} KiB, {} resources ({} generated as managed resources), {} guardrails, {} findings",
        summary["files"],
        bytes / 1024,
        resources,
        generated,
        summary["guardrails"],
        summary["findings"]
    );

    // The binary, end to end.
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs {
        let start = Instant::now();
        let status = Command::new(bin)
            .args(["check", "--format", "json", "--now", "2030-01-01", "--guardrails"])
            .arg(&guardrails)
            .arg(&dir)
            .stdout(std::process::Stdio::null())
            .status()
            .unwrap();
        times.push(start.elapsed());
        assert_eq!(status.code(), Some(expected_code));
    }
    report("binary `railyard check`", times, resources);

    // In-process: load and compile the library once, then read + parse + evaluate per run.
    let start = Instant::now();
    let library = railyard::guardrail::load_dir(&guardrails).unwrap();
    let load = start.elapsed();
    let start = Instant::now();
    // One worker and the default limits, as before settings were passed as values.
    let settings = railyard::limits::RunSettings::default();
    let mut evaluator = Evaluator::new(&library, &settings);
    let compile = start.elapsed();
    println!("library: load {:.1} ms, compile {:.1} ms (once)", ms(load), ms(compile));
    let today = Day::parse("2030-01-01").unwrap();
    let (mut parse_times, mut eval_times, mut total_times) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..runs {
        let start = Instant::now();
        let (files, skipped) = read_dir(&dir, ReadLimits::default()).unwrap();
        let info = WorkloadInfo {
            name: "bench".into(),
            team: String::new(),
            commit: String::new(),
        };
        let workload = PreparedWorkload::new(info, &files, skipped, &settings);
        let parsed = start.elapsed();
        let evals = evaluator.evaluate_all(&workload, today);
        let total = start.elapsed();
        assert_eq!(workload.input.resources.len(), resources);
        if errors.is_empty() {
            assert!(evals.iter().all(|e| e.problems.is_empty()));
            let found = evals.iter().map(|e| e.findings.len()).sum::<usize>() as u64;
            assert_eq!(found, summary["findings"].as_u64().unwrap());
        }
        parse_times.push(parsed);
        eval_times.push(total - parsed);
        total_times.push(total);
    }
    report("in-process read + parse", parse_times, resources);
    report("in-process evaluate", eval_times, resources);
    report("in-process read+parse+eval", total_times, resources);
}

fn walk_size(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            if e.file_type().unwrap().is_dir() {
                walk_size(&e.path())
            } else {
                e.metadata().unwrap().len()
            }
        })
        .sum()
}
