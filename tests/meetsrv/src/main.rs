//! `meetsrv`: the Zoom- and Webex-compatible test servers on a fixed port, for the
//! sandbox and the end-to-end tests.

use std::net::SocketAddr;

use clap::Parser;
use ringside_meetsrv::{spawn_on, Config, ZoomConfig};

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
    /// Lifetime of an access token, in seconds.
    #[arg(long, default_value_t = 3_599)]
    token_lifetime_secs: i64,
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let args = Args::parse();
    let zoom = ZoomConfig { daily_create_limit: args.zoom_daily_create_limit, token_lifetime_secs: args.token_lifetime_secs, ..ZoomConfig::default() };
    let addr: SocketAddr = ([127, 0, 0, 1], args.port).into();
    let mut server = spawn_on(Config { zoom }, addr).await?;
    println!("meetsrv listening on {} (Zoom OAuth and API v2; client id {})", server.base_url(), ringside_meetsrv::ZOOM_CLIENT_ID);
    tokio::select! {
        _ = server.wait() => {}
        _ = tokio::signal::ctrl_c() => {}
    }
    Ok(())
}
