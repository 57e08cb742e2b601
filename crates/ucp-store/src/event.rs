use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Who made a change, as what, and in answer to which request: the medico-legal part of every
/// event. Stored as the event's `metadata` column.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EventMetadata {
    pub actor: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor_name: Option<String>,
    pub role: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organisation: Option<String>,
    /// The person a proxy acted for (their NHS number).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_behalf_of: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub correlation_id: Option<Uuid>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub causation_id: Option<Uuid>,
}

/// An event on its way into the log. Its id is chosen by the writer so that a retried append can
/// be recognised.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEvent {
    pub event_id: Uuid,
    pub event_type: String,
    pub schema_version: i16,
    pub data: serde_json::Value,
    pub metadata: EventMetadata,
}

impl NewEvent {
    /// A new event with a fresh time-ordered id.
    #[must_use]
    pub fn new(
        event_type: impl Into<String>,
        schema_version: i16,
        data: serde_json::Value,
        metadata: EventMetadata,
    ) -> Self {
        Self {
            event_id: Uuid::now_v7(),
            event_type: event_type.into(),
            schema_version,
            data,
            metadata,
        }
    }
}

/// An event as the log holds it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RecordedEvent {
    pub global_position: i64,
    /// The id of the transaction that appended it: the feed's primary order.
    pub transaction_id: u64,
    pub event_id: Uuid,
    pub stream_id: Uuid,
    pub stream_type: String,
    pub stream_version: i64,
    pub event_type: String,
    pub schema_version: i16,
    pub data: serde_json::Value,
    pub metadata: EventMetadata,
    pub recorded_at: DateTime<Utc>,
}

/// The columns every event query selects, in the order [`RecordedEvent::from_row`] reads them.
pub(crate) const EVENT_COLUMNS: &str = "e.global_position, e.transaction_id::text, e.event_id, \
     e.stream_id, s.stream_type, e.stream_version, e.event_type, e.schema_version, e.data, \
     e.metadata, e.recorded_at";

impl RecordedEvent {
    pub(crate) fn from_row(row: &tokio_postgres::Row) -> Result<Self, crate::StoreError> {
        let tx_text: String = row.try_get(1)?;
        let transaction_id = tx_text.parse::<u64>().map_err(|e| {
            crate::StoreError::Corrupt(format!("transaction id {tx_text:?} is not a number: {e}"))
        })?;
        let metadata: serde_json::Value = row.try_get(9)?;
        Ok(Self {
            global_position: row.try_get(0)?,
            transaction_id,
            event_id: row.try_get(2)?,
            stream_id: row.try_get(3)?,
            stream_type: row.try_get(4)?,
            stream_version: row.try_get(5)?,
            event_type: row.try_get(6)?,
            schema_version: row.try_get(7)?,
            data: row.try_get(8)?,
            metadata: serde_json::from_value(metadata)?,
            recorded_at: row.try_get(10)?,
        })
    }
}
