//! A fresh database per test, cloned from a migrated template, and the real server on a random
//! port. Databases are dropped when the test ends, pass or panic; leftovers of crashed runs are
//! swept when the next run makes its template.

use std::time::Duration;

use sha2::{Digest, Sha256};
use tokio::sync::OnceCell;
use tokio_postgres::NoTls;
use ucp_api::{ApiConfig, AppState, Application};
use ucp_store::{Database, DatabaseConfig};

pub use crate::fixtures::*;

/// The cluster the suite may create databases in (`make test` sets it).
pub fn admin_url() -> String {
    std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| panic!("DATABASE_URL is not set: run the suite with `make test`"))
}

/// The same server and credentials, another database.
pub fn url_for(database: &str) -> String {
    let mut url = url::Url::parse(&admin_url()).unwrap_or_else(|e| panic!("DATABASE_URL: {e:?}"));
    url.set_path(&format!("/{database}"));
    url.to_string()
}

async fn admin_client() -> tokio_postgres::Client {
    let (client, connection) = tokio_postgres::connect(&admin_url(), NoTls)
        .await
        .unwrap_or_else(|e| panic!("connecting to DATABASE_URL: {e:?}"));
    tokio::spawn(connection);
    client
}

const TEST_DB_PREFIX: &str = "ucp_t_";
const TEMPLATE_PREFIX: &str = "ucp_tpl_";
const TEMPLATE_LOCK: i64 = 0x7563_705f_7470_6c00;

fn migrations_digest() -> String {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("reading {}: {e:?}", dir.display()))
        .map(|entry| entry.map(|e| e.path()))
        .collect::<Result<_, _>>()
        .unwrap_or_else(|e| panic!("listing migrations: {e:?}"));
    files.sort();
    let mut hasher = Sha256::new();
    for file in files {
        hasher.update(
            file.file_name()
                .map(|n| n.as_encoded_bytes())
                .unwrap_or_default(),
        );
        hasher.update(std::fs::read(&file).unwrap_or_default());
    }
    hasher
        .finalize()
        .iter()
        .take(6)
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Drops test databases whose process is gone, and templates of other migration sets.
async fn sweep(client: &tokio_postgres::Client, keep_template: &str) {
    let rows = client
        .query(
            "SELECT datname FROM pg_database WHERE datname LIKE 'ucp\\_t\\_%' \
             OR datname LIKE 'ucp\\_tpl\\_%'",
            &[],
        )
        .await
        .unwrap_or_else(|e| panic!("listing databases: {e:?}"));
    for row in rows {
        let name: String = row.get(0);
        let stale = if let Some(rest) = name.strip_prefix(TEST_DB_PREFIX) {
            let pid = rest.split('_').next().unwrap_or_default();
            !std::path::Path::new(&format!("/proc/{pid}")).exists()
        } else {
            name != keep_template
        };
        if stale {
            let _ = client
                .batch_execute(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                .await;
        }
    }
}

static TEMPLATE: OnceCell<String> = OnceCell::const_new();

/// The migrated template for this set of migrations, made once per cluster.
async fn template() -> String {
    TEMPLATE
        .get_or_init(|| async {
            let name = format!("{TEMPLATE_PREFIX}{}", migrations_digest());
            let client = admin_client().await;
            client
                .execute("SELECT pg_advisory_lock($1)", &[&TEMPLATE_LOCK])
                .await
                .unwrap_or_else(|e| panic!("template lock: {e:?}"));
            sweep(&client, &name).await;
            let exists = client
                .query_opt("SELECT 1 FROM pg_database WHERE datname = $1", &[&name])
                .await
                .unwrap_or_else(|e| panic!("looking for the template: {e:?}"))
                .is_some();
            if !exists {
                let building = format!("{name}_building");
                // Two statements: CREATE DATABASE refuses to run in a (multi-statement) block.
                client
                    .batch_execute(&format!(
                        "DROP DATABASE IF EXISTS \"{building}\" WITH (FORCE)"
                    ))
                    .await
                    .unwrap_or_else(|e| panic!("dropping a half-made template: {e:?}"));
                client
                    .batch_execute(&format!("CREATE DATABASE \"{building}\""))
                    .await
                    .unwrap_or_else(|e| panic!("creating the template: {e:?}"));
                ucp_store::migrate(&url_for(&building))
                    .await
                    .unwrap_or_else(|e| panic!("migrating the template: {e:?}"));
                client
                    .batch_execute(&format!(
                        "ALTER DATABASE \"{building}\" RENAME TO \"{name}\""
                    ))
                    .await
                    .unwrap_or_else(|e| panic!("naming the template: {e:?}"));
            }
            client
                .execute("SELECT pg_advisory_unlock($1)", &[&TEMPLATE_LOCK])
                .await
                .unwrap_or_else(|e| panic!("template unlock: {e:?}"));
            name
        })
        .await
        .clone()
}

/// A database of a test's own, dropped when it goes out of scope.
pub struct TestDb {
    pub name: String,
}

impl TestDb {
    /// A migrated database, cloned from the template.
    pub async fn migrated() -> Self {
        let template = template().await;
        Self::create(Some(&template)).await
    }

    /// An empty database, for tests of migrating itself.
    pub async fn empty() -> Self {
        Self::create(None).await
    }

    async fn create(template: Option<&str>) -> Self {
        // reqwest is built without a default TLS provider: every test process uses ring, as the
        // server does.
        ucp_app::tls::install_crypto_provider();
        let name = format!(
            "{TEST_DB_PREFIX}{}_{}",
            std::process::id(),
            uuid::Uuid::new_v4().simple()
        );
        let sql = match template {
            Some(t) => format!("CREATE DATABASE \"{name}\" TEMPLATE \"{t}\""),
            None => format!("CREATE DATABASE \"{name}\""),
        };
        admin_client()
            .await
            .batch_execute(&sql)
            .await
            .unwrap_or_else(|e| panic!("creating {name}: {e:?}"));
        Self { name }
    }

    pub fn url(&self) -> String {
        url_for(&self.name)
    }

    /// The store as the server uses it: pooled sessions in the application role.
    pub fn store(&self, max_connections: usize) -> Database {
        Database::new(
            ucp_store::connect(&self.config(max_connections))
                .unwrap_or_else(|e| panic!("pool: {e:?}")),
        )
    }

    pub fn config(&self, max_connections: usize) -> DatabaseConfig {
        let mut config = DatabaseConfig::new(self.url());
        config.max_connections = max_connections;
        config.acquire_timeout = Duration::from_secs(30);
        config
    }

    /// How many events the log holds.
    pub async fn event_count(&self) -> usize {
        let n: i64 = self
            .owner_client()
            .await
            .query_one("SELECT count(*) FROM events", &[])
            .await
            .unwrap()
            .get(0);
        usize::try_from(n).unwrap_or_default()
    }

    /// A direct session as the migrating (owner) user, not the application role.
    pub async fn owner_client(&self) -> tokio_postgres::Client {
        let (client, connection) = tokio_postgres::connect(&self.url(), NoTls)
            .await
            .unwrap_or_else(|e| panic!("connecting to {}: {e:?}", self.name));
        tokio::spawn(connection);
        client
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let name = self.name.clone();
        // Drop may run on a runtime's thread, which must not block on another runtime: use a
        // thread of our own.
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            runtime.block_on(async {
                let (client, connection) =
                    tokio_postgres::connect(&admin_url(), NoTls).await.ok()?;
                tokio::spawn(connection);
                client
                    .batch_execute(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                    .await
                    .ok()
            })
        })
        .join();
        if !matches!(dropped, Ok(Some(()))) {
            eprintln!(
                "warning: test database {} was not dropped; the next run sweeps it",
                self.name
            );
        }
    }
}

pub const TEST_SECRET: &[u8] = b"test-secret";

/// A valid token for a role.
pub fn token(role: ucp_api::Role) -> String {
    token_with(role, None)
}

/// A valid token for a role; patients carry an NHS number.
pub fn token_with(role: ucp_api::Role, nhs_number: Option<&str>) -> String {
    token_living(role, nhs_number, 3600)
}

/// A token for a role that expires `seconds` from now.
pub fn token_living(role: ucp_api::Role, nhs_number: Option<&str>, seconds: u64) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default();
    mint(ucp_api::Claims {
        sub: format!("{}-test", role.as_str()),
        role,
        org: Some("F84001".into()),
        org_name: None,
        name: Some(format!("Test {}", role.as_str())),
        registration: None,
        nhs_number: nhs_number.map(str::to_owned),
        identity_proofing_level: (role == ucp_api::Role::Patient).then(|| "P9".to_owned()),
        exp: now + seconds,
        iat: now,
    })
}

/// A professional's token of their own: another clinician than [`token`]'s, with a name and,
/// when given, the registration their sign-in carries.
pub fn token_as(role: ucp_api::Role, sub: &str, name: &str, registration: Option<&str>) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default();
    mint(ucp_api::Claims {
        sub: sub.to_owned(),
        role,
        org: Some("F84001".into()),
        org_name: None,
        name: Some(name.to_owned()),
        registration: registration.map(str::to_owned),
        nhs_number: None,
        identity_proofing_level: None,
        exp: now + 3600,
        iat: now,
    })
}

/// A professional's token at another organisation than [`token`]'s (`F84001`).
pub fn token_at(role: ucp_api::Role, org: &str) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default();
    mint(ucp_api::Claims {
        sub: format!("{}-at-{org}", role.as_str()),
        role,
        org: Some(org.to_owned()),
        org_name: None,
        name: Some(format!("Test {} at {org}", role.as_str())),
        registration: None,
        nhs_number: None,
        identity_proofing_level: None,
        exp: now + 3600,
        iat: now,
    })
}

/// A care home's staff member's token: the home's code and name, as their social care record
/// system signs them in.
pub fn token_for_home(org: &str, org_name: &str) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default();
    mint(ucp_api::Claims {
        sub: format!("carer-at-{org}"),
        role: ucp_api::Role::CareHome,
        org: Some(org.to_owned()),
        org_name: Some(org_name.to_owned()),
        name: Some(format!("Carer at {org_name}")),
        registration: None,
        nhs_number: None,
        identity_proofing_level: None,
        exp: now + 3600,
        iat: now,
    })
}

fn mint(claims: ucp_api::Claims) -> String {
    ucp_api::JwtKeys::hs256(TEST_SECRET).mint(&claims).unwrap()
}

/// A client that states a purpose of use (direct care) on every request, as a professional's
/// system does; tests of the purpose rule itself use [`reqwest::Client::new`].
pub fn purposeful_client() -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        "x-purpose-of-use",
        reqwest::header::HeaderValue::from_static("direct-care"),
    );
    reqwest::Client::builder()
        .default_headers(headers)
        .build()
        .unwrap()
}

/// The real server on a random port, on a database of its own.
pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    // Last, so the server's connections are gone before the database is dropped.
    pub db: Database,
    pub test_db: TestDb,
}

/// How a test's server is made: the test database, the token keys, the API's settings and the
/// database's, each as the default unless a test changes it. `TestApp::spawn()` is the default.
pub struct TestAppBuilder {
    test_db: Option<TestDb>,
    keys: Option<ucp_api::JwtKeys>,
    api: Vec<Tune<ApiConfig>>,
    database: Vec<Tune<DatabaseConfig>>,
}

/// A change a test makes to a configuration.
type Tune<C> = Box<dyn FnOnce(&mut C)>;

impl TestAppBuilder {
    /// On this database (migrated or not) rather than a new migrated one.
    pub fn on(mut self, test_db: TestDb) -> Self {
        self.test_db = Some(test_db);
        self
    }

    /// With these token keys rather than the test secret.
    pub fn keys(mut self, keys: ucp_api::JwtKeys) -> Self {
        self.keys = Some(keys);
        self
    }

    /// With the API's settings changed by `tune`.
    pub fn api(mut self, tune: impl FnOnce(&mut ApiConfig) + 'static) -> Self {
        self.api.push(Box::new(tune));
        self
    }

    /// With the database settings (pool, timeouts) changed by `tune`.
    pub fn database(mut self, tune: impl FnOnce(&mut DatabaseConfig) + 'static) -> Self {
        self.database.push(Box::new(tune));
        self
    }

    pub async fn spawn(self) -> TestApp {
        let test_db = match self.test_db {
            Some(db) => db,
            None => TestDb::migrated().await,
        };
        let mut db_config = test_db.config(8);
        for tune in self.database {
            tune(&mut db_config);
        }
        let keys = self
            .keys
            .unwrap_or_else(|| ucp_api::JwtKeys::hs256(TEST_SECRET));
        let api = self.api;
        TestApp::spawn_from(test_db, &db_config, keys, move |config| {
            for tune in api {
                tune(config);
            }
        })
        .await
    }
}

impl TestApp {
    /// The real server with the test defaults, on a new migrated database.
    pub async fn spawn() -> Self {
        Self::builder().spawn().await
    }

    /// A server made to a test's needs (see [`TestAppBuilder`]).
    pub fn builder() -> TestAppBuilder {
        TestAppBuilder {
            test_db: None,
            keys: None,
            api: Vec::new(),
            database: Vec::new(),
        }
    }

    /// The server with the test configuration changed by `tune`.
    pub async fn spawn_tuned(tune: impl FnOnce(&mut ApiConfig) + 'static) -> Self {
        Self::builder().api(tune).spawn().await
    }

    async fn spawn_from(
        test_db: TestDb,
        db_config: &DatabaseConfig,
        keys: ucp_api::JwtKeys,
        tune: impl FnOnce(&mut ApiConfig),
    ) -> Self {
        let state = AppState::open(db_config).unwrap();
        let mut config = ApiConfig {
            listen: "127.0.0.1:0".to_owned(),
            workers: Some(2),
            jwt: keys,
            // Long enough that a quick answer can only come from a wake-up.
            feed_poll: Duration::from_secs(5),
            delivery: ucp_api::webhooks::DeliveryConfig {
                timeout: Duration::from_secs(2),
                base_backoff: Duration::from_millis(50),
                max_backoff: Duration::from_millis(300),
                scan_interval: Duration::from_millis(200),
            },
            body_limits: ucp_api::body::BodyLimits {
                max_bytes: 64 * 1024,
                ..ucp_api::body::BodyLimits::default()
            },
            // The tests' receivers are plain HTTP on loopback (one test checks https), which
            // the allow-list must name.
            webhook_tls: ucp_api::webhooks::WebhookTls {
                allow_http: true,
                ca_file: None,
                allow: loopback_allowed(),
            },
            ..ApiConfig::default()
        };
        tune(&mut config);
        let db = state.db.clone();
        let app = Application::build(&config, state)
            .unwrap_or_else(|e| panic!("building the server: {e:?}"));
        let address = format!("http://127.0.0.1:{}", app.port());
        tokio::spawn(app.run_until_stopped());
        Self {
            address,
            client: purposeful_client(),
            db,
            test_db,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    /// A request with a bearer token for the role.
    pub fn req(
        &self,
        method: reqwest::Method,
        path: &str,
        role: ucp_api::Role,
    ) -> reqwest::RequestBuilder {
        self.client
            .request(method, self.url(path))
            .bearer_auth(token(role))
    }

    /// Creates a plan as a clinician and returns its document.
    pub async fn create_plan(&self, body: &serde_json::Value) -> serde_json::Value {
        let res = self
            .req(
                reqwest::Method::POST,
                "/v1/care-plans",
                ucp_api::Role::Clinician,
            )
            .json(body)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status().as_u16(), 201, "create");
        res.json().await.unwrap()
    }

    /// How many events the log holds: what a follower of the feed must eventually see.
    pub async fn event_count(&self) -> usize {
        self.test_db.event_count().await
    }

    /// GET as a role: the status and the JSON body (`Null` when there is none).
    pub async fn get_json(&self, path: &str, role: ucp_api::Role) -> (u16, serde_json::Value) {
        let res = self
            .req(reqwest::Method::GET, path, role)
            .send()
            .await
            .unwrap_or_else(|e| panic!("GET {path}: {e:?}"));
        let status = res.status().as_u16();
        (status, res.json().await.unwrap_or(serde_json::Value::Null))
    }

    /// A write as a role, with `If-Match` and a JSON body.
    pub async fn write(
        &self,
        role: ucp_api::Role,
        method: reqwest::Method,
        path: &str,
        if_match: &str,
        body: &serde_json::Value,
    ) -> reqwest::Response {
        self.req(method.clone(), path, role)
            .header("If-Match", if_match)
            .json(body)
            .send()
            .await
            .unwrap_or_else(|e| panic!("{method} {path}: {e:?}"))
    }

    /// Replaces a section of a plan as a clinician.
    pub async fn put_section(
        &self,
        plan_id: &str,
        section: &str,
        if_match: &str,
        body: &serde_json::Value,
    ) -> reqwest::Response {
        self.write(
            ucp_api::Role::Clinician,
            reqwest::Method::PUT,
            &format!("/v1/care-plans/{plan_id}/sections/{section}"),
            if_match,
            body,
        )
        .await
    }

    /// Rebuilds the read models from the log, as `ucp projections rebuild` does (as the owner).
    pub async fn rebuild(&self) -> ucp_store::projections::rebuild::RebuildReport {
        ucp_store::projections::rebuild::rebuild_care_plan_read_models(
            &self.test_db.url(),
            &ucp_store::DatabaseTls::default(),
            &|_, _| {},
        )
        .await
        .unwrap_or_else(|e| panic!("rebuild: {e:?}"))
    }

    /// The emergency summary as a role, which must be served.
    pub async fn summary(&self, nhs_number: &str, role: ucp_api::Role) -> serde_json::Value {
        let (status, body) = self
            .get_json(
                &format!("/v1/patients/{nhs_number}/emergency-summary"),
                role,
            )
            .await;
        assert_eq!(status, 200, "summary of {nhs_number}: {body}");
        body
    }

    /// The Prometheus text of `GET /metrics`.
    pub async fn metrics(&self) -> String {
        reqwest::get(self.url("/metrics"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .send()
            .await
            .unwrap_or_else(|e| panic!("GET {path}: {e:?}"))
    }
}

/// The body of a problem+json response, after checking that it is one.
pub async fn problem(response: reqwest::Response, status: u16) -> serde_json::Value {
    assert_eq!(response.status().as_u16(), status, "status");
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert_eq!(content_type, "application/problem+json");
    let body: serde_json::Value = response
        .json()
        .await
        .unwrap_or_else(|e| panic!("problem body: {e:?}"));
    assert_eq!(body["status"], status);
    for field in ["type", "title", "detail", "code"] {
        assert!(body[field].is_string(), "problem without {field}: {body}");
    }
    body
}

/// Every change of the feed, in order, with the cursor after the last. The feed holds back a
/// committed change until every older transaction of the cluster has ended (other tests run
/// beside this one), so an empty page does not mean the end: read until `expected` changes
/// have come (or 20 s have passed).
pub async fn all_changes(
    base: &str,
    client: &reqwest::Client,
    expected: usize,
) -> (Vec<serde_json::Value>, String) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    let mut changes = Vec::new();
    let mut after = String::new();
    while changes.len() < expected && tokio::time::Instant::now() < deadline {
        let page: serde_json::Value = client
            .get(format!("{base}/v1/feed?limit=1000&after={after}"))
            .bearer_auth(token(ucp_api::Role::Dispatch))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let batch = page["changes"].as_array().cloned().unwrap_or_default();
        if batch.is_empty() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        changes.extend(batch);
        after = page["next"].as_str().unwrap_or_default().to_owned();
    }
    (changes, after)
}

/// An allow-list that admits the tests' receivers on this machine.
#[must_use]
pub fn loopback_allowed() -> ucp_api::webhooks::TargetPolicy {
    "localhost,127.0.0.0/8,::1"
        .parse()
        .unwrap_or_else(|e| panic!("the tests' allow-list: {e}"))
}

/// The request id the server gave a response: the key of its access-log entries.
#[must_use]
pub fn request_id(res: &reqwest::Response) -> String {
    res.headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

/// The entries written for one request id, straight from the table.
pub async fn entries_for(app: &TestApp, request_id: &str) -> Vec<tokio_postgres::Row> {
    app.test_db
        .owner_client()
        .await
        .query(
            "SELECT status, actor, role, action, plan_id, nhs_number, plan_version, view, purpose \
             FROM access_log WHERE request_id = $1",
            &[&request_id],
        )
        .await
        .unwrap()
}

/// What an access-log entry showed, replayed by an admin (`/v1/audit/{entryId}/shown`).
pub async fn replayed(app: &TestApp, entry_id: &str) -> serde_json::Value {
    app.client
        .get(app.url(&format!("/v1/audit/{entry_id}/shown")))
        .bearer_auth(token(ucp_api::Role::Admin))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}
