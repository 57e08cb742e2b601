//! The privacy officer's work: alerts by state, organisation, actor and person; one alert with
//! its evidence (the access-log entries themselves); an outcome with a note. Each is itself in
//! the access log, against the people it names: a person whose alert is closed reads "an access
//! to your record was reviewed by the privacy officer".

use chrono::Utc;
use serde::{Deserialize, Serialize};
use ucp_store::alerts::{Alert, AlertOutcome, AlertQuery, OutcomeRefused};
use ucp_store::{AccessEntry, Database};
use uuid::Uuid;

use crate::audit::{Access, Shown, View};
use crate::{use_cases, Actor, AppError};

/// What the privacy officer decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Outcome {
    /// The access had a legitimate reason.
    ReviewedAppropriate,
    /// Passed on for investigation (the organisation's information governance, or the
    /// Caldicott guardian).
    Referred,
}

impl Outcome {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ReviewedAppropriate => "reviewed-appropriate",
            Self::Referred => "referred",
        }
    }
}

/// An alert with its evidence and the outcomes recorded on it.
#[derive(Debug, Clone)]
pub struct AlertWithEvidence {
    pub alert: Alert,
    pub evidence: Vec<AccessEntry>,
    pub outcomes: Vec<AlertOutcome>,
}

/// The alerts that match, newest first.
///
/// # Errors
/// Forbidden for anyone but a privacy officer; the store's failure.
pub async fn list(
    db: &Database,
    actor: &Actor,
    query: AlertQuery,
) -> Result<Shown<Vec<Alert>>, AppError> {
    use_cases::LIST_ALERTS.authorize(actor)?;
    let alerts = db.alerts(&query).await?;
    let mut named: Vec<String> = Vec::new();
    for n in alerts.iter().filter_map(|a| a.nhs_number.as_ref()) {
        if !named.contains(n) {
            named.push(n.clone());
        }
    }
    let access = Access {
        nhs_number: query.nhs_number.clone(),
        view: Some(View::Alerts),
        search_criteria: Some(serde_json::json!({
            "state": query.state, "kind": query.kind, "organisation": query.organisation,
            "actor": query.actor, "nhsNumber": query.nhs_number,
        })),
        returned_nhs_numbers: named,
        ..Access::default()
    };
    Ok(Shown::new(alerts, access))
}

fn about(alert: &Alert, outcome: Option<Outcome>) -> Access {
    let mut detail = serde_json::json!({
        "alertId": alert.alert_id,
        "kind": alert.kind,
        "revision": alert.revision,
    });
    if let Some(o) = outcome {
        detail["outcome"] = serde_json::json!(o.as_str());
    }
    Access {
        nhs_number: alert.nhs_number.clone(),
        view: Some(View::Alert),
        returned_nhs_numbers: alert.people.clone(),
        detail: Some(detail),
        ..Access::default()
    }
}

fn not_found() -> AppError {
    AppError::NotFound("There is no privacy alert with this id.".into())
}

/// One alert, its evidence and its outcomes.
///
/// # Errors
/// Forbidden for anyone but a privacy officer; not found; the store's failure.
pub async fn get(
    db: &Database,
    actor: &Actor,
    alert_id: Uuid,
) -> Result<Shown<AlertWithEvidence>, AppError> {
    use_cases::GET_ALERT.authorize(actor)?;
    let alert = db.alert(alert_id).await?.ok_or_else(not_found)?;
    let evidence = db.access_entries(&alert.evidence).await?;
    let outcomes = db.alert_outcomes(alert_id).await?;
    let access = about(&alert, None);
    Ok(Shown::new(
        AlertWithEvidence {
            alert,
            evidence,
            outcomes,
        },
        access,
    ))
}

/// Records the officer's outcome on the alert as they read it (`revision`), with the request's
/// access-log entry in the same transaction.
///
/// # Errors
/// Forbidden for anyone but a privacy officer; not found; a note that is empty or too long;
/// stale when the alert changed since `revision` (another outcome, or more evidence).
pub async fn record_outcome(
    db: &Database,
    actor: &Actor,
    alert_id: Uuid,
    revision: i32,
    outcome: Outcome,
    note: &str,
) -> Result<Shown<Alert>, AppError> {
    use_cases::RECORD_ALERT_OUTCOME.authorize(actor)?;
    let note = ucp_domain::LongText::parse(note)
        .map_err(|e| AppError::invalid_field("/note", format!("The note {e}")))?;
    let alert = db.alert(alert_id).await?.ok_or_else(not_found)?;
    let access = about(&alert, Some(outcome));
    let entry = crate::audit::ENTRY_IN_WRITE
        .try_with(|w| (w.build)(actor, access.clone(), 200))
        .ok();
    let made = AlertOutcome {
        outcome: outcome.as_str().to_owned(),
        note: note.as_str().to_owned(),
        by: actor.sub.clone(),
        by_name: actor.name.clone(),
        at: Utc::now(),
        evidence_count: alert.evidence_count,
    };
    match db
        .record_alert_outcome(alert_id, revision, &made, entry.as_ref())
        .await
    {
        Ok(updated) => {
            if entry.is_some() {
                let _ = crate::audit::ENTRY_IN_WRITE.try_with(|w| w.written.set(true));
            }
            Ok(Shown::new(updated, access))
        }
        Err(OutcomeRefused::NotFound) => Err(not_found()),
        Err(OutcomeRefused::Stale(now)) => Err(AppError::PreconditionFailed(format!(
            "The alert is at revision {now}, not the one you sent: another outcome was recorded, \
             or more evidence arrived, since you read it. Read it again."
        ))),
        Err(OutcomeRefused::Store(e)) => Err(e.into()),
    }
}
