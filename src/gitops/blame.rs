//! Attribution: who last changed the lines of a finding. `git blame` (libgit2) on the
//! workload's cached bare repository at the evaluated commit, restricted to the resource's
//! lines; of the hunks covering them, the newest wins.

use git2::{BlameOptions, Oid, Repository};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::path::Path;

/// The commit that last changed a resource's lines.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LastChange {
    /// Full commit id.
    pub commit: String,
    pub author: String,
    /// Author date, `YYYY-MM-DD` (UTC).
    pub date: String,
}

impl LastChange {
    /// `last changed by NAME in abc1234 on DATE`
    pub fn describe(&self) -> String {
        format!(
            "last changed by {} in {} on {}",
            self.author,
            &self.commit[..self.commit.len().min(7)],
            self.date
        )
    }
}

/// Blames files in one repository, each (commit, file) once: a file with many findings
/// (a module with dozens of resources) is blamed whole and every finding's lines are
/// answered from its hunks, instead of one blame, each walking the file's history, per
/// finding. What it blamed is written to the cache when it is dropped.
pub struct Blamer {
    path: std::path::PathBuf,
    /// Opened on the first blame the cache cannot answer (a warm run opens none).
    repo: Option<Option<Repository>>,
    commits: HashMap<String, CommitBlames>,
    cache: Option<BlameCache>,
}

/// The blamed files of one commit, as read from the cache and added to since.
#[derive(Default)]
struct CommitBlames {
    files: BTreeMap<String, Option<Vec<Hunk>>>,
    /// Files blamed since the cache was read: the entry is written again.
    added: bool,
}

/// Blames kept between runs, one file per commit, `<cache>/blame/<key>.json` (a SHA-256 of
/// the commit), holding the hunks of each of its files blamed so far: a commit never
/// changes, so neither does its blame, and a warm observation of a fleet reads one file per
/// workload and blames only files of new commits. Written atomically; with
/// `RAILYARD_LEDGER_KEY` each entry carries an HMAC, and one that fails it is blamed again.
#[derive(Clone)]
pub struct BlameCache {
    dir: std::path::PathBuf,
    key: Option<crate::seal::SealKey>,
}

#[derive(Serialize, Deserialize)]
struct CachedBlame {
    files: BTreeMap<String, Vec<Hunk>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    mac: Option<String>,
}

/// [`CachedBlame`] as written (borrowing what the blamer holds).
#[derive(Serialize)]
struct StoredBlame<'a> {
    files: &'a BTreeMap<&'a String, &'a Vec<Hunk>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    mac: Option<String>,
}

impl BlameCache {
    pub fn new(cache_dir: &Path, key: Option<crate::seal::SealKey>) -> BlameCache {
        BlameCache {
            dir: cache_dir.join("blame"),
            key,
        }
    }

    fn path(&self, commit: &str) -> std::path::PathBuf {
        use sha2::Digest;
        let mut h = sha2::Sha256::new();
        h.update(b"railyard-blame-v2\0");
        h.update(commit.as_bytes());
        self.dir.join(format!("{}.json", hex::encode(h.finalize())))
    }

    fn signed(&self, commit: &str, body: &[u8]) -> Option<String> {
        Some(self.key.as_ref()?.mac([commit.as_bytes(), body]))
    }

    /// The files of `commit` blamed before; empty when none were, or (with a key) when the
    /// entry fails verification.
    fn load(&self, commit: &str) -> BTreeMap<String, Vec<Hunk>> {
        let Ok(bytes) = std::fs::read(self.path(commit)) else {
            return BTreeMap::new();
        };
        let Ok(c) = serde_json::from_slice::<CachedBlame>(&bytes) else {
            return BTreeMap::new();
        };
        if let Some(key) = &self.key {
            let verified = serde_json::to_vec(&c.files)
                .ok()
                .zip(c.mac.as_deref())
                .is_some_and(|(body, mac)| key.verify([commit.as_bytes(), body.as_slice()], mac));
            if !verified {
                return BTreeMap::new();
            }
        }
        c.files
    }

    fn store(&self, commit: &str, files: &BTreeMap<String, Option<Vec<Hunk>>>) {
        // Files that could not be blamed are not kept: they are tried again next time.
        let files: BTreeMap<&String, &Vec<Hunk>> = files.iter().filter_map(|(f, h)| Some((f, h.as_ref()?))).collect();
        // Best effort: attribution is information, and a failed write only costs a blame.
        let _ = (|| -> std::io::Result<()> {
            let body = serde_json::to_vec(&files).map_err(std::io::Error::other)?;
            let entry = serde_json::to_vec(&StoredBlame {
                files: &files,
                mac: self.signed(commit, &body),
            })
            .map_err(std::io::Error::other)?;
            std::fs::create_dir_all(&self.dir)?;
            let mut tmp = tempfile::NamedTempFile::new_in(&self.dir)?;
            std::io::Write::write_all(&mut tmp, &entry)?;
            tmp.persist(self.path(commit)).map_err(|e| e.error)?;
            Ok(())
        })();
    }
}

/// Lines `start..=end` last changed by `change` (at `when`, seconds since the epoch).
#[derive(Serialize, Deserialize)]
struct Hunk {
    start: usize,
    end: usize,
    when: i64,
    change: LastChange,
}

impl Blamer {
    /// A blamer of the repository at `repo_path`. Without a cache it is opened now (`None`
    /// when it cannot be: attribution is best effort); with one, when first needed.
    pub fn open(repo_path: &Path, cache: Option<&BlameCache>) -> Option<Blamer> {
        let repo = match cache {
            Some(_) => None,
            None => Some(Some(Repository::open(repo_path).ok()?)),
        };
        Some(Blamer {
            path: repo_path.to_path_buf(),
            repo,
            commits: HashMap::new(),
            cache: cache.cloned(),
        })
    }

    /// The newest change to `file` lines `line..=end_line` (1-based) as of `commit`.
    /// `None` when the file, lines or commit are unknown.
    pub fn last_change(&mut self, commit: &str, file: &str, line: usize, end_line: usize) -> Option<LastChange> {
        if file.is_empty() || line == 0 {
            return None;
        }
        let end_line = end_line.max(line);
        if !self.commits.contains_key(commit) {
            let cached = self.cache.as_ref().map(|c| c.load(commit)).unwrap_or_default();
            let files = cached.into_iter().map(|(f, h)| (f, Some(h))).collect();
            self.commits
                .insert(commit.to_string(), CommitBlames { files, added: false });
        }
        if !self.commits[commit].files.contains_key(file) {
            let hunks = self.blame(commit, file);
            let blames = self.commits.get_mut(commit).expect("inserted above");
            blames.added |= hunks.is_some();
            blames.files.insert(file.to_string(), hunks);
        }
        self.commits[commit].files[file]
            .as_ref()?
            .iter()
            .filter(|h| h.start <= end_line && h.end >= line)
            .max_by_key(|h| h.when)
            .map(|h| h.change.clone())
    }

    fn blame(&mut self, commit: &str, file: &str) -> Option<Vec<Hunk>> {
        let oid = Oid::from_str(commit).ok()?;
        let mut opts = BlameOptions::new();
        opts.newest_commit(oid);
        let path = &self.path;
        let repo = self.repo.get_or_insert_with(|| Repository::open(path).ok()).as_ref()?;
        let blame = repo.blame_file(Path::new(file), Some(&mut opts)).ok()?;
        let hunks = blame
            .iter()
            .filter_map(|h| {
                let start = h.final_start_line();
                let end = start + h.lines_in_hunk().saturating_sub(1);
                let sig = h.final_signature()?;
                let when = sig.when().seconds();
                let date = time::OffsetDateTime::from_unix_timestamp(when)
                    .map(|t| crate::date::Day(t.date()).to_string())
                    .unwrap_or_default();
                Some(Hunk {
                    start,
                    end,
                    when,
                    change: LastChange {
                        commit: h.final_commit_id().to_string(),
                        author: String::from_utf8_lossy(sig.name_bytes()).into_owned(),
                        date,
                    },
                })
            })
            .collect();
        Some(hunks)
    }
}

impl Drop for Blamer {
    /// Keeps what was blamed for the next run.
    fn drop(&mut self) {
        if let Some(cache) = &self.cache {
            for (commit, blames) in self.commits.iter().filter(|(_, b)| b.added) {
                cache.store(commit, &blames.files);
            }
        }
    }
}

/// Why the commits behind an exception's lines could not be found (its approval is then
/// unverified, never verified).
#[derive(Debug, thiserror::Error)]
pub enum BlameError {
    #[error("{}", .0.message())]
    Repo(git2::Error),
    #[error("blame {file}: {}", .error.message())]
    Blame { file: String, error: git2::Error },
}

/// Every commit that last changed one of `file`'s lines `line..=end_line` as of `commit`
/// (each once), with its signature: what governance checks an exception's approval against.
/// Unlike [`Blamer::last_change`] it takes every hunk, not only the newest, so no line of
/// an exception can come from an unsigned commit.
pub fn line_commits(
    repo_path: &Path,
    commit: &str,
    file: &str,
    line: usize,
    end_line: usize,
) -> Result<Vec<crate::guardrail::governance::CommitEvidence>, BlameError> {
    let repo = Repository::open(repo_path).map_err(BlameError::Repo)?;
    let oid = Oid::from_str(commit).map_err(BlameError::Repo)?;
    let mut opts = BlameOptions::new();
    opts.newest_commit(oid).min_line(line).max_line(end_line.max(line));
    let blame = repo
        .blame_file(Path::new(file), Some(&mut opts))
        .map_err(|error| BlameError::Blame {
            file: file.to_string(),
            error,
        })?;
    let mut ids: Vec<Oid> = Vec::new();
    for h in blame.iter() {
        if !ids.contains(&h.final_commit_id()) {
            ids.push(h.final_commit_id());
        }
    }
    Ok(ids
        .into_iter()
        .map(|id| crate::guardrail::governance::CommitEvidence {
            id: id.to_string(),
            // An unsigned commit has no signature: `extract_signature` fails with NotFound.
            signature: repo
                .extract_signature(&id, None)
                .ok()
                .map(|(sig, data)| (sig.to_vec(), data.to_vec())),
        })
        .collect())
}

/// The newest commit on `branch` (first-parent and merged history, newest first) whose
/// `path` holds blob `blob`, looking at most `limit` commits back. Promotion commits on
/// `main` are written by Railyard and carry a file from `develop`: this finds where that
/// exact content lives on `develop`, whose history says who wrote (and signed) its lines.
pub fn commit_holding(repo_path: &Path, branch: &str, path: &str, blob: &str, limit: usize) -> Option<String> {
    let repo = Repository::open(repo_path).ok()?;
    let blob = Oid::from_str(blob).ok()?;
    let mut walk = repo.revwalk().ok()?;
    walk.push(Oid::from_str(branch).ok()?).ok()?;
    walk.set_sorting(git2::Sort::TOPOLOGICAL | git2::Sort::TIME).ok()?;
    for id in walk.take(limit).flatten() {
        let holds = repo
            .find_commit(id)
            .and_then(|c| c.tree())
            .and_then(|t| t.get_path(Path::new(path)))
            .is_ok_and(|e| e.id() == blob);
        if holds {
            return Some(id.to_string());
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn commit(repo: &Repository, who: &str, at: i64, text: &str) -> String {
        let sig = git2::Signature::new(who, "x@example.com", &git2::Time::new(at, 0)).unwrap();
        let blob = repo.blob(text.as_bytes()).unwrap();
        let mut tb = repo.treebuilder(None).unwrap();
        tb.insert("main.tf", blob, 0o100644).unwrap();
        let tree = repo.find_tree(tb.write().unwrap()).unwrap();
        let parent = repo.head().ok().and_then(|h| h.peel_to_commit().ok());
        let parents: Vec<&git2::Commit> = parent.iter().collect();
        repo.commit(Some("HEAD"), &sig, &sig, "c", &tree, &parents)
            .unwrap()
            .to_string()
    }

    #[test]
    fn each_resource_gets_the_newest_change_to_its_own_lines_from_one_blame_of_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let repo = Repository::init(dir.path()).unwrap();
        let first = "resource \"a\" \"x\" {\n  v = 1\n}\nresource \"b\" \"y\" {\n  v = 1\n}\n";
        commit(&repo, "Alice", 1_700_000_000, first);
        let second = first.replace("y\" {\n  v = 1", "y\" {\n  v = 2");
        let head = commit(&repo, "Bob", 1_800_000_000, &second);
        let mut b = Blamer::open(dir.path(), None).unwrap();
        assert_eq!(b.last_change(&head, "main.tf", 1, 3).unwrap().author, "Alice");
        let bob = b.last_change(&head, "main.tf", 4, 6).unwrap();
        assert_eq!((bob.author.as_str(), bob.commit.as_str()), ("Bob", head.as_str()));
        // Lines past the end and unknown files have no attribution.
        assert_eq!(b.last_change(&head, "main.tf", 40, 41), None);
        assert_eq!(b.last_change(&head, "other.tf", 1, 1), None);
        assert_eq!(b.commits[&head].files.len(), 2, "one blame per (commit, file)");

        // Kept between runs, keyed by commit and file; with a key, an edited entry is
        // blamed again rather than believed.
        let cache_dir = tempfile::tempdir().unwrap();
        let key = crate::seal::SealKey::new("a-secret-of-enough-length-0123456789").unwrap();
        let cache = BlameCache::new(cache_dir.path(), Some(key.clone()));
        let mut b = Blamer::open(dir.path(), Some(&cache)).unwrap();
        assert_eq!(b.last_change(&head, "main.tf", 4, 6).unwrap().author, "Bob");
        drop(b); // written when the blamer is done
        let entry = cache.path(&head);
        let text = std::fs::read_to_string(&entry).unwrap();
        assert!(text.contains("Bob"), "{text}");
        std::fs::write(&entry, text.replace("Bob", "Mallory")).unwrap();
        let mut again = Blamer::open(dir.path(), Some(&cache)).unwrap();
        assert_eq!(again.last_change(&head, "main.tf", 4, 6).unwrap().author, "Bob");
        drop(again); // blamed again, so written again
        let unkeyed = BlameCache::new(cache_dir.path(), None);
        std::fs::write(&entry, std::fs::read_to_string(&entry).unwrap().replace("Bob", "Carol")).unwrap();
        let mut trusting = Blamer::open(dir.path(), Some(&unkeyed)).unwrap();
        assert_eq!(trusting.last_change(&head, "main.tf", 4, 6).unwrap().author, "Carol");
    }
}
