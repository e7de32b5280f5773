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
    /// Optional glob over the file the resource lives in (`envs/prod/**`, `db.yaml`): narrows
    /// the exception to the resources with that address in those files or folders.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    pub reason: String,
    pub approved_by: String,
    pub expires: Day,
    /// The day the exception was approved; required when the repository limits how long
    /// an exception may live (`[exceptions] max_lifetime_days` in `workloads.toml`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approved_on: Option<Day>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ticket: Option<String>,
    /// Line in `exceptions.toml`, for messages.
    #[serde(skip)]
    pub line: usize,
    /// Line of `expires` in `exceptions.toml`, for messages.
    #[serde(skip)]
    pub expires_line: usize,
    /// Last line of this `[[exception]]` (trailing blank and comment lines excluded): the
    /// lines whose commits must be signed by the approver.
    #[serde(skip)]
    pub end_line: usize,
    /// Whether the approval was verified against `main`'s governance (set by
    /// `guardrail::governance`; a freshly parsed exception is ungoverned).
    #[serde(skip)]
    pub approval: Approval,
    #[serde(skip)]
    matchers: Option<(GlobMatcher, GlobMatcher)>,
    #[serde(skip)]
    path_matcher: Option<GlobMatcher>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ExceptionStatus {
    Active,
    Expired,
    /// Its approval could not be verified (governance on `main`): it waives nothing.
    Unverified,
}

/// What `main`'s governance says of an exception's approval.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Approval {
    /// No `governance.toml` on `main`: honoured as before, but flagged (nothing verified it).
    #[default]
    Ungoverned,
    /// Approver listed, not an owner, within scope, and every commit behind its lines is
    /// signed by the approver's key in `allowed_signers`.
    Verified,
    /// Why it is not honoured.
    Unverified(String),
}

impl Approval {
    /// `ungoverned`, `verified` or `unverified`, as reports say it.
    pub fn as_str(&self) -> &'static str {
        match self {
            Approval::Ungoverned => "ungoverned",
            Approval::Verified => "verified",
            Approval::Unverified(_) => "unverified",
        }
    }

    pub fn reason(&self) -> Option<&str> {
        match self {
            Approval::Unverified(r) => Some(r),
            _ => None,
        }
    }
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
        e.expires_line = line_of_key(text, "expires", line);
        e.end_line = block_end(text, line, headers.get(i + 1).copied());
        if let Some(approved) = e.approved_on {
            if approved > e.expires {
                errors.push(ConfigError::new(
                    path,
                    line_of_key(text, "approved_on", line),
                    format!("`approved_on` {approved} is after `expires` {}", e.expires),
                ));
            }
        }
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
        if let Some(glob) = &e.path {
            let at = line_of_key(text, "path", line);
            if glob.trim().is_empty() {
                errors.push(ConfigError::new(
                    path,
                    at,
                    "exception `path` must not be empty (omit it to cover every file)",
                ));
            } else {
                // `envs/prod/` means the folder, as `envs/prod` does.
                match Glob::new(glob.trim_end_matches('/')) {
                    Ok(g) => e.path_matcher = Some(g.compile_matcher()),
                    Err(err) => errors.push(ConfigError::new(path, at, format!("invalid glob in `path`: {err}"))),
                }
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

/// The last line of the `[[exception]]` starting at `line`: the line before the next header
/// (or the end of the file), without trailing blank or comment lines (those may belong to
/// whoever added the next exception).
fn block_end(text: &str, line: usize, next: Option<usize>) -> usize {
    let lines: Vec<&str> = text.lines().collect();
    let mut end = next.map_or(lines.len(), |n| n - 1).max(line);
    while end > line {
        let t = lines.get(end - 1).map_or("", |l| l.trim());
        if t.is_empty() || t.starts_with('#') {
            end -= 1;
        } else {
            break;
        }
    }
    end
}

/// Checks the repository's exception governance: with a maximum lifetime, every exception
/// says when it was approved (`approved_on`, not after `today`) and expires at most
/// `max_days` after that. `path` is the `exceptions.toml` the exceptions came from.
pub fn check_lifetime(path: &str, exceptions: &[Exception], max_days: u32, today: Day) -> Vec<ConfigError> {
    let mut errors = Vec::new();
    for e in exceptions {
        match e.approved_on {
            None => errors.push(ConfigError::new(
                path,
                e.line,
                format!(
                    "exception for `{}` / `{}` has no `approved_on` date: workloads.toml limits exceptions to \
                     {max_days} days ([exceptions] max_lifetime_days), so each one says when it was approved",
                    e.workload, e.resource
                ),
            )),
            Some(approved) if approved > today => errors.push(ConfigError::new(
                path,
                e.expires_line.max(e.line),
                format!("`approved_on` {approved} is in the future (today is {today})"),
            )),
            Some(approved) => {
                let lifetime = approved.days_until(e.expires);
                if lifetime > i64::from(max_days) {
                    errors.push(ConfigError::new(
                        path,
                        e.expires_line.max(e.line),
                        format!(
                            "exception expires {} days after its approval ({approved} to {}): the maximum is \
                             {max_days} days ([exceptions] max_lifetime_days in workloads.toml); renew it \
                             with a new approval instead",
                            lifetime, e.expires
                        ),
                    ));
                }
            }
        }
    }
    errors
}

/// An exception that waives nothing any more: no finding of its guardrail, on any workload
/// it names, matches it. The security team can remove it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StaleException {
    pub guardrail: String,
    pub workload: String,
    pub resource: String,
    /// `exceptions.toml` and the line of its `[[exception]]`.
    pub file: String,
    pub line: usize,
    pub expires: Day,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ticket: Option<String>,
}

/// What is known of one workload for one guardrail: whether the evaluation could be
/// trusted, and the resources it flagged (excepted or not).
pub struct Observed<'a> {
    pub workload: &'a str,
    pub unknown: bool,
    pub resources: Vec<&'a str>,
}

/// The exceptions of a guardrail that match no finding. An exception whose workloads
/// include one that could not be evaluated is never called stale (nothing is known there).
pub fn stale(guardrail: &str, file: &str, exceptions: &[Exception], observed: &[Observed]) -> Vec<StaleException> {
    exceptions
        .iter()
        .filter(|x| {
            let mine: Vec<&Observed> = observed.iter().filter(|o| x.covers_workload(o.workload)).collect();
            !mine.iter().any(|o| o.unknown) && !mine.iter().any(|o| o.resources.iter().any(|r| x.covers(o.workload, r)))
        })
        .map(|x| StaleException {
            guardrail: guardrail.to_string(),
            workload: x.workload.clone(),
            resource: x.resource.clone(),
            file: file.to_string(),
            line: x.line,
            expires: x.expires,
            ticket: x.ticket.clone(),
        })
        .collect()
}

impl Exception {
    /// Whether this exception names the workload (by name or glob).
    pub fn covers_workload(&self, workload: &str) -> bool {
        match &self.matchers {
            Some((w, _)) => w.is_match(workload),
            None => self.workload == workload,
        }
    }

    /// Whether this exception covers the resource of the workload (regardless of expiry).
    pub fn covers(&self, workload: &str, resource: &str) -> bool {
        match &self.matchers {
            Some((w, r)) => w.is_match(workload) && r.is_match(resource),
            None => self.workload == workload && self.resource == resource,
        }
    }

    /// Whether the exception's `path` (if any) covers `file`, a path relative to the workload
    /// root: the glob matches the file or one of the folders it is in.
    pub fn covers_path(&self, file: &str) -> bool {
        let Some(glob) = &self.path else { return true };
        let Some(m) = &self.path_matcher else {
            return glob.trim_end_matches('/') == file;
        };
        let mut at = Some(file);
        while let Some(p) = at {
            if m.is_match(p) {
                return true;
            }
            at = p.rfind('/').map(|i| &p[..i]);
        }
        false
    }

    /// An exception applies up to and including its `expires` day, and only when its
    /// approval was not found wanting.
    pub fn status(&self, today: Day) -> ExceptionStatus {
        if today > self.expires {
            ExceptionStatus::Expired
        } else if matches!(self.approval, Approval::Unverified(_)) {
            ExceptionStatus::Unverified
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
        assert_eq!((e.line, e.end_line), (2, 8));
    }

    #[test]
    fn lifetime_is_limited_from_the_approval() {
        let day = |s: &str| Day::parse(s).unwrap();
        let today = day("2026-11-01");
        let xs = parse("x/exceptions.toml", OK).unwrap();
        let err = check_lifetime("x/exceptions.toml", &xs, 90, today);
        assert_eq!(err.len(), 1);
        assert_eq!(err[0].line, 2);
        assert!(err[0].message.contains("approved_on"), "{err:?}");
        let approved = OK.replace("expires = 2027-03-01", "approved_on = 2026-10-01\nexpires = 2027-03-01");
        let xs = parse("x/exceptions.toml", &approved).unwrap();
        let err = check_lifetime("x/exceptions.toml", &xs, 90, today);
        assert_eq!(err.len(), 1);
        assert_eq!(err[0].line, 9, "{err:?}");
        assert!(err[0].message.contains("151 days"), "{err:?}");
        assert!(check_lifetime("x/exceptions.toml", &xs, 151, today).is_empty());
        let future = approved.replace("2026-10-01", "2026-12-01");
        let xs = parse("x/exceptions.toml", &future).unwrap();
        assert!(check_lifetime("x/exceptions.toml", &xs, 365, today)[0]
            .message
            .contains("future"));
        let backwards = approved.replace("2026-10-01", "2027-04-01");
        let err = parse("x/exceptions.toml", &backwards).unwrap_err();
        assert_eq!(err[0].line, 8);
    }

    #[test]
    fn stale_exceptions_match_no_finding() {
        let xs = parse("x/exceptions.toml", OK).unwrap();
        let seen = |workload, unknown, resources: Vec<&'static str>| Observed {
            workload,
            unknown,
            resources,
        };
        let used = [seen("payments-api", false, vec!["aws_db_instance.legacy_db"])];
        assert!(stale("g", "x/exceptions.toml", &xs, &used).is_empty());
        let fixed = [
            seen("payments-api", false, vec!["aws_db_instance.main"]),
            seen("web", false, vec![]),
        ];
        let s = stale("g", "x/exceptions.toml", &xs, &fixed);
        assert_eq!(s.len(), 1);
        assert_eq!((s[0].line, s[0].guardrail.as_str()), (2, "g"));
        let unknown = [seen("payments-api", true, vec![])];
        assert!(stale("g", "x/exceptions.toml", &xs, &unknown).is_empty());
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
