//! `generate --sources`: a fleet copied from real repositories, one file changed per workload.

use railyard::git::read_tree;
use railyard::ReadLimits;
use std::path::Path;
use std::process::Command;

fn tip(repo: &Path, branch: &str) -> String {
    let out = Command::new("git")
        .arg("-C")
        .arg(repo)
        .args(["rev-parse", branch])
        .output()
        .expect("git runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

fn files_of(repo: &Path) -> Vec<(String, Vec<u8>)> {
    let limits = ReadLimits {
        max_file_bytes: u64::MAX,
        max_total_bytes: u64::MAX,
        code_only: None,
    };
    let (files, skipped) = read_tree(repo, &tip(repo, "main"), &[], limits).unwrap();
    assert!(skipped.is_empty(), "{skipped:?}");
    files.into_iter().map(|f| (f.path, f.bytes)).collect()
}

#[test]
fn copies_sources_round_robin_with_one_file_changed_each() {
    let tmp = tempfile::tempdir().unwrap();
    let tf = tmp.path().join("tf-module");
    let k8s = tmp.path().join("manifests");
    std::fs::create_dir_all(tf.join("modules/db")).unwrap();
    std::fs::create_dir_all(tf.join(".git/objects")).unwrap();
    std::fs::write(tf.join(".git/HEAD"), "ref: refs/heads/main\n").unwrap();
    std::fs::write(tf.join("main.tf"), "module \"db\" {\n  source = \"./modules/db\"\n}").unwrap();
    std::fs::write(tf.join("modules/db/main.tf"), "resource \"aws_db_instance\" \"x\" {}\n").unwrap();
    std::fs::write(tf.join("README.md"), "# a module\n").unwrap();
    std::fs::create_dir_all(&k8s).unwrap();
    std::fs::write(
        k8s.join("app.yaml"),
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: a\n",
    )
    .unwrap();
    let out = tmp.path().join("fleet");
    let guardrails = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../guardrails");
    railyard_fleet::fleet::generate_real(&out, 5, 42, &[tf.clone(), k8s.clone()], &guardrails).unwrap();

    let source_tf: Vec<(String, Vec<u8>)> = vec![
        ("README.md".into(), b"# a module\n".to_vec()),
        ("main.tf".into(), std::fs::read(tf.join("main.tf")).unwrap()),
        (
            "modules/db/main.tf".into(),
            std::fs::read(tf.join("modules/db/main.tf")).unwrap(),
        ),
    ];
    for i in 0..5 {
        let name = format!("svc-{i:04}");
        let files = files_of(&out.join("workloads").join(&name));
        let source: Vec<(String, Vec<u8>)> = match i % 2 {
            0 => source_tf.clone(),
            _ => vec![("app.yaml".into(), std::fs::read(k8s.join("app.yaml")).unwrap())],
        };
        // Same paths as the source (no `.git`), exactly one file different: the source's
        // bytes (a newline added when missing) and a comment naming the workload.
        let paths: Vec<&String> = files.iter().map(|(p, _)| p).collect();
        assert_eq!(paths, source.iter().map(|(p, _)| p).collect::<Vec<_>>(), "{name}");
        let changed: Vec<_> = files.iter().zip(&source).filter(|(a, b)| a.1 != b.1).collect();
        assert_eq!(changed.len(), 1, "{name}: {changed:?}");
        let ((path, now), (_, before)) = changed[0];
        assert!(path.ends_with(".tf") || path.ends_with(".yaml"), "{path}");
        let text = String::from_utf8(now.clone()).unwrap();
        let mut original = String::from_utf8(before.clone()).unwrap();
        if !original.ends_with('\n') {
            original.push('\n');
        }
        assert_eq!(
            text,
            format!(
                "{original}# {name}: copied from {} by railyard-fleet\n",
                ["tf-module", "manifests"][i % 2]
            )
        );
    }

    // The registry lists every workload; develop holds the library, main its helpers.
    let guardrails_repo = out.join("guardrails");
    let registry = Command::new("git")
        .arg("-C")
        .arg(&guardrails_repo)
        .args(["show", "main:workloads.toml"])
        .output()
        .unwrap();
    let registry = String::from_utf8(registry.stdout).unwrap();
    let specs = railyard::parse_registry("workloads.toml", &registry).unwrap();
    assert_eq!(specs.workloads.len(), 5);
    assert_eq!(specs.workloads[3].repo, "../workloads/svc-0003");
    assert_ne!(tip(&guardrails_repo, "develop"), tip(&guardrails_repo, "main"));

    // A folder without code to change is refused, naming it.
    let empty = tmp.path().join("docs-only");
    std::fs::create_dir_all(&empty).unwrap();
    std::fs::write(empty.join("README.md"), "x").unwrap();
    let err = railyard_fleet::fleet::generate_real(&tmp.path().join("f2"), 2, 1, &[empty], &guardrails).unwrap_err();
    assert!(err.to_string().contains("docs-only"), "{err}");
}
