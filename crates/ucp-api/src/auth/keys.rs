//! Token verification keys: an HS256 secret for development, and RS256/ES256 public keys from a
//! JWKS file for production, chosen by `kid` and reloaded when the file changes or a token names
//! a key not yet known — so keys rotate without a restart.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant, SystemTime};

use jsonwebtoken::jwk::{AlgorithmParameters, JwkSet, KeyAlgorithm};
use jsonwebtoken::{
    decode, decode_header, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation,
};

use super::Claims;
use crate::problem::ApiError;

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
}

/// How often, at most, a token naming an unknown key may force the file to be read again.
const FORCED_RELOAD_INTERVAL: Duration = Duration::from_secs(1);

struct Loaded {
    stamp: Option<(SystemTime, u64)>,
    keys: HashMap<String, (Algorithm, Arc<DecodingKey>)>,
    forced_at: Option<Instant>,
}

struct JwksFile {
    path: PathBuf,
    loaded: RwLock<Loaded>,
}

fn stamp(path: &Path) -> Option<(SystemTime, u64)> {
    let meta = std::fs::metadata(path).ok()?;
    Some((meta.modified().ok()?, meta.len()))
}

fn load(path: &Path) -> Result<HashMap<String, (Algorithm, Arc<DecodingKey>)>, KeyError> {
    let text = std::fs::read_to_string(path).map_err(|source| KeyError::Read {
        path: path.to_owned(),
        source,
    })?;
    let set: JwkSet = serde_json::from_str(&text).map_err(|e| KeyError::Parse {
        path: path.to_owned(),
        reason: e.to_string(),
    })?;
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
        let key = DecodingKey::from_jwk(jwk).map_err(|e| KeyError::Parse {
            path: path.to_owned(),
            reason: format!("key {kid}: {e}"),
        })?;
        keys.insert(kid, (alg, Arc::new(key)));
    }
    Ok(keys)
}

impl JwksFile {
    fn open(path: PathBuf) -> Result<Self, KeyError> {
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

    fn key(&self, kid: &str) -> Option<(Algorithm, Arc<DecodingKey>)> {
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

/// Verifies tokens (and mints development ones).
#[derive(Clone, Default)]
pub struct JwtKeys {
    secret: Option<Arc<(DecodingKey, EncodingKey)>>,
    jwks: Option<Arc<JwksFile>>,
    issuer: Option<String>,
    audience: Option<String>,
    max_lifetime: Option<Duration>,
}

impl std::fmt::Debug for JwtKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwtKeys")
            .field("hs256", &self.secret.is_some())
            .field("jwks", &self.jwks.as_ref().map(|j| j.path.clone()))
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .field("max_lifetime", &self.max_lifetime)
            .finish()
    }
}

impl JwtKeys {
    /// HS256 with a shared secret, for development.
    #[must_use]
    pub fn hs256(secret: &[u8]) -> Self {
        Self {
            secret: Some(Arc::new((
                DecodingKey::from_secret(secret),
                EncodingKey::from_secret(secret),
            ))),
            ..Self::default()
        }
    }

    /// Also accept RS256/ES256 tokens signed by the keys in a JWKS file.
    ///
    /// # Errors
    /// When the file cannot be read or parsed at start.
    pub fn with_jwks_file(mut self, path: impl Into<PathBuf>) -> Result<Self, KeyError> {
        self.jwks = Some(Arc::new(JwksFile::open(path.into())?));
        Ok(self)
    }

    /// Require this `iss`.
    #[must_use]
    pub fn with_issuer(mut self, issuer: Option<String>) -> Self {
        self.issuer = issuer;
        self
    }

    /// Require this `aud`.
    #[must_use]
    pub fn with_audience(mut self, audience: Option<String>) -> Self {
        self.audience = audience;
        self
    }

    /// Refuse tokens that live longer than this (from `iat`, or from now when there is no
    /// `iat`): a stolen long-lived token is a standing key to every plan.
    #[must_use]
    pub fn with_max_lifetime(mut self, max: Option<Duration>) -> Self {
        self.max_lifetime = max;
        self
    }

    /// Signs claims with the development secret.
    ///
    /// # Errors
    /// When no secret is configured or signing fails.
    pub fn mint(&self, claims: &Claims) -> Result<String, jsonwebtoken::errors::Error> {
        let secret = self
            .secret
            .as_ref()
            .ok_or(jsonwebtoken::errors::ErrorKind::InvalidKeyFormat)?;
        encode(&Header::new(Algorithm::HS256), claims, &secret.1)
    }

    pub(super) fn verify(&self, token: &str) -> Result<Claims, ApiError> {
        let invalid =
            |why: String| ApiError::Unauthorized(format!("The bearer token is not valid: {why}."));
        let header = decode_header(token).map_err(|e| invalid(e.to_string()))?;
        let (alg, key): (Algorithm, Arc<DecodingKey>) = match header.alg {
            Algorithm::HS256 => {
                let secret = self
                    .secret
                    .as_ref()
                    .ok_or_else(|| invalid("HS256 tokens are not accepted here".into()))?;
                (Algorithm::HS256, Arc::new(secret.0.clone()))
            }
            _ => {
                let jwks = self.jwks.as_ref().ok_or_else(|| {
                    invalid(format!("{:?} tokens are not accepted here", header.alg))
                })?;
                let kid = header
                    .kid
                    .as_deref()
                    .ok_or_else(|| invalid("the token names no key (kid)".into()))?;
                let (alg, key) = jwks
                    .key(kid)
                    .ok_or_else(|| invalid(format!("key {kid:?} is not known")))?;
                if alg != header.alg {
                    return Err(invalid(format!(
                        "key {kid:?} is for {alg:?}, not {:?}",
                        header.alg
                    )));
                }
                (alg, key)
            }
        };
        let mut validation = Validation::new(alg);
        validation.validate_nbf = true;
        let mut required = vec!["exp"];
        if let Some(iss) = &self.issuer {
            validation.set_issuer(&[iss]);
            required.push("iss");
        }
        if let Some(aud) = &self.audience {
            validation.set_audience(&[aud]);
            required.push("aud");
        } else {
            validation.validate_aud = false;
        }
        validation.set_required_spec_claims(&required);
        let claims = decode::<Claims>(token, &key, &validation)
            .map(|data| data.claims)
            .map_err(|e| invalid(e.to_string()))?;
        if let Some(max) = self.max_lifetime {
            let now = SystemTime::now()
                .duration_since(SystemTime::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs());
            let from = if claims.iat == 0 { now } else { claims.iat };
            let lifetime = claims.exp.saturating_sub(from.min(now));
            if lifetime > max.as_secs() {
                return Err(invalid(format!(
                    "it lives {lifetime} s, longer than the {} s allowed",
                    max.as_secs()
                )));
            }
        }
        Ok(claims)
    }
}
