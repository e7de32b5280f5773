//! Source files as Railyard reads them: a snapshot of (relative path, bytes), taken either
//! from a directory on disk or from a git tree. Parsers and guardrail loaders only ever see
//! this snapshot, so the same code judges a local checkout and a commit read from git objects.
//!
//! Also the file vocabulary the readers and the parsers share ([`ResourceKind`],
//! [`ParseError`], [`has_ext`]): at the bottom of the layers, so readers never depend on the
//! parsers (what is code is passed in, see [`ReadLimits::code_only`]).

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
    pub fn text(&self) -> Result<&str, ParseError> {
        std::str::from_utf8(&self.bytes).map_err(|e| {
            let line = self.bytes[..e.valid_up_to()].iter().filter(|b| **b == b'\n').count() + 1;
            ParseError::new(&self.path, line, "file is not valid UTF-8")
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

/// Skipped folders that are entered all the same for Terraform module code: a module call
/// may point into `vendor/`, and `terraform init` downloads remote modules into
/// `.terraform/modules/`. Only [`is_module_code`] files are read there.
pub const MODULE_DIRS: &[&str] = &["vendor", ".terraform"];

/// Whether a reader enters a folder of this name.
pub fn enter_dir(name: &str) -> bool {
    !SKIPPED_DIRS.contains(&name) || MODULE_DIRS.contains(&name)
}

/// Whether a path lies below a skipped folder: such a file is read only as the module a
/// Terraform call points at, never as code of its own.
pub fn module_only(path: &str) -> bool {
    let mut parts: Vec<&str> = path.split('/').collect();
    parts.pop();
    parts.iter().any(|p| SKIPPED_DIRS.contains(p))
}

/// The files read below a skipped folder: Terraform configuration, and the module manifest
/// `terraform init` writes (`.terraform/modules/modules.json`). Below `.terraform/`, only
/// `modules/` holds code (not providers, not cached state).
pub fn is_module_code(path: &str) -> bool {
    let parts: Vec<&str> = path.split('/').collect();
    let folders = &parts[..parts.len() - 1];
    let outside_modules = folders
        .iter()
        .enumerate()
        .any(|(i, f)| *f == ".terraform" && folders.get(i + 1) != Some(&"modules"));
    !outside_modules
        && (has_ext(path, ".tf")
            || has_ext(path, ".tf.json")
            || path == ".terraform/modules/modules.json"
            || path.ends_with("/.terraform/modules/modules.json"))
}

/// Limits that keep one hostile workload from exhausting the machine (see `docs/limits.md`).
#[derive(Debug, Clone, Copy)]
pub struct ReadLimits {
    pub max_file_bytes: u64,
    pub max_total_bytes: u64,
    /// Read only the files this test accepts (by name; for a workload, the parsers'
    /// `workload::parser::is_code_path`); others are neither read nor listed. `None`: all.
    /// A function rather than a flag: what is code is the parsers' business, above this layer.
    pub code_only: Option<fn(&str) -> bool>,
}

impl Default for ReadLimits {
    fn default() -> Self {
        let d = crate::limits::Limits::default();
        ReadLimits {
            max_file_bytes: d.max_file_bytes,
            max_total_bytes: d.max_workload_bytes,
            code_only: None,
        }
    }
}

impl ReadLimits {
    /// Whether a file of this path is read at all (see [`ReadLimits::code_only`]).
    pub fn wants(&self, path: &str) -> bool {
        self.code_only.is_none_or(|is_code| is_code(path))
    }

    /// Why a file of `len` bytes is not read when `total` bytes were read before it.
    pub fn refuse(&self, len: u64, total: u64) -> Option<String> {
        use crate::limits::show_size;
        if len > self.max_file_bytes {
            Some(format!(
                "too large ({}, limit {}; see --max-file-size)",
                show_size(len),
                show_size(self.max_file_bytes)
            ))
        } else if total.saturating_add(len) > self.max_total_bytes {
            Some(format!(
                "workload size limit reached ({} read, limit {}; see --max-workload-size)",
                show_size(total),
                show_size(self.max_total_bytes)
            ))
        } else {
            None
        }
    }
}

/// A file of the workload that was not evaluated, and why: not read (too large, a symlink,
/// unreadable), or read but not evaluable as it is (a Helm template that was not rendered).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Skipped {
    pub path: String,
    pub reason: String,
    /// The kind of code the file holds, when known: only guardrails that judge that kind are
    /// unknown because of it. `None` (a file that was not read): every guardrail is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<ResourceKind>,
}

impl Skipped {
    /// What would get this code evaluated, said before the command's own way to exclude the
    /// path. By kind: Terraform code is skipped only where a module call could not be
    /// followed; CloudFormation where a macro writes the template at deployment; Kubernetes
    /// code where a chart or kustomization was not rendered.
    pub fn remedy(&self) -> &'static str {
        match self.kind {
            Some(ResourceKind::Terraform) => {
                "run `terraform init` in the root module so .terraform/modules/modules.json exists, or vendor the module into the workload"
            }
            Some(ResourceKind::Cloudformation) => {
                "check the processed template instead (`aws cloudformation get-template --template-stage Processed`)"
            }
            _ => "install the renderer",
        }
    }

    /// A file that was not read: its content, so its kind, is unknown.
    pub fn unread(path: impl Into<String>, reason: impl Into<String>) -> Self {
        Skipped {
            path: path.into(),
            reason: reason.into(),
            kind: None,
        }
    }
}

/// Reads every regular file below `root`. Symlinks are never followed: a link is a path
/// string, not a file to open, so a workload cannot make Railyard read outside itself. FIFOs,
/// sockets and devices are never opened. Files over the limits are listed, not read.
pub fn read_dir(root: &Path, limits: ReadLimits) -> std::io::Result<(Vec<SourceFile>, Vec<Skipped>)> {
    read_dir_pruned(root, limits, |_| false)
}

/// [`read_dir`], not entering the folders (paths relative to `root`) `prune` names: what
/// they hold is neither read nor listed.
pub fn read_dir_pruned(
    root: &Path,
    limits: ReadLimits,
    prune: fn(&str) -> bool,
) -> std::io::Result<(Vec<SourceFile>, Vec<Skipped>)> {
    let mut files = Vec::new();
    let mut skipped = Vec::new();
    let mut total = 0u64;
    let meta = std::fs::metadata(root)?;
    if !meta.is_dir() {
        // One file named on the command line (a link to it is the caller's choice).
        let name = root
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if !meta.is_file() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!("not a folder or a regular file ({})", kind_of(&meta.file_type())),
            ));
        }
        match read_regular(root, &limits, 0, false)? {
            Ok(bytes) => files.push(SourceFile::new(name, bytes)),
            Err(reason) => skipped.push(Skipped::unread(name, reason)),
        }
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
            let wanted = if module_only(&rel) {
                is_module_code(&rel)
            } else {
                limits.wants(&rel)
            };
            if !wanted && !ft.is_dir() && module_only(&rel) {
                // Below `vendor/` or `.terraform/`, only module code is of interest.
                continue;
            }
            if ft.is_symlink() {
                let target = std::fs::read_link(&path)
                    .map(|t| format!(" to `{}`", t.display()))
                    .unwrap_or_default();
                skipped.push(Skipped::unread(rel, format!("symbolic link{target} (not followed)")));
            } else if ft.is_dir() {
                if entry.file_name().to_str().is_none_or(enter_dir) && !prune(&rel) {
                    stack.push(path);
                }
            } else if !ft.is_file() {
                skipped.push(Skipped::unread(
                    rel,
                    format!("not a regular file ({}, not opened)", kind_of(&ft)),
                ));
            } else if wanted {
                match read_regular(&path, &limits, total, true) {
                    Ok(Ok(bytes)) => {
                        total += bytes.len() as u64;
                        files.push(SourceFile::new(rel, bytes));
                    }
                    Ok(Err(reason)) => skipped.push(Skipped::unread(rel, reason)),
                    Err(e) => skipped.push(Skipped::unread(rel, format!("unreadable: {e}"))),
                }
            }
        }
    }
    files.sort_by(|a, b| a.path.cmp(&b.path));
    Ok((files, skipped))
}

/// Opens a regular file without following a symlink and without blocking on a FIFO that
/// replaced it since it was listed, then reads at most the limit: the size is checked on the
/// open file, and a file that grows while read is cut off and refused, not read whole.
fn read_regular(
    path: &Path,
    limits: &ReadLimits,
    total: u64,
    no_follow: bool,
) -> std::io::Result<Result<Vec<u8>, String>> {
    use std::io::Read;
    let mut opts = std::fs::OpenOptions::new();
    opts.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        let follow = if no_follow { libc::O_NOFOLLOW } else { 0 };
        opts.custom_flags(follow | libc::O_NONBLOCK | libc::O_CLOEXEC);
    }
    #[cfg(not(unix))]
    let _ = no_follow;
    let file = opts.open(path)?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Ok(Err(format!(
            "not a regular file ({}, not read)",
            kind_of(&meta.file_type())
        )));
    }
    if let Some(reason) = limits.refuse(meta.len(), total) {
        return Ok(Err(reason));
    }
    let cap = limits.max_file_bytes.min(limits.max_total_bytes.saturating_sub(total));
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    file.take(cap.saturating_add(1)).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > cap {
        return Ok(Err(limits
            .refuse(bytes.len() as u64, total)
            .unwrap_or_else(|| "grew while being read (not read)".into())));
    }
    Ok(Ok(bytes))
}

/// What kind of non-regular file this is, for messages.
fn kind_of(ft: &std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if ft.is_fifo() {
            return "a FIFO";
        } else if ft.is_socket() {
            return "a socket";
        } else if ft.is_block_device() || ft.is_char_device() {
            return "a device";
        }
    }
    if ft.is_symlink() {
        "a symbolic link"
    } else if ft.is_dir() {
        "a folder"
    } else {
        "a special file"
    }
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

// File classification: what the readers and the parsers both name.

/// Which parser produced a resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ResourceKind {
    Terraform,
    TerraformPlan,
    Cloudformation,
    Kubernetes,
}

impl ResourceKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ResourceKind::Terraform => "terraform",
            ResourceKind::TerraformPlan => "terraform-plan",
            ResourceKind::Cloudformation => "cloudformation",
            ResourceKind::Kubernetes => "kubernetes",
        }
    }
}

/// A file that could not be parsed, with the line where parsing failed.
#[derive(Debug, Clone, PartialEq, Eq, Hash, thiserror::Error, serde::Serialize, serde::Deserialize)]
#[error("{file}:{line}: {message}")]
pub struct ParseError {
    pub file: String,
    pub line: usize,
    pub message: String,
}

impl ParseError {
    pub fn new(file: impl Into<String>, line: usize, message: impl Into<String>) -> Self {
        ParseError {
            file: file.into(),
            line,
            message: message.into(),
        }
    }
}

/// Extension test that ignores case. Compares bytes: slicing the `str` could split a
/// multi-byte character at the end of a file name (`ab€€`) and panic.
pub fn has_ext(path: &str, ext: &str) -> bool {
    let (path, ext) = (path.as_bytes(), ext.as_bytes());
    path.len() > ext.len() && path[path.len() - ext.len()..].eq_ignore_ascii_case(ext)
}

#[cfg(test)]
#[test]
fn module_code_below_skipped_folders() {
    assert!(module_only("vendor/acme/db/main.tf") && is_module_code("vendor/acme/db/main.tf"));
    assert!(is_module_code("envs/prod/.terraform/modules/modules.json"));
    assert!(is_module_code(".terraform/modules/vpc/main.tf.json"));
    assert!(!is_module_code(".terraform/providers/x/main.tf"));
    assert!(!is_module_code("infra/.terraform/cached.tf"));
    assert!(!is_module_code("vendor/k8s/deploy.yaml"));
    assert!(!module_only("vendor.tf") && !module_only("envs/vendor.tf"));
    assert!(enter_dir("vendor") && enter_dir(".terraform") && !enter_dir(".git") && !enter_dir("node_modules"));
}

/// Paths a workload excludes (`exclude` in `workloads.toml`, `check --exclude`): globs over
/// `/`-separated paths relative to the workload. A glob that matches a folder excludes
/// everything below it. Excluded files are neither parsed nor listed as skipped.
#[derive(Debug, Clone, Default)]
pub struct Exclude(Option<globset::GlobSet>);

impl Exclude {
    pub fn new(globs: &[String]) -> Result<Self, globset::Error> {
        if globs.is_empty() {
            return Ok(Exclude(None));
        }
        let mut set = globset::GlobSetBuilder::new();
        for g in globs {
            set.add(
                globset::GlobBuilder::new(g.trim_end_matches('/'))
                    .literal_separator(true)
                    .build()?,
            );
        }
        Ok(Exclude(Some(set.build()?)))
    }

    /// Whether the path, or a folder above it, matches a glob.
    pub fn excludes(&self, path: &str) -> bool {
        let Some(set) = &self.0 else { return false };
        set.is_match(path) || path.match_indices('/').any(|(i, _)| set.is_match(&path[..i]))
    }

    /// Drops the excluded files and skipped entries.
    pub fn apply(&self, files: &mut Vec<SourceFile>, skipped: &mut Vec<Skipped>) {
        if self.0.is_some() {
            files.retain(|f| !self.excludes(&f.path));
            skipped.retain(|s| !self.excludes(&s.path));
        }
    }
}

#[cfg(test)]
#[test]
fn exclude_matches_files_and_folders() {
    let e = Exclude::new(&["charts/**".into(), "legacy".into(), "*.json".into()]).unwrap();
    assert!(e.excludes("charts/web/templates/d.yaml"));
    assert!(e.excludes("legacy/main.tf"));
    assert!(e.excludes("plan.json"));
    assert!(!e.excludes("sub/plan.json"), "`*` stays within one folder");
    assert!(!e.excludes("legacy2/main.tf"));
    assert!(!Exclude::default().excludes("a"));
    assert!(Exclude::new(&["a[".into()]).is_err());
}

/// A path as written for people: no doubled or trailing `/`, no leading `./`
/// (`./app//infra/` → `app/infra`); `.` and `/` stay as they are.
pub fn clean_path(path: &str) -> String {
    let absolute = path.starts_with('/');
    let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty() && *p != ".").collect();
    match (absolute, parts.is_empty()) {
        (true, true) => "/".into(),
        (false, true) => ".".into(),
        (true, false) => format!("/{}", parts.join("/")),
        (false, false) => parts.join("/"),
    }
}

#[cfg(test)]
mod clean_path_tests {
    #[test]
    fn clean_paths() {
        assert_eq!(super::clean_path("./app//infra/"), "app/infra");
        assert_eq!(super::clean_path("/tmp//x/"), "/tmp/x");
        assert_eq!(super::clean_path("./"), ".");
        assert_eq!(super::clean_path("/"), "/");
        assert_eq!(super::clean_path("a/../b"), "a/../b");
    }
}
