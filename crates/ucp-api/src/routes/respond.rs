//! Responses that carry an entity tag: every plan and section read or write answers the same
//! way, so clients can always send back what they were given in `If-Match`.

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::HttpResponse;
use serde::Serialize;

/// A JSON body with its `ETag`, never cached (plans change and are audited per read).
pub fn tagged(status: StatusCode, etag: &str, body: &impl Serialize) -> HttpResponse {
    let mut res = HttpResponse::build(status);
    // ETags are made by this service from ASCII; a value that cannot be a header is impossible.
    if let Ok(value) = HeaderValue::from_str(etag) {
        res.insert_header((header::ETAG, value));
    }
    res.insert_header((header::CACHE_CONTROL, "no-store"));
    res.json(body)
}

/// As [`tagged`], for a body already serialised (its tag was computed from the same bytes).
pub fn tagged_bytes(status: StatusCode, etag: &str, body: Vec<u8>) -> HttpResponse {
    let mut res = HttpResponse::build(status);
    if let Ok(value) = HeaderValue::from_str(etag) {
        res.insert_header((header::ETAG, value));
    }
    res.insert_header((header::CACHE_CONTROL, "no-store"));
    res.content_type("application/json").body(body)
}

/// A response that carries what its handler's result showed, for the access-log middleware.
#[must_use]
pub fn audited(mut res: HttpResponse, access: ucp_app::audit::Access) -> HttpResponse {
    res.extensions_mut().insert(access);
    res
}

/// A plan or section document with its `ETag`, and what it showed.
#[must_use]
pub fn tagged_shown(
    status: StatusCode,
    shown: ucp_app::audit::Shown<ucp_app::reads::Tagged>,
) -> HttpResponse {
    audited(
        tagged(status, &shown.value.etag, &shown.value.body),
        shown.access,
    )
}

/// Whether the client's `If-None-Match` names this entity tag (or `*`): it holds the current
/// version already.
#[must_use]
pub fn unchanged(req: &actix_web::HttpRequest, etag: &str) -> bool {
    req.headers()
        .get_all(header::IF_NONE_MATCH)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|t| t.trim().trim_start_matches("W/"))
        .any(|t| t == "*" || t == etag)
}

/// A document with its `ETag` — or, when the client already holds that version, 304 with the
/// `ETag` and no body. Either way it is an access, recorded with what the client holds.
#[must_use]
pub fn tagged_or_unchanged(
    req: &actix_web::HttpRequest,
    etag: &str,
    body: &impl Serialize,
    access: ucp_app::audit::Access,
) -> HttpResponse {
    if unchanged(req, etag) {
        return audited(not_modified(etag), access);
    }
    audited(tagged(StatusCode::OK, etag, body), access)
}

/// As [`tagged_or_unchanged`], for a body already serialised.
#[must_use]
pub fn tagged_bytes_or_unchanged(
    req: &actix_web::HttpRequest,
    etag: &str,
    body: Vec<u8>,
    access: ucp_app::audit::Access,
) -> HttpResponse {
    if unchanged(req, etag) {
        return audited(not_modified(etag), access);
    }
    audited(tagged_bytes(StatusCode::OK, etag, body), access)
}

/// 304: the client holds this version already.
fn not_modified(etag: &str) -> HttpResponse {
    let mut res = HttpResponse::NotModified();
    if let Ok(value) = HeaderValue::from_str(etag) {
        res.insert_header((header::ETAG, value));
    }
    res.insert_header((header::CACHE_CONTROL, "no-store"));
    res.finish()
}
