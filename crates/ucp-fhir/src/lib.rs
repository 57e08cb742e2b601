//! The care plan in the NHS's language: FHIR R4 (4.0.1) resources shaped to the HL7 UK Core
//! profiles, and the DocumentReference pointers the National Record Locator expects.
//!
//! Everything here is a pure function of a plan's state (as its events made it) and the
//! service's settings, so what a FHIR read showed can be rebuilt exactly from the log at the
//! recorded version — the access log's replay depends on it. Nothing reads a clock.
//!
//! Every resource of a plan has an id made from the plan's id and the part it shows
//! (`{plan}-cpr`, `{plan}-condition-2`, …), so a read by id needs only the plan; the Patient's id
//! is the NHS number, as in the NHS's own Personal Demographics Service FHIR API.

mod bundle;
mod capability;
mod care_plan;
mod clinical;
mod consents;
pub mod extensions;
mod flags;
mod json;
mod outcome;
mod patient;
mod people;
mod pointers;

pub use bundle::{searchset, BundleEntry, SearchMode};
pub use capability::{capability_statement, search_params, SearchParam};
pub use outcome::{operation_outcome, IssueType};
pub use pointers::{pointer_changes, pointer_id, pointers, PointerChange, PointerKind};

use chrono::{DateTime, Utc};
use serde_json::Value;
use ucp_domain::{Author, CarePlan};
use uuid::Uuid;

/// The FHIR version this facade speaks.
pub const FHIR_VERSION: &str = "4.0.1";
/// NHS numbers.
pub const NHS_NUMBER_SYSTEM: &str = "https://fhir.nhs.uk/Id/nhs-number";
/// ODS organisation codes.
pub const ODS_SYSTEM: &str = "https://fhir.nhs.uk/Id/ods-organization-code";
/// SNOMED CT.
pub const SNOMED: &str = "http://snomed.info/sct";
/// Where this facade is mounted, under the service's public address.
pub const BASE_PATH: &str = "/fhir/R4";

/// What the mapping needs from the deployment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FhirSettings {
    /// The service's public address (`UCP_PUBLIC_URL`), without a trailing slash: bundles'
    /// full URLs and NRL pointers' attachments are absolute.
    pub public_url: String,
    /// The ODS code of the organisation that holds the records (`UCP_ODS_CODE`): the NRL
    /// pointers' custodian and the prefix of their ids, as the NRL requires.
    pub custodian_ods: String,
}

impl Default for FhirSettings {
    fn default() -> Self {
        Self {
            public_url: "http://127.0.0.1:8080".to_owned(),
            custodian_ods: "X26".to_owned(),
        }
    }
}

impl FhirSettings {
    /// The facade's base URL.
    #[must_use]
    pub fn base(&self) -> String {
        format!("{}{BASE_PATH}", self.public_url.trim_end_matches('/'))
    }
}

/// The resource types the facade serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ResourceType {
    Patient,
    CarePlan,
    Flag,
    Consent,
    Condition,
    AllergyIntolerance,
    MedicationStatement,
    RelatedPerson,
    PractitionerRole,
    Organization,
    DocumentReference,
}

impl ResourceType {
    /// Every type, in the order a person's bundle lists them.
    pub const ALL: [Self; 11] = [
        Self::Patient,
        Self::CarePlan,
        Self::Flag,
        Self::Consent,
        Self::Condition,
        Self::AllergyIntolerance,
        Self::MedicationStatement,
        Self::RelatedPerson,
        Self::PractitionerRole,
        Self::Organization,
        Self::DocumentReference,
    ];

    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Patient => "Patient",
            Self::CarePlan => "CarePlan",
            Self::Flag => "Flag",
            Self::Consent => "Consent",
            Self::Condition => "Condition",
            Self::AllergyIntolerance => "AllergyIntolerance",
            Self::MedicationStatement => "MedicationStatement",
            Self::RelatedPerson => "RelatedPerson",
            Self::PractitionerRole => "PractitionerRole",
            Self::Organization => "Organization",
            Self::DocumentReference => "DocumentReference",
        }
    }

    #[must_use]
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == name)
    }

    /// The UK Core profile each resource claims in `meta.profile`, as HL7 UK publishes it.
    #[must_use]
    pub fn profile(self) -> String {
        format!(
            "https://fhir.hl7.org.uk/StructureDefinition/UKCore-{}",
            self.as_str()
        )
    }

    /// The search parameter that names the person, for the types searched by patient.
    #[must_use]
    pub fn patient_param(self) -> Option<&'static str> {
        match self {
            Self::Patient => None,
            Self::Organization | Self::PractitionerRole => None,
            Self::DocumentReference => Some("subject"),
            _ => Some("patient"),
        }
    }
}

impl std::fmt::Display for ResourceType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One resource: its type, id and JSON.
#[derive(Debug, Clone, PartialEq)]
pub struct Resource {
    pub resource_type: ResourceType,
    pub id: String,
    pub json: Value,
}

impl Resource {
    /// `Type/id`, as references and the access log name it.
    #[must_use]
    pub fn reference(&self) -> String {
        format!("{}/{}", self.resource_type, self.id)
    }
}

/// The plan a resource id belongs to: the Patient's id is an NHS number; every other
/// resource's id starts with its plan's id (a pointer's after the custodian's ODS code).
#[must_use]
pub fn plan_of(resource_type: ResourceType, id: &str) -> Option<Uuid> {
    let rest = match resource_type {
        ResourceType::Patient => return None,
        ResourceType::DocumentReference => id.split_once('-')?.1,
        _ => id,
    };
    Uuid::parse_str(rest.get(..36)?).ok()
}

/// Every resource a plan is shown as, as it stood in `plan`, in a stable order: the Patient,
/// the CarePlan, then its parts. The NRL pointers are included for an active or voided plan.
#[must_use]
pub fn plan_resources(plan_id: Uuid, plan: &CarePlan, settings: &FhirSettings) -> Vec<Resource> {
    let ctx = Context { plan_id, plan };
    let mut out = vec![patient::patient(&ctx), care_plan::care_plan(&ctx)];
    out.extend(plan_parts(&ctx));
    out.extend(pointers::pointers(plan_id, plan, settings));
    out
}

/// The plan's parts: what the CarePlan's `supportingInfo` lists.
pub(crate) fn plan_parts(ctx: &Context<'_>) -> Vec<Resource> {
    let mut out = flags::flags(ctx);
    out.extend(consents::consents(ctx));
    out.extend(clinical::conditions(ctx));
    out.extend(clinical::allergies(ctx));
    out.extend(clinical::medicines(ctx));
    out.extend(people::related_people(ctx));
    out.extend(people::professionals(ctx));
    out
}

/// What each mapping reads.
pub(crate) struct Context<'a> {
    pub plan_id: Uuid,
    pub plan: &'a CarePlan,
}

impl Context<'_> {
    /// A part's id: the plan's id and the part.
    pub fn id(&self, part: &str) -> String {
        format!("{}-{part}", self.plan_id)
    }

    pub fn patient_ref(&self) -> Value {
        serde_json::json!({
            "reference": format!("Patient/{}", self.plan.nhs_number),
            "identifier": {"system": NHS_NUMBER_SYSTEM, "value": self.plan.nhs_number.to_string()},
        })
    }

    /// A resource of this plan, with its id, meta (profile, last change) and subject.
    pub fn resource(
        &self,
        resource_type: ResourceType,
        id: String,
        last_updated: DateTime<Utc>,
        body: Value,
    ) -> Resource {
        let mut json = serde_json::json!({
            "resourceType": resource_type.as_str(),
            "id": id,
            "meta": {
                "lastUpdated": instant(last_updated),
                "profile": [resource_type.profile()],
            },
        });
        if let (Some(obj), Value::Object(fields)) = (json.as_object_mut(), body) {
            obj.extend(fields);
        }
        Resource {
            resource_type,
            id,
            json: json::clean(json),
        }
    }
}

/// A FHIR instant: seconds precision is not enough to order changes, so milliseconds, in UTC.
pub(crate) fn instant(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// Who made a change, as a reference: a professional by name (and their role as a type), the
/// person as the Patient.
pub(crate) fn author_ref(author: &Author, nhs: &ucp_domain::NhsNumber) -> Value {
    if author.role == "patient" {
        return serde_json::json!({"reference": format!("Patient/{nhs}"), "display": author.name.clone().unwrap_or_else(|| "The person".to_owned())});
    }
    serde_json::json!({
        "type": "Practitioner",
        "display": author.name.clone().unwrap_or_else(|| author.actor.clone()),
    })
}

/// The organisation a professional changed something for, as a logical reference by ODS code.
pub(crate) fn organisation_ref(author: &Author) -> Option<Value> {
    author.organisation.as_ref().map(|ods| {
        serde_json::json!({
            "type": "Organization",
            "identifier": {"system": ODS_SYSTEM, "value": ods},
        })
    })
}

#[cfg(test)]
mod tests;

/// The security label of a record a clinician marked sensitive: HL7 v3 Confidentiality
/// "restricted" (`R`), so that a FHIR consumer knows every read of it is reviewed.
pub(crate) fn restricted() -> serde_json::Value {
    serde_json::json!([{
        "system": "http://terminology.hl7.org/CodeSystem/v3-Confidentiality",
        "code": "R",
        "display": "restricted",
    }])
}
