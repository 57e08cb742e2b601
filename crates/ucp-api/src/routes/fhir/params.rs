//! Search parameters as FHIR writes them, checked: a parameter this server does not honour is
//! refused (400) rather than ignored, because silently dropping a filter would show a crew more
//! than they asked for, or the wrong person.

use ucp_app::fhir::PatientCriteria;
use ucp_app::reads::PatientSearch;
use ucp_domain::NhsNumber;
use ucp_fhir::{search_params, ResourceType, NHS_NUMBER_SYSTEM};

use crate::problem::{ApiError, ErrorCode};
use crate::routes::patients::{checked_search, PatientQuery};

/// What a search asks for.
#[derive(Debug)]
pub enum Search {
    /// Resources of one person, by NHS number.
    ByPatient(PatientCriteria),
    /// Patients by name, date of birth and postcode.
    Demographic(PatientSearch),
}

/// Parameters that shape the answer, not the search.
const RESULT_PARAMS: &[&str] = &["_format", "_pretty"];

/// Whether a query parameter only shapes the answer (and is honoured by the format layer).
pub fn shapes_the_answer(name: &str) -> bool {
    RESULT_PARAMS.contains(&name)
}

/// Refuses any parameter but those that shape the answer, for requests that take none.
///
/// # Errors
/// 400 naming the first such parameter, with `why`.
pub fn nothing_to_search_by(params: &[(String, String)], why: &str) -> Result<(), ApiError> {
    match params.iter().find(|(k, _)| !shapes_the_answer(k)) {
        Some((name, _)) => Err(bad(&format!("/{name}"), why)),
        None => Ok(()),
    }
}

fn bad(pointer: &str, message: impl Into<String>) -> ApiError {
    ApiError::bad_field(ErrorCode::BadQuery, pointer, message.into())
}

/// An NHS number from a token (`system|value`, `|value` or `value`).
fn nhs_from_token(name: &str, token: &str) -> Result<NhsNumber, ApiError> {
    let value = match token.split_once('|') {
        Some((system, value)) if system.is_empty() || system == NHS_NUMBER_SYSTEM => value,
        Some((system, _)) => {
            return Err(bad(
                &format!("/{name}"),
                format!(
                "people are identified here only by NHS number ({NHS_NUMBER_SYSTEM}), not {system}"
            ),
            ))
        }
        None => token,
    };
    NhsNumber::parse(value).map_err(|e| bad(&format!("/{name}"), format!("{value:?}: {e}")))
}

/// An NHS number from a reference (`Patient/{n}`, a full URL ending so, or the number alone).
fn nhs_from_reference(name: &str, reference: &str) -> Result<NhsNumber, ApiError> {
    let id = match reference.rsplit_once("Patient/") {
        Some((_, id)) => id,
        None if reference.contains('/') => {
            return Err(bad(
                &format!("/{name}"),
                "the reference must be to a Patient",
            ))
        }
        None => reference,
    };
    NhsNumber::parse(id).map_err(|e| bad(&format!("/{name}"), format!("{id:?}: {e}")))
}

/// The search `params` ask for on `resource_type`.
///
/// # Errors
/// 400 for an unknown or repeated parameter, a bad value, or no way to find the person.
pub fn parse(resource_type: ResourceType, params: &[(String, String)]) -> Result<Search, ApiError> {
    // FHIR R4's `:identifier` modifier on a reference (`subject:identifier=system|value`, as the
    // NRL's consumer API writes it) asks what the chain `subject.identifier` asks.
    let params: Vec<(String, String)> = params
        .iter()
        .map(|(name, value)| {
            let name = match name.as_str() {
                "subject:identifier" => "subject.identifier".to_owned(),
                "patient:identifier" => "patient.identifier".to_owned(),
                other => other.to_owned(),
            };
            (name, value.clone())
        })
        .collect();
    let params = params.as_slice();
    let supported = search_params(resource_type);
    let mut seen: Vec<&str> = Vec::new();
    for (name, _) in params {
        if RESULT_PARAMS.contains(&name.as_str()) {
            continue;
        }
        if !supported.iter().any(|p| p.name == name) {
            let names: Vec<&str> = supported.iter().map(|p| p.name).collect();
            return Err(bad(
                &format!("/{name}"),
                format!(
                    "{resource_type} is not searched by {name} here; it is searched by {}",
                    names.join(", ")
                ),
            ));
        }
        if seen.contains(&name.as_str()) {
            return Err(bad(&format!("/{name}"), format!("give {name} once")));
        }
        seen.push(name);
    }
    let get = |n: &str| params.iter().find(|(k, _)| k == n).map(|(_, v)| v.as_str());
    if resource_type == ResourceType::Patient {
        if let Some(token) = get("identifier") {
            if seen.len() > 1 {
                return Err(bad(
                    "/identifier",
                    "search by NHS number alone, or by demographics alone",
                ));
            }
            return Ok(Search::ByPatient(PatientCriteria {
                nhs_number: nhs_from_token("identifier", token)?,
                status: None,
            }));
        }
        let birth_date = match get("birthdate") {
            Some(d) => Some(
                chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d")
                    .map_err(|_| bad("/birthdate", format!("{d:?} is not a date (YYYY-MM-DD)")))?,
            ),
            None => None,
        };
        let query = PatientQuery {
            family: get("family").map(str::to_owned),
            given: get("given").map(str::to_owned),
            birth_date,
            postcode: get("address-postalcode").map(str::to_owned),
        };
        return checked_search(&query).map(Search::Demographic);
    }
    let (reference, identifier) = if resource_type == ResourceType::DocumentReference {
        ("subject", "subject.identifier")
    } else {
        ("patient", "patient.identifier")
    };
    let nhs = match (get(reference), get(identifier)) {
        (Some(r), None) => nhs_from_reference(reference, r)?,
        (None, Some(t)) => nhs_from_token(identifier, t)?,
        (Some(_), Some(_)) => {
            return Err(bad(&format!("/{reference}"), format!("give {reference} or {identifier}, not both")))
        }
        (None, None) => {
            return Err(ApiError::BadRequest {
                code: ErrorCode::TooFewCriteria,
                detail: format!(
                    "{resource_type} is searched by the person: give {reference}=Patient/{{NHS number}} or {identifier}={NHS_NUMBER_SYSTEM}|{{NHS number}}."
                ),
                errors: Vec::new(),
            })
        }
    };
    let status = match get("status") {
        Some(s) if ["active", "revoked", "completed", "entered-in-error"].contains(&s) => Some(s.to_owned()),
        Some(s) => {
            return Err(bad(
                "/status",
                format!("{s:?} is not a CarePlan status here: active, revoked, completed or entered-in-error"),
            ))
        }
        None => None,
    };
    Ok(Search::ByPatient(PatientCriteria {
        nhs_number: nhs,
        status,
    }))
}

#[cfg(test)]
mod tests {
    use super::{parse, Search};
    use ucp_fhir::ResourceType;

    fn p(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn people_are_found_by_nhs_number_in_every_form_fhir_writes_it() {
        for (name, value) in [
            ("patient", "Patient/9434765919"),
            ("patient", "https://ucp.example/fhir/R4/Patient/9434765919"),
            ("patient", "9434765919"),
            (
                "patient.identifier",
                "https://fhir.nhs.uk/Id/nhs-number|9434765919",
            ),
            ("patient.identifier", "9434765919"),
        ] {
            let found = parse(
                ResourceType::Flag,
                &p(&[(name, value), ("_format", "json")]),
            );
            assert!(
                matches!(found, Ok(Search::ByPatient(c)) if c.nhs_number.to_string() == "9434765919"),
                "{name}={value}"
            );
        }
        assert!(matches!(
            parse(
                ResourceType::DocumentReference,
                &p(&[("subject", "Patient/9434765919")])
            ),
            Ok(Search::ByPatient(_))
        ));
    }

    #[test]
    fn what_is_not_understood_is_refused_not_ignored() {
        for bad in [
            vec![("patient", "Patient/9434765918")],
            vec![("patient.identifier", "https://example.org/mrn|9434765919")],
            vec![("patient", "Practitioner/1")],
            vec![("patient", "9434765919"), ("category", "x")],
            vec![
                ("patient", "9434765919"),
                ("patient.identifier", "9434765919"),
            ],
            vec![],
            vec![("patient", "9434765919"), ("status", "draft")],
        ] {
            assert!(parse(ResourceType::CarePlan, &p(&bad)).is_err(), "{bad:?}");
        }
        assert!(parse(
            ResourceType::Flag,
            &p(&[("patient", "9434765919"), ("status", "active")])
        )
        .is_err());
        assert!(parse(ResourceType::Patient, &p(&[("family", "Nowak")])).is_err());
        assert!(parse(
            ResourceType::Patient,
            &p(&[("identifier", "9434765919"), ("family", "Nowak")])
        )
        .is_err());
        assert!(parse(
            ResourceType::Patient,
            &p(&[("family", "Nowak"), ("birthdate", "1941-02-30")])
        )
        .is_err());
        assert!(matches!(
            parse(
                ResourceType::Patient,
                &p(&[("family", "Nowak"), ("birthdate", "1941-02-03")])
            ),
            Ok(Search::Demographic(_))
        ));
    }
}
