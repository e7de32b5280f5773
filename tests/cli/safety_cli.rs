//! Issue 15's attacks on fail-closed guardrails, network bounds, secrets, notifications,
//! output and configuration encoding, each through the real binary on real git repositories.

use crate::common;
use crate::common::sandbox::{
    bundled, ledger_json as read_ledger, main_and_develop, on_branch, two_workloads, Root, Sandbox,
};
use crate::common::{commit, railyard, railyard_env, REGISTRY, UNVERSIONED_TF};
use std::path::{Path, PathBuf};

/// A guardrails repo (`main`: lib and registry; `develop`: `candidates`) and two workload
/// repos, `payments` (compliant) and `web` (an unversioned bucket).
impl Sandbox {
    fn new(lib_on_main: bool, candidates: Vec<(String, String)>) -> Sandbox {
        let sb = Sandbox { dir: common::temp() };
        two_workloads(sb.dir.path(), ["payments", "web"]);
        let mut base: Vec<(String, String)> = if lib_on_main { bundled("lib") } else { Vec::new() };
        base.push(("workloads.toml".into(), REGISTRY.into()));
        main_and_develop(&sb.repo("guardrails"), &base, &candidates, "candidates");
        sb
    }

    fn run(&self, args: &[&str]) -> common::Run {
        let mut all: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        all.push("--repo".into());
        all.push(self.path("guardrails").to_string_lossy().into_owned());
        railyard(self.dir.path(), &all)
    }

    fn on_main(&self, path: &str) -> bool {
        on_branch(&self.repo("guardrails"), "main", path)
    }
}

/// `aws-s3-versioning` with its policy replaced.
fn with_policy(id: &str, policy: &str) -> Vec<(String, String)> {
    bundled(id)
        .into_iter()
        .map(|(p, c)| {
            if p.ends_with("/policy.rego") {
                (p, policy.to_string())
            } else {
                (p, c)
            }
        })
        .collect()
}

/// A copy of the bundled versioning guardrail that reads a helper *rule* the library does not
/// have: regorus evaluates the reference as undefined, so it finds nothing anywhere.
const MISSING_RULE: &str = "package railyard.aws_s3_versioning\n\nimport data.lib.railyard\n\ndeny contains f if {\n\tsome b in railyard.unversioned_buckets\n\tf := {\"resource\": b.address, \"message\": \"not versioned\"}\n}\n";

/// The same, calling a helper *function* only on resources that have tags (none do here),
/// so the missing function is never called at run time.
const MISSING_FUNCTION: &str = "package railyard.aws_s3_versioning\n\nimport data.lib.railyard\n\ndeny contains f if {\n\tsome b in input.resources\n\tb.config.tags\n\tnot railyard.versioned(b)\n\tf := {\"resource\": b.address, \"message\": \"not versioned\"}\n}\n";

#[test]
fn check_refuses_a_guardrail_copied_without_its_library() {
    let dir = common::temp();
    let folder = dir.path().join("guardrails");
    common::copy_dir(
        &common::bundled_guardrails().join("aws-s3-versioning"),
        &folder.join("aws-s3-versioning"),
    );
    common::write(dir.path(), "app/main.tf", UNVERSIONED_TF);
    for (policy, line, name) in [
        (MISSING_RULE, 6, "railyard.unversioned_buckets"),
        (MISSING_FUNCTION, 8, "railyard.versioned"),
        ("package railyard.aws_s3_versioning\n\ndeny contains f if {\n\tsome b in input.resources\n\tb.config.tags\n\tnot is_versioned(b)\n\tf := b.address\n}\n", 6, "is_versioned"),
    ] {
        common::write(&folder, "aws-s3-versioning/policy.rego", policy);
        let run = railyard(dir.path(), &["check", "--guardrails", "guardrails", "app"]);
        run.expect_code(2);
        let want = format!("aws-s3-versioning/policy.rego:{line}:");
        assert!(run.stderr.contains(&want), "must name {want}: {}", run.stderr);
        assert!(run.stderr.contains(name), "must name `{name}`: {}", run.stderr);
        // `test` refuses it the same way.
        let run = railyard(dir.path(), &["test", "guardrails"]);
        run.expect_code(2);
        assert!(run.stderr.contains(&want), "{}", run.stderr);
    }
    // With the library present the bundled policy loads and finds the bucket.
    common::copy_dir(&common::bundled_guardrails().join("lib"), &folder.join("lib"));
    common::copy_dir(
        &common::bundled_guardrails().join("aws-s3-versioning"),
        &folder.join("aws-s3-versioning"),
    );
    let run = railyard(dir.path(), &["check", "--guardrails", "guardrails", "app"]);
    run.expect_code(1);
}

#[test]
fn observe_never_promotes_a_candidate_whose_helpers_are_missing() {
    // main has no lib/; the candidate on develop was copied without it.
    let sb = Sandbox::new(false, with_policy("aws-s3-versioning", MISSING_RULE));
    let run = sb.run(&["observe", "--now", "2026-10-01", "--format", "json"]);
    let json = run.json();
    let c = &json["candidates"][0];
    assert_eq!(c["id"], "aws-s3-versioning", "{json}");
    assert_eq!(c["action"], "broken", "{json}");
    let problems = c["problems"].to_string();
    assert!(problems.contains("policy.rego:6"), "{problems}");
    assert!(!sb.on_main("guardrails/aws-s3-versioning/policy.rego"));
}

#[test]
fn observe_holds_a_candidate_whose_own_fixtures_fail() {
    // A policy that looks at a misspelt type: it breaks no workload, and its own failing
    // fixtures say it catches nothing.
    let typo = "package railyard.aws_s3_versioning\n\ndeny contains f if {\n\tsome b in data.lib.core.resources(\"aws_s3_bukket\")\n\tf := {\"resource\": b.address, \"message\": \"not versioned\"}\n}\n";
    let sb = Sandbox::new(true, with_policy("aws-s3-versioning", typo));
    let run = sb.run(&["observe", "--now", "2026-10-01", "--format", "json"]);
    let json = run.json();
    let c = &json["candidates"][0];
    assert_eq!(c["noncompliant"], 0, "{json}");
    assert_eq!(c["action"], "held", "{json}");
    let problems = c["problems"].to_string();
    assert!(problems.contains("fixture tests/fail/suspended.tf"), "{problems}");
    assert!(
        problems.contains("expected a finding on `aws_s3_bucket.media`"),
        "{problems}"
    );
    assert!(!sb.on_main("guardrails/aws-s3-versioning/policy.rego"));
}

#[test]
fn enforce_and_promote_refuse_a_guardrail_failing_its_fixtures_unless_told_explicitly() {
    // The policy works (web is noncompliant) but a fixture expects one more finding.
    let files: Vec<(String, String)> = bundled("aws-s3-versioning")
        .into_iter()
        .map(|(p, c)| {
            if p.ends_with("tests/fail/expected.toml") {
                (
                    p,
                    format!("{c}\"plan.json\" = [\"aws_s3_bucket.uploads\", \"aws_s3_bucket.missing\"]\n")
                        .replace("\"plan.json\" = [\"aws_s3_bucket.uploads\"]\n", ""),
                )
            } else {
                (p, c)
            }
        })
        .collect();
    let sb = Sandbox::new(true, files);
    let run = sb.run(&["observe", "--now", "2026-10-01", "--format", "json"]);
    let json = run.json();
    assert_eq!(json["candidates"][0]["action"], "held", "{json}");
    assert!(
        json["candidates"][0]["problems"]
            .to_string()
            .contains("aws_s3_bucket.missing"),
        "{json}"
    );

    // The deadline (2026-10-31) has passed: enforce refuses, exit 2, main unchanged.
    let run = sb.run(&["enforce", "--now", "2026-11-02"]);
    run.expect_code(2);
    assert!(run.stdout.contains("refused: `aws-s3-versioning`"), "{}", run.all());
    assert!(run.stdout.contains("--force-failing-fixtures"), "{}", run.all());
    assert!(!sb.on_main("guardrails/aws-s3-versioning/policy.rego"));

    // promote --force is not enough either.
    let run = sb.run(&[
        "promote",
        "aws-s3-versioning",
        "--force",
        "--reason",
        "incident",
        "--now",
        "2026-11-02",
    ]);
    run.expect_code(2);
    assert!(run.stderr.contains("fails its own fixtures"), "{}", run.all());
    assert!(run.stderr.contains("aws_s3_bucket.missing"), "{}", run.all());
    assert!(!sb.on_main("guardrails/aws-s3-versioning/policy.rego"));

    // The explicit flag activates it.
    let run = sb.run(&["enforce", "--now", "2026-11-02", "--force-failing-fixtures"]);
    run.expect_code(0);
    assert!(sb.on_main("guardrails/aws-s3-versioning/policy.rego"), "{}", run.all());
}

#[test]
fn promote_force_failing_fixtures_activates_explicitly() {
    let typo = "package railyard.aws_s3_versioning\n\ndeny contains f if {\n\tsome b in data.lib.core.resources(\"aws_s3_bukket\")\n\tf := {\"resource\": b.address, \"message\": \"m\"}\n}\n";
    let sb = Sandbox::new(true, with_policy("aws-s3-versioning", typo));
    let args = [
        "promote",
        "aws-s3-versioning",
        "--force",
        "--reason",
        "incident",
        "--now",
        "2026-10-01",
    ];
    sb.run(&args).expect_code(2);
    let mut forced = args.to_vec();
    forced.push("--force-failing-fixtures");
    sb.run(&forced).expect_code(0);
    assert!(sb.on_main("guardrails/aws-s3-versioning/policy.rego"));
}

/// A TCP server on 127.0.0.1 that accepts every connection and never answers (connections
/// are kept open until the test process ends).
fn stalled_server() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for s in listener.incoming().flatten() {
            held.push(s);
        }
    });
    port
}

#[test]
fn a_stalled_workload_server_is_unknown_within_the_budget_and_the_run_goes_on() {
    let port = stalled_server();
    let registry = format!(
        "{REGISTRY}\n[[workload]]\nname = \"stalled-http\"\nrepo = \"http://127.0.0.1:{port}/app.git\"\nteam = \"web\"\n\n[[workload]]\nname = \"stalled-git\"\nrepo = \"git://127.0.0.1:{port}/app.git\"\nteam = \"web\"\n"
    );
    let mut files = bundled("aws-s3-versioning");
    files.push(("workloads.toml".into(), registry));
    let sb = Sandbox::new(true, files);
    let started = std::time::Instant::now();
    let run = sb.run(&[
        "observe",
        "--now",
        "2026-10-01",
        "--format",
        "json",
        "--fetch-timeout",
        "2s",
    ]);
    let took = started.elapsed();
    // Two stalled workloads at 2 s each (connect, then the first read), in parallel or not.
    assert!(
        took < std::time::Duration::from_secs(30),
        "took {took:?}: {}",
        run.all()
    );
    let json = run.json();
    let workloads = json["workloads"].to_string();
    for name in ["stalled-http", "stalled-git"] {
        assert!(workloads.contains(name), "{workloads}");
    }
    assert!(
        workloads.contains("--fetch-timeout"),
        "the reason names the budget: {workloads}"
    );
    let c = &json["candidates"][0];
    assert_eq!(c["unknown"], 2, "{json}");
    assert_eq!(c["noncompliant"], 1, "web was still evaluated: {json}");
    assert_eq!(c["compliant"], 1, "payments was still evaluated: {json}");
    assert_eq!(c["action"], "blocked", "{json}");
}

#[test]
fn a_stalled_guardrails_repo_is_a_clear_error_within_the_budget() {
    let port = stalled_server();
    let dir = common::temp();
    common::write(dir.path(), "app/main.tf", UNVERSIONED_TF);
    for url in [
        format!("http://127.0.0.1:{port}/g.git"),
        format!("git://127.0.0.1:{port}/g.git"),
    ] {
        let started = std::time::Instant::now();
        let run = railyard(
            dir.path(),
            &["observe", "--repo", url.as_str(), "--fetch-timeout", "2s"],
        );
        assert!(
            started.elapsed() < std::time::Duration::from_secs(20),
            "{:?}",
            started.elapsed()
        );
        run.expect_code(2);
        assert!(run.stderr.contains("fetching guardrails repo"), "{}", run.stderr);
        assert!(run.stderr.contains("--fetch-timeout"), "{}", run.stderr);
        let started = std::time::Instant::now();
        let guardrails = format!("{url}@main");
        let run = railyard_env(
            dir.path(),
            &["check", "app", "--guardrails", guardrails.as_str()],
            &[("RAILYARD_FETCH_TIMEOUT", "2s")],
        );
        assert!(
            started.elapsed() < std::time::Duration::from_secs(20),
            "{:?}",
            started.elapsed()
        );
        run.expect_code(2);
        assert!(run.stderr.contains("--fetch-timeout"), "{}", run.stderr);
    }
}

/// An HTTP server on 127.0.0.1 answering every request with `reply(request head)`; returns
/// its port. Used as a git server that refuses, and as a webhook that echoes.
fn http_server(reply: fn(&str) -> String) -> u16 {
    recording_server(reply).0
}

/// [`http_server`], also returning the request heads it received.
fn recording_server(reply: fn(&str) -> String) -> (u16, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = seen.clone();
    std::thread::spawn(move || {
        for mut s in listener.incoming().flatten() {
            let log = log.clone();
            std::thread::spawn(move || {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                    match s.read(&mut chunk) {
                        Ok(0) | Err(_) => return,
                        Ok(n) => buf.extend_from_slice(&chunk[..n]),
                    }
                }
                let head = String::from_utf8_lossy(&buf).into_owned();
                // Read the body too (by content-length), so the log holds what was sent.
                let header_end = buf.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
                let len: usize = head
                    .lines()
                    .find_map(|l| {
                        l.to_ascii_lowercase()
                            .strip_prefix("content-length:")
                            .map(|v| v.trim().to_string())
                    })
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(0);
                while buf.len() < header_end + len {
                    match s.read(&mut chunk) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => buf.extend_from_slice(&chunk[..n]),
                    }
                }
                let body = String::from_utf8_lossy(&buf[header_end.min(buf.len())..]).into_owned();
                let first = head.lines().next().unwrap_or("").to_string();
                log.lock().unwrap().push(format!("{first}\n{body}"));
                let _ = s.write_all(reply(&head).as_bytes());
            });
        }
    });
    (port, seen)
}

fn response(status: &str, headers: &str, body: &str) -> String {
    format!(
        "HTTP/1.1 {status}\r\n{headers}content-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    )
}

/// Every file below `dir` (bytes), for grepping.
fn every_file(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else { continue };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if let Ok(bytes) = std::fs::read(&p) {
                out.push((p, bytes));
            }
        }
    }
    out
}

#[test]
fn credentials_tokens_and_webhook_urls_never_leak() {
    // A git server that asks for credentials and refuses them; a webhook that answers 400
    // with the request (its secret URL) in the body.
    let git_port = http_server(|_| response("401 Unauthorized", "www-authenticate: Basic realm=\"git\"\r\n", "no"));
    let hook_port = http_server(|head| {
        let line = head.lines().next().unwrap_or("").to_string();
        response("400 Bad Request", "", &format!("bad request to {line}"))
    });
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let registry = format!(
        r#"{REGISTRY}
[[workload]]
name = "query"
repo = "http://127.0.0.1:{git_port}/a.git?private_token=pw-query-2"
team = "web"

[[workload]]
name = "scp"
repo = "bob:pw-scp-3@127.0.0.1:org/a.git"
team = "web"

[[workload]]
name = "gitproto"
repo = "git://carol:pw-git-4@127.0.0.1:{closed}/a.git"
team = "web"

[[workload]]
name = "fileproto"
repo = "file://dave:pw-file-5@localhost/nonexistent/a.git"
team = "web"

[[workload]]
name = "token"
repo = "http://127.0.0.1:{git_port}/b.git"
token_env = "LEAK_TOKEN"
team = "web"
"#
    )
    .replace(
        "[team.web]\nowners = [\"bob@example.com\"]\n",
        "[team.web]\nowners = [\"bob@example.com\"]\nwebhook_env = \"LEAK_HOOK\"\n",
    );
    let mut files = bundled("aws-s3-versioning");
    files.push(("workloads.toml".into(), registry.clone()));
    let files_with_registry_line = |extra: &str| vec![("workloads.toml".to_string(), format!("{registry}\n{extra}"))];
    let sb = Sandbox::new(true, files);
    let hook = format!("http://127.0.0.1:{hook_port}/hook/pw-hook-7?key=pw-hook-8");
    let env = [("LEAK_TOKEN", "pw-token-6"), ("LEAK_HOOK", hook.as_str())];
    let repo = sb.path("guardrails").to_string_lossy().into_owned();
    let mut outputs = Vec::new();
    for format in ["table", "json", "markdown"] {
        let run = railyard_env(
            sb.dir.path(),
            &[
                "observe",
                "--now",
                "2026-10-01",
                "--fetch-timeout",
                "5s",
                "--format",
                format,
                "--repo",
                &repo,
            ],
            &env,
        );
        outputs.push(run.all());
        let run = railyard_env(sb.dir.path(), &["report", "--format", format, "--repo", &repo], &env);
        outputs.push(run.all());
    }
    // http(s) user info is refused by the registry, without echoing it.
    let mut leaky = files_with_registry_line(&format!(
        "[[workload]]\nname = \"userinfo\"\nrepo = \"http://alice:pw-userinfo-1@127.0.0.1:{git_port}/a.git\"\nteam = \"web\"\n"
    ));
    leaky.retain(|(p, _)| p == "workloads.toml");
    commit(
        &sb.repo("guardrails"),
        "develop",
        &[("workloads.toml", Some(leaky[0].1.as_str()))],
        "a workload with user info",
    );
    let run = railyard_env(
        sb.dir.path(),
        &["observe", "--now", "2026-10-02", "--repo", &repo],
        &env,
    );
    run.expect_code(2);
    outputs.push(run.all());
    let all = outputs.join("\n");
    // The runs did meet every location: each workload is reported unknown, by name.
    for name in ["query", "scp", "gitproto", "fileproto", "token"] {
        assert!(all.contains(name), "{name} missing: {all}");
    }
    assert!(all.contains("LEAK_TOKEN"), "the token's variable is named: {all}");
    // The locations are shown, with the secret parts masked.
    assert!(all.contains("private_token=***"), "{all}");
    assert!(all.contains("***@127.0.0.1:org/a.git"), "{all}");
    assert!(all.contains("git://***@127.0.0.1"), "{all}");
    assert!(all.contains("HTTP 400"), "the webhook was called and failed: {all}");
    assert!(
        !all.contains("bad request to"),
        "the webhook's error body is not echoed: {all}"
    );
    let secrets = [
        "pw-userinfo-1",
        "pw-query-2",
        "pw-scp-3",
        "pw-git-4",
        "pw-file-5",
        "pw-token-6",
        "pw-hook-7",
        "pw-hook-8",
        &format!("127.0.0.1:{hook_port}"),
    ];
    for secret in &secrets {
        assert!(!all.contains(secret), "output leaks `{secret}`:\n{all}");
    }
    // Every ref and commit message of the guardrails repo (ledger included) and every blob
    // they reach but the registry this test wrote.
    let g = sb.repo("guardrails");
    let mut walk = g.revwalk().unwrap();
    walk.push_glob("*").unwrap();
    for oid in walk {
        let c = g.find_commit(oid.unwrap()).unwrap();
        let message = c.message().unwrap_or("");
        c.tree()
            .unwrap()
            .walk(git2::TreeWalkMode::PreOrder, |_, e| {
                if e.name() == Ok("workloads.toml") {
                    return git2::TreeWalkResult::Ok; // the user's own file, planted by this test
                }
                if let Ok(blob) = e.to_object(&g).and_then(|o| o.peel_to_blob()) {
                    let text = String::from_utf8_lossy(blob.content());
                    for secret in &secrets {
                        assert!(!text.contains(secret), "a committed file leaks `{secret}`: {text}");
                    }
                }
                git2::TreeWalkResult::Ok
            })
            .unwrap();
        for secret in &secrets {
            assert!(
                !message.contains(secret),
                "a commit message leaks `{secret}`: {message}"
            );
        }
    }
    // Every file of the cache (git configs, FETCH_HEAD, result cache) and the repo's own.
    for dir in [sb.path(".railyard-test-cache"), sb.path("guardrails/.git")] {
        let files = every_file(&dir);
        assert!(!files.is_empty(), "{}", dir.display());
        for (path, bytes) in files {
            let text = String::from_utf8_lossy(&bytes);
            for secret in &secrets {
                assert!(!text.contains(secret), "{} leaks `{secret}`", path.display());
            }
        }
    }
}

/// A sandbox whose team `web` (noncompliant on the candidate) has a webhook at `hook`.
fn notifying(hook_env: &str) -> Sandbox {
    let registry = REGISTRY.replace(
        "[team.web]\nowners = [\"bob@example.com\"]\n",
        &format!("[team.web]\nowners = [\"bob@example.com\"]\nwebhook_env = \"{hook_env}\"\n"),
    );
    let mut files = bundled("aws-s3-versioning");
    files.push(("workloads.toml".into(), registry));
    Sandbox::new(true, files)
}

fn ledger_json(sb: &Sandbox) -> serde_json::Value {
    read_ledger(&sb.repo("guardrails"))
}

fn posts(seen: &std::sync::Mutex<Vec<String>>) -> usize {
    seen.lock().unwrap().iter().filter(|l| l.starts_with("POST ")).count()
}

#[test]
fn concurrent_observe_runs_send_each_digest_once() {
    let (port, seen) = recording_server(|_| response("200 OK", "", "ok"));
    let sb = notifying("HOOK");
    let hook = format!("http://127.0.0.1:{port}/hook/x");
    let repo = sb.path("guardrails").to_string_lossy().into_owned();
    let runs: Vec<std::thread::JoinHandle<common::Run>> = (0..6)
        .map(|_| {
            let (dir, repo, hook) = (sb.dir.path().to_path_buf(), repo.clone(), hook.clone());
            std::thread::spawn(move || {
                railyard_env(
                    &dir,
                    &["observe", "--now", "2026-10-01", "--repo", &repo],
                    &[("HOOK", hook.as_str())],
                )
            })
        })
        .collect();
    // Each run's report, so a digest sent twice says which runs sent it (and whether one
    // retried after a timeout, which HTTP cannot tell from a lost reply).
    let mut reports = Vec::new();
    for r in runs {
        let run = r.join().unwrap();
        assert!(run.code == 0 || run.code == 1, "{}", run.all());
        reports.push(run.stderr);
    }
    assert_eq!(
        posts(&seen),
        1,
        "one digest, sent once: {:?}\nthe runs said: {reports:#?}",
        seen.lock().unwrap()
    );
    let l = ledger_json(&sb);
    let e = &l["entries"]["aws-s3-versioning/web"];
    assert!(e["notified"]["new:2026-10-01@webhook"].is_string(), "{e}");
    assert!(e.get("claimed").is_none(), "claims are released once sent: {e}");
}

#[test]
fn a_claim_left_by_a_dead_run_is_sent_by_the_next_and_a_live_one_is_not() {
    let (port, seen) = recording_server(|_| response("200 OK", "", "ok"));
    let sb = notifying("HOOK");
    let hook = format!("http://127.0.0.1:{port}/hook/x");
    let env = [("HOOK", hook.as_str())];
    let repo = sb.path("guardrails").to_string_lossy().into_owned();
    let observe = |now: &str| railyard_env(sb.dir.path(), &["observe", "--now", now, "--repo", &repo], &env);
    // First run records the finding but sends nothing.
    railyard_env(
        sb.dir.path(),
        &["observe", "--now", "2026-10-01", "--no-notify", "--repo", &repo],
        &env,
    );
    assert_eq!(posts(&seen), 0);
    let plant = |at: u64| {
        let mut l = ledger_json(&sb);
        l["entries"]["aws-s3-versioning/web"]["claimed"] =
            serde_json::json!({"new:2026-10-01@webhook": {"at": at, "by": "another-run"}});
        crate::common::sandbox::commit_ledger(&sb.repo("guardrails"), &l, "a run claimed the digest");
    };
    // A run that claimed it a moment ago is still sending: not sent twice.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    plant(now);
    observe("2026-10-01");
    assert_eq!(posts(&seen), 0, "a live claim is respected");
    // A run that claimed it long ago died before sending: the next run sends it.
    plant(1_000);
    let run = observe("2026-10-01");
    assert_eq!(posts(&seen), 1, "{}", run.all());
    let e = &ledger_json(&sb)["entries"]["aws-s3-versioning/web"];
    assert!(e["notified"]["new:2026-10-01@webhook"].is_string(), "{e}");
    assert!(e.get("claimed").is_none(), "{e}");
}

#[test]
fn a_redirect_on_a_webhook_is_a_failure_not_followed_not_recorded() {
    let (port, seen) = recording_server(|head| {
        if head.starts_with("POST /hook") {
            response("302 Found", "location: /elsewhere\r\n", "")
        } else {
            response("200 OK", "", "ok")
        }
    });
    let sb = notifying("HOOK");
    let hook = format!("http://127.0.0.1:{port}/hook/x");
    let repo = sb.path("guardrails").to_string_lossy().into_owned();
    let run = railyard_env(
        sb.dir.path(),
        &["observe", "--now", "2026-10-01", "--repo", &repo],
        &[("HOOK", hook.as_str())],
    );
    assert!(run.stderr.contains("FAILED to send"), "{}", run.all());
    assert!(run.stderr.contains("HTTP 302"), "{}", run.all());
    let seen = seen.lock().unwrap().clone();
    assert!(
        seen.iter().all(|l| !l.contains("/elsewhere")),
        "the redirect was followed: {seen:?}"
    );
    let e = &ledger_json(&sb)["entries"]["aws-s3-versioning/web"];
    assert!(
        e["notified"].get("new:2026-10-01@webhook").is_none(),
        "not recorded as sent: {e}"
    );
    assert!(
        e.get("claimed").is_none(),
        "the claim is released for the next run: {e}"
    );
}

/// A privileged Pod whose name carries terminal escapes, CR, BEL, a backtick, Slack markup
/// and U+FFFF (YAML escapes).
const HOSTILE_POD: &str = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: \"evil\\e[2J\\r\\a`x` <!channel> <http://e.example|click>\\uFFFF\\x01\"\nspec:\n  containers:\n    - name: c\n      image: acme/app:1.0.0\n      securityContext:\n        privileged: true\n";

#[test]
fn workload_text_cannot_inject_into_any_output_format() {
    let dir = common::temp();
    common::guardrails_with(&dir.path().join("guardrails"), &["k8s-no-privileged-containers"]);
    common::write(dir.path(), "app/pod.yaml", HOSTILE_POD);
    let raw = ['\u{1b}', '\r', '\u{7}', '\u{1}', '\u{ffff}'];
    for format in ["table", "markdown", "junit", "sarif", "json"] {
        let run = railyard(
            dir.path(),
            &["check", "app", "--guardrails", "guardrails", "--format", format],
        );
        run.expect_code(1);
        assert!(
            run.stdout.contains("evil"),
            "{format}: the finding is shown: {}",
            run.stdout
        );
        if format != "json" && format != "sarif" {
            // U+FFFF is harmless on a terminal and in Markdown; XML forbids it.
            for c in raw.iter().filter(|c| format == "junit" || **c != '\u{ffff}') {
                assert!(!run.stdout.contains(*c), "{format} carries raw {:?}: {}", c, run.stdout);
            }
        }
        match format {
            "table" => assert!(run.stdout.contains("evil\\u{1b}[2J\\u{d}\\u{7}"), "{}", run.stdout),
            "markdown" => {
                // The resource sits in a code span its backtick cannot close.
                assert!(run.stdout.contains("``"), "{}", run.stdout);
                let line = run.stdout.lines().find(|l| l.contains("evil")).unwrap();
                assert!(line.contains("`x`"), "{line}");
                assert!(
                    !line.contains("example|click"),
                    "a pipe would split the table row: {line}"
                );
            }
            "junit" => {
                assert!(run.stdout.contains("\\u{ffff}"), "{}", run.stdout);
                assert!(run.stdout.contains("&lt;!channel&gt;"), "{}", run.stdout);
            }
            // JSON formats escape control characters themselves; they must still parse.
            _ => {
                run.json();
            }
        }
    }
}

#[test]
fn workload_text_cannot_ping_or_link_in_slack_or_break_teams_and_github_messages() {
    let (port, seen) = recording_server(|head| {
        if head.contains("/search/issues") {
            response("200 OK", "", r#"{"total_count":0,"items":[]}"#)
        } else if head.contains("/issues") {
            response("201 Created", "", r#"{"number":1}"#)
        } else {
            response("200 OK", "", "ok")
        }
    });
    let registry = REGISTRY.replace(
        "[team.web]\nowners = [\"bob@example.com\"]\n",
        &format!("[team.web]\nowners = [\"bob@example.com\"]\nslack_webhook_env = \"SLACK\"\nteams_webhook_env = \"TEAMS\"\ngithub_token_env = \"GH\"\ngithub_api = \"http://127.0.0.1:{port}/gh\"\n"),
    ).replace("repo = \"../web\"", "repo = \"../org/web\"");
    let mut files = bundled("k8s-no-privileged-containers");
    files.push(("workloads.toml".into(), registry));
    let sb = Sandbox::new(true, files);
    std::fs::create_dir_all(sb.path("org")).unwrap();
    std::fs::rename(sb.path("web"), sb.path("org/web")).unwrap();
    commit(&sb.repo("org/web"), "main", &[("pod.yaml", Some(HOSTILE_POD))], "a pod");
    let slack = format!("http://127.0.0.1:{port}/slack/x");
    let teams = format!("http://127.0.0.1:{port}/teams/x");
    let repo = sb.path("guardrails").to_string_lossy().into_owned();
    let run = railyard_env(
        sb.dir.path(),
        &["observe", "--now", "2026-10-01", "--repo", &repo],
        &[("SLACK", slack.as_str()), ("TEAMS", teams.as_str()), ("GH", "ghp_x")],
    );
    let seen = seen.lock().unwrap().clone();
    let body_of = |prefix: &str| -> String {
        seen.iter()
            .find(|r| r.starts_with(prefix))
            .unwrap_or_else(|| panic!("no {prefix}: {seen:?}\n{}", run.all()))
            .clone()
    };
    let slack = body_of("POST /slack");
    assert!(slack.contains("evil"), "{slack}");
    assert!(
        !slack.contains("<!channel>") && !slack.contains("<http://e.example"),
        "{slack}"
    );
    assert!(slack.contains("&lt;!channel&gt;"), "{slack}");
    for body in [slack, body_of("POST /teams"), body_of("POST /gh/repos")] {
        let v: serde_json::Value = serde_json::from_str(body.split_once('\n').unwrap().1).unwrap();
        let text = v.to_string();
        // Decoded JSON strings hold no raw control characters.
        let mut strings = Vec::new();
        collect_strings(&v, &mut strings);
        for s in &strings {
            for c in ['\u{1b}', '\r', '\u{7}', '\u{1}'] {
                assert!(!s.contains(c), "raw {c:?} in {text}");
            }
        }
        assert!(text.contains("evil"), "{text}");
    }
}

fn collect_strings(v: &serde_json::Value, out: &mut Vec<String>) {
    match v {
        serde_json::Value::String(s) => out.push(s.clone()),
        serde_json::Value::Array(a) => a.iter().for_each(|x| collect_strings(x, out)),
        serde_json::Value::Object(m) => m.values().for_each(|x| collect_strings(x, out)),
        _ => {}
    }
}

#[test]
fn config_files_that_are_not_utf8_are_refused_with_file_and_line() {
    // Latin-1 "é" (0xE9) on line 2 of each hand-written file in turn.
    let bad = |text: &str| -> Vec<u8> {
        let mut lines: Vec<Vec<u8>> = text.lines().map(|l| l.as_bytes().to_vec()).collect();
        lines[1].extend_from_slice(b" # caf\xe9");
        lines.join(&b'\n')
    };
    let src = common::bundled_guardrails().join("aws-s3-versioning");
    let exceptions = "[[exception]]\nworkload = \"app\"\nresource = \"aws_s3_bucket.x\"\nreason = \"r\"\napproved_by = \"sec@example.com\"\nexpires = 2030-01-01\n";
    for (file, text) in [
        (
            "guardrail.toml",
            std::fs::read_to_string(src.join("guardrail.toml")).unwrap(),
        ),
        ("policy.rego", std::fs::read_to_string(src.join("policy.rego")).unwrap()),
        ("exceptions.toml", exceptions.to_string()),
        (
            "lib/core.rego",
            std::fs::read_to_string(common::bundled_guardrails().join("lib/core.rego")).unwrap(),
        ),
    ] {
        let dir = common::temp();
        let folder = dir.path().join("guardrails");
        common::guardrails_with(&folder, &["aws-s3-versioning"]);
        let path = if file.starts_with("lib/") {
            folder.join(file)
        } else {
            folder.join("aws-s3-versioning").join(file)
        };
        std::fs::write(&path, bad(&text)).unwrap();
        common::write(dir.path(), "app/main.tf", UNVERSIONED_TF);
        let run = railyard(dir.path(), &["check", "app", "--guardrails", "guardrails"]);
        run.expect_code(2);
        let want = format!("{file}:2: not valid UTF-8");
        assert!(run.stderr.contains(&want), "{file}: want `{want}`: {}", run.stderr);
        assert!(!run.stderr.contains('\u{fffd}'), "nothing was replaced: {}", run.stderr);
        let run = railyard(dir.path(), &["test", "guardrails"]);
        run.expect_code(2);
        assert!(run.stderr.contains(&want), "{}", run.stderr);
    }

    // workloads.toml on develop: observe stops with exit 2 naming it.
    let registry = REGISTRY.replace("grace_days = 30\n", "grace_days = 30\n# caf\u{e9}\n");
    let mut registry = registry.into_bytes();
    let at = registry.windows(2).position(|w| w == [0xc3, 0xa9]).unwrap();
    registry.splice(at..at + 2, [0xe9]);
    let sb = Sandbox::new(true, bundled("aws-s3-versioning"));
    let g = sb.repo("guardrails");
    // Commit the raw bytes (not valid UTF-8, so not through `commit`'s &str).
    let tip = g
        .find_reference("refs/heads/develop")
        .unwrap()
        .peel_to_commit()
        .unwrap();
    let mut builder = g.treebuilder(Some(&tip.tree().unwrap())).unwrap();
    builder
        .insert("workloads.toml", g.blob(&registry).unwrap(), 0o100644)
        .unwrap();
    let tree = g.find_tree(builder.write().unwrap()).unwrap();
    let sig = git2::Signature::now("t", "t@example.com").unwrap();
    g.commit(Some("refs/heads/develop"), &sig, &sig, "latin-1", &tree, &[&tip])
        .unwrap();
    let run = sb.run(&["observe", "--now", "2026-10-01"]);
    run.expect_code(2);
    assert!(
        run.stderr.contains("workloads.toml:3: not valid UTF-8"),
        "{}",
        run.stderr
    );
}
