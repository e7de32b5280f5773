//! `railyard init`, `completions` and `man`: from nothing to a first observation with the
//! commands a new user types, on real git repositories.

use crate::common::{commit_files, init_repo, railyard, temp, write};
use git2::Repository;

const VERSIONED_BUCKET: &str = r#"resource "aws_s3_bucket" "media" {
  bucket = "acme-media"
  versioning {
    enabled = true
  }
}
"#;

/// What a user does with an editor and `git commit -a`: the work tree's file, committed on the
/// checked-out branch.
fn edit_and_commit(repo: &Repository, rel: &str, append: &str) {
    let path = repo.workdir().unwrap().join(rel);
    let mut text = std::fs::read_to_string(&path).unwrap();
    text.push_str(append);
    std::fs::write(&path, text).unwrap();
    let mut index = repo.index().unwrap();
    index.add_path(std::path::Path::new(rel)).unwrap();
    index.write().unwrap();
    let tree = repo.find_tree(index.write_tree().unwrap()).unwrap();
    let sig = git2::Signature::now("User", "user@example.com").unwrap();
    let head = repo.head().unwrap().peel_to_commit().unwrap();
    repo.commit(Some("HEAD"), &sig, &sig, "register a workload", &tree, &[&head])
        .unwrap();
}

#[test]
fn init_then_observe_promotes_the_example_guardrail() {
    let t = temp();
    let run = railyard(t.path(), &["init", "guardrails-repo"]);
    run.expect_code(0);
    assert!(
        run.stdout.contains("railyard observe --repo guardrails-repo"),
        "{}",
        run.stdout
    );

    let g = Repository::open(t.path().join("guardrails-repo")).unwrap();
    assert_eq!(
        g.head().unwrap().shorthand().ok(),
        Some("develop"),
        "the work tree is develop"
    );
    let tree_of = |branch: &str| {
        g.find_branch(branch, git2::BranchType::Local)
            .unwrap()
            .get()
            .peel_to_tree()
            .unwrap()
    };
    let (main, develop) = (tree_of("main"), tree_of("develop"));
    for file in [
        "workloads.toml",
        "guardrails/lib/core.rego",
        ".github/workflows/railyard.yml",
        ".gitlab-ci.yml",
    ] {
        assert!(main.get_path(std::path::Path::new(file)).is_ok(), "{file} on main");
    }
    let example = std::path::Path::new("guardrails/aws-s3-versioning/policy.rego");
    assert!(main.get_path(example).is_err(), "main starts with no guardrail");
    assert!(develop.get_path(example).is_ok(), "develop has the example candidate");
    let status = g.statuses(None).unwrap();
    assert!(status.is_empty(), "everything is committed");

    // The example guardrail's fixtures pass.
    let test = railyard(t.path(), &["test", "guardrails-repo/guardrails"]);
    test.expect_code(0);
    assert!(test.stdout.contains("42 passed, 0 failed"), "{}", test.stdout);

    // The user registers a workload of their own and observes.
    let app = init_repo(&t.path().join("app"));
    commit_files(
        &app,
        "main",
        None,
        &[("main.tf", Some(VERSIONED_BUCKET.as_bytes()))],
        "infra",
    );
    edit_and_commit(
        &g,
        "workloads.toml",
        "\n[[workload]]\nname = \"app\"\nrepo = \"../app\"\nteam = \"platform\"\n",
    );
    let observe = railyard(t.path(), &["observe", "--repo", "guardrails-repo"]);
    observe.expect_code(0);
    assert!(observe.stdout.contains("aws-s3-versioning"), "{}", observe.stdout);
    assert!(observe.stdout.contains("promoted ("), "{}", observe.stdout);
    assert!(
        tree_of("main").get_path(example).is_ok(),
        "the candidate broke nobody: now on main"
    );
}

#[test]
fn init_refuses_a_folder_that_is_not_empty() {
    let t = temp();
    write(t.path(), "existing/notes.txt", "mine");
    let run = railyard(t.path(), &["init", "existing"]);
    run.expect_code(2);
    assert!(run.stderr.contains("`existing` is not empty"), "{}", run.stderr);
    assert_eq!(
        std::fs::read_to_string(t.path().join("existing/notes.txt")).unwrap(),
        "mine"
    );
    assert!(!t.path().join("existing/.git").exists(), "nothing was created");
    assert!(
        !t.path().join("existing/workloads.toml").exists(),
        "nothing was created"
    );

    // A file where the folder should be.
    write(t.path(), "afile", "x");
    let run = railyard(t.path(), &["init", "afile"]);
    run.expect_code(2);
    assert!(run.stderr.contains("`afile` is not a folder"), "{}", run.stderr);
}

#[test]
fn init_refuses_a_format() {
    let t = temp();
    let run = railyard(t.path(), &["init", "g", "--format", "json"]);
    run.expect_code(2);
    assert!(run.stderr.contains("unexpected argument '--format'"), "{}", run.stderr);
    assert!(!t.path().join("g").exists(), "nothing was created");
}

#[test]
fn completions_for_each_shell_name_the_subcommands() {
    let t = temp();
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let run = railyard(t.path(), &["completions", shell]);
        run.expect_code(0);
        for word in ["observe", "enforce", "init", "guardrails"] {
            assert!(run.stdout.contains(word), "{shell} completion lacks {word}");
        }
    }
    // Loaded into a real bash, the script completes a subcommand and a flag's values.
    let script = railyard(t.path(), &["completions", "bash"]).stdout;
    write(t.path(), "railyard.bash", script);
    let bash = std::process::Command::new("bash")
        .current_dir(t.path())
        .args([
            "-c",
            r#"source railyard.bash
COMP_WORDS=(railyard ob); COMP_CWORD=1; _railyard railyard ob railyard; echo "${COMPREPLY[*]}"
COMP_WORDS=(railyard check --fail-on ""); COMP_CWORD=3; _railyard railyard "" --fail-on; echo "${COMPREPLY[*]}""#,
        ])
        .output()
        .expect("run bash");
    assert_eq!(
        String::from_utf8_lossy(&bash.stdout),
        "observe\nlow medium high critical\n"
    );

    let bad = railyard(t.path(), &["completions", "tcsh"]);
    bad.expect_code(2);
    assert!(bad.stderr.contains("tcsh"), "{}", bad.stderr);
}

#[test]
fn man_prints_a_page_or_writes_one_per_command() {
    let t = temp();
    let run = railyard(t.path(), &["man"]);
    run.expect_code(0);
    assert!(
        run.stdout.starts_with(".ie") || run.stdout.contains(".TH railyard 1"),
        "{}",
        &run.stdout[..200.min(run.stdout.len())]
    );
    assert!(run.stdout.contains("observe"), "lists the subcommands");

    let run = railyard(t.path(), &["man", "--dir", "man"]);
    run.expect_code(0);
    for page in [
        "railyard.1",
        "railyard-check.1",
        "railyard-observe.1",
        "railyard-init.1",
    ] {
        let text = std::fs::read_to_string(t.path().join("man").join(page)).unwrap_or_else(|e| panic!("{page}: {e}"));
        assert!(text.contains(".TH"), "{page} is a man page");
    }
    let check = std::fs::read_to_string(t.path().join("man/railyard-check.1")).unwrap();
    assert!(check.contains("fail\\-on"), "the check page documents its options");
}
