//! `ucp`: the Universal Care Plan API server and its command-line tools.

mod cli;
mod seed;
mod telemetry;

use clap::Parser;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = cli::Cli::parse();
    telemetry::init(cli.log_format);
    cli.run().await
}
