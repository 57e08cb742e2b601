//! Nothing about the person changes without them knowing: a notifier follows the feed, like the
//! NRL publisher (one leader, its own checkpoint), and tells the person through NHS Notify, and
//! their GP practice through a signed message to the practice's endpoint (standing in for MESH),
//! of the changes that matter. What it tells whom is `ucp_domain::notifications`; messages wait
//! in an outbox (the person's changes within a window coalesce into one), are retried with
//! backoff, and are parked as dead letters that an admin redelivers. Each message sent is an
//! access-log entry against the person. Off unless `UCP_NOTIFY_URL` or `UCP_NOTIFY_PRACTICES` is
//! set.

pub mod client;
pub mod dead_letters;
pub mod messages;
pub mod notifier;
pub mod preferences;

use std::collections::HashMap;
use std::time::Duration;

use serde::Deserialize;
use uuid::Uuid;

/// A GP practice's endpoint: where its messages go, and the secret they are signed with.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PracticeTarget {
    /// The practice's ODS code.
    pub ods: String,
    pub url: String,
    /// At least 32 characters: messages carry `X-UCP-Signature` (HMAC-SHA256, as webhooks).
    pub secret: String,
}

/// The practices told of changes, by ODS code (`UCP_NOTIFY_PRACTICES`, a TOML file of
/// `[[practice]]` tables: `ods`, `url`, `secret`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Practices(HashMap<String, PracticeTarget>);

/// Why the practices file cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("UCP_NOTIFY_PRACTICES: {0}")]
pub struct PracticesError(String);

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PracticesFile {
    #[serde(default)]
    practice: Vec<PracticeTarget>,
}

impl Practices {
    /// Reads the TOML file's text.
    ///
    /// # Errors
    /// Not TOML of that shape, an ODS code that is not one, a URL that is not, a short secret, or
    /// a practice named twice.
    pub fn parse(text: &str, allow_http: bool) -> Result<Self, PracticesError> {
        let file: PracticesFile =
            toml::from_str(text).map_err(|e| PracticesError(e.to_string()))?;
        let mut practices = HashMap::new();
        for p in file.practice {
            let ods = ucp_domain::OdsCode::parse(&p.ods)
                .map_err(|e| PracticesError(format!("{:?}: {e}", p.ods)))?
                .to_string();
            let url =
                reqwest::Url::parse(&p.url).map_err(|e| PracticesError(format!("{ods}: {e}")))?;
            if url.scheme() != "https" && !(url.scheme() == "http" && allow_http) {
                return Err(PracticesError(format!(
                    "{ods}: the URL must be https (UCP_NOTIFY_ALLOW_HTTP=true only for a local stand-in)"
                )));
            }
            if p.secret.len() < 32 {
                return Err(PracticesError(format!(
                    "{ods}: the secret must be at least 32 characters"
                )));
            }
            let target = PracticeTarget {
                ods: ods.clone(),
                ..p
            };
            if practices.insert(ods.clone(), target).is_some() {
                return Err(PracticesError(format!("{ods} is named twice")));
            }
        }
        Ok(Self(practices))
    }

    #[must_use]
    pub fn get(&self, ods: &str) -> Option<&PracticeTarget> {
        self.0.get(&ods.to_uppercase())
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// How the notifier tells, and whom.
#[derive(Debug, Clone)]
pub struct NotifyConfig {
    /// NHS Notify's base (`https://api.service.nhs.uk/comms`); messages are `POST`ed to
    /// `{base}/v1/messages`. None: the person is not told.
    pub notify_url: Option<String>,
    /// NHS Notify's bearer token (API Management's, for this service's application).
    pub bearer_token: Option<String>,
    /// A file holding the bearer token, read at every message (a sidecar renews it); wins over
    /// `bearer_token`.
    pub bearer_token_file: Option<std::path::PathBuf>,
    /// The routing plan agreed with NHS Notify at onboarding (its template holds the words).
    pub routing_plan_id: Uuid,
    pub practices: Practices,
    /// The person's changes within this window of the first are told in one message.
    pub window: Duration,
    /// Attempts before a message is parked; at least 1.
    pub max_attempts: u32,
    /// The first retry's delay, doubling up to `max_backoff`.
    pub base_backoff: Duration,
    pub max_backoff: Duration,
    /// Accept `http://` (a local stand-in only).
    pub allow_http: bool,
    /// A receiver that has not answered by then has failed this attempt.
    pub timeout: Duration,
    /// How often the notifier looks for new changes and for messages due.
    pub interval: Duration,
}

impl NotifyConfig {
    /// Whether anyone is to be told: NHS Notify or a practice configured.
    #[must_use]
    pub fn enabled(&self) -> bool {
        self.notify_url.is_some() || !self.practices.is_empty()
    }

    /// The delay before the `attempt`-th retry.
    #[must_use]
    pub fn backoff(&self, attempt: u32) -> Duration {
        self.base_backoff
            .saturating_mul(2u32.saturating_pow(attempt.saturating_sub(1).min(20)))
            .min(self.max_backoff)
    }
}

impl Default for NotifyConfig {
    fn default() -> Self {
        Self {
            notify_url: None,
            bearer_token: None,
            bearer_token_file: None,
            routing_plan_id: Uuid::nil(),
            practices: Practices::default(),
            window: Duration::from_secs(600),
            max_attempts: 8,
            base_backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(300),
            allow_http: false,
            timeout: Duration::from_secs(10),
            interval: Duration::from_secs(1),
        }
    }
}
