//! Hostile workloads and runaway guardrails through the CLI (docs/limits.md): every case
//! ends with a documented exit code and a message naming the file (and line), and in
//! `observe` a healthy sibling workload is still evaluated and recorded.

use crate::common;
use crate::common::{railyard, temp, write};
use git2::{Oid, Repository};
use std::collections::BTreeMap;
use std::path::Path;

const META: &str = "title = \"t\"\nseverity = \"high\"\nremediation = \"fix it\"\n";

/// A guardrail that reports every resource: shows that healthy files were still evaluated.
const SEEN: &str =
    "package seen\n\ndeny contains {\"resource\": r.address, \"message\": \"seen\"} if {\n  some r in input.resources\n}\n";

fn guardrail(root: &Path, id: &str, body: &str) {
    write(root, &format!("{id}/guardrail.toml"), META);
    write(root, &format!("{id}/policy.rego"), format!("package {id}\n\n{body}\n"));
}

/// A guardrails folder holding only `seen`.
fn seen_only(root: &Path) -> String {
    let g = root.join("g");
    write(&g, "seen/guardrail.toml", META);
    write(&g, "seen/policy.rego", SEEN);
    g.to_string_lossy().into_owned()
}

fn check_json(cwd: &Path, args: &[&str]) -> (common::Run, serde_json::Value) {
    let mut all = vec!["check", "--format", "json"];
    all.extend_from_slice(args);
    let run = railyard(cwd, &all);
    let json = run.json();
    (run, json)
}

fn messages(json: &serde_json::Value) -> String {
    json["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| format!("{}:{}: {}\n", e["file"], e["line"], e["message"]))
        .collect()
}

fn seen_resources(json: &serde_json::Value) -> Vec<String> {
    json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["resource"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn oversized_files_are_errors_and_never_read() {
    let t = temp();
    let g = seen_only(t.path());
    let w = t.path().join("w");
    write(&w, "main.tf", "resource \"aws_s3_bucket\" \"ok\" {}\n");
    // 300 MB, sparse: the size is checked before anything is read.
    let big = std::fs::File::create(w.join("big.tf")).unwrap();
    big.set_len(300 * 1024 * 1024).unwrap();
    // A non-code file of any size is not part of the workload.
    std::fs::File::create(w.join("lambda.zip"))
        .unwrap()
        .set_len(300 * 1024 * 1024)
        .unwrap();
    let (run, json) = check_json(t.path(), &["w", "--guardrails", &g]);
    run.expect_code(2);
    let m = messages(&json);
    assert!(
        m.contains("big.tf") && m.contains("too large (300 MiB, limit 8 MiB"),
        "{m}"
    );
    assert!(!m.contains("lambda.zip"), "{m}");
    assert_eq!(seen_resources(&json), vec!["aws_s3_bucket.ok"]);
    let table = railyard(t.path(), &["check", "w", "--guardrails", &g]);
    table.expect_code(2);
    assert!(table.all().contains("big.tf: skipped: too large"), "{}", table.all());

    // The limits are configurable, by flag or environment.
    let (run, json) = check_json(t.path(), &["w", "--guardrails", &g, "--max-file-size", "16B"]);
    run.expect_code(2);
    assert!(messages(&json).contains("main.tf"), "{}", messages(&json));
    std::fs::remove_file(w.join("big.tf")).unwrap();
    write(&w, "b.tf", "resource \"aws_s3_bucket\" \"b\" {}\n");
    let (run, json) = check_json(t.path(), &["w", "--guardrails", &g, "--max-workload-size", "40"]);
    run.expect_code(2);
    let m = messages(&json);
    assert!(m.contains("main.tf") && m.contains("workload size limit"), "{m}");
    assert_eq!(seen_resources(&json), vec!["aws_s3_bucket.b"]);
}

#[cfg(unix)]
#[test]
fn symlinks_fifos_and_devices_are_never_opened() {
    let t = temp();
    let g = seen_only(t.path());
    let w = t.path().join("w");
    write(&w, "main.tf", "resource \"aws_s3_bucket\" \"ok\" {}\n");
    std::os::unix::fs::symlink("/etc/passwd", w.join("passwd.tf")).unwrap();
    std::os::unix::fs::symlink("/etc/passwd", w.join("passwd")).unwrap();
    std::os::unix::fs::symlink("/dev/zero", w.join("zero.yaml")).unwrap();
    std::os::unix::fs::symlink("/etc", w.join("etc")).unwrap();
    let fifo = std::ffi::CString::new(w.join("pipe.yaml").to_string_lossy().as_bytes()).unwrap();
    // SAFETY: a valid C string path.
    assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o644) }, 0);
    let (run, json) = check_json(t.path(), &["w", "--guardrails", &g]);
    run.expect_code(2);
    let m = messages(&json);
    assert!(
        m.contains("passwd.tf") && m.contains("symbolic link to `/etc/passwd` (not followed)"),
        "{m}"
    );
    assert!(m.contains("zero.yaml"), "{m}");
    assert!(m.contains("pipe.yaml") && m.contains("FIFO"), "{m}");
    assert!(!run.stdout.contains("root:"), "{}", run.stdout);
    let skipped = json["skipped"].to_string();
    assert!(
        skipped.contains("\"passwd\"") && skipped.contains("\"etc\""),
        "{skipped}"
    );
    assert_eq!(seen_resources(&json), vec!["aws_s3_bucket.ok"]);
}

#[test]
fn invalid_utf8_names_file_and_line() {
    let t = temp();
    let g = seen_only(t.path());
    let w = t.path().join("w");
    write(
        &w,
        "main.tf",
        b"resource \"aws_s3_bucket\" \"a\" {\n  bucket = \"a\"\n  tags = { x = \"\xff\xfe\" }\n}\n",
    );
    write(
        &w,
        "k8s.yaml",
        b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: \xc3\x28\n",
    );
    write(&w, "ok.tf", "resource \"aws_s3_bucket\" \"ok\" {}\n");
    let (run, json) = check_json(t.path(), &["w", "--guardrails", &g]);
    run.expect_code(2);
    let m = messages(&json);
    assert!(m.contains("\"main.tf\":3: \"file is not valid UTF-8\""), "{m}");
    assert!(m.contains("\"k8s.yaml\":4:"), "{m}");
    assert_eq!(seen_resources(&json), vec!["aws_s3_bucket.ok"]);
}

/// 100,000-deep nesting in every format: an error naming the file, never a stack overflow.
#[test]
fn deep_nesting_in_every_format_is_an_error() {
    let t = temp();
    let g = seen_only(t.path());
    let n = 100_000;
    let open = "[".repeat(n);
    let close = "]".repeat(n);
    let cases: Vec<(&str, String)> = vec![
        (
            "cfn.json",
            format!("{{\"AWSTemplateFormatVersion\": \"2010-09-09\", \"Resources\": {{\"A\": {{\"Type\": \"AWS::S3::Bucket\", \"Properties\": {open}{close}}}}}}}"),
        ),
        (
            "cfn.yaml",
            format!("AWSTemplateFormatVersion: '2010-09-09'\nResources:\n  A:\n    Type: AWS::S3::Bucket\n    Properties: {open}{close}\n"),
        ),
        ("k8s.yaml", format!("apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: x}}\ndata: {open}\n")),
        ("expr.tf", format!("resource \"a\" \"b\" {{\n  x = {open}{close}\n}}\n")),
        ("calls.tf", format!("resource \"a\" \"c\" {{\n  x = {}1{}\n}}\n", "f(".repeat(n), ")".repeat(n))),
        ("parens.tf", format!("resource \"a\" \"d\" {{\n  x = {}1{}\n}}\n", "(".repeat(n), ")".repeat(n))),
        ("objects.tf", format!("resource \"a\" \"e\" {{\n  x = {}1{}\n}}\n", "{a=".repeat(n), "}".repeat(n))),
        ("blocks.tf", format!("resource \"a\" \"f\" {{\n{}{}}}\n", "b {\n".repeat(n), "}\n".repeat(n))),
        ("conds.tf", format!("resource \"a\" \"g\" {{\n  x = {}1\n}}\n", "true ? 1 : ".repeat(n))),
        ("json.tf.json", format!("{{\"resource\": {{\"a\": {{\"h\": {{\"x\": {open}{close}}}}}}}}}")),
        (
            "plan.json",
            format!("{{\"format_version\": \"1.2\", \"planned_values\": {{\"root_module\": {{\"resources\": [{{\"address\": \"a.i\", \"type\": \"a\", \"name\": \"i\", \"mode\": \"managed\", \"values\": {open}{close}}}]}}}}}}"),
        ),
        ("terraform.tfvars", format!("x = {open}{close}\n")),
    ];
    for (name, content) in &cases {
        let w = t.path().join(format!("w-{}", name.replace('.', "-")));
        write(&w, name, content);
        write(&w, "ok.tf", "resource \"aws_s3_bucket\" \"ok\" {}\n");
        let (run, json) = check_json(t.path(), &[w.to_str().unwrap(), "--guardrails", &g]);
        run.expect_code(2);
        let m = messages(&json);
        assert!(m.contains(&format!("\"{name}\"")), "{name}: {m}");
        assert!(
            seen_resources(&json).contains(&"aws_s3_bucket.ok".to_string()),
            "{name}"
        );
    }
}

/// Terraform's static evaluation of `for` expressions over locals can be made to run for
/// ever: parsing a folder has its own time budget; other folders are still parsed.
#[cfg(target_os = "linux")]
#[test]
fn runaway_terraform_expressions_are_stopped() {
    let t = temp();
    let g = seen_only(t.path());
    let w = t.path().join("w");
    let list: Vec<String> = (0..3000).map(|i| i.to_string()).collect();
    write(
        &w,
        "bomb/main.tf",
        format!(
            "locals {{\n  a = [{}]\n  b = [for x in local.a : [for y in local.a : [for z in local.a : x]]]\n}}\n\nresource \"aws_s3_bucket\" \"bomb\" {{\n  tags = {{ n = length(local.b) }}\n}}\n",
            list.join(", ")
        ),
    );
    write(&w, "ok/ok.tf", "resource \"aws_s3_bucket\" \"ok\" {}\n");
    let (run, json) = check_json(t.path(), &["w", "--guardrails", &g, "--parse-timeout", "1s"]);
    run.expect_code(2);
    let m = messages(&json);
    assert!(
        m.contains("bomb/main.tf") && m.contains("parsing exceeded its time budget"),
        "{m}"
    );
    assert_eq!(seen_resources(&json), vec!["aws_s3_bucket.ok"]);
}

#[test]
fn yaml_alias_bombs_are_errors() {
    let t = temp();
    let g = seen_only(t.path());
    let w = t.path().join("w");
    let mut bomb = String::from("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: lol}\ndata:\n  a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
    for i in 1..10 {
        let p = i - 1;
        bomb.push_str(&format!(
            "  a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
        ));
    }
    write(&w, "laughs.yaml", &bomb);
    write(&w, "ok.tf", "resource \"aws_s3_bucket\" \"ok\" {}\n");
    let (run, json) = check_json(t.path(), &["w", "--guardrails", &g]);
    run.expect_code(2);
    let m = messages(&json);
    assert!(m.contains("laughs.yaml") && m.contains("aliases expand"), "{m}");
    assert_eq!(seen_resources(&json), vec!["aws_s3_bucket.ok"]);
}

#[test]
fn a_workload_over_the_resource_limit_is_refused_whole() {
    let t = temp();
    let g = seen_only(t.path());
    let w = t.path().join("w");
    let tf: String = (0..3000)
        .map(|i| format!("resource \"aws_s3_bucket\" \"b{i}\" {{}}\n"))
        .collect();
    write(&w, "main.tf", tf);
    let (run, json) = check_json(t.path(), &["w", "--guardrails", &g, "--max-resources", "2000"]);
    run.expect_code(2);
    let m = messages(&json);
    assert!(m.contains("3000 resources, more than the limit of 2000"), "{m}");
    assert!(seen_resources(&json).is_empty());
    // Under the limit it is evaluated.
    let (run, json) = check_json(t.path(), &["w", "--guardrails", &g]);
    run.expect_code(1);
    assert_eq!(seen_resources(&json).len(), 3000);
}

/// Runaway policies: each is an error for that guardrail; the others still run. (Forbidden
/// built-ins are refused at load: see `forbidden_builtins_are_refused_at_load`.)
#[cfg(target_os = "linux")]
fn runaway_guardrails(root: &Path) -> String {
    let g = root.join("g");
    write(&g, "seen/guardrail.toml", META);
    write(&g, "seen/policy.rego", SEEN);
    guardrail(
        &g,
        "spin",
        "deny contains msg if {\n  some i in numbers.range(1, 100000)\n  some j in numbers.range(1, 100000)\n  i == j + 1000000\n  msg := \"never\"\n}",
    );
    guardrail(
        &g,
        "huge",
        "deny contains msg if {\n  x := numbers.range(1, 1e12)\n  msg := sprintf(\"%d\", [count(x)])\n}",
    );
    guardrail(
        &g,
        "recurse",
        "f(x) := y if {\n  y := f(x)\n}\n\ndeny contains msg if {\n  msg := f(1)\n}",
    );
    guardrail(
        &g,
        "comprehension",
        "deny contains msg if {\n  s := {sprintf(\"item-%d\", [x]) | some x in numbers.range(1, 100000000)}\n  msg := sprintf(\"%d\", [count(s)])\n}",
    );
    guardrail(
        &g,
        "strings",
        "double(s) := concat(\"\", [s, s])\n\nquad(s) := double(double(s))\n\ndeny contains msg if {\n  a := quad(quad(quad(quad(quad(\"0123456789abcdef\")))))\n  b := quad(quad(quad(quad(quad(a)))))\n  c := quad(quad(quad(quad(quad(b)))))\n  msg := sprintf(\"%d\", [count(c)])\n}",
    );
    g.to_string_lossy().into_owned()
}

#[cfg(target_os = "linux")]
#[test]
fn runaway_and_forbidden_policies_are_stopped_one_by_one() {
    let t = temp();
    let g = runaway_guardrails(t.path());
    let w = t.path().join("w");
    write(&w, "main.tf", "resource \"aws_s3_bucket\" \"ok\" {}\n");
    // One process at a time, and side by side (where the runaways also fail the one-process
    // fast path first).
    for jobs in ["1", "2"] {
        runaway_guardrails_fail_alone(t.path(), &g, jobs);
    }
}

#[cfg(target_os = "linux")]
fn runaway_guardrails_fail_alone(root: &Path, g: &str, jobs: &str) {
    let (run, json) = check_json(
        root,
        &[
            "w",
            "--guardrails",
            g,
            "--eval-timeout",
            "1s",
            "--eval-memory",
            "256MiB",
            "--jobs",
            jobs,
        ],
    );
    run.expect_code(2);
    assert_eq!(seen_resources(&json), vec!["aws_s3_bucket.ok"]);
    let errors = json["errors"].as_array().unwrap();
    let error_of = |id: &str| {
        errors
            .iter()
            .find(|e| e["guardrail"] == id)
            .map(|e| format!("{}:{}: {}", e["file"], e["line"], e["message"]))
            .unwrap_or_else(|| panic!("no error for `{id}`: {errors:#?}"))
    };
    assert!(error_of("spin").contains("time budget"), "{}", error_of("spin"));
    assert!(
        error_of("huge").contains("memory budget of 256 MiB"),
        "{}",
        error_of("huge")
    );
    let recurse = error_of("recurse");
    assert!(
        recurse.contains("recursed too deeply") || recurse.contains("recurs"),
        "{recurse}"
    );
    let comprehension = error_of("comprehension");
    assert!(
        comprehension.contains("memory budget") || comprehension.contains("time budget"),
        "{comprehension}"
    );
    let strings = error_of("strings");
    assert!(
        strings.contains("memory budget") || strings.contains("time budget"),
        "{strings}"
    );
    assert!(!run.stdout.contains("PATH="), "environment leaked: {}", run.stdout);
}

/// A guardrail over its memory budget aborts its child process; the child writes no core
/// dump, even where core dumps are on (`ulimit -c unlimited`): a core file of the evaluation's
/// memory would land in the user's folder (holding whatever the process had in memory), and
/// writing it took long enough that the budget was reported as a timeout.
#[cfg(target_os = "linux")]
#[test]
fn a_child_over_its_memory_budget_leaves_no_core_dump() {
    use std::os::unix::process::CommandExt;
    let t = temp();
    let g = t.path().join("g");
    guardrail(
        &g,
        "huge",
        "deny contains msg if {\n  x := numbers.range(1, 1e12)\n  msg := sprintf(\"%d\", [count(x)])\n}",
    );
    write(&t.path().join("w"), "main.tf", "resource \"aws_s3_bucket\" \"ok\" {}\n");
    let run = common::railyard_with(
        t.path(),
        &[
            "check",
            "w",
            "--guardrails",
            "g",
            "--format",
            "json",
            "--eval-memory",
            "256MiB",
            "--eval-timeout",
            "20s",
        ],
        &[],
        |command| {
            // SAFETY: setrlimit is async-signal-safe; core dumps as on if `ulimit -c` allows.
            unsafe {
                command.pre_exec(|| {
                    let mut core = libc::rlimit {
                        rlim_cur: 0,
                        rlim_max: 0,
                    };
                    libc::getrlimit(libc::RLIMIT_CORE, &mut core);
                    core.rlim_cur = core.rlim_max;
                    libc::setrlimit(libc::RLIMIT_CORE, &core);
                    Ok(())
                });
            }
        },
    );
    run.expect_code(2);
    let error = messages(&run.json());
    assert!(error.contains("memory budget of 256 MiB"), "{error}");
    // Where the kernel writes core files (`core_pattern`): a relative name is the crashing
    // process' working folder; a pipe to a crash handler cannot be looked at from here.
    let pattern = std::fs::read_to_string("/proc/sys/kernel/core_pattern").unwrap_or_default();
    if !pattern.starts_with('|') && !pattern.trim().starts_with('/') {
        let mut cores = Vec::new();
        let mut folders = vec![t.path().to_path_buf()];
        while let Some(folder) = folders.pop() {
            for entry in std::fs::read_dir(&folder).unwrap().flatten() {
                if entry.file_type().unwrap().is_dir() {
                    folders.push(entry.path());
                } else if entry.file_name().to_string_lossy().starts_with("core") {
                    cores.push(entry.path());
                }
            }
        }
        assert!(cores.is_empty(), "core dumps written: {cores:?}");
    }
}

/// Built-ins Railyard's regorus leaves out (network, environment) do not exist: a policy
/// calling them is refused when it loads, naming file and line, before anything runs.
#[test]
fn forbidden_builtins_are_refused_at_load() {
    let t = temp();
    let g = t.path().join("g");
    guardrail(
        &g,
        "http",
        "deny contains msg if {\n  r := http.send({\"method\": \"get\", \"url\": \"http://127.0.0.1:9/\"})\n  msg := sprintf(\"%v\", [r])\n}",
    );
    guardrail(
        &g,
        "runtime",
        "deny contains msg if {\n  rt := opa.runtime()\n  msg := sprintf(\"%v\", [rt.env])\n}",
    );
    guardrail(
        &g,
        "dns",
        "deny contains msg if {\n  ips := net.lookup_ip_addr(\"example.com\")\n  msg := sprintf(\"%v\", [ips])\n}",
    );
    write(t.path(), "w/main.tf", "resource \"aws_s3_bucket\" \"ok\" {}\n");
    let run = railyard(t.path(), &["check", "w", "--guardrails", g.to_str().unwrap()]);
    run.expect_code(2);
    for (id, function) in [
        ("http", "http.send"),
        ("runtime", "opa.runtime"),
        ("dns", "net.lookup_ip_addr"),
    ] {
        let want = format!("{id}/policy.rego:4: Rego: call to undefined function `{function}`");
        assert!(run.stderr.contains(&want), "{want}: {}", run.stderr);
    }
    assert!(!run.all().contains("PATH="), "environment leaked: {}", run.all());
}

/// The Rego parser's time doubles with each bracket level: deep policies are refused at load.
#[test]
fn deeply_nested_policies_are_refused_at_load() {
    let t = temp();
    let g = t.path().join("g");
    guardrail(
        &g,
        "deep",
        &format!(
            "deny contains msg if {{\n  x := {}{}\n  msg := \"x\"\n}}",
            "[".repeat(100_000),
            "]".repeat(100_000)
        ),
    );
    write(t.path(), "w/main.tf", "resource \"aws_s3_bucket\" \"ok\" {}\n");
    let run = railyard(t.path(), &["check", "w", "--guardrails", g.to_str().unwrap()]);
    run.expect_code(2);
    assert!(
        run.stderr
            .contains("deep/policy.rego:4: Rego: brackets nested deeper than 16 levels"),
        "{}",
        run.stderr
    );
}

// ---------------------------------------------------------------------------------------------
// observe: workloads read from git trees

/// Commits `entries` (path, content, mode) as the whole tree of `main`.
fn commit_tree(repo: &Repository, entries: &[(&str, &[u8], i32)]) -> Oid {
    fn build(repo: &Repository, entries: &[(String, Oid, i32)]) -> Oid {
        let mut tb = repo.treebuilder(None).unwrap();
        let mut dirs: BTreeMap<String, Vec<(String, Oid, i32)>> = BTreeMap::new();
        for (path, oid, mode) in entries {
            match path.split_once('/') {
                None => {
                    tb.insert(path, *oid, *mode).unwrap();
                }
                Some((dir, rest)) => dirs
                    .entry(dir.to_string())
                    .or_default()
                    .push((rest.to_string(), *oid, *mode)),
            }
        }
        for (dir, sub) in dirs {
            tb.insert(&dir, build(repo, &sub), 0o040000).unwrap();
        }
        tb.write().unwrap()
    }
    let list: Vec<(String, Oid, i32)> = entries
        .iter()
        .map(|(p, c, m)| {
            let oid = if *m == 0o160000 {
                Oid::from_str("1111111111111111111111111111111111111111").unwrap()
            } else {
                repo.blob(c).unwrap()
            };
            (p.to_string(), oid, *m)
        })
        .collect();
    let tree = repo.find_tree(build(repo, &list)).unwrap();
    let sig = git2::Signature::new("t", "t@example.com", &git2::Time::new(1_700_000_000, 0)).unwrap();
    repo.commit(Some("refs/heads/main"), &sig, &sig, "workload", &tree, &[])
        .unwrap()
}

fn ledger(repo: &Repository) -> serde_json::Value {
    common::sandbox::ledger_json(repo)
}

#[cfg(target_os = "linux")]
#[test]
fn observe_records_hostile_workloads_as_unknown_and_healthy_ones_normally() {
    observe_hostile_and_healthy("2");
}

/// The same with one worker: two workloads to evaluate are more than its workers, so they go
/// to a helper process (`isolate::helper`), whose children carry the budgets.
#[test]
fn observe_through_a_helper_process_records_hostile_workloads_the_same_way() {
    observe_hostile_and_healthy("1");
}

fn observe_hostile_and_healthy(jobs: &str) {
    let t = temp();
    let root = t.path();
    // A hostile workload: a committed symlink to /etc/passwd, a submodule, an oversized file,
    // deep nesting, an alias bomb, invalid UTF-8 — and one healthy bucket.
    let hostile = common::init_repo(&root.join("hostile"));
    let deep = format!("x = {}{}\n", "[".repeat(100_000), "]".repeat(100_000));
    let mut bomb = String::from("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: lol}\ndata:\n  a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
    for i in 1..10 {
        let p = i - 1;
        bomb.push_str(&format!(
            "  a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
        ));
    }
    let big = "#".repeat(4096);
    commit_tree(
        &hostile,
        &[
            ("infra/main.tf", b"resource \"aws_s3_bucket\" \"ok\" {}\n", 0o100644),
            ("infra/passwd.tf", b"/etc/passwd", 0o120000),
            ("infra/modules/shared", b"", 0o160000),
            ("infra/big.tf", big.as_bytes(), 0o100644),
            ("infra/deep.tf", deep.as_bytes(), 0o100644),
            ("infra/laughs.yaml", bomb.as_bytes(), 0o100644),
            ("infra/bad.tf", b"locals {\n  a = \"\xff\"\n}\n", 0o100644),
        ],
    );
    let web = common::init_repo(&root.join("web"));
    commit_tree(
        &web,
        &[("main.tf", b"resource \"aws_s3_bucket\" \"web\" {}\n", 0o100644)],
    );

    let g = common::init_repo(&root.join("guardrails"));
    let registry = "[defaults]\ngrace_days = 30\n\n[[workload]]\nname = \"hostile\"\nrepo = \"../hostile\"\nteam = \"t\"\n\n[[workload]]\nname = \"web\"\nrepo = \"../web\"\nteam = \"t\"\n\n[team.t]\nowners = [\"a@example.com\"]\n";
    common::commit(&g, "main", &[("workloads.toml", Some(registry))], "initial");
    let main = g.find_reference("refs/heads/main").unwrap().peel_to_commit().unwrap();
    g.branch("develop", &main, false).unwrap();
    let spin = "package spin\n\ndeny contains msg if {\n  some i in numbers.range(1, 100000)\n  some j in numbers.range(1, 100000)\n  i == j + 1000000\n  msg := \"never\"\n}\n";
    common::commit(
        &g,
        "develop",
        &[
            ("guardrails/seen/guardrail.toml", Some(META)),
            ("guardrails/seen/policy.rego", Some(SEEN)),
            ("guardrails/spin/guardrail.toml", Some(META)),
            ("guardrails/spin/policy.rego", Some(spin)),
        ],
        "candidates",
    );
    let repo = root.join("guardrails");
    let run = railyard(
        root,
        &[
            "observe",
            "--repo",
            repo.to_str().unwrap(),
            "--now",
            "2026-11-01",
            "--jobs",
            jobs,
            "--max-file-size",
            "2KiB",
            "--eval-timeout",
            "1s",
        ],
    );
    run.expect_code(2);
    assert!(!run.all().contains("root:x:"), "{}", run.all());
    let l = ledger(&g);
    let entry = &l["entries"]["seen/hostile"];
    assert_eq!(entry["status"], "unknown", "{entry:#}");
    let problems = entry["problems"].to_string();
    for expected in [
        "infra/passwd.tf",
        "symbolic link to `/etc/passwd` (not followed)",
        "infra/big.tf",
        "too large",
        "infra/deep.tf",
        "infra/laughs.yaml",
        "aliases expand",
        "infra/bad.tf:2",
        "not valid UTF-8",
    ] {
        assert!(problems.contains(expected), "missing {expected:?} in {problems}");
    }
    // The healthy workload was evaluated and recorded; the runaway guardrail is unknown
    // there, not the other guardrail.
    assert_eq!(l["entries"]["seen/web"]["status"], "noncompliant", "{l:#}");
    assert_eq!(l["entries"]["spin/web"]["status"], "unknown", "{l:#}");
    assert!(
        l["entries"]["spin/web"]["problems"].to_string().contains("time budget"),
        "{l:#}"
    );
}
