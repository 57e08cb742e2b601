//! What a production deployment refuses to start with. Development (`make run`) signs tokens
//! with a shared secret printed in the Makefile; a server holding that secret in production
//! would let anyone who has read the repository mint a clinician's token.

/// The development secret of the Makefile and the README: known to everyone.
pub const DEVELOPMENT_SECRET: &str = "ucp-development-secret-do-not-use-in-production";

/// Where the server runs (`UCP_ENV`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Deployment {
    /// Anything goes that the configuration allows.
    #[default]
    Development,
    /// Tokens must come from a real issuer, for this service, and be short-lived.
    Production,
}

/// How tokens are to be verified, as configured.
#[derive(Debug, Clone, Copy, Default)]
pub struct TokenSettings<'a> {
    pub hs256_secret: Option<&'a str>,
    /// `UCP_ALLOW_HS256`: HS256 is accepted in production only when this says so.
    pub allow_hs256: bool,
    pub jwks: bool,
    /// The identity configuration names trusted issuers.
    pub trusted_issuers: bool,
    pub issuer: Option<&'a str>,
    pub audience: Option<&'a str>,
}

/// Why a production server refuses to start.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    #[error("UCP_ENV=production refuses the development secret: set UCP_JWT_SECRET to a secret of your own, or use UCP_JWKS_FILE")]
    DevelopmentSecret,
    #[error("UCP_ENV=production refuses HS256 (shared-secret) tokens unless UCP_ALLOW_HS256=true")]
    Hs256NotAllowed,
    #[error("UCP_ENV=production needs UCP_JWT_AUDIENCE, so that tokens issued for another service are refused")]
    NoAudience,
    #[error("UCP_ENV=production needs UCP_JWT_ISSUER, so that only your identity provider's tokens are accepted")]
    NoIssuer,
    #[error("no token keys: set UCP_IDENTITY_CONFIG or UCP_JWKS_FILE (or UCP_JWT_SECRET in development)")]
    NoKeys,
    #[error("UCP_ENV=production refuses to reach PostgreSQL without TLS: {url} has no sslmode=require; add it, or set UCP_DB_ALLOW_PLAINTEXT=true if the network is private on purpose")]
    DatabasePlaintext {
        /// Which setting names the URL (never the URL itself: it may hold a password).
        url: &'static str,
    },
}

impl std::str::FromStr for Deployment {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "development" => Ok(Self::Development),
            "production" => Ok(Self::Production),
            other => Err(format!(
                "{other:?} is not a deployment: say development or production"
            )),
        }
    }
}

impl Deployment {
    /// Every rule the settings break, in the order an operator would fix them.
    ///
    /// # Errors
    /// The rules broken.
    pub fn check(self, s: &TokenSettings<'_>) -> Result<(), Vec<PolicyError>> {
        let mut broken = Vec::new();
        if s.hs256_secret.is_none() && !s.jwks && !s.trusted_issuers {
            broken.push(PolicyError::NoKeys);
        }
        if self == Self::Production {
            if s.hs256_secret == Some(DEVELOPMENT_SECRET) {
                broken.push(PolicyError::DevelopmentSecret);
            } else if s.hs256_secret.is_some() && !s.allow_hs256 {
                broken.push(PolicyError::Hs256NotAllowed);
            }
            // A JWKS file or a shared secret of its own names no issuer: it must be told whose
            // tokens to accept, even beside an identity configuration (whose issuers carry
            // their own iss and audience).
            let lone_jwks = s.jwks || s.hs256_secret.is_some() || !s.trusted_issuers;
            if lone_jwks && s.audience.is_none_or(str::is_empty) {
                broken.push(PolicyError::NoAudience);
            }
            if lone_jwks && s.issuer.is_none_or(str::is_empty) {
                broken.push(PolicyError::NoIssuer);
            }
        }
        if broken.is_empty() {
            Ok(())
        } else {
            Err(broken)
        }
    }

    /// Refuses, in production, a connection to PostgreSQL that would carry patient data in
    /// plain text. `plaintext` names the settings whose URLs do not require TLS.
    ///
    /// # Errors
    /// One [`PolicyError::DatabasePlaintext`] per such setting, unless `allow_plaintext`
    /// (`UCP_DB_ALLOW_PLAINTEXT=true`) says the network is private on purpose.
    pub fn check_database(
        self,
        plaintext: &[&'static str],
        allow_plaintext: bool,
    ) -> Result<(), Vec<PolicyError>> {
        if self == Self::Development || allow_plaintext || plaintext.is_empty() {
            return Ok(());
        }
        Err(plaintext
            .iter()
            .map(|url| PolicyError::DatabasePlaintext { url })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn production_ready() -> TokenSettings<'static> {
        TokenSettings {
            hs256_secret: None,
            allow_hs256: false,
            jwks: true,
            trusted_issuers: false,
            issuer: Some("https://idp.example"),
            audience: Some("ucp"),
        }
    }

    #[test]
    fn production_accepts_a_real_issuer() {
        assert_eq!(Deployment::Production.check(&production_ready()), Ok(()));
    }

    #[test]
    fn production_refuses_the_development_secret_even_when_hs256_is_allowed() {
        let s = TokenSettings {
            hs256_secret: Some(DEVELOPMENT_SECRET),
            allow_hs256: true,
            ..production_ready()
        };
        assert_eq!(
            Deployment::Production.check(&s),
            Err(vec![PolicyError::DevelopmentSecret])
        );
        assert_eq!(Deployment::Development.check(&s), Ok(()));
    }

    #[test]
    fn production_refuses_hs256_unless_allowed() {
        let s = TokenSettings {
            hs256_secret: Some("a-secret-of-our-own-0123456789"),
            ..production_ready()
        };
        assert_eq!(
            Deployment::Production.check(&s),
            Err(vec![PolicyError::Hs256NotAllowed])
        );
        let allowed = TokenSettings {
            allow_hs256: true,
            ..s
        };
        assert_eq!(Deployment::Production.check(&allowed), Ok(()));
    }

    #[test]
    fn production_needs_audience_and_issuer() {
        let s = TokenSettings {
            issuer: None,
            audience: Some(""),
            ..production_ready()
        };
        assert_eq!(
            Deployment::Production.check(&s),
            Err(vec![PolicyError::NoAudience, PolicyError::NoIssuer])
        );
        assert_eq!(Deployment::Development.check(&s), Ok(()));
    }

    #[test]
    fn no_keys_is_refused_everywhere() {
        let s = TokenSettings::default();
        assert_eq!(
            Deployment::Development.check(&s),
            Err(vec![PolicyError::NoKeys])
        );
    }

    #[test]
    fn production_with_trusted_issuers_needs_no_lone_issuer_settings_and_refuses_the_development_secret(
    ) {
        let issuers_only = TokenSettings {
            jwks: false,
            trusted_issuers: true,
            issuer: None,
            audience: None,
            ..production_ready()
        };
        assert_eq!(Deployment::Production.check(&issuers_only), Ok(()));
        let with_secret = TokenSettings {
            hs256_secret: Some(DEVELOPMENT_SECRET),
            allow_hs256: true,
            ..issuers_only
        };
        assert_eq!(
            Deployment::Production.check(&with_secret),
            Err(vec![
                PolicyError::DevelopmentSecret,
                PolicyError::NoAudience,
                PolicyError::NoIssuer
            ])
        );
        assert_eq!(Deployment::Development.check(&with_secret), Ok(()));
    }

    #[test]
    fn production_with_trusted_issuers_and_a_secret_of_its_own_needs_audience_and_issuer() {
        let s = TokenSettings {
            hs256_secret: Some("a-secret-of-our-own-0123456789"),
            allow_hs256: true,
            jwks: false,
            trusted_issuers: true,
            issuer: None,
            audience: None,
        };
        assert_eq!(
            Deployment::Production.check(&s),
            Err(vec![PolicyError::NoAudience, PolicyError::NoIssuer])
        );
        let named = TokenSettings {
            issuer: Some("https://idp.example"),
            audience: Some("ucp"),
            ..s
        };
        assert_eq!(Deployment::Production.check(&named), Ok(()));
    }

    #[test]
    fn production_refuses_plaintext_to_the_database_unless_told() {
        assert_eq!(
            Deployment::Production.check_database(&["UCP_APP_DATABASE_URL"], false),
            Err(vec![PolicyError::DatabasePlaintext {
                url: "UCP_APP_DATABASE_URL"
            }])
        );
        assert_eq!(
            Deployment::Production.check_database(&["UCP_APP_DATABASE_URL"], true),
            Ok(())
        );
        assert_eq!(Deployment::Production.check_database(&[], false), Ok(()));
        assert_eq!(
            Deployment::Development.check_database(&["DATABASE_URL"], false),
            Ok(())
        );
    }
}
