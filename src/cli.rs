use std::time::Duration;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use ucp_api::{ApiConfig, AppState, Application};
use ucp_store::{Database, DatabaseConfig};

use crate::telemetry::LogFormat;

/// The Universal Care Plan API: care wishes and emergency treatment decisions, recorded once and
/// seen at once by ambulance crews, dispatch, NHS 111 and out-of-hours GPs.
#[derive(Debug, Parser)]
#[command(name = "ucp", version, about, long_about = None)]
pub struct Cli {
    /// Log line format.
    #[arg(
        long,
        env = "UCP_LOG_FORMAT",
        value_enum,
        default_value = "text",
        global = true
    )]
    pub log_format: LogFormat,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Apply database migrations, then serve the API until SIGTERM or SIGINT.
    Serve(ServeArgs),
    /// Apply database migrations not yet applied, then exit. Safe to run twice, or from two
    /// processes at once.
    Migrate(DatabaseArgs),
}

#[derive(Debug, Args)]
struct DatabaseArgs {
    /// PostgreSQL connection URL, for a user that may create the `ucp_app` role.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    database_url: String,
}

#[derive(Debug, Args)]
struct ServeArgs {
    #[command(flatten)]
    database: DatabaseArgs,

    /// Address to listen on (port 0 picks a free port).
    #[arg(long, env = "UCP_LISTEN", default_value = "127.0.0.1:8080")]
    listen: String,

    /// How the server's pool logs in (default: DATABASE_URL as the `ucp_app` role, which suits
    /// trust authentication; give it whole when the role has a password).
    #[arg(long, env = "UCP_APP_DATABASE_URL", hide_env_values = true)]
    app_database_url: Option<String>,

    /// Largest number of database connections this process holds.
    #[arg(long, env = "UCP_DB_POOL_SIZE", default_value_t = 16)]
    db_pool_size: usize,

    /// Seconds that in-flight requests get to finish after SIGTERM or SIGINT.
    #[arg(long, env = "UCP_SHUTDOWN_TIMEOUT", default_value_t = 30)]
    shutdown_timeout: u64,

    /// HTTP worker threads (default: one per core).
    #[arg(long, env = "UCP_WORKERS")]
    workers: Option<usize>,
}

impl Cli {
    pub async fn run(self) -> anyhow::Result<()> {
        match self.command {
            Command::Migrate(args) => {
                let applied = ucp_store::migrate(&args.database_url)
                    .await
                    .context("migrating the database")?;
                tracing::info!(applied, "database is up to date");
                Ok(())
            }
            Command::Serve(args) => serve(args).await,
        }
    }
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    ucp_store::migrate(&args.database.database_url)
        .await
        .context("migrating the database")?;
    let mut db_config = DatabaseConfig::new(args.database.database_url);
    db_config.max_connections = args.db_pool_size;
    db_config.app_url = args.app_database_url;
    let pool = ucp_store::connect(&db_config).context("connecting to the database")?;
    let state = AppState {
        db: Database::new(pool),
    };
    let config = ApiConfig {
        listen: args.listen,
        shutdown_timeout: Duration::from_secs(args.shutdown_timeout),
        workers: args.workers,
    };
    let app = Application::build(&config, state)
        .with_context(|| format!("listening on {}", config.listen))?;
    tracing::info!(port = app.port(), listen = %config.listen, "serving the Universal Care Plan API");
    app.run_until_stopped().await.context("serving")?;
    tracing::info!("stopped");
    Ok(())
}
