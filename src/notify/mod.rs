//! Notifications: tell each owning team what changed, once. Workflows turn what they saw
//! into [`Event`]s, each with a stable key (`new:<first_seen>`, `remind:<deadline>:<days>`,
//! `activated:<day>`, `resolved:<day>`, `exception-expiring:<expires>:<resource>`,
//! `exception-expired:<expires>:<resource>`). Events already delivered on a channel are
//! skipped (the ledger entry's `notified` map holds `<key>@<channel>`); the rest become one
//! digest per team and channel (per issue for GitHub; per week for the `low` route, see
//! [`digest`]), sent concurrently under a bound, with
//! retries on 429 and 5xx. A failed send is reported and retried by the next run; it never
//! fails the run. Secrets come from environment variables named in `workloads.toml` and
//! never appear in output, errors or the ledger.
//!
//! Channels live one per file behind [`Channel`] and are listed once in [`CHANNELS`].

pub mod digest;
mod github;
mod http;
mod slack;
mod teams;
mod webhook;

use crate::date::Day;
use crate::gitops::blame::LastChange;
use crate::guardrail::Severity;
use crate::ledger::{EntryKey, Ledger};
use crate::workload::registry::{Registry, Team};
pub use http::{Http, SendError};
use serde::{Deserialize, Serialize};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

/// Version tag of the generic webhook payload (docs/notifications.md).
pub const SCHEMA: &str = "railyard.notification/v1";
/// Deliveries in flight at once.
pub const CONCURRENCY: usize = 8;
/// Default per-request timeout.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// Every channel, listed once. Adding one is one new file and one line here.
pub static CHANNELS: &[&dyn Channel] = &[&slack::Slack, &teams::Teams, &webhook::Webhook, &github::GitHub];

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A way of reaching a team.
pub trait Channel: Sync {
    /// Short name used in event keys (`<key>@<name>`) and messages.
    fn name(&self) -> &'static str;
    /// The environment variable (named in `workloads.toml`) holding this channel's secret.
    fn secret_env<'t>(&self, team: &'t Team) -> Option<&'t str>;
    /// Whether events go out one message per (guardrail, workload) instead of one digest per team.
    fn per_issue(&self) -> bool {
        false
    }
    /// Sends one message. Errors must not carry the secret (use [`Http`], which redacts).
    fn deliver<'a>(&'a self, ctx: &'a Delivery) -> BoxFuture<'a, Result<(), SendError>>;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EventKind {
    /// A workload started breaking a guardrail.
    New,
    /// A deadline is N days away.
    Reminder,
    /// The guardrail now fails the workload's pipeline.
    Activated,
    /// An exception expires within the window.
    ExceptionExpiring,
    /// An exception has expired: its findings fail again.
    ExceptionExpired,
    /// The workload is compliant again.
    Resolved,
}

/// One resource of a finding, with where it is and who last changed it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventResource {
    pub resource: String,
    pub file: String,
    pub line: usize,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_changed: Option<LastChange>,
}

/// An exception an event is about.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventException {
    pub resource: String,
    pub expires: Day,
    pub approved_by: String,
    pub source: String,
}

/// Something a team should hear about, once. Deserialised only from the ledger's queue of
/// periodic digests ([`digest`]), which keeps events in this form.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// Stable key: the same event gets the same key on every run.
    pub key: String,
    pub kind: EventKind,
    pub guardrail: String,
    pub title: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub severity: Option<Severity>,
    pub workload: String,
    pub team: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deadline: Option<Day>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub days_left: Option<i64>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub remediation: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub url: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resources: Vec<EventResource>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exception: Option<EventException>,
    /// One line for people.
    pub summary: String,
    /// The workload's repository (for GitHub issues); not part of the payload.
    #[serde(skip)]
    pub repo: String,
}

impl Event {
    /// An event with only its identity set; the caller fills in the rest.
    pub fn basic(kind: EventKind, key: String, guardrail: &str, workload: &str, team: &str) -> Event {
        Event {
            key,
            kind,
            guardrail: guardrail.to_string(),
            title: String::new(),
            severity: None,
            workload: workload.to_string(),
            team: team.to_string(),
            deadline: None,
            days_left: None,
            remediation: String::new(),
            url: String::new(),
            resources: Vec::new(),
            exception: None,
            summary: String::new(),
            repo: String::new(),
        }
    }

    /// The ledger entry this event belongs to.
    pub fn ledger_key(&self) -> EntryKey {
        crate::ledger::key(&self.guardrail, &self.workload)
    }

    /// A few lines for chat messages: summary, resources with attribution, remediation.
    pub fn lines(&self) -> Vec<String> {
        let mut out = vec![self.summary.clone()];
        for r in &self.resources {
            let at = crate::report::location(&r.file, r.line);
            let who = r
                .last_changed
                .as_ref()
                .map(|c| format!(" ({})", c.describe()))
                .unwrap_or_default();
            out.push(format!("• {} at {at}{who}", r.resource));
        }
        if !self.remediation.is_empty()
            && matches!(self.kind, EventKind::New | EventKind::Reminder | EventKind::Activated)
        {
            out.push(format!("Fix: {}", self.remediation));
        }
        out
    }
}

/// What the run is (for payloads).
#[derive(Debug, Clone, Serialize)]
pub struct RunInfo {
    /// `observe` or `enforce`.
    pub command: String,
    pub now: Day,
    pub railyard_version: String,
}

/// One message to send: a team, a channel, the events not yet delivered there.
pub struct Delivery {
    pub team: String,
    pub channel: &'static dyn Channel,
    /// The secret; never printed.
    secret: String,
    /// For the generic webhook: HMAC secret, if `webhook_secret_env` is set.
    pub signing_secret: Option<String>,
    /// For GitHub: API base URL.
    pub github_api: String,
    pub events: Vec<Event>,
    pub run: RunInfo,
    pub http: Arc<Http>,
}

impl Delivery {
    pub fn secret(&self) -> &str {
        &self.secret
    }
}

/// How a run treats notifications.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Send,
    /// `--dry-run` or `--no-notify`: print what would be sent.
    Preview,
}

/// One message the plan would send: a team, a channel (of the team, or of one of its
/// per-severity routes), and the events not yet delivered there, in digest order.
pub struct Planned {
    pub team: String,
    pub channel: &'static dyn Channel,
    /// `Some(level)`: the team's `[team.<name>.severity.<level>]` route, not its own channel.
    pub route: Option<Severity>,
    pub events: Vec<Event>,
    /// A periodic digest whose period's message already went out (or another run is sending
    /// it): the events are queued in the ledger for the next one, not sent.
    pub hold: bool,
}

impl Planned {
    /// The channel as named in markers and output: `slack`, or `slack.critical` for a route,
    /// so a route's deliveries are recorded apart from the team channel's.
    pub fn label(&self) -> String {
        channel_label(self.channel, self.route)
    }
}

fn channel_label(channel: &dyn Channel, route: Option<Severity>) -> String {
    match route {
        None => channel.name().to_string(),
        Some(level) => format!("{}.{level}", channel.name()),
    }
}

/// Whether an event of `severity` passes a channel's floor. An event without a severity (its
/// guardrail is gone) is never filtered out: what it is worth is unknown, not low.
fn at_or_above(severity: Option<Severity>, floor: Option<Severity>) -> bool {
    match (severity, floor) {
        (Some(s), Some(f)) => s >= f,
        _ => true,
    }
}

/// Digest order: highest severity first (unknown last), then the nearest deadline (none last).
/// Stable, so events that tie keep the order the workflow produced.
fn digest_order(a: &Event, b: &Event) -> std::cmp::Ordering {
    let deadline = match (a.deadline, b.deadline) {
        (Some(x), Some(y)) => x.cmp(&y),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => std::cmp::Ordering::Equal,
    };
    b.severity.cmp(&a.severity).then(deadline)
}

/// Groups undelivered events into messages: one per team and channel (per (guardrail,
/// workload) for per-issue channels), each in [`digest_order`]. A team channel gets the
/// events at or above its `min_severity`; a per-severity route gets the events of exactly its
/// severity. Events already delivered on a channel, per the ledger, are left out. Events of
/// teams without any channel are dropped. A weekly digest ([`digest`]) adds the events queued
/// for it and is held when its week's (`today`'s) message already went out.
pub fn plan(events: &[Event], registry: &Registry, ledger: &Ledger, today: Day) -> Vec<Planned> {
    let mut out: Vec<Planned> = Vec::new();
    let mut sorted: Vec<&Event> = events.iter().collect();
    sorted.sort_by(|a, b| digest_order(a, b));
    let mut teams: Vec<&str> = events.iter().map(|e| e.team.as_str()).collect();
    // Teams whose digest holds events queued by earlier runs, even if this run saw nothing.
    teams.extend(
        ledger
            .entries
            .values()
            .filter(|e| !e.queued.is_empty())
            .map(|e| e.team.as_str()),
    );
    teams.sort();
    teams.dedup();
    for team_name in teams {
        let Some(team) = registry.team(team_name) else { continue };
        // The team's own channels first, then each route, highest severity first.
        let mut destinations: Vec<(Option<Severity>, Team)> = vec![(None, team.clone())];
        destinations.extend(team.routes.iter().rev().map(|(level, r)| (Some(*level), r.as_team())));
        for (route, dest) in &destinations {
            for &channel in CHANNELS {
                if channel.secret_env(dest).is_none() {
                    continue;
                }
                let label = channel_label(channel, *route);
                let floor = team.min_severity_of(channel.name());
                let mut pending: Vec<Event> = sorted
                    .iter()
                    .filter(|e| e.team == team_name)
                    .filter(|e| match route {
                        None => at_or_above(e.severity, floor),
                        Some(level) => e.severity == Some(*level),
                    })
                    .filter(|e| !delivered(ledger, e, &label))
                    .map(|e| (*e).clone())
                    .collect();
                let mut hold = false;
                if let Some(period) = digest::period_of(*route) {
                    // Earlier runs' queued events join this run's (the same event: this run's).
                    for q in digest::queued(ledger, team_name, &label) {
                        let known = pending
                            .iter()
                            .any(|e| e.key == q.key && e.ledger_key() == q.ledger_key());
                        if !known && !delivered(ledger, &q, &label) {
                            pending.push(q);
                        }
                    }
                    pending.sort_by(digest_order);
                    hold = !digest::due(ledger, team_name, &label, period, run_id(), today);
                }
                if pending.is_empty() {
                    continue;
                }
                let planned = |events: Vec<Event>| Planned {
                    team: team_name.to_string(),
                    channel,
                    route: *route,
                    events,
                    hold,
                };
                if channel.per_issue() {
                    let mut groups: Vec<Vec<Event>> = Vec::new();
                    for e in pending {
                        match groups
                            .iter_mut()
                            .find(|g| g[0].guardrail == e.guardrail && g[0].workload == e.workload)
                        {
                            Some(g) => g.push(e),
                            None => groups.push(vec![e]),
                        }
                    }
                    out.extend(groups.into_iter().map(planned));
                } else {
                    out.push(planned(pending));
                }
            }
        }
    }
    out
}

// Claims are ledger records (the ledger owns its record types); re-exported for senders.
pub use crate::ledger::{now_secs, Claim};
pub use crate::report::{Sent, SentStatus};

/// This run's id, for its claims (the same for the whole process).
pub fn run_id() -> &'static str {
    static ID: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    ID.get_or_init(|| {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        format!("{}-{}-{nanos}", std::process::id(), now_secs())
    })
}

/// Every (ledger entry, `<key>@<channel>` marker) the plan would send.
pub fn planned_markers(events: &[Event], registry: &Registry, ledger: &Ledger, today: Day) -> Vec<(EntryKey, String)> {
    plan(events, registry, ledger, today)
        .into_iter()
        .flat_map(|p| {
            let label = p.label();
            p.events
                .into_iter()
                .map(move |e| (e.ledger_key(), format!("{}@{label}", e.key)))
        })
        .collect()
}

/// Claims in `ledger` every marker of `wanted` that is neither sent nor claimed by a live
/// run, and the current period of each periodic digest they belong to when it is due;
/// returns the markers this run (`me`) now holds.
pub fn claim(
    ledger: &mut Ledger,
    wanted: &[(EntryKey, String)],
    me: &str,
    today: Day,
) -> std::collections::BTreeSet<(EntryKey, String)> {
    let mut mine = std::collections::BTreeSet::new();
    for (entry, marker) in wanted {
        let Some(e) = ledger.entries.get_mut(entry) else {
            continue;
        };
        if e.notified.contains_key(marker) || e.claimed.get(marker).is_some_and(|c| c.by != me && c.live()) {
            continue;
        }
        e.claimed.insert(
            marker.clone(),
            Claim {
                at: now_secs(),
                by: me.to_string(),
            },
        );
        let team = e.team.clone();
        mine.insert((entry.clone(), marker.clone()));
        let label = marker.rsplit_once('@').map_or("", |(_, l)| l);
        if let Some(period) = digest::period_of_label(label) {
            digest::claim(ledger, &team, label, period, me, today);
        }
    }
    mine
}

/// Whether the ledger says `event` went out on `channel`, or another run holds a live
/// claim on it (and is sending it).
pub fn delivered(ledger: &Ledger, event: &Event, channel: &str) -> bool {
    let marker = format!("{}@{channel}", event.key);
    ledger.entries.get(&event.ledger_key()).is_some_and(|e| {
        e.notified.contains_key(&marker) || e.claimed.get(&marker).is_some_and(|c| c.live() && c.by != run_id())
    })
}

/// Plans and (in [`Mode::Send`]) delivers the events; returns how each message fared. Never
/// fails: problems are reported per message.
pub fn notify(
    events: &[Event],
    registry: &Registry,
    ledger: &Ledger,
    run: RunInfo,
    mode: Mode,
    timeout: Duration,
) -> Vec<Sent> {
    let planned = plan(events, registry, ledger, run.now);
    if planned.is_empty() {
        return Vec::new();
    }
    let mut results = Vec::new();
    let mut deliveries = Vec::new();
    let http = match mode {
        Mode::Send => match Http::new(timeout) {
            Ok(h) => Some(Arc::new(h)),
            Err(e) => {
                eprintln!("notify: cannot start an HTTP client: {e}");
                None
            }
        },
        Mode::Preview => None,
    };
    for p in planned {
        let label = p.label();
        let Planned {
            team: team_name,
            channel,
            route,
            events,
            hold,
        } = p;
        let team = registry.team(&team_name).expect("planned teams exist");
        // A route's settings live in its own table; read them as a team of its own.
        let routed = route.and_then(|level| team.routes.get(&level)).map(|r| r.as_team());
        let team = routed.as_ref().unwrap_or(team);
        let env = channel.secret_env(team).unwrap_or_default().to_string();
        let mut sent = Sent {
            team: team_name.clone(),
            channel: label.clone(),
            env: env.clone(),
            // Until a channel accepts it, a message is not sent.
            status: SentStatus::Failed,
            events: events.iter().map(|e| format!("{} {}", e.ledger_key(), e.key)).collect(),
            error: None,
            record: events
                .iter()
                .map(|e| (e.ledger_key(), format!("{}@{label}", e.key)))
                .collect(),
            queue: Vec::new(),
            period: None,
        };
        // A periodic digest: its events stay queued in the ledger unless it goes out.
        if let Some(period) = digest::period_of(route) {
            sent.queue = events
                .iter()
                .filter_map(|e| {
                    let json = serde_json::to_value(e).ok()?;
                    Some((e.ledger_key(), format!("{}@{label}", e.key), json))
                })
                .collect();
            sent.period = Some((digest::record_key(&team_name, &label), period.start(run.now)));
            if hold {
                sent.status = match mode {
                    Mode::Preview => SentStatus::WouldQueue,
                    Mode::Send => SentStatus::Queued,
                };
                sent.error = None;
                results.push(sent);
                continue;
            }
        }
        let secret = std::env::var(&env).ok().filter(|v| !v.trim().is_empty());
        if mode == Mode::Preview {
            sent.status = SentStatus::WouldSend;
            results.push(sent);
            continue;
        }
        let (Some(secret), Some(http)) = (secret, http.clone()) else {
            sent.status = SentStatus::NotConfigured;
            sent.error = Some(format!("${env} is not set"));
            results.push(sent);
            continue;
        };
        let signing_secret = if channel.name() == "webhook" {
            team.webhook_secret_env
                .as_deref()
                .and_then(|v| std::env::var(v).ok())
                .filter(|v| !v.is_empty())
        } else {
            None
        };
        if channel.name() == "webhook" && team.webhook_secret_env.is_some() && signing_secret.is_none() {
            sent.status = SentStatus::NotConfigured;
            sent.error = Some(format!(
                "${} (webhook_secret_env) is not set: refusing to send unsigned",
                team.webhook_secret_env.as_deref().unwrap_or_default()
            ));
            results.push(sent);
            continue;
        }
        deliveries.push((
            sent,
            Delivery {
                team: team_name,
                channel,
                secret,
                signing_secret,
                github_api: team
                    .github_api
                    .clone()
                    .unwrap_or_else(|| "https://api.github.com".into())
                    .trim_end_matches('/')
                    .to_string(),
                events,
                run: run.clone(),
                http,
            },
        ));
    }
    if !deliveries.is_empty() {
        results.extend(send_all(deliveries));
    }
    results
}

/// Sends concurrently (at most [`CONCURRENCY`] at once) on a small runtime of its own.
fn send_all(deliveries: Vec<(Sent, Delivery)>) -> Vec<Sent> {
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            return deliveries
                .into_iter()
                .map(|(mut s, _)| {
                    s.status = SentStatus::Failed;
                    s.error = Some(format!("cannot start the async runtime: {e}"));
                    s
                })
                .collect()
        }
    };
    runtime.block_on(async move {
        let limit = Arc::new(tokio::sync::Semaphore::new(CONCURRENCY));
        let mut set = tokio::task::JoinSet::new();
        for (i, (sent, delivery)) in deliveries.into_iter().enumerate() {
            let limit = limit.clone();
            set.spawn(async move {
                let _permit = limit.acquire_owned().await;
                let mut sent = sent;
                match delivery.channel.deliver(&delivery).await {
                    Ok(()) => sent.status = SentStatus::Sent,
                    Err(e) => {
                        sent.status = SentStatus::Failed;
                        sent.error = Some(redact(&e.to_string(), delivery.secret()));
                    }
                }
                (i, sent)
            });
        }
        let mut out = Vec::new();
        while let Some(r) = set.join_next().await {
            if let Ok(r) = r {
                out.push(r);
            }
        }
        out.sort_by_key(|(i, _)| *i);
        out.into_iter().map(|(_, s)| s).collect()
    })
}

/// Records successful deliveries in the ledger (`<key>@<channel>` → today) and releases
/// this run's claims (a failed message is then free for the next run). Returns how many
/// markers were added.
///
/// A periodic digest that went out marks its period sent and leaves the queue; one that did
/// not (held for the next period, failed, not configured) keeps or adds its events to the
/// queue, so none is lost. This run's claims on periods are released.
pub fn record(ledger: &mut Ledger, sent: &[Sent], now: Day, me: &str) -> usize {
    let mut n = 0;
    for s in sent {
        let went_out = s.status == SentStatus::Sent;
        for (entry, marker) in &s.record {
            if let Some(e) = ledger.entries.get_mut(entry) {
                if e.claimed.get(marker).is_some_and(|c| c.by == me) {
                    e.claimed.remove(marker);
                }
                if went_out {
                    e.queued.remove(marker);
                    if e.notified.insert(marker.clone(), now).is_none() {
                        n += 1;
                    }
                }
            }
        }
        if !went_out {
            for (entry, marker, event) in &s.queue {
                let Some(e) = ledger.entries.get_mut(entry) else {
                    continue;
                };
                if e.notified.contains_key(marker) {
                    continue;
                }
                e.queued
                    .entry(marker.clone())
                    .and_modify(|q| q.event = event.clone())
                    .or_insert_with(|| crate::ledger::Queued {
                        on: now,
                        event: event.clone(),
                    });
            }
        }
        if let (Some((key, period)), true) = (&s.period, went_out) {
            ledger.digests.entry(key.clone()).or_default().sent = Some(*period);
        }
    }
    for r in ledger.digests.values_mut() {
        if r.claim.as_ref().is_some_and(|c| c.by == me) {
            r.claim = None;
        }
    }
    n
}

/// Prints how each message fared (or would) on stderr, naming env vars, never their values.
pub fn print_summary(sent: &[Sent]) {
    for s in sent {
        let what = match s.status {
            SentStatus::WouldSend => "would send",
            SentStatus::Sent => "sent",
            SentStatus::NotConfigured => "not sent",
            SentStatus::Failed => "FAILED to send",
            SentStatus::Queued | SentStatus::WouldQueue => {
                let verb = if s.status == SentStatus::Queued {
                    "queued"
                } else {
                    "would queue"
                };
                let next = s.period.as_ref().map(|(_, p)| p.plus_days(7));
                eprintln!(
                    "notify: {verb} {} for team `{}`'s weekly digest via {} (${}): this week's went out; the next goes with the first run from {}",
                    crate::report::plural(s.events.len(), "event"),
                    s.team,
                    s.channel,
                    s.env,
                    next.map(|d| d.to_string()).unwrap_or_default()
                );
                continue;
            }
        };
        eprintln!(
            "notify: {what} {} to team `{}` via {} (${}){}",
            crate::report::plural(s.events.len(), "event"),
            s.team,
            s.channel,
            s.env,
            s.error
                .as_deref()
                .map(|e| format!(": {e}; will retry on the next run"))
                .unwrap_or_default()
        );
        if s.status == SentStatus::WouldSend {
            for e in &s.events {
                eprintln!("notify:   {e}");
            }
        }
    }
}

/// Removes a secret (and, for URLs, its path and query) from a text.
pub fn redact(text: &str, secret: &str) -> String {
    if secret.len() < 4 {
        return text.to_string();
    }
    let mut t = text.replace(secret, "***");
    // A URL secret may show up without its query, or with a different scheme case.
    if let Some((_, rest)) = secret.split_once("://") {
        if rest.len() >= 4 {
            t = t.replace(rest, "***");
        }
    }
    t
}

/// Plain-text heading of a digest.
pub fn heading(team: &str, events: &[Event]) -> String {
    format!(
        "Railyard: {} for team {team}",
        crate::report::plural(events.len(), "guardrail event")
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evaluate::Verdict;
    use crate::ledger::{Ledger, LedgerEntry};

    fn event(team: &str, guardrail: &str, workload: &str, key: &str) -> Event {
        Event {
            key: key.into(),
            kind: EventKind::New,
            guardrail: guardrail.into(),
            title: "t".into(),
            severity: None,
            workload: workload.into(),
            team: team.into(),
            deadline: None,
            days_left: None,
            remediation: String::new(),
            url: String::new(),
            resources: Vec::new(),
            exception: None,
            summary: "s".into(),
            repo: String::new(),
        }
    }

    fn monday() -> Day {
        Day::parse("2026-11-30").unwrap()
    }

    fn registry() -> Registry {
        crate::workload::registry::parse(
            "workloads.toml",
            "[[workload]]\nname = \"a\"\nrepo = \"./a\"\nteam = \"web\"\n[[workload]]\nname = \"b\"\nrepo = \"./b\"\nteam = \"pay\"\n\
             [team.web]\nslack_webhook_env = \"WEB_SLACK\"\ngithub_token_env = \"WEB_GH\"\n[team.pay]\nwebhook_env = \"PAY_HOOK\"\n[team.quiet]\n",
        )
        .unwrap()
    }

    #[test]
    fn digest_groups_per_team_and_channel_and_per_issue_for_github() {
        let events = vec![
            event("web", "g1", "a", "new:2026-11-01"),
            event("web", "g2", "a", "new:2026-11-01"),
            event("pay", "g1", "b", "new:2026-11-01"),
            event("quiet", "g1", "c", "new:2026-11-01"),
        ];
        let plan = plan(&events, &registry(), &Ledger::new(), monday());
        let summary: Vec<(String, &str, usize)> = plan
            .iter()
            .map(|p| (p.team.clone(), p.channel.name(), p.events.len()))
            .collect();
        assert_eq!(
            summary,
            vec![
                ("pay".to_string(), "webhook", 1),
                ("web".to_string(), "slack", 2),
                ("web".to_string(), "github", 1),
                ("web".to_string(), "github", 1),
            ]
        );
    }

    #[test]
    fn delivered_events_are_not_planned_again_per_channel() {
        let events = vec![
            event("web", "g1", "a", "new:2026-11-01"),
            event("web", "g2", "a", "new:2026-11-01"),
        ];
        let mut ledger = Ledger::new();
        let mut e = LedgerEntry {
            guardrail: "g1".into(),
            workload: "a".into(),
            team: "web".into(),
            status: Verdict::Noncompliant,
            findings: vec![],
            excepted: vec![],
            problems: vec![],
            first_seen: None,
            deadline: None,
            legacy_last_seen: Default::default(),
            legacy_last_observed: Default::default(),
            resolved: None,
            activated: None,
            workload_commit: String::new(),
            notified: Default::default(),
            claimed: Default::default(),
            queued: Default::default(),
        };
        e.notified
            .insert("new:2026-11-01@slack".into(), Day::parse("2026-11-01").unwrap());
        ledger.entries.insert(crate::ledger::key("g1", "a"), e);
        let plan = plan(&events, &registry(), &ledger, monday());
        let slack = plan.iter().find(|p| p.channel.name() == "slack").unwrap();
        assert_eq!(slack.events.len(), 1);
        assert_eq!(slack.events[0].guardrail, "g2");
        // GitHub never delivered g1: still planned there.
        assert_eq!(plan.iter().filter(|p| p.channel.name() == "github").count(), 2);

        let sent = vec![Sent {
            team: "web".into(),
            channel: "slack".into(),
            env: "WEB_SLACK".into(),
            status: SentStatus::Sent,
            events: vec![],
            error: None,
            record: vec![
                (crate::ledger::key("g1", "a"), "x@slack".into()),
                (crate::ledger::key("nope", "a"), "y@slack".into()),
            ],
            queue: vec![],
            period: None,
        }];
        assert_eq!(
            record(&mut ledger, &sent, Day::parse("2026-11-02").unwrap(), run_id()),
            1
        );
        assert!(ledger.entries[&crate::ledger::key("g1", "a")]
            .notified
            .contains_key("x@slack"));
    }

    #[test]
    fn severity_floors_routes_and_digest_order() {
        let reg = crate::workload::registry::parse(
            "workloads.toml",
            "[team.web]\nmin_severity = \"medium\"\nslack_webhook_env = \"S\"\nwebhook_env = \"H\"\n\
             webhook_min_severity = \"high\"\n[team.web.severity.critical]\nwebhook_env = \"PAGER\"\n\
             [team.web.severity.low]\nslack_webhook_env = \"DIGEST\"\n",
        )
        .unwrap();
        let day = |d: &str| Some(Day::parse(d).unwrap());
        let mut events = Vec::new();
        for (g, sev, deadline) in [
            ("low", Some(Severity::Low), day("2026-11-05")),
            ("med-late", Some(Severity::Medium), day("2026-12-20")),
            ("unknown", None, None),
            ("crit", Some(Severity::Critical), day("2026-12-31")),
            ("med-soon", Some(Severity::Medium), day("2026-11-10")),
            ("high", Some(Severity::High), None),
        ] {
            let mut e = event("web", g, "a", "new:2026-11-01");
            e.severity = sev;
            e.deadline = deadline;
            events.push(e);
        }
        let plan = plan(&events, &reg, &Ledger::new(), monday());
        let got: Vec<(String, Vec<&str>)> = plan
            .iter()
            .map(|p| (p.label(), p.events.iter().map(|e| e.guardrail.as_str()).collect()))
            .collect();
        let want: Vec<(String, Vec<&str>)> = vec![
            ("slack".into(), vec!["crit", "high", "med-soon", "med-late", "unknown"]),
            ("webhook".into(), vec!["crit", "high", "unknown"]),
            ("webhook.critical".into(), vec!["crit"]),
            ("slack.low".into(), vec!["low"]),
        ];
        assert_eq!(got, want);
        let markers = planned_markers(&events, &reg, &Ledger::new(), monday());
        assert!(markers.iter().any(|(_, m)| m == "new:2026-11-01@webhook.critical"));
    }

    /// The weekly digest follows the run's day, not the ledger's clock (`enforce` notifies
    /// with a ledger whose clock it did not commit): queued events wait while the week's
    /// digest is out, join the next week's, and leave the queue once sent; a failed digest
    /// keeps them queued.
    #[test]
    fn weekly_digest_holds_then_sends_queued_events_by_the_runs_day() {
        let reg = crate::workload::registry::parse(
            "workloads.toml",
            "[[workload]]\nname = \"a\"\nrepo = \"./a\"\nteam = \"web\"\n\
             [team.web]\n[team.web.severity.low]\nwebhook_env = \"LOW\"\n",
        )
        .unwrap();
        let d = |s: &str| Day::parse(s).unwrap();
        let mut ledger = Ledger::new();
        ledger.clock = Some(d("2026-11-20"));
        let entry = |g: &str| LedgerEntry {
            guardrail: g.into(),
            workload: "a".into(),
            team: "web".into(),
            status: Verdict::Noncompliant,
            findings: vec![],
            excepted: vec![],
            problems: vec![],
            first_seen: None,
            deadline: None,
            legacy_last_seen: Default::default(),
            legacy_last_observed: Default::default(),
            resolved: None,
            activated: None,
            workload_commit: String::new(),
            notified: Default::default(),
            claimed: Default::default(),
            queued: Default::default(),
        };
        for g in ["old", "new"] {
            ledger.entries.insert(crate::ledger::key(g, "a"), entry(g));
        }
        let mut old = event("web", "old", "a", "new:2026-12-01");
        old.severity = Some(Severity::Low);
        old.deadline = Some(d("2026-12-31"));
        let mut new = event("web", "new", "a", "new:2026-12-02");
        new.severity = Some(Severity::Low);
        new.deadline = Some(d("2026-12-20"));
        ledger
            .entries
            .get_mut(&crate::ledger::key("old", "a"))
            .unwrap()
            .queued
            .insert(
                "new:2026-12-01@webhook.low".into(),
                crate::ledger::Queued {
                    on: d("2026-12-01"),
                    event: serde_json::to_value(&old).unwrap(),
                },
            );
        ledger.digests.entry("web@webhook.low".into()).or_default().sent = Some(d("2026-11-30"));
        // Same week as the last digest: held, with the queued event and this run's.
        let plan_on = |today: &str, ledger: &Ledger| plan(std::slice::from_ref(&new), &reg, ledger, d(today));
        let held = plan_on("2026-12-03", &ledger);
        assert_eq!(held.len(), 1);
        assert!(held[0].hold);
        // Next week: due, nearest deadline first, though the ledger's clock is older.
        let due = plan_on("2026-12-08", &ledger);
        assert!(!due[0].hold);
        let order: Vec<&str> = due[0].events.iter().map(|e| e.guardrail.as_str()).collect();
        assert_eq!(order, ["new", "old"]);
        let mut wanted = planned_markers(std::slice::from_ref(&new), &reg, &ledger, d("2026-12-08"));
        wanted.sort();
        let mut claimed = ledger.clone();
        assert_eq!(claim(&mut claimed, &wanted, "run-1", d("2026-12-08")).len(), 2);
        let period = &claimed.digests["web@webhook.low"].claim;
        assert_eq!(
            period.as_ref().map(|c| (c.period, c.by.as_str())),
            Some((d("2026-12-07"), "run-1"))
        );
        // Another run that week: run-1 holds the events, it sends them; nothing for the other.
        let other = plan(std::slice::from_ref(&new), &reg, &claimed, d("2026-12-09"));
        assert!(other.is_empty());
        // With an event of its own, the other run holds it for the next week.
        let mut third = new.clone();
        third.guardrail = "third".into();
        third.key = "new:2026-12-09".into();
        let other = plan(std::slice::from_ref(&third), &reg, &claimed, d("2026-12-09"));
        assert!(other[0].hold, "run-1 holds this week's digest");

        // A failed digest keeps both queued; a sent one empties the queue and marks the week.
        let sent = |status: SentStatus| Sent {
            team: "web".into(),
            channel: "webhook.low".into(),
            env: "LOW".into(),
            status,
            events: vec![],
            error: None,
            record: wanted.clone(),
            queue: due[0]
                .events
                .iter()
                .map(|e| {
                    (
                        e.ledger_key(),
                        format!("{}@webhook.low", e.key),
                        serde_json::to_value(e).unwrap(),
                    )
                })
                .collect(),
            period: Some(("web@webhook.low".into(), d("2026-12-07"))),
        };
        let mut failed = claimed.clone();
        record(&mut failed, &[sent(SentStatus::Failed)], d("2026-12-08"), "run-1");
        let queued = |l: &Ledger| l.entries.values().map(|e| e.queued.len()).sum::<usize>();
        assert_eq!(queued(&failed), 2);
        assert_eq!(failed.digests["web@webhook.low"].sent, Some(d("2026-11-30")));
        assert!(
            failed.digests["web@webhook.low"].claim.is_none(),
            "the claim is released"
        );
        let mut ok = claimed.clone();
        assert_eq!(record(&mut ok, &[sent(SentStatus::Sent)], d("2026-12-08"), "run-1"), 2);
        assert_eq!(queued(&ok), 0);
        assert_eq!(ok.digests["web@webhook.low"].sent, Some(d("2026-12-07")));
        assert!(plan_on("2026-12-10", &ok).is_empty(), "nothing left to send this week");
    }

    #[test]
    fn sent_statuses_are_written_as_before() {
        for (st, word) in [
            (SentStatus::Sent, "sent"),
            (SentStatus::Failed, "failed"),
            (SentStatus::WouldSend, "would-send"),
            (SentStatus::NotConfigured, "not-configured"),
            (SentStatus::Queued, "queued"),
            (SentStatus::WouldQueue, "would-queue"),
        ] {
            assert_eq!(st.to_string(), word);
            assert_eq!(serde_json::to_value(st).unwrap(), word);
        }
    }

    #[test]
    fn redacts_secrets() {
        let url = "http://127.0.0.1:9/hooks/T000/secret-token";
        assert_eq!(redact(&format!("error sending to {url}"), url), "error sending to ***");
        assert!(!redact("to HTTP://127.0.0.1:9/hooks/T000/secret-token", url).contains("secret-token"));
    }
}
