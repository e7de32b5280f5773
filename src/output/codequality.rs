//! `--format codequality`: a GitLab Code Quality report (a JSON array of Code Climate issues),
//! which GitLab shows in the merge request widget and diff when a job lists it under
//! `artifacts:reports:codequality`.
//!
//! Failing findings are issues at their severity; pending guardrails' findings are issues too
//! (`minor` or `info`, the deadline in the description: the early warning); excepted findings
//! are not issues (the waiver was approved). Errors are `critical` issues, so a check that
//! could not evaluate something never shows as an empty, clean report. Paths are relative to
//! the git repository root (or `--path-base`), as SARIF's are, because GitLab places issues by
//! repository path. Each issue's fingerprint is unique in the report and stable between runs:
//! the SARIF fingerprint's basis (guardrail and resource identity), hashed.

use super::{sarif, Render};
use crate::evaluate::Finding;
use crate::guardrail::Severity;
use crate::report::check::CheckReport;
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::io::{self, Write};

pub struct CodeQuality;

/// One Code Climate issue, as GitLab reads it.
#[derive(Serialize)]
struct Issue {
    #[serde(rename = "type")]
    kind: &'static str,
    check_name: String,
    description: String,
    categories: [&'static str; 1],
    severity: &'static str,
    fingerprint: String,
    location: Location,
}

#[derive(Serialize)]
struct Location {
    path: String,
    lines: Lines,
}

#[derive(Serialize)]
struct Lines {
    begin: usize,
    end: usize,
}

/// GitLab's scale for a finding that fails the build (or would, at or above `--fail-on`).
fn active(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "blocker",
        Severity::High => "critical",
        Severity::Medium => "major",
        Severity::Low => "minor",
    }
}

/// A pending guardrail's finding fails nothing yet: below every active one.
fn pending(s: Severity) -> &'static str {
    match s {
        Severity::Critical | Severity::High => "minor",
        Severity::Medium | Severity::Low => "info",
    }
}

fn description(f: &Finding) -> String {
    let text = match f.resource.is_empty() || f.message.contains(&f.resource) {
        true => f.message.clone(),
        false => format!("{} ({})", f.message, f.resource),
    };
    format!("{}: {}", f.guardrail, text.trim())
}

/// Hex SHA-256 of `basis`, made unique within the report: a basis seen before (one guardrail
/// reporting one resource twice, for two attributes) is told apart by its message, then by
/// its position among equals (the findings are sorted, so the position is stable).
fn fingerprints(bases: Vec<String>) -> Vec<String> {
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    bases
        .into_iter()
        .map(|basis| {
            let n = seen.entry(basis.clone()).or_default();
            *n += 1;
            let unique = match *n {
                1 => basis,
                n => format!("{basis}\u{0}{n}"),
            };
            let digest = Sha256::digest(unique.as_bytes());
            digest.iter().map(|b| format!("{b:02x}")).collect()
        })
        .collect()
}

impl Render<CheckReport> for CodeQuality {
    fn render(&self, r: &CheckReport, out: &mut dyn Write) -> io::Result<()> {
        let base = &r.path_base;
        let mut findings: Vec<(&Finding, bool)> = r
            .findings
            .iter()
            .map(|f| (f, false))
            .chain(r.warnings.iter().map(|f| (f, true)))
            .collect();
        findings.sort_by(|(a, _), (b, _)| {
            (&a.guardrail, &a.file, a.line, &a.resource, &a.message).cmp(&(
                &b.guardrail,
                &b.file,
                b.line,
                &b.resource,
                &b.message,
            ))
        });
        // A basis several findings share gets their message too (see `fingerprints`).
        let basis = |f: &Finding| sarif::fingerprint_basis(f);
        let mut shared: BTreeMap<String, usize> = BTreeMap::new();
        for (f, _) in &findings {
            *shared.entry(basis(f)).or_default() += 1;
        }
        let mut bases: Vec<String> = findings
            .iter()
            .map(|(f, _)| match shared[&basis(f)] {
                1 => basis(f),
                _ => format!("{}\u{0}{}", basis(f), f.message),
            })
            .collect();
        let checked = base.prefix.trim_end_matches('/');
        let checked = if checked.is_empty() { "." } else { checked };
        bases.extend(r.errors.iter().map(|e| format!("railyard/error\u{0}{e}")));
        let mut prints = fingerprints(bases).into_iter();
        let mut issues: Vec<Issue> = Vec::new();
        for (f, is_pending) in &findings {
            let mut description = description(f);
            if *is_pending {
                match f.deadline {
                    Some(d) => description.push_str(&format!(" (pending guardrail: fails the build from {d})")),
                    None => description.push_str(" (pending guardrail: no deadline set yet)"),
                }
            }
            issues.push(Issue {
                kind: "issue",
                check_name: f.guardrail.clone(),
                description,
                categories: ["Security"],
                severity: match is_pending {
                    true => pending(f.severity),
                    false => active(f.severity),
                },
                fingerprint: prints.next().unwrap_or_default(),
                location: Location {
                    // A finding naming no file of the workload is placed on the checked folder.
                    path: match f.file.is_empty() {
                        true => checked.to_string(),
                        false => base.path(&f.file),
                    },
                    lines: Lines {
                        begin: f.line.max(1),
                        end: f.end_line.max(f.line).max(1),
                    },
                },
            });
        }
        for e in &r.errors {
            let line = e.line.unwrap_or(1).max(1);
            issues.push(Issue {
                kind: "issue",
                check_name: "railyard-error".into(),
                description: format!("not evaluated: {e}"),
                categories: ["Bug Risk"],
                severity: "critical",
                fingerprint: prints.next().unwrap_or_default(),
                location: Location {
                    path: match &e.file {
                        // A guardrail's policy file is not in this repository: on the folder.
                        Some(file) if e.guardrail.is_none() && crate::files::clean_path(file) != r.path => {
                            base.path(file)
                        }
                        _ => checked.to_string(),
                    },
                    lines: Lines { begin: line, end: line },
                },
            });
        }
        super::json::write_json(&issues, out)
    }
}

#[cfg(test)]
mod tests {
    use super::fingerprints;

    #[test]
    fn fingerprints_are_unique_and_stable() {
        let a = fingerprints(vec!["g:x".into(), "g:x".into(), "g:y".into()]);
        let b = fingerprints(vec!["g:x".into(), "g:x".into(), "g:y".into()]);
        assert_eq!(a, b);
        assert_eq!(a.len(), 3);
        assert!(a[0] != a[1] && a[1] != a[2] && a[0] != a[2]);
        assert_eq!(a[0].len(), 64);
    }
}
