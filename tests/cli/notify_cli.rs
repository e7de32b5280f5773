//! Notifications through the CLI against a real HTTP server on 127.0.0.1 started by the test:
//! Slack, Teams, the signed generic webhook and GitHub issues; retries on 429 and 5xx; a
//! server that never answers; one delivery per event across re-runs; secrets never printed;
//! attribution (git blame) in `observe`'s output and in the notifications.

use crate::common::commit;
use crate::common::sandbox::{bundled, command, ledger_json, main_and_develop, text, Root};
use git2::{Repository, Signature};
use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::Output;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const SIGNING_KEY: &str = "hmac-test-key";

// ---- a tiny HTTP server ------------------------------------------------------------------

#[derive(Debug, Clone)]
struct Req {
    method: String,
    path: String,
    headers: BTreeMap<String, String>,
    body: String,
}

impl Req {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }
}

/// What the server answers: status, extra headers, body; `None` = never answer.
type Reply = Option<(u16, Vec<(&'static str, String)>, String)>;

struct Server {
    addr: String,
    requests: Arc<Mutex<Vec<Req>>>,
    /// Scripted replies per path prefix, consumed in order; afterwards 200.
    script: Arc<Mutex<Vec<(String, Reply)>>>,
}

impl Server {
    fn start() -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let script: Arc<Mutex<Vec<(String, Reply)>>> = Arc::new(Mutex::new(Vec::new()));
        let (r, s) = (requests.clone(), script.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let (r, s) = (r.clone(), s.clone());
                std::thread::spawn(move || handle(stream, r, s));
            }
        });
        Server { addr, requests, script }
    }
    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }
    fn then(&self, prefix: &str, reply: Reply) {
        self.script.lock().unwrap().push((prefix.to_string(), reply));
    }
    fn to(&self, prefix: &str) -> Vec<Req> {
        self.requests
            .lock()
            .unwrap()
            .iter()
            .filter(|r| r.path.starts_with(prefix))
            .cloned()
            .collect()
    }
    fn count(&self) -> usize {
        self.requests.lock().unwrap().len()
    }
}

fn handle(stream: TcpStream, requests: Arc<Mutex<Vec<Req>>>, script: Arc<Mutex<Vec<(String, Reply)>>>) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut line = String::new();
    if reader.read_line(&mut line).unwrap_or(0) == 0 {
        return;
    }
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or("").to_string();
    let path = parts.next().unwrap_or("").to_string();
    let mut headers = BTreeMap::new();
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).unwrap_or(0) == 0 || h.trim().is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
        }
    }
    let len: usize = headers.get("content-length").and_then(|v| v.parse().ok()).unwrap_or(0);
    let mut body = vec![0; len];
    reader.read_exact(&mut body).unwrap();
    let req = Req {
        method,
        path: path.clone(),
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    };
    requests.lock().unwrap().push(req.clone());
    let reply = {
        let mut s = script.lock().unwrap();
        match s.iter().position(|(p, _)| path.starts_with(p.as_str())) {
            Some(i) => s.remove(i).1,
            None => Some(default_reply(&req)),
        }
    };
    let Some((status, extra, body)) = reply else {
        std::thread::sleep(Duration::from_secs(20)); // never answers
        return;
    };
    let mut out = stream;
    let mut head = format!(
        "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n",
        body.len()
    );
    for (k, v) in extra {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    let _ = out.write_all(format!("{head}\r\n{body}").as_bytes());
}

fn default_reply(req: &Req) -> (u16, Vec<(&'static str, String)>, String) {
    if req.path.contains("/search/issues") {
        return (200, vec![], r#"{"total_count":0,"items":[]}"#.into());
    }
    if req.method == "POST" && req.path.contains("/issues") {
        return (201, vec![], r#"{"number":1}"#.into());
    }
    (200, vec![], "ok".into())
}

// ---- the sandbox ---------------------------------------------------------------------------

const COMPLIANT_TF: &str = r#"resource "aws_s3_bucket" "logs" {
  bucket = "logs"
}

resource "aws_s3_bucket_versioning" "logs" {
  bucket = aws_s3_bucket.logs.id
  versioning_configuration {
    status = "Enabled"
  }
}
"#;

const UNVERSIONED_TF: &str = r#"resource "aws_s3_bucket" "logs" {
  bucket = "logs"
}
"#;

fn registry(server: &Server) -> String {
    format!(
        r#"[defaults]
grace_days = 30

[[workload]]
name = "web"
repo = "../web"
team = "web"

[team.web]
owners = ["bob@example.com"]
slack_webhook_env = "WEB_SLACK_URL"
teams_webhook_env = "WEB_TEAMS_URL"
webhook_env = "WEB_HOOK_URL"
webhook_secret_env = "WEB_HOOK_KEY"
github_token_env = "WEB_GH_TOKEN"
github_api = "{}"
"#,
        server.url("/gh")
    )
}

struct Sandbox {
    dir: tempfile::TempDir,
    server: Server,
}

impl Root for Sandbox {
    fn root(&self) -> &Path {
        self.dir.path()
    }
}

impl Sandbox {
    /// A guardrails repo whose develop has aws-s3-versioning (broken by `web`), a workload
    /// repo `web` with an author the notifications name, and an HTTP server.
    fn new() -> Sandbox {
        let sb = Sandbox {
            dir: tempfile::tempdir().unwrap(),
            server: Server::start(),
        };
        let web = sb.repo("web");
        commit_as(&web, "Dana Dev", &[("main.tf", Some(UNVERSIONED_TF))], "web infra");
        let g = sb.repo("guardrails");
        let mut base: Vec<(String, String)> = bundled("lib");
        base.push(("workloads.toml".into(), registry(&sb.server)));
        main_and_develop(&g, &base, &bundled("aws-s3-versioning"), "candidate");
        sb
    }
    fn run_env(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        let mut cmd = command(self.dir.path(), args);
        cmd
            // The machine's date for runs that write (debug builds): the stories run to 2026-12-31.
            .env("RAILYARD_TEST_TODAY", "2026-12-31")
            .env("WEB_SLACK_URL", self.server.url("/slack/T000/B000/secret-slack"))
            .env("WEB_TEAMS_URL", self.server.url("/teams/webhookb2/secret-teams"))
            .env("WEB_HOOK_URL", self.server.url("/hook/secret-hook?token=abc"))
            .env("WEB_HOOK_KEY", SIGNING_KEY)
            .env("WEB_GH_TOKEN", "ghp_secret_token")
            .env("RAILYARD_NOTIFY_TIMEOUT_MS", "3000");
        for var in [
            "HTTP_PROXY",
            "http_proxy",
            "HTTPS_PROXY",
            "https_proxy",
            "ALL_PROXY",
            "all_proxy",
        ] {
            cmd.env_remove(var);
        }
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd.output().unwrap()
    }
    fn run(&self, args: &[&str]) -> Output {
        self.run_env(args, &[])
    }
    fn ledger(&self) -> Value {
        ledger_json(&self.repo("guardrails"))
    }
    fn notified(&self) -> Vec<String> {
        let l = self.ledger();
        l["entries"]["aws-s3-versioning/web"]["notified"]
            .as_object()
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default()
    }
    /// Output must never carry a secret: the server's host:port (in every webhook URL), the
    /// secret path tokens, the token.
    fn assert_no_secrets(&self, out: &Output) {
        let t = text(out);
        for secret in [
            self.server.addr.as_str(),
            "secret-slack",
            "secret-teams",
            "secret-hook",
            "ghp_secret_token",
            SIGNING_KEY,
        ] {
            assert!(!t.contains(secret), "output leaks `{secret}`: {t}");
        }
        let l = self.ledger().to_string();
        assert!(
            !l.contains(&self.server.addr) && !l.contains("secret-"),
            "ledger leaks a secret"
        );
        let g = self.repo("guardrails");
        let mut walk = g.revwalk().unwrap();
        walk.push_ref("refs/heads/railyard/ledger").unwrap();
        for oid in walk {
            let m = g.find_commit(oid.unwrap()).unwrap().message().unwrap().to_string();
            assert!(!m.contains(&self.server.addr), "commit message leaks the URL: {m}");
        }
    }
}

fn commit_as(repo: &Repository, author: &str, changes: &[(&str, Option<&str>)], message: &str) {
    let oid = commit(repo, "main", changes, message);
    // Re-sign the commit with `author` (commit() uses "Test").
    let c = repo.find_commit(oid).unwrap();
    let sig = Signature::now(author, "dev@example.com").unwrap();
    let parents: Vec<git2::Commit> = c.parents().collect();
    let parents: Vec<&git2::Commit> = parents.iter().collect();
    let new = repo
        .commit(None, &sig, &sig, message, &c.tree().unwrap(), &parents)
        .unwrap();
    repo.reference("refs/heads/main", new, true, "author").unwrap();
}

fn verify(req: &Req) {
    let sig = req.headers.get("x-railyard-signature").expect("signed");
    let mut mac = Hmac::<Sha256>::new_from_slice(SIGNING_KEY.as_bytes()).unwrap();
    mac.update(req.body.as_bytes());
    let hex = sig.strip_prefix("sha256=").expect("sha256= prefix");
    mac.verify_slice(&hex::decode(hex).unwrap())
        .expect("signature verifies");
}

// ---- tests ---------------------------------------------------------------------------------

#[test]
fn every_channel_gets_one_digest_with_attribution_and_nothing_twice() {
    let sb = Sandbox::new();
    let out = sb.run(&["observe", "--now", "2026-11-01", "--format", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    sb.assert_no_secrets(&out);
    let j: Value = serde_json::from_slice(&out.stdout).unwrap();
    let fix = &j["to_fix"][0];
    assert_eq!(fix["file"], "main.tf");
    assert_eq!(fix["last_changed"]["author"], "Dana Dev", "{fix}");
    assert_eq!(fix["last_changed"]["commit"].as_str().unwrap().len(), 40);
    assert!(
        j["notifications"]
            .as_array()
            .unwrap()
            .iter()
            .all(|n| n["status"] == "sent"),
        "{j}"
    );

    // Slack: text and blocks, file:line and who last changed it.
    let slack = sb.server.to("/slack/");
    assert_eq!(slack.len(), 1, "{slack:?}");
    let s = slack[0].json();
    assert!(s["text"].as_str().unwrap().contains("aws-s3-versioning"), "{s}");
    let blocks = s["blocks"].to_string();
    assert!(blocks.contains("main.tf:1"), "{blocks}");
    assert!(blocks.contains("last changed by Dana Dev in "), "{blocks}");
    assert!(blocks.contains("2026-12-01"), "{blocks}");

    // Teams: an Adaptive Card.
    let teams = sb.server.to("/teams/");
    assert_eq!(teams.len(), 1);
    let t = teams[0].json();
    assert_eq!(t["attachments"][0]["content"]["type"], "AdaptiveCard");
    assert!(t.to_string().contains("aws-s3-versioning"));

    // Generic webhook: schema v1, the events, signed.
    let hook = sb.server.to("/hook/");
    assert_eq!(hook.len(), 1);
    verify(&hook[0]);
    let h = hook[0].json();
    assert_eq!(h["schema"], "railyard.notification/v1");
    assert_eq!(h["team"], "web");
    assert_eq!(h["run"]["command"], "observe");
    assert_eq!(h["run"]["now"], "2026-11-01");
    let e = &h["events"][0];
    assert_eq!(e["kind"], "new");
    assert_eq!(e["key"], "new:2026-11-01");
    assert_eq!(e["guardrail"], "aws-s3-versioning");
    assert_eq!(e["severity"], "medium");
    assert_eq!(e["deadline"], "2026-12-01");
    assert_eq!(e["resources"][0]["resource"], "aws_s3_bucket.logs");
    assert_eq!(e["resources"][0]["line"], 1);
    assert_eq!(e["resources"][0]["last_changed"]["author"], "Dana Dev");
    assert!(e["remediation"].as_str().unwrap().contains("versioning"));

    // GitHub: searched for the issue, then opened it in the workload's repository.
    let gh = sb.server.to("/gh/");
    assert_eq!(gh.len(), 2, "{gh:?}");
    assert_eq!(gh[0].method, "GET");
    assert!(gh[0].path.contains("/search/issues?q="), "{}", gh[0].path);
    assert_eq!(gh[0].headers["authorization"], "Bearer ghp_secret_token");
    assert_eq!(gh[1].method, "POST");
    assert!(gh[1].path.ends_with("/web/issues"), "{}", gh[1].path);
    assert_eq!(gh[1].json()["title"], "Railyard: aws-s3-versioning in web");

    let notified = sb.notified();
    for ch in ["slack", "teams", "webhook", "github"] {
        assert!(notified.contains(&format!("new:2026-11-01@{ch}")), "{notified:?}");
    }

    // A re-run sends nothing new.
    let before = sb.server.count();
    let out = sb.run(&["observe", "--now", "2026-11-02"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(sb.server.count(), before, "re-run sent again");

    // The team fixes it: one "resolved" digest; GitHub comments on the open issue.
    sb.server.then(
        "/gh/search/issues",
        Some((
            200,
            vec![],
            r#"{"total_count":1,"items":[{"number":7,"state":"open","title":"Railyard: aws-s3-versioning in web"}]}"#
                .into(),
        )),
    );
    commit_as(
        &sb.repo("web"),
        "Dana Dev",
        &[("main.tf", Some(COMPLIANT_TF))],
        "enable versioning",
    );
    let out = sb.run(&["observe", "--now", "2026-11-03"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    sb.assert_no_secrets(&out);
    let slack = sb.server.to("/slack/");
    assert_eq!(slack.len(), 2);
    assert!(slack[1].body.contains("Resolved"), "{}", slack[1].body);
    let hook = sb.server.to("/hook/");
    assert_eq!(hook[1].json()["events"][0]["kind"], "resolved");
    verify(&hook[1]);
    let gh = sb.server.to("/gh/");
    assert!(gh.last().unwrap().path.ends_with("/web/issues/7/comments"), "{gh:?}");
    assert!(sb.notified().contains(&"resolved:2026-11-03@slack".to_string()));
}

#[test]
fn retries_429_with_retry_after_and_500_then_delivers_once() {
    let sb = Sandbox::new();
    sb.server.then(
        "/slack/",
        Some((429, vec![("retry-after", "1".into())], "slow down".into())),
    );
    sb.server.then("/hook/", Some((500, vec![], "oops".into())));
    let start = Instant::now();
    let out = sb.run(&["observe", "--now", "2026-11-01"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(start.elapsed() >= Duration::from_secs(1), "Retry-After not honoured");
    sb.assert_no_secrets(&out);
    let slack = sb.server.to("/slack/");
    assert_eq!(slack.len(), 2, "one 429, one delivery");
    assert_eq!(slack[0].body, slack[1].body);
    let hook = sb.server.to("/hook/");
    assert_eq!(hook.len(), 2, "one 500, one delivery");
    let notified = sb.notified();
    assert!(notified.contains(&"new:2026-11-01@slack".to_string()), "{notified:?}");
    assert!(notified.contains(&"new:2026-11-01@webhook".to_string()), "{notified:?}");
    let before = sb.server.count();
    assert_eq!(sb.run(&["observe", "--now", "2026-11-02"]).status.code(), Some(0));
    assert_eq!(sb.server.count(), before, "delivered once");
}

#[test]
fn a_server_that_never_answers_times_out_and_the_next_run_retries() {
    let sb = Sandbox::new();
    for _ in 0..3 {
        sb.server.then("/slack/", None);
    }
    let start = Instant::now();
    let out = sb.run_env(
        &["observe", "--now", "2026-11-01"],
        &[("RAILYARD_NOTIFY_TIMEOUT_MS", "300")],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(start.elapsed() < Duration::from_secs(15), "the run waited too long");
    sb.assert_no_secrets(&out);
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(
        err.contains("FAILED") && err.contains("$WEB_SLACK_URL") && err.contains("timed out"),
        "{err}"
    );
    // The observation is recorded; the failed channel is not marked, the others are.
    assert_eq!(
        sb.ledger()["entries"]["aws-s3-versioning/web"]["status"],
        "noncompliant"
    );
    let notified = sb.notified();
    assert!(!notified.iter().any(|k| k.ends_with("@slack")), "{notified:?}");
    assert!(notified.contains(&"new:2026-11-01@teams".to_string()), "{notified:?}");

    // The next run retries Slack only.
    let teams_before = sb.server.to("/teams/").len();
    let out = sb.run(&["observe", "--now", "2026-11-02"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(sb.notified().contains(&"new:2026-11-01@slack".to_string()));
    assert_eq!(sb.server.to("/teams/").len(), teams_before);
    let slack = sb.server.to("/slack/");
    assert!(slack.last().unwrap().json()["text"]
        .as_str()
        .unwrap()
        .contains("aws-s3-versioning"));
}

#[test]
fn dry_run_and_no_notify_print_and_send_nothing() {
    let sb = Sandbox::new();
    let out = sb.run(&["observe", "--now", "2026-11-01", "--dry-run"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("would send"),
        "{}",
        text(&out)
    );
    assert_eq!(sb.server.count(), 0);

    let out = sb.run(&["observe", "--now", "2026-11-01", "--no-notify", "--format", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    sb.assert_no_secrets(&out);
    assert_eq!(sb.server.count(), 0);
    let j: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(j["notifications"][0]["status"], "would-send", "{j}");
    assert_eq!(j["notifications"][0]["env"], "WEB_SLACK_URL");
    assert_eq!(
        sb.ledger()["entries"]["aws-s3-versioning/web"]["status"],
        "noncompliant"
    );
    assert!(sb.notified().is_empty());
}

#[test]
fn enforce_reminds_before_the_deadline_then_announces_the_activation() {
    let sb = Sandbox::new();
    assert_eq!(sb.run(&["observe", "--now", "2026-11-01"]).status.code(), Some(0));
    let hooks = || sb.server.to("/hook/");
    assert_eq!(hooks().len(), 1);

    // No reminder on a day that is not a reminder day.
    assert_eq!(sb.run(&["enforce", "--now", "2026-11-20"]).status.code(), Some(0));
    assert_eq!(hooks().len(), 1);

    let out = sb.run(&["enforce", "--now", "2026-11-28"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    sb.assert_no_secrets(&out);
    let h = hooks();
    assert_eq!(h.len(), 2);
    verify(&h[1]);
    let e = &h[1].json()["events"][0];
    assert_eq!(e["kind"], "reminder");
    assert_eq!(e["key"], "remind:2026-12-01:3");
    assert_eq!(e["days_left"], 3);
    assert_eq!(e["resources"][0]["file"], "main.tf");
    assert_eq!(e["resources"][0]["last_changed"]["author"], "Dana Dev", "{e}");
    // Same day again: nothing new.
    assert_eq!(sb.run(&["enforce", "--now", "2026-11-28"]).status.code(), Some(0));
    assert_eq!(hooks().len(), 2);

    let out = sb.run(&["enforce", "--now", "2026-12-01"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let h = hooks();
    assert_eq!(h.len(), 3);
    let e = &h[2].json()["events"][0];
    assert_eq!(e["kind"], "activated");
    assert_eq!(e["key"], "activated:2026-12-01");
    assert!(sb.notified().contains(&"activated:2026-12-01@webhook".to_string()));
}

#[test]
fn enforce_tells_the_team_about_an_exception_expiring_then_expired() {
    let sb = Sandbox::new();
    let exc = "[[exception]]\nworkload = \"web\"\nresource = \"aws_s3_bucket.log*\"\nreason = \"Recreated in Q1\"\napproved_by = \"security@example.com\"\nexpires = 2026-11-20\n";
    commit(
        &sb.repo("guardrails"),
        "develop",
        &[("guardrails/aws-s3-versioning/exceptions.toml", Some(exc))],
        "exception",
    );
    assert_eq!(sb.run(&["observe", "--now", "2026-11-01"]).status.code(), Some(0));
    let hooks = || sb.server.to("/hook/");
    let before = hooks().len();
    let out = sb.run(&["enforce", "--now", "2026-11-10"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let h = hooks();
    assert_eq!(h.len(), before + 1);
    let e = &h.last().unwrap().json()["events"][0];
    assert_eq!(e["kind"], "exception-expiring", "{e}");
    assert_eq!(e["key"], "exception-expiring:2026-11-20:aws_s3_bucket.log*");
    assert_eq!(e["exception"]["approved_by"], "security@example.com");
    assert_eq!(sb.run(&["enforce", "--now", "2026-11-11"]).status.code(), Some(0));
    assert_eq!(hooks().len(), before + 1, "sent twice");
    assert_eq!(sb.run(&["enforce", "--now", "2026-11-21"]).status.code(), Some(0));
    let h = hooks();
    assert_eq!(h.len(), before + 2);
    assert_eq!(h.last().unwrap().json()["events"][0]["kind"], "exception-expired");
}
