//! `--format junit`: JUnit XML that CI systems show as a test report. For `check`, each
//! evaluated guardrail is a test case that fails with its findings; for `test`, each fixture is one.

use super::{location, Render};
use crate::evaluate::Finding;
use crate::report::check::{CheckReport, EvaluatedGuardrail};
use crate::report::test::TestReport;
use std::collections::BTreeMap;
use std::io::{self, Write};

pub struct Junit;

/// XML text: characters XML 1.0 does not allow (C0 controls, U+FFFE, U+FFFF) and other
/// controls shown as `\u{…}` (never dropped silently), markup characters as entities.
fn esc(s: &str) -> String {
    let s = crate::report::escape::xml(s);
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&apos;"),
            c if (c as u32) < 0x20 && c != '\n' && c != '\t' && c != '\r' => {}
            c => o.push(c),
        }
    }
    o
}

/// Seconds as JUnit's `time` attribute.
fn secs(d: std::time::Duration) -> String {
    format!("{:.6}", d.as_secs_f64())
}

impl Render<CheckReport> for Junit {
    /// One test case per evaluated guardrail: it fails with one `<failure>` per finding
    /// (file:line first), errs when it could not be evaluated, and passes otherwise. A case's
    /// `time` is its policy's evaluation time (guardrails evaluated together in one engine
    /// pass share the pass's time equally); the suite's is the whole run's, reading included.
    fn render(&self, r: &CheckReport, out: &mut dyn Write) -> io::Result<()> {
        let mut findings: BTreeMap<&str, Vec<&Finding>> = BTreeMap::new();
        for f in &r.findings {
            findings.entry(&f.guardrail).or_default().push(f);
        }
        let mut warnings: BTreeMap<&str, Vec<&Finding>> = BTreeMap::new();
        for f in &r.warnings {
            warnings.entry(&f.guardrail).or_default().push(f);
        }
        let mut excepted: BTreeMap<&str, Vec<&Finding>> = BTreeMap::new();
        for f in &r.excepted {
            excepted.entry(&f.guardrail).or_default().push(f);
        }
        let mut problems: BTreeMap<&str, Vec<String>> = BTreeMap::new();
        let mut general = Vec::new();
        for e in &r.errors {
            match &e.guardrail {
                Some(g) if r.evaluated.iter().any(|x| &x.id == g) => problems.entry(g).or_default().push(e.to_string()),
                _ => general.push(e.to_string()),
            }
        }
        // A guardrail fails only when active: a pending one's findings are warnings.
        let failed = |g: &EvaluatedGuardrail| !g.pending && findings.contains_key(g.id.as_str());
        let failures = r.evaluated.iter().filter(|g| failed(g)).count();
        let errors = r
            .evaluated
            .iter()
            .filter(|g| problems.contains_key(g.id.as_str()))
            .count()
            + general.len();
        let skipped = r.skipped.len();
        let cases = r.evaluated.len() + general.len() + skipped;
        let time = secs(r.elapsed);
        let workload = esc(&r.workload);
        writeln!(out, r#"<?xml version="1.0" encoding="UTF-8"?>"#)?;
        writeln!(
            out,
            r#"<testsuites name="railyard" tests="{cases}" failures="{failures}" errors="{errors}" skipped="{skipped}" time="{time}">"#
        )?;
        writeln!(
            out,
            r#"  <testsuite name="{workload}" tests="{cases}" failures="{failures}" errors="{errors}" skipped="{skipped}" time="{time}">"#
        )?;
        for g in &r.evaluated {
            let id = g.id.as_str();
            let classname = match g.pending {
                false => format!("railyard.{workload}"),
                true => format!("railyard.{workload}.pending"),
            };
            let mut body = Vec::new();
            for p in problems.get(id).into_iter().flatten() {
                body.push(format!(r#"      <error message="{}" type="evaluation"/>"#, esc(p)));
            }
            if failed(g) {
                for f in &findings[id] {
                    body.push(format!(
                        r#"      <failure message="{}" type="{}">{}</failure>"#,
                        esc(&format!("{}: {}", location(&f.file, f.line), f.message)),
                        f.severity,
                        esc(&format!(
                            "[{}] {} at {}: {}\n{}",
                            f.severity,
                            f.resource,
                            location(&f.file, f.line),
                            f.message,
                            f.remediation
                        ))
                    ));
                }
            }
            let time = secs(g.elapsed);
            let mut notes: Vec<String> = Vec::new();
            for f in warnings.get(id).into_iter().flatten() {
                notes.push(format!(
                    "pending: {} at {}: {} (fails the build from {})",
                    f.resource,
                    location(&f.file, f.line),
                    f.message,
                    f.deadline
                        .map(|d| d.to_string())
                        .unwrap_or_else(|| "no deadline yet".into())
                ));
            }
            for f in excepted.get(id).into_iter().flatten() {
                if let Some(e) = &f.exception {
                    notes.push(format!(
                        "excepted: {} at {} until {} (approved by {}): {}",
                        f.resource,
                        location(&f.file, f.line),
                        e.expires,
                        e.approved_by,
                        e.reason
                    ));
                }
            }
            if !notes.is_empty() {
                body.push(format!("      <system-out>{}</system-out>", esc(&notes.join("\n"))));
            }
            if body.is_empty() {
                writeln!(
                    out,
                    r#"    <testcase classname="{classname}" name="{}" time="{time}"/>"#,
                    esc(id)
                )?;
            } else {
                writeln!(
                    out,
                    r#"    <testcase classname="{classname}" name="{}" time="{time}">"#,
                    esc(id)
                )?;
                for line in body {
                    writeln!(out, "{line}")?;
                }
                writeln!(out, "    </testcase>")?;
            }
        }
        for e in &general {
            writeln!(
                out,
                r#"    <testcase classname="railyard.{workload}" name="evaluation error" time="0.000000">"#
            )?;
            writeln!(out, r#"      <error message="{}" type="evaluation"/>"#, esc(e))?;
            writeln!(out, "    </testcase>")?;
        }
        for s in &r.skipped {
            writeln!(
                out,
                r#"    <testcase classname="railyard.{workload}" name="skipped: {}" time="0.000000">"#,
                esc(&s.path)
            )?;
            writeln!(out, r#"      <skipped message="{}"/>"#, esc(&s.reason))?;
            writeln!(out, "    </testcase>")?;
        }
        writeln!(out, "  </testsuite>\n</testsuites>")
    }
}

impl Render<TestReport> for Junit {
    fn render(&self, r: &TestReport, out: &mut dyn Write) -> io::Result<()> {
        let mut by_guardrail: BTreeMap<&str, Vec<_>> = BTreeMap::new();
        for c in &r.cases {
            by_guardrail.entry(&c.guardrail).or_default().push(c);
        }
        writeln!(out, r#"<?xml version="1.0" encoding="UTF-8"?>"#)?;
        writeln!(
            out,
            r#"<testsuites name="railyard test" tests="{}" failures="{}">"#,
            r.cases.len(),
            r.failed
        )?;
        for (g, cases) in by_guardrail {
            let failed = cases.iter().filter(|c| !c.passed).count();
            writeln!(
                out,
                r#"  <testsuite name="{}" tests="{}" failures="{failed}">"#,
                esc(g),
                cases.len()
            )?;
            for c in cases {
                if c.passed {
                    writeln!(out, r#"    <testcase classname="{}" name="{}"/>"#, esc(g), esc(&c.case))?;
                } else {
                    writeln!(out, r#"    <testcase classname="{}" name="{}">"#, esc(g), esc(&c.case))?;
                    writeln!(
                        out,
                        r#"      <failure message="fixture failed">{}</failure>"#,
                        esc(&c.problems.join("\n"))
                    )?;
                    writeln!(out, "    </testcase>")?;
                }
            }
            writeln!(out, "  </testsuite>")?;
        }
        writeln!(out, "</testsuites>")
    }
}
