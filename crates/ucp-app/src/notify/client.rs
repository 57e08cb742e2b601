//! Sends: to NHS Notify (`POST {base}/v1/messages`, JSON:API, bearer token) and to a practice's
//! endpoint (signed as webhooks are: `X-UCP-Timestamp`, `X-UCP-Signature`).

use serde_json::Value;
use uuid::Uuid;

use super::{NotifyConfig, PracticeTarget};

/// Why the client could not be built.
#[derive(Debug, thiserror::Error)]
pub enum NotifyClientError {
    #[error("UCP_NOTIFY_URL is not a usable URL: {0}")]
    Url(String),
    #[error(
        "UCP_NOTIFY_URL must be https (set UCP_NOTIFY_ALLOW_HTTP=true only for a local stand-in)"
    )]
    NotHttps,
    #[error("cannot build the notifier's HTTP client: {0}")]
    Build(String),
}

/// The notifier's HTTP client and settings.
#[derive(Debug, Clone)]
pub struct NotifyClient {
    http: reqwest::Client,
    pub config: NotifyConfig,
}

impl NotifyClient {
    /// # Errors
    /// When NHS Notify's URL is not usable or TLS cannot be set up.
    pub fn new(config: NotifyConfig) -> Result<Self, NotifyClientError> {
        crate::tls::install_crypto_provider();
        if let Some(url) = &config.notify_url {
            let url =
                reqwest::Url::parse(url).map_err(|e| NotifyClientError::Url(e.to_string()))?;
            if url.scheme() != "https" && !(url.scheme() == "http" && config.allow_http) {
                return Err(NotifyClientError::NotHttps);
            }
        }
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .https_only(!config.allow_http)
            .timeout(config.timeout)
            .build()
            .map_err(|e| NotifyClientError::Build(e.to_string()))?;
        Ok(Self { http, config })
    }

    /// Where the person's messages go.
    #[must_use]
    pub fn messages_url(&self) -> Option<String> {
        self.config
            .notify_url
            .as_ref()
            .map(|base| format!("{}/v1/messages", base.trim_end_matches('/')))
    }

    /// Sends the person's message request; NHS Notify answers 201 when it has it.
    ///
    /// # Errors
    /// The failure, in words, when it was not accepted.
    pub async fn to_person(&self, body: &Value, correlation: Uuid) -> Result<(), String> {
        let url = self
            .messages_url()
            .ok_or_else(|| "NHS Notify is not configured (UCP_NOTIFY_URL)".to_owned())?;
        let mut req = self
            .http
            .post(url)
            .header("Content-Type", "application/vnd.api+json")
            .header("Accept", "application/vnd.api+json")
            .header("X-Correlation-Id", correlation.to_string())
            .body(serde_json::to_vec(body).map_err(|e| e.to_string())?);
        if let Some(token) = self.token()? {
            req = req.bearer_auth(token);
        }
        match req.send().await {
            // NHS Notify refuses a message reference it has had (a retry after an answer that
            // was lost): that message was accepted.
            Ok(res) if res.status().as_u16() == 422 => {
                let text = res.text().await.unwrap_or_default();
                if text.to_lowercase().contains("duplicate") {
                    Ok(())
                } else {
                    Err(format!(
                        "answered 422: {}",
                        text.chars().take(200).collect::<String>()
                    ))
                }
            }
            other => answered(other).await,
        }
    }

    /// The bearer token: read from its file at every message when one is set (a sidecar renews
    /// API Management's short-lived tokens there), else the fixed one.
    fn token(&self) -> Result<Option<String>, String> {
        match &self.config.bearer_token_file {
            Some(path) => std::fs::read_to_string(path)
                .map(|t| Some(t.trim().to_owned()))
                .map_err(|e| format!("cannot read UCP_NOTIFY_TOKEN_FILE: {e}")),
            None => Ok(self.config.bearer_token.clone()),
        }
    }

    /// Sends the practice's message, signed with its secret.
    ///
    /// # Errors
    /// The failure, in words, when it was not accepted.
    pub async fn to_practice(&self, target: &PracticeTarget, body: &Value) -> Result<(), String> {
        let bytes = serde_json::to_vec(body).map_err(|e| e.to_string())?;
        let timestamp = chrono::Utc::now().timestamp();
        let signature =
            crate::webhooks::signature::sign(target.secret.as_bytes(), timestamp, &bytes);
        let req = self
            .http
            .post(&target.url)
            .header("Content-Type", "application/json")
            .header("X-UCP-Timestamp", timestamp.to_string())
            .header("X-UCP-Signature", signature)
            .body(bytes);
        answered(req.send().await).await
    }
}

async fn answered(res: Result<reqwest::Response, reqwest::Error>) -> Result<(), String> {
    match res {
        Ok(res) if res.status().is_success() => Ok(()),
        Ok(res) => Err(format!("answered {}", res.status().as_u16())),
        Err(e) => Err(if e.is_timeout() {
            "timed out".to_owned()
        } else {
            format!("could not be reached: {e}")
        }),
    }
}
