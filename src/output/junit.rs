//! `--format junit`: JUnit XML that CI systems show as a test report. For `check`, each active
//! guardrail is a test case that fails with its findings; for `test`, each fixture is one.

use super::{location, Renderer};
use crate::report::{check::CheckReport, test::TestReport};
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

impl Renderer for Junit {
    fn check(&self, r: &CheckReport, out: &mut dyn Write) -> io::Result<()> {
        // One case per guardrail that was evaluated; findings grouped under it.
        let mut by_guardrail: BTreeMap<&str, Vec<String>> = BTreeMap::new();
        for f in &r.findings {
            by_guardrail.entry(&f.guardrail).or_default().push(format!(
                "[{}] {} at {}: {}",
                f.severity,
                f.resource,
                location(&f.file, f.line),
                f.message
            ));
        }
        // The guardrails without findings are one passing case; none when something could not
        // be evaluated (they were not all judged). `tests` counts the cases written.
        let passing = r.summary.guardrails.saturating_sub(by_guardrail.len());
        let passing_case = passing > 0 && r.errors.is_empty();
        // Each file that was not evaluated is a skipped case.
        let skipped = r.skipped.len();
        let cases = by_guardrail.len() + usize::from(passing_case) + r.errors.len() + skipped;
        writeln!(out, r#"<?xml version="1.0" encoding="UTF-8"?>"#)?;
        writeln!(
            out,
            r#"<testsuites name="railyard" tests="{cases}" failures="{}" errors="{}">"#,
            by_guardrail.len(),
            r.errors.len()
        )?;
        writeln!(
            out,
            r#"  <testsuite name="{}" tests="{cases}" failures="{}" errors="{}" skipped="{skipped}">"#,
            esc(&r.workload),
            by_guardrail.len(),
            r.errors.len()
        )?;
        for (g, lines) in &by_guardrail {
            writeln!(
                out,
                r#"    <testcase classname="railyard.{}" name="{}">"#,
                esc(&r.workload),
                esc(g)
            )?;
            writeln!(
                out,
                r#"      <failure message="{} finding(s)" type="{}">{}</failure>"#,
                lines.len(),
                esc(g),
                esc(&lines.join("\n"))
            )?;
            writeln!(out, "    </testcase>")?;
        }
        if passing_case {
            writeln!(
                out,
                r#"    <testcase classname="railyard.{}" name="{passing} guardrail(s) without findings"/>"#,
                esc(&r.workload)
            )?;
        }
        for e in &r.errors {
            writeln!(
                out,
                r#"    <testcase classname="railyard.{}" name="evaluation error">"#,
                esc(&r.workload)
            )?;
            writeln!(out, r#"      <error message="{}"/>"#, esc(&e.to_string()))?;
            writeln!(out, "    </testcase>")?;
        }
        for s in &r.skipped {
            writeln!(
                out,
                r#"    <testcase classname="railyard.{}" name="skipped: {}">"#,
                esc(&r.workload),
                esc(&s.path)
            )?;
            writeln!(out, r#"      <skipped message="{}"/>"#, esc(&s.reason))?;
            writeln!(out, "    </testcase>")?;
        }
        if !r.warnings.is_empty() {
            let lines: Vec<String> = r
                .warnings
                .iter()
                .map(|f| {
                    format!(
                        "pending {} on {} at {} (deadline {})",
                        f.guardrail,
                        f.resource,
                        location(&f.file, f.line),
                        f.deadline.map(|d| d.to_string()).unwrap_or_default()
                    )
                })
                .collect();
            writeln!(out, "    <system-out>{}</system-out>", esc(&lines.join("\n")))?;
        }
        writeln!(out, "  </testsuite>\n</testsuites>")
    }

    fn test(&self, r: &TestReport, out: &mut dyn Write) -> io::Result<()> {
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
