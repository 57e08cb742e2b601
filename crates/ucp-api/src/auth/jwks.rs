//! Public keys for verifying tokens, chosen by `kid`: from a JWKS file (reloaded when it changes)
//! or from an issuer's JWKS URL (fetched, cached and fetched again when it is stale or a token
//! names a key not yet seen), so that an identity provider rotates its keys without a restart.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant, SystemTime};

use jsonwebtoken::jwk::{AlgorithmParameters, JwkSet, KeyAlgorithm};
use jsonwebtoken::{Algorithm, DecodingKey};

/// Why keys could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("cannot read the JWKS file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the JWKS file {path} is not a JWK set: {reason}")]
    Parse { path: PathBuf, reason: String },
    #[error("cannot fetch the JWKS at {url}: {reason}")]
    Fetch { url: String, reason: String },
}

/// A verification key and the one algorithm it may verify.
pub(crate) type Key = (Algorithm, Arc<DecodingKey>);
type KeyMap = HashMap<String, Key>;

/// How often, at most, a token naming an unknown key may force the keys to be loaded again.
const FORCED_RELOAD_INTERVAL: Duration = Duration::from_secs(1);

/// The keys of a JWK set that have a `kid` and an algorithm this service verifies.
fn parse_key_set(text: &str) -> Result<KeyMap, String> {
    let set: JwkSet = serde_json::from_str(text).map_err(|e| e.to_string())?;
    let mut keys = HashMap::new();
    for jwk in &set.keys {
        let Some(kid) = jwk.common.key_id.clone() else {
            continue;
        };
        // The key's own algorithm, or the one its type implies: never the token's say-so.
        let declared = jwk.common.key_algorithm.and_then(|a| match a {
            KeyAlgorithm::RS256 => Some(Algorithm::RS256),
            KeyAlgorithm::RS384 => Some(Algorithm::RS384),
            KeyAlgorithm::RS512 => Some(Algorithm::RS512),
            KeyAlgorithm::PS256 => Some(Algorithm::PS256),
            KeyAlgorithm::ES256 => Some(Algorithm::ES256),
            KeyAlgorithm::ES384 => Some(Algorithm::ES384),
            _ => None,
        });
        let alg = match (&jwk.algorithm, declared) {
            (
                AlgorithmParameters::RSA(_),
                Some(
                    a @ (Algorithm::RS256 | Algorithm::RS384 | Algorithm::RS512 | Algorithm::PS256),
                ),
            ) => a,
            (AlgorithmParameters::RSA(_), None) => Algorithm::RS256,
            (
                AlgorithmParameters::EllipticCurve(_),
                Some(a @ (Algorithm::ES256 | Algorithm::ES384)),
            ) => a,
            (AlgorithmParameters::EllipticCurve(_), None) => Algorithm::ES256,
            _ => continue,
        };
        let key = DecodingKey::from_jwk(jwk).map_err(|e| format!("key {kid}: {e}"))?;
        keys.insert(kid, (alg, Arc::new(key)));
    }
    Ok(keys)
}

fn stamp(path: &Path) -> Option<(SystemTime, u64)> {
    let meta = std::fs::metadata(path).ok()?;
    Some((meta.modified().ok()?, meta.len()))
}

fn load(path: &Path) -> Result<KeyMap, KeyError> {
    let text = std::fs::read_to_string(path).map_err(|source| KeyError::Read {
        path: path.to_owned(),
        source,
    })?;
    parse_key_set(&text).map_err(|reason| KeyError::Parse {
        path: path.to_owned(),
        reason,
    })
}

struct Loaded {
    stamp: Option<(SystemTime, u64)>,
    keys: KeyMap,
    forced_at: Option<Instant>,
}

/// A JWKS file, read again when it changes or a token names a key it does not hold.
pub(crate) struct JwksFile {
    path: PathBuf,
    loaded: RwLock<Loaded>,
}

impl JwksFile {
    pub(crate) fn open(path: PathBuf) -> Result<Self, KeyError> {
        let keys = load(&path)?;
        Ok(Self {
            loaded: RwLock::new(Loaded {
                stamp: stamp(&path),
                keys,
                forced_at: None,
            }),
            path,
        })
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    pub(crate) fn key(&self, kid: &str) -> Option<Key> {
        let current = stamp(&self.path);
        let (changed, found, may_force) = {
            let loaded = self.loaded.read().ok()?;
            (
                loaded.stamp != current,
                loaded.keys.get(kid).cloned(),
                loaded
                    .forced_at
                    .is_none_or(|t| t.elapsed() >= FORCED_RELOAD_INTERVAL),
            )
        };
        if !changed && found.is_some() {
            return found;
        }
        if !changed && !may_force {
            return None;
        }
        match load(&self.path) {
            Ok(keys) => {
                let found = keys.get(kid).cloned();
                if let Ok(mut loaded) = self.loaded.write() {
                    loaded.keys = keys;
                    loaded.stamp = current;
                    loaded.forced_at = (!changed).then(Instant::now).or(loaded.forced_at);
                }
                tracing::info!(path = %self.path.display(), "JWKS reloaded");
                found
            }
            Err(e) => {
                // Fail closed: a file that no longer parses may be one from which a compromised
                // key was being removed, so no key of the old set is trusted any more. Tokens are
                // refused until the file changes again and loads (a reader's 401, not a guess).
                if let Ok(mut loaded) = self.loaded.write() {
                    loaded.keys.clear();
                    loaded.stamp = current;
                    loaded.forced_at = Some(Instant::now());
                }
                tracing::error!(error = %e, "JWKS reload failed; refusing tokens until a good key set loads");
                None
            }
        }
    }
}

struct Fetched {
    keys: KeyMap,
    at: Option<Instant>,
    tried_at: Option<Instant>,
}

/// An issuer's published JWKS, fetched over HTTPS and cached for `refresh`. A token naming a
/// key not in the cache makes it fetch again (at most once a second), so a rotation is picked up
/// at the first token signed with the new key. When the issuer cannot be reached, the keys
/// already fetched go on verifying — a crew's sign-in does not fail because the identity
/// provider's key endpoint blinked — but only for `max_age` after they were last fetched: a key
/// the issuer has since withdrawn (compromised, say) must not be trusted forever because its
/// endpoint stays unreachable.
pub(crate) struct JwksUrl {
    url: String,
    refresh: Duration,
    max_age: Duration,
    client: reqwest::Client,
    cache: RwLock<Fetched>,
    fetching: tokio::sync::Mutex<()>,
    /// When staleness was last logged: once a minute is enough to alert, every request is a flood.
    stale_logged: std::sync::Mutex<Option<Instant>>,
}

impl JwksUrl {
    pub(crate) fn new(url: String, refresh: Duration, max_age: Duration) -> Result<Self, KeyError> {
        // Configuration is read before the server (which installs it) is built.
        ucp_app::tls::install_crypto_provider();
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .build()
            .map_err(|e| KeyError::Fetch {
                url: url.clone(),
                reason: e.to_string(),
            })?;
        Ok(Self {
            url,
            refresh,
            max_age,
            client,
            cache: RwLock::new(Fetched {
                keys: HashMap::new(),
                at: None,
                tried_at: None,
            }),
            fetching: tokio::sync::Mutex::new(()),
            stale_logged: std::sync::Mutex::new(None),
        })
    }

    pub(crate) fn url(&self) -> &str {
        &self.url
    }

    async fn fetch(&self) -> Result<KeyMap, KeyError> {
        let failed = |reason: String| KeyError::Fetch {
            url: self.url.clone(),
            reason,
        };
        let response = self
            .client
            .get(&self.url)
            .send()
            .await
            .map_err(|e| failed(e.to_string()))?;
        if !response.status().is_success() {
            return Err(failed(format!("status {}", response.status())));
        }
        let text = response.text().await.map_err(|e| failed(e.to_string()))?;
        parse_key_set(&text).map_err(failed)
    }

    fn cached(&self, kid: &str) -> (Option<Key>, bool, bool) {
        let Ok(cache) = self.cache.read() else {
            return (None, true, true);
        };
        let fresh = cache.at.is_some_and(|t| t.elapsed() < self.refresh);
        let may_force = cache
            .tried_at
            .is_none_or(|t| t.elapsed() >= FORCED_RELOAD_INTERVAL);
        (cache.keys.get(kid).cloned(), fresh, may_force)
    }

    /// The key, unless the keys are older than `max_age` (then [`StaleKeys`]).
    pub(crate) async fn key(&self, kid: &str) -> Result<Option<Key>, StaleKeys> {
        let found = self.lookup(kid).await;
        let age = self
            .cache
            .read()
            .ok()
            .and_then(|c| c.at)
            .map(|t| t.elapsed());
        match age {
            Some(age) if age > self.max_age => {
                let log_now = self.stale_logged.try_lock().ok().is_some_and(|mut at| {
                    let due = at.is_none_or(|t| t.elapsed() >= Duration::from_secs(60));
                    if due {
                        *at = Some(Instant::now());
                    }
                    due
                });
                if log_now {
                    tracing::error!(
                        url = %self.url,
                        age_seconds = age.as_secs(),
                        max_key_age_seconds = self.max_age.as_secs(),
                        "JWKS not fetched for longer than max_key_age_seconds; refusing this issuer's tokens (logged once a minute)"
                    );
                }
                Err(StaleKeys {
                    age,
                    max_age: self.max_age,
                })
            }
            _ => Ok(found),
        }
    }

    async fn lookup(&self, kid: &str) -> Option<Key> {
        let (found, fresh, may_force) = self.cached(kid);
        if fresh && found.is_some() {
            return found;
        }
        if !may_force {
            return found;
        }
        // One fetch at a time; whoever waited finds the cache the first one filled.
        let _one = self.fetching.lock().await;
        let (again, fresh_now, may_force_now) = self.cached(kid);
        if fresh_now && again.is_some() {
            return again;
        }
        if !may_force_now {
            return again;
        }
        let fetched = self.fetch().await;
        let Ok(mut cache) = self.cache.write() else {
            return None;
        };
        cache.tried_at = Some(Instant::now());
        match fetched {
            Ok(keys) => {
                tracing::info!(url = %self.url, keys = keys.len(), "JWKS fetched");
                cache.keys = keys;
                cache.at = Some(Instant::now());
                cache.keys.get(kid).cloned()
            }
            Err(e) => {
                tracing::warn!(error = %e, "JWKS fetch failed; verifying with the keys already fetched");
                cache.keys.get(kid).cloned()
            }
        }
    }
}

/// The keys an issuer's JWKS URL last gave are older than its `max_key_age_seconds`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct StaleKeys {
    pub age: Duration,
    pub max_age: Duration,
}

/// Where an issuer's keys come from.
pub(crate) enum KeySource {
    File(JwksFile),
    Url(JwksUrl),
}

impl KeySource {
    /// The key named `kid`. A file is the operator's own, never stale; a URL's keys are, past
    /// its maximum age.
    pub(crate) async fn key(&self, kid: &str) -> Result<Option<Key>, StaleKeys> {
        match self {
            Self::File(file) => Ok(file.key(kid)),
            Self::Url(url) => url.key(kid).await,
        }
    }

    pub(crate) fn describe(&self) -> String {
        match self {
            Self::File(file) => file.path().display().to_string(),
            Self::Url(url) => url.url().to_owned(),
        }
    }
}
