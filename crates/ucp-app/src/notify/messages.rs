//! What is sent: NHS Notify's message request for the person (its API's `POST /v1/messages`,
//! JSON:API, as published in NHSDigital/communications-manager-api), and the practice's signed
//! message. Pure, so that the tests and the access log's replay see exactly what was sent.

use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use ucp_domain::notifications::role_in_words;
use uuid::Uuid;

/// The change a message tells of, as the outbox keeps it.
#[must_use]
pub fn change(
    kind: ucp_domain::notifications::ChangeKind,
    change_id: Uuid,
    plan_id: Uuid,
    version: i64,
    at: DateTime<Utc>,
    by: &ucp_domain::Author,
) -> Value {
    json!({
        "changeId": change_id,
        "kind": kind,
        "planId": plan_id,
        "version": version,
        "at": at,
        "by": {
            "role": by.role,
            "name": by.name,
            "organisation": by.organisation,
        },
    })
}

/// NHS Notify's message request for the person: their NHS number, the routing plan, and the
/// personalisation of its template ("Your Universal Care Plan was updated by {updatedBy} at
/// {organisation} on {date}. Open the NHS App to see what changed."), from the latest change
/// the message tells of. `messageReference` is the outbox id, so a retry is not a second
/// message (NHS Notify de-duplicates on it). No clinical detail.
#[must_use]
pub fn to_the_person(
    routing_plan_id: Uuid,
    message_reference: Uuid,
    nhs_number: &str,
    changes: &[Value],
) -> Value {
    let last = changes.last().cloned().unwrap_or(Value::Null);
    let role = last["by"]["role"].as_str().unwrap_or_default();
    let organisation = last["by"]["organisation"]
        .as_str()
        .unwrap_or("an NHS organisation");
    let date = last["at"]
        .as_str()
        .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
        .map(|t| {
            ucp_domain::in_uk(t.with_timezone(&Utc))
                .format("%-d %B %Y")
                .to_string()
        })
        .unwrap_or_default();
    json!({
        "data": {
            "type": "Message",
            "attributes": {
                "routingPlanId": routing_plan_id,
                "messageReference": message_reference,
                "recipient": { "nhsNumber": nhs_number },
                "personalisation": {
                    "updatedBy": role_in_words(role),
                    "organisation": organisation,
                    "date": date,
                },
            },
        },
    })
}

/// The practice's message: whose plan, which version, what kind of change and who made it, a
/// message per change.
#[must_use]
pub fn to_the_practice(
    message_id: Uuid,
    practice: &str,
    nhs_number: &str,
    changes: &[Value],
) -> Value {
    let last = changes.last().cloned().unwrap_or(Value::Null);
    json!({
        "messageId": message_id,
        "type": "care-plan-changed",
        "practice": practice,
        "nhsNumber": nhs_number,
        "planId": last["planId"],
        "version": last["version"],
        "change": last["kind"],
        "changedAt": last["at"],
        "changedBy": last["by"],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_persons_message_names_who_where_and_when_and_nothing_clinical() {
        let by = ucp_domain::Author {
            actor: "dr".into(),
            name: Some("Dr Example".into()),
            role: "ooh".into(),
            organisation: Some("NLO12".into()),
            on_behalf_of: None,
        };
        let at = DateTime::parse_from_rfc3339("2026-12-07T10:00:00Z")
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_default();
        let c = change(
            ucp_domain::notifications::ChangeKind::EmergencyTreatmentPlan,
            Uuid::nil(),
            Uuid::nil(),
            4,
            at,
            &by,
        );
        let m = to_the_person(Uuid::nil(), Uuid::nil(), "9990000018", &[c]);
        let p = &m["data"]["attributes"]["personalisation"];
        assert_eq!(p["updatedBy"], "an out-of-hours GP");
        assert_eq!(p["organisation"], "NLO12");
        assert_eq!(p["date"], "7 December 2026");
        assert!(!m.to_string().contains("emergency-treatment-plan"));
        assert_eq!(
            m["data"]["attributes"]["recipient"]["nhsNumber"],
            "9990000018"
        );
    }
}
