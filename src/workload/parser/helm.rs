//! Helm charts rendered by the `helm` found on `PATH` (`helm template` with the chart's default
//! values), so that what a chart deploys is judged; without `helm`, a chart is listed as
//! skipped, never read as compliant.
//!
//! A chart's templates are Go templates, not manifests: they are never read as plain YAML. The
//! rendered objects point at their template file (from the `# Source:` lines `helm template`
//! writes), at the template's first line: the rendered text has no lines in the source.

use super::kustomize::Rendered;
use super::yaml::{self, Tags};
use super::{has_ext, ParseError};
use crate::files::SourceFile;
use crate::workload::Resource;
use std::collections::BTreeSet;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Whether a path belongs to a chart as Helm reads it (so the reader reads it even when no
/// other parser would: `_helpers.tpl`, `NOTES.txt`).
pub fn is_chart_file(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    name == "Chart.yaml"
        || (path.contains("templates/")
            && [".tpl", ".txt", ".yaml", ".yml", ".json"]
                .iter()
                .any(|e| has_ext(path, e)))
}

/// The folders of the workload's charts (those holding `Chart.yaml`), outermost only:
/// subcharts under `charts/` are rendered by their parent.
fn chart_dirs(files: &[SourceFile]) -> Vec<String> {
    let dirs: BTreeSet<&str> = files
        .iter()
        .filter(|f| f.file_name() == "Chart.yaml")
        .map(SourceFile::dir)
        .collect();
    dirs.iter()
        .filter(|d| !dirs.iter().any(|o| o != *d && within(d, o)))
        .map(|d| d.to_string())
        .collect()
}

/// Whether `path` is `dir` or below it (`dir` "" is the root).
fn within(path: &str, dir: &str) -> bool {
    dir.is_empty() || path == dir || path.starts_with(&format!("{dir}/"))
}

/// The `helm` executable on `PATH`, if any.
fn helm() -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|d| d.join("helm")).find(|p| {
        p.metadata()
            .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    })
}

/// Renders every chart of the workload, or lists it as skipped.
pub fn render(files: &[SourceFile], timeout: Duration) -> Rendered {
    let mut out = Rendered::default();
    let charts = chart_dirs(files);
    if charts.is_empty() {
        return out;
    }
    let helm = helm();
    for dir in charts {
        let members: Vec<&SourceFile> = files.iter().filter(|f| within(&f.path, &dir)).collect();
        // Templates are never manifests of their own, rendered or not.
        out.consumed.extend(
            members
                .iter()
                .filter(|f| f.path[dir.len()..].contains("templates/"))
                .map(|f| f.path.clone()),
        );
        let chart_file = if dir.is_empty() {
            "Chart.yaml".to_string()
        } else {
            format!("{dir}/Chart.yaml")
        };
        let Some(helm) = &helm else {
            out.skipped
                .push((chart_file, "Helm chart not rendered: helm is not on PATH".into()));
            continue;
        };
        match run_helm(helm, &dir, &members, timeout) {
            Ok(text) => match objects(&dir, &text, files) {
                Ok(resources) => out.resources.extend(resources),
                Err(e) => out.errors.push(ParseError::new(&chart_file, 1, e.to_string())),
            },
            Err(reason) => out
                .skipped
                .push((chart_file, format!("Helm chart not rendered: {reason}"))),
        }
    }
    out
}

/// Why a chart was not rendered or its output not read (the chart is then skipped or an error).
#[derive(Debug, thiserror::Error)]
enum HelmError {
    #[error("temporary folder: {0}")]
    TempDir(std::io::Error),
    #[error("writing the chart: {0}")]
    Write(std::io::Error),
    #[error("running `{helm}`: {error}")]
    Spawn { helm: String, error: std::io::Error },
    #[error("no {0} pipe")]
    NoPipe(&'static str),
    #[error("`helm template` took longer than {0} s")]
    Timeout(u64),
    #[error("waiting for helm: {0}")]
    Wait(std::io::Error),
    #[error("`helm template` failed: {0}")]
    Failed(String),
    #[error("the output of `helm template` for {file} does not parse: {message}")]
    Output { file: String, message: String },
}

/// Writes the chart's files into a private folder and runs `helm template` on it, within the
/// time budget; returns what it printed.
fn run_helm(helm: &Path, dir: &str, members: &[&SourceFile], timeout: Duration) -> Result<String, HelmError> {
    let tmp = tempfile::tempdir().map_err(HelmError::TempDir)?;
    let name = dir.rsplit('/').next().filter(|n| !n.is_empty()).unwrap_or("chart");
    let root = tmp.path().join(name);
    for f in members {
        let rel = f.path[dir.len()..].trim_start_matches('/');
        let dst = root.join(rel);
        if let Some(parent) = dst.parent() {
            std::fs::create_dir_all(parent).map_err(HelmError::Write)?;
        }
        std::fs::write(&dst, &f.bytes).map_err(HelmError::Write)?;
    }
    let mut child = std::process::Command::new(helm)
        .args(["template", "railyard"])
        .arg(&root)
        .current_dir(tmp.path())
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .map_err(|error| HelmError::Spawn {
            helm: helm.display().to_string(),
            error,
        })?;
    // Read both pipes beside the wait, so a chatty helm cannot block on a full pipe.
    let mut stdout = child.stdout.take().ok_or(HelmError::NoPipe("output"))?;
    let mut stderr = child.stderr.take().ok_or(HelmError::NoPipe("error"))?;
    let out = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stdout.read_to_string(&mut s);
        s
    });
    let err = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });
    let deadline = Instant::now() + timeout;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(10)),
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(HelmError::Timeout(timeout.as_secs()));
            }
            Err(e) => return Err(HelmError::Wait(e)),
        }
    };
    let (text, err) = (out.join().unwrap_or_default(), err.join().unwrap_or_default());
    if !status.success() {
        let first = err.lines().find(|l| !l.trim().is_empty()).unwrap_or("no message");
        return Err(HelmError::Failed(first.to_string()));
    }
    Ok(text)
}

/// The Kubernetes objects of `helm template`'s output, each at its template file.
fn objects(dir: &str, text: &str, files: &[SourceFile]) -> Result<Vec<Resource>, HelmError> {
    let mut out = Vec::new();
    for chunk in split_documents(text) {
        // `# Source: <chart>/templates/x.yaml` — the chart's own folder name comes first.
        let source = chunk
            .lines()
            .find_map(|l| l.strip_prefix("# Source: "))
            .map(|s| s.trim().split_once('/').map_or(s.trim(), |(_, rest)| rest).to_string());
        let file = match &source {
            Some(rel) if dir.is_empty() => rel.clone(),
            Some(rel) => format!("{dir}/{rel}"),
            None => format!("{dir}/Chart.yaml"),
        };
        let (line, end_line) = files
            .iter()
            .find(|f| f.path == file)
            .map(|f| {
                let text = String::from_utf8_lossy(&f.bytes);
                let first = text
                    .lines()
                    .position(|l| l.starts_with("apiVersion") || l.starts_with("kind"))
                    .map_or(1, |i| i + 1);
                (first, text.lines().count().max(first))
            })
            .unwrap_or((1, 1));
        let docs =
            yaml::guarded(|| yaml::parse_yaml(chunk, yaml::DuplicateKeys::Refused)).map_err(|e| HelmError::Output {
                file: file.clone(),
                message: e.message,
            })?;
        for doc in docs.iter().filter(|d| !d.is_null()) {
            let doc = yaml::to_json(doc, Tags::Ignore);
            if let Some(r) = super::kubernetes::object(&file, line, end_line, None, doc) {
                out.push(r);
            }
        }
    }
    Ok(out)
}

/// The documents of a YAML stream, split at `---` lines.
fn split_documents(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        if line.trim_end() == "---" {
            out.push(&text[start..offset]);
            start = offset + line.len();
        }
        offset += line.len();
    }
    out.push(&text[start..]);
    out.into_iter().filter(|d| !d.trim().is_empty()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charts_and_their_files() {
        let files = vec![
            SourceFile::new("a/Chart.yaml", "name: a\n"),
            SourceFile::new("a/charts/sub/Chart.yaml", "name: sub\n"),
            SourceFile::new("b/Chart.yaml", "name: b\n"),
        ];
        assert_eq!(chart_dirs(&files), vec!["a", "b"]);
        assert!(is_chart_file("x/templates/_helpers.tpl"));
        assert!(is_chart_file("x/Chart.yaml"));
        assert!(!is_chart_file("x/notes.txt"));
        assert_eq!(
            split_documents("---\na: 1\n---\n\n---\nb: 2\n"),
            vec!["a: 1\n", "b: 2\n"]
        );
    }
}
