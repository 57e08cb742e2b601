//! The identity configuration (`UCP_IDENTITY_CONFIG`, TOML or JSON): which issuers are trusted,
//! where their keys are, how their claims become this service's actor, and what NHS login
//! proofing a person needs. It is a file, not code, so that an information governance lead can
//! read and change who gets in without a build.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use super::cis2::Cis2Mapping;
use super::issuers::{ClaimNames, IssuerKind, TrustedIssuer, TrustedIssuers};
use super::jwks::{JwksFile, JwksUrl, KeySource};
use super::{ProofingLevel, Role};

/// How long keys fetched from a JWKS URL are trusted without a successful fetch (a day).
const DEFAULT_MAX_KEY_AGE: u64 = 86_400;

/// Why the identity configuration cannot be used; the server refuses to start.
#[derive(Debug, thiserror::Error)]
pub enum IdentityConfigError {
    #[error("cannot read the identity configuration {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the identity configuration {path} is not valid: {reason}")]
    Invalid { path: PathBuf, reason: String },
    #[error("issuer {issuer:?} in {path}: {reason}")]
    Issuer {
        path: PathBuf,
        issuer: String,
        reason: String,
    },
}

/// `deployment` of the file.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum FileDeployment {
    #[default]
    Development,
    Production,
}

/// The file, as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct IdentityFile {
    #[serde(default)]
    deployment: FileDeployment,
    #[serde(default)]
    nhs_login: NhsLoginPolicy,
    #[serde(default)]
    issuer: Vec<IssuerEntry>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct NhsLoginPolicy {
    /// The proofing level a person needs to read or change their own plan (default P9).
    #[serde(default)]
    minimum_proofing_level: Option<ProofingLevel>,
}

#[derive(Debug, Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
enum KindName {
    Cis2,
    NhsLogin,
    Claims,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct IssuerEntry {
    name: String,
    kind: KindName,
    /// The `iss` its tokens carry, exactly.
    issuer: String,
    /// The `aud` its tokens must carry for this service (the client id it registered).
    audience: String,
    #[serde(default)]
    jwks_file: Option<PathBuf>,
    #[serde(default)]
    jwks_url: Option<String>,
    /// How long fetched keys are used before being fetched again (seconds; default 300).
    #[serde(default)]
    jwks_refresh_seconds: Option<u64>,
    /// How long keys fetched from `jwks_url` are trusted when they cannot be fetched again
    /// (seconds; default 86400, a day). Past it the issuer's tokens are refused.
    #[serde(default)]
    max_key_age_seconds: Option<u64>,
    /// CIS2: the mapping file (default: the shipped `config/cis2-default-mapping.toml`).
    #[serde(default)]
    mapping: Option<PathBuf>,
    /// `claims`: the role every token of this issuer gets (e.g. `dispatch` for a dispatch
    /// system's client credentials), unless `claims.role` names a claim to read it from.
    #[serde(default)]
    role: Option<Role>,
    /// Claim names, where the issuer's differ from the defaults.
    #[serde(default)]
    claims: ClaimNames,
    /// The longest a token may live (seconds, from `iat`); default 12 hours.
    #[serde(default)]
    max_token_lifetime_seconds: Option<u64>,
}

/// What the file configures.
pub struct IdentityConfig {
    pub production: bool,
    pub issuers: TrustedIssuers,
}

impl std::fmt::Debug for IdentityConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IdentityConfig")
            .field("production", &self.production)
            .field("issuers", &self.issuers.names())
            .finish()
    }
}

fn resolve(base: &Path, path: &Path) -> PathBuf {
    if path.is_absolute() {
        path.to_owned()
    } else {
        base.join(path)
    }
}

impl IdentityConfig {
    /// Reads and checks the file: TOML, or JSON when its name ends in `.json`. Paths in it are
    /// relative to its folder.
    ///
    /// # Errors
    /// When it cannot be read, parsed or checked, or a JWKS file cannot be loaded.
    pub fn load(path: &Path) -> Result<Self, IdentityConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| IdentityConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        let invalid = |reason: String| IdentityConfigError::Invalid {
            path: path.to_owned(),
            reason,
        };
        let file: IdentityFile = if path.extension().is_some_and(|e| e == "json") {
            serde_json::from_str(&text).map_err(|e| invalid(e.to_string()))?
        } else {
            toml::from_str(&text).map_err(|e| invalid(e.to_string()))?
        };
        let base = path.parent().unwrap_or_else(|| Path::new("."));
        let production = file.deployment == FileDeployment::Production;
        let minimum = file
            .nhs_login
            .minimum_proofing_level
            .unwrap_or(ProofingLevel::P9);
        let mut issuers = Vec::with_capacity(file.issuer.len());
        for entry in file.issuer {
            let name = entry.name.clone();
            let bad = |reason: String| IdentityConfigError::Issuer {
                path: path.to_owned(),
                issuer: name.clone(),
                reason,
            };
            if issuers.iter().any(|i: &TrustedIssuer| i.name == entry.name) {
                return Err(bad("two issuers have this name".into()));
            }
            if issuers
                .iter()
                .any(|i: &TrustedIssuer| i.iss == entry.issuer)
            {
                return Err(bad(format!("another issuer has iss {:?}", entry.issuer)));
            }
            if entry.issuer.trim().is_empty() || entry.audience.trim().is_empty() {
                return Err(bad("issuer and audience must both be given".into()));
            }
            let keys = match (&entry.jwks_file, &entry.jwks_url) {
                (Some(file), None) => KeySource::File(
                    JwksFile::open(resolve(base, file)).map_err(|e| bad(e.to_string()))?,
                ),
                (None, Some(url)) => {
                    let parsed = url::Url::parse(url).map_err(|e| bad(format!("jwks_url: {e}")))?;
                    if production && parsed.scheme() != "https" {
                        return Err(bad("a production jwks_url must be https".into()));
                    }
                    let refresh = Duration::from_secs(entry.jwks_refresh_seconds.unwrap_or(300));
                    let max_age = Duration::from_secs(
                        entry.max_key_age_seconds.unwrap_or(DEFAULT_MAX_KEY_AGE),
                    );
                    if max_age < refresh {
                        return Err(bad(format!(
                            "max_key_age_seconds ({}) is shorter than jwks_refresh_seconds ({}): the keys would go stale between two fetches",
                            max_age.as_secs(),
                            refresh.as_secs()
                        )));
                    }
                    KeySource::Url(
                        JwksUrl::new(url.clone(), refresh, max_age)
                            .map_err(|e| bad(e.to_string()))?,
                    )
                }
                _ => return Err(bad("give exactly one of jwks_file and jwks_url".into())),
            };
            let kind = match entry.kind {
                KindName::Cis2 => {
                    if entry.role.is_some() {
                        return Err(bad(
                            "a CIS2 issuer's roles come from its mapping, not `role`".into(),
                        ));
                    }
                    let mapping = match &entry.mapping {
                        Some(file) => {
                            let file = resolve(base, file);
                            let text = std::fs::read_to_string(&file)
                                .map_err(|e| bad(format!("mapping {}: {e}", file.display())))?;
                            Cis2Mapping::parse(&text)
                        }
                        None => Cis2Mapping::default_mapping(),
                    }
                    .map_err(|e| bad(format!("mapping: {e}")))?;
                    IssuerKind::Cis2(mapping)
                }
                KindName::NhsLogin => {
                    if entry.role.is_some() || entry.mapping.is_some() {
                        return Err(bad(
                            "an NHS login issuer signs in the person: no `role` or `mapping`"
                                .into(),
                        ));
                    }
                    IssuerKind::NhsLogin { minimum }
                }
                KindName::Claims => {
                    if entry.mapping.is_some() {
                        return Err(bad("`mapping` is for CIS2 issuers".into()));
                    }
                    if entry.role.is_none() && entry.claims.role.is_none() {
                        return Err(bad("say which role its tokens get: `role`, or `claims.role` to read it from a claim".into()));
                    }
                    if entry.role == Some(Role::Patient) {
                        return Err(bad(
                            "the person signs in with NHS login (kind = \"nhs-login\")".into(),
                        ));
                    }
                    IssuerKind::Claims { role: entry.role }
                }
            };
            issuers.push(TrustedIssuer {
                name: entry.name,
                iss: entry.issuer,
                audience: entry.audience,
                keys,
                kind,
                claims: entry.claims,
                max_lifetime: Duration::from_secs(
                    entry.max_token_lifetime_seconds.unwrap_or(12 * 3600),
                ),
            });
        }
        Ok(Self {
            production,
            issuers: TrustedIssuers::new(issuers, minimum),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap_or_else(|e| panic!("{e:?}"));
        path
    }

    fn example() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config/identity.example.toml")
    }

    #[test]
    fn the_shipped_example_loads_with_its_four_issuers() {
        let config = IdentityConfig::load(&example()).unwrap_or_else(|e| panic!("{e}"));
        assert!(!config.production);
        assert_eq!(config.issuers.names().len(), 4);
        assert_eq!(config.issuers.minimum_proofing(), ProofingLevel::P9);
        assert!(config.issuers.find("https://cis2.dev.invalid").is_some());
        assert!(config.issuers.find("https://elsewhere.invalid").is_none());
    }

    #[test]
    fn the_shipped_example_gives_each_issuer_a_key_of_its_own() {
        let text = std::fs::read_to_string(example()).unwrap_or_else(|e| panic!("{e}"));
        let files: Vec<&str> = text
            .lines()
            .filter_map(|l| l.trim().strip_prefix("jwks_file = "))
            .map(|f| f.trim_matches('"'))
            .collect();
        assert_eq!(files.len(), 4, "{files:?}");
        let mut keys = Vec::new();
        for file in &files {
            let set: serde_json::Value = serde_json::from_str(
                &std::fs::read_to_string(example().with_file_name(file))
                    .unwrap_or_else(|e| panic!("{file}: {e}")),
            )
            .unwrap_or_else(|e| panic!("{file}: {e}"));
            for key in set["keys"].as_array().into_iter().flatten() {
                let material = format!("{}{}{}", key["n"], key["x"], key["y"]);
                assert!(
                    !keys.contains(&material),
                    "{file} shares a key with another issuer"
                );
                keys.push(material);
            }
        }
    }

    #[test]
    fn json_works_as_well_as_toml() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e:?}"));
        std::fs::copy(
            example().with_file_name("dev-nhs-login-jwks.json"),
            dir.path().join("k.json"),
        )
        .unwrap_or_else(|e| panic!("{e:?}"));
        let path = write(
            dir.path(),
            "identity.json",
            r#"{"deployment": "production", "nhs_login": {"minimum_proofing_level": "P5"},
                "issuer": [{"name": "n", "kind": "nhs-login", "issuer": "https://n", "audience": "a",
                            "jwks_file": "k.json"}]}"#,
        );
        let config = IdentityConfig::load(&path).unwrap_or_else(|e| panic!("{e}"));
        assert!(config.production);
        assert_eq!(config.issuers.minimum_proofing(), ProofingLevel::P5);
    }

    #[test]
    fn mistakes_are_refused_at_start_with_the_issuer_named() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e:?}"));
        std::fs::copy(
            example().with_file_name("dev-nhs-login-jwks.json"),
            dir.path().join("k.json"),
        )
        .unwrap_or_else(|e| panic!("{e:?}"));
        let cases = [
            ("no keys", "name = \"a\"\nkind = \"cis2\"\nissuer = \"https://a\"\naudience = \"x\"\n", "exactly one of jwks_file"),
            ("two key sources", "name = \"a\"\nkind = \"cis2\"\nissuer = \"https://a\"\naudience = \"x\"\njwks_file = \"k.json\"\njwks_url = \"https://a/jwks\"\n", "exactly one of jwks_file"),
            ("no audience", "name = \"a\"\nkind = \"cis2\"\nissuer = \"https://a\"\naudience = \"\"\njwks_file = \"k.json\"\n", "audience"),
            ("claims without a role", "name = \"a\"\nkind = \"claims\"\nissuer = \"https://a\"\naudience = \"x\"\njwks_file = \"k.json\"\n", "which role"),
            ("claims as the person", "name = \"a\"\nkind = \"claims\"\nissuer = \"https://a\"\naudience = \"x\"\njwks_file = \"k.json\"\nrole = \"patient\"\n", "NHS login"),
            ("cis2 with a fixed role", "name = \"a\"\nkind = \"cis2\"\nissuer = \"https://a\"\naudience = \"x\"\njwks_file = \"k.json\"\nrole = \"clinician\"\n", "mapping"),
            ("a missing mapping", "name = \"a\"\nkind = \"cis2\"\nissuer = \"https://a\"\naudience = \"x\"\njwks_file = \"k.json\"\nmapping = \"nope.toml\"\n", "nope.toml"),
        ];
        for (what, issuer, expected) in cases {
            let path = write(dir.path(), "i.toml", &format!("[[issuer]]\n{issuer}"));
            let error = IdentityConfig::load(&path)
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
            assert!(error.contains(expected), "{what}: {error}");
        }
        let twice = "[[issuer]]\nname = \"a\"\nkind = \"cis2\"\nissuer = \"https://a\"\naudience = \"x\"\njwks_file = \"k.json\"\n";
        let path = write(dir.path(), "i.toml", &format!("{twice}{twice}"));
        assert!(IdentityConfig::load(&path).is_err());
        let http = "deployment = \"production\"\n[[issuer]]\nname = \"a\"\nkind = \"cis2\"\nissuer = \"https://a\"\naudience = \"x\"\njwks_url = \"http://a/jwks\"\n";
        let path = write(dir.path(), "i.toml", http);
        let error = IdentityConfig::load(&path)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(error.contains("https"), "{error}");
        let unknown = write(dir.path(), "i.toml", "colour = \"blue\"\n");
        assert!(IdentityConfig::load(&unknown).is_err());
    }
}
