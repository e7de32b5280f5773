//! Severity routing through the CLI against a real HTTP server on 127.0.0.1: a critical
//! finding reaches the team's pager route and not its low route; a low finding does not reach
//! a channel whose floor is `high`; the digest lists events by severity, then deadline; an
//! unknown severity in `workloads.toml` is an error naming the file and line.

use crate::common::commit;
use crate::common::sandbox::{bundled, command, ledger_json, main_and_develop, text, Root};
use serde_json::Value;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::Output;
use std::sync::{Arc, Mutex};

/// A bucket that breaks a critical (public ACL), two medium (versioning, KMS) and a low
/// (access logging) guardrail.
const PUBLIC_TF: &str = r#"resource "aws_s3_bucket" "logs" {
  bucket = "logs"
  acl    = "public-read"
}
"#;

/// Candidates on develop: one per severity but high, two medium with different deadlines.
const CANDIDATES: &[&str] = &[
    "aws-s3-access-logging",
    "aws-s3-kms-encryption",
    "aws-s3-no-public-acl",
    "aws-s3-versioning",
];

/// The team's own channels: slack (floor `high`, from the team's `min_severity`) and the
/// digest webhook (its own floor `low`: everything); routes: critical → pager, low → low.
const ROUTED: &str = r#"[[workload]]
name = "web"
repo = "../web"
team = "web"

[team.web]
min_severity = "high"
slack_webhook_env = "WEB_SLACK_URL"
webhook_env = "WEB_HOOK_URL"
webhook_min_severity = "low"

[team.web.severity.critical]
webhook_env = "WEB_PAGER_URL"

[team.web.severity.low]
webhook_env = "WEB_LOW_URL"
"#;

/// Records every request (path, body) and answers 200.
struct Server {
    addr: String,
    requests: Arc<Mutex<Vec<(String, String)>>>,
}

impl Server {
    fn start() -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let r = requests.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let r = r.clone();
                std::thread::spawn(move || handle(stream, r));
            }
        });
        Server { addr, requests }
    }
    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }
    /// The JSON bodies posted to paths starting with `prefix`.
    fn to(&self, prefix: &str) -> Vec<Value> {
        self.requests
            .lock()
            .unwrap()
            .iter()
            .filter(|(p, _)| p.starts_with(prefix))
            .map(|(_, b)| serde_json::from_str(b).unwrap_or(Value::Null))
            .collect()
    }
    fn count(&self) -> usize {
        self.requests.lock().unwrap().len()
    }
}

fn handle(stream: TcpStream, requests: Arc<Mutex<Vec<(String, String)>>>) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut line = String::new();
    if reader.read_line(&mut line).unwrap_or(0) == 0 {
        return;
    }
    let path = line.split_whitespace().nth(1).unwrap_or("").to_string();
    let mut len = 0;
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).unwrap_or(0) == 0 || h.trim().is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            if k.trim().eq_ignore_ascii_case("content-length") {
                len = v.trim().parse().unwrap_or(0);
            }
        }
    }
    let mut body = vec![0; len];
    reader.read_exact(&mut body).unwrap();
    requests
        .lock()
        .unwrap()
        .push((path, String::from_utf8_lossy(&body).into_owned()));
    let mut out = stream;
    let _ = out.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok");
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
    /// A guardrails repo whose develop adds [`CANDIDATES`] (versioning with a 10-day grace, so
    /// its deadline comes before KMS's), the workload `web` breaking them all, a server.
    fn new(registry: &str) -> Sandbox {
        let sb = Sandbox {
            dir: tempfile::tempdir().unwrap(),
            server: Server::start(),
        };
        commit(&sb.repo("web"), "main", &[("main.tf", Some(PUBLIC_TF))], "web infra");
        let mut base = bundled("lib");
        base.push(("workloads.toml".into(), registry.to_string()));
        let mut candidates = Vec::new();
        for id in CANDIDATES {
            for (path, content) in bundled(id) {
                let content = if *id == "aws-s3-versioning" && path.ends_with("guardrail.toml") {
                    assert!(content.contains("grace_days = 30"), "{content}");
                    content.replace("grace_days = 30", "grace_days = 10")
                } else {
                    content
                };
                candidates.push((path, content));
            }
        }
        main_and_develop(&sb.repo("guardrails"), &base, &candidates, "candidates");
        sb
    }
    fn run(&self, args: &[&str]) -> Output {
        let mut cmd = command(self.dir.path(), args);
        cmd.env("RAILYARD_TEST_TODAY", "2026-12-31")
            .env("WEB_SLACK_URL", self.server.url("/slack/secret"))
            .env("WEB_HOOK_URL", self.server.url("/hook/secret"))
            .env("WEB_PAGER_URL", self.server.url("/pager/secret"))
            .env("WEB_LOW_URL", self.server.url("/low/secret"))
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
        cmd.output().unwrap()
    }
    fn notified(&self, guardrail: &str) -> Vec<String> {
        let l = ledger_json(&self.repo("guardrails"));
        l["entries"][format!("{guardrail}/web")]["notified"]
            .as_object()
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default()
    }
}

/// The guardrails of a webhook payload's events, in order.
fn guardrails(payload: &Value) -> Vec<String> {
    payload["events"]
        .as_array()
        .unwrap_or(&Vec::new())
        .iter()
        .map(|e| e["guardrail"].as_str().unwrap_or_default().to_string())
        .collect()
}

#[test]
fn critical_reaches_the_pager_not_the_low_route_and_low_skips_a_high_floor() {
    let sb = Sandbox::new(ROUTED);
    let out = sb.run(&["observe", "--now", "2026-11-01", "--format", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(!text(&out).contains(&sb.server.addr), "output leaks a webhook URL");

    // Critical: the pager route, alone; low: the low route, alone.
    let pager = sb.server.to("/pager/");
    assert_eq!(pager.len(), 1, "{pager:?}");
    assert_eq!(guardrails(&pager[0]), ["aws-s3-no-public-acl"]);
    assert_eq!(pager[0]["events"][0]["severity"], "critical");
    let low = sb.server.to("/low/");
    assert_eq!(low.len(), 1, "{low:?}");
    assert_eq!(guardrails(&low[0]), ["aws-s3-access-logging"]);

    // Slack's floor is the team's `high`: the critical finding, not the medium or low ones.
    let slack = sb.server.to("/slack/");
    assert_eq!(slack.len(), 1, "{slack:?}");
    let body = slack[0].to_string();
    assert!(body.contains("aws-s3-no-public-acl"), "{body}");
    for below in ["aws-s3-access-logging", "aws-s3-versioning", "aws-s3-kms-encryption"] {
        assert!(!body.contains(below), "slack (min_severity high) got {below}: {body}");
    }

    // Each route records its deliveries apart from the team's channels.
    let critical = sb.notified("aws-s3-no-public-acl");
    for marker in ["webhook", "webhook.critical", "slack"] {
        assert!(critical.contains(&format!("new:2026-11-01@{marker}")), "{critical:?}");
    }
    assert!(!critical.iter().any(|m| m.ends_with("@webhook.low")), "{critical:?}");
    let logging = sb.notified("aws-s3-access-logging");
    assert!(
        logging.contains(&"new:2026-11-01@webhook.low".to_string()),
        "{logging:?}"
    );
    assert!(!logging.iter().any(|m| m.ends_with("@slack")), "{logging:?}");
    let j: Value = serde_json::from_slice(&out.stdout).unwrap();
    let channels: Vec<&str> = j["notifications"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["channel"].as_str().unwrap())
        .collect();
    assert_eq!(channels, ["slack", "webhook", "webhook.critical", "webhook.low"], "{j}");

    // A re-run sends nothing again, on any route.
    let before = sb.server.count();
    let out = sb.run(&["observe", "--now", "2026-11-02"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(sb.server.count(), before, "re-run sent again: {}", text(&out));
}

#[test]
fn the_digest_lists_events_by_severity_then_deadline() {
    let sb = Sandbox::new(ROUTED);
    let out = sb.run(&["observe", "--now", "2026-11-01"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let hook = sb.server.to("/hook/");
    assert_eq!(hook.len(), 1, "{hook:?}");
    let events = hook[0]["events"].as_array().unwrap();
    let order: Vec<(String, String, String)> = events
        .iter()
        .map(|e| {
            (
                e["severity"].as_str().unwrap().to_string(),
                e["deadline"].as_str().unwrap_or("").to_string(),
                e["guardrail"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let want = [
        ("critical", "2026-11-15", "aws-s3-no-public-acl"),
        ("medium", "2026-11-11", "aws-s3-versioning"),
        ("medium", "2026-12-01", "aws-s3-kms-encryption"),
        ("low", "2026-12-01", "aws-s3-access-logging"),
    ];
    let want: Vec<(String, String, String)> = want
        .iter()
        .map(|(s, d, g)| (s.to_string(), d.to_string(), g.to_string()))
        .collect();
    assert_eq!(order, want);
}

#[test]
fn an_unknown_severity_names_workloads_toml_and_the_line() {
    for (registry, line) in [
        (
            ROUTED.replace("min_severity = \"high\"", "min_severity = \"urgent\""),
            7,
        ),
        (
            ROUTED.replace("[team.web.severity.low]", "[team.web.severity.urgent]"),
            15,
        ),
    ] {
        let sb = Sandbox::new(&registry);
        let out = sb.run(&["observe", "--now", "2026-11-01"]);
        let t = text(&out);
        assert_eq!(out.status.code(), Some(2), "{t}");
        assert!(t.contains(&format!("workloads.toml:{line}")), "{t}");
        assert!(
            t.contains("unknown severity `urgent`: use one of low, medium, high, critical"),
            "{t}"
        );
        assert!(!t.contains("panicked"), "{t}");
        assert_eq!(sb.server.count(), 0, "sent despite a bad workloads.toml");
    }
}

/// [`ROUTED`] with two more workloads, `zeta` and `alpha`, compliant until a test breaks them.
const DIGEST: &str = r#"[[workload]]
name = "web"
repo = "../web"
team = "web"

[[workload]]
name = "zeta"
repo = "../zeta"
team = "web"

[[workload]]
name = "alpha"
repo = "../alpha"
team = "web"

[team.web]
min_severity = "high"
slack_webhook_env = "WEB_SLACK_URL"
webhook_env = "WEB_HOOK_URL"
webhook_min_severity = "low"

[team.web.severity.critical]
webhook_env = "WEB_PAGER_URL"

[team.web.severity.low]
webhook_env = "WEB_LOW_URL"
"#;

/// Breaks nothing.
const QUIET_TF: &str = "resource \"aws_sns_topic\" \"t\" {\n  name = \"t\"\n}\n";
/// Breaks access logging (low) and the medium guardrails, not the critical one.
const UNLOGGED_TF: &str = "resource \"aws_s3_bucket\" \"b\" {\n  bucket = \"b\"\n}\n";

/// `(workload, guardrail)` of each event of a webhook payload, in order.
fn workloads(payload: &Value) -> Vec<String> {
    payload["events"]
        .as_array()
        .unwrap_or(&Vec::new())
        .iter()
        .map(|e| e["workload"].as_str().unwrap_or_default().to_string())
        .collect()
}

/// The low route is the team's weekly digest (issue 13): low events of later runs in the same
/// week wait in the ledger; the first run of the next week sends them in one message,
/// ordered by deadline (all are low); concurrent runs send it once.
#[test]
fn the_low_route_is_a_weekly_digest_sent_once_per_week() {
    let sb = Sandbox::new(DIGEST);
    for w in ["zeta", "alpha"] {
        commit(&sb.repo(w), "main", &[("main.tf", Some(QUIET_TF))], "quiet");
    }
    let observe = |now: &str| {
        let out = sb.run(&["observe", "--now", now, "--format", "json"]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
        serde_json::from_slice::<Value>(&out.stdout).unwrap()
    };
    let low_status = |j: &Value| -> Vec<String> {
        j["notifications"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|n| n["channel"] == "webhook.low")
            .map(|n| n["status"].as_str().unwrap().to_string())
            .collect()
    };

    // Monday 2026-11-30: the week's digest goes out with the first run (web's finding).
    let j = observe("2026-11-30");
    assert_eq!(low_status(&j), ["sent"], "{j}");
    let low = sb.server.to("/low/");
    assert_eq!(low.len(), 1, "{low:?}");
    assert_eq!(workloads(&low[0]), ["web"]);

    // Wednesday: zeta breaks access logging. Same week: queued in the ledger, not sent; the
    // team's own webhook still hears at once.
    commit(&sb.repo("zeta"), "main", &[("main.tf", Some(UNLOGGED_TF))], "unlogged");
    let hook_before = sb.server.to("/hook/").len();
    let j = observe("2026-12-02");
    assert_eq!(low_status(&j), ["queued"], "{j}");
    assert_eq!(sb.server.to("/low/").len(), 1, "a second digest in the same week");
    assert_eq!(
        sb.server.to("/hook/").len(),
        hook_before + 1,
        "the team channel waits for nothing"
    );
    let l = ledger_json(&sb.repo("guardrails"));
    let queued = &l["entries"]["aws-s3-access-logging/zeta"]["queued"];
    assert!(queued.get("new:2026-12-02@webhook.low").is_some(), "{queued:#}");
    assert_eq!(
        l["digests"]["web@webhook.low"]["sent"], "2026-11-30",
        "{:#}",
        l["digests"]
    );

    // Thursday: alpha too (a later deadline than zeta's). Still queued.
    commit(&sb.repo("alpha"), "main", &[("main.tf", Some(UNLOGGED_TF))], "unlogged");
    let j = observe("2026-12-03");
    assert_eq!(low_status(&j), ["queued"], "{j}");
    assert_eq!(sb.server.to("/low/").len(), 1);

    // Next Tuesday, two runs at once with nothing new: one digest with both queued events,
    // the nearest deadline first (zeta, though `alpha` sorts first by name).
    let spawn = || {
        let mut cmd = command(sb.root(), &["observe", "--now", "2026-12-08", "--format", "json"]);
        cmd.env("RAILYARD_TEST_TODAY", "2026-12-31")
            .env("WEB_SLACK_URL", sb.server.url("/slack/secret"))
            .env("WEB_HOOK_URL", sb.server.url("/hook/secret"))
            .env("WEB_PAGER_URL", sb.server.url("/pager/secret"))
            .env("WEB_LOW_URL", sb.server.url("/low/secret"))
            .env("RAILYARD_NOTIFY_TIMEOUT_MS", "3000")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        cmd.spawn().unwrap()
    };
    let (a, b) = (spawn(), spawn());
    for child in [a, b] {
        let out = child.wait_with_output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    }
    let low = sb.server.to("/low/");
    assert_eq!(low.len(), 2, "exactly one digest this week: {low:#?}");
    assert_eq!(workloads(&low[1]), ["zeta", "alpha"], "{:#}", low[1]);
    let deadlines: Vec<&str> = low[1]["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["deadline"].as_str().unwrap())
        .collect();
    assert_eq!(deadlines, ["2027-01-01", "2027-01-02"]);
    let l = ledger_json(&sb.repo("guardrails"));
    assert!(
        l["entries"]["aws-s3-access-logging/zeta"].get("queued").is_none(),
        "{l:#}"
    );
    assert!(
        l["entries"]["aws-s3-access-logging/alpha"].get("queued").is_none(),
        "{l:#}"
    );
    assert_eq!(l["digests"]["web@webhook.low"]["sent"], "2026-12-07");

    // Later that week: nothing queued, nothing sent.
    let j = observe("2026-12-10");
    assert!(low_status(&j).is_empty(), "{j}");
    assert_eq!(sb.server.to("/low/").len(), 2);
}
