//! The HTTP client every channel uses: a per-request timeout, retries with exponential
//! backoff on 429, 5xx, timeouts and connection errors, honouring `Retry-After` (seconds).
//! Errors name what failed, never the URL (which is the secret for webhooks) nor the
//! response body (which may echo it).

use std::time::Duration;

/// Attempts per request (the first one included).
pub const ATTEMPTS: u32 = 3;
/// Longest wait honoured from `Retry-After`, and the cap of the backoff.
pub const MAX_WAIT: Duration = Duration::from_secs(30);

#[derive(Debug, thiserror::Error)]
pub enum SendError {
    #[error("HTTP {status} after {attempts} attempt(s){detail}")]
    Status { status: u16, attempts: u32, detail: String },
    #[error("{what} after {attempts} attempt(s)")]
    Transport { what: String, attempts: u32 },
    #[error("{0}")]
    Other(String),
}

pub struct Http {
    client: reqwest::Client,
    /// First backoff step (doubled each retry).
    base_backoff: Duration,
}

/// The HTTP client could not be built (e.g. no TLS roots); nothing can be sent.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ClientError(reqwest::Error);

/// A response worth reading (2xx).
pub struct Response {
    pub body: String,
}

impl Http {
    pub fn new(timeout: Duration) -> Result<Http, ClientError> {
        // rustls is built without a default crypto provider (a lighter build): install ring's.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            // A redirect is a failure, never followed: a webhook that moved must be updated
            // by its owner, and a POST re-sent elsewhere could reach anyone.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("railyard/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| ClientError(e.without_url()))?;
        Ok(Http {
            client,
            base_backoff: Duration::from_millis(500),
        })
    }

    /// Sends a request built by `build` (called again for each attempt), retrying transient
    /// failures. Non-retryable statuses (4xx other than 429) fail at once.
    pub async fn send(
        &self,
        build: impl Fn(&reqwest::Client) -> reqwest::RequestBuilder,
    ) -> Result<Response, SendError> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let last = attempt >= ATTEMPTS;
            match build(&self.client).send().await {
                Ok(resp) => {
                    let status = resp.status().as_u16();
                    let retry_after = resp
                        .headers()
                        .get(reqwest::header::RETRY_AFTER)
                        .and_then(|v| v.to_str().ok())
                        .and_then(parse_retry_after);
                    if (200..300).contains(&status) {
                        let body = resp.text().await.unwrap_or_default();
                        return Ok(Response { body });
                    }
                    let retryable = status == 429 || status >= 500;
                    if !retryable || last {
                        // The body is not shown: endpoints echo the request URL (the secret
                        // of a webhook) or tokens in their error pages.
                        return Err(SendError::Status {
                            status,
                            attempts: attempt,
                            detail: String::new(),
                        });
                    }
                    tokio::time::sleep(retry_after.unwrap_or_else(|| backoff(self.base_backoff, attempt))).await;
                }
                Err(e) => {
                    let what = if e.is_timeout() {
                        "timed out".to_string()
                    } else if e.is_connect() {
                        "could not connect".to_string()
                    } else {
                        format!("request failed ({})", e.without_url())
                    };
                    if last {
                        return Err(SendError::Transport {
                            what,
                            attempts: attempt,
                        });
                    }
                    tokio::time::sleep(backoff(self.base_backoff, attempt)).await;
                }
            }
        }
    }
}

impl Http {
    /// The one JSON poster every channel uses: `payload` as the body of a POST to `url` with
    /// `content-type: application/json` and `headers`, sent and retried as [`Http::send`] does.
    pub async fn post_json(
        &self,
        url: &str,
        payload: &serde_json::Value,
        headers: &[(&str, &str)],
    ) -> Result<Response, SendError> {
        let body = serde_json::to_vec(payload).map_err(|e| SendError::Other(e.to_string()))?;
        self.send(|c| {
            let mut r = c.post(url).header("content-type", "application/json");
            for (name, value) in headers {
                r = r.header(*name, *value);
            }
            r.body(body.clone())
        })
        .await
    }
}

/// `Retry-After` in seconds (the HTTP-date form is not honoured: the backoff applies).
pub fn parse_retry_after(value: &str) -> Option<Duration> {
    let secs: u64 = value.trim().parse().ok()?;
    Some(Duration::from_secs(secs).min(MAX_WAIT))
}

/// The wait before attempt `attempt + 1`: base × 2^(attempt-1), capped.
pub fn backoff(base: Duration, attempt: u32) -> Duration {
    base.saturating_mul(1 << attempt.saturating_sub(1).min(16))
        .min(MAX_WAIT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_seconds_only() {
        assert_eq!(parse_retry_after("1"), Some(Duration::from_secs(1)));
        assert_eq!(parse_retry_after(" 7 "), Some(Duration::from_secs(7)));
        assert_eq!(parse_retry_after("3600"), Some(MAX_WAIT));
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), None);
        assert_eq!(parse_retry_after("-1"), None);
        assert_eq!(parse_retry_after(""), None);
    }

    #[test]
    fn backoff_doubles_and_caps() {
        let b = Duration::from_millis(500);
        assert_eq!(backoff(b, 1), Duration::from_millis(500));
        assert_eq!(backoff(b, 2), Duration::from_secs(1));
        assert_eq!(backoff(b, 3), Duration::from_secs(2));
        assert_eq!(backoff(b, 30), MAX_WAIT);
    }
}
