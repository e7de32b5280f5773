//! Every commit message Railyard writes, in one place: they are the audit trail (`git log
//! main` tells why each guardrail was activated; `git log railyard/ledger` what each run
//! recorded), so their words and trailers stay the same from one workflow to the next.

use super::release::Change;
use super::Settings;

/// The trailer every commit Railyard makes carries: the date it acted on.
pub fn trailer(s: &Settings) -> String {
    let mut t = format!("Railyard-Now: {}", s.now);
    if s.now_explicit {
        t.push_str(" (set with --now)");
    }
    t
}

/// The trailer of a promotion commit naming the ledger commit it was decided on (so a
/// ledger later reset or deleted is detected; see `ledger::check_tip`).
pub fn ledger_trailer(ledger_commit: Option<&str>) -> String {
    match ledger_commit {
        Some(c) => format!("{}: {c}\n", crate::ledger::LEDGER_TRAILER),
        None => String::new(),
    }
}

/// `none` (or `if_none`) for an empty list, else the items joined with commas.
fn list(items: &[String], if_none: &str) -> String {
    if items.is_empty() {
        if_none.to_string()
    } else {
        items.join(", ")
    }
}

/// The evidence of a promotion by observation: how the candidate fared on the fleet.
pub struct Evidence {
    pub workloads: usize,
    pub compliant: usize,
    pub excepted: usize,
    pub findings: usize,
    /// One `Workload: name@commit Verdict (n findings, m excepted)` line per workload.
    pub lines: String,
}

/// `main`: a candidate that broke no workload, activated by `observe`.
pub fn activate_observed(
    s: &Settings,
    id: &str,
    change: Change,
    develop: &str,
    evidence: &Evidence,
    ledger_commit: Option<&str>,
) -> String {
    format!(
        "railyard: activate guardrail {id} (observed, breaks no workload)\n\nGuardrail: {id}\nChange: {change:?}\nDevelop-Commit: {develop}\nEvidence: {} workloads observed: {} compliant, {} excepted, 0 noncompliant, 0 unknown; {} findings\n{}\n{}\n{}",
        evidence.workloads,
        evidence.compliant,
        evidence.excepted,
        evidence.findings,
        evidence.lines,
        trailer(s),
        ledger_trailer(ledger_commit)
    )
}

/// `main`: a guardrail removed on `develop`, removed by `observe`.
pub fn remove(s: &Settings, id: &str, develop: &str, ledger_commit: Option<&str>) -> String {
    format!(
        "railyard: remove guardrail {id}\n\nGuardrail: {id}\nDevelop-Commit: {develop}\n{}\n{}",
        trailer(s),
        ledger_trailer(ledger_commit)
    )
}

/// `main`: a pending guardrail activated by `enforce` once its deadline passed.
pub fn activate_at_deadline(
    s: &Settings,
    id: &str,
    change: Change,
    develop: &str,
    deadline: crate::date::Day,
    now_failing: &[String],
    ledger_commit: Option<&str>,
) -> String {
    format!(
        "railyard: activate guardrail {id} (deadline {deadline} passed)\n\nGuardrail: {id}\nChange: {change:?}\nDevelop-Commit: {develop}\nDeadline: {deadline}\nWorkloads-Now-Failing: {}\n{}\n{}",
        list(now_failing, "none"),
        trailer(s),
        ledger_trailer(ledger_commit)
    )
}

/// Who forced a decision, from where, and why.
pub struct Forced<'a> {
    pub actor: &'a str,
    pub actor_source: &'a str,
    pub reason: &'a str,
}

/// `main`: a guardrail the security team activated with `promote --force`.
pub fn activate_forced(
    s: &Settings,
    id: &str,
    change: Change,
    develop: &str,
    forced: &Forced,
    failing: &[String],
    ledger_commit: Option<&str>,
) -> String {
    format!(
        "railyard: activate guardrail {id} (forced)\n\nGuardrail: {id}\nChange: {change:?}\nDevelop-Commit: {develop}\nForced-By: {}\nActor-Source: {}\nReason: {}\nWorkloads-Now-Failing: {}\n{}\n{}",
        forced.actor,
        forced.actor_source,
        forced.reason,
        list(failing, "none known"),
        trailer(s),
        ledger_trailer(ledger_commit)
    )
}

/// Ledger: what one `observe` run saw.
pub fn observations(s: &Settings, candidates: usize, workloads: usize, develop: &str) -> String {
    format!(
        "railyard: observe {candidates} candidate(s) on {workloads} workload(s)\n\nDevelop-Commit: {develop}\n{}\n",
        trailer(s)
    )
}

/// Ledger: the activations (and removals) `observe` made.
pub fn record_activations(s: &Settings, count: usize) -> String {
    format!("railyard: record {count} activation(s)\n\n{}\n", trailer(s))
}

/// Ledger: the activations `enforce` made at their deadline.
pub fn record_deadline_activations(s: &Settings, count: usize) -> String {
    format!("railyard: record {count} activation(s) at deadline\n\n{}\n", trailer(s))
}

/// Ledger: the activation `promote --force` made.
pub fn record_forced_activation(s: &Settings, id: &str) -> String {
    format!("railyard: record forced activation of {id}\n\n{}\n", trailer(s))
}

/// Ledger: the notifications a run claims before sending them (exactly once).
pub fn claim_notifications(s: &Settings, count: usize) -> String {
    format!(
        "railyard: claim {count} notification(s) before sending\n\n{}\n",
        trailer(s)
    )
}

/// Ledger: the notifications a run delivered.
pub fn record_notifications(s: &Settings, delivered: usize) -> String {
    format!("railyard: record {delivered} notification(s) sent\n\n{}\n", trailer(s))
}

/// Ledger: `ledger accept`, a hand edit the security team accepted, with who and why.
pub fn accept_hand_edit(s: &Settings, forced: &Forced, accepted: &[String], clock_note: &str) -> String {
    format!(
        "railyard: accept hand edit of the ledger\n\nAccepted-By: {}\nActor-Source: {}\nReason: {}\nAccepted-Commits: {}\n{clock_note}{}\n",
        forced.actor,
        forced.actor_source,
        forced.reason,
        list(accepted, "none"),
        trailer(s)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(now_explicit: bool) -> Settings {
        Settings {
            repo: String::new(),
            repo_token_env: None,
            cache_dir: Default::default(),
            now: crate::date::Day::parse("2026-11-01").unwrap(),
            now_explicit,
            dry_run: false,
            no_notify: false,
            notify_timeout: std::time::Duration::from_secs(1),
            fetch_timeout: std::time::Duration::from_secs(1),
            format: crate::output::Format::Json,
            actor: String::new(),
            actor_source: String::new(),
            ledger_key: None,
            run: Default::default(),
        }
    }

    #[test]
    fn messages_carry_their_trailers() {
        let at = crate::date::Day::parse("2026-10-31").unwrap();
        assert_eq!(
            activate_at_deadline(&settings(true), "g", Change::New, "d1", at, &[], Some("l1")),
            "railyard: activate guardrail g (deadline 2026-10-31 passed)\n\nGuardrail: g\nChange: New\nDevelop-Commit: d1\nDeadline: 2026-10-31\nWorkloads-Now-Failing: none\nRailyard-Now: 2026-11-01 (set with --now)\nRailyard-Ledger: l1\n"
        );
        assert_eq!(
            record_activations(&settings(false), 2),
            "railyard: record 2 activation(s)\n\nRailyard-Now: 2026-11-01\n"
        );
    }
}
