//! The trusted issuers: a token is matched to its issuer by `iss`, verified with that issuer's
//! keys and audience, and its claims mapped, by the issuer's kind, onto this service's actor.

use std::time::{Duration, SystemTime};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::{decode, decode_header, Validation};
use serde::Deserialize;
use ucp_domain::{NhsNumber, OdsCode};

use super::cis2::{Cis2Claims, Cis2Mapping};
use super::jwks::KeySource;
use super::{Actor, Proofing, ProofingLevel, Role};

/// Claim names where an issuer's differ from the defaults (`sub`, `name`, `org`,
/// `nhs_number`, `identity_proofing_level`; `role` for a `claims` issuer that reads it).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClaimNames {
    #[serde(default)]
    pub subject: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub organisation: Option<String>,
    #[serde(default)]
    pub nhs_number: Option<String>,
    #[serde(default)]
    pub proofing_level: Option<String>,
    #[serde(default)]
    pub role: Option<String>,
    /// The claim carrying the organisation's name (`org_name` by default), where the issuer
    /// gives one: a care home's, shown to the person it admits.
    #[serde(default)]
    pub organisation_name: Option<String>,
    /// The claim carrying a professional's registration (`GMC 1234567`, `12A3456E`…), when the
    /// issuer gives one: a signature they make is in it. No default: CIS2 returns professional
    /// memberships with its `professionalmemberships` scope, and a deployment names the claim
    /// its token carries the registration in.
    #[serde(default)]
    pub registration: Option<String>,
}

/// How an issuer's claims become an actor.
#[derive(Debug)]
pub enum IssuerKind {
    /// NHS CIS2: professionals, by their selected RBAC role.
    Cis2(Cis2Mapping),
    /// NHS login: the person, by their NHS number, at a proofing level.
    NhsLogin { minimum: ProofingLevel },
    /// Any other issuer (a dispatch system's client credentials): the role is fixed, or read
    /// from a claim.
    Claims { role: Option<Role> },
}

/// One trusted issuer.
pub struct TrustedIssuer {
    pub name: String,
    pub iss: String,
    pub audience: String,
    pub(crate) keys: KeySource,
    pub kind: IssuerKind,
    pub claims: ClaimNames,
    pub max_lifetime: Duration,
}

/// Why a token was refused, with what can be said of who presented it (for the access log):
/// the subject only once the signature has been verified.
#[derive(Debug, Clone)]
pub struct Refusal {
    /// 401 (the token proves nothing) or 403 (it proves someone this service does not admit).
    pub forbidden: bool,
    pub message: String,
    pub subject: Option<String>,
    pub issuer: Option<String>,
    /// Refused because the issuer's keys are older than its `max_key_age_seconds` (counted
    /// in the metrics: an operator must fix the issuer's JWKS endpoint).
    pub stale_keys: bool,
}

impl Refusal {
    /// A 401: the token proves nothing about who presented it.
    pub(crate) fn unauthorized(message: impl Into<String>) -> Self {
        Self {
            forbidden: false,
            message: message.into(),
            subject: None,
            issuer: None,
            stale_keys: false,
        }
    }
}

/// The issuers this deployment trusts, and what NHS login proofing it requires.
pub struct TrustedIssuers {
    issuers: Vec<TrustedIssuer>,
    minimum_proofing: ProofingLevel,
}

impl std::fmt::Debug for TrustedIssuers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TrustedIssuers")
            .field("issuers", &self.names())
            .field("minimum_proofing", &self.minimum_proofing)
            .finish()
    }
}

impl Default for TrustedIssuers {
    fn default() -> Self {
        Self::new(Vec::new(), ProofingLevel::P9)
    }
}

/// The `iss` a token claims, read before its signature is checked, only to choose the keys
/// that check it.
#[must_use]
pub fn claimed_issuer(token: &str) -> Option<String> {
    let payload = token.split('.').nth(1)?;
    let bytes = URL_SAFE_NO_PAD.decode(payload.trim_end_matches('=')).ok()?;
    let value: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    value.get("iss")?.as_str().map(str::to_owned)
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// A registration claim: a string, or a list whose first string is taken.
fn registration(claims: &serde_json::Value, name: &str) -> Option<String> {
    let first = match claims.get(name)? {
        serde_json::Value::Array(items) => items.iter().find_map(serde_json::Value::as_str)?,
        other => other.as_str()?,
    };
    Some(first.trim().to_owned()).filter(|s| !s.is_empty())
}

fn text(claims: &serde_json::Value, name: &str) -> Option<String> {
    claims
        .get(name)
        .and_then(serde_json::Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

fn given_and_family(claims: &serde_json::Value) -> Option<String> {
    let joined = [text(claims, "given_name"), text(claims, "family_name")]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
    (!joined.is_empty()).then_some(joined)
}

impl TrustedIssuers {
    #[must_use]
    pub fn new(issuers: Vec<TrustedIssuer>, minimum_proofing: ProofingLevel) -> Self {
        Self {
            issuers,
            minimum_proofing,
        }
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.issuers.is_empty()
    }

    #[must_use]
    pub fn names(&self) -> Vec<String> {
        self.issuers
            .iter()
            .map(|i| format!("{} ({}, keys from {})", i.name, i.iss, i.keys.describe()))
            .collect()
    }

    #[must_use]
    pub fn minimum_proofing(&self) -> ProofingLevel {
        self.minimum_proofing
    }

    /// The issuer whose `iss` the token claims, if it is trusted.
    #[must_use]
    pub fn find(&self, iss: &str) -> Option<&TrustedIssuer> {
        self.issuers.iter().find(|i| i.iss == iss)
    }
}

impl TrustedIssuer {
    /// Verifies the token with this issuer's keys, audience and lifetime, and maps its claims.
    ///
    /// # Errors
    /// A [`Refusal`] saying why.
    pub async fn authenticate(&self, token: &str) -> Result<Actor, Refusal> {
        let invalid = |why: String| {
            Refusal::unauthorized(format!(
                "The bearer token is not valid for issuer {}: {why}.",
                self.name
            ))
        };
        let header = decode_header(token).map_err(|e| invalid(e.to_string()))?;
        let kid = header
            .kid
            .as_deref()
            .ok_or_else(|| invalid("the token names no key (kid)".into()))?;
        let (alg, key) = self
            .keys
            .key(kid)
            .await
            .map_err(|stale| Refusal {
                issuer: Some(self.name.clone()),
                stale_keys: true,
                ..Refusal::unauthorized(format!(
                    "Tokens of issuer {} cannot be verified now: its keys were last fetched {} s ago, longer than the {} s this service trusts them without fetching them again. Try again later; the service's operators have been alerted.",
                    self.name,
                    stale.age.as_secs(),
                    stale.max_age.as_secs()
                ))
            })?
            .ok_or_else(|| invalid(format!("key {kid:?} is not one of the issuer's keys")))?;
        if alg != header.alg {
            return Err(invalid(format!(
                "key {kid:?} is for {alg:?}, not {:?}",
                header.alg
            )));
        }
        let mut validation = Validation::new(alg);
        validation.validate_nbf = true;
        validation.set_issuer(&[&self.iss]);
        validation.set_audience(&[&self.audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        let claims = decode::<serde_json::Value>(token, &key, &validation)
            .map(|data| data.claims)
            .map_err(|e| invalid(e.to_string()))?;
        let exp = claims
            .get("exp")
            .and_then(serde_json::Value::as_u64)
            .unwrap_or(0);
        let now = now();
        let from = claims
            .get("iat")
            .and_then(serde_json::Value::as_u64)
            .map_or(now, |iat| iat.min(now));
        let lifetime = exp.saturating_sub(from);
        if lifetime > self.max_lifetime.as_secs() {
            return Err(invalid(format!(
                "it lives {lifetime} s, longer than the {} s allowed",
                self.max_lifetime.as_secs()
            )));
        }
        let names = &self.claims;
        let subject_claim = names.subject.as_deref().unwrap_or("sub");
        let sub = text(&claims, subject_claim)
            .ok_or_else(|| invalid(format!("it has no {subject_claim} claim")))?;
        let refused = |message: String, forbidden: bool| Refusal {
            forbidden,
            message,
            subject: Some(sub.clone()),
            issuer: Some(self.name.clone()),
            stale_keys: false,
        };
        let mut actor = Actor {
            expires_at: exp,
            issuer: self.name.clone(),
            ..Actor::new(sub.clone(), Role::Clinician)
        };
        match &self.kind {
            IssuerKind::Cis2(mapping) => {
                let cis2: Cis2Claims = serde_json::from_value(claims.clone()).map_err(|e| {
                    refused(
                        format!("The CIS2 token's claims are not as CIS2 issues them: {e}."),
                        false,
                    )
                })?;
                let grant = mapping.grant(&cis2).map_err(|e| {
                    let forbidden = matches!(e, super::cis2::Cis2Refusal::NotGranted { .. });
                    refused(e.to_string(), forbidden)
                })?;
                actor.role = grant.role;
                actor.org = Some(grant.organisation);
                actor.name = match &names.name {
                    Some(claim) => text(&claims, claim),
                    None => cis2.display_name(),
                };
                actor.credential = Some(format!("{} (rule {})", grant.access_role, grant.rule));
            }
            IssuerKind::NhsLogin { minimum } => {
                let level_claim = names
                    .proofing_level
                    .as_deref()
                    .unwrap_or("identity_proofing_level");
                let level = text(&claims, level_claim)
                    .ok_or_else(|| {
                        refused(
                            format!("The NHS login token has no {level_claim} claim."),
                            false,
                        )
                    })?
                    .parse::<ProofingLevel>()
                    .map_err(|e| {
                        refused(format!("The NHS login token's {level_claim}: {e}."), false)
                    })?;
                let number_claim = names.nhs_number.as_deref().unwrap_or("nhs_number");
                actor.role = Role::Patient;
                actor.nhs_number = match text(&claims, number_claim) {
                    Some(n) => Some(NhsNumber::parse(&n).map_err(|_| {
                        refused(
                            format!("The token's {number_claim} is not a valid NHS number."),
                            false,
                        )
                    })?),
                    None => None,
                };
                actor.name = match &names.name {
                    Some(claim) => text(&claims, claim),
                    None => given_and_family(&claims),
                };
                actor.proofing = Some(Proofing {
                    level,
                    required: *minimum,
                });
            }
            IssuerKind::Claims { role } => {
                actor.role = match (role, &names.role) {
                    (_, Some(claim)) => text(&claims, claim)
                        .ok_or_else(|| refused(format!("The token has no {claim} claim."), false))?
                        .parse::<Role>()
                        .map_err(|e| refused(format!("The token's {claim}: {e}."), true))?,
                    (Some(role), None) => *role,
                    (None, None) => {
                        return Err(refused("The issuer grants no role.".into(), true));
                    }
                };
                if actor.role == Role::Patient {
                    return Err(refused(
                        "The person signs in with NHS login, not this issuer.".into(),
                        true,
                    ));
                }
                let org_claim = names.organisation.as_deref().unwrap_or("org");
                actor.org = match text(&claims, org_claim) {
                    Some(org) => Some(
                        OdsCode::parse(&org)
                            .map_err(|_| {
                                refused(
                                    format!("The token's {org_claim} {org:?} is not an ODS code."),
                                    false,
                                )
                            })?
                            .to_string(),
                    ),
                    None => None,
                };
                actor.name = text(&claims, names.name.as_deref().unwrap_or("name"));
                actor.org_name = text(
                    &claims,
                    names.organisation_name.as_deref().unwrap_or("org_name"),
                );
            }
        }
        if actor.role != Role::Patient {
            actor.registration = names
                .registration
                .as_deref()
                .and_then(|claim| registration(&claims, claim));
        }
        Ok(actor)
    }
}
