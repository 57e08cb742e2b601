//! Tokens in each issuer's real claim shape, signed with a key of your own: for `ucp token` in
//! development and for the tests, so that what is verified is what CIS2 and NHS login issue.

use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use serde_json::{json, Value};

use super::ProofingLevel;

/// A CIS2 session with one RBAC role, selected.
#[derive(Debug, Clone)]
pub struct Cis2Token {
    pub sub: String,
    pub name: Option<String>,
    pub org_code: String,
    /// The access role (`R8000`…).
    pub role_code: String,
    pub activities: Vec<String>,
}

/// The claims CIS2 issues for one selected role (without `iss`, `aud` and times).
#[must_use]
pub fn cis2(t: &Cis2Token) -> Value {
    let role_id = format!("{}{}", t.sub.chars().take(6).collect::<String>(), "101");
    json!({
        "sub": t.sub,
        "name": t.name.clone().unwrap_or_else(|| "Dev Clinician".to_owned()),
        "nhsid_useruid": t.sub,
        "id_assurance_level": "3",
        "authentication_assurance_level": "3",
        "selected_roleid": role_id,
        "nhsid_nrbac_roles": [{
            "person_orgid": format!("{}201", t.sub),
            "person_roleid": role_id,
            "org_code": t.org_code,
            "role_name": "\"Clinical\":\"Clinical Provision\":\"Access Role\"",
            "role_code": format!("S8000:G8000:{}", t.role_code),
            "activities": [],
            "activity_codes": t.activities,
        }],
    })
}

/// A care home's staff member, signed in through their digital social care record system.
#[derive(Debug, Clone)]
pub struct SocialCareToken {
    pub sub: String,
    pub name: Option<String>,
    /// The care home's ODS-style code.
    pub care_home: String,
    pub care_home_name: Option<String>,
}

/// The claims of the example social care record issuer (`config/identity.example.toml`'s
/// `social-care`): the staff member, their care home's code and name.
#[must_use]
pub fn social_care(t: &SocialCareToken) -> Value {
    json!({
        "sub": t.sub,
        "staff_name": t.name.clone().unwrap_or_else(|| "Dev Carer".to_owned()),
        "care_provider_ods": t.care_home,
        "care_provider_name": t.care_home_name.clone().unwrap_or_else(|| "Dev Care Home".to_owned()),
    })
}

/// An NHS login sign-in.
#[derive(Debug, Clone)]
pub struct NhsLoginToken {
    pub sub: Option<String>,
    pub nhs_number: Option<String>,
    pub proofing: ProofingLevel,
    pub name: Option<String>,
}

/// The claims NHS login issues (without `iss`, `aud` and times).
#[must_use]
pub fn nhs_login(t: &NhsLoginToken) -> Value {
    let mut claims = json!({
        "sub": t.sub.clone().unwrap_or_else(|| format!("nhs-login-{}", t.nhs_number.clone().unwrap_or_default())),
        "identity_proofing_level": t.proofing.as_str(),
        "vot": match t.proofing { ProofingLevel::P9 => "P9.Cp.Cd", ProofingLevel::P5 => "P5.Cp.Cd", ProofingLevel::P0 => "P0.Cp.Cd" },
        "vtm": "https://auth.login.nhs.uk/trustmark/auth.login.nhs.uk",
    });
    if let Some(n) = &t.nhs_number {
        claims["nhs_number"] = Value::String(n.clone());
    }
    if let Some(name) = &t.name {
        let mut parts = name.rsplitn(2, ' ');
        if let Some(family) = parts.next() {
            claims["family_name"] = Value::String(family.to_owned());
        }
        if let Some(given) = parts.next() {
            claims["given_name"] = Value::String(given.to_owned());
        }
    }
    claims
}

/// Why a token could not be signed.
#[derive(Debug, thiserror::Error)]
pub enum SignError {
    #[error("the key is neither an RSA nor an EC P-256 private key in PEM")]
    Key,
    #[error("signing failed: {0}")]
    Sign(#[from] jsonwebtoken::errors::Error),
}

fn encoding_key(pem: &[u8]) -> Result<(Algorithm, EncodingKey), SignError> {
    if let Ok(key) = EncodingKey::from_rsa_pem(pem) {
        Ok((Algorithm::RS256, key))
    } else if let Ok(key) = EncodingKey::from_ec_pem(pem) {
        Ok((Algorithm::ES256, key))
    } else {
        Err(SignError::Key)
    }
}

/// The public JWK of a private key, published under `kid`.
///
/// # Errors
/// When the key is not one.
pub fn public_jwk(pem: &[u8], kid: &str) -> Result<jsonwebtoken::jwk::Jwk, SignError> {
    let (alg, key) = encoding_key(pem)?;
    let mut jwk = jsonwebtoken::jwk::Jwk::from_encoding_key(&key, alg)?;
    jwk.common.key_id = Some(kid.to_owned());
    Ok(jwk)
}

/// Adds `iss`, `aud`, `iat`, `nbf` and `exp` and signs with the PEM key (RS256 or ES256).
///
/// # Errors
/// When the key is not one or signing fails.
pub fn sign(
    mut claims: Value,
    pem: &[u8],
    kid: &str,
    issuer: &str,
    audience: &str,
    now: u64,
    exp: u64,
) -> Result<String, SignError> {
    let (alg, key) = encoding_key(pem)?;
    claims["iss"] = Value::String(issuer.to_owned());
    claims["aud"] = Value::String(audience.to_owned());
    claims["iat"] = json!(now);
    claims["nbf"] = json!(now);
    claims["exp"] = json!(exp);
    let mut header = Header::new(alg);
    header.kid = Some(kid.to_owned());
    Ok(encode(&header, &claims, &key)?)
}
