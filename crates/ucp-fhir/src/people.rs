//! The people around the person: personal contacts, the ReSPECT form's emergency contacts and
//! the crisis plan's contacts as RelatedPerson; professionals as Organization (when they have an
//! ODS code) or PractitionerRole.

use serde_json::{json, Value};
use ucp_domain::{EmergencyContact, PlanSection, PlanStatus, SectionContent, SectionState};

use crate::extensions::{simple, ValueType as T};
use crate::{Context, Resource, ResourceType, ODS_SYSTEM};

fn phone(p: &ucp_domain::Phone) -> Value {
    json!([{"system": "phone", "value": p.as_str()}])
}

/// A relationship is known only while the plan stands.
fn active(ctx: &Context<'_>) -> bool {
    ctx.plan.status == PlanStatus::Active
}

pub(crate) fn related_people(ctx: &Context<'_>) -> Vec<Resource> {
    let mut out = Vec::new();
    if let Some(section) = ctx.plan.section(PlanSection::Contacts) {
        if let SectionContent::Contacts(c) = &section.content {
            for (i, person) in c.personal.iter().enumerate() {
                let mut relationship = vec![json!({"text": person.relationship.as_str()})];
                if person.next_of_kin {
                    relationship.push(json!({"coding": [{
                        "system": "http://terminology.hl7.org/CodeSystem/v3-RoleCode",
                        "code": "NOK",
                        "display": "next of kin",
                    }]}));
                }
                out.push(ctx.resource(
                    ResourceType::RelatedPerson,
                    ctx.id(&format!("contact-{}", i + 1)),
                    section.changed_at,
                    json!({
                        "extension": [
                            simple("ucp-lpa-health-and-welfare", T::Code, serde_json::to_value(person.lpa_health_and_welfare).ok()),
                            simple("ucp-lpa-property-and-financial", T::Code, serde_json::to_value(person.lpa_property_and_financial).ok()),
                            simple("ucp-carer", T::Boolean, person.carer.then_some(Value::Bool(true))),
                            simple("ucp-contact-first", T::Boolean, person.contact_first.then_some(Value::Bool(true))),
                        ],
                        "active": active(ctx),
                        "patient": ctx.patient_ref(),
                        "relationship": relationship,
                        "name": [{"text": person.name.as_str()}],
                        "telecom": phone(&person.phone),
                    }),
                ));
            }
        }
    }
    let mut emergency = |part: &str, section: &SectionState, contacts: &[EmergencyContact]| {
        for (i, contact) in contacts.iter().enumerate() {
            out.push(ctx.resource(
                ResourceType::RelatedPerson,
                ctx.id(&format!("{part}-{}", i + 1)),
                section.changed_at,
                json!({
                    "extension": [simple("ucp-contact-first", T::Boolean, contact.primary.then_some(Value::Bool(true)))],
                    "active": active(ctx),
                    "patient": ctx.patient_ref(),
                    "relationship": [{"text": contact.role_or_relationship.as_str()}],
                    "name": [{"text": contact.name.as_str()}],
                    "telecom": phone(&contact.phone),
                }),
            ));
        }
    };
    if let Some(section) = ctx.plan.section(PlanSection::EmergencyTreatmentPlan) {
        if let SectionContent::EmergencyTreatmentPlan(e) = &section.content {
            emergency("respect-contact", section, &e.emergency_contacts);
        }
    }
    if let Some(section) = ctx.plan.section(PlanSection::MentalHealthCrisisPlan) {
        if let SectionContent::MentalHealthCrisisPlan(m) = &section.content {
            emergency("crisis-contact", section, &m.crisis_contacts);
        }
    }
    out
}

pub(crate) fn professionals(ctx: &Context<'_>) -> Vec<Resource> {
    let Some(section) = ctx.plan.section(PlanSection::Contacts) else {
        return Vec::new();
    };
    let SectionContent::Contacts(c) = &section.content else {
        return Vec::new();
    };
    c.professional
        .iter()
        .enumerate()
        .map(|(i, pro)| match &pro.ods_code {
            Some(ods) => ctx.resource(
                ResourceType::Organization,
                ctx.id(&format!("organisation-{}", i + 1)),
                section.changed_at,
                json!({
                    "identifier": [{"system": ODS_SYSTEM, "value": ods.as_str()}],
                    "active": active(ctx),
                    "type": [{"text": pro.role.as_str()}],
                    "name": pro.name.as_str(),
                    "telecom": phone(&pro.phone),
                }),
            ),
            None => ctx.resource(
                ResourceType::PractitionerRole,
                ctx.id(&format!("professional-{}", i + 1)),
                section.changed_at,
                json!({
                    "active": active(ctx),
                    "practitioner": {"display": pro.name.as_str()},
                    "code": [{"text": pro.role.as_str()}],
                    "telecom": phone(&pro.phone),
                }),
            ),
        })
        .collect()
}
