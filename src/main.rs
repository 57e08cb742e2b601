//! `ucp`: the Universal Care Plan API server and its command-line tools.

mod cli;
mod demo_day;
mod seed;
mod telemetry;

use clap::Parser;

/// mimalloc rather than glibc's malloc: the service allocates and frees many small JSON values
/// per request and per event folded, and glibc's allocator was a third of a rebuild's profile.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = cli::Cli::parse();
    telemetry::init(cli.log_format);
    cli.run().await
}
