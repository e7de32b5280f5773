//! The parse cache (`<cache>/parsed`): a file or folder byte-identical to one parsed before is
//! not parsed again, yet every finding keeps its own workload's file and line; a folder whose
//! called module changed is parsed again; a tampered entry is detected (with
//! `RAILYARD_LEDGER_KEY`), reported and parsed again, never trusted.

use crate::common;
use railyard::git::{commit_changes, create_branch};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_railyard");
const KEY: &str = "parse-cache-test-key-0123456789abcdef";

const TEMPLATE: &str = include_str!("../../examples/data-pipeline/template.yaml");
const MANIFEST: &str = include_str!("../../examples/web-frontend/deployment.yaml");
const ROOT_TF: &str = "module \"store\" {\n  source = \"../modules/store\"\n}\n";
const UNVERSIONED: &str = "resource \"aws_s3_bucket\" \"logs\" {\n  bucket = \"logs\"\n}\n";
const VERSIONED: &str = "resource \"aws_s3_bucket\" \"logs\" {\n  bucket = \"logs\"\n}\n\nresource \"aws_s3_bucket_versioning\" \"logs\" {\n  bucket = aws_s3_bucket.logs.id\n  versioning_configuration {\n    status = \"Enabled\"\n  }\n}\n";

type Files = Vec<(String, Option<Vec<u8>>)>;

fn files(changes: &[(&str, &str)]) -> Files {
    changes
        .iter()
        .map(|(p, c)| (p.to_string(), Some(c.as_bytes().to_vec())))
        .collect()
}

struct World {
    dir: tempfile::TempDir,
}

impl World {
    /// Workloads `(name, files)` and a guardrails repo whose candidates judge all three formats.
    fn new(workloads: &[(&str, Files)]) -> World {
        let dir = tempfile::tempdir().unwrap();
        let mut registry = String::from("[defaults]\ngrace_days = 30\n");
        for (name, fs) in workloads {
            commit_changes(&dir.path().join("workloads").join(name), "main", fs, "code").unwrap();
            registry.push_str(&format!(
                "\n[[workload]]\nname = \"{name}\"\nrepo = \"../workloads/{name}\"\nteam = \"t\"\n"
            ));
        }
        let bundled = |ids: &[&str]| -> Files {
            ids.iter()
                .flat_map(|id| common::sandbox::bundled(id))
                .map(|(p, c)| (p, Some(c.into_bytes())))
                .collect()
        };
        let repo = dir.path().join("repo");
        let mut base = bundled(&["lib"]);
        base.push(("workloads.toml".into(), Some(registry.into_bytes())));
        commit_changes(&repo, "main", &base, "initial").unwrap();
        create_branch(&repo, "develop", "main").unwrap();
        let candidates = bundled(&["aws-dynamodb-pitr", "k8s-image-tag-pinned", "aws-s3-versioning"]);
        commit_changes(&repo, "develop", &candidates, "candidates").unwrap();
        World { dir }
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    fn observe(&self, envs: &[(&str, &str)]) -> (Value, String) {
        let mut cmd = Command::new(BIN);
        cmd.args([
            "observe",
            "--format",
            "json",
            "--now",
            "2026-11-01",
            "--dry-run",
            "--jobs",
            "1",
        ])
        .arg("--repo")
        .arg(self.path("repo"))
        .arg("--cache-dir")
        .arg(self.path("cache"))
        .arg("--no-notify")
        .env_remove("RAILYARD_JOBS")
        .env_remove("RAILYARD_LEDGER_KEY")
        .env("RAILYARD_TEST_TODAY", "2026-12-31");
        for (k, v) in envs {
            cmd.env(k, v);
        }
        let out: Output = cmd.output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        let report = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{e}: {}{stderr}", String::from_utf8_lossy(&out.stdout)));
        (report, stderr)
    }

    fn entries(&self) -> Vec<PathBuf> {
        let mut v: Vec<PathBuf> = std::fs::read_dir(self.path("cache/parsed"))
            .map(|d| d.map(|e| e.unwrap().path()).collect())
            .unwrap_or_default();
        v.sort();
        v
    }

    /// Forgets the results (not the parses), so the next run parses every workload again.
    fn forget_results(&self) {
        std::fs::remove_dir_all(self.path("cache/results")).unwrap();
    }
}

/// (guardrail, resource, file, line) of every finding of `workload`, sorted.
fn findings(report: &Value, workload: &str) -> Vec<Found> {
    let mut v: Vec<Found> = report["to_fix"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["workload"] == workload)
        .map(|f| {
            (
                f["guardrail"].as_str().unwrap().to_string(),
                f["resource"].as_str().unwrap().to_string(),
                f["file"].as_str().unwrap().to_string(),
                f["line"].as_u64().unwrap(),
            )
        })
        .collect();
    v.sort();
    v
}

/// 1-based line of the first line of `text` containing `needle`.
fn line_of(text: &str, needle: &str) -> u64 {
    text.lines().position(|l| l.contains(needle)).unwrap() as u64 + 1
}

type Found = (String, String, String, u64);

fn found(guardrail: &str, resource: &str, file: &str, line: u64) -> Found {
    (guardrail.into(), resource.into(), file.into(), line)
}

/// The findings of the template, the manifest and the module (called from a root module and
/// read as a root of its own) at these paths, at line `module_line` of the module.
fn expected(template: (&str, &str), manifest: (&str, &str), module: &str, module_line: u64) -> Vec<Found> {
    let module_file = format!("{module}/main.tf");
    let mut v = vec![
        found(
            "aws-dynamodb-pitr",
            "AWS::DynamoDB::Table.JobStateTable",
            template.0,
            line_of(template.1, "Type: AWS::DynamoDB::Table") - 1,
        ),
        found(
            "k8s-image-tag-pinned",
            "Deployment.web.web-frontend",
            manifest.0,
            line_of(manifest.1, "apiVersion: apps/v1"),
        ),
        found("aws-s3-versioning", "aws_s3_bucket.logs", &module_file, module_line),
        found(
            "aws-s3-versioning",
            "module.store.aws_s3_bucket.logs",
            &module_file,
            module_line,
        ),
    ];
    v.sort();
    v
}

#[test]
fn a_module_shared_at_different_paths_is_parsed_once_and_keeps_each_paths_and_lines() {
    // `a` and `b` hold byte-identical code at different paths; `c` the same paths as `a`
    // with two lines more at the top of each file.
    let shifted = |t: &str| format!("# c\n# c\n{t}");
    let (template_c, manifest_c, module_c) = (shifted(TEMPLATE), shifted(MANIFEST), shifted(UNVERSIONED));
    let w = World::new(&[
        (
            "a",
            files(&[
                ("stacks/db.yaml", TEMPLATE),
                ("k8s/web.yaml", MANIFEST),
                ("envs/prod/main.tf", ROOT_TF),
                ("envs/modules/store/main.tf", UNVERSIONED),
            ]),
        ),
        (
            "b",
            files(&[
                ("deep/er/data.yaml", TEMPLATE),
                ("manifests/frontend.yaml", MANIFEST),
                ("live/main.tf", ROOT_TF),
                ("modules/store/main.tf", UNVERSIONED),
            ]),
        ),
        (
            "c",
            files(&[
                ("stacks/db.yaml", &template_c),
                ("k8s/web.yaml", &manifest_c),
                ("envs/prod/main.tf", ROOT_TF),
                ("envs/modules/store/main.tf", &module_c),
            ]),
        ),
    ]);
    let want_a = expected(
        ("stacks/db.yaml", TEMPLATE),
        ("k8s/web.yaml", MANIFEST),
        "envs/modules/store",
        1,
    );
    let want_b = expected(
        ("deep/er/data.yaml", TEMPLATE),
        ("manifests/frontend.yaml", MANIFEST),
        "modules/store",
        1,
    );
    let want_c = expected(
        ("stacks/db.yaml", &template_c),
        ("k8s/web.yaml", &manifest_c),
        "envs/modules/store",
        3,
    );

    let (cold, _) = w.observe(&[]);
    assert_eq!(findings(&cold, "a"), want_a);
    assert_eq!(findings(&cold, "b"), want_b);
    assert_eq!(findings(&cold, "c"), want_c);
    // The template and the manifest of `b` are `a`'s, at other paths: one entry each, and one
    // each for `c`'s. Terraform folders are keyed by path too (it is part of what they parse
    // to): `a`'s and `c`'s `envs/prod` share a key (their entry is `c`'s, valid while the
    // module it calls is `c`'s); `envs/modules/store` of `a` and `c` differ in content; `b`
    // has its own two.
    let paths: Vec<String> = w
        .entries()
        .iter()
        .map(|e| {
            let text = std::fs::read_to_string(e).unwrap();
            let body: Value = serde_json::from_str(text.split_once('\n').unwrap().1).unwrap();
            format!("{} {}", body["stored"]["path"], body["stored"]["deps"])
        })
        .collect();
    assert_eq!(paths.len(), 2 + 2 + 5, "{paths:#?}");

    // Every file now comes from the cache (`b`'s from the entries `a` wrote, re-pathed):
    // the same findings, at the same files and lines.
    w.forget_results();
    let (warm, _) = w.observe(&[]);
    assert_eq!(w.entries().len(), 9);
    for name in ["a", "b", "c"] {
        assert_eq!(findings(&warm, name), findings(&cold, name), "{name}");
    }
    assert_eq!(warm["to_fix"], cold["to_fix"]);
    assert_eq!(warm["workloads"], cold["workloads"]);
}

#[test]
fn a_root_folder_is_parsed_again_when_a_module_it_calls_changes() {
    let w = World::new(&[(
        "a",
        files(&[("live/main.tf", ROOT_TF), ("modules/store/main.tf", VERSIONED)]),
    )]);
    let (first, _) = w.observe(&[]);
    assert_eq!(findings(&first, "a"), vec![]);
    // Only the called module changes; the root folder's own files are byte-identical.
    commit_changes(
        &w.path("workloads/a"),
        "main",
        &files(&[("modules/store/main.tf", UNVERSIONED)]),
        "drop versioning",
    )
    .unwrap();
    let (second, _) = w.observe(&[]);
    assert_eq!(
        findings(&second, "a"),
        vec![
            found("aws-s3-versioning", "aws_s3_bucket.logs", "modules/store/main.tf", 1),
            found(
                "aws-s3-versioning",
                "module.store.aws_s3_bucket.logs",
                "modules/store/main.tf",
                1
            ),
        ]
    );
}

#[test]
fn a_tampered_parse_cache_entry_is_reported_and_parsed_again() {
    let w = World::new(&[("a", files(&[("stacks/db.yaml", TEMPLATE)]))]);
    let key = [("RAILYARD_LEDGER_KEY", KEY)];
    let (first, stderr) = w.observe(&key);
    let want = vec![found(
        "aws-dynamodb-pitr",
        "AWS::DynamoDB::Table.JobStateTable",
        "stacks/db.yaml",
        line_of(TEMPLATE, "Type: AWS::DynamoDB::Table") - 1,
    )];
    assert_eq!(findings(&first, "a"), want, "{stderr}");
    let entries = w.entries();
    assert_eq!(entries.len(), 1);
    let entry: &Path = &entries[0];

    // Someone without the key turns the table into something no guardrail judges.
    let text = std::fs::read_to_string(entry).unwrap();
    assert!(text.starts_with("railyard-parsed "), "{text}");
    let tampered = text.replace("AWS::DynamoDB::Table", "AWS::DynamoDB::Tablx");
    assert_ne!(tampered, text);
    std::fs::write(entry, &tampered).unwrap();
    w.forget_results();
    let (second, stderr) = w.observe(&key);
    assert!(
        stderr.contains("parse cache entry") && stderr.contains("fails verification with RAILYARD_LEDGER_KEY"),
        "{stderr}"
    );
    assert!(stderr.contains(&entry.display().to_string()), "{stderr}");
    assert_eq!(findings(&second, "a"), want);

    // Parsed again and rewritten with a valid seal: the next run trusts it silently.
    assert_eq!(std::fs::read_to_string(entry).unwrap(), text);
    w.forget_results();
    let (third, stderr) = w.observe(&key);
    assert!(!stderr.contains("parse cache entry"), "{stderr}");
    assert_eq!(findings(&third, "a"), want);

    // An entry written without the key is not trusted by a run with it either.
    w.forget_results();
    std::fs::remove_dir_all(w.path("cache/parsed")).unwrap();
    w.observe(&[]);
    w.forget_results();
    let (fourth, stderr) = w.observe(&key);
    assert!(stderr.contains("fails verification"), "{stderr}");
    assert_eq!(findings(&fourth, "a"), want);
}

#[test]
fn a_cached_parse_error_names_each_copys_own_file() {
    let broken = "apiVersion: v1\nkind: Service\nmetadata:\n  name: [unclosed\n";
    let w = World::new(&[
        ("a", files(&[("k8s/svc.yaml", broken)])),
        ("b", files(&[("elsewhere/deeper/broken.yaml", broken)])),
    ]);
    let problems = |report: &Value, i: usize| -> Vec<String> {
        report["workloads"][i]["problems"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p.as_str().unwrap().to_string())
            .collect()
    };
    let (cold, _) = w.observe(&[]);
    let (a, b) = (problems(&cold, 0), problems(&cold, 1));
    assert!(a.len() == 1 && a[0].starts_with("k8s/svc.yaml:5: "), "{a:?}");
    assert!(
        b.len() == 1 && b[0].starts_with("elsewhere/deeper/broken.yaml:5: "),
        "{b:?}"
    );
    assert_eq!(w.entries().len(), 1);
    // From the cache (`b`'s error from `a`'s entry): the same problems, each at its own file.
    w.forget_results();
    let (warm, _) = w.observe(&[]);
    assert_eq!(problems(&warm, 0), a);
    assert_eq!(problems(&warm, 1), b);
}
