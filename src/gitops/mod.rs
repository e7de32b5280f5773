//! Git plumbing for the guardrails repository, the only place besides `fetch.rs` that
//! speaks git2. Trees are read straight from git objects (no checkout); promotion builds one
//! commit on `main` whose tree is `main`'s tree with one guardrail folder taken from
//! `develop`; every ref moves only by compare-and-swap, and a run that loses a race re-reads
//! and retries. With a remote guardrails repo, a mirror in the cache is the working copy and
//! every ref update is pushed without force: a rejected push means someone moved the branch,
//! so the run re-fetches and recomputes instead of overwriting.

pub mod blame;
pub mod fetch;

/// The folder of the guardrails repo that holds the guardrails (and their exceptions).
pub const GUARDRAILS_DIR: &str = "guardrails";

use crate::files::{ReadLimits, SourceFile};
use anyhow::{anyhow, bail, Context, Result};
use git2::{ErrorCode, ObjectType, Oid, Repository, Signature};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Branch names of the release loop.
pub const DEVELOP: &str = "develop";
pub const MAIN: &str = "main";
pub const LEDGER: &str = "railyard/ledger";

const RETRIES: usize = 50;

/// The guardrails repository: a local repository, or a mirror of a remote one.
pub struct GuardrailsRepo {
    repo: Repository,
    /// Where the repository came from, as the user wrote it (credentials redacted).
    pub display: String,
    remote_url: Option<String>,
    token_env: Option<String>,
    /// The key ledger commits are sealed and verified with (`RAILYARD_LEDGER_KEY`).
    seal_key: Option<crate::seal::SealKey>,
    /// The budget of each fetch and push (`--fetch-timeout`).
    fetch_timeout: std::time::Duration,
}

impl GuardrailsRepo {
    /// Opens `spec`: a local path (work tree or bare), or a URL (`https://`, `ssh://`,
    /// `git@host:path`, `file://`) mirrored into `cache_dir`, each fetch and push within
    /// `fetch_timeout`.
    pub fn open(
        spec: &str,
        cache_dir: &Path,
        token_env: Option<&str>,
        fetch_timeout: std::time::Duration,
    ) -> Result<GuardrailsRepo> {
        if is_url(spec) {
            let dir = cache_dir.join(format!("guardrails-{}", short_hash(spec)));
            let repo = match Repository::open_bare(&dir) {
                Ok(r) => r,
                Err(_) => {
                    std::fs::create_dir_all(&dir).with_context(|| format!("creating cache `{}`", dir.display()))?;
                    Repository::init_bare(&dir).with_context(|| format!("creating mirror in `{}`", dir.display()))?
                }
            };
            fetch::remove_stale_locks(repo.path(), fetch::stale_lock_age_from_env());
            let r = GuardrailsRepo {
                repo,
                display: fetch::redact(spec),
                remote_url: Some(spec.to_string()),
                token_env: token_env.map(str::to_string),
                seal_key: None,
                fetch_timeout,
            };
            r.refresh()?;
            Ok(r)
        } else {
            let repo = Repository::open(spec).with_context(|| {
                format!("`{spec}` is not a git repository (hint: `--repo` takes the guardrails repository)")
            })?;
            // A run killed while moving a ref leaves its lock; an old one would block
            // every later run (see `fetch::remove_stale_locks`).
            fetch::remove_stale_locks(repo.path(), fetch::stale_lock_age_from_env());
            Ok(GuardrailsRepo {
                repo,
                display: spec.to_string(),
                remote_url: None,
                token_env: None,
                seal_key: None,
                fetch_timeout,
            })
        }
    }

    pub fn path(&self) -> &Path {
        self.repo.path()
    }

    /// Sets the key the ledger branch is sealed with (none: not tamper-evident).
    pub fn set_seal_key(&mut self, key: Option<crate::seal::SealKey>) {
        self.seal_key = key;
    }

    pub fn seal_key(&self) -> Option<&crate::seal::SealKey> {
        self.seal_key.as_ref()
    }

    /// Parent commit ids of a commit, first parent first.
    pub fn parents(&self, commit: &str) -> Result<Vec<String>> {
        let c = self.repo.find_commit(Oid::from_str(commit)?)?;
        Ok(c.parent_ids().map(|p| p.to_string()).collect())
    }

    /// Whether `commit` is `ancestor` or one of its descendants.
    pub fn descends_from(&self, commit: &str, ancestor: &str) -> Result<bool> {
        let (c, a) = (Oid::from_str(commit)?, Oid::from_str(ancestor)?);
        Ok(c == a || self.repo.graph_descendant_of(c, a)?)
    }

    /// Whether the object database holds this commit.
    pub fn has_commit(&self, commit: &str) -> bool {
        Oid::from_str(commit).is_ok_and(|o| self.repo.find_commit(o).is_ok())
    }

    /// The newest commit on `branch` (first parents) whose message has a line `KEY: value`,
    /// with that value.
    pub fn latest_trailer(&self, branch: &str, key: &str) -> Result<Option<(String, String)>> {
        let Some(tip) = self.tip(branch)? else { return Ok(None) };
        let prefix = format!("{key}: ");
        let mut walk = self.repo.revwalk()?;
        walk.push(Oid::from_str(&tip)?)?;
        walk.simplify_first_parent()?;
        for oid in walk {
            let c = self.repo.find_commit(oid?)?;
            let msg = String::from_utf8_lossy(c.message_bytes()).into_owned();
            if let Some(v) = msg.lines().rev().find_map(|l| l.strip_prefix(&prefix)) {
                return Ok(Some((c.id().to_string(), v.trim().to_string())));
            }
        }
        Ok(None)
    }

    /// Commits on `branch` from its tip along first parents (newest first).
    pub fn first_parent_history(&self, branch: &str) -> Result<Vec<String>> {
        let Some(tip) = self.tip(branch)? else {
            return Ok(Vec::new());
        };
        let mut walk = self.repo.revwalk()?;
        walk.push(Oid::from_str(&tip)?)?;
        walk.simplify_first_parent()?;
        walk.map(|o| Ok(o?.to_string())).collect()
    }

    /// When `branch` is checked out in this repository's work tree (a local repo whose HEAD
    /// is that branch and whose index exists), refuses a work tree or index that differs
    /// from the branch's tip: moving the branch under local changes would leave them
    /// looking like reverted work. `Ok(true)` when the work tree must follow the branch.
    fn checked_out_clean(&self, branch: &str) -> Result<bool> {
        if self.is_remote() || self.repo.is_bare() {
            return Ok(false);
        }
        let Some(workdir) = self.repo.workdir() else {
            return Ok(false);
        };
        let on_branch = self
            .repo
            .find_reference("HEAD")
            .ok()
            .and_then(|h| h.symbolic_target().ok().flatten().map(str::to_string))
            .is_some_and(|t| t == format!("refs/heads/{branch}"));
        // No index file: nothing was ever checked out, so there is nothing to keep in step.
        if !on_branch || !self.repo.path().join("index").exists() {
            return Ok(false);
        }
        let mut opts = git2::StatusOptions::new();
        opts.include_untracked(false).include_ignored(false);
        let statuses = self.repo.statuses(Some(&mut opts))?;
        let changed: Vec<String> = statuses
            .iter()
            .filter(|e| e.status() != git2::Status::CURRENT)
            .take(5)
            .map(|e| e.path().unwrap_or("?").to_string())
            .collect();
        if !changed.is_empty() {
            bail!(
                "`{branch}` is checked out in `{}` with uncommitted changes ({}): Railyard would move `{branch}` under them; nothing was changed (hint: commit or stash them, or check out another branch, and run again)",
                workdir.display(),
                changed.join(", ")
            );
        }
        Ok(true)
    }

    /// Refuses to run when one of `branches` is checked out with local changes (see
    /// `checked_out_clean`), before anything is moved.
    pub fn ensure_work_tree_clean(&self, branches: &[&str]) -> Result<()> {
        for b in branches {
            self.checked_out_clean(b)?;
        }
        Ok(())
    }

    /// The folder relative workload paths in `workloads.toml` resolve against: the work
    /// tree of a local repo (its parent for a bare one); the current folder for a remote.
    pub fn base_dir(&self) -> PathBuf {
        if self.is_remote() {
            return std::env::current_dir().unwrap_or_default();
        }
        match self.repo.workdir() {
            Some(w) => w.to_path_buf(),
            None => self.repo.path().parent().map(Path::to_path_buf).unwrap_or_default(),
        }
    }

    pub fn is_remote(&self) -> bool {
        self.remote_url.is_some()
    }

    /// With a remote: fetch every branch into the mirror, overwriting local state (the
    /// remote is the truth; local commits not pushed are recomputed).
    pub fn refresh(&self) -> Result<()> {
        let Some(url) = &self.remote_url else { return Ok(()) };
        let mut remote = self.repo.remote_anonymous(url)?;
        let started = std::time::Instant::now();
        let mut opts = git2::FetchOptions::new();
        // FETCH_HEAD would record the URL, credentials and all.
        opts.remote_callbacks(callbacks(self.token_env.clone(), self.fetch_timeout))
            .update_fetchhead(false);
        remote
            .fetch(&["+refs/heads/*:refs/heads/*"], Some(&mut opts), None)
            .map_err(|e| {
                let budget = self.fetch_timeout;
                let stalled = if fetch::timed_out(&e, started, budget) {
                    format!(
                        " (no answer within {}, --fetch-timeout)",
                        crate::limits::show_duration(budget)
                    )
                } else {
                    String::new()
                };
                anyhow!(
                    "fetching guardrails repo `{}`{stalled}: {}",
                    self.display,
                    fetch::redact(e.message())
                )
            })?;
        Ok(())
    }

    /// Pushes `branch` without force. `Ok(false)` when the remote rejected it because the
    /// branch moved meanwhile.
    fn publish(&self, branch: &str) -> Result<bool> {
        let Some(url) = &self.remote_url else { return Ok(true) };
        let mut remote = self.repo.remote_anonymous(url)?;
        let rejected = std::cell::RefCell::new(None::<String>);
        let mut cb = callbacks(self.token_env.clone(), self.fetch_timeout);
        cb.push_update_reference(|_, status| {
            if let Some(s) = status {
                *rejected.borrow_mut() = Some(s.to_string());
            }
            Ok(())
        });
        let mut opts = git2::PushOptions::new();
        opts.remote_callbacks(cb);
        let spec = format!("refs/heads/{branch}:refs/heads/{branch}");
        match remote.push(&[spec.as_str()], Some(&mut opts)) {
            Ok(()) => {}
            // The local transport refuses with this code; a server's refusal arrives as the
            // ref's status (`rejected`). No message text is read.
            Err(e) if e.code() == ErrorCode::NotFastForward => return Ok(false),
            Err(e) => bail!(
                "pushing `{branch}` to `{}`: {}",
                self.display,
                fetch::redact(e.message())
            ),
        }
        drop(opts);
        Ok(rejected.into_inner().is_none())
    }

    /// The commit id at the tip of `branch`, if the branch exists.
    pub fn tip(&self, branch: &str) -> Result<Option<String>> {
        match self.repo.find_reference(&format!("refs/heads/{branch}")) {
            Ok(r) => Ok(Some(r.peel_to_commit()?.id().to_string())),
            Err(e) if e.code() == ErrorCode::NotFound => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// Resolves a branch, tag or commit id to a commit id.
    pub fn resolve(&self, rev: &str) -> Result<String> {
        let candidates = [format!("refs/heads/{rev}"), format!("refs/tags/{rev}"), rev.to_string()];
        for c in &candidates {
            if let Ok(obj) = self.repo.revparse_single(c) {
                if let Ok(commit) = obj.peel_to_commit() {
                    return Ok(commit.id().to_string());
                }
            }
        }
        bail!(
            "`{rev}` is not a branch, tag or commit of guardrails repo `{}`",
            self.display
        )
    }

    /// Like [`tip`](Self::tip), but a missing branch is an error that says what to do.
    pub fn require_tip(&self, branch: &str) -> Result<String> {
        self.tip(branch)?.ok_or_else(|| {
            anyhow!("branch `{branch}` does not exist in guardrails repo `{}` (hint: Railyard needs `develop` for candidates and `main` for active guardrails)", self.display)
        })
    }

    /// Files below `prefix` (`""` for all) in a commit's tree, paths relative to the root,
    /// read by the one tree walker ([`fetch::walk`]). A file that cannot be read (a name that
    /// is not UTF-8, over the size limits) is an error naming it: a guardrail, its library or
    /// its fixtures missing a file would be judged on less than was committed. Symbolic links
    /// and submodules are passed over, as when guardrails are read from a folder.
    pub fn read_tree(&self, commit: &str, prefix: &str) -> Result<Vec<SourceFile>> {
        let commit = self.repo.find_commit(Oid::from_str(commit)?)?;
        let root = commit.tree()?;
        let prefix = prefix.trim_matches('/');
        let start = if prefix.is_empty() {
            root.id()
        } else {
            match root.get_path(Path::new(prefix)) {
                Ok(entry) if entry.kind() == Some(ObjectType::Tree) => entry.id(),
                Ok(_) => bail!("`{prefix}` is not a folder in {}", &commit.id().to_string()[..12]),
                Err(e) if e.code() == ErrorCode::NotFound => return Ok(Vec::new()),
                Err(e) => return Err(e.into()),
            }
        };
        let starts = vec![(prefix.to_string(), start, fetch::MODE_TREE)];
        // Default size limits (the guardrails tree is read before a run's settings apply), every file kind.
        let limits = ReadLimits {
            code_only: None,
            ..ReadLimits::workload()
        };
        let (files, skipped) = fetch::walk(&self.repo, starts, limits)?;
        let unread: Vec<String> = skipped
            .iter()
            .filter(|(_, why)| matches!(why, fetch::Unread::NotUtf8 | fetch::Unread::Limit))
            .map(|(s, _)| format!("`{}`: {}", s.path, s.reason))
            .collect();
        if !unread.is_empty() {
            bail!(
                "guardrails repo `{}` at {}: cannot read {} file(s): {}; nothing was evaluated (hint: rename or shrink them)",
                self.display,
                &commit.id().to_string()[..12],
                unread.len(),
                unread.join("; ")
            );
        }
        Ok(files)
    }

    /// One file of a commit, if present.
    pub fn read_file(&self, commit: &str, path: &str) -> Result<Option<Vec<u8>>> {
        let tree = self.repo.find_commit(Oid::from_str(commit)?)?.tree()?;
        match tree.get_path(Path::new(path)) {
            Ok(entry) => Ok(Some(entry.to_object(&self.repo)?.peel_to_blob()?.content().to_vec())),
            Err(e) if e.code() == ErrorCode::NotFound => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// The files directly in folder `path` of a commit, as (name, blob id, bytes), sorted by
    /// name; an empty list when the folder is absent. Sub-folders and links are returned as
    /// names with no content (`None`), so a caller can refuse what it did not write.
    pub fn files_in(&self, commit: &str, path: &str) -> Result<Vec<FolderFile>> {
        let tree = self.repo.find_commit(Oid::from_str(commit)?)?.tree()?;
        let sub = match tree.get_path(Path::new(path)) {
            _ if path.is_empty() => tree,
            Ok(entry) => entry.to_object(&self.repo)?.peel_to_tree()?,
            Err(e) if e.code() == ErrorCode::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(e.into()),
        };
        let entries: Vec<(String, Oid, bool)> = sub
            .iter()
            .map(|e| {
                let file = matches!((e.kind(), e.filemode()), (Some(ObjectType::Blob), 0o100644 | 0o100755));
                (String::from_utf8_lossy(e.name_bytes()).into_owned(), e.id(), file)
            })
            .collect();
        let read = |repo: &Repository, part: &[(String, Oid, bool)]| -> Result<Vec<FolderFile>> {
            part.iter()
                .map(|(name, id, file)| {
                    Ok(FolderFile {
                        name: name.clone(),
                        blob: id.to_string(),
                        bytes: match file {
                            true => Some(repo.find_blob(*id)?.content().to_vec()),
                            false => None,
                        },
                    })
                })
                .collect()
        };
        // Reading a blob inflates it, and the ledger's folder holds one file per workload
        // (tens of MB for a thousand): read on a few threads, each with its own handle (a
        // repository handle is not shared between threads), when there are many.
        let threads = std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .min(4)
            .min(entries.len() / 64)
            .max(1);
        if threads == 1 {
            return read(&self.repo, &entries);
        }
        let git_dir = self.repo.path().to_path_buf();
        let parts: Vec<Result<Vec<FolderFile>>> = std::thread::scope(|scope| {
            let handles: Vec<_> = entries
                .chunks(entries.len().div_ceil(threads))
                .map(|part| {
                    let git_dir = &git_dir;
                    scope.spawn(move || read(&Repository::open(git_dir)?, part))
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap_or_else(|_| Err(anyhow!("reading `{path}` failed"))))
                .collect()
        });
        let mut out = Vec::with_capacity(entries.len());
        for part in parts {
            out.extend(part?);
        }
        Ok(out)
    }

    /// The root tree id of a commit.
    pub fn root_tree(&self, commit: &str) -> Result<String> {
        Ok(self.repo.find_commit(Oid::from_str(commit)?)?.tree_id().to_string())
    }

    /// Writes the tree of `base` (a commit; None for an empty tree) with `changes` applied
    /// (`Some(bytes)` writes a file, `None` removes it; paths may be nested) and returns its
    /// id. Changes are grouped per folder, so a folder of thousands of files is rewritten
    /// once however many of its files change.
    pub fn write_tree(&self, base: Option<&str>, changes: &[(String, Option<Vec<u8>>)]) -> Result<String> {
        let base = base.map(|c| -> Result<git2::Tree<'_>> { Ok(self.repo.find_commit(Oid::from_str(c)?)?.tree()?) });
        let base = base.transpose()?;
        let mut edits = Vec::with_capacity(changes.len());
        for (path, bytes) in changes {
            let blob = bytes.as_deref().map(|b| self.repo.blob(b)).transpose()?;
            edits.push((path.as_str(), blob));
        }
        Ok(edit_tree(&self.repo, base.as_ref(), &edits)?.to_string())
    }

    /// Commits `tree` (from [`write_tree`](Self::write_tree)) on `parents`.
    pub fn commit_tree(&self, parents: &[&str], tree: &str, message: &str) -> Result<String> {
        let tree = self.repo.find_tree(Oid::from_str(tree)?)?;
        let sig = self.signature()?;
        let parent = parents
            .iter()
            .map(|p| Ok(self.repo.find_commit(Oid::from_str(p)?)?))
            .collect::<Result<Vec<_>>>()?;
        let parents: Vec<&git2::Commit> = parent.iter().collect();
        Ok(self
            .repo
            .commit(None, &sig, &sig, message, &tree, &parents)?
            .to_string())
    }

    /// Tree id of a folder in a commit (None when absent): equal ids mean equal contents.
    pub fn tree_id(&self, commit: &str, path: &str) -> Result<Option<String>> {
        let tree = self.repo.find_commit(Oid::from_str(commit)?)?.tree()?;
        match tree.get_path(Path::new(path)) {
            Ok(entry) => Ok(Some(entry.id().to_string())),
            Err(e) if e.code() == ErrorCode::NotFound => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// Names of the sub-folders of `path` in a commit.
    pub fn folders(&self, commit: &str, path: &str) -> Result<Vec<String>> {
        let tree = self.repo.find_commit(Oid::from_str(commit)?)?.tree()?;
        let sub = match tree.get_path(Path::new(path)) {
            Ok(entry) => entry.to_object(&self.repo)?.peel_to_tree()?,
            Err(e) if e.code() == ErrorCode::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(e.into()),
        };
        Ok(sub
            .iter()
            .filter(|e| e.kind() == Some(ObjectType::Tree))
            .filter_map(|e| e.name().ok().map(str::to_string))
            .collect())
    }

    /// Commit message of a commit.
    pub fn message(&self, commit: &str) -> Result<String> {
        Ok(self
            .repo
            .find_commit(Oid::from_str(commit)?)?
            .message()
            .unwrap_or("")
            .to_string())
    }

    /// Moves `branch` by compare-and-swap. `change` receives the current tip and returns
    /// the new commit to point at (built on that tip), or `None` when there is nothing to do.
    /// When another run moved the branch first, the tip is re-read and `change` runs again.
    pub fn update_branch<F>(&self, branch: &str, mut change: F) -> Result<Option<String>>
    where
        F: FnMut(&Self, Option<&str>) -> Result<Option<String>>,
    {
        let name = format!("refs/heads/{branch}");
        let mut locked = false;
        for attempt in 0..RETRIES {
            if attempt > 0 {
                self.refresh()?;
                std::thread::sleep(Duration::from_millis(5 + (attempt as u64 * 7) % 50));
            }
            let tip = self.tip(branch)?;
            let Some(new) = change(self, tip.as_deref())? else {
                return Ok(None);
            };
            let new_oid = Oid::from_str(&new)?;
            let follow = self.checked_out_clean(branch)?;
            let msg = format!("railyard: update {branch}");
            let moved = match &tip {
                Some(old) => self
                    .repo
                    .reference_matching(&name, new_oid, true, Oid::from_str(old)?, &msg),
                None => self.repo.reference(&name, new_oid, false, &msg),
            };
            match moved {
                Ok(_) => {
                    locked = false;
                    if follow {
                        // The work tree was clean at the old tip: bring it and the index to
                        // the new tip, as `git` does when a checked-out branch moves.
                        let target = self.repo.find_object(new_oid, None)?;
                        self.repo
                            .reset(&target, git2::ResetType::Hard, None)
                            .with_context(|| format!("updating the work tree of checked-out `{branch}`"))?;
                    }
                }
                Err(e) if matches!(e.code(), ErrorCode::Modified | ErrorCode::Locked | ErrorCode::Exists) => {
                    locked = e.code() == ErrorCode::Locked;
                    continue;
                }
                Err(e) => return Err(e).with_context(|| format!("updating `{branch}`")),
            }
            if self.publish(branch)? {
                return Ok(Some(new));
            }
        }
        if locked {
            bail!(
                "`{branch}` stayed locked while Railyard tried to update it ({RETRIES} attempts): `{}` is held by \
                 another run, or was left by a run that was killed (it is removed once older than \
                 ${}, default {} s); run again",
                self.repo.path().join(format!("{name}.lock")).display(),
                fetch::STALE_LOCK_ENV,
                fetch::DEFAULT_STALE_LOCK_AGE.as_secs()
            )
        }
        bail!("`{branch}` kept moving while Railyard tried to update it ({RETRIES} attempts); run again")
    }

    /// Writes a commit whose tree is `base`'s tree with `path` replaced by the object at
    /// `path` in `source` (or removed when `source` has none). Returns the new commit id, or
    /// `None` when the trees are already equal.
    pub fn commit_carrying(&self, base: &str, source: &str, paths: &[&str], message: &str) -> Result<Option<String>> {
        let base_commit = self.repo.find_commit(Oid::from_str(base)?)?;
        let source_tree = self.repo.find_commit(Oid::from_str(source)?)?.tree()?;
        let mut tree_oid = base_commit.tree_id();
        for path in paths {
            let new = match source_tree.get_path(Path::new(path)) {
                Ok(e) => Some((e.id(), e.filemode())),
                Err(e) if e.code() == ErrorCode::NotFound => None,
                Err(e) => return Err(e.into()),
            };
            let tree = self.repo.find_tree(tree_oid)?;
            let parts: Vec<&str> = path.split('/').collect();
            tree_oid = replace_path(&self.repo, Some(&tree), &parts, new)?;
        }
        if tree_oid == base_commit.tree_id() {
            return Ok(None);
        }
        let tree = self.repo.find_tree(tree_oid)?;
        let sig = self.signature()?;
        let oid = self.repo.commit(None, &sig, &sig, message, &tree, &[&base_commit])?;
        Ok(Some(oid.to_string()))
    }

    /// `user.name <user.email>` from the repository's git configuration (with the global
    /// configuration it includes), when either is set.
    pub fn git_identity(&self) -> Option<String> {
        let cfg = self.repo.config().ok()?;
        let get = |k: &str| cfg.get_string(k).ok().filter(|v| !v.trim().is_empty());
        match (get("user.name"), get("user.email")) {
            (Some(n), Some(e)) => Some(format!("{n} <{e}>")),
            (Some(n), None) => Some(n),
            (None, Some(e)) => Some(e),
            (None, None) => None,
        }
    }

    fn signature(&self) -> Result<Signature<'static>> {
        let cfg = self.repo.config().ok();
        let get = |k: &str| cfg.as_ref().and_then(|c| c.get_string(k).ok());
        let name = std::env::var("RAILYARD_COMMITTER_NAME")
            .ok()
            .or_else(|| get("user.name"))
            .unwrap_or_else(|| "Railyard".into());
        let email = std::env::var("RAILYARD_COMMITTER_EMAIL")
            .ok()
            .or_else(|| get("user.email"))
            .unwrap_or_else(|| "railyard@localhost".into());
        Ok(Signature::now(&name, &email)?)
    }
}

/// Commits `changes` on `branch` of the repository at `path` (created when missing, with
/// `main` as its default branch): `Some(bytes)` writes a file, `None` removes a file or a
/// folder. Trees are built from git objects; no work tree is touched. For sandboxes (demo)
/// and tools that prepare repositories.
pub fn commit_changes(
    path: &Path,
    branch: &str,
    changes: &[(String, Option<Vec<u8>>)],
    message: &str,
) -> Result<String> {
    commit_changes_signed(path, branch, changes, message, None)
}

/// Signs a commit's content, returning the armored signature for its `gpgsig` header.
pub type CommitSigner<'a> = &'a dyn Fn(&[u8]) -> Result<String>;

/// [`commit_changes`], with the commit signed by `sign` when one is given.
pub fn commit_changes_signed(
    path: &Path,
    branch: &str,
    changes: &[(String, Option<Vec<u8>>)],
    message: &str,
    sign: Option<CommitSigner>,
) -> Result<String> {
    let repo = match Repository::open(path) {
        Ok(r) => r,
        Err(_) => {
            let r = Repository::init(path).with_context(|| format!("creating repository `{}`", path.display()))?;
            r.set_head("refs/heads/main")?;
            r
        }
    };
    let refname = format!("refs/heads/{branch}");
    let parent = match repo.find_reference(&refname) {
        Ok(r) => Some(r.peel_to_commit()?),
        Err(_) => None,
    };
    let mut tree = parent.as_ref().map(|p| p.tree_id());
    for (file, content) in changes {
        let new = match content {
            Some(bytes) => Some((repo.blob(bytes)?, 0o100644)),
            None => None,
        };
        let base = tree.map(|t| repo.find_tree(t)).transpose()?;
        let parts: Vec<&str> = file.split('/').collect();
        tree = Some(replace_path(&repo, base.as_ref(), &parts, new)?);
    }
    let tree = match tree {
        Some(t) => repo.find_tree(t)?,
        None => repo.find_tree(repo.treebuilder(None)?.write()?)?,
    };
    let sig = Signature::now("Railyard demo", "demo@railyard.invalid")?;
    let parents: Vec<&git2::Commit> = parent.iter().collect();
    let Some(sign) = sign else {
        return Ok(repo
            .commit(Some(&refname), &sig, &sig, message, &tree, &parents)?
            .to_string());
    };
    let content = repo.commit_create_buffer(&sig, &sig, message, &tree, &parents)?;
    let content = std::str::from_utf8(&content).context("commit content is not UTF-8")?;
    let oid = repo.commit_signed(content, &sign(content.as_bytes())?, None)?;
    repo.reference(&refname, oid, true, message)?;
    Ok(oid.to_string())
}

/// Creates branch `new` at the tip of `from` in the repository at `path`.
pub fn create_branch(path: &Path, new: &str, from: &str) -> Result<()> {
    let repo = Repository::open(path)?;
    let commit = repo.find_reference(&format!("refs/heads/{from}"))?.peel_to_commit()?;
    repo.branch(new, &commit, false)?;
    Ok(())
}

/// The first line of each commit on `branch`, newest first: (short id, summary).
pub fn log(path: &Path, branch: &str, max: usize) -> Result<Vec<(String, String)>> {
    let repo = Repository::open(path)?;
    let mut walk = repo.revwalk()?;
    walk.push_ref(&format!("refs/heads/{branch}"))?;
    let mut out = Vec::new();
    for oid in walk.take(max) {
        let c = repo.find_commit(oid?)?;
        out.push((
            c.id().to_string()[..7].to_string(),
            c.summary().ok().flatten().unwrap_or("").to_string(),
        ));
    }
    Ok(out)
}

/// A file directly in a folder of a commit ([`GuardrailsRepo::files_in`]).
pub struct FolderFile {
    pub name: String,
    pub blob: String,
    /// None for a sub-folder or a link.
    pub bytes: Option<Vec<u8>>,
}

/// `tree` with `edits` applied: each (path, Some(blob)) inserts a file, (path, None) removes
/// it; folders left empty are removed. One tree builder per folder touched.
fn edit_tree(repo: &Repository, tree: Option<&git2::Tree>, edits: &[(&str, Option<Oid>)]) -> Result<Oid> {
    let mut builder = repo.treebuilder(tree)?;
    let mut nested: BTreeMap<&str, Vec<(&str, Option<Oid>)>> = BTreeMap::new();
    for (path, blob) in edits {
        match path.split_once('/') {
            Some((dir, rest)) => nested.entry(dir).or_default().push((rest, *blob)),
            None => match blob {
                Some(oid) => {
                    builder.insert(path, *oid, 0o100644)?;
                }
                None => {
                    if builder.get(path)?.is_some() {
                        builder.remove(path)?;
                    }
                }
            },
        }
    }
    for (dir, edits) in nested {
        let sub = match tree.and_then(|t| t.get_name(dir)) {
            Some(e) if e.kind() == Some(ObjectType::Tree) => Some(repo.find_tree(e.id())?),
            _ => None,
        };
        let sub_oid = edit_tree(repo, sub.as_ref(), &edits)?;
        if repo.find_tree(sub_oid)?.is_empty() {
            if builder.get(dir)?.is_some() {
                builder.remove(dir)?;
            }
        } else {
            builder.insert(dir, sub_oid, 0o040000)?;
        }
    }
    Ok(builder.write()?)
}

fn replace_path(repo: &Repository, tree: Option<&git2::Tree>, parts: &[&str], new: Option<(Oid, i32)>) -> Result<Oid> {
    let mut builder = repo.treebuilder(tree)?;
    let (first, rest) = parts.split_first().ok_or_else(|| anyhow!("empty path"))?;
    if rest.is_empty() {
        match new {
            Some((oid, mode)) => {
                builder.insert(first, oid, mode)?;
            }
            None => {
                if builder.get(first)?.is_some() {
                    builder.remove(first)?;
                }
            }
        }
    } else {
        let sub = match tree.and_then(|t| t.get_name(first)) {
            Some(e) if e.kind() == Some(ObjectType::Tree) => Some(repo.find_tree(e.id())?),
            _ => None,
        };
        let sub_oid = replace_path(repo, sub.as_ref(), rest, new)?;
        if repo.find_tree(sub_oid)?.is_empty() {
            if builder.get(first)?.is_some() {
                builder.remove(first)?;
            }
        } else {
            builder.insert(first, sub_oid, 0o040000)?;
        }
    }
    Ok(builder.write()?)
}

/// The remote callbacks of the guardrails repo: the one set every git network operation
/// uses ([`fetch::remote_callbacks`]), with libgit2's timeouts set to `budget`
/// (`--fetch-timeout`) and its deadline from now.
pub fn callbacks(token_env: Option<String>, budget: std::time::Duration) -> git2::RemoteCallbacks<'static> {
    fetch::apply_git_timeouts(budget);
    let deadline = std::time::Instant::now() + budget;
    fetch::remote_callbacks(token_env.as_deref(), deadline)
}

pub fn is_url(spec: &str) -> bool {
    spec.contains("://") || (spec.contains('@') && spec.contains(':') && !Path::new(spec).exists())
}

/// A short stable hash (FNV-1a) for cache folder names.
pub fn short_hash(s: &str) -> String {
    let mut h: u64 = 0xcbf29ce484222325;
    for b in s.bytes() {
        h ^= b as u64;
        h = h.wrapping_mul(0x100000001b3);
    }
    format!("{:012x}", h & 0xffff_ffff_ffff)
}

/// The default cache directory (`~/.cache/railyard`).
pub fn default_cache_dir() -> PathBuf {
    dirs::cache_dir().unwrap_or_else(std::env::temp_dir).join("railyard")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A folder of many files is read on several threads: the same files, bytes and order
    /// as one at a time, sub-folders without bytes.
    #[test]
    fn files_in_a_large_folder_are_all_read_in_order() {
        let dir = tempfile::tempdir().unwrap();
        git2::Repository::init(dir.path()).unwrap();
        let mut changes: Vec<(String, Option<Vec<u8>>)> = (0..300)
            .map(|i| (format!("w/f{i:03}.json"), Some(format!("{{\"n\": {i}}}").into_bytes())))
            .collect();
        changes.push(("w/sub/inner.json".to_string(), Some(b"{}".to_vec())));
        let commit = commit_changes(dir.path(), "ledger", &changes, "many files").unwrap();
        let repo = GuardrailsRepo::open(
            dir.path().to_str().unwrap(),
            &dir.path().join("cache"),
            None,
            Duration::from_secs(5),
        )
        .unwrap();
        let files = repo.files_in(&commit, "w").unwrap();
        assert_eq!(files.len(), 301);
        for (i, f) in files.iter().take(300).enumerate() {
            assert_eq!(f.name, format!("f{i:03}.json"));
            assert_eq!(f.bytes.as_deref(), Some(format!("{{\"n\": {i}}}").as_bytes()));
        }
        assert_eq!(files[300].name, "sub");
        assert!(files[300].bytes.is_none());
        assert!(repo.files_in(&commit, "nothing-here").unwrap().is_empty());
    }

    #[test]
    fn redacts_credentials() {
        assert_eq!(fetch::redact("https://user:tok@host/x.git"), "https://***@host/x.git");
        assert_eq!(fetch::redact("https://host/x.git"), "https://host/x.git");
        assert!(!fetch::redact("failed https://a:secret@h/r").contains("secret"));
    }
}
