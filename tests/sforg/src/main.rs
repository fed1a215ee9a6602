//! `sforg`: the test org on a fixed port for manual use and for running the app against it.

use std::net::SocketAddr;
use std::time::Duration;

use clap::Parser;
use ringside_sforg::{spawn_on, OrgConfig, API_VERSION};

/// A Salesforce-compatible sandbox org for Ringside.
#[derive(Parser, Debug)]
#[command(name = "sforg", version)]
struct Args {
    /// Port on 127.0.0.1.
    #[arg(long, default_value_t = 8787)]
    port: u16,
    /// Seed of the fixture, tokens and probabilistic faults.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Records written less than this many seconds ago are not found by SOSL.
    #[arg(long, default_value_t = 0.0)]
    search_delay_secs: f64,
    /// Issue a new refresh token on every refresh.
    #[arg(long)]
    rotate_refresh_tokens: bool,
    /// Skip the consent page.
    #[arg(long)]
    auto_approve: bool,
    /// A callback URL of the connected app (repeatable; replaces the defaults).
    #[arg(long = "redirect-uri")]
    redirect_uris: Vec<String>,
    /// Daily API request limit.
    #[arg(long, default_value_t = 15_000)]
    api_limit: u64,
    /// Recipients the Send Email action may reach per day.
    #[arg(long, default_value_t = 5_000)]
    single_email_limit: u64,
    /// Only users and the fixed records, not the ~3,000 generated ones.
    #[arg(long)]
    no_fixture: bool,
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_env("SFORG_LOG").unwrap_or_else(|_| "info".into()))
        .init();
    let args = Args::parse();
    let mut config = OrgConfig {
        seed: args.seed,
        fixture: !args.no_fixture,
        auto_approve: args.auto_approve,
        rotate_refresh_tokens: args.rotate_refresh_tokens,
        search_delay: Duration::from_secs_f64(args.search_delay_secs.max(0.0)),
        api_limit: args.api_limit,
        single_email_limit: args.single_email_limit,
        ..OrgConfig::default()
    };
    if !args.redirect_uris.is_empty() {
        config.redirect_uris = args.redirect_uris;
    }
    let client_id = config.client_id.clone();
    let redirects = config.redirect_uris.join(", ");
    let addr: SocketAddr = ([127, 0, 0, 1], args.port).into();
    let mut org = spawn_on(config, addr).await?;
    let base = org.base_url().to_string();
    let tokens = org.sign_in();
    tracing::info!("sandbox org at {base} (API v{API_VERSION}), org id {}", org.org_id());
    tracing::info!("connected app: client_id={client_id}, callback URLs: {redirects}");
    tracing::info!("ready-made session: Authorization: Bearer {}", tokens.access_token);
    tracing::info!("test control: {base}/__admin/state");
    tokio::select! {
        _ = org.wait() => {}
        _ = tokio::signal::ctrl_c() => tracing::info!("stopping"),
    }
    Ok(())
}
