//! The read floor of `make bench`: what the hot reads cost with nothing of the service around
//! them. The same SQL the service runs (the constants of `ucp_store::queries`), prepared once
//! per connection, behind actix-web, returning the stored JSON bytes as they come from
//! PostgreSQL: no token, no audit entry, no decoding or re-encoding. The service's figures are
//! printed as ratios of these.
//!
//! `ucp-read-floor <database url> <listen address> <pool size>`

use actix_web::{web, App, HttpResponse, HttpServer};
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use tokio_postgres::types::{FromSql, Type};
use ucp_store::queries::{PLAN_BY_ID_SQL, SEARCH_SQL, SUMMARY_BY_NHS_NUMBER_SQL};

/// A json or jsonb value's text as PostgreSQL sends it (binary jsonb is a version byte, then
/// the text; json is the text).
struct RawJson(Vec<u8>);

impl<'a> FromSql<'a> for RawJson {
    fn from_sql(
        ty: &Type,
        raw: &'a [u8],
    ) -> Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        let text = if *ty == Type::JSONB {
            raw.get(1..).unwrap_or_default()
        } else {
            raw
        };
        Ok(Self(text.to_vec()))
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::JSONB || *ty == Type::JSON
    }
}

fn json(bytes: Vec<u8>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(bytes)
}

fn failed(e: impl std::fmt::Display) -> HttpResponse {
    HttpResponse::ServiceUnavailable().body(e.to_string())
}

async fn summary(pool: web::Data<Pool>, nhs: web::Path<String>) -> HttpResponse {
    let Ok(client) = pool.get().await else {
        return HttpResponse::ServiceUnavailable().finish();
    };
    // The stored text as it is: its planVersion may be of an earlier version whose change last
    // reached it (the service takes the row's); a floor measures the SQL, not the answer.
    let stmt = match client.prepare_cached(SUMMARY_BY_NHS_NUMBER_SQL).await {
        Ok(s) => s,
        Err(e) => return failed(e),
    };
    match client.query_opt(&stmt, &[&nhs.as_str()]).await {
        Ok(Some(row)) => match row.try_get::<_, RawJson>(2) {
            Ok(raw) => json(raw.0),
            Err(e) => failed(e),
        },
        Ok(None) => HttpResponse::NotFound().finish(),
        Err(e) => failed(e),
    }
}

async fn plan(pool: web::Data<Pool>, id: web::Path<uuid::Uuid>) -> HttpResponse {
    let Ok(client) = pool.get().await else {
        return HttpResponse::ServiceUnavailable().finish();
    };
    let stmt = match client.prepare_cached(PLAN_BY_ID_SQL).await {
        Ok(s) => s,
        Err(e) => return failed(e),
    };
    match client.query_opt(&stmt, &[&*id]).await {
        Ok(Some(row)) => match row.try_get::<_, RawJson>(4) {
            Ok(raw) => json(raw.0),
            Err(e) => failed(e),
        },
        Ok(None) => HttpResponse::NotFound().finish(),
        Err(e) => failed(e),
    }
}

#[derive(serde::Deserialize)]
struct Search {
    family: String,
    #[serde(rename = "birthDate")]
    birth_date: chrono::NaiveDate,
    postcode: String,
}

async fn search(pool: web::Data<Pool>, q: web::Query<Search>) -> HttpResponse {
    let Ok(client) = pool.get().await else {
        return HttpResponse::ServiceUnavailable().finish();
    };
    let stmt = match client.prepare_cached(SEARCH_SQL).await {
        Ok(s) => s,
        Err(e) => return failed(e),
    };
    let given: Option<String> = None;
    match client
        .query(
            &stmt,
            &[
                &Some(&q.family),
                &given,
                &Some(q.birth_date),
                &Some(&q.postcode),
                &true,
                &50i64,
            ],
        )
        .await
    {
        // The rows as a JSON array of NHS numbers: the least the service's answer carries.
        Ok(rows) => {
            let mut out = b"[".to_vec();
            for (i, row) in rows.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                out.push(b'"');
                out.extend_from_slice(row.get::<_, &str>(1).as_bytes());
                out.push(b'"');
            }
            out.push(b']');
            json(out)
        }
        Err(e) => failed(e),
    }
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let (Some(url), Some(listen)) = (args.next(), args.next()) else {
        eprintln!("usage: ucp-read-floor <database url> <listen address> [pool size]");
        std::process::exit(2);
    };
    let size: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(16);
    let config: tokio_postgres::Config = url.parse().map_err(std::io::Error::other)?;
    let manager = Manager::from_config(
        config,
        tokio_postgres::NoTls,
        ManagerConfig {
            recycling_method: RecyclingMethod::Fast,
        },
    );
    let pool = Pool::builder(manager)
        .max_size(size)
        .build()
        .map_err(std::io::Error::other)?;
    let pool = web::Data::new(pool);
    HttpServer::new(move || {
        App::new()
            .app_data(pool.clone())
            .route("/summary/{nhs}", web::get().to(summary))
            .route("/plan/{id}", web::get().to(plan))
            .route("/search", web::get().to(search))
    })
    .bind(listen)?
    .run()
    .await
}
