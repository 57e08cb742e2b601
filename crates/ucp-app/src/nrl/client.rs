use std::time::Duration;

use ucp_fhir::{FhirSettings, PointerChange};
use uuid::Uuid;

/// Where and how to publish (`UCP_NRL_URL` and friends). Off when there is no URL.
#[derive(Debug, Clone)]
pub struct NrlConfig {
    /// The NRL producer API's FHIR base, e.g.
    /// `https://api.service.nhs.uk/record-locator/producer/FHIR/R4`.
    pub url: String,
    /// A bearer token for the NRL (in production, the access token API Management issues for
    /// this service's application); sent as `Authorization: Bearer …` when set.
    pub bearer_token: Option<String>,
    /// A file holding the bearer token, read at every request (a sidecar that renews the
    /// API Management token writes it); wins over `bearer_token`.
    pub bearer_token_file: Option<std::path::PathBuf>,
    /// Attempts before a pointer change is parked; at least 1.
    pub max_attempts: u32,
    /// Accept an `http://` URL (tests, or a local NRL stand-in).
    pub allow_http: bool,
    /// A receiver that has not answered by then has failed this attempt.
    pub timeout: Duration,
}

/// Why the NRL client could not be built.
#[derive(Debug, thiserror::Error)]
pub enum NrlClientError {
    #[error("UCP_NRL_URL is not a usable URL: {0}")]
    Url(String),
    #[error("UCP_NRL_URL must be https (set UCP_NRL_ALLOW_HTTP=true only for a local stand-in)")]
    NotHttps,
    #[error("cannot build the NRL HTTP client: {0}")]
    Build(String),
}

/// Sends pointer changes to the NRL producer API.
#[derive(Debug, Clone)]
pub struct NrlClient {
    http: reqwest::Client,
    pub config: NrlConfig,
    pub settings: FhirSettings,
}

impl NrlClient {
    /// # Errors
    /// When the URL is not usable or TLS cannot be set up.
    pub fn new(config: NrlConfig, settings: FhirSettings) -> Result<Self, NrlClientError> {
        crate::tls::install_crypto_provider();
        let url =
            reqwest::Url::parse(&config.url).map_err(|e| NrlClientError::Url(e.to_string()))?;
        if url.scheme() != "https" && !(url.scheme() == "http" && config.allow_http) {
            return Err(NrlClientError::NotHttps);
        }
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .https_only(!config.allow_http)
            .timeout(config.timeout)
            .build()
            .map_err(|e| NrlClientError::Build(e.to_string()))?;
        Ok(Self {
            http,
            config,
            settings,
        })
    }

    /// Where a pointer lives at the NRL.
    #[must_use]
    pub fn pointer_url(&self, id: &str) -> String {
        format!(
            "{}/DocumentReference/{id}",
            self.config.url.trim_end_matches('/')
        )
    }

    async fn call(
        &self,
        method: reqwest::Method,
        url: String,
        body: Option<&serde_json::Value>,
        correlation: Uuid,
    ) -> Result<u16, String> {
        let mut req = self
            .http
            .request(method, url)
            .header("accept", "application/fhir+json")
            // The NRL's producer API names the organisation acting, and traces each request.
            .header(
                "nhsd-end-user-organisation-ods",
                &self.settings.custodian_ods,
            )
            .header("x-request-id", Uuid::now_v7().to_string())
            .header("x-correlation-id", correlation.to_string());
        if let Some(path) = &self.config.bearer_token_file {
            let token = tokio::fs::read_to_string(path)
                .await
                .map_err(|e| format!("cannot read the NRL token file {}: {e}", path.display()))?;
            req = req.bearer_auth(token.trim());
        } else if let Some(token) = &self.config.bearer_token {
            req = req.bearer_auth(token);
        }
        if let Some(body) = body {
            let bytes = serde_json::to_vec(body).map_err(|e| e.to_string())?;
            req = req
                .header("content-type", "application/fhir+json")
                .body(bytes);
        }
        let res = req.send().await.map_err(|e| {
            if e.is_timeout() {
                "the NRL timed out".to_owned()
            } else {
                format!("could not reach the NRL: {e}")
            }
        })?;
        Ok(res.status().as_u16())
    }

    /// One attempt at one change. A create the NRL already has (409: an earlier attempt got
    /// through unacknowledged) becomes an update; an update of a pointer it does not have (404)
    /// becomes a create; deleting a pointer it does not have is done.
    ///
    /// # Errors
    /// A short description of the failure.
    pub async fn send(&self, change: &PointerChange, correlation: Uuid) -> Result<(), String> {
        use reqwest::Method;
        let collection = format!(
            "{}/DocumentReference",
            self.config.url.trim_end_matches('/')
        );
        let ok = |s: u16| (200..300).contains(&s);
        let status = match change {
            PointerChange::Create(r) => {
                let s = self
                    .call(Method::POST, collection.clone(), Some(&r.json), correlation)
                    .await?;
                if s == 409 {
                    self.call(
                        Method::PUT,
                        self.pointer_url(&r.id),
                        Some(&r.json),
                        correlation,
                    )
                    .await?
                } else {
                    s
                }
            }
            PointerChange::Update(r) => {
                let s = self
                    .call(
                        Method::PUT,
                        self.pointer_url(&r.id),
                        Some(&r.json),
                        correlation,
                    )
                    .await?;
                if s == 404 {
                    self.call(Method::POST, collection, Some(&r.json), correlation)
                        .await?
                } else {
                    s
                }
            }
            PointerChange::Delete(id) => {
                let s = self
                    .call(Method::DELETE, self.pointer_url(id), None, correlation)
                    .await?;
                if s == 404 {
                    204
                } else {
                    s
                }
            }
        };
        if ok(status) {
            Ok(())
        } else {
            Err(format!("the NRL answered {status}"))
        }
    }
}
