//! Shared helpers for end-to-end tests: run the real `railyard` binary, make temporary
//! folders, write files, and build git repositories with git2 (no `git` binary, no network).

#![allow(dead_code)]

use git2::{Index, IndexEntry, IndexTime, Oid, Repository, RepositoryInitOptions, Signature};
use std::path::{Path, PathBuf};
use std::process::Command;

pub mod sandbox;

/// The binary under test.
pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_railyard")
}

/// The repository's bundled guardrail library.
pub fn bundled_guardrails() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("guardrails")
}

/// What one run of the binary did.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// stdout parsed as JSON; panics with the whole output when it is not.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}\nstderr:\n{}", self.stdout, self.stderr))
    }

    /// stdout and stderr together, for "the output names X" assertions.
    pub fn all(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }

    /// Asserts the exit code, showing everything on failure.
    pub fn expect_code(&self, code: i32) -> &Self {
        assert_eq!(
            self.code, code,
            "unexpected exit code\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }
}

/// Runs `railyard ARGS` in `cwd` with a hermetic environment (no inherited Railyard
/// settings, a private cache folder) and asserts it did not panic.
pub fn railyard<S: AsRef<std::ffi::OsStr>>(cwd: &Path, args: &[S]) -> Run {
    railyard_env(cwd, args, &[])
}

/// [`railyard`] with extra environment variables.
pub fn railyard_env<S: AsRef<std::ffi::OsStr>>(cwd: &Path, args: &[S], env: &[(&str, &str)]) -> Run {
    railyard_with(cwd, args, env, |_| {})
}

/// [`railyard_env`] with the command adjusted by `tweak` before it runs.
pub fn railyard_with<S: AsRef<std::ffi::OsStr>>(
    cwd: &Path,
    args: &[S],
    env: &[(&str, &str)],
    tweak: impl FnOnce(&mut Command),
) -> Run {
    let cache = cwd.join(".railyard-test-cache");
    let mut command = Command::new(bin());
    command
        .args(args)
        .envs(env.iter().copied())
        .current_dir(cwd)
        .env_remove("RAILYARD_GUARDRAILS")
        .env_remove("RAILYARD_GIT_TOKEN")
        .env("RAILYARD_CACHE_DIR", &cache)
        .env("RAILYARD_ACTOR", "tester")
        .env("NO_COLOR", "1");
    tweak(&mut command);
    let out = command.output().expect("run railyard");
    let run = Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    assert!(
        !run.stderr.contains("panicked") && !run.stdout.contains("panicked"),
        "railyard panicked: {}",
        run.stderr
    );
    run
}

/// The first file `name` in a folder of `PATH` (a tool a test drives for real).
pub fn find_on_path(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

/// A fresh temporary folder, removed when dropped.
pub fn temp() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("railyard-e2e-")
        .tempdir()
        .expect("temp dir")
}

/// Writes `content` to `root/rel`, creating parent folders.
pub fn write(root: &Path, rel: &str, content: impl AsRef<[u8]>) -> PathBuf {
    let path = root.join(rel);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).expect("create parent");
    }
    std::fs::write(&path, content).expect("write file");
    path
}

/// Copies a folder recursively (regular files and folders only).
pub fn copy_dir(src: &Path, dst: &Path) {
    std::fs::create_dir_all(dst).expect("create dst");
    for entry in std::fs::read_dir(src).expect("read src") {
        let entry = entry.expect("entry");
        let ty = entry.file_type().expect("file type");
        let to = dst.join(entry.file_name());
        if ty.is_dir() {
            copy_dir(&entry.path(), &to);
        } else if ty.is_file() {
            std::fs::copy(entry.path(), &to).expect("copy file");
        }
    }
}

/// Makes `dst` a guardrails folder holding the bundled `lib/` and the given bundled guardrails.
pub fn guardrails_with(dst: &Path, ids: &[&str]) {
    let src = bundled_guardrails();
    copy_dir(&src.join("lib"), &dst.join("lib"));
    for id in ids {
        copy_dir(&src.join(id), &dst.join(id));
    }
}

/// Every regular file below `root`, as (`/`-separated relative path, bytes), sorted.
pub fn files_below(root: &Path) -> Vec<(String, Vec<u8>)> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<(String, Vec<u8>)>) {
        for entry in std::fs::read_dir(dir).expect("read dir") {
            let entry = entry.expect("entry");
            let ty = entry.file_type().expect("file type");
            if ty.is_dir() {
                walk(root, &entry.path(), out);
            } else if ty.is_file() {
                let rel = entry
                    .path()
                    .strip_prefix(root)
                    .expect("below root")
                    .to_string_lossy()
                    .replace('\\', "/");
                out.push((rel, std::fs::read(entry.path()).expect("read")));
            }
        }
    }
    let mut out = Vec::new();
    walk(root, root, &mut out);
    out.sort();
    out
}

/// Initialises a non-bare repository at `path` whose unborn HEAD is `main`.
pub fn init_repo(path: &Path) -> Repository {
    let mut opts = RepositoryInitOptions::new();
    opts.initial_head("main");
    let repo = Repository::init_opts(path, &opts).expect("init repo");
    {
        let mut config = repo.config().expect("config");
        config.set_str("user.name", "Railyard Tests").expect("user.name");
        config.set_str("user.email", "tests@example.com").expect("user.email");
    }
    repo
}

/// Commits `files` (path, content) on top of `branch` (created from `base`, or as a root
/// commit, when it does not exist). Files not listed keep their content; `None` deletes.
/// The working tree is not touched.
pub fn commit_files(
    repo: &Repository,
    branch: &str,
    base: Option<&str>,
    files: &[(&str, Option<&[u8]>)],
    message: &str,
) -> Oid {
    let refname = format!("refs/heads/{branch}");
    let parent = match repo.find_reference(&refname) {
        Ok(r) => Some(r.peel_to_commit().expect("branch commit")),
        Err(_) => base.map(|b| {
            repo.find_reference(&format!("refs/heads/{b}"))
                .and_then(|r| r.peel_to_commit())
                .unwrap_or_else(|e| panic!("base branch `{b}`: {e}"))
        }),
    };
    let mut index = Index::new().expect("index");
    if let Some(p) = &parent {
        index.read_tree(&p.tree().expect("tree")).expect("read tree");
    }
    for (path, content) in files {
        match content {
            Some(bytes) => {
                let blob = repo.blob(bytes).expect("write blob");
                let entry = IndexEntry {
                    ctime: IndexTime::new(0, 0),
                    mtime: IndexTime::new(0, 0),
                    dev: 0,
                    ino: 0,
                    mode: 0o100644,
                    uid: 0,
                    gid: 0,
                    file_size: bytes.len() as u32,
                    id: blob,
                    flags: 0,
                    flags_extended: 0,
                    path: path.as_bytes().to_vec(),
                };
                index.add(&entry).expect("add file");
            }
            None => index.remove_path(Path::new(path)).expect("remove file"),
        }
    }
    let tree_id = index.write_tree_to(repo).expect("write tree");
    let tree = repo.find_tree(tree_id).expect("tree");
    let sig = Signature::new(
        "Railyard Tests",
        "tests@example.com",
        &git2::Time::new(1_700_000_000, 0),
    )
    .expect("signature");
    let parents: Vec<&git2::Commit> = parent.iter().collect();
    let oid = repo.commit(None, &sig, &sig, message, &tree, &parents).expect("commit");
    repo.reference(&refname, oid, true, message).expect("update branch");
    oid
}

/// Commits every file below `dir` under `prefix` (e.g. `guardrails/`) on `branch`.
pub fn commit_dir(repo: &Repository, branch: &str, base: Option<&str>, dir: &Path, prefix: &str, message: &str) -> Oid {
    let files = files_below(dir);
    let paths: Vec<String> = files.iter().map(|(p, _)| format!("{prefix}{p}")).collect();
    let entries: Vec<(&str, Option<&[u8]>)> = paths
        .iter()
        .zip(&files)
        .map(|(p, (_, bytes))| (p.as_str(), Some(bytes.as_slice())))
        .collect();
    commit_files(repo, branch, base, &entries, message)
}

/// Commits `changes` (path, Some(content) to write / None to delete a file or folder) on
/// top of `branch`, building trees from git objects (no work tree involved).
pub fn commit(repo: &Repository, branch: &str, changes: &[(&str, Option<&str>)], message: &str) -> Oid {
    let refname = format!("refs/heads/{branch}");
    let parent = repo.find_reference(&refname).ok().map(|r| r.peel_to_commit().unwrap());
    let mut files = parent.as_ref().map(tree_files).unwrap_or_default();
    for (path, content) in changes {
        match content {
            Some(text) => {
                files.insert(path.to_string(), repo.blob(text.as_bytes()).unwrap());
            }
            None => files.retain(|p, _| p != path && !p.starts_with(&format!("{path}/"))),
        }
    }
    let tree = repo.find_tree(build_tree(repo, &files, "")).unwrap();
    let sig = Signature::now("Test", "test@example.com").unwrap();
    let parents: Vec<&git2::Commit> = parent.iter().collect();
    repo.commit(Some(&refname), &sig, &sig, message, &tree, &parents)
        .unwrap()
}

/// Every blob in `commit`'s tree, by its `/`-separated path.
pub fn tree_files(commit: &git2::Commit) -> std::collections::BTreeMap<String, Oid> {
    let mut files = std::collections::BTreeMap::new();
    commit
        .tree()
        .unwrap()
        .walk(git2::TreeWalkMode::PreOrder, |dir, e| {
            if e.kind() == Some(git2::ObjectType::Blob) {
                files.insert(format!("{dir}{}", e.name().unwrap()), e.id());
            }
            git2::TreeWalkResult::Ok
        })
        .unwrap();
    files
}

pub fn build_tree(repo: &Repository, files: &std::collections::BTreeMap<String, Oid>, prefix: &str) -> Oid {
    let mut builder = repo.treebuilder(None).unwrap();
    let mut dirs: Vec<String> = Vec::new();
    for (path, oid) in files.range(prefix.to_string()..) {
        let Some(rest) = path.strip_prefix(prefix) else { break };
        match rest.split_once('/') {
            None => {
                builder.insert(rest, *oid, 0o100644).unwrap();
            }
            Some((dir, _)) => {
                if dirs.last().map(String::as_str) != Some(dir) {
                    dirs.push(dir.to_string());
                }
            }
        }
    }
    for dir in dirs {
        let sub = build_tree(repo, files, &format!("{prefix}{dir}/"));
        builder.insert(&dir, sub, 0o040000).unwrap();
    }
    builder.write().unwrap()
}

/// The release-loop tests' workloads: a compliant one (bucket with versioning, encrypted
/// volume) and one with an unversioned bucket, and the registry naming both.
pub const COMPLIANT_TF: &str = r#"resource "aws_s3_bucket" "data" {
  bucket = "data"
}

resource "aws_s3_bucket_versioning" "data" {
  bucket = aws_s3_bucket.data.id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_ebs_volume" "v" {
  availability_zone = "eu-west-1a"
  size              = 10
  encrypted         = true
}
"#;

pub const UNVERSIONED_TF: &str = r#"resource "aws_s3_bucket" "logs" {
  bucket = "logs"
}
"#;

pub const REGISTRY: &str = r#"[defaults]
grace_days = 30

[[workload]]
name = "payments-api"
repo = "../payments"
team = "payments"

[[workload]]
name = "web"
repo = "../web"
team = "web"

[team.payments]
owners = ["alice@example.com"]

[team.web]
owners = ["bob@example.com"]
"#;
