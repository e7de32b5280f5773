//! Attribution: who last changed the lines of a finding. `git blame` (libgit2) on the
//! workload's cached bare repository at the evaluated commit, restricted to the resource's
//! lines; of the hunks covering them, the newest wins.

use git2::{BlameOptions, Oid, Repository};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
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

/// Blames lines of files in one repository, remembering answers (several guardrails often
/// point at the same resource).
pub struct Blamer {
    repo: Repository,
    seen: HashMap<(String, String, usize, usize), Option<LastChange>>,
}

impl Blamer {
    /// Opens the repository; `None` when it cannot be opened (attribution is best effort).
    pub fn open(repo_path: &Path) -> Option<Blamer> {
        Repository::open(repo_path).ok().map(|repo| Blamer {
            repo,
            seen: HashMap::new(),
        })
    }

    /// The newest change to `file` lines `line..=end_line` (1-based) as of `commit`.
    /// `None` when the file, lines or commit are unknown.
    pub fn last_change(&mut self, commit: &str, file: &str, line: usize, end_line: usize) -> Option<LastChange> {
        if file.is_empty() || line == 0 {
            return None;
        }
        let end_line = end_line.max(line);
        let key = (commit.to_string(), file.to_string(), line, end_line);
        if let Some(v) = self.seen.get(&key) {
            return v.clone();
        }
        let v = self.compute(commit, file, line, end_line);
        self.seen.insert(key, v.clone());
        v
    }

    fn compute(&self, commit: &str, file: &str, line: usize, end_line: usize) -> Option<LastChange> {
        let oid = Oid::from_str(commit).ok()?;
        let mut opts = BlameOptions::new();
        opts.newest_commit(oid).min_line(line).max_line(end_line);
        let blame = match self.repo.blame_file(Path::new(file), Some(&mut opts)) {
            Ok(b) => b,
            // Lines past the end of the file (a stale line number): blame the whole file.
            Err(_) => {
                let mut opts = BlameOptions::new();
                opts.newest_commit(oid);
                self.repo.blame_file(Path::new(file), Some(&mut opts)).ok()?
            }
        };
        let newest = blame
            .iter()
            .filter(|h| {
                let start = h.final_start_line();
                let end = start + h.lines_in_hunk().saturating_sub(1);
                start <= end_line && end >= line
            })
            .max_by_key(|h| h.final_signature().map(|s| s.when().seconds()).unwrap_or(0))?;
        let sig = newest.final_signature()?;
        let date = time::OffsetDateTime::from_unix_timestamp(sig.when().seconds())
            .map(|t| crate::date::Day(t.date()).to_string())
            .unwrap_or_default();
        Some(LastChange {
            commit: newest.final_commit_id().to_string(),
            author: String::from_utf8_lossy(sig.name_bytes()).into_owned(),
            date,
        })
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
