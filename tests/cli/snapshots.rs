//! Snapshot tests (insta): the exact stdout, stderr and exit code of every subcommand that
//! prints, in every `--format` it accepts today, on the real binary and real git repositories.
//! They pin the output contract so that a restructuring that changes no behaviour changes no
//! snapshot; a deliberate output change updates its snapshot in the same commit.
//!
//! What differs between machines and runs is filtered (see [`settings`]): the sandbox's path,
//! commit hashes and other hex digests, timestamps, the real date, timings and the version.
//! Dates the runs act on are fixed (`--now`, `RAILYARD_TEST_TODAY`) in the past, so the
//! deadlines they compute stay in the snapshots. How to review and update: docs/testing.md.

use crate::common::sandbox::{bundled, command, main_and_develop, two_workloads, Root, Sandbox};
use crate::common::{guardrails_with, write, COMPLIANT_TF, REGISTRY, UNVERSIONED_TF};
use std::path::Path;
use std::process::Output;

/// Every value of `--format`.
const FORMATS: [&str; 6] = ["table", "json", "sarif", "junit", "markdown", "codequality"];
/// The ledger key of the loop's runs: every ledger commit is sealed.
const KEY: &str = "snapshot-ledger-key-0123456789";
/// The machine's date for runs that write (debug builds honour `RAILYARD_TEST_TODAY`).
const MACHINE_TODAY: &str = "2025-03-31";
/// The first observation; the held guardrail's deadline is 30 days later (2025-02-09).
const DAY0: &str = "2025-01-10";
/// After that deadline: `enforce` activates the held guardrail.
const AFTER_DEADLINE: &str = "2025-02-15";

/// An unversioned bucket (pending `aws-s3-versioning`: a warning) and an unencrypted volume
/// (active `aws-ebs-volume-encryption`: a finding that fails the build).
const CHECKOUT_TF: &str = r#"resource "aws_s3_bucket" "logs" {
  bucket = "logs"
}

resource "aws_ebs_volume" "scratch" {
  availability_zone = "eu-west-1a"
  size              = 10
}
"#;

trait SnapSandbox {
    fn standard() -> Sandbox;
    fn run(&self, args: &[&str]) -> Output;
}

impl SnapSandbox for Sandbox {
    /// The release loop's usual start (as loop_cli's): `main` holds the library and the
    /// registry, `develop` two candidates; `web` breaks aws-s3-versioning, nobody breaks
    /// aws-ebs-volume-encryption.
    fn standard() -> Sandbox {
        let sb = Sandbox {
            dir: tempfile::Builder::new().prefix("railyard-snap-").tempdir().unwrap(),
        };
        two_workloads(sb.root(), ["payments infra", "web infra"]);
        let mut base = bundled("lib");
        base.push(("workloads.toml".into(), REGISTRY.into()));
        let mut cands = bundled("aws-ebs-volume-encryption");
        cands.extend(bundled("aws-s3-versioning"));
        main_and_develop(&sb.repo("guardrails"), &base, &cands, "two candidates");
        sb
    }

    /// `railyard ARGS --repo ROOT/guardrails --cache-dir ROOT/cache`, hermetic, on the fixed
    /// machine date, with the ledger key.
    fn run(&self, args: &[&str]) -> Output {
        let mut cmd = command(self.root(), args);
        hermetic(&mut cmd)
            .current_dir(self.root())
            .env("RAILYARD_LEDGER_KEY", KEY)
            .output()
            .unwrap()
    }
}

/// No inherited Railyard or CI settings, no colour, a fixed actor and machine date.
fn hermetic(cmd: &mut std::process::Command) -> &mut std::process::Command {
    for (var, _) in std::env::vars() {
        if var.starts_with("RAILYARD_") || ci_actor_var(&var) {
            cmd.env_remove(var);
        }
    }
    cmd.env("RAILYARD_ACTOR", "sec-lead")
        .env("RAILYARD_TEST_TODAY", MACHINE_TODAY)
        .env("NO_COLOR", "1")
}

/// CI variables that name an actor or change output when set on the machine running tests.
fn ci_actor_var(var: &str) -> bool {
    matches!(
        var,
        "GITHUB_ACTOR" | "GITLAB_USER_LOGIN" | "BUILD_REQUESTEDFOREMAIL" | "BUILD_REQUESTEDFOR" | "CIRCLE_USERNAME"
    )
}

/// One run as a snapshot: exit code, stdout and stderr, with the sandbox's path as `[ROOT]`.
fn render(out: &Output, root: &Path) -> String {
    let mut text = format!(
        "exit: {}\n--- stdout\n{}\n--- stderr\n{}",
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let real = root.canonicalize().unwrap();
    for r in [real.as_path(), root] {
        text = text.replace(&r.display().to_string(), "[ROOT]");
    }
    text
}

/// Filters for what differs between machines and runs. Order matters: longer hex runs first.
fn settings() -> insta::Settings {
    let mut s = insta::Settings::clone_current();
    s.set_prepend_module_to_snapshot(false);
    s.set_omit_expression(true);
    // Wall-clock timestamps (commit times, `generated` fields).
    s.add_filter(
        r"\b\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})?",
        "[DATETIME]",
    );
    // The real date (commits made by the sandbox carry it); the runs' own dates are fixed.
    let today = time::OffsetDateTime::now_utc().date();
    for d in [today, today.previous_day().unwrap(), today.next_day().unwrap()] {
        s.add_filter(&regex_escape(&d.to_string()), "[TODAY]");
    }
    s.add_filter(r"\b[0-9a-f]{64}\b", "[DIGEST]");
    s.add_filter(r"\b[0-9a-f]{40}\b", "[COMMIT]");
    // Short commit ids.
    s.add_filter(r"\b[0-9a-f]{7,12}\b", "[HEX]");
    // Timings.
    s.add_filter(r"\b\d+(\.\d+)?\s?(ms|µs|s)\b", "[DURATION]");
    s.add_filter(&regex_escape(env!("CARGO_PKG_VERSION")), "[VERSION]");
    // JUnit carries measured wall time.
    s.add_filter(r#"time="[0-9.]+""#, r#"time="[TIME]""#);
    s
}

fn regex_escape(s: &str) -> String {
    s.chars()
        .flat_map(|c| {
            let special = r"\.+*?()|[]{}^$-".contains(c);
            special.then_some('\\').into_iter().chain(std::iter::once(c))
        })
        .collect()
}

/// Snapshots one run under `name`.
fn snap(name: &str, out: &Output, root: &Path) {
    snap_with(name, out, root, settings());
}

fn snap_with(name: &str, out: &Output, root: &Path, settings: insta::Settings) {
    let text = render(out, root);
    settings.bind(|| insta::assert_snapshot!(name, text));
}

/// `railyard ARGS` in `cwd`, hermetic, without the loop's `--repo` and ledger key.
fn run_in(cwd: &Path, args: &[&str]) -> Output {
    let mut cmd = std::process::Command::new(crate::common::bin());
    cmd.args(args).current_dir(cwd);
    hermetic(&mut cmd).output().unwrap()
}

/// Asserts a set-up step succeeded (its output is not what the test pins).
fn ok(out: Output) -> Output {
    assert!(
        out.status.success(),
        "set-up step failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// The standard sandbox after the first observation: aws-ebs-volume-encryption is active,
/// aws-s3-versioning held for `web` until 2025-02-09.
fn observed() -> Sandbox {
    let sb = Sandbox::standard();
    ok(sb.run(&["observe", "--now", DAY0, "--jobs", "1", "--format", "json"]));
    sb
}

#[test]
fn check_every_format() {
    let sb = observed();
    write(sb.root(), "checkout/main.tf", CHECKOUT_TF);
    let guardrails = sb.path("guardrails").display().to_string();
    for f in FORMATS {
        let out = sb.run(&[
            "check",
            "checkout",
            "--workload",
            "web",
            "--guardrails",
            &guardrails,
            "--now",
            "2025-01-20",
            "--jobs",
            "1",
            "--format",
            f,
        ]);
        snap(&format!("check_{f}"), &out, sb.root());
    }
}

#[test]
fn observe_every_format() {
    for f in FORMATS {
        let sb = Sandbox::standard();
        let out = sb.run(&["observe", "--now", DAY0, "--jobs", "1", "--format", f]);
        snap(&format!("observe_{f}"), &out, sb.root());
    }
}

/// `observe --details`: the summaries, then every finding and workload (the default
/// summarises; `observe_every_format` pins it).
#[test]
fn observe_details_for_people() {
    for f in ["table", "markdown"] {
        let sb = Sandbox::standard();
        let out = sb.run(&["observe", "--now", DAY0, "--jobs", "1", "--details", "--format", f]);
        snap(&format!("observe_details_{f}"), &out, sb.root());
    }
}

#[test]
fn preview_every_format_and_framework_report() {
    // Before any observation: develop's candidates compared with main, in every format
    // (sarif and junit are refused).
    let sb = Sandbox::standard();
    for f in FORMATS {
        let out = sb.run(&["preview", "--now", DAY0, "--jobs", "1", "--format", f]);
        snap(&format!("preview_{f}"), &out, sb.root());
    }
    // After one: compliance per framework control.
    let sb = observed();
    for f in FORMATS {
        let out = sb.run(&["report", "--now", "2025-01-20", "--by", "framework", "--format", f]);
        snap(&format!("report_framework_{f}"), &out, sb.root());
    }
}

#[test]
fn enforce_every_format() {
    for f in FORMATS {
        // Before the deadline: nothing due, the held guardrail is upcoming.
        let sb = observed();
        let out = sb.run(&["enforce", "--now", "2025-01-31", "--format", f]);
        snap(&format!("enforce_upcoming_{f}"), &out, sb.root());
        // After it: the held guardrail is activated.
        let out = sb.run(&["enforce", "--now", AFTER_DEADLINE, "--format", f]);
        snap(&format!("enforce_activates_{f}"), &out, sb.root());
    }
}

#[test]
fn report_every_format_and_view() {
    let sb = observed();
    for f in FORMATS {
        let out = sb.run(&["report", "--now", "2025-01-20", "--format", f]);
        snap(&format!("report_guardrails_{f}"), &out, sb.root());
        let out = sb.run(&["report", "--now", "2025-01-20", "--workload", "web", "--format", f]);
        snap(&format!("report_workload_{f}"), &out, sb.root());
        let out = sb.run(&["report", "--now", "2025-01-20", "--team", "web", "--format", f]);
        snap(&format!("report_team_{f}"), &out, sb.root());
    }
}

#[test]
fn promote_every_format() {
    for f in FORMATS {
        let sb = observed();
        let out = sb.run(&[
            "promote",
            "aws-s3-versioning",
            "--force",
            "--reason",
            "incident INC-7",
            "--now",
            "2025-01-12",
            "--format",
            f,
        ]);
        snap(&format!("promote_{f}"), &out, sb.root());
    }
}

#[test]
fn ledger_verify_and_accept_every_format() {
    let sb = observed();
    ok(sb.run(&["enforce", "--now", AFTER_DEADLINE, "--format", "json"]));
    for f in FORMATS {
        let out = sb.run(&["ledger", "verify", "--format", f]);
        snap(&format!("ledger_verify_{f}"), &out, sb.root());
    }
    // A hand edit made outside Railyard: unsealed, so the ledger no longer verifies.
    let g = sb.repo("guardrails");
    let text = crate::common::sandbox::ledger_text(&g).replace("2025-02-09", "2025-06-30");
    crate::common::sandbox::commit_ledger(&g, &serde_json::from_str(&text).unwrap(), "move a deadline");
    for f in FORMATS {
        let out = sb.run(&["ledger", "verify", "--format", f]);
        snap(&format!("ledger_verify_hand_edit_{f}"), &out, sb.root());
    }
    let out = sb.run(&["ledger", "accept", "--reason", "reviewed in SEC-12"]);
    snap("ledger_accept_table", &out, sb.root());
}

#[test]
fn test_every_format() {
    let dir = tempfile::Builder::new().prefix("railyard-snap-").tempdir().unwrap();
    let root = dir.path();
    guardrails_with(
        &root.join("guardrails"),
        &["aws-ebs-volume-encryption", "aws-s3-versioning"],
    );
    // A pass fixture the policy denies: one failing case.
    write(
        root,
        "guardrails/aws-s3-versioning/tests/pass/unversioned.tf",
        UNVERSIONED_TF,
    );
    for f in FORMATS {
        let out = run_in(root, &["test", "guardrails", "--format", f]);
        snap(&format!("test_{f}"), &out, root);
    }
}

#[test]
fn demo_stdout() {
    let dir = tempfile::Builder::new().prefix("railyard-snap-").tempdir().unwrap();
    let out = run_in(dir.path(), &["demo", "--now", DAY0, "--keep", "sandbox"]);
    // The demo observes with one worker per core, which differs between machines.
    let mut s = settings();
    s.add_filter(r"with \d+ worker\(s\)", "with [N] worker(s)");
    snap_with("demo", &out, dir.path(), s);
}

#[test]
fn errors_on_stderr() {
    let dir = tempfile::Builder::new().prefix("railyard-snap-").tempdir().unwrap();
    let root = dir.path();
    guardrails_with(&root.join("guardrails"), &["aws-s3-versioning"]);
    // A workload file that does not parse.
    write(
        root,
        "broken/main.tf",
        format!("{COMPLIANT_TF}\nresource \"aws_s3_bucket\" \"x\" {{\n  bucket = \n"),
    );
    let out = run_in(root, &["check", "broken", "--now", DAY0]);
    snap("error_workload_parse", &out, root);
    // A guardrail whose policy does not compile.
    guardrails_with(&root.join("bad-guardrails"), &["aws-s3-versioning"]);
    let policy = root.join("bad-guardrails/aws-s3-versioning/policy.rego");
    let mut rego = std::fs::read_to_string(&policy).unwrap();
    rego.push_str("\ndeny contains f if {\n\tf := \n}\n");
    std::fs::write(&policy, rego).unwrap();
    write(root, "ok/main.tf", COMPLIANT_TF);
    let out = run_in(root, &["check", "ok", "--guardrails", "bad-guardrails", "--now", DAY0]);
    snap("error_bad_guardrail", &out, root);
}

/// `check` on a local guardrails folder, with every section a renderer draws: a finding, an
/// excepted finding, an expired exception, a file that does not parse (an error) and a file
/// not evaluated (skipped).
#[test]
fn check_every_section_every_format() {
    let dir = tempfile::Builder::new().prefix("railyard-snap-").tempdir().unwrap();
    let root = dir.path();
    guardrails_with(
        &root.join("guardrails"),
        &["aws-ebs-volume-encryption", "aws-s3-versioning"],
    );
    write(
        root,
        "guardrails/aws-s3-versioning/exceptions.toml",
        r#"[[exception]]
workload = "shop"
resource = "aws_s3_bucket.logs"
reason = "Log bucket is rebuilt nightly"
approved_by = "security@example.com"
ticket = "SEC-1"
expires = 2025-06-30

[[exception]]
workload = "shop"
resource = "aws_s3_bucket.old"
reason = "Bucket is being retired"
approved_by = "security@example.com"
expires = 2024-12-31
"#,
    );
    write(
        root,
        "shop/main.tf",
        format!("{CHECKOUT_TF}\nresource \"aws_s3_bucket\" \"old\" {{\n  bucket = \"old\"\n}}\n"),
    );
    write(
        root,
        "shop/broken/main.tf",
        "resource \"aws_s3_bucket\" \"x\" {\n  bucket = \n",
    );
    std::os::unix::fs::symlink("main.tf", root.join("shop/link.tf")).unwrap();
    for f in FORMATS {
        let out = run_in(
            root,
            &["check", "shop", "--now", "2025-01-20", "--jobs", "1", "--format", f],
        );
        snap(&format!("check_sections_{f}"), &out, root);
    }
}
