//! Acting for someone: a person's attorney for health and welfare (recorded on their plan), or
//! someone the person names, may be granted proxy access — to read the plan and write its
//! person-centred sections, never to withdraw it or their consent, nor to manage proxies. The
//! grant, each use and the revocation are events in the person's `proxy_access` stream; the
//! `proxy_grants` read model, kept in the same transaction, answers "may X act for Y now?".

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use ucp_domain::{
    fold_name, LongText, NhsNumber, PlanSection, SectionContent, ShortText, YesNoUnknown,
};
use ucp_store::projections::proxies::{self, ProxyGrantRow};
use ucp_store::{AppendRequest, Database, ExpectedVersion, NewEvent};
use uuid::Uuid;

use crate::{ActingFor, Actor, AppError, Role};

/// On what authority a proxy acts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum ProxyBasis {
    /// A lasting power of attorney for health and welfare, recorded in the plan's contacts.
    LastingPowerOfAttorney,
    /// The person named them (only the person can).
    NamedByPerson,
}

impl ProxyBasis {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::LastingPowerOfAttorney => "lasting-power-of-attorney",
            Self::NamedByPerson => "named-by-person",
        }
    }

    fn parse(text: &str) -> Option<Self> {
        [Self::LastingPowerOfAttorney, Self::NamedByPerson]
            .into_iter()
            .find(|b| b.as_str() == text)
    }
}

/// A grant asked for.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct GrantProxyRequest {
    /// The proxy's own NHS number: they sign in with NHS login, as themselves.
    pub nhs_number: NhsNumber,
    /// Their name; for an attorney, as the plan's contacts record it.
    pub name: ShortText,
    /// e.g. daughter, partner, friend.
    pub relationship: ShortText,
    pub basis: ProxyBasis,
}

/// A revocation asked for.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RevokeProxyRequest {
    /// Why (kept with the revocation).
    #[serde(default)]
    pub reason: Option<LongText>,
}

/// Whether a grant can be used now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum GrantStatus {
    Active,
    Revoked,
}

/// Who did something to a grant, and when.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct GrantAct {
    pub at: DateTime<Utc>,
    pub by: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub by_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub by_role: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// A proxy grant as the person (and the proxy) see it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProxyGrantView {
    pub grant_id: Uuid,
    /// The person acted for.
    pub nhs_number: String,
    pub status: GrantStatus,
    pub proxy: ProxyPerson,
    pub basis: ProxyBasis,
    /// What the proxy may do.
    pub may: Vec<String>,
    pub granted: GrantAct,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revoked: Option<GrantAct>,
    /// How many requests the proxy has made with it.
    pub uses: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_used_at: Option<DateTime<Utc>>,
}

/// The proxy.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProxyPerson {
    pub nhs_number: String,
    pub name: String,
    pub relationship: String,
}

/// What every proxy may do, and nothing more.
pub const PROXY_MAY: [&str; 2] = ["read the care plan", "write its person-centred sections"];

fn view(row: ProxyGrantRow) -> Result<ProxyGrantView, AppError> {
    let basis = ProxyBasis::parse(&row.basis)
        .ok_or_else(|| AppError::Internal(format!("stored proxy basis {:?}", row.basis).into()))?;
    Ok(ProxyGrantView {
        grant_id: row.grant_id,
        nhs_number: row.nhs_number,
        status: if row.revoked_at.is_some() {
            GrantStatus::Revoked
        } else {
            GrantStatus::Active
        },
        proxy: ProxyPerson {
            nhs_number: row.proxy_nhs_number,
            name: row.proxy_name,
            relationship: row.relationship,
        },
        basis,
        may: PROXY_MAY.iter().map(|s| (*s).to_owned()).collect(),
        granted: GrantAct {
            at: row.granted_at,
            by: row.granted_by,
            by_name: row.granted_by_name,
            by_role: Some(row.granted_by_role),
            reason: None,
        },
        revoked: match (row.revoked_at, row.revoked_by) {
            (Some(at), Some(by)) => Some(GrantAct {
                at,
                by,
                by_name: None,
                by_role: None,
                reason: row.revoked_reason,
            }),
            _ => None,
        },
        uses: row.uses,
        last_used_at: row.last_used_at,
    })
}

async fn append(
    db: &Database,
    person: NhsNumber,
    event_type: &str,
    data: serde_json::Value,
    actor: &Actor,
    request_id: Option<String>,
) -> Result<(), AppError> {
    let request = AppendRequest {
        stream_id: proxies::stream_id(&person.to_string()),
        stream_type: proxies::STREAM_TYPE.to_owned(),
        // The stream's lock orders its appends; the read model's checks under it decide.
        expected: ExpectedVersion::Any,
        events: vec![NewEvent::new(
            event_type,
            1,
            data,
            crate::commands::metadata(actor, request_id),
        )],
        idempotency: None,
        prior: None,
    };
    match db.append(request).await {
        Ok(_) => Ok(()),
        Err(ucp_store::StoreError::Refused(why)) => Err(AppError::Conflict {
            kind: crate::Conflict::ProxyGrant,
            detail: format!("{}{}.", why[..1].to_uppercase(), &why[1..]),
            location: None,
        }),
        Err(e) => Err(e.into()),
    }
}

/// Whether the plan (`plan_id`, or else the person's own) records `name` as an attorney for
/// health and welfare. A voided plan (made in error) records no one.
async fn recorded_attorney(
    db: &Database,
    person: NhsNumber,
    plan_id: Option<Uuid>,
    name: &str,
) -> Result<bool, AppError> {
    let plan_id = match plan_id {
        Some(id) => id,
        None => match db.plan_for_person(person).await? {
            Some(row) => row.plan_id,
            None => return Ok(false),
        },
    };
    let Some(plan) = db.plan_state(plan_id).await? else {
        return Ok(false);
    };
    if plan.nhs_number != person || plan.status == ucp_domain::PlanStatus::Voided {
        return Ok(false);
    }
    let wanted = fold_name(name);
    Ok(
        match plan.section(PlanSection::Contacts).map(|s| &s.content) {
            Some(SectionContent::Contacts(contacts)) => contacts.personal.iter().any(|p| {
                p.lpa_health_and_welfare == YesNoUnknown::Yes
                    && fold_name(p.name.as_str()) == wanted
            }),
            _ => false,
        },
    )
}

/// Grants proxy access to the person `person`: by the person themselves (either basis), or by a
/// clinician for an attorney the plan records (the person may no longer be able to). An
/// attorney is looked for on `plan_id` when given (the plan the clinician named), else on the
/// person's own plan.
///
/// # Errors
/// Forbidden for anyone else, or a clinician naming someone not recorded as attorney; invalid
/// values; a conflict when that proxy already holds an active grant.
pub async fn grant(
    db: &Database,
    actor: &Actor,
    person: NhsNumber,
    plan_id: Option<Uuid>,
    request: GrantProxyRequest,
    request_id: Option<String>,
) -> Result<ProxyGrantView, AppError> {
    match actor.role {
        Role::Patient => {
            if actor.person_themselves()? != person {
                return Err(AppError::Forbidden(
                    "You may grant access to your own plan only.".into(),
                ));
            }
        }
        Role::Clinician => {
            if request.basis != ProxyBasis::LastingPowerOfAttorney {
                return Err(AppError::Forbidden(
                    "Only the person names their own proxies; a clinician may grant access to an attorney for health and welfare recorded on the plan.".into(),
                ));
            }
        }
        other => {
            return Err(AppError::Forbidden(format!(
                "The {} role may not grant proxy access.",
                other.as_str()
            )))
        }
    }
    let proxy = request.nhs_number;
    if proxy == person {
        return Err(AppError::invalid_field(
            "/nhsNumber",
            "A person cannot be their own proxy.",
        ));
    }
    let (name, relationship) = (request.name, request.relationship);
    if request.basis == ProxyBasis::LastingPowerOfAttorney
        && !recorded_attorney(db, person, plan_id, name.as_str()).await?
    {
        return Err(AppError::invalid_field(
            "/name",
            format!(
                "The care plan of {person} records no attorney for health and welfare named {:?}: record them in Personal and Professional Contacts first.",
                name.as_str()
            ),
        ));
    }
    let grant_id = Uuid::now_v7();
    let data = serde_json::json!({
        "grantId": grant_id,
        "nhsNumber": person.to_string(),
        "proxyNhsNumber": proxy.to_string(),
        "proxyName": name.as_str(),
        "relationship": relationship.as_str(),
        "basis": request.basis.as_str(),
    });
    append(db, person, proxies::GRANTED, data, actor, request_id).await?;
    let row = db
        .proxy_grant(grant_id)
        .await?
        .ok_or_else(|| AppError::Internal("a grant just made is not in the read model".into()))?;
    view(row)
}

/// Every grant of the person, newest first.
///
/// # Errors
/// When the database fails.
pub async fn list(db: &Database, person: NhsNumber) -> Result<Vec<ProxyGrantView>, AppError> {
    db.proxy_grants(&person.to_string())
        .await?
        .into_iter()
        .map(view)
        .collect()
}

/// The active grants a proxy holds: whom they may act for.
///
/// # Errors
/// When the database fails.
pub async fn held_by(db: &Database, proxy: NhsNumber) -> Result<Vec<ProxyGrantView>, AppError> {
    db.proxy_grants_held(&proxy.to_string())
        .await?
        .into_iter()
        .map(view)
        .collect()
}

/// Revokes a grant of the person's; from then on the proxy is refused.
///
/// # Errors
/// Not found when the grant is not the person's; a conflict when it was already revoked.
pub async fn revoke(
    db: &Database,
    actor: &Actor,
    person: NhsNumber,
    grant_id: Uuid,
    request: RevokeProxyRequest,
    request_id: Option<String>,
) -> Result<ProxyGrantView, AppError> {
    let reason = request.reason;
    let found = db
        .proxy_grant(grant_id)
        .await?
        .filter(|g| g.nhs_number == person.to_string())
        .ok_or_else(|| AppError::NotFound(format!("You have no proxy grant {grant_id}.")))?;
    let data = serde_json::json!({
        "grantId": found.grant_id,
        "reason": reason.as_ref().map(LongText::as_str),
    });
    append(db, person, proxies::REVOKED, data, actor, request_id).await?;
    let row = db
        .proxy_grant(grant_id)
        .await?
        .ok_or_else(|| AppError::Internal("a revoked grant left the read model".into()))?;
    view(row)
}

/// Records that `proxy` is acting for `person` in this request, if an active grant lets them:
/// the use is an event, appended (and the grant checked again under the stream's lock) before
/// anything is served.
///
/// # Errors
/// Forbidden when the caller holds no active grant for the person, or is not an NHS login
/// proofed to the required level.
pub async fn begin_use(
    db: &Database,
    proxy: &Actor,
    person: NhsNumber,
    action: &str,
    request_id: Option<String>,
) -> Result<ActingFor, AppError> {
    if proxy.role != Role::Patient {
        return Err(AppError::Forbidden(
            "Only a person signed in with NHS login can act for someone.".into(),
        ));
    }
    proxy.proofed()?;
    let own = proxy.nhs_number.ok_or_else(|| {
        AppError::Forbidden(
            "Your sign-in carries no NHS number, so it cannot hold a proxy grant.".into(),
        )
    })?;
    if own == person {
        return Err(AppError::Forbidden(
            "You are this person: leave out UCP-On-Behalf-Of to act for yourself.".into(),
        ));
    }
    let refused = || {
        AppError::Forbidden(format!(
            "You hold no active proxy grant for {person}: the person (or, for an attorney, their clinician) grants it, and the person can revoke it."
        ))
    };
    let grant = db
        .active_proxy_grant(&person.to_string(), &own.to_string())
        .await?
        .ok_or_else(refused)?;
    let data = serde_json::json!({ "grantId": grant.grant_id, "action": action });
    match append(db, person, proxies::USED, data, proxy, request_id).await {
        Ok(()) => Ok(ActingFor {
            grant_id: grant.grant_id,
            nhs_number: person,
        }),
        // Revoked between the look-up and the append.
        Err(AppError::Conflict { .. }) => Err(refused()),
        Err(e) => Err(e),
    }
}
