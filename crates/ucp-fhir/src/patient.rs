//! The person, from the plan's Personal Information.

use serde_json::{json, Value};
use ucp_domain::{PlanSection, PlanStatus, SectionContent};

use crate::{Context, Resource, ResourceType, NHS_NUMBER_SYSTEM};

/// UK Core's NHS number verification status. The service checks an NHS number's check digit
/// but does not trace it against the Personal Demographics Service, so it says exactly that.
const VERIFICATION: &str =
    "https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-NHSNumberVerificationStatus";
const VERIFICATION_CODES: &str =
    "https://fhir.hl7.org.uk/CodeSystem/UKCore-NHSNumberVerificationStatusEngland";

/// FHIR's administrative gender, only when the recorded text says exactly one of its codes;
/// any other wording is kept as written in the CarePlan, never guessed into a code.
fn gender(recorded: Option<&str>) -> Option<&'static str> {
    match recorded?.trim().to_ascii_lowercase().as_str() {
        "male" => Some("male"),
        "female" => Some("female"),
        "other" => Some("other"),
        "unknown" => Some("unknown"),
        _ => None,
    }
}

pub(crate) fn patient(ctx: &Context<'_>) -> Resource {
    let nhs = ctx.plan.nhs_number.to_string();
    let section = ctx.plan.section(PlanSection::PersonalInformation);
    let updated = section.map_or(ctx.plan.created_at, |s| s.changed_at);
    let mut body = json!({
        "identifier": [{
            "extension": [{
                "url": VERIFICATION,
                "valueCodeableConcept": {"coding": [{
                    "system": VERIFICATION_CODES,
                    "code": "02",
                    "display": "Number present but not traced",
                }]},
            }],
            "system": NHS_NUMBER_SYSTEM,
            "value": nhs,
        }],
    });
    if let Some(SectionContent::PersonalInformation(p)) = section.map(|s| &s.content) {
        let mut names = vec![json!({
            "use": "official",
            "family": p.family_name.as_str(),
            "given": [p.given_name.as_str()],
        })];
        if let Some(preferred) = &p.preferred_name {
            names.push(json!({"use": "usual", "given": [preferred.as_str()]}));
        }
        let extra = json!({
            "name": names,
            "telecom": p.phone.as_ref().map(|ph| vec![json!({"system": "phone", "value": ph.as_str()})]),
            "gender": gender(p.gender.as_ref().map(|g| g.as_str())),
            "birthDate": p.birth_date.date().to_string(),
            "address": [{
                "use": "home",
                "line": p.address.lines.iter().map(|l| l.as_str()).collect::<Vec<_>>(),
                "postalCode": p.address.postcode.as_str(),
            }],
            "communication": p.main_language.as_ref().map(|l| vec![json!({
                "language": {"text": l.as_str()},
                "preferred": true,
            })]),
        });
        merge(&mut body, extra);
        if p.interpreter_needed {
            merge(
                &mut body,
                json!({"extension": [{
                    "url": "http://hl7.org/fhir/StructureDefinition/patient-interpreterRequired",
                    "valueBoolean": true,
                }]}),
            );
        }
    }
    if ctx.plan.status == PlanStatus::Deceased {
        if let Some(date) = ctx
            .plan
            .status_change
            .as_ref()
            .and_then(|c| c.date_of_death)
        {
            merge(&mut body, json!({"deceasedDateTime": date.to_string()}));
        } else {
            merge(&mut body, json!({"deceasedBoolean": true}));
        }
    }
    ctx.resource(ResourceType::Patient, nhs, updated, body)
}

pub(crate) fn merge(into: &mut Value, from: Value) {
    if let (Some(a), Value::Object(b)) = (into.as_object_mut(), from) {
        a.extend(b);
    }
}
