//! What the Salesforce-side benchmarks share: an engine on a manual clock in a folder
//! of its own, and a test org the engine is configured for (signing in is separate, so
//! a benchmark can work offline first).

use std::sync::Arc;

use ringside::app::{Engine, EngineConfig};
use ringside::calllog::outbox::RetryPolicy;
use ringside::clock::ManualClock;
use ringside::settings::{SettingChange, SystemLocale};
use ringside_sforg::{OrgConfig, RunningOrg};

pub fn engine_in(dir: &std::path::Path, name: &str, clock: Arc<ManualClock>) -> Engine {
    Engine::start_with(
        EngineConfig {
            data_dir: dir.to_path_buf(),
            keyring_service: format!("ringside-bench-{name}-{}", std::process::id()),
            locale: SystemLocale::from_tag("fr_FR"),
            log_dir: None,
        },
        clock,
        RetryPolicy::default(),
    )
}

/// A fresh org and an engine pointed at it (not signed in).
pub async fn org_and_engine(name: &str, clock: Arc<ManualClock>) -> (RunningOrg, Engine, tempfile::TempDir) {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut config = OrgConfig { auto_approve: true, ..OrgConfig::default() };
    config.redirect_uris = vec![format!("http://127.0.0.1:{port}/oauth/callback")];
    let org = ringside_sforg::spawn(config).await;
    let dir = tempfile::tempdir().unwrap();
    let engine = engine_in(dir.path(), name, clock);
    for change in [
        SettingChange::SalesforceLogin(org.base_url().to_string()),
        SettingChange::SalesforceClientId(org.client_id().to_string()),
        SettingChange::SalesforceCallbackPort(port),
    ] {
        engine.change_setting(&change).unwrap();
    }
    (org, engine, dir)
}

/// Signs in the way a browser would: the org approves at once and redirects.
pub async fn sign_in(engine: &Engine) {
    engine
        .sign_in_to_salesforce(|url| {
            let url = url.to_string();
            tokio::spawn(async move {
                let _ = reqwest::get(url).await;
            });
        })
        .await
        .unwrap();
}

/// Connects Zoom or Webex on the meetings test server, as a browser would.
#[allow(dead_code)] // not every benchmark meets
pub async fn connect_meetings(engine: &Engine, server: &ringside_meetsrv::RunningServer, provider: ringside::meetings::Provider) {
    let changes = match provider {
        ringside::meetings::Provider::Zoom => [
            SettingChange::ZoomClientId(ringside_meetsrv::ZOOM_CLIENT_ID.into()),
            SettingChange::ZoomOauthUrl(server.base_url().into()),
        ],
        _ => [
            SettingChange::WebexClientId(ringside_meetsrv::WEBEX_CLIENT_ID.into()),
            SettingChange::WebexUrl(server.base_url().into()),
        ],
    };
    for change in changes {
        engine.change_setting(&change).unwrap();
    }
    engine
        .connect_meetings(provider, |url| {
            let url = url.to_string();
            tokio::spawn(async move {
                let _ = reqwest::get(url).await;
            });
        })
        .await
        .unwrap();
}
