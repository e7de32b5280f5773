//! Slack incoming webhook: `{"text", "blocks"}`, one digest per team. The webhook URL comes
//! from the env var named by `slack_webhook_env`.

use super::{heading, BoxFuture, Channel, Delivery, SendError};
use crate::workload::registry::Team;
use serde_json::{json, Value};

/// Slack accepts at most 50 blocks per message.
const MAX_EVENTS: usize = 45;

pub struct Slack;

impl Channel for Slack {
    fn name(&self) -> &'static str {
        "slack"
    }

    fn secret_env<'t>(&self, team: &'t Team) -> Option<&'t str> {
        team.slack_webhook_env.as_deref()
    }

    fn deliver<'a>(&'a self, d: &'a Delivery) -> BoxFuture<'a, Result<(), SendError>> {
        Box::pin(async move { d.http.post_json(d.secret(), &payload(d), &[]).await.map(|_| ()) })
    }
}

pub fn payload(d: &Delivery) -> Value {
    // Workload and policy text goes into mrkdwn: escaped so it cannot ping (`<!channel>`),
    // link (`<url|text>`) or carry control characters.
    let esc = crate::report::escape::slack;
    let title = crate::report::escape::line(&heading(&d.team, &d.events)).into_owned();
    let mut blocks = vec![json!({"type": "header", "text": {"type": "plain_text", "text": title}})];
    for e in d.events.iter().take(MAX_EVENTS) {
        let mut lines: Vec<String> = e.lines().iter().map(|l| esc(l)).collect();
        lines[0] = format!("*{}*", lines[0]);
        blocks.push(json!({"type": "section", "text": {"type": "mrkdwn", "text": lines.join("\n")}}));
    }
    if d.events.len() > MAX_EVENTS {
        blocks.push(json!({"type": "context", "elements": [{"type": "mrkdwn", "text": format!("…and {} more (see `railyard report --team {}`)", d.events.len() - MAX_EVENTS, d.team)}]}));
    }
    let text = std::iter::once(esc(&title))
        .chain(d.events.iter().map(|e| format!("• {}", esc(&e.summary))))
        .collect::<Vec<_>>()
        .join("\n");
    json!({"text": text, "blocks": blocks})
}
