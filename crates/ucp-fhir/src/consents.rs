//! Decisions as Consents: consent to share the plan, the ReSPECT recommendations (with CPR as a
//! permit or deny of cardiopulmonary resuscitation), and an advance decision to refuse
//! treatment when one is held.

use serde_json::{json, Value};
use ucp_domain::{
    ConsentBasis, CprRecommendation, PlanSection, PlanStatus, SectionContent, YesNoUnknown,
};

use crate::extensions::{complex, simple, ValueType as T};
use crate::{author_ref, instant, organisation_ref, Context, Resource, ResourceType, SNOMED};

const SCOPE: &str = "http://terminology.hl7.org/CodeSystem/consentscope";
const CATEGORY: &str = "http://terminology.hl7.org/CodeSystem/consentcategorycodes";
/// SNOMED CT: cardiopulmonary resuscitation (procedure).
const CPR_PROCEDURE: (&str, &str) = ("89666000", "Cardiopulmonary resuscitation");

/// A consent holds while the plan is active; it is inactive once the plan is not, and entered
/// in error with a voided plan.
fn consent_status(ctx: &Context<'_>) -> &'static str {
    match ctx.plan.status {
        PlanStatus::Active => "active",
        PlanStatus::Voided => "entered-in-error",
        PlanStatus::Withdrawn | PlanStatus::Deceased => "inactive",
    }
}

fn scope(code: &str, display: &str) -> Value {
    json!({"coding": [{"system": SCOPE, "code": code, "display": display}]})
}

fn s(t: &dyn ToString) -> Option<Value> {
    Some(Value::String(t.to_string()))
}

pub(crate) fn consents(ctx: &Context<'_>) -> Vec<Resource> {
    let mut out = Vec::new();
    out.extend(consent_to_share(ctx));
    out.extend(respect(ctx));
    out.extend(advance_decision(ctx));
    out
}

fn consent_to_share(ctx: &Context<'_>) -> Option<Resource> {
    let section = ctx.plan.section(PlanSection::ConsentToShare)?;
    let SectionContent::ConsentToShare(c) = &section.content else {
        return None;
    };
    let performer = match c.basis {
        ConsentBasis::PersonAgreed => ctx.patient_ref(),
        ConsentBasis::BestInterests => {
            json!({"display": c.decided_by.as_ref().map(ToString::to_string)})
        }
        ConsentBasis::LastingPowerOfAttorney => {
            json!({"display": "Attorney under a lasting power of attorney for health and welfare"})
        }
    };
    let mut extensions = vec![simple(
        "ucp-consent-basis",
        T::Code,
        serde_json::to_value(c.basis).ok(),
    )];
    for person in &c.consulted {
        extensions.push(simple("ucp-consulted", T::String, s(person)));
    }
    // Its own state since consent withdrawal became one; withdrawn with the plan before that.
    let withdrawn = ctx.plan.consent_withdrawal.is_some()
        || ctx
            .plan
            .status_change
            .as_ref()
            .is_some_and(|ch| ch.consent_withdrawn && ctx.plan.status != PlanStatus::Active);
    extensions.push(simple(
        "ucp-consent-withdrawn",
        T::Boolean,
        withdrawn.then_some(Value::Bool(true)),
    ));
    Some(ctx.resource(
        ResourceType::Consent,
        ctx.id("consent-to-share"),
        section.changed_at,
        json!({
            "extension": extensions,
            // Withdrawn consent to share ends this consent, not the plan's recommendations.
            "status": if ctx.plan.consent_withdrawal.is_some() { "inactive" } else { consent_status(ctx) },
            "scope": scope("patient-privacy", "Privacy Consent"),
            "category": [{"coding": [{"system": "http://loinc.org", "code": "59284-0", "display": "Patient Consent"}]}],
            "patient": ctx.patient_ref(),
            "dateTime": c.date.to_string(),
            "performer": [performer],
            "organization": organisation_ref(&section.changed_by).map(|o| vec![o]),
            "policyRule": {"coding": [{
                "system": "http://terminology.hl7.org/CodeSystem/v3-ActCode",
                "code": "OPTIN",
                "display": "opt-in",
            }]},
            "provision": {"type": "permit", "purpose": [{
                "system": "http://terminology.hl7.org/CodeSystem/v3-ActReason",
                "code": "TREAT",
                "display": "treatment",
            }]},
        }),
    ))
}

fn respect(ctx: &Context<'_>) -> Option<Resource> {
    let section = ctx.plan.section(PlanSection::EmergencyTreatmentPlan)?;
    let SectionContent::EmergencyTreatmentPlan(e) = &section.content else {
        return None;
    };
    let mut extensions = vec![
        simple(
            "ucp-decision-standing",
            T::Code,
            crate::flags::decision_standing(ctx).map(|s| json!(s)),
        ),
        simple(
            "ucp-respect-shared-understanding",
            T::String,
            s(&e.shared_understanding),
        ),
        simple(
            "ucp-respect-other-planning-documents",
            T::String,
            e.other_planning_documents.as_ref().and_then(|x| s(x)),
        ),
        complex(
            "ucp-respect-legal-proxy",
            vec![
                (
                    "proxy",
                    T::String,
                    e.legal_welfare_proxy.as_ref().and_then(|x| s(x)),
                ),
                (
                    "participation",
                    T::String,
                    e.legal_proxy_participation.as_ref().and_then(|x| s(x)),
                ),
            ],
        ),
        e.what_matters.as_ref().and_then(|w| {
            complex(
                "ucp-respect-what-matters",
                vec![
                    (
                        "priorityScale",
                        T::Integer,
                        w.priority_scale.map(|n| json!(n)),
                    ),
                    (
                        "mostValue",
                        T::String,
                        w.most_value.as_ref().and_then(|x| s(x)),
                    ),
                    (
                        "mostFearOrAvoid",
                        T::String,
                        w.most_fear_or_avoid.as_ref().and_then(|x| s(x)),
                    ),
                ],
            )
        }),
        simple(
            "ucp-respect-clinical-focus",
            T::Code,
            serde_json::to_value(e.clinical_focus).ok(),
        ),
        complex(
            "ucp-respect-capacity",
            vec![
                ("status", T::Code, serde_json::to_value(e.capacity).ok()),
                (
                    "assessment",
                    T::String,
                    e.capacity_assessment.as_ref().and_then(|x| s(x)),
                ),
            ],
        ),
    ];
    let mut involvement: Vec<(&str, T, Option<Value>)> = e
        .involvement
        .iter()
        .map(|i| ("option", T::Code, serde_json::to_value(i).ok()))
        .collect();
    involvement.push((
        "detail",
        T::String,
        e.involvement_detail.as_ref().and_then(|x| s(x)),
    ));
    extensions.push(complex("ucp-respect-involvement", involvement));
    let digest = ucp_domain::signing::decision_digest(e);
    for sig in &e.signatures {
        let current = sig.digest.as_deref() == Some(digest.as_str());
        extensions.push(complex(
            "ucp-respect-signature",
            vec![
                (
                    "method",
                    T::Code,
                    sig.method.and_then(|m| serde_json::to_value(m).ok()),
                ),
                ("digest", T::String, sig.digest.clone().map(Value::String)),
                ("current", T::Boolean, Some(Value::Bool(current))),
                ("name", T::String, s(&sig.name)),
                ("role", T::String, s(&sig.role)),
                ("registrationNumber", T::String, s(&sig.registration_number)),
                (
                    "seniorResponsible",
                    T::Boolean,
                    Some(Value::Bool(sig.senior_responsible)),
                ),
                (
                    "signedAt",
                    T::DateTime,
                    Some(Value::String(instant(sig.signed_at))),
                ),
            ],
        ));
    }
    for i in 0..e.emergency_contacts.len() {
        extensions.push(simple(
            "ucp-respect-emergency-contact",
            T::Reference,
            Some(json!({"reference": format!("RelatedPerson/{}", ctx.id(&format!("respect-contact-{}", i + 1)))})),
        ));
    }
    if let Some(review) = &e.review {
        extensions.push(complex(
            "ucp-respect-review",
            vec![
                (
                    "due",
                    T::Date,
                    review.due.map(|d| Value::String(d.to_string())),
                ),
                (
                    "reviewedBy",
                    T::String,
                    review.reviewed_by.as_ref().and_then(|x| s(x)),
                ),
                (
                    "stillValid",
                    T::Boolean,
                    review.still_valid.map(Value::Bool),
                ),
            ],
        ));
    }
    // CPR first, then each intervention as the form gives them.
    let (cpr_type, modified) = match e.cpr_recommendation {
        CprRecommendation::AttemptsRecommended => (Some("permit"), None),
        CprRecommendation::AttemptsNotRecommended => (Some("deny"), None),
        // Neither a permit nor a deny: what is recommended is in the clinician's words.
        CprRecommendation::ModifiedCpr => (None, e.modified_cpr_details.as_ref()),
    };
    let mut provisions = vec![json!({
        "extension": [simple("ucp-respect-modified-cpr", T::String, modified.and_then(|x| s(x)))],
        "type": cpr_type,
        "code": [{"coding": [{"system": SNOMED, "code": CPR_PROCEDURE.0, "display": CPR_PROCEDURE.1}]}],
    })];
    for guidance in &e.interventions {
        provisions.push(json!({
            "extension": [simple(
                "ucp-respect-recommendation-reason",
                T::String,
                guidance.reason.as_ref().and_then(|x| s(x)),
            )],
            "type": if guidance.recommended { "permit" } else { "deny" },
            "code": [{"text": guidance.intervention.as_str()}],
        }));
    }
    // Who made the recommendations: the signing clinicians (the form requires at least one);
    // who recorded them is the section's author, as the NHS end-of-life standard requires.
    let mut performers: Vec<Value> = ucp_domain::signing::current_signatures(e)
        .into_iter()
        .map(|sig| json!({"type": "Practitioner", "display": sig.name.as_str()}))
        .collect();
    if performers.is_empty() {
        performers.push(author_ref(&section.changed_by, &ctx.plan.nhs_number));
    }
    Some(ctx.resource(
        ResourceType::Consent,
        ctx.id("respect"),
        section.changed_at,
        json!({
            "extension": extensions,
            "status": consent_status(ctx),
            "scope": scope("treatment", "Treatment"),
            "category": [{"coding": [{"system": SNOMED, "code": "1382601000000107", "display": "ReSPECT form"}]}],
            "patient": ctx.patient_ref(),
            "dateTime": instant(section.changed_at),
            "performer": performers,
            "organization": organisation_ref(&section.changed_by).map(|o| vec![o]),
            "policy": [{"uri": "https://www.resus.org.uk/respect"}],
            "provision": {
                "period": {"start": instant(section.changed_at)},
                "provision": provisions,
            },
        }),
    ))
}

fn advance_decision(ctx: &Context<'_>) -> Option<Resource> {
    let section = ctx.plan.section(PlanSection::ThinkingAhead)?;
    let SectionContent::ThinkingAhead(t) = &section.content else {
        return None;
    };
    let adrt = &t.advance_decision_to_refuse_treatment;
    if adrt.held != YesNoUnknown::Yes {
        return None;
    }
    Some(ctx.resource(
        ResourceType::Consent,
        ctx.id("adrt"),
        section.changed_at,
        json!({
            "extension": [simple("ucp-kept-at", T::String, adrt.location.as_ref().and_then(|x| s(x)))],
            "status": consent_status(ctx),
            "scope": scope("adr", "Advanced Care Directive"),
            "category": [{"coding": [{"system": CATEGORY, "code": "acd", "display": "Advance Directive"}]}],
            "patient": ctx.patient_ref(),
            "dateTime": instant(section.changed_at),
            "performer": [ctx.patient_ref()],
            // The Mental Capacity Act 2005, sections 24 to 26: advance decisions to refuse treatment.
            "policy": [{"uri": "https://www.legislation.gov.uk/ukpga/2005/9/section/24"}],
            // What it refuses, as recorded, in words (no code stands for a person's own terms);
            // the circumstances in which it applies go with it.
            "provision": {
                "type": "deny",
                "code": adrt.refuses.as_ref().map(|r| {
                    let words = match &adrt.circumstances {
                        Some(c) => format!("{r} ({c})"),
                        None => r.to_string(),
                    };
                    vec![json!({"text": words})]
                }),
            },
        }),
    ))
}
