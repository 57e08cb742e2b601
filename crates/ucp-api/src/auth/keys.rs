//! Token verification keys: an HS256 secret for development, and RS256/ES256 public keys from a
//! JWKS file for production, chosen by `kid` and reloaded when the file changes or a token names
//! a key not yet known — so keys rotate without a restart.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use jsonwebtoken::{
    decode, decode_header, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation,
};

use super::jwks::{JwksFile, KeyError};
use super::Claims;
use crate::problem::ApiError;

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
            .field("jwks", &self.jwks.as_ref().map(|j| j.path().to_owned()))
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

    /// Whether these keys are the ones to try on a token that claims `iss` (`None`: no `iss`):
    /// HS256 when a secret is configured, others when a JWKS file is and the issuer is its own.
    ///
    /// # Errors
    /// Why not, for the caller.
    pub(super) fn accepts(&self, token: &str, iss: Option<&str>) -> Result<(), String> {
        let Ok(header) = decode_header(token) else {
            // Let verification say what is wrong with it.
            return Ok(());
        };
        let untrusted = || match iss {
            Some(iss) => format!("The token's issuer {iss:?} is not trusted here."),
            None => "The token names no issuer (iss) that this service trusts.".to_owned(),
        };
        if header.alg == Algorithm::HS256 {
            return if self.secret.is_some() {
                Ok(())
            } else {
                Err("The bearer token is not valid: HS256 (shared-secret) tokens are not accepted here.".to_owned())
            };
        }
        let own = match (&self.issuer, iss) {
            (None, _) => true,
            (Some(required), Some(iss)) => required == iss,
            (Some(_), None) => false,
        };
        if self.jwks.is_some() && own {
            Ok(())
        } else {
            Err(untrusted())
        }
    }

    /// The name the access log gives the issuer of a token these keys verify.
    pub(super) fn label(&self, token: &str) -> &'static str {
        match decode_header(token).map(|h| h.alg) {
            Ok(Algorithm::HS256) => "development",
            _ => "jwks-file",
        }
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
