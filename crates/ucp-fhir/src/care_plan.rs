//! The plan itself: status, author, period, and the person-centred forms in the person's own
//! words, with the plan's parts referenced from it.

use serde_json::{json, Value};
use ucp_domain::{PlanSection, PlanStatus, SectionContent};

use crate::extensions::{complex, simple, ValueType as T};
use crate::{author_ref, instant, organisation_ref, Context, Resource, ResourceType};

/// The plan's status in FHIR's words.
#[must_use]
pub fn status(status: PlanStatus) -> &'static str {
    match status {
        PlanStatus::Active => "active",
        PlanStatus::Withdrawn => "revoked",
        PlanStatus::Voided => "entered-in-error",
        PlanStatus::Deceased => "completed",
    }
}

pub(crate) fn care_plan(ctx: &Context<'_>) -> Resource {
    let plan = ctx.plan;
    let content = |s: PlanSection| plan.section(s).map(|s| &s.content);
    let mut extensions: Vec<Option<Value>> = Vec::new();
    let mut activities = Vec::new();
    let s = |t: &dyn ToString| Some(Value::String(t.to_string()));
    if let Some(SectionContent::WhatMatters(w)) = content(PlanSection::WhatMatters) {
        extensions.push(simple(
            "ucp-what-matters",
            T::String,
            s(&w.in_their_own_words),
        ));
    }
    if let Some(SectionContent::ThinkingAhead(t)) = content(PlanSection::ThinkingAhead) {
        let opt = |v: &Option<_>| v.as_ref().and_then(|x: &ucp_domain::ShortText| s(x));
        extensions.push(simple(
            "ucp-preferred-place-of-care",
            T::String,
            opt(&t.preferred_place_of_care),
        ));
        extensions.push(simple(
            "ucp-preferred-place-of-death",
            T::String,
            opt(&t.preferred_place_of_death),
        ));
        extensions.push(simple(
            "ucp-religious-and-cultural-needs",
            T::String,
            t.religious_and_cultural_needs.as_ref().and_then(|x| s(x)),
        ));
        extensions.push(simple(
            "ucp-advance-decision-held",
            T::Code,
            serde_json::to_value(t.advance_decision_to_refuse_treatment.held).ok(),
        ));
        for doc in &t.other_planning_documents {
            extensions.push(complex(
                "ucp-planning-document",
                vec![
                    ("name", T::String, s(&doc.name)),
                    ("keptAt", T::String, s(&doc.location)),
                ],
            ));
        }
    }
    if let Some(SectionContent::CommunicationAndAccessibility(c)) =
        content(PlanSection::CommunicationAndAccessibility)
    {
        extensions.push(simple(
            "ucp-how-best-to-communicate",
            T::String,
            c.how_best_to_communicate.as_ref().and_then(|x| s(x)),
        ));
    }
    if let Some(SectionContent::ClinicalBackground(c)) = content(PlanSection::ClinicalBackground) {
        extensions.push(simple(
            "ucp-relevant-history",
            T::String,
            c.relevant_history.as_ref().and_then(|x| s(x)),
        ));
        // London UCP's items beside the ReSPECT form, as extensions of the plan: prognosis
        // and an expected death are the care team's judgement for this plan, not measurements
        // (which would be Observations).
        let code = |v: Option<Value>| v.filter(|v| !v.is_null());
        extensions.push(simple(
            "ucp-prognosis",
            T::Code,
            code(c.prognosis.and_then(|p| serde_json::to_value(p).ok())),
        ));
        extensions.push(simple(
            "ucp-death-expected",
            T::Boolean,
            c.death_expected.map(Value::Bool),
        ));
        extensions.push(simple(
            "ucp-death-verified-by",
            T::String,
            c.death_verified_by.as_ref().and_then(|x| s(x)),
        ));
        extensions.push(simple(
            "ucp-dols-in-place",
            T::Code,
            code(c.dols_in_place.and_then(|v| serde_json::to_value(v).ok())),
        ));
        extensions.push(simple(
            "ucp-safeguarding-concerns",
            T::String,
            c.safeguarding_concerns.as_ref().and_then(|x| s(x)),
        ));
        extensions.push(simple(
            "ucp-lives-alone",
            T::Code,
            code(c.lives_alone.and_then(|v| serde_json::to_value(v).ok())),
        ));
    }
    if let Some(SectionContent::AnticipatoryMedicines(m)) =
        content(PlanSection::AnticipatoryMedicines)
    {
        extensions.push(simple(
            "ucp-symptom-management-plan",
            T::String,
            m.symptom_management_plan.as_ref().and_then(|x| s(x)),
        ));
    }
    if let Some(SectionContent::SickleCellPlan(p)) = content(PlanSection::SickleCellPlan) {
        extensions.push(complex(
            "ucp-sickle-cell-plan",
            vec![
                (
                    "dayToDayManagement",
                    T::String,
                    p.day_to_day_management.as_ref().and_then(|x| s(x)),
                ),
                ("ambulanceGuidance", T::String, s(&p.ambulance_guidance)),
                (
                    "emergencyDepartmentGuidance",
                    T::String,
                    p.emergency_department_guidance.as_ref().and_then(|x| s(x)),
                ),
            ],
        ));
    }
    if let Some(SectionContent::MentalHealthCrisisPlan(p)) =
        content(PlanSection::MentalHealthCrisisPlan)
    {
        let mut parts = vec![
            (
                "triggersAndEarlySigns",
                T::String,
                p.triggers_and_early_signs.as_ref().and_then(|x| s(x)),
            ),
            ("whatHelps", T::String, s(&p.what_helps)),
        ];
        for i in 0..p.crisis_contacts.len() {
            parts.push((
                "crisisContact",
                T::Reference,
                Some(json!({"reference": format!("RelatedPerson/{}", ctx.id(&format!("crisis-contact-{}", i + 1)))})),
            ));
        }
        extensions.push(complex("ucp-mental-health-crisis-plan", parts));
    }
    if let Some(SectionContent::SupportNeeds(n)) = content(PlanSection::SupportNeeds) {
        for need in &n.needs {
            activities.push(json!({"detail": {
                "extension": [simple(
                    "ucp-support-contact",
                    T::ContactPoint,
                    need.contact.as_ref().map(|p| json!({"system": "phone", "value": p.as_str()})),
                )],
                "status": if plan.status == PlanStatus::Active { "in-progress" } else { "stopped" },
                "description": need.need.as_str(),
                "performer": [{"display": need.provided_by.as_str()}],
            }}));
        }
    }
    if let Some(review) = &plan.last_review {
        extensions.push(complex(
            "ucp-plan-review",
            vec![
                (
                    "reviewedAt",
                    T::DateTime,
                    Some(Value::String(instant(review.reviewed_at))),
                ),
                (
                    "reviewedBy",
                    T::String,
                    Some(Value::String(
                        review
                            .reviewed_by
                            .name
                            .clone()
                            .unwrap_or_else(|| review.reviewed_by.actor.clone()),
                    )),
                ),
                (
                    "stillValid",
                    T::Boolean,
                    review.still_valid.map(Value::Bool),
                ),
                ("note", T::String, review.note.as_ref().and_then(|x| s(x))),
                (
                    "nextReviewDate",
                    T::Date,
                    Some(Value::String(review.next_review_date.to_string())),
                ),
            ],
        ));
    }
    if let Some(change) = &plan.status_change {
        if plan.status != PlanStatus::Active {
            extensions.push(simple(
                "ucp-status-reason",
                T::String,
                change.reason.as_ref().and_then(|x| s(x)),
            ));
            extensions.push(simple(
                "ucp-consent-withdrawn",
                T::Boolean,
                change.consent_withdrawn.then_some(Value::Bool(true)),
            ));
        }
    }
    let ended = plan
        .status_change
        .as_ref()
        .filter(|_| plan.status != PlanStatus::Active)
        .map(|c| instant(c.at));
    let parts: Vec<Value> = crate::plan_parts(ctx)
        .iter()
        .map(|r| json!({"reference": r.reference()}))
        .collect();
    let body = json!({
        "extension": extensions.into_iter().flatten().collect::<Vec<_>>(),
        "identifier": [{
            "system": "urn:ietf:rfc:3986",
            "value": format!("urn:uuid:{}", ctx.plan_id),
        }],
        "status": status(plan.status),
        "intent": "plan",
        "category": [{"coding": [{
            "system": crate::SNOMED,
            "code": "734163000",
            "display": "Care plan",
        }]}],
        "title": "Universal Care Plan",
        "subject": ctx.patient_ref(),
        "period": {"start": instant(plan.created_at), "end": ended},
        "created": instant(plan.created_at),
        "author": author_ref(&plan.created_by, &plan.nhs_number),
        "contributor": organisation_ref(&plan.created_by).map(|o| vec![o]),
        "supportingInfo": parts,
        "activity": activities,
    });
    let mut resource = ctx.resource(
        ResourceType::CarePlan,
        ctx.plan_id.to_string(),
        plan.updated_at,
        body,
    );
    if let Some(meta) = resource.json.get_mut("meta").and_then(Value::as_object_mut) {
        meta.insert("versionId".into(), Value::String(plan.version.to_string()));
        if plan.sensitivity.is_some() {
            meta.insert("security".into(), crate::restricted());
        }
    }
    resource
}
