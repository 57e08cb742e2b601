//! Pages of the access log, newest first, behind an opaque cursor (the admin's search and the
//! person's own log share it).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{DateTime, Utc};
use ucp_app::audit::AccessEntry;
use uuid::Uuid;

use crate::problem::ApiError;
use crate::problem::ErrorCode;

pub fn encode_page_cursor(entry: &AccessEntry) -> String {
    encode_cursor(entry.at, entry.entry_id)
}

/// The cursor after a row ordered newest first by (time, id).
pub fn encode_cursor(at: DateTime<Utc>, id: Uuid) -> String {
    URL_SAFE_NO_PAD.encode(format!("{}|{id}", at.to_rfc3339()))
}

/// The cursor of the page after a full one; none after a short (last) page.
pub fn next_page(entries: &[AccessEntry], limit: i64) -> Option<String> {
    (i64::try_from(entries.len()).unwrap_or(0) == limit)
        .then(|| entries.last().map(encode_page_cursor))
        .flatten()
}

pub fn decode_page_cursor(text: &str) -> Result<(DateTime<Utc>, Uuid), ApiError> {
    let bad = || {
        ApiError::bad_field(
            ErrorCode::BadCursor,
            "/before",
            "This is not a cursor this service issued.",
        )
    };
    let bytes = URL_SAFE_NO_PAD.decode(text).map_err(|_| bad())?;
    let text = String::from_utf8(bytes).map_err(|_| bad())?;
    let (at, id) = text.split_once('|').ok_or_else(bad)?;
    let at = DateTime::parse_from_rfc3339(at)
        .map_err(|_| bad())?
        .with_timezone(&Utc);
    let id = Uuid::parse_str(id).map_err(|_| bad())?;
    Ok((at, id))
}

pub fn limit(requested: Option<i64>) -> Result<i64, ApiError> {
    page_size(requested, 50, 200)
}

/// A page size asked for (`limit`), from 1 to `max`, `default` when not asked.
///
/// # Errors
/// 400 naming the range.
pub fn page_size(requested: Option<i64>, default: i64, max: i64) -> Result<i64, ApiError> {
    match requested {
        None => Ok(default),
        Some(n) if (1..=max).contains(&n) => Ok(n),
        Some(_) => Err(ApiError::bad_field(
            ErrorCode::BadLimit,
            "/limit",
            format!("limit runs from 1 to {max}."),
        )),
    }
}
