//! What a crew must not miss, as Flags: the CPR status (SNOMED CT coded, never empty), and the
//! alerts: how to get in, how to communicate, hazards.
//!
//! Alerts carry the recorded words as `code.text` and no SNOMED CT coding: no concept could be
//! checked to mean exactly "key safe" or a given hazard, and a wrong code read by a machine is
//! worse than words read by a person.

use serde_json::{json, Value};
use ucp_domain::{CprStatus, PlanSection, PlanStatus, SectionContent};

use crate::extensions::{simple, ValueType as T};
use crate::{author_ref, instant, Context, Resource, ResourceType, SNOMED};

const CATEGORY: &str = "http://terminology.hl7.org/CodeSystem/flag-category";

fn category(code: &str, display: &str) -> Value {
    json!([{"coding": [{"system": CATEGORY, "code": code, "display": display}]}])
}

/// A flag is active while the plan is; once it is not, nothing in it should be acted on.
fn flag_status(ctx: &Context<'_>) -> &'static str {
    if ctx.plan.status == PlanStatus::Voided {
        "entered-in-error"
    } else if ctx.plan.status == PlanStatus::Active {
        "active"
    } else {
        "inactive"
    }
}

pub(crate) fn flags(ctx: &Context<'_>) -> Vec<Resource> {
    let mut out = vec![cpr(ctx)];
    if let Some(section) = ctx.plan.section(PlanSection::CommunicationAndAccessibility) {
        let SectionContent::CommunicationAndAccessibility(c) = &section.content else {
            return out;
        };
        let flag = |part: String, category_value: Value, code: Value, extension: Option<Value>| {
            ctx.resource(
                ResourceType::Flag,
                ctx.id(&part),
                section.changed_at,
                json!({
                    "extension": [extension],
                    "status": flag_status(ctx),
                    "category": category_value,
                    "code": code,
                    "subject": ctx.patient_ref(),
                    "period": {"start": instant(section.changed_at)},
                    "author": author_ref(&section.changed_by, &ctx.plan.nhs_number),
                }),
            )
        };
        if c.access_to_home.is_some() || c.key_safe {
            let text = match (&c.access_to_home, c.key_safe) {
                (Some(words), _) => words.to_string(),
                (None, _) => "Key safe".to_owned(),
            };
            out.push(flag(
                "access".to_owned(),
                category("contact", "Subject Contact"),
                json!({"text": text}),
                None,
            ));
        }
        for (i, need) in c.needs.iter().enumerate() {
            out.push(flag(
                format!("communication-{}", i + 1),
                category("contact", "Subject Contact"),
                json!({"text": need.detail.as_str()}),
                simple(
                    "ucp-communication-need",
                    T::Code,
                    serde_json::to_value(need.kind).ok(),
                ),
            ));
        }
        for (i, hazard) in c.hazards.iter().enumerate() {
            out.push(flag(
                format!("hazard-{}", i + 1),
                category("safety", "Safety"),
                json!({"text": hazard.as_str()}),
                None,
            ));
        }
    }
    out
}

/// The standing of the CPR decision, where it is not simply current (`ucp-decision-standing`):
/// the same judgement as the emergency summary's, gravest first; an overdue review is not one
/// (the recommendations stand until reviewed).
pub(crate) fn decision_standing(ctx: &Context<'_>) -> Option<&'static str> {
    let etp = ctx.plan.section(PlanSection::EmergencyTreatmentPlan);
    let form = match etp.map(|s| &s.content) {
        Some(SectionContent::EmergencyTreatmentPlan(e)) => Some(e),
        _ => None,
    };
    if ucp_domain::standing::no_longer_valid(ctx.plan, form, etp).is_some() {
        Some("said-no-longer-valid")
    } else if ucp_domain::standing::unsigned_change(ctx.plan, form).is_some() {
        Some("changed-after-signing")
    } else if form.is_some_and(ucp_domain::standing::awaiting_countersignature) {
        Some("awaiting-countersignature")
    } else {
        None
    }
}

/// The CPR status, coded exactly: for CPR, not for CPR, or no decision recorded (the NHS code
/// for "not aware of a DNACPR decision"). Modified CPR has no concept, so it is words only,
/// with the details as the clinician wrote them.
fn cpr(ctx: &Context<'_>) -> Resource {
    let etp = ctx.plan.section(PlanSection::EmergencyTreatmentPlan);
    let form = match etp.map(|s| &s.content) {
        Some(SectionContent::EmergencyTreatmentPlan(e)) => Some(e),
        _ => None,
    };
    let (status, details) = match form {
        Some(e) => (
            e.cpr_recommendation.status(),
            e.modified_cpr_details.as_ref().map(ToString::to_string),
        ),
        None => (CprStatus::NoDecisionRecorded, None),
    };
    let under_review = ucp_domain::standing::no_longer_valid(ctx.plan, form, etp);
    let unsigned = ucp_domain::standing::unsigned_change(ctx.plan, form);
    let standing = decision_standing(ctx);
    let earlier = status
        .snomed()
        .map_or("Modified cardiopulmonary resuscitation", |(_, display)| {
            display
        });
    let code = match (&under_review, status.snomed()) {
        // No code while under review: a system reading only codes must not act on it.
        (Some(n), _) => json!({
            "text": format!(
                "Decision under review: said no longer valid{}{}. Earlier recommendation, not to be relied on: {earlier}.",
                n.said_at.map(|t| format!(" on {}", t.format("%-d %B %Y"))).unwrap_or_default(),
                n.said_by.as_deref().map(|w| format!(" by {w}")).unwrap_or_default(),
            ),
        }),
        // No code for a change nobody signed: the same reason.
        (None, _) if unsigned.is_some() => json!({
            "text": format!(
                "Changed after signing{}{} and not signed since. Unsigned recommendation: {earlier}.",
                unsigned.as_ref().map(|u| format!(" by {}", u.by.name.as_deref().unwrap_or(&u.by.actor))).unwrap_or_default(),
                unsigned.as_ref().map(|u| format!(" on {}", u.at.format("%-d %B %Y"))).unwrap_or_default(),
            ),
        }),
        (None, Some((code, display))) => json!({
            "coding": [{"system": SNOMED, "code": code, "display": display}],
            "text": display,
        }),
        (None, None) => json!({"text": "Modified cardiopulmonary resuscitation"}),
    };
    let (start, author, updated) = match etp {
        Some(s) => (
            Some(instant(s.changed_at)),
            Some(author_ref(&s.changed_by, &ctx.plan.nhs_number)),
            s.changed_at,
        ),
        None => (None, None, ctx.plan.created_at),
    };
    ctx.resource(
        ResourceType::Flag,
        ctx.id("cpr"),
        updated,
        json!({
            "extension": [
                simple(
                    "ucp-respect-modified-cpr",
                    T::String,
                    details.filter(|_| status == CprStatus::ModifiedCpr).map(Value::String),
                ),
                simple(
                    "ucp-decision-standing",
                    T::Code,
                    standing.map(|s| json!(s)),
                ),
            ],
            "status": flag_status(ctx),
            "category": category("advance-directive", "Advance Directive"),
            "code": code,
            "subject": ctx.patient_ref(),
            "period": {"start": start},
            "author": author,
        }),
    )
}
