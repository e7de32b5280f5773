//! Exceptions: approved, reasoned, expiring waivers for a guardrail's findings, kept in the
//! guardrail's own `exceptions.toml` so approving one changes the guardrail and re-runs
//! observation. An exception without reason, approver or expiry is invalid; an expired one no
//! longer applies and is reported as expired.

use crate::config::{from_toml, line_of_key, ConfigError};
use crate::date::Day;
use globset::{Glob, GlobMatcher};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Exception {
    /// Workload name, or a glob over names (`"*"` for every workload).
    pub workload: String,
    /// Glob over resource addresses (`aws_db_instance.legacy_*`).
    pub resource: String,
    pub reason: String,
    pub approved_by: String,
    pub expires: Day,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ticket: Option<String>,
    /// Line in `exceptions.toml`, for messages.
    #[serde(skip)]
    pub line: usize,
    #[serde(skip)]
    matchers: Option<(GlobMatcher, GlobMatcher)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ExceptionStatus {
    Active,
    Expired,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    exception: Vec<Exception>,
}

/// Parses and validates `exceptions.toml`.
pub fn parse(path: &str, text: &str) -> Result<Vec<Exception>, Vec<ConfigError>> {
    let file: File = from_toml(path, text).map_err(|e| vec![e])?;
    let mut errors = Vec::new();
    let mut out = Vec::new();
    // Each `[[exception]]` header starts a table; use its line for messages.
    let headers: Vec<usize> = text
        .lines()
        .enumerate()
        .filter(|(_, l)| l.trim_start().starts_with("[[exception]]"))
        .map(|(i, _)| i + 1)
        .collect();
    for (i, mut e) in file.exception.into_iter().enumerate() {
        let line = headers.get(i).copied().unwrap_or(1);
        e.line = line;
        for (key, value) in [
            ("workload", &e.workload),
            ("resource", &e.resource),
            ("reason", &e.reason),
            ("approved_by", &e.approved_by),
        ] {
            if value.trim().is_empty() {
                errors.push(ConfigError::new(
                    path,
                    line_of_key(text, key, line),
                    format!("exception `{key}` must not be empty"),
                ));
            }
        }
        match (Glob::new(&e.workload), Glob::new(&e.resource)) {
            (Ok(w), Ok(r)) => e.matchers = Some((w.compile_matcher(), r.compile_matcher())),
            (Err(err), _) | (_, Err(err)) => {
                errors.push(ConfigError::new(path, line, format!("invalid glob: {err}")));
            }
        }
        out.push(e);
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

impl Exception {
    /// Whether this exception covers the resource of the workload (regardless of expiry).
    pub fn covers(&self, workload: &str, resource: &str) -> bool {
        match &self.matchers {
            Some((w, r)) => w.is_match(workload) && r.is_match(resource),
            None => self.workload == workload && self.resource == resource,
        }
    }

    /// An exception applies up to and including its `expires` day.
    pub fn status(&self, today: Day) -> ExceptionStatus {
        if today > self.expires {
            ExceptionStatus::Expired
        } else {
            ExceptionStatus::Active
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OK: &str = r#"
[[exception]]
workload = "payments-api"
resource = "aws_db_instance.legacy_*"
reason = "Migrating in Q1"
approved_by = "security@example.com"
ticket = "SEC-123"
expires = 2027-03-01
"#;

    #[test]
    fn matches_by_glob_and_expires_after_its_day() {
        let e = &parse("x/exceptions.toml", OK).unwrap()[0];
        assert!(e.covers("payments-api", "aws_db_instance.legacy_db"));
        assert!(!e.covers("payments-api", "aws_db_instance.main"));
        assert!(!e.covers("other", "aws_db_instance.legacy_db"));
        assert_eq!(e.status(Day::parse("2027-03-01").unwrap()), ExceptionStatus::Active);
        assert_eq!(e.status(Day::parse("2027-03-02").unwrap()), ExceptionStatus::Expired);
        assert_eq!(e.line, 2);
    }

    #[test]
    fn missing_or_empty_fields_are_errors_with_lines() {
        let missing = OK.replace("approved_by = \"security@example.com\"\n", "");
        let err = parse("x/exceptions.toml", &missing).unwrap_err();
        assert!(err[0].message.contains("approved_by"), "{err:?}");
        let empty = OK.replace("Migrating in Q1", " ");
        let err = parse("x/exceptions.toml", &empty).unwrap_err();
        assert_eq!(err[0].line, 5);
        let unknown = OK.replace("ticket", "tikcet");
        let err = parse("x/exceptions.toml", &unknown).unwrap_err();
        assert!(err[0].message.contains("tikcet"), "{err:?}");
        assert_eq!(err[0].line, 7);
    }
}
