//! `--format sarif`: SARIF 2.1.0 as GitHub code scanning accepts it. Only the subset Railyard
//! emits is modelled. Results are sorted by (guardrail, file, line) so output is byte-stable.

use super::Renderer;
use crate::evaluate::Finding;
use crate::guardrail::Severity;
use crate::report::check::CheckReport;
use serde::Serialize;
use std::collections::BTreeMap;
use std::io::{self, Write};

pub struct Sarif;

const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

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
    results: Vec<SarifResult>,
    invocations: Vec<Invocation>,
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
    #[serde(skip_serializing_if = "Option::is_none")]
    help_uri: Option<&'a str>,
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

impl Renderer for Sarif {
    fn check(&self, r: &CheckReport, out: &mut dyn Write) -> io::Result<()> {
        let mut findings: Vec<&Finding> = r.findings.iter().collect();
        findings.sort_by(|a, b| {
            (&a.guardrail, &a.file, a.line, &a.resource).cmp(&(&b.guardrail, &b.file, b.line, &b.resource))
        });
        let mut rules: Vec<Rule> = Vec::new();
        let mut index: BTreeMap<&str, usize> = BTreeMap::new();
        for f in &findings {
            if !index.contains_key(f.guardrail.as_str()) {
                index.insert(&f.guardrail, rules.len());
                rules.push(Rule {
                    id: &f.guardrail,
                    name: &f.guardrail,
                    short_description: Text { text: f.title.clone() },
                    full_description: Text { text: f.title.clone() },
                    help_uri: (!f.url.is_empty()).then_some(f.url.as_str()),
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
            .map(|f| SarifResult {
                rule_id: f.guardrail.clone(),
                rule_index: index[f.guardrail.as_str()],
                level: level(f.severity),
                message: Text {
                    text: match f.resource.is_empty() || f.message.contains(&f.resource) {
                        true => format!("{} {}", f.message, f.remediation),
                        false => format!("{} ({}). {}", f.message, f.resource, f.remediation),
                    },
                },
                locations: vec![Location {
                    physical_location: (!f.file.is_empty()).then(|| PhysicalLocation {
                        artifact_location: ArtifactLocation {
                            uri: f.file.clone(),
                            uri_base_id: "%SRCROOT%",
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
                partial_fingerprints: BTreeMap::from([(
                    "railyard/v2",
                    match f.id.is_empty() {
                        true => format!("{}:{}:{}", f.guardrail, f.file, f.resource),
                        false => format!("{}:{}", f.guardrail, f.id),
                    },
                )]),
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
                        information_uri: "https://github.com/railyard/railyard",
                        rules,
                    },
                },
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
                                        uri: s.path.clone(),
                                        uri_base_id: "SRCROOT",
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
        serde_json::to_writer_pretty(&mut *out, &log)?;
        writeln!(out)
    }
}
