//! Source files as Railyard reads them: a snapshot of (relative path, bytes), taken either
//! from a directory on disk or from a git tree. Parsers and guardrail loaders only ever see
//! this snapshot, so the same code judges a local checkout and a commit read from git objects.

use std::path::{Component, Path};

/// One file of a workload or of a guardrails tree. `path` is relative to the root that was
/// read, always `/`-separated.
#[derive(Debug, Clone)]
pub struct SourceFile {
    pub path: String,
    pub bytes: Vec<u8>,
}

impl SourceFile {
    pub fn new(path: impl Into<String>, bytes: impl Into<Vec<u8>>) -> Self {
        SourceFile {
            path: path.into(),
            bytes: bytes.into(),
        }
    }

    /// The file's text, or a message naming the line of the first invalid byte.
    pub fn text(&self) -> Result<&str, crate::workload::ParseError> {
        std::str::from_utf8(&self.bytes).map_err(|e| {
            let line = self.bytes[..e.valid_up_to()].iter().filter(|b| **b == b'\n').count() + 1;
            crate::workload::ParseError::new(&self.path, line, "file is not valid UTF-8")
        })
    }

    /// The folder part of the path ("" for files at the root).
    pub fn dir(&self) -> &str {
        match self.path.rfind('/') {
            Some(i) => &self.path[..i],
            None => "",
        }
    }

    pub fn file_name(&self) -> &str {
        match self.path.rfind('/') {
            Some(i) => &self.path[i + 1..],
            None => &self.path,
        }
    }
}

/// Folders never read: VCS metadata, provider caches, dependency trees.
pub const SKIPPED_DIRS: &[&str] = &[".git", ".terraform", "node_modules", ".venv", "vendor", "target"];

/// Limits that keep one hostile workload from exhausting the machine.
#[derive(Debug, Clone, Copy)]
pub struct ReadLimits {
    pub max_file_bytes: u64,
    pub max_total_bytes: u64,
}

impl Default for ReadLimits {
    fn default() -> Self {
        ReadLimits {
            max_file_bytes: 8 * 1024 * 1024,
            max_total_bytes: 512 * 1024 * 1024,
        }
    }
}

/// A file that was not read, and why (too large, a symlink, unreadable).
#[derive(Debug, Clone, serde::Serialize)]
pub struct Skipped {
    pub path: String,
    pub reason: String,
}

/// Reads every regular file below `root`. Symlinks are never followed: a link is a path
/// string, not a file to open, so a workload cannot make Railyard read outside itself.
pub fn read_dir(root: &Path, limits: ReadLimits) -> std::io::Result<(Vec<SourceFile>, Vec<Skipped>)> {
    let mut files = Vec::new();
    let mut skipped = Vec::new();
    let mut total = 0u64;
    let meta = std::fs::metadata(root)?;
    if meta.is_file() {
        let name = root
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        files.push(SourceFile::new(name, std::fs::read(root)?));
        return Ok((files, skipped));
    }
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let mut entries: Vec<_> = std::fs::read_dir(&dir)?.collect::<Result<_, _>>()?;
        entries.sort_by_key(|e| e.file_name());
        for entry in entries {
            let path = entry.path();
            let rel = relative(root, &path);
            let ft = entry.file_type()?;
            if ft.is_symlink() {
                skipped.push(Skipped {
                    path: rel,
                    reason: "symbolic link (not followed)".into(),
                });
            } else if ft.is_dir() {
                let name = entry.file_name();
                if !SKIPPED_DIRS.iter().any(|s| name == std::ffi::OsStr::new(s)) {
                    stack.push(path);
                }
            } else if ft.is_file() {
                let len = entry.metadata()?.len();
                if len > limits.max_file_bytes {
                    skipped.push(Skipped {
                        path: rel,
                        reason: format!("too large ({len} bytes, limit {})", limits.max_file_bytes),
                    });
                    continue;
                }
                total += len;
                if total > limits.max_total_bytes {
                    skipped.push(Skipped {
                        path: rel,
                        reason: "workload size limit reached".into(),
                    });
                    continue;
                }
                files.push(SourceFile::new(rel, std::fs::read(&path)?));
            }
        }
    }
    files.sort_by(|a, b| a.path.cmp(&b.path));
    Ok((files, skipped))
}

fn relative(root: &Path, path: &Path) -> String {
    let rel = path.strip_prefix(root).unwrap_or(path);
    rel.components()
        .filter_map(|c| match c {
            Component::Normal(s) => Some(s.to_string_lossy().into_owned()),
            _ => None,
        })
        .collect::<Vec<_>>()
        .join("/")
}
