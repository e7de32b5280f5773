//! Microsoft Teams incoming webhook (Workflows or the legacy connector): a message with one
//! Adaptive Card, one digest per team. The URL comes from the env var named by
//! `teams_webhook_env`.

use super::{heading, BoxFuture, Channel, Delivery, SendError};
use crate::workload::registry::Team;
use serde_json::{json, Value};

pub struct Teams;

impl Channel for Teams {
    fn name(&self) -> &'static str {
        "teams"
    }

    fn secret_env<'t>(&self, team: &'t Team) -> Option<&'t str> {
        team.teams_webhook_env.as_deref()
    }

    fn deliver<'a>(&'a self, d: &'a Delivery) -> BoxFuture<'a, Result<(), SendError>> {
        Box::pin(async move { d.http.post_json(d.secret(), &payload(d), &[]).await.map(|_| ()) })
    }
}

pub fn payload(d: &Delivery) -> Value {
    let mut body = vec![
        json!({"type": "TextBlock", "size": "Large", "weight": "Bolder", "wrap": true, "text": crate::report::escape::line(&heading(&d.team, &d.events))}),
    ];
    for e in &d.events {
        // Control characters from workload or policy text are shown escaped, never sent raw.
        let lines: Vec<String> = e
            .lines()
            .iter()
            .map(|l| crate::report::escape::line(l).into_owned())
            .collect();
        body.push(json!({"type": "TextBlock", "weight": "Bolder", "wrap": true, "separator": true, "text": lines[0]}));
        if lines.len() > 1 {
            body.push(json!({"type": "TextBlock", "wrap": true, "text": lines[1..].join("\n\n")}));
        }
    }
    json!({
        "type": "message",
        "attachments": [{
            "contentType": "application/vnd.microsoft.card.adaptive",
            "contentUrl": null,
            "content": {
                "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                "type": "AdaptiveCard",
                "version": "1.4",
                "body": body
            }
        }]
    })
}
