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
