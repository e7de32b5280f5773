//! Issue 11 item 5: one git tree walker and one credential callback, shown through the real
//! binary on real repositories and a real HTTP server on 127.0.0.1.

use crate::common::sandbox::{bundled, main_and_develop, two_workloads, Root, Sandbox};
use crate::common::{self, railyard, railyard_env, REGISTRY, UNVERSIONED_TF};
use git2::{Oid, Repository};
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::os::unix::ffi::OsStrExt;
use std::sync::{Arc, Mutex};

/// Commits, on `branch`, a blob named by raw bytes `name` (not UTF-8 if need be) in the
/// folder `dirs`, which must exist: a name no `&str` helper can write.
fn commit_raw_name(repo: &Repository, branch: &str, dirs: &[&str], name: &[u8], content: &str) {
    fn put(repo: &Repository, tree: &git2::Tree, dirs: &[&str], name: &[u8], blob: Oid) -> Oid {
        let mut b = repo.treebuilder(Some(tree)).unwrap();
        match dirs.split_first() {
            None => b.insert(std::ffi::OsStr::from_bytes(name), blob, 0o100644).unwrap(),
            Some((first, rest)) => {
                let sub = repo
                    .find_tree(tree.get_name(first).expect("folder exists").id())
                    .unwrap();
                let id = put(repo, &sub, rest, name, blob);
                b.insert(first, id, 0o040000).unwrap()
            }
        };
        b.write().unwrap()
    }
    let parent = repo
        .find_reference(&format!("refs/heads/{branch}"))
        .unwrap()
        .peel_to_commit()
        .unwrap();
    let blob = repo.blob(content.as_bytes()).unwrap();
    let tree = repo
        .find_tree(put(repo, &parent.tree().unwrap(), dirs, name, blob))
        .unwrap();
    let sig = git2::Signature::now("t", "t@example.com").unwrap();
    repo.commit(
        Some(&format!("refs/heads/{branch}")),
        &sig,
        &sig,
        "raw name",
        &tree,
        &[&parent],
    )
    .unwrap();
}

/// A candidate whose *pass* fixture holds a violation under a name that is not UTF-8. Read
/// from disk (`railyard test`), the file is read and the fixture fails; the guardrails repo's
/// old tree walker dropped the name silently, so the same candidate read from git had passing
/// fixtures and was observed (and could be promoted) as if the file were not there.
#[test]
fn a_guardrail_file_with_a_non_utf8_name_is_an_error_not_dropped() {
    let sb = Sandbox { dir: common::temp() };
    two_workloads(sb.dir.path(), ["payments", "web"]);
    let mut base = bundled("lib");
    base.push(("workloads.toml".into(), REGISTRY.into()));
    let g = sb.repo("guardrails");
    main_and_develop(&g, &base, &bundled("aws-s3-versioning"), "candidate");
    commit_raw_name(
        &g,
        "develop",
        &["guardrails", "aws-s3-versioning", "tests", "pass"],
        b"bucket-\xff.tf",
        UNVERSIONED_TF,
    );
    let repo = sb.path("guardrails").to_string_lossy().into_owned();

    let run = railyard(
        sb.dir.path(),
        &["observe", "--repo", &repo, "--now", "2026-10-01", "--format", "json"],
    );
    run.expect_code(2);
    assert!(
        run.stderr
            .contains("guardrails/aws-s3-versioning/tests/pass/bucket-\u{fffd}.tf"),
        "the file is named: {}",
        run.stderr
    );
    assert!(run.stderr.contains("not valid UTF-8"), "{}", run.stderr);
    assert!(run.stdout.trim().is_empty(), "no result: {}", run.stdout);

    // The same through `check --guardrails REPO@develop`.
    let run = railyard(
        sb.dir.path(),
        &["check", "--guardrails", &format!("{repo}@develop"), "web"],
    );
    run.expect_code(2);
    assert!(run.stderr.contains("bucket-\u{fffd}.tf"), "{}", run.stderr);
}

/// A git server on 127.0.0.1 that answers every request with `401` (Basic), recording the
/// `Authorization` headers it was sent. Returns its base URL.
fn unauthorised_server() -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let record = seen.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut line = String::new();
            while reader.read_line(&mut line).is_ok_and(|n| n > 0) {
                if line == "\r\n" {
                    break;
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("authorization:") {
                    record.lock().unwrap().push(v.trim().to_string());
                }
                line.clear();
            }
            let _ = stream.write_all(
                b"HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"git\"\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            );
        }
    });
    (url, seen)
}

/// The guardrails repo and workloads share one credential callback, the one with actionable
/// errors: no token says which variable to set; a rejected token says so, once (no retry
/// loop), and never shows it. (The guardrails repo's old callback fell back to
/// `Cred::default()`, which ends in libgit2's bare "authentication required".)
#[test]
fn a_remote_guardrails_repo_that_wants_credentials_says_which_variable() {
    let dir = common::temp();
    let (url, seen) = unauthorised_server();
    let repo = format!("{url}/org/guardrails.git");

    let run = railyard(dir.path(), &["observe", "--repo", &repo, "--now", "2026-10-01"]);
    run.expect_code(2);
    assert!(
        run.stderr
            .contains("authentication required and $RAILYARD_GIT_TOKEN is not set"),
        "{}",
        run.stderr
    );
    assert!(seen.lock().unwrap().is_empty(), "nothing was sent without a token");

    let token = "ghp_wrong_token_4711";
    let run = railyard_env(
        dir.path(),
        &[
            "observe",
            "--repo",
            &repo,
            "--repo-token-env",
            "GUARDS_TOKEN",
            "--now",
            "2026-10-01",
        ],
        &[("GUARDS_TOKEN", token)],
    );
    run.expect_code(2);
    assert!(
        run.stderr
            .contains("authentication failed with the token in $GUARDS_TOKEN"),
        "{}",
        run.stderr
    );
    assert!(!run.all().contains(token), "the token is never printed: {}", run.all());
    let sent = seen.lock().unwrap().clone();
    assert_eq!(sent.len(), 1, "one attempt with the token: {sent:?}");
    assert!(sent[0].starts_with("basic "), "{sent:?}");
}
