//! Clinical Background and Anticipatory Medicines: conditions, allergies (or "no known
//! allergies", which is not the same as none recorded), and the just-in-case medicines.

use serde_json::{json, Value};
use ucp_domain::{PlanSection, PlanStatus, SectionContent, SectionState};

use crate::extensions::{simple, ValueType as T};
use crate::{author_ref, instant, Context, Resource, ResourceType, SNOMED};

const CLINICAL: &str = "http://terminology.hl7.org/CodeSystem/condition-clinical";
const ALLERGY_CLINICAL: &str = "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical";

/// Voided: everything in the plan was recorded against the wrong person.
fn entered_in_error(ctx: &Context<'_>) -> bool {
    ctx.plan.status == PlanStatus::Voided
}

fn verification(system: &str) -> Value {
    json!({"coding": [{"system": system, "code": "entered-in-error", "display": "Entered in Error"}]})
}

fn background<'a>(
    ctx: &Context<'a>,
) -> Option<(&'a SectionState, &'a ucp_domain::ClinicalBackground)> {
    let section = ctx.plan.section(PlanSection::ClinicalBackground)?;
    match &section.content {
        SectionContent::ClinicalBackground(c) => Some((section, c)),
        _ => None,
    }
}

pub(crate) fn conditions(ctx: &Context<'_>) -> Vec<Resource> {
    let Some((section, c)) = background(ctx) else {
        return Vec::new();
    };
    c.conditions
        .iter()
        .enumerate()
        .map(|(i, condition)| {
            let coding = condition.snomed_code.as_ref().map(|code| {
                vec![json!({"system": SNOMED, "code": code.as_str(), "display": condition.name.as_str()})]
            });
            let (clinical, verified) = if entered_in_error(ctx) {
                (Value::Null, verification("http://terminology.hl7.org/CodeSystem/condition-ver-status"))
            } else {
                (json!({"coding": [{"system": CLINICAL, "code": "active", "display": "Active"}]}), Value::Null)
            };
            ctx.resource(
                ResourceType::Condition,
                ctx.id(&format!("condition-{}", i + 1)),
                section.changed_at,
                json!({
                    "clinicalStatus": clinical,
                    "verificationStatus": verified,
                    "category": [{"coding": [{
                        "system": "http://terminology.hl7.org/CodeSystem/condition-category",
                        "code": "problem-list-item",
                        "display": "Problem List Item",
                    }]}],
                    "code": {"coding": coding, "text": condition.name.as_str()},
                    "subject": ctx.patient_ref(),
                    "recordedDate": instant(section.changed_at),
                    "recorder": author_ref(&section.changed_by, &ctx.plan.nhs_number),
                }),
            )
        })
        .collect()
}

pub(crate) fn allergies(ctx: &Context<'_>) -> Vec<Resource> {
    let Some((section, c)) = background(ctx) else {
        return Vec::new();
    };
    let allergy = |part: String, code: Value| {
        let (clinical, verified) = if entered_in_error(ctx) {
            (
                Value::Null,
                verification(
                    "http://terminology.hl7.org/CodeSystem/allergyintolerance-verification",
                ),
            )
        } else {
            (
                json!({"coding": [{"system": ALLERGY_CLINICAL, "code": "active", "display": "Active"}]}),
                Value::Null,
            )
        };
        ctx.resource(
            ResourceType::AllergyIntolerance,
            ctx.id(&part),
            section.changed_at,
            json!({
                "clinicalStatus": clinical,
                "verificationStatus": verified,
                "code": code,
                "patient": ctx.patient_ref(),
                "recordedDate": instant(section.changed_at),
                "recorder": author_ref(&section.changed_by, &ctx.plan.nhs_number),
            }),
        )
    };
    if c.no_known_allergies {
        return vec![allergy(
            "no-known-allergies".to_owned(),
            json!({"coding": [{"system": SNOMED, "code": "716186003", "display": "No known allergy"}], "text": "No known allergies"}),
        )];
    }
    c.allergies
        .iter()
        .enumerate()
        .map(|(i, a)| allergy(format!("allergy-{}", i + 1), json!({"text": a.as_str()})))
        .collect()
}

pub(crate) fn medicines(ctx: &Context<'_>) -> Vec<Resource> {
    let Some(section) = ctx.plan.section(PlanSection::AnticipatoryMedicines) else {
        return Vec::new();
    };
    let SectionContent::AnticipatoryMedicines(m) = &section.content else {
        return Vec::new();
    };
    // Held "just in case": not being taken now, intended should symptoms come.
    let status = match ctx.plan.status {
        PlanStatus::Active => "intended",
        PlanStatus::Voided => "entered-in-error",
        PlanStatus::Withdrawn | PlanStatus::Deceased => "stopped",
    };
    m.medicines
        .iter()
        .enumerate()
        .map(|(i, med)| {
            ctx.resource(
                ResourceType::MedicationStatement,
                ctx.id(&format!("medicine-{}", i + 1)),
                section.changed_at,
                json!({
                    "extension": [simple(
                        "ucp-kept-at",
                        T::String,
                        m.location.as_ref().map(|l| Value::String(l.to_string())),
                    )],
                    "status": status,
                    "category": {"coding": [{
                        "system": "http://terminology.hl7.org/CodeSystem/medication-statement-category",
                        "code": "community",
                        "display": "Community",
                    }]},
                    "medicationCodeableConcept": {"text": med.name.as_str()},
                    "subject": ctx.patient_ref(),
                    "dateAsserted": instant(section.changed_at),
                    "informationSource": author_ref(&section.changed_by, &ctx.plan.nhs_number),
                    "reasonCode": med.indication.as_ref().map(|r| vec![json!({"text": r.as_str()})]),
                    "dosage": med.dose_and_route.as_ref().map(|d| vec![json!({"text": d.as_str()})]),
                }),
            )
        })
        .collect()
}
