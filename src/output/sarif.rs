//! `--format sarif`: SARIF 2.1.0 as GitHub code scanning accepts it. Only the subset Railyard
//! emits is modelled; a test validates the output against the official schema. Results are
//! sorted by (guardrail, file, line) so output is byte-stable.
//!
//! What a pipeline needs to see is all here: the failing findings, the pending guardrails'
//! findings (`warning`, with their deadline: the early warning), and the excepted findings as
//! suppressed results (a waiver stays visible, with who approved it until when). Paths are
//! relative to the git repository holding the checked folder (or `--path-base`), because that
//! is what code scanning resolves them against.

use super::Render;
use crate::evaluate::Finding;
use crate::guardrail::Severity;
use crate::report::check::CheckReport;
use serde::Serialize;
use std::collections::BTreeMap;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

pub struct Sarif;

const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

/// Where Railyard's documentation lives: the tool's `informationUri`, and a rule's `helpUri`
/// when its guardrail names no page of its own.
pub const PROJECT_URL: &str = "https://github.com/railyard/railyard";

/// The id results' `uriBaseId` names; `originalUriBaseIds` says where it is on this machine.
const BASE_ID: &str = "SRCROOT";

pub use crate::report::check::PathBase;

/// Why the base of SARIF paths could not be found.
#[derive(Debug, thiserror::Error)]
pub enum PathBaseError {
    #[error("`{}`: {source}", path.display())]
    Io { path: PathBuf, source: io::Error },
    #[error("--path-base `{}` does not contain the checked path `{}`", base.display(), path.display())]
    NotInside { base: PathBuf, path: PathBuf },
}

impl PathBase {
    /// The base for `checked` (a folder, or one file whose folder is meant): `explicit`
    /// (`--path-base`) if given, else the work tree of the git repository holding it, else
    /// the checked folder itself.
    pub fn resolve(checked: &Path, explicit: Option<&Path>) -> Result<PathBase, PathBaseError> {
        let canon = |p: &Path| {
            std::fs::canonicalize(p).map_err(|source| PathBaseError::Io {
                path: p.to_path_buf(),
                source,
            })
        };
        let mut folder = canon(checked)?;
        if !folder.is_dir() {
            folder.pop();
        }
        let root = match explicit {
            Some(base) => canon(base)?,
            None => match git2::Repository::discover(&folder) {
                Ok(repo) => match repo.workdir() {
                    Some(w) => canon(w)?,
                    None => folder.clone(),
                },
                // Not in a repository: the paths stay relative to the checked folder.
                Err(_) => folder.clone(),
            },
        };
        let rel = folder.strip_prefix(&root).map_err(|_| PathBaseError::NotInside {
            base: root.clone(),
            path: checked.to_path_buf(),
        })?;
        let mut prefix: String = rel
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join("/");
        if !prefix.is_empty() {
            prefix.push('/');
        }
        Ok(PathBase {
            root: Some(root),
            prefix,
        })
    }

    /// A workload path (relative to the checked folder) as a URI reference relative to the base.
    fn uri(&self, file: &str) -> String {
        encode_path(&format!("{}{file}", self.prefix))
    }
}

/// A `/`-separated path as a URI path: every byte but RFC 3986's unreserved ones and `/`
/// percent-encoded (a space, `#`, `?`, or a `:` that would read as a scheme).
fn encode_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => out.push(b as char),
            b => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// The base folder as a `file:` URI ending in `/` (SARIF §3.14.14).
fn file_uri(root: &Path) -> String {
    let mut uri = format!("file://{}", encode_path(&root.to_string_lossy()));
    if !uri.ends_with('/') {
        uri.push('/');
    }
    uri
}

/// SARIF §3.13 sarifLog
#[derive(Serialize)]
struct Log<'a> {
    #[serde(rename = "$schema")]
    schema: &'static str,
    version: &'static str,
    runs: Vec<Run<'a>>,
}

/// SARIF §3.14 run
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Run<'a> {
    tool: Tool<'a>,
    /// SARIF §3.14.14: where `SRCROOT` is on the machine that ran the check.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    original_uri_base_ids: BTreeMap<&'static str, BaseLocation>,
    results: Vec<SarifResult>,
    invocations: Vec<Invocation>,
}

#[derive(Serialize)]
struct BaseLocation {
    uri: String,
    description: Text,
}

#[derive(Serialize)]
struct Tool<'a> {
    driver: Driver<'a>,
}

/// SARIF §3.19 toolComponent
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Driver<'a> {
    name: &'static str,
    version: &'static str,
    information_uri: &'static str,
    rules: Vec<Rule<'a>>,
}

/// SARIF §3.49 reportingDescriptor
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Rule<'a> {
    id: &'a str,
    name: &'a str,
    short_description: Text,
    full_description: Text,
    help_uri: &'a str,
    help: Text,
    default_configuration: Config,
    properties: RuleProperties,
}

#[derive(Serialize)]
struct Text {
    text: String,
}

#[derive(Serialize)]
struct Config {
    level: &'static str,
}

/// GitHub reads `security-severity` (a number as a string) to rank security alerts.
#[derive(Serialize)]
struct RuleProperties {
    tags: Vec<String>,
    #[serde(rename = "security-severity")]
    security_severity: &'static str,
    precision: &'static str,
}

/// SARIF §3.27 result
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifResult {
    rule_id: String,
    rule_index: usize,
    level: &'static str,
    message: Text,
    locations: Vec<Location>,
    partial_fingerprints: BTreeMap<&'static str, String>,
    /// SARIF §3.27.23: the exception that waives an excepted finding.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    suppressions: Vec<Suppression>,
    properties: ResultProperties,
}

/// Which list of the check report a result comes from, and what that means for the build.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
enum State {
    /// An active guardrail's finding: fails the build (at or above `--fail-on`).
    Active,
    /// A pending guardrail's finding: a warning until its deadline.
    Pending,
    /// Waived by an active exception.
    Excepted,
}

#[derive(Serialize)]
struct ResultProperties {
    state: State,
    severity: Severity,
    /// Pending findings: the day the guardrail starts failing this workload's build.
    #[serde(skip_serializing_if = "Option::is_none")]
    deadline: Option<crate::date::Day>,
}

/// SARIF §3.35 suppression
#[derive(Serialize)]
struct Suppression {
    kind: &'static str,
    status: &'static str,
    justification: String,
    properties: SuppressionProperties,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SuppressionProperties {
    approved_by: String,
    expires: crate::date::Day,
    #[serde(skip_serializing_if = "Option::is_none")]
    ticket: Option<String>,
    /// `guardrails/<id>/exceptions.toml:<line>`
    source: String,
    /// `verified` or `ungoverned` (an unverified exception waives nothing, so is no suppression).
    approval: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Location {
    /// Absent for a finding the policy reported without a resource in a file.
    #[serde(skip_serializing_if = "Option::is_none")]
    physical_location: Option<PhysicalLocation>,
    logical_locations: Vec<LogicalLocation>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PhysicalLocation {
    artifact_location: ArtifactLocation,
    region: Region,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ArtifactLocation {
    uri: String,
    uri_base_id: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Region {
    start_line: usize,
    end_line: usize,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct LogicalLocation {
    fully_qualified_name: String,
    kind: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Invocation {
    execution_successful: bool,
    tool_execution_notifications: Vec<Notification>,
    /// Files of the workload that were not evaluated (`skipped` of the JSON report).
    #[serde(skip_serializing_if = "Option::is_none")]
    properties: Option<InvocationProperties>,
}

#[derive(Serialize)]
struct InvocationProperties {
    skipped: Vec<crate::files::Skipped>,
}

#[derive(Serialize)]
struct Notification {
    level: &'static str,
    message: Text,
    /// The skipped file a notification is about.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    locations: Vec<NotificationLocation>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct NotificationLocation {
    physical_location: FileLocation,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct FileLocation {
    artifact_location: ArtifactLocation,
}

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low => "note",
    }
}

fn security_severity(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "9.5",
        Severity::High => "8.0",
        Severity::Medium => "5.5",
        Severity::Low => "3.0",
    }
}

/// What identifies a finding across runs: its guardrail and the resource's identity (its file
/// only when the finding names no resource id). Also the basis of Code Quality fingerprints.
pub(crate) fn fingerprint_basis(f: &Finding) -> String {
    match f.id.is_empty() {
        true => format!("{}:{}:{}", f.guardrail, f.file, f.resource),
        false => format!("{}:{}", f.guardrail, f.id),
    }
}

/// The finding's message, with its resource when the message does not name it.
fn message(f: &Finding, state: State) -> String {
    let text = match f.resource.is_empty() || f.message.contains(&f.resource) {
        true => format!("{} {}", f.message, f.remediation),
        false => format!("{} ({}). {}", f.message, f.resource, f.remediation),
    };
    let text = text.trim();
    match (state, f.deadline, &f.exception) {
        (State::Pending, Some(d), _) => format!("{text} Pending guardrail: fails the build from {d}."),
        (State::Pending, None, _) => format!("{text} Pending guardrail: no deadline set yet."),
        (State::Excepted, _, Some(e)) => format!("{text} Excepted until {}: {}", e.expires, e.reason),
        _ => text.to_string(),
    }
}

impl Render<CheckReport> for Sarif {
    fn render(&self, r: &CheckReport, out: &mut dyn Write) -> io::Result<()> {
        let base = &r.path_base;
        let mut findings: Vec<(&Finding, State)> = r
            .findings
            .iter()
            .map(|f| (f, State::Active))
            .chain(r.warnings.iter().map(|f| (f, State::Pending)))
            .chain(r.excepted.iter().map(|f| (f, State::Excepted)))
            .collect();
        findings.sort_by(|(a, sa), (b, sb)| {
            (&a.guardrail, &a.file, a.line, &a.resource, sa).cmp(&(&b.guardrail, &b.file, b.line, &b.resource, sb))
        });
        let mut rules: Vec<Rule> = Vec::new();
        let mut index: BTreeMap<&str, usize> = BTreeMap::new();
        for (f, _) in &findings {
            if !index.contains_key(f.guardrail.as_str()) {
                index.insert(&f.guardrail, rules.len());
                rules.push(Rule {
                    id: &f.guardrail,
                    name: &f.guardrail,
                    short_description: Text { text: f.title.clone() },
                    full_description: Text { text: f.title.clone() },
                    help_uri: if f.url.is_empty() { PROJECT_URL } else { f.url.as_str() },
                    help: Text {
                        text: format!("{}\n{}", f.remediation, f.url).trim().to_string(),
                    },
                    default_configuration: Config {
                        level: level(f.severity),
                    },
                    properties: RuleProperties {
                        tags: vec!["security".into(), "railyard".into()],
                        security_severity: security_severity(f.severity),
                        precision: "high",
                    },
                });
            }
        }
        let results = findings
            .iter()
            .map(|&(f, state)| SarifResult {
                rule_id: f.guardrail.clone(),
                rule_index: index[f.guardrail.as_str()],
                // A pending guardrail never fails the build: a warning, whatever its severity.
                level: match state {
                    State::Pending => "warning",
                    _ => level(f.severity),
                },
                message: Text {
                    text: message(f, state),
                },
                locations: vec![Location {
                    physical_location: (!f.file.is_empty()).then(|| PhysicalLocation {
                        artifact_location: ArtifactLocation {
                            uri: base.uri(&f.file),
                            uri_base_id: BASE_ID,
                        },
                        region: Region {
                            start_line: f.line.max(1),
                            end_line: f.end_line.max(f.line).max(1),
                        },
                    }),
                    logical_locations: vec![LogicalLocation {
                        fully_qualified_name: f.resource.clone(),
                        kind: "resource",
                    }],
                }],
                // The resource's identity, not its file: moving a resource between files of one
                // root module keeps its alert; two resources sharing an address keep theirs.
                partial_fingerprints: BTreeMap::from([("railyard/v2", fingerprint_basis(f))]),
                suppressions: match (state, &f.exception) {
                    (State::Excepted, Some(e)) => vec![Suppression {
                        kind: "external",
                        status: "accepted",
                        justification: e.reason.clone(),
                        properties: SuppressionProperties {
                            approved_by: e.approved_by.clone(),
                            expires: e.expires,
                            ticket: e.ticket.clone(),
                            source: e.source.clone(),
                            approval: e.approval.clone(),
                        },
                    }],
                    _ => Vec::new(),
                },
                properties: ResultProperties {
                    state,
                    severity: f.severity,
                    deadline: f.deadline.filter(|_| state == State::Pending),
                },
            })
            .collect();
        let log = Log {
            schema: SCHEMA,
            version: "2.1.0",
            runs: vec![Run {
                tool: Tool {
                    driver: Driver {
                        name: "railyard",
                        version: env!("CARGO_PKG_VERSION"),
                        information_uri: PROJECT_URL,
                        rules,
                    },
                },
                original_uri_base_ids: base
                    .root
                    .iter()
                    .map(|root| {
                        (
                            BASE_ID,
                            BaseLocation {
                                uri: file_uri(root),
                                description: Text {
                                    text: "The root of the git repository holding the checked path (or --path-base)"
                                        .into(),
                                },
                            },
                        )
                    })
                    .collect(),
                results,
                invocations: vec![Invocation {
                    execution_successful: r.errors.is_empty(),
                    tool_execution_notifications: r
                        .errors
                        .iter()
                        .map(|e| Notification {
                            level: "error",
                            message: Text { text: e.to_string() },
                            locations: Vec::new(),
                        })
                        .chain(r.skipped.iter().map(|s| Notification {
                            level: "warning",
                            message: Text {
                                text: format!("skipped: {} ({})", s.path, s.reason),
                            },
                            locations: vec![NotificationLocation {
                                physical_location: FileLocation {
                                    artifact_location: ArtifactLocation {
                                        uri: base.uri(&s.path),
                                        uri_base_id: BASE_ID,
                                    },
                                },
                            }],
                        }))
                        .collect(),
                    properties: (!r.skipped.is_empty()).then(|| InvocationProperties {
                        skipped: r.skipped.clone(),
                    }),
                }],
            }],
        };
        super::json::write_json(&log, out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_become_uri_references_that_cannot_read_as_a_scheme() {
        assert_eq!(encode_path("infra/main.tf"), "infra/main.tf");
        assert_eq!(encode_path("a b/c#d?.tf"), "a%20b/c%23d%3F.tf");
        assert_eq!(encode_path("main.tf:12"), "main.tf%3A12");
        assert_eq!(file_uri(Path::new("/tmp/my repo")), "file:///tmp/my%20repo/");
    }
}
