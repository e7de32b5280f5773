//! The workload registry: `workloads.toml` at the root of the guardrails repo says which
//! repositories Railyard observes, which team owns each, and how to reach that team. It holds
//! names of environment variables, never secrets: a webhook URL or a git token in this file
//! would be published to everyone who can read the guardrails repo.

use crate::config::{from_toml, line_of_key, ConfigError};
use crate::severity::Severity;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use toml::Spanned;

/// Grace period used when `[defaults]` does not set one.
pub const DEFAULT_GRACE_DAYS: u32 = 30;
/// Longest grace period accepted (ten years): anything longer is a typo or a way to never
/// enforce.
pub const MAX_GRACE_DAYS: i64 = 3650;

/// URL schemes a workload `repo` may use.
const SCHEMES: &[&str] = &["https", "http", "ssh", "file", "git"];

/// The parsed, validated `workloads.toml`.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Registry {
    pub defaults: Defaults,
    /// Exception governance for every guardrail of the repository.
    pub exceptions: ExceptionPolicy,
    pub workloads: Vec<WorkloadSpec>,
    pub teams: BTreeMap<String, Team>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Defaults {
    /// Days between a finding being first seen and the guardrail being enforced, for
    /// guardrails that set neither `grace_days` nor `deadline`.
    pub grace_days: u32,
}

impl Default for Defaults {
    fn default() -> Self {
        Defaults {
            grace_days: DEFAULT_GRACE_DAYS,
        }
    }
}

/// `[exceptions]`: how the repository governs exceptions.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ExceptionPolicy {
    /// Longest time, in days, from an exception's `approved_on` to its `expires`; `None`
    /// (the default) sets no limit. When set, every exception must carry `approved_on`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_lifetime_days: Option<u32>,
}

/// One `[[workload]]`: a repository (URL or local path), the ref to read and the folders in it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct WorkloadSpec {
    pub name: String,
    /// `https://…`, `ssh://…`, `git@host:org/repo.git`, `file://…`, or a local path (relative
    /// paths resolve against a base directory chosen by the caller).
    pub repo: String,
    /// Branch, tag, `HEAD` or full commit id; `None` means the remote's default branch.
    #[serde(rename = "ref")]
    pub r#ref: Option<String>,
    /// Sub-folders to read; empty means the whole repository.
    pub paths: Vec<String>,
    /// Globs of paths (relative to the repository root) not to evaluate: neither parsed nor
    /// listed as skipped (e.g. a Helm chart that cannot be rendered where observe runs).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub exclude: Vec<String>,
    pub team: String,
    /// Workload-level owners, in addition to the team's.
    pub owners: Vec<String>,
    /// Environment variable holding an https token: the workload's own `token_env`, or else
    /// its team's (resolved by [`parse`]).
    pub token_env: Option<String>,
    /// Line of the `[[workload]]` header in `workloads.toml`, for messages.
    pub line: usize,
}

/// A `[team.<name>]` table: who to tell, and through which channels. Channel settings are names
/// of environment variables.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Team {
    #[serde(default)]
    pub owners: Vec<String>,
    /// Name of the env var holding a generic webhook URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook_env: Option<String>,
    /// Name of the env var holding the HMAC-SHA256 key that signs generic webhook bodies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook_secret_env: Option<String>,
    /// Name of the env var holding an https token for this team's repositories.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_env: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slack_webhook_env: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub teams_webhook_env: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub github_token_env: Option<String>,
    /// GitHub API base URL (for GitHub Enterprise), e.g. `https://github.example.com/api/v3`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub github_api: Option<String>,
    /// Days before a deadline on which to remind the team (e.g. `[14, 7, 1]`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reminder_days: Vec<u32>,
    /// Events below this severity reach none of the team's channels (unless a
    /// `<channel>_min_severity` says otherwise); `None` sends every severity.
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "de_severity")]
    pub min_severity: Option<Severity>,
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "de_severity")]
    pub slack_min_severity: Option<Severity>,
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "de_severity")]
    pub teams_min_severity: Option<Severity>,
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "de_severity")]
    pub webhook_min_severity: Option<Severity>,
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "de_severity")]
    pub github_min_severity: Option<Severity>,
    /// `[team.<name>.severity.<level>]`: channels that get the events of exactly that
    /// severity, in addition to the team's own (e.g. critical to a pager webhook).
    #[serde(
        default,
        rename = "severity",
        skip_serializing_if = "BTreeMap::is_empty",
        deserialize_with = "de_routes"
    )]
    pub routes: BTreeMap<Severity, Route>,
}

/// A per-severity destination: the chat and webhook channels of a team table, and nothing
/// else (GitHub issues are per guardrail and workload already; a second route would comment
/// twice on the same issue).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Route {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slack_webhook_env: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub teams_webhook_env: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook_env: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook_secret_env: Option<String>,
}

impl Route {
    /// The route as a team holding only its channels, so every channel reads its settings the
    /// same way (`Channel::secret_env(&Team)`).
    pub fn as_team(&self) -> Team {
        Team {
            slack_webhook_env: self.slack_webhook_env.clone(),
            teams_webhook_env: self.teams_webhook_env.clone(),
            webhook_env: self.webhook_env.clone(),
            webhook_secret_env: self.webhook_secret_env.clone(),
            ..Team::default()
        }
    }
}

impl Team {
    /// The lowest severity channel `channel` (`slack`, `teams`, `webhook`, `github`) gets:
    /// its own `<channel>_min_severity`, else the team's `min_severity`.
    pub fn min_severity_of(&self, channel: &str) -> Option<Severity> {
        let own = match channel {
            "slack" => self.slack_min_severity,
            "teams" => self.teams_min_severity,
            "webhook" => self.webhook_min_severity,
            "github" => self.github_min_severity,
            _ => None,
        };
        own.or(self.min_severity)
    }
}

const SEVERITIES: [Severity; 4] = [Severity::Low, Severity::Medium, Severity::High, Severity::Critical];

/// `low`, `medium`, `high` or `critical`, as in `guardrail.toml`.
pub fn parse_severity(text: &str) -> Option<Severity> {
    SEVERITIES.into_iter().find(|s| s.as_str() == text)
}

fn unknown_severity(text: &str) -> String {
    format!("unknown severity `{text}`: use one of low, medium, high, critical")
}

/// A `*min_severity` value; the error carries the value's span, so it names the line.
fn de_severity<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Severity>, D::Error> {
    let text = String::deserialize(d)?;
    parse_severity(&text)
        .map(Some)
        .ok_or_else(|| serde::de::Error::custom(unknown_severity(&text)))
}

/// A `[team.<name>.severity.<level>]` key. Checked while the key is read, so that the error
/// carries the key's own span (the line of that table, not of the first route).
#[derive(PartialEq, Eq, PartialOrd, Ord)]
struct Level(Severity);

impl<'de> Deserialize<'de> for Level {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Level, D::Error> {
        let text = String::deserialize(d)?;
        parse_severity(&text)
            .map(Level)
            .ok_or_else(|| serde::de::Error::custom(format!("`[team.….severity.{text}]`: {}", unknown_severity(&text))))
    }
}

/// `[team.<name>.severity.<level>]` tables, keyed by a known severity.
fn de_routes<'de, D: serde::Deserializer<'de>>(d: D) -> Result<BTreeMap<Severity, Route>, D::Error> {
    let map = BTreeMap::<Level, Route>::deserialize(d)?;
    Ok(map.into_iter().map(|(k, r)| (k.0, r)).collect())
}

impl Registry {
    pub fn team(&self, name: &str) -> Option<&Team> {
        self.teams.get(name)
    }

    pub fn workload(&self, name: &str) -> Option<&WorkloadSpec> {
        self.workloads.iter().find(|w| w.name == name)
    }

    /// Everyone to tell about a workload: its own owners, then its team's, without repeats.
    pub fn owners_of(&self, spec: &WorkloadSpec) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        let team = self.team(&spec.team).map(|t| t.owners.as_slice());
        for o in spec.owners.iter().chain(team.unwrap_or_default()) {
            if !out.contains(o) {
                out.push(o.clone());
            }
        }
        out
    }
}

impl WorkloadSpec {
    /// The ref to fetch: the configured one, or `HEAD` (the remote's default branch).
    pub fn ref_or_head(&self) -> &str {
        self.r#ref.as_deref().unwrap_or("HEAD")
    }
}

// What the file holds, with spans for messages; turned into the public types after checks.

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    defaults: RawDefaults,
    #[serde(default)]
    exceptions: RawExceptions,
    #[serde(default)]
    workload: Vec<RawWorkload>,
    #[serde(default)]
    team: BTreeMap<String, Spanned<Team>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawDefaults {
    grace_days: Option<Spanned<i64>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawExceptions {
    max_lifetime_days: Option<Spanned<i64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWorkload {
    name: Spanned<String>,
    repo: Spanned<String>,
    #[serde(rename = "ref")]
    r#ref: Option<Spanned<String>>,
    #[serde(default)]
    paths: Vec<Spanned<String>>,
    #[serde(default)]
    exclude: Vec<Spanned<String>>,
    team: Spanned<String>,
    #[serde(default)]
    owners: Vec<String>,
    token_env: Option<Spanned<String>>,
}

/// Parses and validates `workloads.toml`. `file` is the name used in messages.
pub fn parse(file: &str, text: &str) -> Result<Registry, Vec<ConfigError>> {
    let raw: RawFile = from_toml(file, text).map_err(|e| vec![e])?;
    let mut errors = Vec::new();
    // Line numbers by binary search over line starts: counting newlines from the top for
    // every value made a registry of 1,000 workloads quadratic.
    let starts: Vec<usize> = std::iter::once(0)
        .chain(
            text.bytes()
                .enumerate()
                .filter(|(_, b)| *b == b'\n')
                .map(|(i, _)| i + 1),
        )
        .collect();
    let line = |span: std::ops::Range<usize>| starts.partition_point(|s| *s <= span.start.min(text.len()));
    let headers: Vec<usize> = text
        .lines()
        .enumerate()
        .filter(|(_, l)| l.trim_start().starts_with("[[workload]]"))
        .map(|(i, _)| i + 1)
        .collect();
    let header_line = |name_line: usize| match headers.partition_point(|h| *h <= name_line) {
        0 => name_line,
        i => headers[i - 1],
    };
    let mut err = |line: usize, message: String| errors.push(ConfigError::new(file, line, message));

    let grace_days = match raw.defaults.grace_days {
        None => DEFAULT_GRACE_DAYS,
        Some(g) => {
            let value = *g.get_ref();
            if !(0..=MAX_GRACE_DAYS).contains(&value) {
                err(
                    line(g.span()),
                    format!("`grace_days` must be between 0 and {MAX_GRACE_DAYS}, not {value}"),
                );
            }
            value.clamp(0, MAX_GRACE_DAYS) as u32
        }
    };

    let max_lifetime_days = raw.exceptions.max_lifetime_days.map(|m| {
        let value = *m.get_ref();
        if !(1..=MAX_GRACE_DAYS).contains(&value) {
            err(
                line(m.span()),
                format!("`max_lifetime_days` must be between 1 and {MAX_GRACE_DAYS}, not {value}"),
            );
        }
        value.clamp(1, MAX_GRACE_DAYS) as u32
    });

    let mut teams = BTreeMap::new();
    for (name, team) in raw.team {
        let header = line(team.span());
        let team = team.into_inner();
        if !is_name(&name) {
            err(
                header,
                format!("team name `{name}` may only contain letters, digits, `.`, `_` and `-`"),
            );
        }
        for (key, value) in [
            ("webhook_env", &team.webhook_env),
            ("webhook_secret_env", &team.webhook_secret_env),
            ("token_env", &team.token_env),
            ("slack_webhook_env", &team.slack_webhook_env),
            ("teams_webhook_env", &team.teams_webhook_env),
            ("github_token_env", &team.github_token_env),
        ] {
            if let Some(value) = value {
                if let Some(message) = check_env_name(key, value) {
                    err(line_of_key(text, key, header), message);
                }
            }
        }
        if let Some(api) = &team.github_api {
            if !(api.starts_with("https://") || api.starts_with("http://")) {
                err(
                    line_of_key(text, "github_api", header),
                    format!("`github_api` must be an http(s) URL, not `{api}`"),
                );
            } else if has_userinfo(api) {
                err(
                    line_of_key(text, "github_api", header),
                    "`github_api` must not contain credentials: use `github_token_env`".into(),
                );
            }
        }
        if let Some(d) = team.reminder_days.iter().find(|d| **d as i64 > MAX_GRACE_DAYS) {
            err(
                line_of_key(text, "reminder_days", header),
                format!("`reminder_days` value {d} is larger than {MAX_GRACE_DAYS}"),
            );
        }
        for (level, route) in &team.routes {
            let at = route_line(text, &name, *level, header);
            if route.slack_webhook_env.is_none() && route.teams_webhook_env.is_none() && route.webhook_env.is_none() {
                err(
                    at,
                    format!(
                        "`[team.{name}.severity.{level}]` names no channel: set `slack_webhook_env`, \
                         `teams_webhook_env` or `webhook_env`"
                    ),
                );
            }
            for (key, value) in [
                ("webhook_env", &route.webhook_env),
                ("webhook_secret_env", &route.webhook_secret_env),
                ("slack_webhook_env", &route.slack_webhook_env),
                ("teams_webhook_env", &route.teams_webhook_env),
            ] {
                if let Some(message) = value.as_deref().and_then(|v| check_env_name(key, v)) {
                    err(line_of_key(text, key, at), message);
                }
            }
        }
        for owner in &team.owners {
            if owner.trim().is_empty() {
                err(
                    line_of_key(text, "owners", header),
                    "`owners` must not contain empty strings".into(),
                );
            }
        }
        teams.insert(name, team);
    }

    let mut workloads: Vec<WorkloadSpec> = Vec::new();
    for w in raw.workload {
        let name_line = line(w.name.span());
        let header = header_line(name_line);
        let name = w.name.into_inner();
        if !is_name(&name) {
            err(
                name_line,
                format!("workload name `{name}` may only contain letters, digits, `.`, `_` and `-`"),
            );
        } else if let Some(first) = workloads.iter().find(|o| o.name == name) {
            err(
                header,
                format!("workload `{name}` is declared twice (first at line {})", first.line),
            );
        }
        if let Some(message) = check_repo(w.repo.get_ref()) {
            err(line(w.repo.span()), message);
        }
        if let Some(r) = &w.r#ref {
            if let Some(message) = check_ref(r.get_ref()) {
                err(line(r.span()), message);
            }
        }
        for p in &w.paths {
            if let Some(message) = check_path(p.get_ref()) {
                err(line(p.span()), message);
            }
        }
        for g in &w.exclude {
            if let Err(e) = crate::files::Exclude::new(std::slice::from_ref(g.get_ref())) {
                err(line(g.span()), format!("`exclude` entry `{}`: {e}", g.get_ref()));
            }
        }
        let team_line = line(w.team.span());
        let team = w.team.into_inner();
        if team.trim().is_empty() {
            err(team_line, "workload `team` must not be empty".into());
        } else if !teams.is_empty() && !teams.contains_key(&team) {
            let known: Vec<&str> = teams.keys().map(String::as_str).collect();
            err(
                team_line,
                format!(
                    "team `{team}` is not declared: add a `[team.{team}]` table (declared: {})",
                    known.join(", ")
                ),
            );
        }
        if let Some(t) = &w.token_env {
            if let Some(message) = check_env_name("token_env", t.get_ref()) {
                err(line(t.span()), message);
            }
        }
        let token_env = w
            .token_env
            .map(Spanned::into_inner)
            .or_else(|| teams.get(&team).and_then(|t: &Team| t.token_env.clone()));
        workloads.push(WorkloadSpec {
            name,
            repo: w.repo.into_inner(),
            r#ref: w.r#ref.map(Spanned::into_inner),
            paths: w.paths.into_iter().map(Spanned::into_inner).collect(),
            exclude: w.exclude.into_iter().map(Spanned::into_inner).collect(),
            team,
            owners: w.owners,
            token_env,
            line: header,
        });
    }

    if errors.is_empty() {
        Ok(Registry {
            defaults: Defaults { grace_days },
            exceptions: ExceptionPolicy { max_lifetime_days },
            workloads,
            teams,
        })
    } else {
        errors.sort_by_key(|e| e.line);
        Err(errors)
    }
}

/// Workload and team names end up in file names, ref names and messages.
pub fn is_name(name: &str) -> bool {
    !name.is_empty()
        && name != "."
        && name != ".."
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}

/// The line of the `[team.<team>.severity.<level>]` header (the team's header line when the
/// route is written inline).
fn route_line(text: &str, team: &str, level: Severity, team_line: usize) -> usize {
    let wanted = format!("[team.{team}.severity.{level}]");
    text.lines()
        .position(|l| l.split('#').next().unwrap_or("").split_whitespace().collect::<String>() == wanted)
        .map(|i| i + 1)
        .unwrap_or(team_line)
}

fn check_env_name(key: &str, value: &str) -> Option<String> {
    let looks_like_url = value.contains("://") || value.starts_with("git@");
    if looks_like_url {
        return Some(format!(
            "`{key}` must be the NAME of an environment variable holding the secret, not the \
             secret itself (a URL or token in workloads.toml is visible to everyone who can read \
             the repository); e.g. `{key} = \"PAYMENTS_WEBHOOK_URL\"`"
        ));
    }
    let mut chars = value.chars();
    let valid = chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    if valid {
        None
    } else {
        Some(format!(
            "`{key}` must be the name of an environment variable (letters, digits and `_`), \
             not `{value}`"
        ))
    }
}

/// Whether `url` is `scheme://user[:pass]@host…`.
fn has_userinfo(url: &str) -> bool {
    match url.split_once("://") {
        Some((_, rest)) => {
            let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
            authority.contains('@')
        }
        None => false,
    }
}

fn check_repo(repo: &str) -> Option<String> {
    let repo = repo.trim();
    if repo.is_empty() {
        return Some("workload `repo` must not be empty".into());
    }
    if let Some((scheme, _)) = repo.split_once("://") {
        let scheme = scheme.to_ascii_lowercase();
        if !SCHEMES.contains(&scheme.as_str()) {
            return Some(format!(
                "workload `repo` uses the unsupported scheme `{scheme}://`; use one of {}, an \
                 scp-like `git@host:org/repo.git`, or a local path",
                SCHEMES
                    .iter()
                    .map(|s| format!("`{s}://`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        if (scheme == "https" || scheme == "http") && has_userinfo(repo) {
            return Some(
                "workload `repo` must not contain credentials (`https://user:token@…`): put the \
                 token in an environment variable and name it with `token_env`"
                    .into(),
            );
        }
        if scheme == "ssh" {
            let authority = repo[6..].split('/').next().unwrap_or("");
            if authority.split('@').next().is_some_and(|u| u.contains(':')) && authority.contains('@') {
                return Some("workload `repo` must not contain a password: ssh uses the ssh agent".into());
            }
        }
    }
    None
}

fn check_ref(r: &str) -> Option<String> {
    let bad = r.is_empty()
        || r.starts_with('-')
        || r.starts_with('/')
        || r.ends_with('/')
        || r.ends_with(".lock")
        || r.contains("..")
        || r.contains("//")
        || r.contains("@{")
        || r.chars()
            .any(|c| c.is_whitespace() || c.is_control() || ":?*[\\^~".contains(c));
    bad.then(|| {
        format!(
            "`ref = \"{r}\"` is not a valid branch, tag or commit name (no spaces, `:`, `..`, \
             `~`, `^`, `*`, `?`, `[`, `\\`)"
        )
    })
}

fn check_path(p: &str) -> Option<String> {
    let trimmed = p.trim_matches('/');
    if trimmed.is_empty() || p.starts_with('/') || p.contains('\\') {
        return Some(format!(
            "`paths` entry `{p}` must be a folder relative to the repository root (`infra`, \
             `deploy/k8s`)"
        ));
    }
    if trimmed.split('/').any(|c| c == "..") {
        return Some(format!("`paths` entry `{p}` must not contain `..`"));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_names_and_urls() {
        assert!(check_env_name("webhook_env", "PAYMENTS_WEBHOOK_URL").is_none());
        assert!(check_env_name("webhook_env", "https://hooks.slack.com/x")
            .unwrap()
            .contains("NAME"));
        assert!(check_env_name("webhook_env", "1ABC").is_some());
        assert!(check_env_name("webhook_env", "A-B").is_some());
    }

    #[test]
    fn repo_values() {
        for ok in [
            "https://git.example.com/a/b.git",
            "http://localhost:8080/a.git",
            "ssh://git@host/org/repo.git",
            "git@github.com:org/repo.git",
            "file:///srv/git/repo",
            "git://host/repo",
            "../apps/payments",
            "/srv/git/repo",
        ] {
            assert!(check_repo(ok).is_none(), "{ok}");
        }
        assert!(check_repo("  ").is_some());
        assert!(check_repo("ftp://host/repo").unwrap().contains("ftp://"));
        assert!(check_repo("https://bob:ghp_x@github.com/a/b")
            .unwrap()
            .contains("token_env"));
        assert!(check_repo("https://ghp_x@github.com/a/b").is_some());
        assert!(check_repo("ssh://bob:pw@host/a").is_some());
    }

    #[test]
    fn refs_and_paths() {
        for ok in ["main", "release/1.2", "v1.0.0", "HEAD", "refs/heads/main"] {
            assert!(check_ref(ok).is_none(), "{ok}");
        }
        for bad in ["", "main:evil", "a b", "-x", "a..b", "x~1", "x^", "*"] {
            assert!(check_ref(bad).is_some(), "{bad:?}");
        }
        assert!(check_path("infra").is_none());
        assert!(check_path("deploy/k8s/").is_none());
        assert!(check_path("/etc").is_some());
        assert!(check_path("../other").is_some());
        assert!(check_path("").is_some());
    }

    #[test]
    fn exclude_globs_are_read_and_checked() {
        let text = "[[workload]]\nname = \"api\"\nrepo = \"../api\"\nteam = \"t\"\nexclude = [\"charts/**\"]\n";
        let reg = parse("workloads.toml", text).unwrap();
        assert_eq!(reg.workloads[0].exclude, vec!["charts/**".to_string()]);
        let bad = "[[workload]]\nname = \"api\"\nrepo = \"../api\"\nteam = \"t\"\nexclude = [\n  \"a[\",\n]\n";
        let errors = parse("workloads.toml", bad).unwrap_err();
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!(
            errors[0].to_string().split(": ").next(),
            Some("workloads.toml:6"),
            "{errors:?}"
        );
    }

    #[test]
    fn team_inherits_token_env_and_owners_merge() {
        let text = r#"
[[workload]]
name = "api"
repo = "https://git.example.com/a.git"
team = "payments"
owners = ["bob@example.com", "alice@example.com"]

[team.payments]
owners = ["alice@example.com"]
token_env = "PAYMENTS_GIT_TOKEN"
"#;
        let reg = parse("workloads.toml", text).unwrap();
        let w = &reg.workloads[0];
        assert_eq!(w.token_env.as_deref(), Some("PAYMENTS_GIT_TOKEN"));
        assert_eq!(w.line, 2);
        assert_eq!(w.ref_or_head(), "HEAD");
        assert_eq!(reg.defaults.grace_days, DEFAULT_GRACE_DAYS);
        assert_eq!(
            reg.owners_of(w),
            vec!["bob@example.com".to_string(), "alice@example.com".into()]
        );
    }

    #[test]
    fn severity_floors_and_routes() {
        let text = "[team.web]\nmin_severity = \"medium\"\nslack_webhook_env = \"S\"\nslack_min_severity = \"high\"\n\
                    webhook_env = \"H\"\n[team.web.severity.critical]\nwebhook_env = \"PAGER\"\n";
        let reg = parse("workloads.toml", text).unwrap();
        let t = reg.team("web").unwrap();
        assert_eq!(t.min_severity_of("slack"), Some(Severity::High));
        assert_eq!(t.min_severity_of("webhook"), Some(Severity::Medium));
        assert_eq!(t.routes[&Severity::Critical].webhook_env.as_deref(), Some("PAGER"));
    }

    #[test]
    fn unknown_severities_name_the_line() {
        let value = "[team.web]\nslack_webhook_env = \"S\"\n\nslack_min_severity = \"urgent\"\n";
        let e = parse("workloads.toml", value).unwrap_err();
        assert!(e[0].to_string().starts_with("workloads.toml:4: "), "{e:?}");
        assert!(e[0].to_string().contains("unknown severity `urgent`"), "{e:?}");
        let table = "[team.web]\nslack_webhook_env = \"S\"\n[team.web.severity.low]\nwebhook_env = \"L\"\n\
                     [team.web.severity.urgent]\nwebhook_env = \"P\"\n";
        let e = parse("workloads.toml", table).unwrap_err();
        assert!(e[0].to_string().contains("unknown severity `urgent`"), "{e:?}");
        assert!(e[0].to_string().starts_with("workloads.toml:5: "), "{e:?}");
        let empty = "[team.web]\nslack_webhook_env = \"S\"\n[team.web.severity.low]\n";
        let e = parse("workloads.toml", empty).unwrap_err();
        assert!(e[0].to_string().starts_with("workloads.toml:3: "), "{e:?}");
        let url = "[team.web]\n[team.web.severity.low]\nwebhook_env = \"https://x\"\n";
        let e = parse("workloads.toml", url).unwrap_err();
        assert!(e[0].to_string().starts_with("workloads.toml:3: "), "{e:?}");
    }

    #[test]
    fn any_team_allowed_when_none_declared() {
        let text = "[[workload]]\nname = \"a\"\nrepo = \"./a\"\nteam = \"whoever\"\n";
        let reg = parse("workloads.toml", text).unwrap();
        assert_eq!(reg.workloads[0].team, "whoever");
        assert!(reg.team("whoever").is_none());
    }
}
