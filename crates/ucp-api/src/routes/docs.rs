//! The OpenAPI document and an API reference page whose assets ship inside the binary.

use actix_web::{get, HttpResponse};
use utoipa::OpenApi;

use crate::openapi::ApiDoc;

/// The OpenAPI document, generated from the code.
#[get("/openapi.json")]
pub async fn openapi_json() -> HttpResponse {
    HttpResponse::Ok().json(ApiDoc::openapi())
}
