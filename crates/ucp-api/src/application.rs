use std::net::TcpListener;
use std::time::Duration;

use actix_web::dev::Server;
use actix_web::middleware::from_fn;
use actix_web::{web, App, HttpServer};
use tracing_actix_web::TracingLogger;

use utoipa::OpenApi;
use utoipa_swagger_ui::SwaggerUi;

use crate::problem::ApiError;
use crate::problem::ErrorCode;
use crate::routes::{
    audit, care_plans, feed, fhir, health, me, nrl, patients, proxies, residents, subscriptions,
    worklists,
};
use crate::ApiDoc;
use ucp_app::AppState;

/// How to serve.
#[derive(Debug, Clone)]
pub struct ApiConfig {
    /// Where to listen; port 0 picks a free port (tests).
    pub listen: String,
    /// How long in-flight requests may take to finish after SIGTERM/SIGINT.
    pub shutdown_timeout: Duration,
    pub workers: Option<usize>,
    /// Verifies bearer tokens.
    pub jwt: crate::JwtKeys,
    /// The trusted issuers of the identity configuration (`UCP_IDENTITY_CONFIG`), and the NHS
    /// login proofing a person needs.
    pub identity: std::sync::Arc<crate::auth::TrustedIssuers>,
    /// What a JSON body may be: size, read time, depth, string and list lengths.
    pub body_limits: crate::body::BodyLimits,
    /// How long a client has to send its request line and headers (actix answers 408 and
    /// closes the connection).
    pub header_timeout: Duration,
    /// How access-log entries are grouped into commits.
    pub audit: crate::audit::AuditConfig,
    /// How often a waiting feed reader polls when no wake-up arrives.
    pub feed_poll: Duration,
    /// Webhook delivery timeouts and backoff.
    pub delivery: crate::webhooks::DeliveryConfig,
    /// How webhook receivers are reached (TLS roots, whether `http://` is allowed).
    pub webhook_tls: crate::webhooks::WebhookTls,
    /// Where printed plans point (their link and QR code).
    pub print: ucp_app::print::PrintSettings,
    /// Requests a minute each token subject may make (0: no limit).
    pub rate_limit_per_minute: u32,
    /// Requests a minute from one client address that do not sign in (0: no limit).
    pub rate_limit_anonymous_per_minute: u32,
    /// Checks of printed copies a minute from one client address (0: no limit).
    pub check_rate_limit_per_minute: u32,
    /// The proxies whose `X-Forwarded-For` names the client (`UCP_TRUSTED_PROXIES`).
    pub trusted_proxies: crate::rate_limit::TrustedProxies,
    /// The FHIR facade's public address and the custodian ODS code of NRL pointers.
    pub fhir: ucp_fhir::FhirSettings,
    /// Where to publish NRL pointers; `None`: not published.
    pub nrl: Option<ucp_app::nrl::NrlConfig>,
    /// How the privacy officer's alerts are detected from the access log.
    pub alerts: ucp_app::alerts::AlertsConfig,
    /// Whom the notifier tells of changes, and how (off when neither NHS Notify nor a practice
    /// is configured).
    pub notify: ucp_app::notify::NotifyConfig,
}

impl Default for ApiConfig {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:8080".to_owned(),
            shutdown_timeout: Duration::from_secs(30),
            workers: None,
            jwt: crate::JwtKeys::hs256(b"development-only-secret"),
            identity: std::sync::Arc::default(),
            body_limits: crate::body::BodyLimits::default(),
            header_timeout: Duration::from_secs(5),
            audit: crate::audit::AuditConfig::default(),
            feed_poll: Duration::from_millis(500),
            delivery: crate::webhooks::DeliveryConfig::default(),
            webhook_tls: crate::webhooks::WebhookTls::default(),
            print: ucp_app::print::PrintSettings::default(),
            rate_limit_per_minute: 0,
            rate_limit_anonymous_per_minute: 0,
            check_rate_limit_per_minute: 30,
            trusted_proxies: crate::rate_limit::TrustedProxies::default(),
            fhir: ucp_fhir::FhirSettings::default(),
            nrl: None,
            alerts: ucp_app::alerts::AlertsConfig::default(),
            notify: ucp_app::notify::NotifyConfig::default(),
        }
    }
}

/// The server, bound and ready to run. Tests build exactly this, so what is tested is what runs.
pub struct Application {
    port: u16,
    server: Server,
    // Runs (and leads webhook deliveries) as long as the server does.
    _dispatcher: crate::webhooks::WebhookDispatcher,
    // Publishes NRL pointers while the server runs, when configured.
    _nrl: Option<ucp_app::nrl::NrlPublisher>,
    _alerts: Option<ucp_app::alerts::scanner::AlertScanner>,
    _notifier: Option<ucp_app::notify::notifier::Notifier>,
}

impl Application {
    /// Binds the listener and builds the server; nothing is served until
    /// [`Application::run_until_stopped`].
    ///
    /// # Errors
    /// When the address cannot be bound, or the webhook client cannot be built.
    pub fn build(config: &ApiConfig, state: AppState) -> std::io::Result<Self> {
        let listener = TcpListener::bind(&config.listen)?;
        let port = listener.local_addr()?.port();
        let writer =
            crate::audit::AuditWriter::start(state.db.clone(), config.audit, state.metrics.clone());
        let webhook_client = crate::webhooks::WebhookClient::new(&config.webhook_tls)
            .map_err(std::io::Error::other)?;
        let dispatcher = crate::webhooks::WebhookDispatcher::start(
            state.clone(),
            crate::webhooks::Exports {
                client: webhook_client.clone(),
                audit: writer.clone(),
            },
            config.delivery,
        );
        let nrl_client = config
            .nrl
            .clone()
            .map(|nrl| ucp_app::nrl::NrlClient::new(nrl, config.fhir.clone()))
            .transpose()
            .map_err(std::io::Error::other)?;
        let nrl = nrl_client.clone().map(|client| {
            ucp_app::nrl::NrlPublisher::start(
                state.clone(),
                client,
                writer.clone(),
                config.delivery,
            )
        });
        let alerts = config.alerts.enabled.then(|| {
            ucp_app::alerts::scanner::AlertScanner::start(state.clone(), config.alerts.clone())
        });
        let notify_client = config
            .notify
            .enabled()
            .then(|| ucp_app::notify::client::NotifyClient::new(config.notify.clone()))
            .transpose()
            .map_err(std::io::Error::other)?;
        let notifying = web::Data::new(crate::routes::notifications::Notifying(
            notify_client.is_some(),
        ));
        let notifier = notify_client
            .map(|client| ucp_app::notify::notifier::Notifier::start(state.clone(), client));
        let nrl_publishing = web::Data::new(crate::routes::nrl::NrlPublishing(nrl_client));
        let audit = web::Data::new(writer);
        let webhook_client = web::Data::new(webhook_client);
        let feed_poll = web::Data::new(crate::routes::feed::FeedPoll(config.feed_poll));
        let delivery = web::Data::new(config.delivery);
        let print = web::Data::new(config.print.clone());
        let fhir_settings = web::Data::new(config.fhir.clone());
        let data = web::Data::new(state);
        let jwt = web::Data::new(config.jwt.clone());
        let identity = web::Data::from(config.identity.clone());
        let rate_limit = web::Data::new(crate::rate_limit::SubjectRateLimit::per_minute(
            config.rate_limit_per_minute,
        ));
        let anonymous_limit = web::Data::new(crate::rate_limit::AnonymousRateLimit::per_minute(
            config.rate_limit_anonymous_per_minute,
        ));
        let check_limit = web::Data::new(crate::routes::check::CheckRateLimit(
            crate::rate_limit::AnonymousRateLimit::per_minute(config.check_rate_limit_per_minute),
        ));
        let trusted_proxies = web::Data::new(config.trusted_proxies.clone());
        let limit = web::Data::new(config.body_limits);
        let doc = ApiDoc::openapi();
        let operation_ids = web::Data::new(crate::operation_ids::OperationIds::of(&doc));
        let mut server = HttpServer::new(move || {
            App::new()
                .wrap(from_fn(crate::metrics::count_requests))
                .wrap(from_fn(crate::request_id::echo_request_id))
                .wrap(TracingLogger::<crate::log_spans::RouteSpans>::new())
                .app_data(data.clone())
                .app_data(audit.clone())
                .app_data(feed_poll.clone())
                .app_data(delivery.clone())
                .app_data(webhook_client.clone())
                .app_data(print.clone())
                .app_data(fhir_settings.clone())
                .app_data(nrl_publishing.clone())
                .app_data(notifying.clone())
                .app_data(jwt.clone())
                .app_data(identity.clone())
                .app_data(rate_limit.clone())
                .app_data(anonymous_limit.clone())
                .app_data(check_limit.clone())
                .app_data(trusted_proxies.clone())
                .app_data(limit.clone())
                .app_data(operation_ids.clone())
                .app_data(web::QueryConfig::default().error_handler(|err, _| {
                    ApiError::BadRequest {
                        code: ErrorCode::BadQuery,
                        detail: format!("The query string is not valid: {err}."),
                        errors: Vec::new(),
                    }
                    .into()
                }))
                .app_data(web::PathConfig::default().error_handler(|err, _| {
                    ApiError::BadRequest {
                        code: ErrorCode::BadPath,
                        detail: format!("The path is not valid: {err}."),
                        errors: Vec::new(),
                    }
                    .into()
                }))
                .configure(health::configure)
                // The spec at /openapi.json and the reference page at /docs, from assets
                // compiled into the binary (utoipa-swagger-ui's `vendored` feature).
                .service(SwaggerUi::new("/docs/{_:.*}").url("/openapi.json", doc.clone()))
                .route("/docs", web::get().to(docs_redirect))
                // Everything under /v1 touches plan data or the log of it, and is audited by
                // one middleware on the matched route (see audit::middleware).
                .service(
                    web::scope("/v1")
                        .wrap(from_fn(crate::consistency::read_your_writes))
                        .wrap(from_fn(crate::audit::record_access))
                        .configure(care_plans::configure)
                        .configure(patients::configure)
                        .configure(worklists::configure)
                        .configure(me::configure)
                        .configure(proxies::configure)
                        .configure(residents::configure)
                        .configure(crate::routes::privacy::configure)
                        .configure(crate::routes::notifications::configure)
                        .configure(feed::configure)
                        .configure(subscriptions::configure)
                        .configure(audit::configure)
                        .configure(nrl::configure)
                        .default_service(web::to(not_found)),
                )
                // The public check of a printed copy: no sign-in, audited against the person.
                .service(
                    web::scope("/check")
                        .wrap(from_fn(crate::audit::record_access))
                        // Whatever answers under /check (a refusal, an unknown path, an audit
                        // failure) is never cached, indexed or sent on as a referrer.
                        .wrap(
                            actix_web::middleware::DefaultHeaders::new()
                                .add((actix_web::http::header::CACHE_CONTROL, "no-store"))
                                .add((actix_web::http::header::REFERRER_POLICY, "no-referrer"))
                                .add(("X-Robots-Tag", "noindex")),
                        )
                        .configure(crate::routes::check::configure)
                        .default_service(web::to(not_found)),
                )
                // The FHIR facade: the same audit, in FHIR's dialect (routes::fhir::format).
                .service(
                    web::scope("/fhir/R4")
                        .wrap(from_fn(crate::routes::fhir::fhir_format))
                        .wrap(from_fn(crate::audit::record_access))
                        .configure(fhir::configure)
                        .default_service(web::to(not_found)),
                )
                .default_service(web::to(not_found))
        })
        .shutdown_timeout(config.shutdown_timeout.as_secs())
        .client_request_timeout(config.header_timeout)
        // SIGINT would be a forced stop in actix; both signals drain instead (see below).
        .disable_signals()
        .listen(listener)?;
        if let Some(workers) = config.workers {
            server = server.workers(workers);
        }
        Ok(Self {
            port,
            server: server.run(),
            _dispatcher: dispatcher,
            _nrl: nrl,
            _alerts: alerts,
            _notifier: notifier,
        })
    }

    #[must_use]
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Serves until SIGTERM or SIGINT, then lets in-flight requests finish.
    ///
    /// # Errors
    /// When the server fails.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let handle = self.server.handle();
        let stopper = tokio::spawn(async move {
            stop_signal().await;
            tracing::info!("stopping: in-flight requests may finish");
            handle.stop(true).await;
        });
        let served = self.server.await;
        stopper.abort();
        served
    }
}

/// SIGTERM (an orchestrator) or SIGINT (Ctrl-C): both mean "drain and stop".
async fn stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for SIGTERM; Ctrl-C still stops");
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

async fn docs_redirect() -> actix_web::HttpResponse {
    actix_web::HttpResponse::PermanentRedirect()
        .insert_header((actix_web::http::header::LOCATION, "/docs/"))
        .finish()
}

/// No route matched: 405 with `Allow` when the resource exists with other methods, else 404.
async fn not_found(req: actix_web::HttpRequest) -> actix_web::HttpResponse {
    use actix_web::ResponseError;
    let methods = req
        .app_data::<web::Data<crate::operation_ids::OperationIds>>()
        .map(|ids| ids.methods_for(req.path()))
        .unwrap_or_default();
    if methods.is_empty() {
        return ApiError::NotFound(format!("There is no resource at {}.", req.path()))
            .error_response();
    }
    let allow = methods.join(", ");
    let mut res = ApiError::MethodNotAllowed(format!(
        "{} is not a method of {}; it takes {allow}.",
        req.method(),
        req.path()
    ))
    .error_response();
    if let Ok(value) = actix_web::http::header::HeaderValue::from_str(&allow) {
        res.headers_mut()
            .insert(actix_web::http::header::ALLOW, value);
    }
    res
}
