//! Who is asking, as what, for which organisation, and (for a person) whose plan: bearer JWTs
//! from the trusted issuers of the identity configuration (NHS CIS2 for professionals, NHS
//! login for the person, others by their claims), or, for development, tokens signed with a
//! shared secret in this service's own claim shape.

mod cis2;
mod config;
mod issuers;
mod jwks;
mod keys;
mod policy;
mod purpose;
pub mod shapes;

pub use cis2::{
    Cis2Claims, Cis2Grant, Cis2Mapping, Cis2Refusal, Cis2Rule, NrbacRole, DEFAULT_MAPPING,
};
pub use config::{IdentityConfig, IdentityConfigError};
pub use issuers::{claimed_issuer, ClaimNames, IssuerKind, Refusal, TrustedIssuer, TrustedIssuers};
pub use jwks::KeyError;
pub use keys::JwtKeys;
pub use policy::{Deployment, PolicyError, TokenSettings, DEVELOPMENT_SECRET};
pub use purpose::{purpose_of, PURPOSE_HEADER};

use actix_web::dev::Payload;
use actix_web::{web, FromRequest, HttpMessage, HttpRequest};
use futures::future::LocalBoxFuture;
use serde::{Deserialize, Serialize};
pub use ucp_app::{ActingFor, Actor, Proofing, ProofingLevel, Purpose, Role};
use ucp_domain::NhsNumber;

use crate::problem::ApiError;

/// The claims of this service's own development token shape (`ucp token`, `make run`): no
/// real identity provider issues them.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    pub role: Role,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org: Option<String>,
    /// The organisation's name (a care home's, shown to the person it admits).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nhs_number: Option<String>,
    /// For a professional: their registration (`GMC 1234567`), as CIS2 can carry it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registration: Option<String>,
    /// For a patient: the NHS login proofing level the development token stands for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity_proofing_level: Option<String>,
    pub exp: u64,
    #[serde(default)]
    pub iat: u64,
}

/// Put in every request by the audit middleware; [`Caller`] requires it, so a handler that
/// authenticates cannot be reached without an access-log entry.
#[derive(Debug, Clone, Copy)]
pub struct AuditScope;

/// The verified caller of a request, as the application knows callers. Every `/v1` handler
/// takes one: it works only inside the audited scope (see `audit::middleware`).
#[derive(Debug, Clone)]
pub struct Caller(pub Actor);

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            if req.extensions().get::<AuditScope>().is_none() {
                // A route registered outside the audited /v1 scope: serve nothing unrecorded.
                return Err(ApiError::Internal(
                    "a handler that authenticates was reached outside the audited scope".into(),
                ));
            }
            let actor = match actor_of(&req).await {
                Ok(actor) => actor,
                Err(refusal) => {
                    let mut error = if refusal.forbidden {
                        ApiError::Forbidden(refusal.message.clone())
                    } else {
                        ApiError::Unauthorized(refusal.message.clone())
                    };
                    if refusal.stale_keys {
                        if let Some(state) = req.app_data::<web::Data<ucp_app::AppState>>() {
                            state.metrics.stale_key_refusals.inc();
                        }
                    }
                    // No valid sign-in: the address's budget for such requests is spent. A token
                    // that verified but whose holder is refused spends its holder's budget.
                    let budget = match (&refusal.subject, &refusal.issuer) {
                        (None, _) => within_anonymous_budget(&req),
                        (Some(sub), issuer) => {
                            within_subject_budget(&req, issuer.as_deref().unwrap_or_default(), sub)
                        }
                    };
                    if let Err(throttled) = budget {
                        error = throttled;
                    }
                    // For the access log: what can be said of who was turned away.
                    req.extensions_mut().insert(refusal);
                    return Err(error);
                }
            };
            // A name from a token is shown to clinicians and to the person: it may not hide
            // what it says behind bidirectional controls any more than stored text may.
            let actor = Actor {
                name: actor.name.map(|n| {
                    n.chars()
                        .filter(|c| !ucp_domain::is_bidi_control(*c))
                        .collect()
                }),
                ..actor
            };
            // For the access log: who asked, even when they are refused below.
            req.extensions_mut().insert(actor.clone());
            within_subject_budget(&req, &actor.issuer, &actor.sub)?;
            // What the request says (why, and for whom): the use case decides what it may do
            // with it (ucp_app::use_cases), proofing included.
            let actor = purpose::with_purpose(&req, actor)?;
            req.extensions_mut().insert(actor.clone());
            let actor = Actor {
                on_behalf_of: crate::proxy::on_behalf_of(&req)?,
                ..actor
            };
            req.extensions_mut().insert(actor.clone());
            // The route's use case refuses a caller it does not allow before the handler reads
            // a body or a precondition; its application function asks the same declaration
            // again (and, for a proxy, checks the grant) before it reads or writes anything.
            // A route the document does not name (a 405 for DELETE of a plan, a section no
            // operation is documented for) is left to its handler and application function.
            if let Some(use_case) = use_case_of(&req) {
                match req
                    .match_info()
                    .get("section")
                    .and_then(ucp_domain::PlanSection::from_name)
                {
                    Some(section) => use_case.authorize_section(&actor, section)?,
                    None => use_case.authorize(&actor)?,
                }
                // A proxy without a grant is refused before their body is read (the use case
                // asks again under the stream's lock, and records the use).
                if use_case.proxy && actor.on_behalf_of.is_some() {
                    if let Some(state) = req.app_data::<web::Data<ucp_app::AppState>>() {
                        ucp_app::proxies::may_act(&state.db, &actor).await?;
                    }
                }
            }
            Ok(Caller(actor))
        })
    }
}

/// The use case of the matched route, by the operation id the OpenAPI document gives it, or
/// gives the other paths of its route (every documented operation that takes a caller has one:
/// `routes_declare_their_use_cases`).
fn use_case_of(req: &HttpRequest) -> Option<&'static ucp_app::use_cases::UseCase> {
    let ids = req.app_data::<web::Data<crate::operation_ids::OperationIds>>()?;
    let pattern = req.match_pattern()?;
    let method = req.method().as_str();
    ids.get(method, &pattern, |name| req.match_info().get(name))
        .or_else(|| ids.sibling(method, &pattern))
        .and_then(ucp_app::use_cases::of_operation)
}

/// Spends one request of the budget of `subject` as vouched for by `issuer` (429 with
/// `Retry-After` when it is spent).
fn within_subject_budget(req: &HttpRequest, issuer: &str, subject: &str) -> Result<(), ApiError> {
    let Some(limit) = req.app_data::<web::Data<crate::rate_limit::SubjectRateLimit>>() else {
        return Ok(());
    };
    limit.check(issuer, subject).map_err(too_many)
}

/// Spends one request of the client address's budget for requests without a valid sign-in.
fn within_anonymous_budget(req: &HttpRequest) -> Result<(), ApiError> {
    let Some(limit) = req.app_data::<web::Data<crate::rate_limit::AnonymousRateLimit>>() else {
        return Ok(());
    };
    let Some(client) = crate::rate_limit::client_address(req) else {
        return Ok(());
    };
    limit.check(client).map_err(too_many)
}

fn too_many(wait: std::time::Duration) -> ApiError {
    // Whole seconds, rounded up: a client that waits what it is told is then served.
    let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    ApiError::TooManyRequests(secs.max(1))
}

fn bearer(req: &HttpRequest) -> Result<String, Refusal> {
    let header = req
        .headers()
        .get(actix_web::http::header::AUTHORIZATION)
        .ok_or_else(|| Refusal::unauthorized("Send an Authorization: Bearer <token> header."))?;
    header
        .to_str()
        .ok()
        .and_then(|h| {
            h.strip_prefix("Bearer ")
                .or_else(|| h.strip_prefix("bearer "))
        })
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
        .ok_or_else(|| Refusal::unauthorized("The Authorization header must be `Bearer <token>`."))
}

async fn actor_of(req: &HttpRequest) -> Result<Actor, Refusal> {
    let token = bearer(req)?;
    let trusted = req.app_data::<web::Data<TrustedIssuers>>().cloned();
    let keys = req.app_data::<web::Data<JwtKeys>>().cloned();
    let claimed = claimed_issuer(&token);
    if let (Some(trusted), Some(iss)) = (&trusted, &claimed) {
        if let Some(issuer) = trusted.find(iss) {
            return issuer.authenticate(&token).await;
        }
    }
    let keys = keys.ok_or_else(|| Refusal::unauthorized("No token keys are configured."))?;
    keys.accepts(&token, claimed.as_deref())
        .map_err(Refusal::unauthorized)?;
    let claims = keys
        .verify(&token)
        .map_err(|e| Refusal::unauthorized(e.to_string()))?;
    development_actor(
        claims,
        keys.label(&token),
        trusted.map_or(ProofingLevel::P9, |t| t.minimum_proofing()),
    )
}

/// A caller in this service's own development claim shape.
fn development_actor(
    claims: Claims,
    issuer: &str,
    minimum: ProofingLevel,
) -> Result<Actor, Refusal> {
    let nhs_number = match (&claims.role, &claims.nhs_number) {
        (Role::Patient, Some(n)) => Some(NhsNumber::parse(n).map_err(|_| {
            Refusal::unauthorized("The token's nhs_number claim is not a valid NHS number.")
        })?),
        (Role::Patient, None) => {
            return Err(Refusal::unauthorized(
                "A patient token must carry an nhs_number claim.",
            ))
        }
        _ => None,
    };
    let proofing = match (claims.role, &claims.identity_proofing_level) {
        (Role::Patient, level) => Some(Proofing {
            level: match level {
                Some(l) => l.parse().map_err(|e: String| Refusal::unauthorized(e))?,
                None => ProofingLevel::P0,
            },
            required: minimum,
        }),
        _ => None,
    };
    Ok(Actor {
        org: claims.org,
        org_name: claims.org_name,
        name: claims.name,
        registration: claims.registration,
        nhs_number,
        expires_at: claims.exp,
        issuer: issuer.to_owned(),
        proofing,
        ..Actor::new(claims.sub, claims.role)
    })
}
