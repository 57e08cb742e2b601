//! Read-your-writes across a replica. Every successful write under `/v1` answers with
//! `UCP-Consistency`: the primary's WAL position after it. A read of a plan, a summary or a
//! search that sends the header back is served by the replica only once the replica has
//! replayed past it (or by the primary after a bounded wait); without it, by the replica while
//! that is fresh within a bound. Which server answered is in `UCP-Read-From`. Everything else
//! reads and writes on the primary.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::http::Method;
use actix_web::middleware::Next;
use actix_web::{web, ResponseError};
use ucp_app::consistency::{
    format_lsn, parse_lsn, ReadConsistency, WritePosition, READ_CONSISTENCY, WRITE_POSITION,
};
use ucp_app::AppState;

use crate::operation_ids::OperationIds;
use crate::problem::{ApiError, ErrorCode};

/// The header that carries the token, both ways.
pub const CONSISTENCY_HEADER: &str = "ucp-consistency";
/// The header that says which server served a read that may use the replica.
pub const READ_FROM_HEADER: &str = "ucp-read-from";

/// Whether the request is a read its use case lets a replica serve (`ucp_app::use_cases`),
/// found by the operation id the document gives its route.
fn replica_eligible(req: &ServiceRequest) -> bool {
    let Some(ids) = req.app_data::<web::Data<OperationIds>>() else {
        return false;
    };
    req.match_pattern()
        .and_then(|pattern| ids.get(req.method().as_str(), &pattern, |_| None))
        .is_some_and(ucp_app::use_cases::replica_may_serve)
}

/// The middleware (see the module's comment).
pub async fn read_your_writes(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let is_read = req.method() == Method::GET || req.method() == Method::HEAD;
    if is_read {
        // A caller without a token is answered 401 by the handler first: a malformed
        // consistency token is not checked for them.
        let authenticated = req
            .headers()
            .contains_key(actix_web::http::header::AUTHORIZATION);
        let token = req
            .headers()
            .get(CONSISTENCY_HEADER)
            .filter(|_| authenticated)
            .map(|v| v.to_str().ok().and_then(parse_lsn).ok_or(()));
        let after = match token {
            None => None,
            Some(Ok(lsn)) => Some(lsn),
            Some(Err(())) => {
                let refusal = ApiError::bad_field(
                    ErrorCode::BadConsistencyToken,
                    "/headers/UCP-Consistency",
                    "UCP-Consistency takes the value a write response gave (e.g. 0/3016C18).",
                )
                .error_response();
                return Ok(req.into_response(refusal).map_into_right_body());
            }
        };
        if !replica_eligible(&req) {
            return Ok(next.call(req).await?.map_into_left_body());
        }
        let scope = ReadConsistency::new(after);
        let (mut res, served_by_replica) = READ_CONSISTENCY
            .scope(scope, async {
                let res = next.call(req).await;
                let by = READ_CONSISTENCY.with(|c| c.served_by_replica.get());
                (res, by)
            })
            .await;
        if let (Ok(res), Some(replica)) = (&mut res, served_by_replica) {
            res.headers_mut().insert(
                HeaderName::from_static(READ_FROM_HEADER),
                HeaderValue::from_static(if replica { "replica" } else { "primary" }),
            );
        }
        return Ok(res?.map_into_left_body());
    }
    // A write: its append notes the WAL position after its commit, on its own connection.
    let (res, written_at) = WRITE_POSITION
        .scope(std::cell::Cell::new(WritePosition::default()), async {
            let res = next.call(req).await;
            (res, WRITE_POSITION.with(std::cell::Cell::get))
        })
        .await;
    let mut res = res?;
    if res.status().is_success() {
        if let Some(lsn) = written_at.known() {
            if let Ok(value) = HeaderValue::from_str(&format_lsn(lsn)) {
                res.headers_mut()
                    .insert(HeaderName::from_static(CONSISTENCY_HEADER), value);
            }
        } else if let Some(state) = state {
            match ucp_app::consistency::token(&state.db).await {
                Ok(token) => {
                    if let Ok(value) = HeaderValue::from_str(&token) {
                        res.headers_mut()
                            .insert(HeaderName::from_static(CONSISTENCY_HEADER), value);
                    }
                }
                // The write is committed; only the token is missing (a read without one still
                // reads within the staleness bound, or from the primary).
                Err(e) => tracing::warn!(error = %e, "no consistency token for a committed write"),
            }
        }
    }
    Ok(res.map_into_left_body())
}

#[cfg(test)]
mod tests {
    use utoipa::OpenApi;

    use crate::operation_ids::OperationIds;

    /// The replica serves the reads its use cases say, found from a route as the middleware
    /// finds them.
    #[test]
    fn only_the_declared_reads_may_use_the_replica() {
        let ids = OperationIds::of(&crate::openapi::ApiDoc::openapi());
        let replica = |method: &str, pattern: &str| {
            ids.get(method, pattern, |_| None)
                .is_some_and(ucp_app::use_cases::replica_may_serve)
        };
        for yes in [
            "/v1/care-plans/{id}",
            "/v1/patients",
            "/v1/patients/{nhsNumber}/care-plan",
            "/v1/patients/{nhsNumber}/emergency-summary",
        ] {
            assert!(replica("GET", yes), "{yes}");
        }
        for no in [
            "/v1/care-plans/{id}/history",
            "/v1/feed",
            "/v1/patients/{nhsNumber}/emergency-summary/changes",
            "/v1/me/care-plan",
            "/v1/audit",
        ] {
            assert!(!replica("GET", no), "{no}");
        }
        assert!(!replica("POST", "/v1/care-plans"));
    }
}
