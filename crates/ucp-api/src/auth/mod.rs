//! Bearer JWTs: who is asking, as what, for which organisation, and (for a person) whose plan.

mod keys;
mod policy;

pub use keys::{JwtKeys, KeyError};
pub use policy::{Deployment, PolicyError, TokenSettings, DEVELOPMENT_SECRET};

use std::future::{ready, Ready};

use actix_web::dev::Payload;
use actix_web::{web, FromRequest, HttpRequest};
use serde::{Deserialize, Serialize};
use ucp_domain::{Author, AuthorKind, NhsNumber};

use crate::ApiError;

/// What a token holder is, as DESIGN.md's roles say.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Clinician,
    Ambulance,
    Nhs111,
    Ooh,
    Dispatch,
    Patient,
    Admin,
}

impl Role {
    pub const ALL: [Self; 7] = [
        Self::Clinician,
        Self::Ambulance,
        Self::Nhs111,
        Self::Ooh,
        Self::Dispatch,
        Self::Patient,
        Self::Admin,
    ];

    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Clinician => "clinician",
            Self::Ambulance => "ambulance",
            Self::Nhs111 => "nhs111",
            Self::Ooh => "ooh",
            Self::Dispatch => "dispatch",
            Self::Patient => "patient",
            Self::Admin => "admin",
        }
    }

    /// Ambulance crews, NHS 111 and out-of-hours GPs: they see active plans only.
    #[must_use]
    pub fn is_urgent_care(self) -> bool {
        matches!(self, Self::Ambulance | Self::Nhs111 | Self::Ooh)
    }
}

impl std::str::FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| format!("unknown role {s:?}"))
    }
}

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

/// The verified caller of a request.
#[derive(Debug, Clone)]
pub struct Actor {
    pub sub: String,
    pub role: Role,
    pub org: Option<String>,
    pub name: Option<String>,
    /// For a patient: the NHS number whose plan they may see.
    pub nhs_number: Option<NhsNumber>,
    /// When the token expires (seconds since 1970): a stream opened with it ends then.
    pub expires_at: u64,
}

impl Actor {
    /// Refuses the request unless the actor holds one of the roles.
    ///
    /// # Errors
    /// 403 otherwise.
    pub fn require(&self, roles: &[Role]) -> Result<(), ApiError> {
        if roles.contains(&self.role) {
            Ok(())
        } else {
            Err(ApiError::Forbidden(format!(
                "The {} role may not do this.",
                self.role.as_str()
            )))
        }
    }

    #[must_use]
    pub fn author(&self) -> Author {
        Author {
            actor: self.sub.clone(),
            name: self.name.clone(),
            role: self.role.as_str().to_owned(),
            organisation: self.org.clone(),
        }
    }

    #[must_use]
    pub fn kind(&self) -> AuthorKind {
        if self.role == Role::Patient {
            AuthorKind::Person
        } else {
            AuthorKind::Professional
        }
    }
}

impl FromRequest for Actor {
    type Error = ApiError;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let actor = actor_of(req);
        if let Ok(actor) = &actor {
            // For the access log: who asked, even when the handler refuses them.
            actix_web::HttpMessage::extensions_mut(req).insert(actor.clone());
        }
        ready(actor)
    }
}

fn actor_of(req: &HttpRequest) -> Result<Actor, ApiError> {
    if actix_web::HttpMessage::extensions(req)
        .get::<crate::audit::AuditScope>()
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
