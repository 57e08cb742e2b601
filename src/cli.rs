use std::time::Duration;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use ucp_api::{ApiConfig, AppState, Application};
use ucp_store::DatabaseConfig;

use crate::telemetry::LogFormat;

/// The Universal Care Plan API: care wishes and emergency treatment decisions, recorded once and
/// seen at once by ambulance crews, dispatch, NHS 111 and out-of-hours GPs.
#[derive(Debug, Parser)]
#[command(name = "ucp", version, about, long_about = None)]
pub struct Cli {
    /// Log line format.
    #[arg(
        long,
        env = "UCP_LOG_FORMAT",
        value_enum,
        default_value = "text",
        global = true
    )]
    pub log_format: LogFormat,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
// Parsed once at start-up: the size of the serve arguments costs nothing.
#[allow(clippy::large_enum_variant)]
enum Command {
    /// Serve the API until SIGTERM or SIGINT (migrating first only with --migrate).
    Serve(ServeArgs),
    /// Apply database migrations not yet applied, then exit. Safe to run twice, or from two
    /// processes at once.
    Migrate(DatabaseArgs),
    /// Mint a development token: in this service's own shape (HS256, signed with
    /// UCP_JWT_SECRET), or in the claim shape of NHS CIS2 or NHS login, signed with a key of
    /// yours that an issuer of UCP_IDENTITY_CONFIG trusts.
    Token(TokenArgs),
    /// Print the public JWK set of private keys (PEM, RSA or EC P-256), for a development
    /// issuer's `jwks_file`: `ucp jwks --key tests/keys/rsa-1.pem=dev-cis2`.
    Jwks(JwksArgs),
    /// Print the OpenAPI document (as checked in under openapi/).
    Openapi,
    /// Load synthetic demo people and plans (NHS numbers from the 999 test range).
    Seed(SeedArgs),
    /// Check that every read model equals a replay of the log; exits non-zero on any
    /// difference, naming the plan and the read model.
    Check(DatabaseArgs),
    /// Work on the read models.
    Projections {
        #[command(subcommand)]
        command: ProjectionsCommand,
    },
    /// Work on the privacy officer's alerts.
    Alerts {
        #[command(subcommand)]
        command: AlertsCommand,
    },
}

#[derive(Debug, Subcommand)]
enum AlertsCommand {
    /// Recompute the alerts from the whole access log and compare them with those recorded;
    /// then write them in their place (outcomes stay), unless --check. Writing is refused
    /// while a server scans: stop the servers first, or --check (which compares up to where
    /// the live scanner has got, and exits non-zero on any difference).
    Rebuild(AlertsRebuildArgs),
}

#[derive(Debug, Args)]
struct AlertsRebuildArgs {
    #[command(flatten)]
    database: DatabaseArgs,

    #[command(flatten)]
    alerts: AlertArgs,

    /// Compare only; write nothing.
    #[arg(long)]
    check: bool,
}

/// How the privacy officer's alerts are detected (the server and `ucp alerts rebuild` must be
/// given the same, or the recomputation differs).
#[derive(Debug, Args)]
struct AlertArgs {
    /// Scan the access log for privacy alerts (one server at a time leads the scan).
    #[arg(long, env = "UCP_ALERTS", default_value_t = true, action = clap::ArgAction::Set)]
    alerts: bool,

    /// Per role, how many distinct people's records one actor may read within an hour before
    /// an alert: `role=n,role=n` (0: not counted). Roles not named keep their defaults:
    /// clinician=50, ambulance=10, nhs111=20, ooh=10, care-home=60, dispatch=0.
    #[arg(long, env = "UCP_ALERTS_BULK_READS", default_value = "")]
    alerts_bulk_reads: String,

    /// Refused requests about one person within an hour that raise an alert (0: none).
    #[arg(long, env = "UCP_ALERTS_BULK_REFUSALS", default_value_t = 20)]
    alerts_bulk_refusals: u32,

    /// A CSV file of staff, `actor,family name,postcode` (an export of the staff record), for
    /// family lookups. Unset: family lookups are not detected.
    #[arg(long, env = "UCP_STAFF_DIRECTORY")]
    staff_directory: Option<std::path::PathBuf>,

    /// How often the scanner looks for new entries once it has caught up, in milliseconds.
    #[arg(long, env = "UCP_ALERTS_SCAN_MS", default_value_t = 1000, value_parser = clap::value_parser!(u64).range(10..=60_000))]
    alerts_scan_ms: u64,
}

/// Whom the notifier tells of changes to a plan, and how. Off unless UCP_NOTIFY_URL or
/// UCP_NOTIFY_PRACTICES is set.
#[derive(Debug, Args)]
struct NotifyArgs {
    /// NHS Notify's base URL (e.g. https://api.service.nhs.uk/comms): the person is told of
    /// changes through it. Unset: the person is not told.
    #[arg(long, env = "UCP_NOTIFY_URL")]
    notify_url: Option<String>,

    /// NHS Notify's bearer token (API Management's, for this service's application).
    #[arg(long, env = "UCP_NOTIFY_TOKEN", hide_env_values = true)]
    notify_token: Option<String>,

    /// A file holding NHS Notify's bearer token, read at every message (for a token that a
    /// sidecar renews); wins over UCP_NOTIFY_TOKEN.
    #[arg(long, env = "UCP_NOTIFY_TOKEN_FILE")]
    notify_token_file: Option<std::path::PathBuf>,

    /// The routing plan agreed with NHS Notify at onboarding (a UUID).
    #[arg(
        long,
        env = "UCP_NOTIFY_ROUTING_PLAN",
        default_value = "00000000-0000-0000-0000-000000000000"
    )]
    notify_routing_plan: uuid::Uuid,

    /// A TOML file of the GP practices told of changes made outside them: `[[practice]]`
    /// tables of `ods`, `url` and `secret` (at least 32 characters; messages are signed with it).
    #[arg(long, env = "UCP_NOTIFY_PRACTICES")]
    notify_practices: Option<std::path::PathBuf>,

    /// The person's changes within this many seconds of the first are told in one message
    /// (0 to 86400).
    #[arg(long, env = "UCP_NOTIFY_WINDOW", default_value_t = 600, value_parser = clap::value_parser!(u64).range(0..=86_400))]
    notify_window: u64,

    /// Attempts at a message before it is parked as a dead letter (1-50).
    #[arg(long, env = "UCP_NOTIFY_MAX_ATTEMPTS", default_value_t = 8, value_parser = clap::value_parser!(u32).range(1..=50))]
    notify_max_attempts: u32,

    /// Accept http:// for NHS Notify and the practices (local stand-ins only).
    #[arg(long, env = "UCP_NOTIFY_ALLOW_HTTP")]
    notify_allow_http: bool,
}

impl NotifyArgs {
    fn config(&self) -> anyhow::Result<ucp_app::notify::NotifyConfig> {
        let practices = match &self.notify_practices {
            None => ucp_app::notify::Practices::default(),
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("reading UCP_NOTIFY_PRACTICES {}", path.display()))?;
                ucp_app::notify::Practices::parse(&text, self.notify_allow_http)?
            }
        };
        anyhow::ensure!(
            self.notify_url.is_none() || !self.notify_routing_plan.is_nil(),
            "UCP_NOTIFY_URL is set without UCP_NOTIFY_ROUTING_PLAN: NHS Notify would refuse every \
             message"
        );
        Ok(ucp_app::notify::NotifyConfig {
            notify_url: self.notify_url.clone(),
            bearer_token: self.notify_token.clone(),
            bearer_token_file: self.notify_token_file.clone(),
            routing_plan_id: self.notify_routing_plan,
            practices,
            window: Duration::from_secs(self.notify_window),
            max_attempts: self.notify_max_attempts,
            allow_http: self.notify_allow_http,
            ..ucp_app::notify::NotifyConfig::default()
        })
    }
}

impl AlertArgs {
    fn config(&self) -> anyhow::Result<ucp_app::alerts::AlertsConfig> {
        let staff = match &self.staff_directory {
            None => ucp_app::alerts::StaffDirectory::default(),
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("reading UCP_STAFF_DIRECTORY {}", path.display()))?;
                ucp_app::alerts::StaffDirectory::parse(&text)
                    .with_context(|| format!("reading UCP_STAFF_DIRECTORY {}", path.display()))?
            }
        };
        Ok(ucp_app::alerts::AlertsConfig {
            enabled: self.alerts,
            scan_interval: Duration::from_millis(self.alerts_scan_ms),
            bulk_reads: ucp_app::alerts::AlertsConfig::parse_bulk_reads(&self.alerts_bulk_reads)
                .map_err(|e| anyhow::anyhow!("UCP_ALERTS_BULK_READS: {e}"))?,
            bulk_refusals: self.alerts_bulk_refusals,
            staff,
        })
    }
}

#[derive(Debug, Subcommand)]
enum ProjectionsCommand {
    /// Rebuild every care plan read model from the event log (appends wait; reads go on).
    Rebuild(DatabaseArgs),
}

#[derive(Debug, Args)]
struct JwtArgs {
    /// Shared secret for HS256 tokens (development; the `ucp` shape only).
    #[arg(long, env = "UCP_JWT_SECRET", hide_env_values = true)]
    jwt_secret: Option<String>,
}

#[derive(Debug, Args)]
struct VerifyArgs {
    /// Shared secret for HS256 tokens (development); leave unset to refuse HS256.
    #[arg(long, env = "UCP_JWT_SECRET", hide_env_values = true)]
    jwt_secret: Option<String>,

    /// A JWKS file of public keys for RS256/ES256 tokens, chosen by `kid`; reloaded when it
    /// changes or a token names an unknown key, so keys rotate without a restart.
    #[arg(long, env = "UCP_JWKS_FILE")]
    jwks_file: Option<std::path::PathBuf>,

    /// Require this `iss` claim.
    #[arg(long, env = "UCP_JWT_ISSUER")]
    jwt_issuer: Option<String>,

    /// Require this `aud` claim.
    #[arg(long, env = "UCP_JWT_AUDIENCE")]
    jwt_audience: Option<String>,

    /// The trusted issuers (NHS CIS2, NHS login, others), their keys and claim mappings, and
    /// the NHS login proofing a person needs: a TOML or JSON file (see
    /// config/identity.example.toml).
    #[arg(long, env = "UCP_IDENTITY_CONFIG")]
    identity_config: Option<std::path::PathBuf>,

    /// `production` refuses the development secret, refuses HS256 unless UCP_ALLOW_HS256 is
    /// set, and requires UCP_JWT_ISSUER and UCP_JWT_AUDIENCE with UCP_JWKS_FILE. An identity
    /// configuration that says `deployment = "production"` means the same.
    #[arg(long = "env", env = "UCP_ENV", default_value = "development")]
    deployment: ucp_api::Deployment,

    /// Accept HS256 (shared-secret) tokens in production.
    #[arg(long, env = "UCP_ALLOW_HS256")]
    allow_hs256: bool,

    /// The longest a token may live (from its `iat`); longer-lived tokens are refused.
    #[arg(long, env = "UCP_MAX_TOKEN_LIFETIME", default_value = "12h")]
    max_token_lifetime: humantime::Duration,
}

impl VerifyArgs {
    /// The verifying keys, the trusted issuers, and the deployment they were checked for.
    fn keys(
        &self,
    ) -> anyhow::Result<(
        ucp_api::JwtKeys,
        std::sync::Arc<ucp_api::auth::TrustedIssuers>,
        ucp_api::Deployment,
    )> {
        let identity = self
            .identity_config
            .as_deref()
            .map(ucp_api::auth::IdentityConfig::load)
            .transpose()?;
        let deployment = if identity.as_ref().is_some_and(|i| i.production) {
            ucp_api::Deployment::Production
        } else {
            self.deployment
        };
        let settings = ucp_api::TokenSettings {
            hs256_secret: self.jwt_secret.as_deref(),
            allow_hs256: self.allow_hs256,
            jwks: self.jwks_file.is_some(),
            trusted_issuers: identity.as_ref().is_some_and(|i| !i.issuers.is_empty()),
            issuer: self.jwt_issuer.as_deref(),
            audience: self.jwt_audience.as_deref(),
        };
        if let Err(broken) = deployment.check(&settings) {
            let reasons: Vec<String> = broken.iter().map(ToString::to_string).collect();
            anyhow::bail!("refusing to start: {}", reasons.join("; "));
        }
        let mut keys = match &self.jwt_secret {
            Some(secret) => ucp_api::JwtKeys::hs256(secret.as_bytes()),
            None => ucp_api::JwtKeys::default(),
        };
        if let Some(path) = &self.jwks_file {
            keys = keys.with_jwks_file(path)?;
        }
        let keys = keys
            .with_issuer(self.jwt_issuer.clone())
            .with_audience(self.jwt_audience.clone())
            .with_max_lifetime(Some(*self.max_token_lifetime));
        let issuers = identity.map(|i| i.issuers).unwrap_or_default();
        for issuer in issuers.names() {
            tracing::info!(%issuer, "trusting tokens of");
        }
        Ok((keys, std::sync::Arc::new(issuers), deployment))
    }
}

/// The claim shape of a minted token.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum TokenShape {
    /// This service's own development claims (`role`, `org`…), HS256 with UCP_JWT_SECRET.
    Ucp,
    /// NHS CIS2: `nhsid_nrbac_roles` with one role, selected by `selected_roleid`.
    Cis2,
    /// NHS login: `nhs_number` and `identity_proofing_level`.
    NhsLogin,
    /// A digital social care record system's sign-in of a care home's staff member
    /// (`care_provider_ods`, `care_provider_name`, `staff_name`).
    SocialCare,
}

#[derive(Debug, Args)]
#[allow(clippy::struct_excessive_bools)]
struct TokenArgs {
    #[command(flatten)]
    jwt: JwtArgs,
    /// The claim shape: ucp (default), cis2 or nhs-login.
    #[arg(long, value_enum, default_value = "ucp")]
    shape: TokenShape,
    /// clinician, ambulance, nhs111, ooh, dispatch, patient or admin (the `ucp` shape).
    #[arg(long)]
    role: Option<ucp_api::Role>,
    /// cis2 and nhs-login shapes: the private key (PEM, RSA or EC P-256) to sign with.
    #[arg(long)]
    key: Option<std::path::PathBuf>,
    /// cis2 and nhs-login shapes: the key id (`kid`) the issuer's JWKS gives the key.
    #[arg(long)]
    kid: Option<String>,
    /// cis2 and nhs-login shapes: the `iss` (as the identity configuration names it).
    #[arg(long)]
    issuer: Option<String>,
    /// cis2 and nhs-login shapes: the `aud`.
    #[arg(long)]
    audience: Option<String>,
    /// cis2: the selected role's access role code (e.g. R8000 Clinical Practitioner).
    #[arg(long, default_value = "R8000")]
    role_code: String,
    /// cis2: the selected role's activity codes (repeat; e.g. B0380).
    #[arg(long = "activity")]
    activities: Vec<String>,
    /// NHS login (and a `ucp`-shape patient): the identity proofing level, P0, P5 or P9.
    #[arg(long, default_value = "P9")]
    proofing: ucp_api::auth::ProofingLevel,
    /// The actor's id (default: "<role>-dev").
    #[arg(long)]
    sub: Option<String>,
    /// The actor's organisation (ODS code).
    #[arg(long)]
    org: Option<String>,
    /// The organisation's name (a care home's).
    #[arg(long)]
    org_name: Option<String>,
    /// The actor's display name.
    #[arg(long)]
    name: Option<String>,
    /// A professional's registration (`GMC 1234567`), as their sign-in carries it (the `ucp`
    /// shape): the signatures they make are in it.
    #[arg(long)]
    registration: Option<String>,
    /// For a patient: whose plan they may see.
    #[arg(long)]
    nhs_number: Option<String>,
    /// How long the token lives (e.g. 1h, 30m, 7d).
    #[arg(long, default_value = "1h")]
    ttl: humantime::Duration,
}

#[derive(Debug, Args)]
struct JwksArgs {
    /// A private key file and the `kid` to publish it under, as FILE=KID (repeat).
    #[arg(long = "key", required = true)]
    keys: Vec<String>,
}

#[derive(Debug, Args)]
struct SeedArgs {
    #[command(flatten)]
    database: DatabaseArgs,
    /// Load the demo set (the only set there is; the flag says what you are asking for).
    #[arg(long)]
    demo: bool,
    /// How many people.
    #[arg(long, default_value_t = 20)]
    count: u32,
    /// Plans loaded at once (each its own transactions), through the write path.
    #[arg(long, default_value_t = 1)]
    jobs: u32,
    /// Decide the events here and copy them into the log in bulk, then rebuild the read models
    /// from it: the same plans, loaded about four times faster (a million in minutes). For a new
    /// or demo database, as its owner, with no one else writing.
    #[arg(long)]
    bulk: bool,
    /// Also write a demo day of accesses to the access log (at least 20 people, not with
    /// --bulk): ordinary reads, and one access of each kind the privacy officer is alerted to.
    #[arg(long, conflicts_with = "bulk")]
    access_day: bool,
}

#[derive(Debug, Args)]
struct DatabaseArgs {
    /// PostgreSQL connection URL, for a user that may create the `ucp_app` role.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    database_url: String,

    #[command(flatten)]
    tls: DbTlsArgs,
}

#[derive(Debug, Args)]
struct DbTlsArgs {
    /// Extra trusted roots (PEM) for the database's certificate, for `sslmode=require` URLs.
    /// `prefer` (and a URL that says nothing) means no TLS.
    #[arg(long, env = "UCP_DB_CA_FILE")]
    db_ca_file: Option<std::path::PathBuf>,
}

impl DbTlsArgs {
    fn tls(&self) -> ucp_store::DatabaseTls {
        ucp_store::DatabaseTls {
            ca_file: self.db_ca_file.clone(),
        }
    }
}

#[derive(Debug, Args)]
struct ServeArgs {
    /// The owner's URL: with --migrate, migrations run as this user; otherwise it only names
    /// the server and database, and the pool logs in as `ucp_app` (see UCP_APP_DATABASE_URL).
    /// In production give UCP_APP_DATABASE_URL and leave this unset.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    database_url: Option<String>,

    /// Apply migrations (as the owner, DATABASE_URL) before serving. Without it the server
    /// only checks that the schema is this build's and refuses to start otherwise.
    #[arg(long, env = "UCP_MIGRATE")]
    migrate: bool,

    #[command(flatten)]
    tls: DbTlsArgs,

    #[command(flatten)]
    alert_args: AlertArgs,

    #[command(flatten)]
    notify_args: NotifyArgs,

    /// Address to listen on (port 0 picks a free port).
    #[arg(long, env = "UCP_LISTEN", default_value = "127.0.0.1:8080")]
    listen: String,

    /// How the server's pool logs in (default: DATABASE_URL as the `ucp_app` role, which suits
    /// trust authentication; give it whole when the role has a password).
    #[arg(long, env = "UCP_APP_DATABASE_URL", hide_env_values = true)]
    app_database_url: Option<String>,

    /// In production, reach PostgreSQL without TLS (URLs without sslmode=require) all the
    /// same: only where the network to the database is private on purpose.
    #[arg(long, env = "UCP_DB_ALLOW_PLAINTEXT")]
    db_allow_plaintext: bool,

    /// Largest number of database connections this process holds.
    #[arg(long, env = "UCP_DB_POOL_SIZE", default_value_t = 16)]
    db_pool_size: usize,

    /// A read replica (a standby) for plan, summary and search reads; with several hosts and
    /// target_session_attrs=read-only it follows the standby through failovers. Unset: every
    /// read on the primary.
    #[arg(long, env = "UCP_REPLICA_URL", hide_env_values = true)]
    replica_url: Option<String>,

    /// Milliseconds a read with a UCP-Consistency token waits for the replica to reach it
    /// before it is served by the primary.
    #[arg(long, env = "UCP_REPLICA_MAX_WAIT_MS", default_value_t = 200)]
    replica_max_wait_ms: u64,

    /// Milliseconds a read without a token may lag the primary and still be served by the
    /// replica.
    #[arg(long, env = "UCP_REPLICA_MAX_STALENESS_MS", default_value_t = 1000)]
    replica_max_staleness_ms: u64,

    /// Seconds one database statement of a request may run before it is cancelled and the
    /// request answered 503 with `Retry-After` (0: no limit).
    #[arg(long, env = "UCP_DB_STATEMENT_TIMEOUT", default_value_t = 15)]
    db_statement_timeout: u64,

    /// Seconds a request waits for a pooled connection before it is answered 503 with
    /// `Retry-After`.
    #[arg(long, env = "UCP_DB_POOL_WAIT", default_value_t = 5)]
    db_pool_wait: u64,

    #[command(flatten)]
    jwt: VerifyArgs,

    /// Who may sign an Emergency Treatment Plan as its senior responsible clinician: designations
    /// (comma-separated), each matched as whole words in the signer's designation, case aside
    /// ("consultant" admits "Consultant geriatrician"). Empty: the documented default list.
    #[arg(long, env = "UCP_SENIOR_DESIGNATIONS", default_value = "")]
    senior_designations: String,

    /// Requests a minute each token subject may make before it is answered 429 with
    /// `Retry-After` (0: no limit).
    #[arg(long, env = "UCP_RATE_LIMIT", default_value_t = 6000)]
    rate_limit: u32,

    /// Requests a minute from one client address that do not sign in (no token, or one that
    /// fails verification) before they are answered 429 (0: no limit). Signed-in callers at
    /// the same address are not affected.
    #[arg(long, env = "UCP_RATE_LIMIT_ANONYMOUS", default_value_t = 120)]
    rate_limit_anonymous: u32,

    /// Load balancers and proxies in front of the service (comma-separated addresses and
    /// networks): from them, X-Forwarded-For names the client whose UCP_RATE_LIMIT_ANONYMOUS
    /// budget a request spends. Empty: the connection's own address.
    #[arg(long, env = "UCP_TRUSTED_PROXIES", default_value = "")]
    trusted_proxies: String,

    /// Largest JSON body accepted, in bytes (413 above it).
    #[arg(long, env = "UCP_BODY_LIMIT", default_value_t = 256 * 1024)]
    body_limit: usize,

    /// Seconds a request body may take to arrive (408, connection closed).
    #[arg(long, env = "UCP_BODY_TIMEOUT", default_value_t = 10)]
    body_timeout: u64,

    /// Seconds a client has to send its request line and headers (408, connection closed).
    #[arg(long, env = "UCP_HEADER_TIMEOUT", default_value_t = 5)]
    header_timeout: u64,

    /// Deepest nesting of arrays and objects in a JSON body (422 `limit_exceeded`).
    #[arg(long, env = "UCP_JSON_MAX_DEPTH", default_value_t = 16)]
    json_max_depth: usize,

    /// Longest string in a JSON body, in characters (422 `limit_exceeded`).
    #[arg(long, env = "UCP_JSON_MAX_STRING", default_value_t = 10_000)]
    json_max_string: usize,

    /// Most items in one JSON array, or members in one object (422 `limit_exceeded`).
    #[arg(long, env = "UCP_JSON_MAX_ITEMS", default_value_t = 500)]
    json_max_items: usize,

    /// Seconds a webhook receiver has to answer before the attempt counts as failed.
    #[arg(long, env = "UCP_WEBHOOK_TIMEOUT", default_value_t = 5)]
    webhook_timeout: u64,

    /// Milliseconds the access-log writer waits, after an entry, for others to share its commit
    /// (0: none; entries that arrive while commits are in flight share the next one).
    #[arg(long, env = "UCP_AUDIT_WINDOW_MS", default_value_t = 0)]
    audit_window_ms: u64,

    /// Access-log commits in flight at once.
    #[arg(long, env = "UCP_AUDIT_IN_FLIGHT", default_value_t = 2)]
    audit_in_flight: usize,

    /// Seconds in which repeated refusals of one kind against one person (same caller,
    /// operation and status) are one access-log entry and a count (0: an entry each).
    #[arg(long, env = "UCP_AUDIT_REFUSAL_WINDOW", default_value_t = 60)]
    audit_refusal_window: u64,

    /// The most access-log entries one commit carries.
    #[arg(long, env = "UCP_AUDIT_MAX_BATCH", default_value_t = 256)]
    audit_max_batch: usize,

    /// Seconds that in-flight requests get to finish after SIGTERM or SIGINT.
    #[arg(long, env = "UCP_SHUTDOWN_TIMEOUT", default_value_t = 30)]
    shutdown_timeout: u64,

    /// HTTP worker threads (default: one per core).
    #[arg(long, env = "UCP_WORKERS")]
    workers: Option<usize>,

    /// Accept `http://` webhook targets. Off by default: deliveries carry patient data.
    #[arg(long, env = "UCP_WEBHOOK_ALLOW_HTTP")]
    webhook_allow_http: bool,

    /// Where deliveries may go: comma-separated host names, `*.suffix`es, addresses and
    /// networks. Empty: anywhere but loopback, link-local, unspecified, multicast and cloud
    /// metadata addresses. Not empty: only what it names (which may include those).
    #[arg(long, env = "UCP_WEBHOOK_ALLOW", default_value = "")]
    webhook_allow: String,

    /// Extra trusted roots (PEM) for webhook receivers, besides the system's.
    #[arg(long, env = "UCP_WEBHOOK_CA_FILE")]
    webhook_ca_file: Option<std::path::PathBuf>,

    /// The service's public address: printed plans link to their check page there
    /// (`/check/{code}`), and their QR codes encode that link.
    #[arg(long, env = "UCP_PUBLIC_URL", default_value = "http://127.0.0.1:8080")]
    public_url: String,

    /// The keys that sign the codes on printed plans, `id:secret` (id 0-255, secret at least
    /// 32 characters), comma-separated: the first signs new prints, all verify. Rotate by
    /// putting a new key first; drop a key to revoke its codes. Unset: a development key,
    /// which a production deployment refuses.
    #[arg(long, env = "UCP_CHECK_KEYS", hide_env_values = true)]
    check_keys: Option<String>,

    /// Checks of printed copies (`GET /check/{code}`, no sign-in) a minute from one client
    /// address before they are answered 429 (0: no limit).
    #[arg(long, env = "UCP_CHECK_RATE_LIMIT", default_value_t = 30)]
    check_rate_limit: u32,

    /// The ODS code of the organisation that holds the records: the custodian of the National
    /// Record Locator pointers, and the prefix of their ids. The default, X26 (NHS England),
    /// is for development; a deployment names its own.
    #[arg(long, env = "UCP_ODS_CODE", default_value = "X26", value_parser = parse_ods)]
    ods_code: String,

    /// The National Record Locator producer API's FHIR base to publish pointers to (e.g.
    /// https://api.service.nhs.uk/record-locator/producer/FHIR/R4). Unset: not published.
    #[arg(long, env = "UCP_NRL_URL")]
    nrl_url: Option<String>,

    /// A bearer token for the NRL (API Management's access token for this application).
    #[arg(long, env = "UCP_NRL_TOKEN", hide_env_values = true)]
    nrl_token: Option<String>,

    /// A file holding the NRL bearer token, read at every request (for a token that a sidecar
    /// renews); wins over UCP_NRL_TOKEN.
    #[arg(long, env = "UCP_NRL_TOKEN_FILE")]
    nrl_token_file: Option<std::path::PathBuf>,

    /// Attempts at each pointer change before it is parked as a dead letter.
    #[arg(long, env = "UCP_NRL_MAX_ATTEMPTS", default_value_t = 8, value_parser = clap::value_parser!(u32).range(1..=50))]
    nrl_max_attempts: u32,

    /// Accept an http:// UCP_NRL_URL (a local stand-in; never the real NRL).
    #[arg(long, env = "UCP_NRL_ALLOW_HTTP")]
    nrl_allow_http: bool,
}

fn parse_ods(text: &str) -> Result<String, String> {
    ucp_domain::OdsCode::parse(text)
        .map(|c| c.to_string())
        .map_err(|e| e.to_string())
}

impl Cli {
    pub async fn run(self) -> anyhow::Result<()> {
        match self.command {
            Command::Migrate(args) => {
                let applied = ucp_store::migrate_with_tls(&args.database_url, &args.tls.tls())
                    .await
                    .context("migrating the database")?;
                tracing::info!(applied, "database is up to date");
                Ok(())
            }
            Command::Serve(args) => serve(args).await,
            Command::Token(args) => token(&args),
            Command::Jwks(args) => jwks(&args),
            Command::Openapi => {
                print!("{}", ucp_api::openapi_document()?);
                Ok(())
            }
            Command::Seed(args) => {
                anyhow::ensure!(
                    args.demo,
                    "say --demo: only synthetic demo data can be seeded"
                );
                let tls = args.database.tls.tls();
                let tls_again = args.database.tls.tls();
                ucp_store::migrate_with_tls(&args.database.database_url, &tls).await?;
                let jobs = args.jobs.clamp(1, 64);
                let pool = usize::try_from(jobs).unwrap_or(1) + 2;
                let db = app_state(&args.database.database_url, None, pool, tls, Limits::BATCH)?.db;
                let created = if args.bulk {
                    crate::seed::seed_bulk(&args.database.database_url, &tls_again, args.count)
                        .await?
                } else {
                    let created = crate::seed::seed(&db, args.count, jobs).await?;
                    if args.access_day {
                        let written = crate::demo_day::write(&db).await?;
                        tracing::info!(written, "the demo day of accesses");
                    }
                    created
                };
                // Fresh statistics, so the planner knows what was loaded.
                ucp_store::analyze_as_owner(&args.database.database_url, &tls_again).await?;
                tracing::info!(created, asked = args.count, "demo data loaded");
                if let Some(row) = db.plan_for_person(crate::seed::demo_nhs_number(1)).await? {
                    // Person 2 of the demo: not for CPR, with an advance decision and an LPA.
                    println!("/v1/care-plans/{}/document", row.plan_id);
                }
                Ok(())
            }
            Command::Check(args) => {
                let tls = args.tls.tls();
                let db = app_state(&args.database_url, None, 2, tls, Limits::BATCH)?.db;
                let (checked, mismatches) = db.check_care_plan_projections().await?;
                for m in &mismatches {
                    println!("{} {}: {}", m.read_model, m.plan_id, m.what);
                }
                anyhow::ensure!(
                    mismatches.is_empty(),
                    "{} read-model rows differ from the log (of {checked} plans); \
                     `ucp projections rebuild` rebuilds them from the log",
                    mismatches.len()
                );
                println!("{checked} plans: every read model equals the log");
                Ok(())
            }
            Command::Alerts {
                command: AlertsCommand::Rebuild(args),
            } => alerts_rebuild(args).await,
            Command::Projections {
                command: ProjectionsCommand::Rebuild(args),
            } => {
                let tls = args.tls.tls();
                ucp_store::migrate_with_tls(&args.database_url, &tls).await?;
                let bar = indicatif::ProgressBar::new(0);
                bar.set_style(
                    indicatif::ProgressStyle::with_template(
                        "rebuild {wide_bar} {pos}/{len} plans, {per_sec}, {eta} left",
                    )
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
                );
                let started = std::time::Instant::now();
                let report = ucp_store::projections::rebuild::rebuild_care_plan_read_models(
                    &args.database_url,
                    &tls,
                    &|done, total| {
                        bar.set_length(total);
                        bar.set_position(done);
                    },
                )
                .await?;
                bar.finish_and_clear();
                let seconds = started.elapsed().as_secs_f64();
                println!(
                    "rebuilt {} plans from {} events in {seconds:.2} s ({:.0} events/s); \
                     {} plans written meanwhile caught up \
                     (copy {:.2} s, indexes {:.2} s, appends held {:.3} s, checks {:.2} s)",
                    report.plans,
                    report.events,
                    report.events as f64 / seconds.max(f64::EPSILON),
                    report.caught_up,
                    report.copy.as_secs_f64(),
                    report.indexes.as_secs_f64(),
                    report.swap.as_secs_f64(),
                    report.after_swap.as_secs_f64(),
                );
                tracing::info!(
                    plans = report.plans,
                    events = report.events,
                    caught_up = report.caught_up,
                    "care plan read models rebuilt from the log"
                );
                Ok(())
            }
        }
    }
}

/// How long the pool's sessions may wait and run, and where the reads that may use a replica go.
struct Limits {
    statement_timeout: Option<Duration>,
    pool_wait: Duration,
    replica: Option<(String, ucp_store::replica::ReplicaBounds)>,
}

impl Limits {
    /// One-off commands (seed, rebuild, check) work through the whole log: no statement
    /// limit, and the default wait.
    const BATCH: Self = Self {
        statement_timeout: None,
        pool_wait: Duration::from_secs(5),
        replica: None,
    };
}

async fn alerts_rebuild(args: AlertsRebuildArgs) -> anyhow::Result<()> {
    let config = args.alerts.config()?;
    let tls = args.database.tls.tls();
    let db = app_state(&args.database.database_url, None, 2, tls, Limits::BATCH)?.db;
    let (recomputed, differences) = if args.check {
        ucp_app::alerts::rebuild::check(&db, &config).await?
    } else {
        ucp_app::alerts::rebuild::rebuild(&db, &config).await?
    };
    for a in &recomputed.alerts {
        println!(
            "{} {} {} evidence {} {}",
            a.alert_id,
            a.kind,
            a.state(),
            a.evidence_count,
            a.nhs_number.as_deref().unwrap_or("-")
        );
    }
    for (what, ids) in [
        ("recomputed, not recorded", &differences.missing),
        ("recorded, not recomputed", &differences.extra),
        ("recorded differently", &differences.differing),
    ] {
        for id in ids {
            println!("{what}: {id}");
        }
    }
    println!(
        "{} alerts from {} access-log entries; {} differ from those recorded{}",
        recomputed.alerts.len(),
        recomputed.entries,
        differences.missing.len() + differences.extra.len() + differences.differing.len(),
        if args.check { "" } else { " (now replaced)" }
    );
    anyhow::ensure!(
        !args.check || differences.is_empty(),
        "the alerts recorded differ from a recomputation from the access log"
    );
    Ok(())
}

fn app_state(
    url: &str,
    app_url: Option<String>,
    pool_size: usize,
    tls: ucp_store::DatabaseTls,
    limits: Limits,
) -> anyhow::Result<AppState> {
    let mut db_config = DatabaseConfig::new(url);
    db_config.tls = tls;
    db_config.max_connections = pool_size;
    db_config.app_url = app_url;
    db_config.statement_timeout = limits.statement_timeout;
    db_config.acquire_timeout = limits.pool_wait;
    if let Some((url, bounds)) = limits.replica {
        db_config.replica_url = Some(url);
        db_config.replica_bounds = bounds;
    }
    AppState::open(&db_config).context("connecting to the database")
}

fn jwks(args: &JwksArgs) -> anyhow::Result<()> {
    let mut keys = Vec::with_capacity(args.keys.len());
    for spec in &args.keys {
        let (file, kid) = spec
            .rsplit_once('=')
            .with_context(|| format!("{spec:?}: say FILE=KID"))?;
        let pem = std::fs::read(file).with_context(|| format!("reading {file}"))?;
        keys.push(ucp_api::auth::shapes::public_jwk(&pem, kid)?);
    }
    println!(
        "{}",
        serde_json::to_string_pretty(&serde_json::json!({ "keys": keys }))?
    );
    Ok(())
}

fn token(args: &TokenArgs) -> anyhow::Result<()> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .context("clock before 1970")?
        .as_secs();
    let exp = now + args.ttl.as_secs();
    let token = match args.shape {
        TokenShape::Ucp => {
            let role = args.role.context("the ucp shape needs --role")?;
            let secret = args
                .jwt
                .jwt_secret
                .as_deref()
                .context("the ucp shape is signed with UCP_JWT_SECRET: set it")?;
            let claims = ucp_api::Claims {
                sub: args
                    .sub
                    .clone()
                    .unwrap_or_else(|| format!("{}-dev", role.as_str())),
                role,
                org: args.org.clone(),
                org_name: args.org_name.clone(),
                name: args.name.clone(),
                registration: args.registration.clone(),
                nhs_number: args.nhs_number.clone(),
                identity_proofing_level: (role == ucp_api::Role::Patient)
                    .then(|| args.proofing.as_str().to_owned()),
                exp,
                iat: now,
            };
            ucp_api::JwtKeys::hs256(secret.as_bytes()).mint(&claims)?
        }
        TokenShape::Cis2 | TokenShape::NhsLogin | TokenShape::SocialCare => {
            let claims = match args.shape {
                TokenShape::SocialCare => {
                    ucp_api::auth::shapes::social_care(&ucp_api::auth::shapes::SocialCareToken {
                        sub: args.sub.clone().unwrap_or_else(|| "carer-dev".to_owned()),
                        name: args.name.clone(),
                        care_home: args
                            .org
                            .clone()
                            .context("the social-care shape needs --org (the home's code)")?,
                        care_home_name: args.org_name.clone(),
                    })
                }
                TokenShape::Cis2 => {
                    ucp_api::auth::shapes::cis2(&ucp_api::auth::shapes::Cis2Token {
                        sub: args
                            .sub
                            .clone()
                            .unwrap_or_else(|| "555000000001".to_owned()),
                        name: args.name.clone(),
                        org_code: args
                            .org
                            .clone()
                            .context("the cis2 shape needs --org (an ODS code)")?,
                        role_code: args.role_code.clone(),
                        activities: args.activities.clone(),
                    })
                }
                _ => ucp_api::auth::shapes::nhs_login(&ucp_api::auth::shapes::NhsLoginToken {
                    sub: args.sub.clone(),
                    nhs_number: args.nhs_number.clone(),
                    proofing: args.proofing,
                    name: args.name.clone(),
                }),
            };
            let key_file = args
                .key
                .as_deref()
                .context("this shape needs --key (a PEM private key)")?;
            let pem = std::fs::read(key_file)
                .with_context(|| format!("reading {}", key_file.display()))?;
            ucp_api::auth::shapes::sign(
                claims,
                &pem,
                args.kid.as_deref().context("this shape needs --kid")?,
                args.issuer
                    .as_deref()
                    .context("this shape needs --issuer")?,
                args.audience
                    .as_deref()
                    .context("this shape needs --audience")?,
                now,
                exp,
            )?
        }
    };
    println!("{token}");
    Ok(())
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let (jwt, identity, deployment) = args.jwt.keys()?;
    let mut plaintext = Vec::new();
    for (setting, url) in [
        ("DATABASE_URL", &args.database_url),
        ("UCP_APP_DATABASE_URL", &args.app_database_url),
        ("UCP_REPLICA_URL", &args.replica_url),
    ] {
        if let Some(url) = url {
            if !ucp_store::tls::is_encrypted(url).with_context(|| format!("reading {setting}"))? {
                plaintext.push(setting);
            }
        }
    }
    if let Err(broken) = deployment.check_database(&plaintext, args.db_allow_plaintext) {
        let reasons: Vec<String> = broken.iter().map(ToString::to_string).collect();
        anyhow::bail!("refusing to start: {}", reasons.join("; "));
    }
    let check_keys = match &args.check_keys {
        Some(text) => text
            .parse::<ucp_app::print::CheckKeys>()
            .context("reading UCP_CHECK_KEYS")?,
        None => ucp_app::print::CheckKeys::development(),
    };
    if deployment == ucp_api::Deployment::Production {
        // Printed plans carry this address in their QR code for years: over plain HTTP anyone
        // on a home's wifi could answer "CURRENT" for a withdrawn plan.
        let url = url::Url::parse(&args.public_url).context("reading UCP_PUBLIC_URL")?;
        let local = matches!(url.host_str(), Some("localhost") | None)
            || url
                .host_str()
                .and_then(|h| h.trim_matches(['[', ']']).parse::<std::net::IpAddr>().ok())
                .is_some_and(|ip| ip.is_loopback() || ip.is_unspecified());
        if url.scheme() != "https" || local {
            anyhow::bail!(
                "refusing to start: UCP_PUBLIC_URL must be the service's public https:// \
                 address in production (printed plans' QR codes open it), not {}",
                args.public_url
            );
        }
    } else if check_keys.is_development() {
        tracing::warn!(
            "printed plans' check codes are signed with the development key: set UCP_CHECK_KEYS"
        );
    }
    if check_keys.is_development() && deployment == ucp_api::Deployment::Production {
        anyhow::bail!(
            "refusing to start: printed plans' check codes would be signed with the development \
             key; set UCP_CHECK_KEYS"
        );
    }
    if args.migrate {
        let owner = args
            .database_url
            .as_deref()
            .context("--migrate needs DATABASE_URL (the owner's URL)")?;
        ucp_store::migrate_with_tls(owner, &args.tls.tls())
            .await
            .context("migrating the database")?;
    }
    let base = args
        .database_url
        .clone()
        .or_else(|| args.app_database_url.clone())
        .context("set UCP_APP_DATABASE_URL (or DATABASE_URL, to log in as ucp_app)")?;
    let state = app_state(
        &base,
        args.app_database_url,
        args.db_pool_size,
        args.tls.tls(),
        Limits {
            statement_timeout: Some(Duration::from_secs(args.db_statement_timeout))
                .filter(|d| !d.is_zero()),
            pool_wait: Duration::from_secs(args.db_pool_wait.max(1)),
            replica: args.replica_url.clone().map(|url| {
                (
                    url,
                    ucp_store::replica::ReplicaBounds {
                        max_wait: Duration::from_millis(args.replica_max_wait_ms),
                        max_staleness: Duration::from_millis(args.replica_max_staleness_ms),
                        ..ucp_store::replica::ReplicaBounds::default()
                    },
                )
            }),
        },
    )?;
    let mut state = state;
    let designations: Vec<&str> = args
        .senior_designations
        .split(',')
        .map(str::trim)
        .filter(|d| !d.is_empty())
        .collect();
    if !designations.is_empty() {
        state.signing = std::sync::Arc::new(
            ucp_domain::signing::SigningPolicy::new(&designations)
                .map_err(|e| anyhow::anyhow!("UCP_SENIOR_DESIGNATIONS: {e}"))?,
        );
    }
    tracing::info!(
        senior_designations = %state.signing.senior_designations().join(", "),
        "who may sign as the senior responsible clinician"
    );
    let status = state
        .db
        .migration_status()
        .await
        .context("checking the schema version as the application role")?;
    anyhow::ensure!(
        status.is_current(),
        "refusing to start: the database schema is at migration {:?}, this build needs {}; \
         run `ucp migrate` (as the owner) first, or start with --migrate",
        status.applied,
        status.expected
    );
    let config = ApiConfig {
        listen: args.listen,
        shutdown_timeout: Duration::from_secs(args.shutdown_timeout),
        workers: args.workers,
        jwt,
        identity,
        body_limits: ucp_api::body::BodyLimits {
            max_bytes: args.body_limit,
            read_timeout: Duration::from_secs(args.body_timeout.max(1)),
            max_depth: args.json_max_depth.max(2),
            max_string_chars: args.json_max_string.max(1),
            max_items: args.json_max_items.max(1),
        },
        header_timeout: Duration::from_secs(args.header_timeout.max(1)),
        rate_limit_per_minute: args.rate_limit,
        rate_limit_anonymous_per_minute: args.rate_limit_anonymous,
        check_rate_limit_per_minute: args.check_rate_limit,
        trusted_proxies: args
            .trusted_proxies
            .parse()
            .map_err(|e: String| anyhow::anyhow!(e))?,
        feed_poll: Duration::from_millis(500),
        delivery: ucp_api::webhooks::DeliveryConfig {
            timeout: Duration::from_secs(args.webhook_timeout),
            ..ucp_api::webhooks::DeliveryConfig::default()
        },
        audit: ucp_api::audit::AuditConfig {
            window: Duration::from_millis(args.audit_window_ms),
            max_batch: args.audit_max_batch.max(1),
            refusal_window: Duration::from_secs(args.audit_refusal_window),
            in_flight: args.audit_in_flight.max(1),
        },
        webhook_tls: ucp_api::webhooks::WebhookTls {
            allow_http: args.webhook_allow_http,
            ca_file: args.webhook_ca_file,
            allow: args
                .webhook_allow
                .parse()
                .context("reading UCP_WEBHOOK_ALLOW")?,
        },
        notify: args.notify_args.config()?,
        alerts: {
            let alerts = args.alert_args.config()?;
            if alerts.enabled && alerts.staff.is_empty() {
                tracing::warn!(
                    "no UCP_STAFF_DIRECTORY: family lookups (staff reading the records of people \
                     of their own family name and postcode) are not detected"
                );
            }
            alerts
        },
        nrl: args.nrl_url.map(|url| ucp_app::nrl::NrlConfig {
            url,
            bearer_token: args.nrl_token,
            bearer_token_file: args.nrl_token_file,
            max_attempts: args.nrl_max_attempts,
            allow_http: args.nrl_allow_http,
            timeout: std::time::Duration::from_secs(10),
        }),
        fhir: ucp_api::FhirSettings {
            public_url: args.public_url.trim_end_matches('/').to_owned(),
            custodian_ods: args.ods_code,
        },
        print: ucp_app::print::PrintSettings {
            public_url: args.public_url,
            check_keys,
        },
    };
    let app = Application::build(&config, state)
        .with_context(|| format!("listening on {}", config.listen))?;
    tracing::info!(port = app.port(), listen = %config.listen, "serving the Universal Care Plan API");
    app.run_until_stopped().await.context("serving")?;
    tracing::info!("stopped");
    Ok(())
}
