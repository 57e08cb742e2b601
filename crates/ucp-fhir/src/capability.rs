//! The CapabilityStatement: exactly what this facade supports, generated from the same
//! declarations the router and the search code use, so it cannot claim more than is served.

use serde_json::{json, Value};

use crate::{FhirSettings, ResourceType, FHIR_VERSION};

/// A search parameter the facade honours: its name, FHIR type and what it matches.
#[derive(Debug, Clone, Copy)]
pub struct SearchParam {
    pub name: &'static str,
    pub kind: &'static str,
    pub documentation: &'static str,
}

const PATIENT_REF: SearchParam = SearchParam {
    name: "patient",
    kind: "reference",
    documentation: "The person: Patient/{NHS number}, or the NHS number alone.",
};
const PATIENT_IDENTIFIER: SearchParam = SearchParam {
    name: "patient.identifier",
    kind: "token",
    documentation: "The person's NHS number as https://fhir.nhs.uk/Id/nhs-number|{number}.",
};

/// The search parameters of each type.
#[must_use]
pub fn search_params(t: ResourceType) -> Vec<SearchParam> {
    match t {
        ResourceType::Patient => vec![
            SearchParam {
                name: "identifier",
                kind: "token",
                documentation: "The NHS number: https://fhir.nhs.uk/Id/nhs-number|{number}.",
            },
            SearchParam {
                name: "family",
                kind: "string",
                documentation:
                    "Family name (with birthdate; as /v1/patients: folded for case and accents).",
            },
            SearchParam {
                name: "given",
                kind: "string",
                documentation: "Given name (optional, with family and birthdate).",
            },
            SearchParam {
                name: "birthdate",
                kind: "date",
                documentation: "Date of birth, YYYY-MM-DD (with family).",
            },
            SearchParam {
                name: "address-postalcode",
                kind: "string",
                documentation: "Postcode, to narrow a demographic search.",
            },
        ],
        ResourceType::CarePlan => vec![
            PATIENT_REF,
            PATIENT_IDENTIFIER,
            SearchParam {
                name: "status",
                kind: "token",
                documentation: "active, revoked, completed or entered-in-error.",
            },
        ],
        ResourceType::DocumentReference => vec![
            SearchParam {
                name: "subject",
                kind: "reference",
                documentation: "The person: Patient/{NHS number}, or the NHS number alone.",
            },
            SearchParam {
                name: "subject.identifier",
                kind: "token",
                documentation:
                    "The person's NHS number as https://fhir.nhs.uk/Id/nhs-number|{number}.",
            },
        ],
        _ => vec![PATIENT_REF, PATIENT_IDENTIFIER],
    }
}

/// What `GET /fhir/R4/metadata` answers. `software_version` is the service's version.
#[must_use]
pub fn capability_statement(settings: &FhirSettings, software_version: &str) -> Value {
    let resources: Vec<Value> = ResourceType::ALL
        .into_iter()
        .map(|t| {
            let mut interactions = vec![json!({"code": "read"}), json!({"code": "search-type"})];
            if t == ResourceType::CarePlan {
                interactions.push(json!({"code": "vread"}));
            }
            let mut resource = json!({
                "type": t.as_str(),
                "profile": t.profile(),
                "interaction": interactions,
                "versioning": if t == ResourceType::CarePlan { "versioned" } else { "no-version" },
                "readHistory": false,
                "searchParam": search_params(t).iter().map(|p| json!({
                    "name": p.name, "type": p.kind, "documentation": p.documentation,
                })).collect::<Vec<_>>(),
            });
            if t == ResourceType::Patient {
                resource["operation"] = json!([{
                    "name": "everything",
                    "definition": "http://hl7.org/fhir/OperationDefinition/Patient-everything",
                    "documentation": "Every resource of the person's current plan, in one Bundle.",
                }]);
            }
            resource
        })
        .chain(std::iter::once(json!({
            "type": "StructureDefinition",
            "interaction": [{"code": "read"}, {"code": "search-type"}],
            "documentation": "The extensions this service defines.",
        })))
        .collect();
    json!({
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": "2026-11-26",
        "publisher": "Universal Care Plan",
        "kind": "instance",
        "software": {"name": "ucp", "version": software_version},
        "implementation": {"description": "Universal Care Plan: FHIR R4 UK Core facade (read-only)", "url": settings.base()},
        "fhirVersion": FHIR_VERSION,
        "format": ["application/fhir+json", "json"],
        "rest": [{
            "mode": "server",
            "documentation": "Read-only. Every request needs a bearer token; every read is recorded in the access log.",
            "security": {
                "service": [{"coding": [{
                    "system": "http://terminology.hl7.org/CodeSystem/restful-security-service",
                    "code": "OAuth",
                }]}],
                "description": "A bearer token (JWT) with the caller's role, as for /v1.",
            },
            "resource": resources,
        }],
    })
}
