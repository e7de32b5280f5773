//! GitHub issues: one issue per (guardrail, workload) in the workload's repository, titled
//! `Railyard: <guardrail> in <workload>`. An open issue with that title gets a comment;
//! otherwise one is opened. The token comes from the env var named by `github_token_env`;
//! the API base from `github_api` (default `https://api.github.com`).

use super::{BoxFuture, Channel, Delivery, Event, SendError};
use crate::workload::registry::Team;
use serde_json::{json, Value};

pub struct GitHub;

const ACCEPT: (&str, &str) = ("accept", "application/vnd.github+json");
const API_VERSION: (&str, &str) = ("x-github-api-version", "2022-11-28");

impl Channel for GitHub {
    fn name(&self) -> &'static str {
        "github"
    }

    fn secret_env<'t>(&self, team: &'t Team) -> Option<&'t str> {
        team.github_token_env.as_deref()
    }

    fn per_issue(&self) -> bool {
        true
    }

    fn deliver<'a>(&'a self, d: &'a Delivery) -> BoxFuture<'a, Result<(), SendError>> {
        Box::pin(async move {
            let first = d
                .events
                .first()
                .ok_or_else(|| SendError::Other("nothing to send".into()))?;
            let (owner, name) = owner_and_name(&first.repo).ok_or_else(|| {
                SendError::Other(format!(
                    "cannot tell the GitHub owner/name of workload `{}`'s repository",
                    first.workload
                ))
            })?;
            let title = title(first);
            let api = &d.github_api;
            let auth = format!("Bearer {}", d.secret());
            let get = |c: &reqwest::Client, url: &str| {
                c.get(url)
                    .header("authorization", &auth)
                    .header(ACCEPT.0, ACCEPT.1)
                    .header(API_VERSION.0, API_VERSION.1)
            };
            let q = format!("repo:{owner}/{name} is:issue is:open in:title \"{title}\"");
            let search = format!("{api}/search/issues?q={}", encode(&q));
            let found = d.http.send(|c| get(c, &search)).await?;
            let found: Value = serde_json::from_str(&found.body).unwrap_or(Value::Null);
            let number = found["items"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|i| i["title"].as_str() == Some(title.as_str()) && i["state"].as_str() != Some("closed"))
                .and_then(|i| i["number"].as_u64());
            let text = body(&d.events);
            let (url, payload) = match number {
                Some(n) => (
                    format!("{api}/repos/{owner}/{name}/issues/{n}/comments"),
                    json!({"body": text}),
                ),
                None => (
                    format!("{api}/repos/{owner}/{name}/issues"),
                    json!({"title": title, "body": text}),
                ),
            };
            d.http
                .post_json(&url, &payload, &[("authorization", &auth), ACCEPT, API_VERSION])
                .await
                .map(|_| ())
        })
    }
}

pub fn title(e: &Event) -> String {
    format!("Railyard: {} in {}", e.guardrail, e.workload)
}

fn body(events: &[Event]) -> String {
    let mut out = String::new();
    for e in events {
        // Control characters shown escaped; `<` and `>` as entities so workload text cannot
        // open HTML (or close the marker comment below).
        let lines: Vec<String> = e
            .lines()
            .iter()
            .map(|l| crate::report::escape::line(l).replace('<', "&lt;").replace('>', "&gt;"))
            .collect();
        out.push_str(&format!("**{}**\n\n", lines[0]));
        for l in &lines[1..] {
            out.push_str(&format!("{}\n", l.replacen('•', "-", 1)));
        }
        if !e.url.is_empty() {
            out.push_str(&format!("\nMore: {}\n", e.url));
        }
        out.push_str(&format!("\n<!-- railyard:{} -->\n\n", e.key));
    }
    out
}

/// `owner/name` from the last two path segments of a repository URL or path
/// (`https://github.com/o/n.git`, `git@github.com:o/n.git`, `ssh://git@host/o/n`).
pub fn owner_and_name(repo: &str) -> Option<(String, String)> {
    let path = match repo.split_once("://") {
        Some((_, rest)) => rest.split_once('/').map(|(_, p)| p).unwrap_or(""),
        None => match repo.split_once(':') {
            Some((host, p)) if !host.contains('/') && host.len() > 1 => p,
            _ => repo,
        },
    };
    let mut parts = path.trim_end_matches('/').rsplit('/').filter(|p| !p.is_empty());
    let name = parts.next()?.trim_end_matches(".git").to_string();
    let owner = parts.next()?.to_string();
    (!name.is_empty()).then_some((owner, name))
}

/// Percent-encodes a query value.
fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_owner_and_name() {
        let on = |s: &str| owner_and_name(s).map(|(o, n)| format!("{o}/{n}"));
        assert_eq!(on("https://github.com/acme/api.git").as_deref(), Some("acme/api"));
        assert_eq!(on("git@github.com:acme/api.git").as_deref(), Some("acme/api"));
        assert_eq!(on("ssh://git@ghe.example.com/acme/api").as_deref(), Some("acme/api"));
        assert_eq!(on("https://github.com/acme/api/").as_deref(), Some("acme/api"));
        assert_eq!(on("api"), None);
        assert_eq!(encode("a b\"/:"), "a%20b%22%2F%3A");
    }
}
