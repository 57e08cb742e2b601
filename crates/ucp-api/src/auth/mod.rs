//! Bearer JWTs: who is asking, as what, for which organisation, and (for a person) whose plan.

mod keys;
mod policy;

pub use keys::{JwtKeys, KeyError};
pub use policy::{Deployment, PolicyError, TokenSettings, DEVELOPMENT_SECRET};

use std::future::{ready, Ready};

use actix_web::dev::Payload;
use actix_web::{web, FromRequest, HttpRequest};
use serde::{Deserialize, Serialize};
pub use ucp_app::{Actor, Role};
use ucp_domain::NhsNumber;

use crate::problem::ApiError;

/// The claims this service reads.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    pub role: Role,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nhs_number: Option<String>,
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
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let actor = actor_of(req);
        if let Ok(actor) = &actor {
            // For the access log: who asked, even when the handler refuses them.
            actix_web::HttpMessage::extensions_mut(req).insert(actor.clone());
        }
        ready(actor.and_then(|actor| within_budget(req, &actor.sub).map(|()| Caller(actor))))
    }
}

/// Spends one request of the subject's budget (429 with `Retry-After` when it is spent).
fn within_budget(req: &HttpRequest, subject: &str) -> Result<(), ApiError> {
    let Some(limit) = req.app_data::<web::Data<crate::rate_limit::SubjectRateLimit>>() else {
        return Ok(());
    };
    limit.check(subject).map_err(|wait| {
        // Whole seconds, rounded up: a client that waits what it is told is then served.
        let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        ApiError::TooManyRequests(secs.max(1))
    })
}

fn actor_of(req: &HttpRequest) -> Result<Actor, ApiError> {
    if actix_web::HttpMessage::extensions(req)
        .get::<AuditScope>()
        .is_none()
    {
        // A route registered outside the audited /v1 scope: serve nothing unrecorded.
        return Err(ApiError::Internal(
            "a handler that authenticates was reached outside the audited scope".into(),
        ));
    }
    let keys = req
        .app_data::<web::Data<JwtKeys>>()
        .ok_or_else(|| ApiError::Internal("no JWT keys configured".into()))?;
    let header = req
        .headers()
        .get(actix_web::http::header::AUTHORIZATION)
        .ok_or_else(|| {
            ApiError::Unauthorized("Send an Authorization: Bearer <token> header.".into())
        })?;
    let token = header
        .to_str()
        .ok()
        .and_then(|h| {
            h.strip_prefix("Bearer ")
                .or_else(|| h.strip_prefix("bearer "))
        })
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| {
            ApiError::Unauthorized("The Authorization header must be `Bearer <token>`.".into())
        })?;
    let claims = keys.verify(token)?;
    let nhs_number = match (&claims.role, &claims.nhs_number) {
        (Role::Patient, Some(n)) => Some(NhsNumber::parse(n).map_err(|_| {
            ApiError::Unauthorized("The token's nhs_number claim is not a valid NHS number.".into())
        })?),
        (Role::Patient, None) => {
            return Err(ApiError::Unauthorized(
                "A patient token must carry an nhs_number claim.".into(),
            ))
        }
        _ => None,
    };
    Ok(Actor {
        sub: claims.sub,
        role: claims.role,
        org: claims.org,
        name: claims.name,
        nhs_number,
        expires_at: claims.exp,
    })
}
