//! The FHIR way of answering, for everything under `/fhir/R4`: JSON, always as
//! `application/fhir+json` (`application/json` is accepted as a request for it), `_format`
//! honoured over `Accept`, `_pretty` honoured, and every error — refusals by the token check, the rate limit,
//! the router, the access log — an `OperationOutcome` with the same status and headers. One
//! middleware does it, so no handler can answer a FHIR client in the `/v1` dialect.

use actix_web::body::{to_bytes, BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::middleware::Next;
use actix_web::HttpResponse;
use serde_json::Value;
use ucp_fhir::{operation_outcome, IssueType};

pub const FHIR_JSON: &str = "application/fhir+json";
const PLAIN_JSON: &str = "application/json";

/// How to answer: which JSON media type, and whether to indent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Format {
    pub media_type: &'static str,
    pub pretty: bool,
}

/// Whether a `_format` value or an `Accept` entry asks for JSON: `Some(true)`; `Some(false)` for
/// a format FHIR knows that this server does not produce (XML, Turtle); `None` otherwise.
/// Wildcards count only in `Accept`.
fn asks_for_json(name: &str, wildcards: bool) -> Option<bool> {
    let name = name
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    match name.as_str() {
        "json" | "application/fhir+json" | "application/json+fhir" | PLAIN_JSON => Some(true),
        "*/*" | "application/*" if wildcards => Some(true),
        "xml"
        | "text/xml"
        | "application/xml"
        | "application/fhir+xml"
        | "application/xml+fhir"
        | "ttl"
        | "application/fhir+turtle"
        | "text/turtle"
        | "html"
        | "text/html" => Some(false),
        _ => None,
    }
}

/// What the request asks for: `_format` wins over `Accept`.
///
/// # Errors
/// A message for a request that asks only for what this server cannot produce.
pub fn negotiate(query: &str, accept: Option<&str>) -> Result<Format, String> {
    let params: Vec<(String, String)> = serde_urlencoded::from_str(query).unwrap_or_default();
    let pretty = params.iter().any(|(k, v)| k == "_pretty" && v == "true");
    // An empty `_format` states no preference. A value is taken as the document's pattern
    // states it: a media type in lower case with no space or control character around it, and
    // any parameters (`;fhirVersion=4.0`) in printable ASCII. What the document refuses, the
    // server refuses too.
    if let Some((_, f)) = params.iter().find(|(k, v)| k == "_format" && !v.is_empty()) {
        let (name, parameters) = f.split_once(';').unwrap_or((f, ""));
        let exact = !name.is_empty()
            && name
                .bytes()
                .all(|b| b.is_ascii_graphic() && !b.is_ascii_uppercase())
            && parameters.bytes().all(|b| (b' '..=b'~').contains(&b));
        return match asks_for_json(f, false).filter(|_| exact) {
            Some(true) => Ok(Format {
                media_type: FHIR_JSON,
                pretty,
            }),
            _ => Err(format!(
                "_format={f} is not served here: this server answers in JSON only (_format=json)."
            )),
        };
    }
    let Some(accept) = accept.filter(|a| !a.trim().is_empty()) else {
        return Ok(Format {
            media_type: FHIR_JSON,
            pretty,
        });
    };
    // Nothing in Accept that this server produces.
    let wants_json = accept
        .split(',')
        .any(|entry| asks_for_json(entry, true) == Some(true));
    if wants_json {
        Ok(Format {
            media_type: FHIR_JSON,
            pretty,
        })
    } else {
        Err(format!(
            "Accept: {accept} is not served here: this server answers in application/fhir+json."
        ))
    }
}

/// An OperationOutcome response.
#[must_use]
pub fn outcome_response(status: StatusCode, diagnostics: &str) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header((header::CONTENT_TYPE, FHIR_JSON))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(operation_outcome(
            IssueType::of_status(status.as_u16()),
            diagnostics,
            None,
        ))
}

/// The OperationOutcome a problem document becomes: its detail, and each field it names.
fn outcome_of_problem(status: StatusCode, problem: &Value) -> Value {
    let detail = problem
        .get("detail")
        .and_then(Value::as_str)
        .unwrap_or("The request failed.");
    let fields: Vec<String> = problem
        .get("errors")
        .and_then(Value::as_array)
        .map(|errors| {
            errors
                .iter()
                .filter_map(|e| {
                    let pointer = e
                        .get("pointer")
                        .and_then(Value::as_str)?
                        .trim_start_matches('/');
                    let message = e.get("message").and_then(Value::as_str).unwrap_or_default();
                    Some(format!("{pointer}: {message}"))
                })
                .collect()
        })
        .unwrap_or_default();
    let diagnostics = if fields.is_empty() {
        detail.to_owned()
    } else {
        format!("{detail} ({})", fields.join("; "))
    };
    operation_outcome(IssueType::of_status(status.as_u16()), &diagnostics, None)
}

/// The middleware (see the module's comment).
pub async fn fhir_format(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let accept = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    // A format this server cannot produce is refused only where there was something to send:
    // an unknown route, a wrong method or a missing token is answered as such first.
    let (format, refusal) = match negotiate(req.query_string(), accept.as_deref()) {
        Ok(f) => (f, None),
        Err(message) => (
            Format {
                media_type: FHIR_JSON,
                pretty: false,
            },
            Some(message),
        ),
    };
    let response = next.call(req).await?;
    let (http_req, res) = response.into_parts();
    if let Some(message) = refusal.filter(|_| res.status().is_success()) {
        let res = outcome_response(StatusCode::NOT_ACCEPTABLE, &message);
        return Ok(ServiceResponse::new(http_req, res));
    }
    let content_type = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let is_problem = content_type.starts_with(crate::problem::PROBLEM_JSON);
    let is_json = content_type.starts_with(PLAIN_JSON) || content_type.starts_with(FHIR_JSON);
    let status = res.status();
    if !is_problem && !is_json && !status.is_client_error() && !status.is_server_error() {
        return Ok(ServiceResponse::new(http_req, res.map_into_boxed_body()));
    }
    let (head, body) = res.into_parts();
    let bytes = match to_bytes(body).await {
        Ok(b) => b,
        Err(_) => {
            let res = outcome_response(
                StatusCode::INTERNAL_SERVER_ERROR,
                "The response could not be read.",
            );
            return Ok(ServiceResponse::new(http_req, res));
        }
    };
    let parsed: Option<Value> = serde_json::from_slice(&bytes).ok();
    let document = match (is_json, parsed) {
        (true, Some(v)) if !status.is_client_error() && !status.is_server_error() => v,
        (_, Some(problem)) => outcome_of_problem(status, &problem),
        (_, None) => operation_outcome(
            IssueType::of_status(status.as_u16()),
            status.canonical_reason().unwrap_or("The request failed."),
            None,
        ),
    };
    let encoded = if format.pretty {
        serde_json::to_vec_pretty(&document)
    } else {
        serde_json::to_vec(&document)
    }
    .unwrap_or_default();
    let mut res = head.set_body(BoxBody::new(encoded));
    let headers = res.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(format.media_type),
    );
    headers.remove(header::CONTENT_LENGTH);
    Ok(ServiceResponse::new(http_req, res))
}

#[cfg(test)]
mod tests {
    use super::{negotiate, FHIR_JSON};

    #[test]
    fn format_wins_over_accept_and_only_json_is_served() {
        assert_eq!(negotiate("", None).map(|f| f.media_type), Ok(FHIR_JSON));
        assert_eq!(
            negotiate("_format=json", Some("application/xml")).map(|f| f.media_type),
            Ok(FHIR_JSON)
        );
        assert_eq!(
            negotiate("_format=application/json", None).map(|f| f.media_type),
            Ok(FHIR_JSON)
        );
        assert_eq!(
            negotiate("", Some("application/fhir+json")).map(|f| f.media_type),
            Ok(FHIR_JSON)
        );
        assert_eq!(
            negotiate("", Some("text/html, */*;q=0.8")).map(|f| f.media_type),
            Ok(FHIR_JSON)
        );
        assert!(negotiate("_format=xml", None).is_err());
        assert!(negotiate("", Some("application/fhir+xml")).is_err());
        assert!(negotiate("_pretty=true", None).is_ok_and(|f| f.pretty));
        assert_eq!(
            negotiate("_format=", Some("application/json")).map(|f| f.media_type),
            Ok(FHIR_JSON)
        );
        assert!(negotiate("_format=*/*", None).is_err());
        // `_format` is taken exactly as the document's pattern states it: a vertical tab, a
        // space, a parameter or capitals are refused, as the document refuses them.
        for odd in [
            "json%0B",
            "%0Bjson",
            "json%20",
            "%20",
            "JSON",
            "json%0B;x=1",
        ] {
            assert!(negotiate(&format!("_format={odd}"), None).is_err(), "{odd}");
        }
        for fine in ["json;x=1", "application/fhir%2Bjson;%20fhirVersion=4.0"] {
            assert!(
                negotiate(&format!("_format={fine}"), None).is_ok(),
                "{fine}"
            );
        }
    }
}
