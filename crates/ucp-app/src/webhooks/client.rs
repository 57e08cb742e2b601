use std::path::PathBuf;
use std::sync::Arc;

use super::target_policy::{PolicyResolver, TargetPolicy};

/// How webhook targets are reached. Deliveries carry patient data: they go over TLS
/// (rustls, with the system's roots plus any configured), an `http://` target is refused
/// unless explicitly allowed, and redirects are never followed (a redirect could send the
/// data somewhere nobody subscribed). Targets are checked against [`TargetPolicy`] when
/// subscribed and on every connection.
#[derive(Debug, Clone, Default)]
pub struct WebhookTls {
    /// Accept `http://` targets (tests, or a receiver on the same host).
    pub allow_http: bool,
    /// Extra trusted roots (PEM), for receivers whose certificates a private CA signed.
    pub ca_file: Option<PathBuf>,
    /// `UCP_WEBHOOK_ALLOW`: where deliveries may go.
    pub allow: TargetPolicy,
}

/// Why the webhook client could not be built.
#[derive(Debug, thiserror::Error)]
pub enum WebhookClientError {
    #[error("cannot read the webhook CA file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the webhook CA file {path} holds no usable certificate: {reason}")]
    Certificate { path: PathBuf, reason: String },
    #[error("cannot build the webhook HTTP client: {0}")]
    Build(String),
}

/// The client every delivery uses, and whether plain HTTP targets are allowed.
#[derive(Debug, Clone)]
pub struct WebhookClient {
    pub http: reqwest::Client,
    pub allow_http: bool,
    pub policy: Arc<TargetPolicy>,
}

impl WebhookClient {
    /// # Errors
    /// When the CA file cannot be read or parsed, or TLS cannot be set up.
    pub fn new(tls: &WebhookTls) -> Result<Self, WebhookClientError> {
        crate::tls::install_crypto_provider();
        let policy = Arc::new(tls.allow.clone());
        let mut builder = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .https_only(!tls.allow_http)
            // Names resolve only to permitted addresses, at every connection.
            .dns_resolver(Arc::new(PolicyResolver {
                policy: Arc::clone(&policy),
            }));
        if let Some(path) = &tls.ca_file {
            let pem = std::fs::read(path).map_err(|source| WebhookClientError::Read {
                path: path.clone(),
                source,
            })?;
            let certs = reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| {
                WebhookClientError::Certificate {
                    path: path.clone(),
                    reason: e.to_string(),
                }
            })?;
            if certs.is_empty() {
                return Err(WebhookClientError::Certificate {
                    path: path.clone(),
                    reason: "no certificate found".into(),
                });
            }
            builder = builder.tls_certs_merge(certs);
        }
        let http = builder
            .build()
            .map_err(|e| WebhookClientError::Build(e.to_string()))?;
        Ok(Self {
            http,
            allow_http: tls.allow_http,
            policy,
        })
    }
}
