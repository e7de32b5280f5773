//! Entry points for the fuzz targets in `fuzz/` and for `tests/fuzz_regressions.rs`: one
//! function per target, each taking arbitrary bytes and pushing them through the real code
//! (parser, links, policy input, conversion to the engine's value; or a configuration loader).
//! Not part of the public API. See `docs/fuzzing.md`.
//!
//! Every function must return normally on any input: a panic, a stack overflow, an abort
//! or an unbounded run is a bug in Railyard.

use crate::evaluate::PreparedWorkload;
use crate::files::SourceFile;
use crate::workload::parser::{Parsed, PARSERS};
use crate::workload::{ResourceKind, WorkloadInfo};
use std::collections::BTreeMap;

/// Separates the files of one input in the multi-file targets: `\n--- file: PATH\n`.
pub const FILE_SEPARATOR: &[u8] = b"--- file: ";

/// Terraform HCL: the input is `main.tf`, or several `.tf` / `.tfvars` files of one module
/// (see [`split_files`]).
pub fn terraform_hcl(data: &[u8]) {
    parse_with(ResourceKind::Terraform, split_files(data, "main.tf"));
}

/// Terraform JSON syntax: `main.tf.json`, or several files (`.tf.json`, `.tfvars.json`).
pub fn terraform_json(data: &[u8]) {
    parse_with(ResourceKind::Terraform, split_files(data, "main.tf.json"));
}

/// `terraform show -json` output.
pub fn terraform_plan(data: &[u8]) {
    parse_with(ResourceKind::TerraformPlan, vec![SourceFile::new("plan.json", data)]);
}

/// A CloudFormation template, YAML or JSON (the parser tells them apart by content).
pub fn cloudformation(data: &[u8]) {
    parse_with(
        ResourceKind::Cloudformation,
        vec![SourceFile::new("template.yaml", data)],
    );
}

/// Kubernetes manifests, YAML (multi-document) or JSON.
pub fn kubernetes(data: &[u8]) {
    parse_with(ResourceKind::Kubernetes, vec![SourceFile::new("manifests.yaml", data)]);
}

/// A whole workload of any formats as Railyard evaluates it: every file goes through
/// `parse_files` (claims, grouping by folder) and `PreparedWorkload::new`.
pub fn input_builder(data: &[u8]) {
    let files = split_files(data, "main.tf");
    let w = PreparedWorkload::new(info(), &files, Vec::new(), &Default::default());
    std::hint::black_box(w.input.resources.len());
}

/// `workloads.toml`, then the lookups the release loop makes on what it loaded.
pub fn workloads_toml(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    if let Ok(registry) = crate::workload::registry::parse("workloads.toml", &text) {
        for spec in &registry.workloads {
            std::hint::black_box((registry.owners_of(spec), spec.ref_or_head()));
            std::hint::black_box(registry.workload(&spec.name).is_some());
        }
    }
}

/// `guardrail.toml`, loaded as part of a guardrail folder with a trivial policy.
pub fn guardrail_toml(data: &[u8]) {
    let files = vec![
        SourceFile::new("guardrail.toml", data),
        SourceFile::new("policy.rego", "package railyard.fuzz\n"),
    ];
    std::hint::black_box(crate::guardrail::load_guardrail("fuzz", "guardrails/fuzz", files).is_ok());
}

/// `exceptions.toml`, then matching and expiry of what it loaded.
pub fn exceptions_toml(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    if let Ok(exceptions) = crate::guardrail::exceptions::parse("guardrails/fuzz/exceptions.toml", &text) {
        let today = crate::date::Day::parse("2026-01-01").expect("a valid date");
        for e in &exceptions {
            std::hint::black_box((e.covers("payments-api", "aws_s3_bucket.logs"), e.status(today)));
        }
    }
}

/// One fuzz entry point.
pub type Target = fn(&[u8]);

/// Every target by name, for harnesses that iterate over them.
pub const TARGETS: &[(&str, Target)] = &[
    ("terraform_hcl", terraform_hcl),
    ("terraform_json", terraform_json),
    ("terraform_plan", terraform_plan),
    ("cloudformation", cloudformation),
    ("kubernetes", kubernetes),
    ("input_builder", input_builder),
    ("workloads_toml", workloads_toml),
    ("guardrail_toml", guardrail_toml),
    ("exceptions_toml", exceptions_toml),
];

/// Splits an input into files. Without a separator line the whole input is one file named
/// `default`. Otherwise each `--- file: PATH` line starts a new file (bytes before the first
/// one belong to `default`). PATH is made relative and `/`-separated the way `files::read_dir`
/// produces paths: no empty, `.` or `..` parts.
pub fn split_files(data: &[u8], default: &str) -> Vec<SourceFile> {
    let mut files = Vec::new();
    let mut path = default.to_string();
    let mut start = 0;
    let mut i = 0;
    while i < data.len() {
        let at_line_start = i == 0 || data[i - 1] == b'\n';
        if at_line_start && data[i..].starts_with(FILE_SEPARATOR) {
            if i > start || !files.is_empty() || path != default {
                files.push(SourceFile::new(path.clone(), &data[start..i]));
            }
            let header_end = data[i..].iter().position(|b| *b == b'\n').map_or(data.len(), |p| i + p);
            path = clean_path(&data[i + FILE_SEPARATOR.len()..header_end], default);
            start = (header_end + 1).min(data.len());
            i = start;
            continue;
        }
        i += 1;
    }
    files.push(SourceFile::new(path, &data[start..]));
    files
}

fn clean_path(raw: &[u8], default: &str) -> String {
    let raw = String::from_utf8_lossy(raw);
    let parts: Vec<&str> = raw
        .trim()
        .split(['/', '\\', '\0'])
        .filter(|p| !p.is_empty() && *p != "." && *p != "..")
        .collect();
    if parts.is_empty() {
        default.to_string()
    } else {
        parts.join("/")
    }
}

fn info() -> WorkloadInfo {
    WorkloadInfo {
        name: "fuzz".into(),
        team: "fuzz".into(),
        commit: "0000000".into(),
    }
}

/// Parses with the given parser directly (so inputs that its `claims` would turn away still
/// reach it), then builds the input with `PreparedWorkload::from_parsed`, as a check does.
fn parse_with(kind: ResourceKind, files: Vec<SourceFile>) {
    let parser = PARSERS
        .iter()
        .find(|p| p.kind() == kind)
        .expect("every kind has a parser");
    for f in &files {
        std::hint::black_box(parser.claims(&f.path, &f.bytes));
    }
    // Grouped by folder, as `parse_files` does.
    let mut groups: BTreeMap<&str, Vec<&SourceFile>> = BTreeMap::new();
    for f in &files {
        groups.entry(f.dir()).or_default().push(f);
    }
    let mut parsed = Parsed::default();
    for group in groups.values() {
        parsed.extend(parser.parse(group));
    }
    build_input(parsed);
}

fn build_input(parsed: Parsed) {
    std::hint::black_box(PreparedWorkload::from_parsed(
        info(),
        parsed,
        Vec::new(),
        &Default::default(),
    ));
}
