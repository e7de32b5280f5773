//! `railyard dashboard`: a ledger built by real `observe` runs on three dated days, the page
//! it makes (numbers, escaping, `--framework`, an unreadable ledger commit), and the page in
//! a real headless Chromium (no console error, the numbers in the rendered DOM, a screenshot
//! for docs/dashboard.md).

use crate::common::sandbox::{bundled, command, main_and_develop, open_or_init, text, Root, Sandbox};
use crate::common::{commit, COMPLIANT_TF};
use std::path::{Path, PathBuf};
use std::process::Output;

trait DashSandbox {
    fn run(&self, args: &[&str]) -> Output;
    fn page(&self, args: &[&str]) -> String;
}

impl DashSandbox for Sandbox {
    fn run(&self, args: &[&str]) -> Output {
        let mut cmd = command(self.dir.path(), args);
        cmd.env("RAILYARD_TEST_TODAY", "2026-12-31");
        cmd.output().unwrap()
    }
    /// Runs `dashboard --out ROOT/site ARGS` and returns the page.
    fn page(&self, args: &[&str]) -> String {
        let site = self.path("site");
        let mut all = vec!["dashboard", "--out", site.to_str().unwrap()];
        all.extend_from_slice(args);
        let out = self.run(&all);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
        std::fs::read_to_string(site.join("index.html")).unwrap()
    }
}

/// The team of `web`: markup that would run if the page did not escape it.
const HOSTILE_TEAM: &str = "<img src=x onerror=alert(1)>web";

fn buckets(names: &[&str]) -> String {
    names
        .iter()
        .map(|n| format!("resource \"aws_s3_bucket\" \"{n}\" {{\n  bucket = \"{n}\"\n}}\n"))
        .collect()
}

/// Three workloads and two candidates (aws-ebs-volume-encryption, broken by nobody, and
/// aws-s3-versioning, broken by `web` and `shop`), observed on 2026-11-01, -10 and -20:
///
/// | run   | web (open)           | shop                              | open | excepted | fixed |
/// |-------|----------------------|-----------------------------------|------|----------|-------|
/// | 11-01 | logs                 | old (open), tmp (excepted)        | 2    | 1        | 0     |
/// | 11-10 | logs, data, <script> | tmp (excepted): `old` fixed       | 3    | 1        | 1     |
/// | 11-20 | <script>, data       | tmp (excepted, expires 11-25)     | 2    | 1        | 1     |
///
/// `payments-api` complies throughout. An exception for `web`'s `gone` matches nothing (stale).
fn story() -> Sandbox {
    let sb = Sandbox::empty();
    let root = sb.root().to_path_buf();
    commit(
        &open_or_init(&root.join("payments")),
        "main",
        &[("infra/main.tf", Some(COMPLIANT_TF))],
        "p",
    );
    let web = open_or_init(&root.join("web"));
    let shop = open_or_init(&root.join("shop"));
    commit(&web, "main", &[("main.tf", Some(&buckets(&["logs"])))], "w1");
    commit(&shop, "main", &[("main.tf", Some(&buckets(&["old", "tmp"])))], "s1");
    let registry = format!(
        "[defaults]\ngrace_days = 30\n\n[[workload]]\nname = \"payments-api\"\nrepo = \"../payments\"\nteam = \"payments\"\n\n[[workload]]\nname = \"web\"\nrepo = \"../web\"\nteam = \"{}\"\n\n[[workload]]\nname = \"shop\"\nrepo = \"../shop\"\nteam = \"shop\"\n",
        HOSTILE_TEAM.replace('"', "\\\"")
    );
    let mut base = bundled("lib");
    base.push(("workloads.toml".into(), registry));
    let mut cands = bundled("aws-ebs-volume-encryption");
    cands.extend(bundled("aws-s3-versioning"));
    cands.push((
        "guardrails/aws-s3-versioning/exceptions.toml".into(),
        "[[exception]]\nworkload = \"shop\"\nresource = \"aws_s3_bucket.tmp\"\nreason = \"Scratch bucket, deleted in November\"\napproved_by = \"security@example.com\"\nexpires = 2026-11-25\n\n[[exception]]\nworkload = \"web\"\nresource = \"aws_s3_bucket.gone\"\nreason = \"Bucket was removed\"\napproved_by = \"security@example.com\"\nexpires = 2027-01-31\n".into(),
    ));
    main_and_develop(&sb.repo("guardrails"), &base, &cands, "two candidates");

    let observe = |day: &str| {
        let out = sb.run(&["observe", "--now", day]);
        assert_eq!(out.status.code(), Some(0), "{day}: {}", text(&out));
    };
    observe("2026-11-01");
    commit(
        &web,
        "main",
        &[(
            "main.tf",
            Some(&buckets(&["logs", "data", "<script>alert(2)</script>"])),
        )],
        "w2",
    );
    commit(&shop, "main", &[("main.tf", Some(&buckets(&["tmp"])))], "s2");
    observe("2026-11-10");
    commit(
        &web,
        "main",
        &[("main.tf", Some(&buckets(&["<script>alert(2)</script>", "data"])))],
        "w3",
    );
    observe("2026-11-20");
    sb
}

/// The rows of the screen-reader table `id`: (day, open, excepted, fixed, unknown, noncompliant).
fn rows(page: &str, id: &str) -> Vec<(String, Vec<usize>)> {
    let start = page
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("no table {id}"));
    let table = &page[start..start + page[start..].find("</table>").unwrap()];
    table
        .split("<tr>")
        .skip(2)
        .map(|r| {
            let cells: Vec<&str> = r
                .split("<td")
                .skip(1)
                .map(|c| {
                    let c = &c[c.find('>').unwrap() + 1..];
                    &c[..c.find("</td>").unwrap()]
                })
                .collect();
            (
                cells[0].to_string(),
                cells[2..].iter().map(|c| c.parse().unwrap()).collect(),
            )
        })
        .collect()
}

/// The last row of each run day (a run may commit the ledger more than once).
fn per_day(rows: Vec<(String, Vec<usize>)>) -> Vec<(String, Vec<usize>)> {
    let mut out: Vec<(String, Vec<usize>)> = Vec::new();
    for (d, v) in rows {
        match out.last_mut() {
            Some(last) if last.0 == d => last.1 = v,
            _ => out.push((d, v)),
        }
    }
    out
}

fn card(page: &str, id: &str) -> String {
    let at = page
        .find(&format!("id=\"{id}\">"))
        .unwrap_or_else(|| panic!("no card {id}"))
        + id.len()
        + 6;
    page[at..at + page[at..].find('<').unwrap()].to_string()
}

#[test]
fn dashboard_shows_the_history_of_a_ledger_over_dated_runs() {
    let sb = story();
    let page = sb.page(&["--now", "2026-11-20"]);
    // Fleet compliance over time, one row per recorded run: open, excepted, fixed, unknown,
    // noncompliant pairs.
    let overall = per_day(rows(&page, "t-overall"));
    let expect = |d: &str, v: [usize; 5]| (d.to_string(), v.to_vec());
    assert_eq!(
        overall,
        [
            expect("2026-11-01", [2, 1, 0, 0, 2]),
            expect("2026-11-10", [3, 1, 1, 0, 1]),
            expect("2026-11-20", [2, 1, 1, 0, 1]),
        ],
        "{page}"
    );
    // Per guardrail: the one nobody breaks has nothing open on any day.
    let ebs = per_day(rows(&page, "t-g-aws-ebs-volume-encryption"));
    assert!(ebs.iter().all(|(_, v)| v[0] == 0 && v[4] == 0), "{ebs:?}");
    assert_eq!(per_day(rows(&page, "t-g-aws-s3-versioning")), overall);
    assert_eq!(
        (card(&page, "open-findings"), card(&page, "excepted-findings")),
        ("2".into(), "1".into())
    );
    assert_eq!((card(&page, "fixed"), card(&page, "unknown")), ("1".into(), "0".into()));
    // The pending guardrail's burn-down and its activation day (first seen 11-01 + 30 days).
    assert!(
        page.contains("<h3>aws-s3-versioning —"),
        "aws-s3-versioning is still pending"
    );
    assert!(
        page.contains("activates on <strong>2026-12-01</strong> (11 days)"),
        "{page}"
    );
    assert!(page.contains("data-guardrail=\"aws-s3-versioning\">1</span> noncompliant workloads"));
    // Exposure: web breaks on its deadline, with the code to fix.
    assert!(
        page.contains("<td>2026-12-01 (11 days)</td><td><code>main.tf:"),
        "{page}"
    );
    // Exceptions: shop's expires in 5 days; web's `gone` matches nothing.
    assert!(page.contains("<tr><td>2026-11-25</td><td class=\"n\">5</td><td>aws-s3-versioning</td><td>shop</td><td><code>aws_s3_bucket.tmp</code>"), "{page}");
    assert!(
        page.contains(
            "<td>aws-s3-versioning</td><td>web</td><td><code>aws_s3_bucket.gone</code></td><td>2027-01-31</td>"
        ),
        "{page}"
    );
    // Frameworks: per control, of 3 workloads: NIST CP-9 (s3-versioning) — web fails, shop is
    // excepted; PCI-DSS 3.4 (ebs) — everyone complies.
    assert!(page.contains("<tr data-control=\"NIST-800-53 CP-9\"><td>CP-9</td><td class=\"n\">2</td><td class=\"n\">1</td><td class=\"n\">0</td>"), "{page}");
    assert!(page.contains("<tr data-control=\"PCI-DSS-3.2.1 3.4\"><td>3.4</td><td class=\"n\">3</td><td class=\"n\">0</td><td class=\"n\">0</td>"), "{page}");
    // Self-contained: nothing is fetched at view time.
    for external in ["http://", "https://", "src=\"//", "<link"] {
        assert!(!page.contains(external), "the page refers to {external}");
    }
}

#[test]
fn dashboard_escapes_text_from_workloads_and_the_ledger() {
    let sb = story();
    let page = sb.page(&["--now", "2026-11-20"]);
    // The team (from workloads.toml, copied into the ledger) and a resource name (from a
    // workload's Terraform) are shown as text, never as markup.
    assert!(page.contains("&lt;img src=x onerror=alert(1)&gt;web"), "{page}");
    assert!(
        page.contains("aws_s3_bucket.&lt;script&gt;alert(2)&lt;/script&gt;"),
        "{page}"
    );
    assert!(!page.contains("<img"), "{page}");
    assert!(!page.contains("<script>alert"), "{page}");
    assert_eq!(page.matches("<script>").count(), 1, "only the page's own script");
}

#[test]
fn framework_filters_every_section_and_an_unknown_one_is_an_error() {
    let sb = story();
    let page = sb.page(&["--now", "2026-11-20", "--framework", "PCI-DSS"]);
    // Only aws-ebs-volume-encryption maps PCI DSS: nothing open in any run, no pending guardrail.
    assert!(!page.contains("aws-s3-versioning"), "{page}");
    assert!(per_day(rows(&page, "t-overall")).iter().all(|(_, v)| v[0] == 0));
    assert!(page.contains("No guardrail is pending."));
    assert!(page.contains("data-framework=\"PCI-DSS-3.2.1\""));
    assert!(
        !page.contains("data-framework=\"NIST-800-53\""),
        "controls of other frameworks are hidden"
    );

    let out = sb.run(&[
        "dashboard",
        "--out",
        sb.path("x").to_str().unwrap(),
        "--framework",
        "HIPAA",
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("--framework HIPAA: no guardrail maps a control starting with `HIPAA`"),
        "{}",
        text(&out)
    );
    assert!(
        text(&out).contains("PCI-DSS-3.2.1"),
        "the frameworks that exist are named: {}",
        text(&out)
    );
}

#[test]
fn an_unreadable_ledger_commit_is_an_error_and_is_named_on_the_page() {
    let sb = story();
    // A hand edit in the middle of the history that is not a ledger, then a valid one again.
    let g = sb.repo("guardrails");
    let good = crate::common::sandbox::ledger_json(&g);
    let bad = commit(
        &g,
        "railyard/ledger",
        &[("ledger.json", Some("{ not json"))],
        "hand edit",
    );
    crate::common::sandbox::commit_ledger(&g, &good, "restored");
    let site = sb.path("site");
    let out = sb.run(&["dashboard", "--out", site.to_str().unwrap(), "--now", "2026-11-20"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains(&format!(
            "ledger commit {bad} on `railyard/ledger`: railyard/ledger:ledger.json:1:"
        )),
        "{}",
        text(&out)
    );
    let page = std::fs::read_to_string(site.join("index.html")).unwrap();
    assert!(page.contains("Ledger commits that could not be read") && page.contains(&bad.to_string()));
}

/// Chromium from the distribution (`.ci/run` installs it); without it the test fails in CI
/// and skips loudly elsewhere.
fn chromium() -> Option<PathBuf> {
    for name in ["chromium", "chromium-browser", "google-chrome"] {
        if let Some(p) = crate::common::find_on_path(name) {
            return Some(p);
        }
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "CI is set but Chromium is not installed (apt-get install chromium)"
    );
    eprintln!("\n\n*** SKIPPED dashboard_renders_in_headless_chromium: Chromium is not installed (apt-get install -y chromium) ***\n");
    None
}

fn headless(browser: &Path, profile: &Path, args: &[&str]) -> Output {
    std::process::Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-extensions",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(["--enable-logging=stderr", "--v=0", "--virtual-time-budget=3000"])
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn dashboard_renders_in_headless_chromium() {
    let Some(browser) = chromium() else { return };
    let sb = story();
    sb.page(&["--now", "2026-11-20"]);
    let url = format!("file://{}", sb.path("site/index.html").display());
    let profile = sb.path("chromium-profile");

    let out = headless(&browser, &profile, &["--dump-dom", &url]);
    let dom = String::from_utf8_lossy(&out.stdout);
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{log}");
    // The page's script ran, saw every chart and recorded no error.
    assert!(dom.contains("page script ran: 4 charts, 0 errors"), "{dom}\n{log}");
    assert!(dom.contains("<ul id=\"js-errors\"></ul>"), "{dom}");
    // The browser logged no console error (uncaught exceptions, blocked or failed loads).
    let console: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("CONSOLE") || l.contains("Uncaught") || l.contains("ERR_"))
        .collect();
    assert!(console.is_empty(), "console errors: {console:#?}");
    // The ledger's numbers, as the browser rendered them.
    for (id, v) in [
        ("open-findings", "2"),
        ("excepted-findings", "1"),
        ("fixed", "1"),
        ("exposed", "1"),
        ("expiring", "1"),
    ] {
        assert!(dom.contains(&format!("id=\"{id}\">{v}</dd>")), "{id} = {v}: {dom}");
    }
    assert!(dom.contains("activates on <strong>2026-12-01</strong>"), "{dom}");
    // The hostile team is text in the DOM, not an element.
    assert!(
        dom.contains("&lt;img src=x onerror=alert(1)&gt;web") && !dom.contains("<img"),
        "{dom}"
    );
    assert!(!dom.contains("<script>alert"), "{dom}");

    // The screenshot for docs/dashboard.md.
    let shot = sb.path("dashboard.png");
    let out = headless(
        &browser,
        &profile,
        &[
            "--window-size=1200,1500",
            "--hide-scrollbars",
            &format!("--screenshot={}", shot.display()),
            &url,
        ],
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let png = std::fs::read(&shot).unwrap();
    assert!(png.starts_with(b"\x89PNG") && png.len() > 10_000, "a real screenshot");
    let docs = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/img");
    std::fs::create_dir_all(&docs).unwrap();
    std::fs::write(docs.join("dashboard.png"), png).unwrap();
}
