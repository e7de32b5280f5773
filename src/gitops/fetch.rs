//! Workload fetching: one bare repository per workload in a persistent cache, updated with a
//! single-ref fetch on every run and read straight from git objects (no checkout), so an
//! observation over many workloads costs one incremental fetch each. Errors name the workload,
//! repository and ref, and never carry credentials.
//!
//! Decisions:
//! - The cache entry is `<sanitized name>-<12 hex of sha1(resolved URL)>.git`; local paths are
//!   made absolute (and canonical) first, so the same relative path from two base dirs is two
//!   entries, and a changed URL starts a fresh clone. Entries are never re-cloned or pruned.
//! - A `ref` is resolved against the remote's advertisement: `HEAD` and `refs/…` as written,
//!   otherwise `refs/heads/<ref>` before `refs/tags/<ref>`. Exactly that ref is fetched
//!   (no tags, no other branches) into `refs/railyard/<ref>`, forced.
//! - A full 40-hex commit id already in the cache needs no network. Otherwise it is fetched by
//!   id; that works when a branch or tag reaches it, and is reported as an unknown ref when not.
//! - The fetch uses an anonymous remote (no config write per run, so concurrent runs do not
//!   fight over the config lock); `origin` is recorded once at creation for people inspecting
//!   the cache.
//! - No shallow clones. Every network operation is bounded by `--fetch-timeout`, passed by
//!   value ([`Cache::with_fetch_timeout`], `GuardrailsRepo::open`; see
//!   [`apply_git_timeouts`]): libgit2's process-global connect and socket timeouts stop a server
//!   that accepts and never answers, and the progress callbacks stop a transfer that is still
//!   running when the budget is spent.

use crate::files::{ReadLimits, Skipped, SourceFile};
use crate::workload::registry::WorkloadSpec;
use git2::{
    AutotagOption, Cred, CredentialType, Direction, ErrorCode, FetchOptions, ObjectType, Oid, RemoteCallbacks,
    Repository,
};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Namespace of the refs Railyard writes in cached repositories.
pub const REF_PREFIX: &str = "refs/railyard/";
/// Attempts made when another run holds a lock in the same cached repository.
const LOCK_ATTEMPTS: u32 = 6;
/// A `*.lock` file older than this in a cached repository was left by a killed run (git
/// holds its locks for milliseconds) and is removed before fetching. Override with
/// `RAILYARD_STALE_LOCK_SECS`.
pub const DEFAULT_STALE_LOCK_AGE: Duration = Duration::from_secs(600);
/// Environment variable overriding [`DEFAULT_STALE_LOCK_AGE`] (whole seconds).
pub const STALE_LOCK_ENV: &str = "RAILYARD_STALE_LOCK_SECS";

/// A fetch or read that failed. Messages are safe to print: URLs are redacted.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("workload `{workload}`: cannot fetch `{reference}` from {repo}: {message}")]
    Unreachable {
        workload: String,
        repo: String,
        reference: String,
        message: String,
    },
    #[error("workload `{workload}`: {repo} has no branch, tag or commit `{reference}`{hint}")]
    UnknownRef {
        workload: String,
        repo: String,
        reference: String,
        hint: String,
    },
    #[error("workload cache {path}: {message}")]
    Cache { path: PathBuf, message: String },
    #[error("reading commit {commit} in {repo_path}: {message}")]
    Read {
        repo_path: PathBuf,
        commit: String,
        message: String,
    },
}

/// A workload's requested ref, fetched into the cache.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fetched {
    /// The bare repository in the cache.
    pub repo_path: PathBuf,
    /// The commit the ref points at (hex).
    pub commit: String,
    /// That commit's tree (hex).
    pub tree: String,
}

/// The persistent clone cache (by default `~/.cache/railyard/workloads`).
#[derive(Debug, Clone)]
pub struct Cache {
    dir: PathBuf,
    stale_lock_age: Duration,
    /// The budget of each fetch (`--fetch-timeout`).
    fetch_timeout: Duration,
}

impl Cache {
    /// A cache in `dir`; stale locks are those older than `$RAILYARD_STALE_LOCK_SECS`
    /// (default [`DEFAULT_STALE_LOCK_AGE`]).
    pub fn new(dir: impl Into<PathBuf>) -> Cache {
        Cache {
            dir: dir.into(),
            stale_lock_age: stale_lock_age_from_env(),
            fetch_timeout: DEFAULT_FETCH_TIMEOUT,
        }
    }

    /// Sets the budget of each fetch (`--fetch-timeout`; default [`DEFAULT_FETCH_TIMEOUT`]).
    pub fn with_fetch_timeout(mut self, budget: Duration) -> Cache {
        self.fetch_timeout = budget;
        self
    }

    /// Sets the age from which a `*.lock` file in a cache entry counts as left by a killed run.
    pub fn with_stale_lock_age(mut self, age: Duration) -> Cache {
        self.stale_lock_age = age;
        self
    }

    /// `<user cache dir>/railyard/workloads`, or `None` when the platform has no cache
    /// directory (no `HOME`): the caller then picks one explicitly.
    pub fn default_dir() -> Option<PathBuf> {
        dirs::cache_dir().map(|d| d.join("railyard").join("workloads"))
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Where the bare repository of a workload lives: the sanitized name plus a short hash of
    /// the resolved repository location, so a changed URL starts a fresh clone.
    pub fn repo_path(&self, spec: &WorkloadSpec, base_dir: &Path) -> PathBuf {
        let url = resolve_url(&spec.repo, base_dir);
        self.path_for(&spec.name, &url)
    }

    fn path_for(&self, name: &str, url: &str) -> PathBuf {
        let hash = Oid::hash_object(ObjectType::Blob, url.as_bytes())
            .map(|o| o.to_string()[..12].to_string())
            .unwrap_or_else(|_| "0".repeat(12));
        self.dir.join(format!("{}-{hash}.git", sanitize(name)))
    }

    /// Fetches the workload's ref into its cached bare repository (creating it on first use)
    /// and returns the commit it points at.
    pub fn fetch(&self, spec: &WorkloadSpec, base_dir: &Path) -> Result<Fetched, FetchError> {
        let reference = spec.ref_or_head().to_string();
        let url = resolve_url(&spec.repo, base_dir);
        let shown = redact(&url);
        let unreachable = |message: String| FetchError::Unreachable {
            workload: spec.name.clone(),
            repo: shown.clone(),
            reference: reference.clone(),
            message,
        };
        let unknown = |hint: &str| FetchError::UnknownRef {
            workload: spec.name.clone(),
            repo: shown.clone(),
            reference: reference.clone(),
            hint: hint.to_string(),
        };
        if !git2::Reference::is_valid_name(&format!("{REF_PREFIX}{reference}")) {
            return Err(unknown(" (not a valid ref name)"));
        }
        if is_local_path(&spec.repo) && !Path::new(&url).exists() {
            return Err(unreachable("no such directory".into()));
        }
        let token = spec
            .token_env
            .as_deref()
            .and_then(|var| std::env::var(var).ok())
            .filter(|t| !t.is_empty());
        let budget = self.fetch_timeout;
        apply_git_timeouts(budget);
        let started = std::time::Instant::now();
        let deadline = started + budget;
        let clean = |e: git2::Error| {
            if timed_out(&e, started, budget) {
                unreachable(format!(
                    "no answer within {} (--fetch-timeout): {}",
                    crate::limits::show_duration(budget),
                    clean_message(&e, token.as_deref())
                ))
            } else {
                unreachable(clean_message(&e, token.as_deref()))
            }
        };

        let repo_path = self.path_for(&spec.name, &url);
        let local_ref = format!("{REF_PREFIX}{reference}");
        // A local source the cache already borrows objects from, at the commit the cache
        // last recorded: read from the source, its tip is readable through the cache, and
        // nothing is written (a warm run over a thousand unchanged local workloads opens
        // each source once and no cached repository).
        if full_oid(&reference).is_none() && is_local_path(&spec.repo) {
            if let Some(source) = local_source(&url, &reference) {
                if borrows(&repo_path, &source.objects) && cached_ref_is(&repo_path, &local_ref, source.tip) {
                    return Ok(Fetched {
                        repo_path,
                        commit: source.tip.to_string(),
                        tree: source.tree.to_string(),
                    });
                }
            }
        }
        // A run killed during a fetch may have left ref locks behind: without this, every
        // later fetch of this workload would fail on them and it would stay unknown.
        remove_stale_locks(&repo_path, self.stale_lock_age);
        let mut repo = self.open_or_init(&repo_path, &url)?;

        // A full commit id already in the cache needs no network: commits never change.
        let wanted_oid = full_oid(&reference);
        let mut have = wanted_oid.filter(|oid| repo.find_commit(*oid).is_ok());
        // A local source repository is asked for its tip directly (no transport): when the
        // cache already holds that commit there is nothing to fetch. This keeps a run over a
        // thousand unchanged local workloads at one ref lookup each.
        if have.is_none() && wanted_oid.is_none() && is_local_path(&spec.repo) {
            have = local_tip(&url, &reference).filter(|oid| repo.find_commit(*oid).is_ok());
            // Not cached yet: the cache borrows the source's objects (git's alternates, as
            // `git clone --shared` does) instead of having the local transport pack, compress
            // and index them again, which was a quarter of a cold observation of local
            // workloads. The source is read on every run anyway; when it is gone the workload
            // is unreachable, as before.
            if have.is_none() {
                if let Some((tip, objects)) = local_tip_and_objects(&url, &reference) {
                    if borrow_objects(&repo_path, &objects).is_ok() {
                        if let Ok(r) = Repository::open_bare(&repo_path) {
                            if r.find_commit(tip).is_ok() {
                                repo = r;
                                have = Some(tip);
                            }
                        }
                    }
                }
            }
        }
        if have.is_none() {
            let mut remote = repo.remote_anonymous(&url).map_err(clean)?;
            let auth = remote_callbacks(spec.token_env.as_deref(), deadline);
            let mut conn = remote.connect_auth(Direction::Fetch, Some(auth), None).map_err(clean)?;
            let advertised: Vec<(String, Oid)> = conn
                .list()
                .map_err(clean)?
                .iter()
                .map(|h| (h.name().to_string(), h.oid()))
                .collect();
            let source = match wanted_oid {
                Some(oid) => advertised
                    .iter()
                    .find(|(_, o)| *o == oid)
                    .map(|(n, _)| n.clone())
                    .unwrap_or_else(|| oid.to_string()),
                None => match pick_advertised(&advertised, &reference) {
                    Some(name) => name,
                    None if reference == "HEAD" => {
                        return Err(unknown(" (the repository is empty or has no default branch)"))
                    }
                    None => return Err(unknown("")),
                },
            };
            let refspec = format!("+{source}:{local_ref}");
            // The advertised tip is already cached under our ref: skip the fetch.
            let tip = advertised.iter().find(|(n, _)| *n == source).map(|(_, o)| *o);
            let current = repo.refname_to_id(&local_ref).ok();
            let up_to_date = tip.is_some() && tip == current;
            let remote = conn.remote();
            if !up_to_date {
                retry_locked(|| {
                    let mut opts = FetchOptions::new();
                    opts.remote_callbacks(remote_callbacks(spec.token_env.as_deref(), deadline))
                        .download_tags(AutotagOption::None)
                        // FETCH_HEAD would record the URL, credentials and all.
                        .update_fetchhead(false);
                    remote.fetch(&[refspec.as_str()], Some(&mut opts), None)
                })
                .map_err(|e| {
                    if wanted_oid.is_some() && !timed_out(&e, started, budget) {
                        unknown(" (servers often refuse commits that no branch or tag points at)")
                    } else {
                        clean(e)
                    }
                })?;
            }
        }

        let commit = match have {
            Some(oid) => repo.find_commit(oid),
            None => repo.find_reference(&local_ref).and_then(|r| r.peel_to_commit()),
        }
        .map_err(|_| unknown(" (it does not point at a commit)"))?;
        if let Some(oid) = have.filter(|oid| repo.refname_to_id(&local_ref).ok() != Some(*oid)) {
            // Keep the ref for humans inspecting the cache; not needed to read the commit.
            let _ = retry_locked(|| {
                repo.reference(&local_ref, oid, true, "railyard: cached commit")
                    .map(|_| ())
            });
        }
        Ok(Fetched {
            repo_path,
            commit: commit.id().to_string(),
            tree: commit.tree_id().to_string(),
        })
    }

    fn open_or_init(&self, path: &Path, url: &str) -> Result<Repository, FetchError> {
        let cache_err = |message: String| FetchError::Cache {
            path: path.to_path_buf(),
            message,
        };
        if let Ok(repo) = Repository::open_bare(path) {
            return Ok(repo);
        }
        std::fs::create_dir_all(&self.dir).map_err(|e| cache_err(e.to_string()))?;
        // A cache entry appears whole or not at all: it is made in a private folder and
        // renamed into place, so a run killed while creating it leaves no half-made
        // repository (with a stale HEAD.lock) that would make the workload unknown forever.
        if path.exists() {
            // Not openable, yet present: left by an interrupted older run. The cache is
            // disposable, so move it aside and start again.
            let aside = unique_sibling(path, "broken");
            std::fs::rename(path, &aside).map_err(|e| cache_err(e.to_string()))?;
            let _ = std::fs::remove_dir_all(&aside);
        }
        let staging = unique_sibling(path, "new");
        let made = Repository::init_bare(&staging).and_then(|repo| {
            // Record where the clone comes from, for people inspecting the cache, without
            // its credentials: fetches pass the real URL in memory, never through a config.
            repo.remote("origin", &redact(url)).map(|_| ())
        });
        if let Err(e) = made {
            let _ = std::fs::remove_dir_all(&staging);
            return Err(cache_err(clean_message(&e, None)));
        }
        if std::fs::rename(&staging, path).is_err() {
            // Another run put its entry in place first: use that one.
            let _ = std::fs::remove_dir_all(&staging);
        }
        let repo = retry_locked(|| Repository::open_bare(path)).map_err(|e| cache_err(e.message().to_string()))?;
        Ok(repo)
    }
}

/// The stale-lock age from `$RAILYARD_STALE_LOCK_SECS`, else [`DEFAULT_STALE_LOCK_AGE`].
pub fn stale_lock_age_from_env() -> Duration {
    std::env::var(STALE_LOCK_ENV)
        .ok()
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs)
        .unwrap_or(DEFAULT_STALE_LOCK_AGE)
}

/// Removes `*.lock` files older than `age` from the git directory `git_dir`: at its top
/// (`HEAD.lock`, `packed-refs.lock`, `shallow.lock`, `index.lock`, `config.lock`, …) and
/// anywhere below `refs/`. Git holds such a lock for the few milliseconds of one update,
/// so an old one was left by a process that was killed. Returns what was removed; errors
/// (a lock that vanished meanwhile, a permission problem) are ignored: the fetch that
/// follows reports anything that still stands in its way.
pub fn remove_stale_locks(git_dir: &Path, age: Duration) -> Vec<PathBuf> {
    let mut removed = Vec::new();
    let now = std::time::SystemTime::now();
    let mut stack = vec![(git_dir.to_path_buf(), false)];
    while let Some((dir, in_refs)) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        for entry in entries.flatten() {
            // The kind comes with the directory listing; only lock files are stat'ed (a warm
            // run over a thousand workloads looks through every cached repository's refs).
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if kind.is_dir() {
                if in_refs || (dir == git_dir && name == "refs") {
                    stack.push((entry.path(), true));
                }
                continue;
            }
            if !kind.is_file() || !name.ends_with(".lock") {
                continue;
            }
            let Ok(meta) = entry.metadata() else {
                continue;
            };
            let old = meta
                .modified()
                .ok()
                .and_then(|m| now.duration_since(m).ok())
                .is_some_and(|elapsed| elapsed >= age);
            if old && std::fs::remove_file(entry.path()).is_ok() {
                removed.push(entry.path());
            }
        }
    }
    removed
}

/// A fresh path beside `path` for staging or discarding a cache entry.
fn unique_sibling(path: &Path, what: &str) -> PathBuf {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    path.with_file_name(format!(".{name}.{what}-{}-{nanos}", std::process::id()))
}

/// Reads the files of `commit` below `paths` (everything when empty) straight from git
/// objects. Paths in the result are relative to the repository root (`infra/main.tf`).
/// Symbolic links, submodules, names that are not UTF-8 and files over the limits are listed
/// in `Skipped` (see [`walk`]). A `paths` entry missing from the commit is an error.
pub fn read_tree(
    repo_path: &Path,
    commit: &str,
    paths: &[String],
    limits: ReadLimits,
) -> Result<(Vec<SourceFile>, Vec<Skipped>), FetchError> {
    let read_err = |message: String| FetchError::Read {
        repo_path: repo_path.to_path_buf(),
        commit: commit.to_string(),
        message,
    };
    let git = |e: git2::Error| read_err(e.message().to_string());
    let repo = Repository::open(repo_path).map_err(git)?;
    let oid = Oid::from_str(commit).map_err(git)?;
    let root = repo.find_commit(oid).map_err(git)?.tree().map_err(git)?;

    let mut starts: Vec<(String, Oid, i32)> = Vec::new();
    if paths.is_empty() {
        starts.push((String::new(), root.id(), MODE_TREE));
    }
    for p in paths {
        let p = p.trim_start_matches("./").trim_matches('/');
        let entry = root
            .get_path(Path::new(p))
            .map_err(|_| read_err(format!("`paths` entry `{p}` does not exist in this commit")))?;
        starts.push((p.to_string(), entry.id(), entry.filemode()));
    }
    let (files, skipped) = walk(&repo, starts, limits).map_err(git)?;
    Ok((files, skipped.into_iter().map(|(s, _)| s).collect()))
}

/// Why [`walk`] did not read an entry, so each caller can decide what it means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unread {
    /// A symbolic link: a path string, never followed.
    Link,
    /// A submodule: a commit of another repository, not read.
    Submodule,
    /// A name that is not valid UTF-8 (shown lossily in `Skipped::path`).
    NotUtf8,
    /// Over `--max-file-size` or `--max-workload-size`.
    Limit,
}

/// An entry [`walk`] did not read: what to show, and why as a state.
pub type Passed = (Skipped, Unread);

/// The one git tree walker (workloads and the guardrails repository alike): reads every blob
/// below `starts` (path relative to the root, object, file mode), in path order, never
/// following symlinks and honouring `limits` (`code_only` included). Folders in
/// [`crate::files::SKIPPED_DIRS`] are entered only for Terraform module code (see
/// [`crate::files::enter_dir`]). Whatever is not read is returned with its reason; nothing
/// is dropped silently.
pub fn walk(
    repo: &Repository,
    starts: Vec<(String, Oid, i32)>,
    limits: ReadLimits,
) -> Result<(Vec<SourceFile>, Vec<Passed>), git2::Error> {
    let odb = repo.odb()?;
    let mut files: Vec<SourceFile> = Vec::new();
    let mut skipped = Vec::new();
    let mut total = 0u64;
    let mut stack = starts;
    // Overlapping `paths` (`infra`, `infra/modules`) would otherwise read files twice.
    let mut seen = std::collections::BTreeSet::new();
    stack.reverse();
    while let Some((path, id, mode)) = stack.pop() {
        if !seen.insert(path.clone()) {
            continue;
        }
        match mode {
            MODE_TREE => {
                let tree = repo.find_tree(id)?;
                let mut children = Vec::new();
                for entry in tree.iter() {
                    let Ok(name) = entry.name() else {
                        let s = Skipped::unread(
                            join(&path, &String::from_utf8_lossy(entry.name_bytes())),
                            "file name is not valid UTF-8",
                        );
                        skipped.push((s, Unread::NotUtf8));
                        continue;
                    };
                    if entry.filemode() == MODE_TREE && !crate::files::enter_dir(name) {
                        continue;
                    }
                    children.push((join(&path, name), entry.id(), entry.filemode()));
                }
                // Pop in name order.
                children.reverse();
                stack.extend(children);
            }
            MODE_LINK => {
                // The link's blob is its target as a path string: shown, never resolved.
                let target = match odb.read_header(id) {
                    Ok((size, _)) if size <= 4096 => repo
                        .find_blob(id)
                        .map(|b| format!(" to `{}`", String::from_utf8_lossy(b.content())))
                        .unwrap_or_default(),
                    _ => String::new(),
                };
                let s = Skipped::unread(path, format!("symbolic link{target} (not followed)"));
                skipped.push((s, Unread::Link));
            }
            MODE_SUBMODULE => skipped.push((Skipped::unread(path, "submodule (not read)"), Unread::Submodule)),
            _ => {
                if !limits.wants(&path) {
                    continue;
                }
                // Below `vendor/` (and the like) only module code a Terraform call may read.
                if crate::files::module_only(&path) && !crate::files::is_module_code(&path) {
                    continue;
                }
                let (size, _) = odb.read_header(id)?;
                let len = size as u64;
                if let Some(reason) = limits.refuse(len, total) {
                    skipped.push((Skipped::unread(path, reason), Unread::Limit));
                    continue;
                }
                total += len;
                let blob = repo.find_blob(id)?;
                files.push(SourceFile::new(path, blob.content()));
            }
        }
    }
    files.sort_by(|a, b| a.path.cmp(&b.path));
    Ok((files, skipped))
}

pub(crate) const MODE_TREE: i32 = 0o040000;
const MODE_LINK: i32 = 0o120000;
const MODE_SUBMODULE: i32 = 0o160000;

fn join(dir: &str, name: &str) -> String {
    if dir.is_empty() {
        name.to_string()
    } else {
        format!("{dir}/{name}")
    }
}

/// Drops libgit2's internals from an error text: the `; class=Os (2)` and
/// `; code=NotFound (-3)` that `git2::Error` appends say nothing a user can act on.
pub fn without_git_internals(text: &str) -> String {
    let mut out = text.to_string();
    for marker in ["; class=", "; code="] {
        let mut from = 0;
        while let Some(i) = out[from..].find(marker).map(|i| i + from) {
            // `Word (N)`: an enum name, a space, a parenthesised number.
            let rest = &out[i + marker.len()..];
            let name = rest.find(|c: char| !c.is_ascii_alphanumeric()).unwrap_or(rest.len());
            let tail = &rest[name..];
            let number = tail.strip_prefix(" (").and_then(|t| {
                t.find(')')
                    .filter(|&j| t[..j].trim_start_matches('-').chars().all(|c| c.is_ascii_digit()))
            });
            match number {
                Some(j) if name > 0 => out.replace_range(i..i + marker.len() + name + 2 + j + 1, ""),
                _ => from = i + marker.len(),
            }
        }
    }
    out
}

/// Hides credentials in URLs inside `text`: the user info of a URL
/// (`https://user:token@host` → `https://***@host`), every query value
/// (`?private_token=x` → `?private_token=***`), and the password of an scp-like location
/// (`user:password@host:repo` → `***@host:repo`). A bare user name is kept for ssh
/// (`ssh://git@host`, `git@host:repo`), where it is not a secret, and hidden for http(s),
/// where tokens are often passed as the user name. libgit2's internals go too
/// ([`without_git_internals`]): what is redacted is what a user reads.
pub fn redact(text: &str) -> String {
    let cleaned = without_git_internals(text);
    let text: &str = &cleaned;
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    loop {
        let url = rest.find("://");
        let at = rest.find('@');
        match (url, at) {
            (Some(i), _) if at.is_none_or(|a| a > word_start(rest, i)) => {
                let scheme_start = rest[..i]
                    .rfind(|c: char| !(c.is_ascii_alphanumeric() || "+.-".contains(c)))
                    .map_or(0, |j| j + 1);
                let scheme = rest[scheme_start..i].to_ascii_lowercase();
                out.push_str(&rest[..i + 3]);
                rest = &rest[i + 3..];
                let end = rest.find(is_url_end).unwrap_or(rest.len());
                let authority_end = rest[..end].find(['/', '?', '#']).unwrap_or(end);
                let mut url = &rest[..end];
                if let Some(at) = rest[..authority_end].rfind('@') {
                    let userinfo = &rest[..at];
                    if userinfo.contains(':') || scheme.starts_with("http") {
                        out.push_str("***");
                        url = &rest[at..end];
                    }
                }
                out.push_str(&redact_query(url));
                rest = &rest[end..];
            }
            (_, Some(a)) => {
                // scp-like `user:password@host:path` (no scheme).
                let start = word_start(rest, a);
                let userinfo = &rest[start..a];
                out.push_str(&rest[..start]);
                if userinfo.contains(':') {
                    out.push_str("***");
                } else {
                    out.push_str(userinfo);
                }
                out.push('@');
                rest = &rest[a + 1..];
            }
            _ => break,
        }
    }
    out.push_str(rest);
    out
}

/// Where the word holding byte `i` of `text` starts (after whitespace, quotes, brackets).
fn word_start(text: &str, i: usize) -> usize {
    text[..i]
        .rfind(|c: char| c.is_whitespace() || "`'\"<>()[]{},;".contains(c))
        .map_or(0, |j| j + 1)
}

fn is_url_end(c: char) -> bool {
    c.is_whitespace() || "`'\"<>()[]{},;".contains(c)
}

/// `path?a=1&b=2#f` → `path?a=***&b=***#f`: query values are where tokens travel.
fn redact_query(url: &str) -> String {
    let Some(q) = url.find('?') else {
        return url.to_string();
    };
    let (query, fragment) = match url[q + 1..].find('#') {
        Some(h) => (&url[q + 1..q + 1 + h], &url[q + 1 + h..]),
        None => (&url[q + 1..], ""),
    };
    let query: Vec<String> = query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((k, v)) if !v.is_empty() => format!("{k}=***"),
            _ => pair.to_string(),
        })
        .collect();
    format!("{}?{}{fragment}", &url[..q], query.join("&"))
}

/// libgit2's message, with URLs redacted and the token itself removed should it appear.
fn clean_message(e: &git2::Error, token: Option<&str>) -> String {
    let mut message = redact(e.message());
    if let Some(token) = token.filter(|t| t.len() >= 4) {
        message = message.replace(token, "***");
    }
    message
}

/// Default of `--fetch-timeout` (`RAILYARD_FETCH_TIMEOUT`).
pub const DEFAULT_FETCH_TIMEOUT: Duration = Duration::from_secs(60);

/// Sets libgit2's connect and socket timeouts to `budget`: call before each network
/// operation, with the budget the caller was given. (libgit2 keeps them process-wide; set
/// here, not at start-up, because setting them initialises libgit2 and loads OpenSSL's
/// certificate store, ~20 ms of CPU, which `check` on a folder never needs.)
pub fn apply_git_timeouts(budget: Duration) {
    let ms = budget.as_millis().clamp(1, i32::MAX as u128) as libc::c_int;
    // SAFETY: these set process-global integers in libgit2; they are not called
    // concurrently with themselves in a way that matters (every caller sets the same value).
    unsafe {
        let _ = git2::opts::set_server_connect_timeout_in_milliseconds(ms);
        let _ = git2::opts::set_server_timeout_in_milliseconds(ms);
    }
}

/// Whether `e` came from a transfer stopped by the budget: by our deadline callback
/// returning false (`User`), by a socket timeout libgit2 reports as such (`Timeout`), or
/// once the budget has run out. The last covers the connect timeout, which libgit2 reports
/// with a generic code: its socket timeouts are set to the budget (`apply_git_timeouts`), so
/// one can only fire after `started + budget`. No message text is read.
pub fn timed_out(e: &git2::Error, started: std::time::Instant, budget: Duration) -> bool {
    started.elapsed() >= budget || matches!(e.code(), ErrorCode::User | ErrorCode::Timeout)
}

/// The one set of remote callbacks every git network operation uses: credentials from the
/// environment variable `token_env` (https) or the ssh agent, never written anywhere (no
/// URL, no git config), and a deadline that stops a transfer still running at `deadline`.
pub fn remote_callbacks(token_env: Option<&str>, deadline: std::time::Instant) -> RemoteCallbacks<'static> {
    let token = token_env
        .and_then(|var| std::env::var(var).ok())
        .filter(|t| !t.is_empty());
    let token_env = token_env.map(str::to_string);
    let mut attempts = 0;
    let mut cb = RemoteCallbacks::new();
    cb.credentials(move |_url, username, allowed| {
        // libgit2 asks again after a rejected credential: give up instead of looping.
        attempts += 1;
        if attempts > 3 {
            return Err(git2::Error::from_str("authentication failed"));
        }
        if allowed.contains(CredentialType::SSH_KEY) {
            Cred::ssh_key_from_agent(username.unwrap_or("git"))
        } else if allowed.contains(CredentialType::USER_PASS_PLAINTEXT) {
            match (&token, token_env.as_deref()) {
                (Some(token), _) if attempts == 1 => Cred::userpass_plaintext("x-access-token", token),
                (Some(_), Some(var)) => Err(git2::Error::from_str(&format!(
                    "authentication failed with the token in ${var}"
                ))),
                (None, Some(var)) => Err(git2::Error::from_str(&format!(
                    "authentication required and ${var} is not set"
                ))),
                _ => Err(git2::Error::from_str(
                    "authentication required: name an environment variable holding a token \
                     with `token_env`",
                )),
            }
        } else if allowed.contains(CredentialType::USERNAME) {
            Cred::username(username.unwrap_or("git"))
        } else {
            Err(git2::Error::from_str("no supported authentication method"))
        }
    });
    // Returning false aborts the transfer (libgit2 reports a user-cancelled error).
    cb.transfer_progress(move |_| std::time::Instant::now() < deadline);
    cb.sideband_progress(move |_| std::time::Instant::now() < deadline);
    cb
}

/// Runs `f` again after a short sleep while another process holds a lock in the repository.
fn retry_locked<T>(mut f: impl FnMut() -> Result<T, git2::Error>) -> Result<T, git2::Error> {
    let mut attempt = 1;
    loop {
        match f() {
            Err(e)
                if attempt < LOCK_ATTEMPTS
                    && (e.code() == ErrorCode::Locked || e.message().to_ascii_lowercase().contains("lock")) =>
            {
                std::thread::sleep(Duration::from_millis(50 * u64::from(attempt)));
                attempt += 1;
            }
            other => return other,
        }
    }
}

/// The advertised ref a user's `ref` means: `HEAD` and full names as written, otherwise a
/// branch, then a tag.
fn pick_advertised(advertised: &[(String, Oid)], reference: &str) -> Option<String> {
    let candidates = if reference == "HEAD" || reference.starts_with("refs/") {
        vec![reference.to_string()]
    } else {
        vec![format!("refs/heads/{reference}"), format!("refs/tags/{reference}")]
    };
    candidates.into_iter().find(|c| advertised.iter().any(|(n, _)| n == c))
}

/// The commit `reference` names in the local repository at `path`, resolved like
/// [`pick_advertised`]; `None` when it cannot be read this way (the caller then fetches).
fn local_tip(path: &str, reference: &str) -> Option<Oid> {
    let repo = Repository::open(path).ok()?;
    let names = if reference == "HEAD" || reference.starts_with("refs/") {
        vec![reference.to_string()]
    } else {
        vec![format!("refs/heads/{reference}"), format!("refs/tags/{reference}")]
    };
    names.iter().find_map(|n| {
        let r = repo.find_reference(n).ok()?;
        r.peel_to_commit().ok().map(|c| c.id())
    })
}

/// A local source repository's tip: its commit, tree and objects folder.
struct LocalSource {
    tip: Oid,
    tree: Oid,
    objects: PathBuf,
}

fn local_source(path: &str, reference: &str) -> Option<LocalSource> {
    let repo = Repository::open(path).ok()?;
    let names = if reference == "HEAD" || reference.starts_with("refs/") {
        vec![reference.to_string()]
    } else {
        vec![format!("refs/heads/{reference}"), format!("refs/tags/{reference}")]
    };
    let commit = names
        .iter()
        .find_map(|n| repo.find_reference(n).ok()?.peel_to_commit().ok())?;
    Some(LocalSource {
        tip: commit.id(),
        tree: commit.tree_id(),
        objects: repo.commondir().join("objects").canonicalize().ok()?,
    })
}

/// Whether the cached repository lists `objects` in its alternates (see [`borrow_objects`]).
fn borrows(repo_path: &Path, objects: &Path) -> bool {
    let file = repo_path.join("objects").join("info").join("alternates");
    let line = objects.to_string_lossy();
    std::fs::read_to_string(file).is_ok_and(|text| text.lines().any(|l| l == line))
}

/// Whether the cached repository's (loose) ref `name` holds `tip`: the cache recorded that
/// commit before. A packed or missing ref is a no (the caller then takes the long way).
fn cached_ref_is(repo_path: &Path, name: &str, tip: Oid) -> bool {
    std::fs::read_to_string(repo_path.join(name)).is_ok_and(|text| text.trim() == tip.to_string())
}

/// [`local_tip`] and the folder of the source repository's objects.
fn local_tip_and_objects(path: &str, reference: &str) -> Option<(Oid, PathBuf)> {
    let tip = local_tip(path, reference)?;
    // The common folder: a linked worktree keeps its objects there.
    let objects = Repository::open(path).ok()?.commondir().join("objects");
    let objects = objects.canonicalize().ok()?;
    Some((tip, objects))
}

/// Lists `objects` (absolute) in the cached repository's `objects/info/alternates`, once;
/// written to a temporary file and renamed into place.
fn borrow_objects(repo_path: &Path, objects: &Path) -> std::io::Result<()> {
    let info = repo_path.join("objects").join("info");
    let file = info.join("alternates");
    let line = objects.to_string_lossy().into_owned();
    let current = std::fs::read_to_string(&file).unwrap_or_default();
    if current.lines().any(|l| l == line) {
        return Ok(());
    }
    std::fs::create_dir_all(&info)?;
    let mut tmp = tempfile::NamedTempFile::new_in(&info)?;
    std::io::Write::write_all(&mut tmp, format!("{current}{line}\n").as_bytes())?;
    tmp.persist(&file).map_err(|e| e.error)?;
    Ok(())
}

fn full_oid(reference: &str) -> Option<Oid> {
    let hex = reference.len() == 40 && reference.chars().all(|c| c.is_ascii_hexdigit());
    hex.then(|| Oid::from_str(reference).ok()).flatten()
}

fn is_local_path(repo: &str) -> bool {
    if repo.contains("://") {
        return false;
    }
    // scp-like `host:path` / `user@host:path`: a colon before the first slash.
    match (repo.find(':'), repo.find('/')) {
        (Some(c), Some(s)) => c > s || is_windows_drive(repo),
        (Some(_), None) => is_windows_drive(repo),
        _ => true,
    }
}

fn is_windows_drive(repo: &str) -> bool {
    let b = repo.as_bytes();
    b.len() >= 2 && b[0].is_ascii_alphabetic() && b[1] == b':'
}

/// The location libgit2 is given: URLs as written, local paths made absolute against
/// `base_dir` (and canonical when they exist, so the cache key is stable).
fn resolve_url(repo: &str, base_dir: &Path) -> String {
    let repo = repo.trim();
    if !is_local_path(repo) {
        return repo.to_string();
    }
    let path = match repo.strip_prefix("~/") {
        Some(rest) => dirs::home_dir().unwrap_or_default().join(rest),
        None => base_dir.join(repo),
    };
    let path = path.canonicalize().unwrap_or(path);
    path.to_string_lossy().into_owned()
}

fn sanitize(name: &str) -> String {
    let s: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .take(64)
        .collect();
    if s.is_empty() {
        "workload".into()
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn git_internals_are_dropped() {
        assert_eq!(
            super::without_git_internals(
                "`/x` is not a git repository: failed to resolve path '/x': No such file or directory; class=Os (2); code=NotFound (-3)"
            ),
            "`/x` is not a git repository: failed to resolve path '/x': No such file or directory"
        );
        assert_eq!(super::without_git_internals("a; class=Net (12): b"), "a: b");
        assert_eq!(super::without_git_internals("text; class=maybe"), "text; class=maybe");
    }

    use super::*;

    #[test]
    fn timeouts_are_told_by_error_code_and_budget_never_by_message_text() {
        let now = std::time::Instant::now();
        let minute = Duration::from_secs(60);
        let err = |code| git2::Error::new(code, git2::ErrorClass::Net, "could not read from socket: timed out");
        assert!(timed_out(&err(ErrorCode::Timeout), now, minute));
        assert!(timed_out(&err(ErrorCode::User), now, minute));
        // The words alone, well within the budget (e.g. a proxy's "504 gateway timed out"):
        // an unreachable workload, not our budget.
        assert!(!timed_out(&err(ErrorCode::GenericError), now, minute));
        assert!(timed_out(&err(ErrorCode::GenericError), now, Duration::ZERO));
    }

    #[test]
    fn redacts_credentials_in_urls() {
        assert_eq!(
            redact("failed https://bob:s3cret@git.example.com/a.git: 401"),
            "failed https://***@git.example.com/a.git: 401"
        );
        assert_eq!(redact("https://ghp_token@github.com/a"), "https://***@github.com/a");
        assert_eq!(redact("ssh://git@host/a"), "ssh://git@host/a");
        assert_eq!(redact("ssh://git:pw@host/a"), "ssh://***@host/a");
        assert_eq!(redact("git@host:org/a.git"), "git@host:org/a.git");
        assert_eq!(
            redact("https://host/a?x=y@z and http://u:p@h/"),
            "https://host/a?x=*** and http://***@h/"
        );
        assert_eq!(
            redact("`https://gitlab.example.com/a.git?private_token=glpat-x&ref=main#f`: 404"),
            "`https://gitlab.example.com/a.git?private_token=***&ref=***#f`: 404"
        );
        assert_eq!(redact("repo `bob:hunter2@host:org/a.git`"), "repo `***@host:org/a.git`");
        assert_eq!(redact("mail bob@example.com"), "mail bob@example.com");
        assert_eq!(
            redact("git://u:pw@h/a file://u:pw@localhost/x"),
            "git://***@h/a file://***@localhost/x"
        );
    }

    #[test]
    fn classifies_locations() {
        assert!(is_local_path("../apps/payments"));
        assert!(is_local_path("/srv/git/a"));
        assert!(!is_local_path("host:org/a"));
        assert!(is_local_path("dir/with:colon"));
        assert!(!is_local_path("git@github.com:org/a.git"));
        assert!(!is_local_path("file:///srv/a"));
        assert_eq!(resolve_url("https://h/a.git", Path::new("/x")), "https://h/a.git");
        assert_eq!(resolve_url("nope/a", Path::new("/x")), "/x/nope/a");
        assert_eq!(sanitize("payments.api/v2"), "payments_api_v2");
    }

    #[test]
    fn picks_branch_before_tag() {
        let oid = Oid::ZERO_SHA1;
        let adv = vec![
            ("HEAD".to_string(), oid),
            ("refs/heads/main".to_string(), oid),
            ("refs/tags/main".to_string(), oid),
            ("refs/tags/v1".to_string(), oid),
        ];
        assert_eq!(pick_advertised(&adv, "main").unwrap(), "refs/heads/main");
        assert_eq!(pick_advertised(&adv, "v1").unwrap(), "refs/tags/v1");
        assert_eq!(pick_advertised(&adv, "HEAD").unwrap(), "HEAD");
        assert!(pick_advertised(&adv, "nope").is_none());
    }
}
