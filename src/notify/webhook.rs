//! The generic JSON webhook: the documented, versioned payload
//! `{"schema": "railyard.notification/v1", "team", "run", "events"}`, one digest per team,
//! signed with HMAC-SHA256 (`X-Railyard-Signature: sha256=<hex>`) when the team sets
//! `webhook_secret_env`.

use super::{BoxFuture, Channel, Delivery, SendError, SCHEMA};
use crate::workload::registry::Team;
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;

pub const SIGNATURE_HEADER: &str = "X-Railyard-Signature";

pub struct Webhook;

impl Channel for Webhook {
    fn name(&self) -> &'static str {
        "webhook"
    }

    fn secret_env<'t>(&self, team: &'t Team) -> Option<&'t str> {
        team.webhook_env.as_deref()
    }

    fn deliver<'a>(&'a self, d: &'a Delivery) -> BoxFuture<'a, Result<(), SendError>> {
        Box::pin(async move {
            let payload = payload(d);
            // The poster serialises `payload` the same way (serde_json::to_vec), so the
            // signature is over the exact bytes sent.
            let body = serde_json::to_vec(&payload).map_err(|e| SendError::Other(e.to_string()))?;
            let signature = d.signing_secret.as_deref().map(|s| sign(s.as_bytes(), &body));
            let mut headers = vec![("X-Railyard-Schema", SCHEMA)];
            if let Some(sig) = &signature {
                headers.push((SIGNATURE_HEADER, sig.as_str()));
            }
            d.http.post_json(d.secret(), &payload, &headers).await.map(|_| ())
        })
    }
}

pub fn payload(d: &Delivery) -> Value {
    json!({"schema": SCHEMA, "team": d.team, "run": d.run, "events": d.events})
}

/// `sha256=<hex of HMAC-SHA256(secret, body)>`
pub fn sign(secret: &[u8], body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes keys of any length");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

#[cfg(test)]
mod tests {
    #[test]
    fn signs_like_the_rfc_4231_vector() {
        // RFC 4231 test case 2.
        assert_eq!(
            super::sign(b"Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
