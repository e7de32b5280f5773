//! The workload registry (`workloads.toml`) and the clone cache, against real git repositories
//! made in temporary directories (no network).

use git2::{Commit, IndexAddOption, Oid, Repository, RepositoryInitOptions, Signature};
use railyard::git::{read_tree, redact, Cache, FetchError};
use railyard::ReadLimits;
use railyard::{parse_registry as parse, WorkloadSpec};
use std::path::Path;

const FULL: &str = r#"[defaults]
grace_days = 45

[[workload]]
name = "payments-api"
repo = "https://git.example.com/payments/api.git"
ref = "main"
paths = ["infra"]
team = "payments"
owners = ["bob@example.com"]

[[workload]]
name = "search"
repo = "git@github.com:acme/search.git"
team = "search"
token_env = "SEARCH_TOKEN"

[team.payments]
owners = ["alice@example.com"]
webhook_env = "PAYMENTS_WEBHOOK_URL"
token_env = "PAYMENTS_GIT_TOKEN"
slack_webhook_env = "PAYMENTS_SLACK"
reminder_days = [14, 7, 1]

[team.search]
owners = ["carol@example.com"]
"#;

#[test]
fn parses_a_full_registry() {
    let reg = parse("workloads.toml", FULL).unwrap();
    assert_eq!(reg.defaults.grace_days, 45);
    assert_eq!(reg.workloads.len(), 2);
    let p = &reg.workloads[0];
    assert_eq!(p.name, "payments-api");
    assert_eq!(p.r#ref.as_deref(), Some("main"));
    assert_eq!(p.paths, vec!["infra".to_string()]);
    assert_eq!(p.owners, vec!["bob@example.com".to_string()]);
    assert_eq!(p.token_env.as_deref(), Some("PAYMENTS_GIT_TOKEN"));
    assert_eq!(p.line, 4);
    let s = &reg.workloads[1];
    assert_eq!(s.r#ref, None);
    assert_eq!(s.ref_or_head(), "HEAD");
    assert_eq!(s.token_env.as_deref(), Some("SEARCH_TOKEN"));
    assert_eq!(s.line, 12);
    let team = reg.team("payments").unwrap();
    assert_eq!(team.webhook_env.as_deref(), Some("PAYMENTS_WEBHOOK_URL"));
    assert_eq!(team.slack_webhook_env.as_deref(), Some("PAYMENTS_SLACK"));
    assert_eq!(team.reminder_days, vec![14, 7, 1]);
    assert!(reg.team("nobody").is_none());
}

/// Parses `text` expecting exactly one error; returns (line, message).
fn one_error(text: &str) -> (usize, String) {
    let errs = parse("workloads.toml", text).unwrap_err();
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert_eq!(errs[0].file, "workloads.toml");
    (errs[0].line, errs[0].message.clone())
}

#[test]
fn validation_errors_carry_their_line() {
    let (line, msg) = one_error(&FULL.replace("owners = [\"bob", "ownrs = [\"bob"));
    assert_eq!(line, 10);
    assert!(msg.contains("ownrs"), "{msg}");

    let (line, msg) = one_error(&FULL.replace("name = \"search\"", "name = \"payments-api\""));
    assert_eq!(line, 12, "the duplicate's [[workload]] line");
    assert!(msg.contains("declared twice") && msg.contains("line 4"), "{msg}");

    let (line, msg) = one_error(&FULL.replace("name = \"search\"", "name = \"search api\""));
    assert_eq!(line, 13);
    assert!(msg.contains("search api"), "{msg}");

    let (line, msg) = one_error(&FULL.replace("team = \"search\"", "team = \"serach\""));
    assert_eq!(line, 15);
    assert!(msg.contains("serach") && msg.contains("[team.serach]"), "{msg}");

    let (line, msg) = one_error(&FULL.replace("git@github.com:acme/search.git", ""));
    assert_eq!(line, 14);
    assert!(msg.contains("empty"), "{msg}");

    let (line, msg) = one_error(&FULL.replace("git@github.com:acme/search.git", "ftp://example.com/search"));
    assert_eq!(line, 14);
    assert!(msg.contains("ftp://"), "{msg}");

    let (line, msg) = one_error(&FULL.replace("https://git.example.com", "https://bob:ghp_s3cret@git.example.com"));
    assert_eq!(line, 6);
    assert!(msg.contains("token_env"), "{msg}");
    assert!(!msg.contains("ghp_s3cret"), "{msg}");

    let (line, msg) = one_error(&FULL.replace("\"PAYMENTS_WEBHOOK_URL\"", "\"https://hooks.example.com/T000/B000\""));
    assert_eq!(line, 20);
    assert!(msg.contains("NAME"), "{msg}");

    let (line, msg) = one_error(&FULL.replace("grace_days = 45", "grace_days = -1"));
    assert_eq!(line, 2);
    assert!(msg.contains("grace_days"), "{msg}");
    let (line, _) = one_error(&FULL.replace("grace_days = 45", "grace_days = 100000"));
    assert_eq!(line, 2);

    let (line, msg) = one_error(&FULL.replace("ref = \"main\"", "ref = \"main:refs/x\""));
    assert_eq!(line, 7);
    assert!(msg.contains("ref"), "{msg}");

    let (line, _) = one_error(&FULL.replace("paths = [\"infra\"]", "paths = [\"../x\"]"));
    assert_eq!(line, 8);
}

#[test]
fn several_errors_are_all_reported_in_line_order() {
    let text = FULL
        .replace("team = \"search\"", "team = \"nope\"")
        .replace("https://git.example.com", "gopher://git.example.com");
    let errs = parse("workloads.toml", &text).unwrap_err();
    let lines: Vec<usize> = errs.iter().map(|e| e.line).collect();
    assert_eq!(lines, vec![6, 15]);
}

// --- git fixtures -------------------------------------------------------------------------

fn init(path: &Path) -> Repository {
    let mut opts = RepositoryInitOptions::new();
    opts.initial_head("main");
    Repository::init_opts(path, &opts).unwrap()
}

fn write(repo: &Repository, rel: &str, text: &str) {
    let path = repo.workdir().unwrap().join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

fn commit_all(repo: &Repository, message: &str) -> Oid {
    let mut index = repo.index().unwrap();
    index
        .add_all(["*"], IndexAddOption::DEFAULT | IndexAddOption::FORCE, None)
        .unwrap();
    index.write().unwrap();
    let tree = repo.find_tree(index.write_tree().unwrap()).unwrap();
    let sig = Signature::now("Test", "test@example.com").unwrap();
    let parent = repo.head().ok().and_then(|h| h.peel_to_commit().ok());
    let parents: Vec<&Commit> = parent.iter().collect();
    repo.commit(Some("HEAD"), &sig, &sig, message, &tree, &parents).unwrap()
}

/// A workload repo: `infra/main.tf`, `infra/.terraform/x.tf`, `app/app.py`, `README.md`.
fn workload_repo(path: &Path) -> (Repository, Oid) {
    let repo = init(path);
    write(&repo, "infra/main.tf", "resource \"aws_s3_bucket\" \"b\" {}\n");
    write(&repo, "infra/modules/net/net.tf", "# net\n");
    write(&repo, "infra/.terraform/cached.tf", "# provider cache\n");
    write(&repo, "app/app.py", "print('hi')\n");
    write(&repo, "README.md", "# workload\n");
    let oid = commit_all(&repo, "first");
    (repo, oid)
}

fn spec(name: &str, repo: &str, r#ref: Option<&str>) -> WorkloadSpec {
    WorkloadSpec {
        name: name.into(),
        repo: repo.into(),
        r#ref: r#ref.map(Into::into),
        team: "payments".into(),
        ..WorkloadSpec::default()
    }
}

fn paths_of(files: &[railyard::SourceFile]) -> Vec<&str> {
    files.iter().map(|f| f.path.as_str()).collect()
}

#[test]
fn fetches_a_relative_local_path_and_reads_the_tree() {
    let tmp = tempfile::tempdir().unwrap();
    let (_repo, first) = workload_repo(&tmp.path().join("apps/payments"));
    let cache = Cache::new(tmp.path().join("cache"));

    let fetched = cache
        .fetch(&spec("payments-api", "apps/payments", None), tmp.path())
        .unwrap();
    assert_eq!(fetched.commit, first.to_string());
    assert!(fetched.repo_path.starts_with(tmp.path().join("cache")));
    assert!(Repository::open_bare(&fetched.repo_path).unwrap().is_bare());
    let name = fetched.repo_path.file_name().unwrap().to_string_lossy();
    assert!(name.starts_with("payments-api-"), "{name}");

    let (files, skipped) = read_tree(&fetched.repo_path, &fetched.commit, &[], ReadLimits::default()).unwrap();
    assert_eq!(
        paths_of(&files),
        vec!["README.md", "app/app.py", "infra/main.tf", "infra/modules/net/net.tf"]
    );
    assert!(skipped.is_empty(), "{skipped:?}");
    assert_eq!(files[2].bytes, b"resource \"aws_s3_bucket\" \"b\" {}\n");
}

#[test]
fn fetches_file_urls_branches_tags_and_commit_ids() {
    let tmp = tempfile::tempdir().unwrap();
    let (repo, first) = workload_repo(&tmp.path().join("w"));
    repo.tag_lightweight("v1", &repo.find_object(first, None).unwrap(), false)
        .unwrap();
    let sig = Signature::now("Test", "test@example.com").unwrap();
    repo.tag(
        "v1-annotated",
        &repo.find_object(first, None).unwrap(),
        &sig,
        "release",
        false,
    )
    .unwrap();
    write(&repo, "infra/main.tf", "# changed\n");
    let second = commit_all(&repo, "second");
    let url = format!("file://{}", tmp.path().join("w").display());
    let cache = Cache::new(tmp.path().join("cache"));
    let base = Path::new("/nonexistent");

    for (r, want) in [
        (Some("main"), second),
        (Some("HEAD"), second),
        (None, second),
        (Some("refs/heads/main"), second),
        (Some("v1"), first),
        (Some("v1-annotated"), first),
    ] {
        let fetched = cache.fetch(&spec("w", &url, r), base).unwrap();
        assert_eq!(fetched.commit, want.to_string(), "ref {r:?}");
        let commit = repo.find_commit(want).unwrap();
        assert_eq!(fetched.tree, commit.tree_id().to_string());
    }

    // A full commit id, already cached or not.
    let fetched = cache.fetch(&spec("w", &url, Some(&second.to_string())), base).unwrap();
    assert_eq!(fetched.commit, second.to_string());
    let fresh = Cache::new(tmp.path().join("cache2"));
    let fetched = fresh.fetch(&spec("w", &url, Some(&first.to_string())), base).unwrap();
    assert_eq!(fetched.commit, first.to_string());
}

#[test]
fn second_fetch_reuses_the_cache_and_sees_new_commits() {
    let tmp = tempfile::tempdir().unwrap();
    let (repo, first) = workload_repo(&tmp.path().join("w"));
    let cache = Cache::new(tmp.path().join("cache"));
    let s = spec("w", "w", Some("main"));

    let a = cache.fetch(&s, tmp.path()).unwrap();
    assert_eq!(a.commit, first.to_string());
    // A marker in the cached repo survives: the second run fetches, it does not re-clone.
    Repository::open_bare(&a.repo_path)
        .unwrap()
        .reference("refs/test/marker", first, false, "marker")
        .unwrap();

    write(&repo, "infra/new.tf", "# new\n");
    let second = commit_all(&repo, "second");
    let b = cache.fetch(&s, tmp.path()).unwrap();
    assert_eq!(b.repo_path, a.repo_path);
    assert_eq!(b.commit, second.to_string());
    let cached = Repository::open_bare(&b.repo_path).unwrap();
    assert!(cached.find_reference("refs/test/marker").is_ok());
    assert_eq!(
        cached.find_reference("refs/railyard/main").unwrap().target().unwrap(),
        second
    );
    assert_eq!(std::fs::read_dir(cache.dir()).unwrap().count(), 1);

    // Another URL for the same workload name gets its own clone.
    let (_other, _) = workload_repo(&tmp.path().join("w2"));
    let c = cache.fetch(&spec("w", "w2", Some("main")), tmp.path()).unwrap();
    assert_ne!(c.repo_path, a.repo_path);
}

#[test]
fn paths_filter_skipped_dirs_and_missing_paths() {
    let tmp = tempfile::tempdir().unwrap();
    workload_repo(&tmp.path().join("w"));
    let cache = Cache::new(tmp.path().join("cache"));
    let f = cache.fetch(&spec("w", "w", None), tmp.path()).unwrap();

    let (files, _) = read_tree(
        &f.repo_path,
        &f.commit,
        &["infra".into(), "infra/modules/".into(), "README.md".into()],
        ReadLimits::default(),
    )
    .unwrap();
    assert_eq!(
        paths_of(&files),
        vec!["README.md", "infra/main.tf", "infra/modules/net/net.tf"]
    );

    let err = read_tree(&f.repo_path, &f.commit, &["deploy".into()], ReadLimits::default()).unwrap_err();
    assert!(matches!(err, FetchError::Read { .. }));
    assert!(err.to_string().contains("`deploy` does not exist"), "{err}");
}

#[cfg(unix)]
#[test]
fn symlinks_are_skipped_and_limits_honoured() {
    let tmp = tempfile::tempdir().unwrap();
    let (repo, _) = workload_repo(&tmp.path().join("w"));
    std::os::unix::fs::symlink("/etc/passwd", tmp.path().join("w/infra/passwd.tf")).unwrap();
    write(&repo, "infra/big.tf", &"#".repeat(5000));
    commit_all(&repo, "link");
    let cache = Cache::new(tmp.path().join("cache"));
    let f = cache.fetch(&spec("w", "w", None), tmp.path()).unwrap();

    let limits = ReadLimits {
        max_file_bytes: 1000,
        max_total_bytes: 1_000_000,
        ..ReadLimits::default()
    };
    let (files, skipped) = read_tree(&f.repo_path, &f.commit, &["infra".into()], limits).unwrap();
    assert_eq!(paths_of(&files), vec!["infra/main.tf", "infra/modules/net/net.tf"]);
    let reasons: Vec<(&str, &str)> = skipped.iter().map(|s| (s.path.as_str(), s.reason.as_str())).collect();
    assert_eq!(reasons.len(), 2, "{reasons:?}");
    assert!(reasons
        .iter()
        .any(|(p, r)| *p == "infra/passwd.tf" && r.contains("symbolic link")));
    assert!(reasons
        .iter()
        .any(|(p, r)| *p == "infra/big.tf" && r.contains("too large")));

    let tight = ReadLimits {
        max_file_bytes: 10_000,
        max_total_bytes: 40,
        ..ReadLimits::default()
    };
    let (files, skipped) = read_tree(&f.repo_path, &f.commit, &[], tight).unwrap();
    assert!(files.iter().map(|f| f.bytes.len()).sum::<usize>() <= 40);
    assert!(skipped.iter().any(|s| s.reason.contains("limit")));
}

#[test]
fn unknown_ref_names_workload_repo_and_ref() {
    let tmp = tempfile::tempdir().unwrap();
    workload_repo(&tmp.path().join("w"));
    let cache = Cache::new(tmp.path().join("cache"));
    let err = cache
        .fetch(&spec("payments-api", "w", Some("release/9")), tmp.path())
        .unwrap_err();
    assert!(matches!(err, FetchError::UnknownRef { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(msg.contains("payments-api"), "{msg}");
    assert!(msg.contains("release/9"), "{msg}");
    assert!(msg.contains(&tmp.path().join("w").display().to_string()), "{msg}");

    let missing = "0123456789abcdef0123456789abcdef01234567";
    let err = cache
        .fetch(&spec("payments-api", "w", Some(missing)), tmp.path())
        .unwrap_err();
    assert!(err.to_string().contains(missing), "{err}");
}

#[test]
fn unreachable_repositories_are_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let cache = Cache::new(tmp.path().join("cache"));
    let err = cache
        .fetch(&spec("ghost", "does/not/exist", Some("main")), tmp.path())
        .unwrap_err();
    assert!(matches!(err, FetchError::Unreachable { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(msg.contains("ghost") && msg.contains("does/not/exist") && msg.contains("main"));

    // A directory that is not a git repository.
    std::fs::create_dir_all(tmp.path().join("plain")).unwrap();
    let err = cache.fetch(&spec("plain", "plain", None), tmp.path()).unwrap_err();
    assert!(matches!(err, FetchError::Unreachable { .. }), "{err:?}");

    // An empty repository has no default branch.
    init(&tmp.path().join("empty"));
    let err = cache.fetch(&spec("empty", "empty", None), tmp.path()).unwrap_err();
    assert!(err.to_string().contains("HEAD"), "{err}");
}

#[test]
fn credentials_never_appear_in_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let cache = Cache::new(tmp.path().join("cache"));
    // Port 1 on the loopback refuses at once: no network is involved.
    let mut s = spec(
        "payments-api",
        "https://bob:ghp_s3cret@127.0.0.1:1/payments/api.git",
        Some("main"),
    );
    s.token_env = Some("RAILYARD_TEST_TOKEN_UNSET".into());
    let err = cache.fetch(&s, tmp.path()).unwrap_err();
    let msg = err.to_string();
    assert!(!msg.contains("ghp_s3cret"), "{msg}");
    assert!(!msg.contains("bob:"), "{msg}");
    assert!(msg.contains("https://***@127.0.0.1:1/payments/api.git"), "{msg}");
    assert!(msg.contains("payments-api") && msg.contains("main"), "{msg}");
    assert_eq!(
        redact("could not read https://x-access-token:abc@h/r.git"),
        "could not read https://***@h/r.git"
    );
}

#[test]
fn a_commit_no_ref_advertises_is_fetched_or_reported_cleanly() {
    let tmp = tempfile::tempdir().unwrap();
    let (repo, first) = workload_repo(&tmp.path().join("w"));
    write(&repo, "infra/main.tf", "# second\n");
    let second = commit_all(&repo, "second");
    // Move main back: `second` stays in the object store but no ref points at it.
    repo.reference("refs/heads/main", first, true, "rewind").unwrap();
    let cache = Cache::new(tmp.path().join("cache"));
    match cache.fetch(&spec("w", "w", Some(&second.to_string())), tmp.path()) {
        Ok(f) => assert_eq!(f.commit, second.to_string()),
        Err(e) => {
            assert!(matches!(e, FetchError::UnknownRef { .. }), "{e:?}");
            assert!(e.to_string().contains(&second.to_string()), "{e}");
        }
    }
}

#[test]
fn concurrent_fetches_share_the_cache() {
    let tmp = tempfile::tempdir().unwrap();
    let (_repo, first) = workload_repo(&tmp.path().join("w"));
    let cache = Cache::new(tmp.path().join("cache"));
    let s = spec("w", "w", Some("main"));
    let results: Vec<_> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..8).map(|_| scope.spawn(|| cache.fetch(&s, tmp.path()))).collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for r in results {
        assert_eq!(r.unwrap().commit, first.to_string());
    }
    assert_eq!(std::fs::read_dir(cache.dir()).unwrap().count(), 1);
}

#[test]
fn an_older_commit_of_a_branch_is_fetched_by_id() {
    let tmp = tempfile::tempdir().unwrap();
    let (repo, first) = workload_repo(&tmp.path().join("w"));
    write(&repo, "infra/main.tf", "# second\n");
    commit_all(&repo, "second");
    let cache = Cache::new(tmp.path().join("cache"));
    let f = cache
        .fetch(&spec("w", "w", Some(&first.to_string())), tmp.path())
        .unwrap();
    assert_eq!(f.commit, first.to_string());
}
