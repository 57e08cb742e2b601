use std::net::TcpListener;
use std::time::Duration;

use actix_web::dev::Server;
use actix_web::middleware::from_fn;
use actix_web::{web, App, HttpServer};
use tracing_actix_web::TracingLogger;

use crate::routes::health;
use crate::{ApiError, AppState};

/// How to serve.
#[derive(Debug, Clone)]
pub struct ApiConfig {
    /// Where to listen; port 0 picks a free port (tests).
    pub listen: String,
    /// How long in-flight requests may take to finish after SIGTERM/SIGINT.
    pub shutdown_timeout: Duration,
    pub workers: Option<usize>,
}

impl Default for ApiConfig {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:8080".to_owned(),
            shutdown_timeout: Duration::from_secs(30),
            workers: None,
        }
    }
}

/// The server, bound and ready to run. Tests build exactly this, so what is tested is what runs.
pub struct Application {
    port: u16,
    server: Server,
}

impl Application {
    /// Binds the listener and builds the server; nothing is served until
    /// [`Application::run_until_stopped`].
    ///
    /// # Errors
    /// When the address cannot be bound.
    pub fn build(config: &ApiConfig, state: AppState) -> std::io::Result<Self> {
        let listener = TcpListener::bind(&config.listen)?;
        let port = listener.local_addr()?.port();
        let data = web::Data::new(state);
        let mut server = HttpServer::new(move || {
            App::new()
                .wrap(from_fn(crate::request_id::echo_request_id))
                .wrap(TracingLogger::default())
                .app_data(data.clone())
                .service(health::healthz)
                .service(health::readyz)
                .default_service(web::to(not_found))
        })
        .shutdown_timeout(config.shutdown_timeout.as_secs())
        .listen(listener)?;
        if let Some(workers) = config.workers {
            server = server.workers(workers);
        }
        Ok(Self {
            port,
            server: server.run(),
        })
    }

    #[must_use]
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Serves until SIGTERM or SIGINT, then lets in-flight requests finish.
    ///
    /// # Errors
    /// When the server fails.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}

async fn not_found(req: actix_web::HttpRequest) -> actix_web::HttpResponse {
    use actix_web::ResponseError;
    ApiError::NotFound(format!("There is no resource at {}.", req.path())).error_response()
}
