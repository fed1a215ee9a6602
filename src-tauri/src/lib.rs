//! Ringside's desktop shell: one window over the core engine, a tray icon, desktop
//! notifications and the OS's `tel:`/`sip:`/`callto:` links. Commands are thin (see
//! `commands.rs`); every core event is forwarded to the webview as `core-event`.

mod commands;
mod tray;

use std::sync::Arc;

use ringside::app::{logging, Engine, EngineConfig, Event};
use serde::Serialize;
use tauri::{AppHandle, Manager};
use tauri_plugin_notification::NotificationExt;
use tauri_specta::{collect_commands, collect_events, Builder, Event as _};

/// The core's domain event, as the webview receives it (`core-event`).
#[derive(Debug, Clone, Serialize, specta::Type, tauri_specta::Event)]
#[serde(transparent)]
pub struct CoreEvent(pub Event);

/// Commands and events, shared by the app and by the bindings export.
pub fn specta_builder() -> Builder<tauri::Wry> {
    Builder::<tauri::Wry>::new()
        .commands(collect_commands![
            commands::app_status,
            commands::list_audio_devices,
            commands::select_audio_device,
            commands::test_audio,
            commands::change_setting,
            commands::parse_dial_input,
            commands::take_pending_dial,
            commands::write_diagnostics,
            commands::salesforce_status,
            commands::salesforce_sign_in,
            commands::salesforce_sign_out,
            commands::match_number,
            commands::create_caller_record,
            commands::open_record,
            commands::caller_details,
            commands::call_log_form,
            commands::new_call_log,
            commands::save_call_log,
            commands::history,
            commands::call_log,
            commands::retry_call_log,
            commands::sync_outbox,
            commands::outbox_summary,
            commands::search_people,
            commands::search_related,
            commands::set_sip_password,
            commands::start_phone,
            commands::dial,
            commands::answer_call,
            commands::decline_call,
            commands::hang_up,
            commands::hold_call,
            commands::mute_call,
            commands::send_dtmf,
            commands::transfer_call,
            commands::transfer_to_call,
            commands::set_do_not_disturb,
            commands::new_meeting_request,
            commands::start_meeting,
            commands::open_meeting,
            commands::list_meetings,
            commands::retry_meeting_event,
            commands::save_meeting_invitation,
            commands::meeting_time,
            commands::meeting_providers,
            commands::connect_meetings,
            commands::disconnect_meetings,
            commands::sync_meetings,
            commands::set_meeting_client_secret,
            commands::held_meetings,
            commands::record_held_meetings,
            commands::report,
            commands::save_report_csv,
            commands::layout_status,
            commands::refresh_layout,
            commands::set_rep_setting,
            commands::layout_document,
            commands::can_publish_layouts,
            commands::validate_layout,
            commands::publish_layout,
            commands::pull_layout,
            commands::diff_layouts,
            commands::more_info,
            commands::resend_invitation,

        ])
        .events(collect_events![CoreEvent])
        // The webview only receives these types, so one (serialized) shape each.
        .disable_serde_phases()
}

pub fn run() {
    // WebKitGTK's accelerated compositing costs about 60 MiB in the web process and,
    // without a GPU, renders through a software GL stack; a softphone window needs
    // neither (docs/BENCHMARKS.md). Set before any thread starts; the rep's own
    // setting of the variable wins.
    #[cfg(target_os = "linux")]
    if std::env::var_os("WEBKIT_DISABLE_COMPOSITING_MODE").is_none() {
        std::env::set_var("WEBKIT_DISABLE_COMPOSITING_MODE", "1");
    }
    let config = EngineConfig::for_data_dir(EngineConfig::default_data_dir());
    let (log_guard, log_problem) = logging::init(config.log_dir.as_deref(), cfg!(debug_assertions));
    if let Some(e) = log_problem {
        tracing::warn!(%e, "log files unavailable; logging to stderr");
    }
    let engine = Arc::new(Engine::start(config));
    let builder = specta_builder();

    let app = tauri::Builder::default()
        // First: a second launch (e.g. a clicked tel: link) is handed to this instance.
        .plugin(tauri_plugin_single_instance::init(|app, argv, _cwd| {
            tracing::info!(args = argv.len(), "second launch forwarded");
            show_main_window(app);
            if let Some(engine) = app.try_state::<Arc<Engine>>() {
                let _ = engine.open_link_from_args(&argv);
            }
        }))
        .plugin(tauri_plugin_deep_link::init())
        .plugin(tauri_plugin_notification::init())
        .plugin(tauri_plugin_opener::init())
        .manage(engine.clone())
        .invoke_handler(builder.invoke_handler())
        .setup(move |app| {
            builder.mount_events(app);
            forward_events(app.handle().clone(), engine.clone());
            tray::create(app.handle(), &engine)?;
            // A link that started the app arrives as an argument; the UI collects it
            // with take_pending_dial once it listens.
            let args: Vec<String> = std::env::args().skip(1).collect();
            let _ = engine.open_link_from_args(&args);
            prefill_in_background(engine.clone());
            // The phone registers as soon as it is set up.
            let phone_engine = engine.clone();
            tauri::async_runtime::spawn(async move {
                phone_engine.start_phone().await;
            });
            // Call logs waiting from an earlier run (or saved offline) go out from here.
            let outbox_engine = engine.clone();
            tauri::async_runtime::spawn(async move { outbox_engine.run_outbox().await });
            // The layout assigned to the rep: at start, every 15 minutes, after a sign-in.
            let layout_engine = engine.clone();
            tauri::async_runtime::spawn(async move { layout_engine.follow_layout(Engine::layout_poll_interval()).await });
            // Devices are listed off the main thread so the window paints first.
            let devices_engine = engine.clone();
            std::thread::spawn(move || {
                devices_engine.refresh_devices();
            });
            Ok(())
        })
        .on_page_load(|_, payload| {
            if payload.event() == tauri::webview::PageLoadEvent::Finished {
                tracing::info!("window loaded");
                // docs/BENCHMARKS.md times start-up to this line (tests/bench/startup.py).
                if std::env::var_os("RINGSIDE_STARTUP_PROBE").is_some() {
                    eprintln!("startup-probe: page loaded");
                }
            }
        })
        .on_window_event(|window, event| {
            // A softphone keeps running for incoming calls: closing hides to the tray.
            if let tauri::WindowEvent::CloseRequested { api, .. } = event {
                if window.app_handle().tray_by_id(tray::TRAY_ID).is_some() {
                    api.prevent_close();
                    let _ = window.hide();
                }
            }
        })
        .build(tauri::generate_context!());
    match app {
        Ok(app) => app.run(|app, event| {
            // Leaving removes the SIP binding, so calls stop ringing here.
            if let tauri::RunEvent::Exit = event {
                if let Some(engine) = app.try_state::<Arc<Engine>>() {
                    tauri::async_runtime::block_on(engine.stop_phone());
                }
            }
        }),
        Err(e) => {
            tracing::error!(%e, "the window could not be created");
            eprintln!("Ringside could not open its window: {e}");
        }
    }
    drop(log_guard);
}

/// Reads the records the rep owns into the match index without holding anything up.
pub(crate) fn prefill_in_background(engine: Arc<Engine>) {
    tauri::async_runtime::spawn(async move {
        if let Err(e) = engine.prefill_owned_records().await {
            tracing::warn!(error = %e.message, "owned records not indexed");
        }
    });
}

fn show_main_window(app: &AppHandle) {
    if let Some(window) = app.get_webview_window("main") {
        let _ = window.unminimize();
        let _ = window.show();
        let _ = window.set_focus();
    }
}

/// Forwards every engine event to the webview, raises the desktop notifications the
/// core asks for, and keeps the tray tooltip current.
fn forward_events(app: AppHandle, engine: Arc<Engine>) {
    let mut events = engine.subscribe();
    tauri::async_runtime::spawn(async move {
        loop {
            let event = match events.recv().await {
                Ok(event) => event,
                Err(tokio::sync::broadcast::error::RecvError::Lagged(missed)) => {
                    tracing::warn!(missed, "webview fell behind on events");
                    continue;
                }
                Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
            };
            if event.raises_window() {
                show_main_window(&app);
            }
            if let Some(n) = event.desktop_notification() {
                if let Err(e) = app.notification().builder().title(n.title).body(&n.body).show() {
                    tracing::debug!(%e, "desktop notification not shown");
                }
            }
            tray::update(&app, &engine);
            if let Err(e) = CoreEvent(event).emit(&app) {
                tracing::warn!(%e, "event not delivered to the webview");
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use specta_typescript::Typescript;

    const BINDINGS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../ui/src/lib/bindings.ts");

    /// The UI's TypeScript types come from the Rust types. Run with
    /// RINGSIDE_WRITE_BINDINGS=1 to regenerate after changing a command or an event.
    #[test]
    fn typescript_bindings_match_the_rust_types() {
        let dir = std::env::temp_dir().join(format!("ringside-bindings-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let fresh = dir.join("bindings.ts");
        super::specta_builder()
            .export(Typescript::default().header("// Generated from the Rust types by tauri-specta. Do not edit.\n// Regenerate: RINGSIDE_WRITE_BINDINGS=1 cargo test -p ringside-desktop bindings\n"), &fresh)
            .expect("bindings export");
        let fresh_text = std::fs::read_to_string(&fresh).unwrap();
        if std::env::var_os("RINGSIDE_WRITE_BINDINGS").is_some() {
            std::fs::write(BINDINGS, &fresh_text).unwrap();
        }
        let committed = std::fs::read_to_string(BINDINGS).unwrap_or_default();
        assert!(
            committed == fresh_text,
            "ui/src/lib/bindings.ts is out of date with the Rust types; regenerate with RINGSIDE_WRITE_BINDINGS=1 cargo test -p ringside-desktop bindings"
        );
    }
}
