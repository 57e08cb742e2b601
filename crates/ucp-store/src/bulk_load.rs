//! Loading whole streams in bulk, for the demo and benchmark loaders: a million plans in
//! minutes rather than hours. Streams and events are copied with binary `COPY`, a chunk per
//! transaction (a chunk's streams and events land together or not at all); the read models are
//! then built by the rebuild (`projections::rebuild`), which folds what was copied.
//!
//! Not a way to write in service: it checks no expected version and takes no stream's lock, so
//! it is for new streams only, with ids no one else holds. Runs as the database owner.

use chrono::{DateTime, Utc};
use deadpool_postgres::{Manager, ManagerConfig, Object, Pool, RecyclingMethod, Runtime};
use futures::pin_mut;
use tokio_postgres::binary_copy::BinaryCopyInWriter;
use tokio_postgres::types::{ToSql, Type};
use uuid::Uuid;

use crate::tls::{parse_url, DatabaseTls};
use crate::{NewEvent, StoreError};

/// A new stream and all its events, with when each was recorded.
#[derive(Debug, Clone)]
pub struct BulkStream {
    pub stream_id: Uuid,
    pub stream_type: String,
    pub events: Vec<(NewEvent, DateTime<Utc>)>,
}

/// An owner's connection that copies new streams into the log.
pub struct BulkLoader {
    client: Object,
}

impl std::fmt::Debug for BulkLoader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BulkLoader").finish_non_exhaustive()
    }
}

impl BulkLoader {
    /// Connects as the owner.
    ///
    /// # Errors
    /// When the URL cannot be parsed or the database cannot be reached.
    pub async fn connect(owner_url: &str, tls: &DatabaseTls) -> Result<Self, StoreError> {
        let manager = Manager::from_config(
            parse_url(owner_url)?,
            tls.connector()?,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(1)
            .runtime(Runtime::Tokio1)
            .build()
            .map_err(|e| StoreError::Config(e.to_string()))?;
        Ok(Self {
            client: pool.get().await?,
        })
    }

    /// Copies `streams` and their events in one transaction. Returns how many events.
    ///
    /// # Errors
    /// When the database fails (a stream or event id already taken, say): nothing of the chunk
    /// is written then.
    pub async fn load(&mut self, streams: &[BulkStream]) -> Result<u64, StoreError> {
        let tx = self.client.transaction().await?;
        let sink = tx
            .copy_in("COPY streams (stream_id, stream_type, version) FROM STDIN (FORMAT binary)")
            .await?;
        let writer = BinaryCopyInWriter::new(sink, &[Type::UUID, Type::TEXT, Type::INT8]);
        pin_mut!(writer);
        for s in streams {
            let version = i64::try_from(s.events.len())
                .map_err(|_| StoreError::Corrupt("too many events in one stream".into()))?;
            let row: [&(dyn ToSql + Sync); 3] = [&s.stream_id, &s.stream_type, &version];
            writer.as_mut().write(&row).await?;
        }
        writer.finish().await?;

        let sink = tx
            .copy_in(
                "COPY events (event_id, stream_id, stream_version, event_type, schema_version, \
                 data, metadata, recorded_at) FROM STDIN (FORMAT binary)",
            )
            .await?;
        let writer = BinaryCopyInWriter::new(
            sink,
            &[
                Type::UUID,
                Type::UUID,
                Type::INT8,
                Type::TEXT,
                Type::INT2,
                Type::JSONB,
                Type::JSONB,
                Type::TIMESTAMPTZ,
            ],
        );
        pin_mut!(writer);
        let mut events = 0u64;
        for s in streams {
            for (version, (event, at)) in (1i64..).zip(&s.events) {
                let metadata = serde_json::to_value(&event.metadata)?;
                let row: [&(dyn ToSql + Sync); 8] = [
                    &event.event_id,
                    &s.stream_id,
                    &version,
                    &event.event_type,
                    &event.schema_version,
                    &event.data,
                    &metadata,
                    at,
                ];
                writer.as_mut().write(&row).await?;
                events += 1;
            }
        }
        writer.finish().await?;
        tx.commit().await?;
        Ok(events)
    }
}
