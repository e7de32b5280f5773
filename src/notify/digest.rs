//! Periodic digests. A team's `[team.<name>.severity.low]` route is its **weekly digest**:
//! low-severity events do not interrupt anyone as they happen; they accumulate in the ledger
//! (each in its entry's `queued`, through the ledger's [`Queued`] record) and go out together,
//! at most once per week per team and channel, with the first run of a week that has any.
//! Of several concurrent runs, the one holding the period's claim (taken in a
//! compare-and-swap ledger update, [`crate::ledger::PeriodClaim`]) sends it; the others queue
//! what they saw. Every other destination gets each run's events at once.

use super::Event;
use crate::date::Day;
use crate::guardrail::Severity;
use crate::ledger::{Ledger, PeriodClaim};

/// How often a digest goes out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Period {
    /// Weeks start on Monday.
    Week,
}

impl Period {
    /// The first day of the period holding `day`.
    pub fn start(self, day: Day) -> Day {
        match self {
            Period::Week => day.plus_days(-i64::from(day.0.weekday().number_days_from_monday())),
        }
    }
}

/// The digest period of a destination: the `low` route is the weekly digest.
pub fn period_of(route: Option<Severity>) -> Option<Period> {
    matches!(route, Some(Severity::Low)).then_some(Period::Week)
}

/// The digest period of a channel as labelled in markers (`webhook.low`: weekly).
pub fn period_of_label(label: &str) -> Option<Period> {
    let (_, level) = label.split_once('.')?;
    period_of(crate::workload::registry::parse_severity(level))
}

/// The ledger's key of a team channel's digest.
pub fn record_key(team: &str, label: &str) -> String {
    format!("{team}@{label}")
}

/// Whether run `me` may send `team`'s digest on `label` on `today` (the run's `--now`): this
/// period's has not gone out and no other live run is sending it.
pub fn due(ledger: &Ledger, team: &str, label: &str, period: Period, me: &str, today: Day) -> bool {
    let now = period.start(today);
    ledger.digests.get(&record_key(team, label)).is_none_or(|r| {
        r.sent.is_none_or(|sent| sent < now)
            && !r
                .claim
                .as_ref()
                .is_some_and(|c| c.period == now && c.by != me && c.live())
    })
}

/// Takes the claim on `team`'s digest on `label` for the current period when it is due.
pub fn claim(ledger: &mut Ledger, team: &str, label: &str, period: Period, me: &str, today: Day) {
    if !due(ledger, team, label, period, me, today) {
        return;
    }
    let now = period.start(today);
    let record = ledger.digests.entry(record_key(team, label)).or_default();
    record.claim = Some(PeriodClaim {
        period: now,
        at: crate::ledger::now_secs(),
        by: me.to_string(),
    });
}

/// The events queued for `team`'s digest on `label` by earlier runs. One the ledger holds
/// but cannot read back is reported and kept (never dropped): it stays in the ledger.
pub fn queued(ledger: &Ledger, team: &str, label: &str) -> Vec<Event> {
    let mut out = Vec::new();
    for e in ledger.entries.values().filter(|e| e.team == team) {
        for (marker, q) in &e.queued {
            if marker.rsplit_once('@').map(|(_, l)| l) != Some(label) {
                continue;
            }
            match serde_json::from_value::<Event>(q.event.clone()) {
                Ok(event) => out.push(event),
                Err(err) => eprintln!(
                    "notify: ledger entry `{}/{}`: queued event `{marker}` cannot be read ({err}); it is kept, not sent",
                    e.guardrail, e.workload
                ),
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weeks_start_on_monday() {
        let d = |s: &str| Day::parse(s).unwrap();
        // 2026-11-30 is a Monday.
        assert_eq!(Period::Week.start(d("2026-11-30")), d("2026-11-30"));
        assert_eq!(Period::Week.start(d("2026-12-06")), d("2026-11-30"));
        assert_eq!(Period::Week.start(d("2026-12-07")), d("2026-12-07"));
        assert_eq!(period_of_label("webhook.low"), Some(Period::Week));
        assert_eq!(period_of_label("webhook.critical"), None);
        assert_eq!(period_of_label("webhook"), None);
    }
}
