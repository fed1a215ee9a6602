//! `meetsrv`: the Zoom- and Webex-compatible test servers on a fixed port, for the
//! sandbox and the end-to-end tests.

use std::net::SocketAddr;

use clap::Parser;
use ringside_meetsrv::{spawn_on, Config, WebexConfig, ZoomConfig};

/// Zoom- and Webex-compatible test servers for Ringside.
#[derive(Parser, Debug)]
#[command(name = "meetsrv", version)]
struct Args {
    /// Port on 127.0.0.1.
    #[arg(long, default_value_t = 8788)]
    port: u16,
    /// Zoom meetings a user may create per UTC day.
    #[arg(long, default_value_t = 100)]
    zoom_daily_create_limit: u32,
    /// Lifetime of a Zoom access token, in seconds.
    #[arg(long, default_value_t = 3_599)]
    token_lifetime_secs: i64,
    /// Webex meetings a user may create per UTC day (no limit when not given).
    #[arg(long)]
    webex_daily_create_limit: Option<u32>,
    /// Lifetime of a Webex access token, in seconds (Webex: 14 days).
    #[arg(long, default_value_t = 1_209_600)]
    webex_token_lifetime_secs: i64,
    /// A redirect URI registered on the Webex integration (repeatable); when none is
    /// given any loopback URI is accepted.
    #[arg(long = "webex-redirect-uri")]
    webex_redirect_uris: Vec<String>,
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let args = Args::parse();
    let zoom = ZoomConfig { daily_create_limit: args.zoom_daily_create_limit, token_lifetime_secs: args.token_lifetime_secs, ..ZoomConfig::default() };
    let webex = WebexConfig {
        daily_create_limit: args.webex_daily_create_limit,
        token_lifetime_secs: args.webex_token_lifetime_secs,
        redirect_uris: args.webex_redirect_uris,
        ..WebexConfig::default()
    };
    let addr: SocketAddr = ([127, 0, 0, 1], args.port).into();
    let mut server = spawn_on(Config { zoom, webex }, addr).await?;
    let base = server.base_url().to_string();
    println!("meetsrv listening on {base}");
    println!("  Zoom: OAuth and API v2 at {base}, client id {}", ringside_meetsrv::ZOOM_CLIENT_ID);
    println!(
        "  Webex: OAuth and API at {base}/v1, client id {}, client secret {} (optional with PKCE)",
        ringside_meetsrv::WEBEX_CLIENT_ID,
        ringside_meetsrv::WEBEX_CLIENT_SECRET
    );
    tokio::select! {
        _ = server.wait() => {}
        _ = tokio::signal::ctrl_c() => {}
    }
    Ok(())
}
