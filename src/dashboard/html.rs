//! The page: one self-contained `index.html` (inline CSS, SVG and a few lines of script; no
//! request at view time), readable from `file://` or any static host. Every number is DOM
//! text; every chart has a table with the same numbers for screen readers. All text from
//! workloads, policies and the ledger goes through [`esc`].

use super::esc;
use super::history::{Counts, History, Point};
use super::model::{Snapshot, EXPIRING_WINDOW_DAYS};
use super::svg::{line_chart, Series};
use crate::date::Day;
use crate::evaluate::Verdict;
use crate::ledger::GuardrailState;
use std::collections::BTreeMap;
use std::fmt::Write;

const STYLE: &str = r#"
body{font:14px/1.45 system-ui,sans-serif;margin:0 auto;max-width:1100px;padding:0 16px 48px;color:#1b1f24;background:#fff}
h1{font-size:22px;margin:20px 0 4px}h2{font-size:18px;margin:28px 0 8px;border-bottom:1px solid #d0d7de}h3{font-size:15px;margin:16px 0 4px}
table{border-collapse:collapse;margin:6px 0 12px}th,td{border:1px solid #d0d7de;padding:3px 8px;text-align:left;vertical-align:top}td.n,th.n{text-align:right}
dl.cards{display:flex;flex-wrap:wrap;gap:10px;margin:12px 0}dl.cards div{border:1px solid #d0d7de;border-radius:6px;padding:8px 14px;min-width:120px}
dl.cards dt{font-size:12px;color:#57606a}dl.cards dd{margin:0;font-size:22px;font-weight:600}
.sr-only{position:absolute;width:1px;height:1px;padding:0;margin:-1px;overflow:hidden;clip:rect(0,0,0,0);white-space:nowrap;border:0}
svg.chart{max-width:100%;height:auto;border:1px solid #eaeef2}svg .axis{stroke:#8c959f;fill:#57606a;font-size:11px;stroke-width:1}
svg text.axis{stroke:none}polyline{stroke-width:2}.open{stroke:#cf222e;color:#cf222e}.excepted{stroke:#bf8700;color:#bf8700}
.fixed{stroke:#1a7f37;color:#1a7f37}.unknown{stroke:#6e7781;color:#6e7781}.marker{stroke:#8250df;stroke-dasharray:4 3}
.legend span{margin-right:14px;font-weight:600}.small{display:grid;grid-template-columns:repeat(auto-fill,minmax(330px,1fr));gap:8px}
.warn{color:#9a6700}.bad{color:#cf222e}p.meta{color:#57606a;margin:0}
"#;

/// Records script errors into the page (the browser test reads them from the DOM) and says
/// the script ran; the page works without it.
const SCRIPT: &str = r#"
(function(){var errs=document.getElementById('js-errors');
window.addEventListener('error',function(e){var li=document.createElement('li');li.textContent=String(e.message);errs.appendChild(li);});
var n=document.querySelectorAll('svg.chart').length;
document.getElementById('js-status').textContent='page script ran: '+n+' charts, '+errs.children.length+' errors';})();
"#;

pub fn render(snap: &Snapshot, history: &History) -> String {
    let mut h = String::with_capacity(1 << 20);
    let title = match &snap.framework {
        Some(f) => format!("Railyard dashboard: {}", esc(f)),
        None => "Railyard dashboard".to_string(),
    };
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width,initial-scale=1\"><title>{title}</title><style>{STYLE}</style></head><body>\n<h1>{title}</h1>\n"
    );
    let _ = writeln!(
        h,
        "<p class=\"meta\">As of {} · {} recorded runs · {} guardrails · {} workloads{}</p>",
        snap.now,
        history.points.len(),
        snap.guardrails.len(),
        snap.workloads,
        snap.framework
            .as_ref()
            .map(|f| format!(" · guardrails mapped to <code>{}</code>*", esc(f)))
            .unwrap_or_default()
    );
    h.push_str("<p id=\"js-status\" class=\"meta\">page script did not run</p><ul id=\"js-errors\"></ul>\n");
    summary(&mut h, snap, history);
    problems(&mut h, history);
    compliance(&mut h, snap, history);
    burndown(&mut h, snap, history);
    exposure(&mut h, snap);
    exceptions(&mut h, snap);
    frameworks(&mut h, snap);
    let _ = write!(h, "<script>{SCRIPT}</script>\n</body></html>\n");
    h
}

fn summary(h: &mut String, snap: &Snapshot, history: &History) {
    let last = history.points.last().map(|p| p.overall).unwrap_or_default();
    let breaking = snap
        .exposure
        .iter()
        .filter(|e| e.status == Verdict::Noncompliant)
        .count();
    let card = |h: &mut String, id: &str, label: &str, v: usize| {
        let _ = write!(h, "<div><dt>{label}</dt><dd id=\"{id}\">{v}</dd></div>");
    };
    h.push_str("<dl class=\"cards\" id=\"summary\">");
    card(h, "open-findings", "Open findings (last run)", last.open_findings);
    card(h, "excepted-findings", "Excepted findings", last.excepted_findings);
    card(h, "fixed", "Fixed (guardrail × workload)", last.fixed);
    card(h, "unknown", "Unknown (not evaluated)", last.unknown);
    card(h, "exposed", "Noncompliant pairs today", breaking);
    card(h, "expiring", "Exceptions expiring soon", snap.expiring.len());
    card(h, "runs", "Recorded runs", history.points.len());
    h.push_str("</dl>\n");
}

fn problems(h: &mut String, history: &History) {
    if history.problems.is_empty() {
        return;
    }
    h.push_str("<h2 id=\"history-problems\" class=\"bad\">Ledger commits that could not be read</h2><p>These runs are missing from the charts.</p><table><tr><th>Commit</th><th>Reason</th></tr>");
    for p in &history.problems {
        let _ = write!(
            h,
            "<tr><td><code>{}</code></td><td>{}</td></tr>",
            esc(&p.commit),
            esc(&p.reason)
        );
    }
    h.push_str("</table>\n");
}

/// The three lines of a compliance chart, from the counts of each point.
fn lines(points: &[(Day, Counts)]) -> Vec<Series<'static>> {
    let pick = |f: fn(&Counts) -> usize| points.iter().map(|(_, c)| f(c)).collect();
    vec![
        Series {
            class: "open",
            values: pick(|c| c.open_findings),
        },
        Series {
            class: "excepted",
            values: pick(|c| c.excepted_findings),
        },
        Series {
            class: "fixed",
            values: pick(|c| c.fixed),
        },
        Series {
            class: "unknown",
            values: pick(|c| c.unknown),
        },
    ]
}

const LEGEND: &str = "<p class=\"legend\" aria-hidden=\"true\"><span class=\"open\">— open findings</span><span class=\"excepted\">— excepted findings</span><span class=\"fixed\">— fixed</span><span class=\"unknown\">— unknown</span></p>";

fn counts_table(h: &mut String, id: &str, caption: &str, points: &[(Day, &str, Counts)]) {
    let _ = write!(
        h,
        "<table class=\"sr-only\" id=\"{id}\"><caption>{}</caption><tr><th>Run day</th><th>Ledger commit</th><th class=\"n\">Open findings</th><th class=\"n\">Excepted findings</th><th class=\"n\">Fixed</th><th class=\"n\">Unknown</th><th class=\"n\">Noncompliant workloads</th></tr>",
        esc(caption)
    );
    for (day, commit, c) in points {
        let _ = write!(
            h,
            "<tr><td>{day}</td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
            esc(&commit[..commit.len().min(12)]),
            c.open_findings,
            c.excepted_findings,
            c.fixed,
            c.unknown,
            c.noncompliant
        );
    }
    h.push_str("</table>");
}

fn series_of(points: &[Point], f: impl Fn(&Point) -> Counts) -> Vec<(Day, &str, Counts)> {
    points.iter().map(|p| (p.day, p.commit.as_str(), f(p))).collect()
}

fn compliance(h: &mut String, snap: &Snapshot, history: &History) {
    h.push_str("<h2 id=\"compliance\">Fleet compliance over time</h2>");
    h.push_str(LEGEND);
    let overall = series_of(&history.points, |p| p.overall);
    chart(h, "overall", "All guardrails", &overall, None);
    h.push_str("<h3>Per guardrail</h3><div class=\"small\">");
    for g in &snap.guardrails {
        let pts = series_of(&history.points, |p| {
            p.per_guardrail.get(&g.id).copied().unwrap_or_default()
        });
        // No entry in the last run: nothing was recorded, which is not the same as compliant.
        let unrecorded = match history.points.last() {
            Some(p) if !p.per_guardrail.contains_key(&g.id) => {
                " <small class=\"warn\">no ledger entry: never observed</small>"
            }
            _ => "",
        };
        let _ = write!(
            h,
            "<div><h3>{} <small>({})</small>{unrecorded}</h3>",
            esc(&g.id),
            g.severity
        );
        chart(h, &format!("g-{}", esc(&g.id)), &g.id, &pts, None);
        h.push_str("</div>");
    }
    h.push_str("</div>\n");
}

fn chart(h: &mut String, id: &str, caption: &str, pts: &[(Day, &str, Counts)], until: Option<Day>) {
    let days: Vec<Day> = pts.iter().map(|p| p.0).collect();
    let plain: Vec<(Day, Counts)> = pts.iter().map(|p| (p.0, p.2)).collect();
    h.push_str(&line_chart(&days, &lines(&plain), until));
    counts_table(h, &format!("t-{id}"), caption, pts);
}

fn burndown(h: &mut String, snap: &Snapshot, history: &History) {
    h.push_str("<h2 id=\"burndown\">Pending guardrails: burn-down to activation</h2>");
    let pending: Vec<_> = snap
        .guardrails
        .iter()
        .filter(|g| g.state == GuardrailState::Pending)
        .collect();
    if pending.is_empty() {
        h.push_str("<p>No guardrail is pending.</p>");
    }
    for g in pending {
        let pts = series_of(&history.points, |p| {
            p.per_guardrail.get(&g.id).copied().unwrap_or_default()
        });
        let open_now = pts.last().map(|p| p.2.noncompliant).unwrap_or(0);
        let when = g
            .activation_day
            .map(|d| format!("activates on <strong>{d}</strong> ({} days)", snap.now.days_until(d)))
            .unwrap_or_else(|| "not observed yet: no activation day".into());
        let _ = write!(
            h,
            "<h3>{} — {}</h3><p><span class=\"burn-open\" data-guardrail=\"{}\">{open_now}</span> noncompliant workloads; {when}</p>",
            esc(&g.id),
            esc(&g.title),
            esc(&g.id)
        );
        let days: Vec<Day> = pts.iter().map(|p| p.0).collect();
        let line = [Series {
            class: "open",
            values: pts.iter().map(|p| p.2.noncompliant).collect(),
        }];
        h.push_str(&line_chart(&days, &line, g.activation_day));
        counts_table(h, &format!("b-{}", esc(&g.id)), &format!("Burn-down of {}", g.id), &pts);
    }
    h.push('\n');
}

fn exposure(h: &mut String, snap: &Snapshot) {
    h.push_str("<h2 id=\"exposure\">Exposure per team and workload</h2>");
    if snap.exposure.is_empty() {
        h.push_str("<p>Every workload complies with every guardrail shown (or is excepted).</p>");
        return;
    }
    // Per team: noncompliant pairs, unknown ones, and the next day something breaks.
    let mut teams: BTreeMap<&str, (usize, usize, usize, Option<Day>)> = BTreeMap::new();
    for e in &snap.exposure {
        let t = teams.entry(e.team.as_str()).or_default();
        match (e.status, e.state) {
            (Verdict::Unknown, _) => t.2 += 1,
            (_, GuardrailState::Active) => t.0 += 1,
            _ => t.1 += 1,
        }
        if let Some(d) = e.breaks_on {
            t.3 = Some(t.3.map_or(d, |x| x.min(d)));
        }
    }
    h.push_str("<table id=\"teams\"><tr><th>Team</th><th class=\"n\">Failing now (active)</th><th class=\"n\">Breaking at a deadline (pending)</th><th class=\"n\">Unknown</th><th>Next deadline</th></tr>");
    for (team, (active, pending, unknown, next)) in teams {
        let _ = write!(
            h,
            "<tr><td>{}</td><td class=\"n\">{active}</td><td class=\"n\">{pending}</td><td class=\"n\">{unknown}</td><td>{}</td></tr>",
            esc(team),
            next.map(|d| d.to_string()).unwrap_or_default()
        );
    }
    h.push_str("</table><table id=\"workloads\"><tr><th>Team</th><th>Workload</th><th>Guardrail</th><th>Severity</th><th>State</th><th class=\"n\">Findings</th><th>Breaks it</th><th>First finding / problem</th></tr>");
    for e in &snap.exposure {
        let when = match (e.status, e.state, e.breaks_on) {
            (Verdict::Unknown, _, _) => "<span class=\"warn\">unknown: not evaluated</span>".to_string(),
            (_, GuardrailState::Active, _) => "<span class=\"bad\">now</span>".to_string(),
            (_, _, Some(d)) => format!("{d} ({} days)", snap.now.days_until(d)),
            _ => String::new(),
        };
        let state = match e.state {
            GuardrailState::Active => "active",
            GuardrailState::Pending => "pending",
            GuardrailState::Removed => "removed",
        };
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{state}</td><td class=\"n\">{}</td><td>{when}</td><td><code>{}</code></td></tr>",
            esc(&e.team),
            esc(&e.workload),
            esc(&e.guardrail),
            e.severity,
            e.findings,
            esc(&e.first)
        );
    }
    h.push_str("</table>\n");
}

fn exceptions(h: &mut String, snap: &Snapshot) {
    let _ = write!(
        h,
        "<h2 id=\"exceptions\">Exceptions</h2><h3>Expiring within {EXPIRING_WINDOW_DAYS} days</h3>"
    );
    if snap.expiring.is_empty() {
        h.push_str("<p>None.</p>");
    } else {
        h.push_str("<table id=\"expiring-list\"><tr><th>Expires</th><th class=\"n\">Days left</th><th>Guardrail</th><th>Workload</th><th>Resource</th></tr>");
        for x in &snap.expiring {
            let _ = write!(
                h,
                "<tr><td>{}</td><td class=\"n\">{}</td><td>{}</td><td>{}</td><td><code>{}</code></td></tr>",
                x.expires,
                snap.now.days_until(x.expires),
                esc(&x.guardrail),
                esc(&x.workload),
                esc(&x.resource)
            );
        }
        h.push_str("</table>");
    }
    h.push_str("<h3>Stale (match no recorded finding: can be removed)</h3>");
    if snap.stale.is_empty() {
        h.push_str("<p>None.</p>");
    } else {
        h.push_str("<table id=\"stale\"><tr><th>Where</th><th>Guardrail</th><th>Workload</th><th>Resource</th><th>Expires</th></tr>");
        for x in &snap.stale {
            let _ = write!(
                h,
                "<tr><td>{}:{}</td><td>{}</td><td>{}</td><td><code>{}</code></td><td>{}</td></tr>",
                esc(&x.file),
                x.line,
                esc(&x.guardrail),
                esc(&x.workload),
                esc(&x.resource),
                x.expires
            );
        }
        h.push_str("</table>");
    }
    h.push_str("<h3>Unverified (approval did not verify: they waive nothing)</h3>");
    if snap.unverified.is_empty() {
        h.push_str("<p>None.</p>");
    } else {
        h.push_str("<table id=\"unverified\"><tr><th>Where</th><th>Guardrail</th><th>Workload</th><th>Resource</th><th>Approved by</th><th>Why it does not verify</th></tr>");
        for x in &snap.unverified {
            let _ = write!(
                h,
                "<tr><td>{}:{}</td><td>{}</td><td>{}</td><td><code>{}</code></td><td>{}</td><td>{}</td></tr>",
                esc(&x.file),
                x.line,
                esc(&x.guardrail),
                esc(&x.workload),
                esc(&x.resource),
                esc(&x.approved_by),
                esc(&x.reason)
            );
        }
        h.push_str("</table>");
    }
    h.push('\n');
}

fn frameworks(h: &mut String, snap: &Snapshot) {
    let _ = write!(
        h,
        "<h2 id=\"frameworks\">Frameworks: workloads that comply, per control</h2><p>A workload complies with a control when every guardrail mapped to it is compliant or excepted; one never evaluated, or not evaluable, makes it unknown. {} workloads.</p>",
        snap.workloads
    );
    let mut by_framework: BTreeMap<&str, Vec<&super::model::Control>> = BTreeMap::new();
    for c in &snap.controls {
        by_framework.entry(c.framework.as_str()).or_default().push(c);
    }
    if by_framework.is_empty() {
        h.push_str("<p>No guardrail shown maps a framework control.</p>");
    }
    for (framework, controls) in by_framework {
        let _ = write!(
            h,
            "<h3>{}</h3><table class=\"framework\" data-framework=\"{}\"><tr><th>Control</th><th class=\"n\">Comply</th><th class=\"n\">Noncompliant</th><th class=\"n\">Unknown</th><th>Guardrails</th></tr>",
            esc(framework),
            esc(framework)
        );
        for c in controls {
            let _ = write!(
                h,
                "<tr data-control=\"{} {}\"><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td>{}</td></tr>",
                esc(framework),
                esc(&c.control),
                esc(&c.control),
                c.comply,
                c.noncompliant,
                c.unknown,
                esc(&c.guardrails.join(", "))
            );
        }
        h.push_str("</table>");
    }
    h.push('\n');
}
