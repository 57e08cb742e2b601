//! The one decision point of the access log. It wraps the whole `/v1` scope, so the router —
//! not a string test on the raw path — decides what is audited: a percent-encoded, trailing
//! slash or case-varied path that reaches a handler reaches it through here, and one that
//! matches no route is logged as the refusal it is. Handlers cannot opt out: [`Actor`], the
//! extractor every `/v1` handler needs, refuses to work outside this scope.

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{web, HttpMessage, HttpRequest, ResponseError};
use ucp_app::audit::AccessEntry;
use ucp_domain::NhsNumber;
use uuid::Uuid;

use ucp_app::audit::{entry as entry_of, Access, AuditWriter};

use crate::auth::{Actor, AuditScope, Refusal, PURPOSE_HEADER};
use crate::operation_ids::OperationIds;
use crate::problem::ApiError;
use crate::proxy::ON_BEHALF_OF_HEADER;
use crate::request_id::request_id;
use ucp_app::AppState;

/// Writes one access-log entry for every request under `/v1` — served or refused — and lets the
/// response leave only once the entry is committed. If it cannot be committed, the client gets
/// 503 and none of the data.
pub async fn record_access(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let writer = req.app_data::<web::Data<AuditWriter>>().cloned();
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let Some(writer) = writer else {
        // Without a writer nothing may be served: refuse rather than serve unrecorded.
        let refusal = ApiError::AuditUnavailable("no access-log writer".into()).error_response();
        return Ok(req.into_response(refusal));
    };
    req.extensions_mut().insert(AuditScope);
    let purpose = req
        .headers()
        .get(PURPOSE_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.chars().take(100).collect::<String>());
    // A write that commits commits this request's entry with its events (the entry made here,
    // from the request, with what the write shows); the group commit below is for the rest.
    let in_write = {
        // What the entry needs of the request, taken now: the request itself may not be held
        // while it is routed.
        // The path as the router matches it (decoded), for the operation id, found only when a
        // write makes its entry.
        let ids = req.app_data::<web::Data<OperationIds>>().cloned();
        let routed = req.match_info().get_ref().path().to_owned();
        let method = req.method().as_str().to_owned();
        let path = req.path().to_owned();
        let id = request_id(req.request());
        let purpose = purpose.clone();
        ucp_app::audit::EntryInWrite {
            build: Box::new(move |actor, mut access, status| {
                if access.acting_for.is_none() {
                    access.acting_for = ucp_app::audit::ADMITTED
                        .try_with(|a| a.borrow().clone())
                        .ok()
                        .flatten();
                }
                let action = ids
                    .as_ref()
                    .and_then(|ids| ids.of_path(&method, &routed))
                    .unwrap_or("unknown");
                let mut entry = entry_of(Some(actor), action, access, status);
                entry.method.clone_from(&method);
                entry.path.clone_from(&path);
                if entry.purpose.is_none() {
                    entry.purpose.clone_from(&purpose);
                }
                entry.request_id.clone_from(&id);
                entry
            }),
            written: std::cell::Cell::new(false),
        }
    };
    let (response, admitted, written) = ucp_app::audit::ENTRY_IN_WRITE
        .scope(
            in_write,
            ucp_app::audit::ADMITTED.scope(std::cell::RefCell::new(None), async {
                let response = next.call(req).await;
                (
                    response,
                    ucp_app::audit::ADMITTED.with(|a| a.borrow().clone()),
                    ucp_app::audit::ENTRY_IN_WRITE.with(|w| w.written.get()),
                )
            }),
        )
        .await;
    let (http_req, res) = response?.into_parts();
    let status = res.status().as_u16();
    if written && status < 400 {
        // Its entry committed with the write.
        return Ok(ServiceResponse::new(http_req, res.map_into_boxed_body()));
    }
    // What the handler's result showed travels with its response.
    let mut note = res
        .extensions()
        .get::<Access>()
        .cloned()
        .unwrap_or_default();
    // A proxy the use case admitted: the entry is theirs, acting for the person, even when the
    // act was then refused.
    if note.acting_for.is_none() {
        note.acting_for = admitted;
    }
    // Only a request that reached authentication is about anyone: a route that takes no token
    // (the FHIR metadata, an unknown path) names no one, whatever its query says.
    let authenticated = http_req.extensions().get::<Actor>().is_some()
        || http_req.extensions().get::<Refusal>().is_some();
    if authenticated && (note.plan_id.is_none() || note.nhs_number.is_none()) {
        target_from_request(
            &http_req,
            &mut note,
            state.as_ref().map(|s| s.get_ref()),
            status,
        )
        .await;
    }
    let actor = http_req.extensions().get::<Actor>().cloned();
    let refusal = http_req.extensions().get::<Refusal>().cloned();
    let ids = http_req.app_data::<web::Data<OperationIds>>().cloned();
    let entry = entry(
        &http_req,
        ids.as_ref().map(|i| i.get_ref()),
        actor.as_ref(),
        note,
        purpose,
        status,
    );
    let entry = with_refusal(entry, refusal);
    match writer.record_request(entry).await {
        Ok(()) => Ok(ServiceResponse::new(http_req, res.map_into_boxed_body())),
        Err(e) => {
            let refusal = ApiError::AuditUnavailable(e.to_string()).error_response();
            Ok(ServiceResponse::new(
                http_req,
                refusal.map_into_boxed_body(),
            ))
        }
    }
}

/// The person a request was about, as the request itself names them, for what the handler's
/// result did not say (chiefly refusals: the person sees attempts on their plan that were
/// turned away, and a probe of someone else is theirs to see, not the prober's). A plan named
/// only by id is looked up for its NHS number when the request was refused.
async fn target_from_request(
    req: &HttpRequest,
    note: &mut Access,
    state: Option<&AppState>,
    status: u16,
) {
    let named = named_target(req);
    if note.nhs_number.is_none() {
        note.nhs_number = named.nhs_number.map(|n| n.to_string());
    }
    if note.plan_id.is_none() {
        note.plan_id = named.plan_id;
    }
    if let (Some(plan_id), None, Some(state), true) =
        (note.plan_id, &note.nhs_number, state, status >= 400)
    {
        match ucp_app::audit::person_of_plan(&state.db, plan_id).await {
            Ok(Some(nhs)) => note.nhs_number = Some(nhs.to_string()),
            Ok(None) => {}
            Err(e) => {
                tracing::warn!(error = %e, "cannot find the person a refused request aimed at")
            }
        }
    }
}

/// Whom a request names: by the path (`/v1/patients/{nhsNumber}`, a plan's `{id}`, a FHIR
/// Patient's id or another resource's `{plan}-{part}` id), by the FHIR search parameters
/// that name a patient, or by `UCP-On-Behalf-Of`.
#[derive(Debug, Default, PartialEq, Eq)]
struct Named {
    nhs_number: Option<NhsNumber>,
    plan_id: Option<Uuid>,
}

/// The person a request's body names (a care home's admission names them by NHS number), set
/// by the handler once the body is read: a refused request is then on that person's log too.
#[derive(Debug, Clone, Copy)]
pub struct PersonNamedInBody(pub NhsNumber);

fn named_target(req: &HttpRequest) -> Named {
    if let Some(PersonNamedInBody(nhs)) = req.extensions().get::<PersonNamedInBody>().copied() {
        return Named {
            nhs_number: Some(nhs),
            plan_id: None,
        };
    }
    let params = req.match_info();
    let pattern = req.match_pattern().unwrap_or_default();
    let fhir_patient = params.get("resourceType") == Some("Patient")
        || pattern.starts_with("/fhir/R4/Patient/{id}");
    // Routes whose `{id}` is a plan (or a FHIR part of one, `{plan id}-cpr`); elsewhere `{id}`
    // is a subscription, an extension or a grant, and names no one.
    let plan_route = pattern.starts_with("/v1/care-plans/{id}")
        || pattern.starts_with("/fhir/R4/CarePlan/{id}")
        || (pattern == "/fhir/R4/{resourceType}/{id}" && !fhir_patient);
    let mut named = Named::default();
    if let Some(id) = params.get("id") {
        if fhir_patient {
            named.nhs_number = NhsNumber::parse(id).ok();
        } else if plan_route {
            named.plan_id = id
                .get(..36)
                .filter(|_| id.len() == 36 || id.as_bytes().get(36) == Some(&b'-'))
                .and_then(|head| Uuid::parse_str(head).ok());
        }
    }
    if named.nhs_number.is_none() {
        named.nhs_number = params
            .get("nhsNumber")
            .and_then(|n| NhsNumber::parse(n).ok());
    }
    if named.nhs_number.is_none() && pattern.starts_with("/fhir/R4/") {
        named.nhs_number = fhir_search_subject(req.query_string(), fhir_patient);
    }
    // The person a proxy says they act for, when the request names no one else (a header
    // cannot move a probe of one person's plan onto another's log).
    if named.nhs_number.is_none() && named.plan_id.is_none() {
        named.nhs_number = on_behalf_of(req);
    }
    named
}

/// The person `UCP-On-Behalf-Of` names, if it names one well-formed.
fn on_behalf_of(req: &HttpRequest) -> Option<NhsNumber> {
    req.headers()
        .get(ON_BEHALF_OF_HEADER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| NhsNumber::parse(v.trim()).ok())
}

/// The person a FHIR search names: `patient`, `subject` (as `Patient/{n}`, or `{n}`), their
/// `.identifier` and `:identifier` forms (`{system}|{n}`), and a Patient search's
/// `identifier`. Whatever the search then found or refused, it was about them.
fn fhir_search_subject(query: &str, patient_search: bool) -> Option<NhsNumber> {
    url::form_urlencoded::parse(query.as_bytes()).find_map(|(key, value)| {
        let names_patient = matches!(
            key.as_ref(),
            "patient"
                | "subject"
                | "patient.identifier"
                | "subject.identifier"
                | "patient:identifier"
                | "subject:identifier"
        ) || (patient_search && key == "identifier");
        if !names_patient {
            return None;
        }
        let value = value.trim();
        let after_system = value.rsplit_once('|').map_or(value, |(_, n)| n);
        let tail = after_system
            .rsplit_once('/')
            .map_or(after_system, |(_, n)| n);
        NhsNumber::parse(tail).ok()
    })
}

/// A token turned away says why, and, once its signature was good, whose it was.
fn with_refusal(mut entry: AccessEntry, refusal: Option<Refusal>) -> AccessEntry {
    let Some(refusal) = refusal else {
        return entry;
    };
    if let Some(subject) = refusal.subject {
        entry.actor = subject;
    }
    entry.issuer = refusal.issuer;
    add_detail(&mut entry, "refused", refusal.message);
    entry
}

/// Adds one key to the entry's `detail` object (a detail that is no object is kept under
/// `detail`).
fn add_detail(entry: &mut AccessEntry, key: &str, value: String) {
    let mut detail = match entry.detail.take() {
        Some(serde_json::Value::Object(map)) => map,
        Some(other) => serde_json::Map::from_iter([("detail".to_owned(), other)]),
        None => serde_json::Map::new(),
    };
    detail.insert(key.to_owned(), serde_json::Value::String(value));
    entry.detail = Some(serde_json::Value::Object(detail));
}

fn entry(
    req: &HttpRequest,
    ids: Option<&OperationIds>,
    actor: Option<&Actor>,
    access: Access,
    purpose: Option<String>,
    status: u16,
) -> AccessEntry {
    let method = req.method().as_str();
    let action = req
        .match_pattern()
        .and_then(|pattern| {
            ids.and_then(|ids| {
                ids.get(method, &pattern, |name| req.match_info().get(name))
                    .map(str::to_owned)
            })
        })
        .unwrap_or_else(|| "unknown".to_owned());
    let mut entry = entry_of(actor, &action, access, status);
    entry.method = method.to_owned();
    // A printed copy's check code is a credential to that check: the log keeps the route, not
    // the code (the entry names the plan and version it checked).
    entry.path = match req.match_pattern() {
        Some(pattern) if pattern.starts_with("/check/") => pattern,
        _ => req.path().to_owned(),
    };
    // Only a request that reached sign-in is about what its headers say: a request to a route
    // that takes no token (the check of a printed copy) cannot write its own purpose, or name a
    // person to act for, into anyone's log.
    let reached_sign_in =
        req.extensions().get::<Actor>().is_some() || req.extensions().get::<Refusal>().is_some();
    // The purpose as the caller's checks read it; the raw header only when there is no caller.
    if entry.purpose.is_none() && reached_sign_in {
        entry.purpose = purpose;
    }
    entry.request_id = request_id(req);
    if reached_sign_in {
        attempted_for(req, actor, &mut entry);
    }
    entry
}

/// A proxy turned away before acting (no grant, revoked, a route a proxy may not use): the
/// entry is about the person they tried to act for, so that person sees the attempt.
fn attempted_for(req: &HttpRequest, actor: Option<&Actor>, entry: &mut AccessEntry) {
    if entry.status < 400
        || entry.on_behalf_of.is_some()
        || actor.is_some_and(|a| a.acting_for.is_some())
    {
        return;
    }
    let Some(person) = on_behalf_of(req) else {
        return;
    };
    if entry.nhs_number.is_none() {
        entry.nhs_number = Some(person.to_string());
    }
    add_detail(entry, "attemptedOnBehalfOf", person.to_string());
}

#[cfg(test)]
mod tests {
    use super::fhir_search_subject;

    #[test]
    fn a_fhir_search_is_about_the_patient_it_names_in_any_of_its_forms() {
        for query in [
            "patient=Patient/9434765919",
            "patient=9434765919",
            "patient.identifier=https://fhir.nhs.uk/Id/nhs-number|9434765919",
            "patient.identifier=https%3A%2F%2Ffhir.nhs.uk%2FId%2Fnhs-number%7C9434765919",
            "subject:identifier=https://fhir.nhs.uk/Id/nhs-number|9434765919",
            "status=active&subject=Patient/9434765919",
        ] {
            assert_eq!(
                fhir_search_subject(query, false).map(|n| n.to_string()),
                Some("9434765919".to_owned()),
                "{query}"
            );
        }
        assert_eq!(
            fhir_search_subject(
                "identifier=https://fhir.nhs.uk/Id/nhs-number|9434765919",
                true
            )
            .map(|n| n.to_string()),
            Some("9434765919".to_owned())
        );
        assert_eq!(fhir_search_subject("identifier=9434765919", false), None);
        assert_eq!(
            fhir_search_subject("family=Smith&birthdate=1940-01-01", true),
            None
        );
    }
}
