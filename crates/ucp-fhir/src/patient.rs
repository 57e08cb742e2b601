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
    let mut updated = section.map_or(ctx.plan.created_at, |s| s.changed_at);
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
    if let Some(residence) = &ctx.plan.residence {
        merge(
            &mut body,
            json!({"contact": [care_home_contact(residence)]}),
        );
        updated = updated
            .max(residence.recorded_at)
            .max(residence.confirmed_at.unwrap_or(residence.recorded_at));
    }
    if let Some(ended) = &ctx.plan.residence_ended {
        // The contact went away with this change: the Patient changed then.
        updated = updated.max(ended.ended_at);
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
    let mut resource = ctx.resource(ResourceType::Patient, nhs, updated, body);
    if ctx.plan.sensitivity.is_some() {
        if let Some(meta) = resource.json.get_mut("meta").and_then(Value::as_object_mut) {
            meta.insert("security".into(), crate::restricted());
        }
    }
    resource
}

/// The care home where the person lives, as a contact of the Patient (R4 `Patient.contact`,
/// which UK Core Patient keeps): the home by its ODS code, from the day they moved in, and how
/// it came to be recorded (a home's own admission stays "not yet confirmed" until a clinician
/// confirms it).
fn care_home_contact(residence: &ucp_domain::residence::Residence) -> Value {
    use ucp_domain::residence::ResidenceBasis;
    let how = match (residence.basis, residence.confirmed) {
        (ResidenceBasis::AdmittedByHome, false) => {
            "admitted by the home; not yet confirmed by a clinician"
        }
        (ResidenceBasis::AdmittedByHome, true) => "admitted by the home; confirmed by a clinician",
        (ResidenceBasis::StatedByPerson, _) => "stated by the person",
        (ResidenceBasis::RecordedByClinician, _) => "recorded by a clinician",
    };
    json!({
        "relationship": [{
            "coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0131", "code": "U", "display": "Unknown"}],
            "text": format!("Care home where the person lives ({how})"),
        }],
        "organization": {
            "identifier": {"system": crate::ODS_SYSTEM, "value": residence.care_home.ods_code.as_str()},
            "display": residence.care_home.name.as_str(),
        },
        "period": {"start": residence.since.to_string()},
    })
}

pub(crate) fn merge(into: &mut Value, from: Value) {
    if let (Some(a), Value::Object(b)) = (into.as_object_mut(), from) {
        a.extend(b);
    }
}
