//! The webview's commands: each one instruments, delegates to the engine and returns the
//! core's `{code, message}` error unchanged. Nothing here decides anything.

use std::sync::Arc;

use ringside::app::{AppError, AppStatus, DialTarget, Engine, SalesforceStatus};
use ringside::crm::matching::{CallerDetails, CallerMatch, MatchedRecord};
use ringside::crm::Connection;
use ringside::audio::{AudioDevices, AudioRole};
use ringside::settings::SettingChange;
use tauri::{AppHandle, State};
use tauri_plugin_opener::OpenerExt;

type EngineState<'a> = State<'a, Arc<Engine>>;

#[tauri::command]
#[specta::specta]
#[tracing::instrument(skip_all)]
pub async fn app_status(engine: EngineState<'_>) -> Result<AppStatus, AppError> {
    Ok(engine.status())
}

#[tauri::command]
#[specta::specta]
#[tracing::instrument(skip_all)]
pub async fn list_audio_devices(engine: EngineState<'_>) -> Result<AudioDevices, AppError> {
    Ok(engine.refresh_devices())
}

#[tauri::command]
#[specta::specta]
#[tracing::instrument(skip(engine))]
pub async fn select_audio_device(
    engine: EngineState<'_>,
    role: AudioRole,
    device_id: Option<String>,
) -> Result<AudioDevices, AppError> {
    engine.select_audio_device(role, device_id.as_deref())
}

#[tauri::command]
#[specta::specta]
#[tracing::instrument(skip(engine))]
pub async fn change_setting(engine: EngineState<'_>, change: SettingChange) -> Result<AppStatus, AppError> {
    engine.change_setting(&change)
}

#[tauri::command]
#[specta::specta]
#[tracing::instrument(skip_all)]
pub async fn parse_dial_input(engine: EngineState<'_>, input: String) -> Result<DialTarget, AppError> {
    engine.parse_dial_input(&input)
}

#[tauri::command]
#[specta::specta]
#[tracing::instrument(skip_all)]
pub async fn take_pending_dial(engine: EngineState<'_>) -> Result<Option<DialTarget>, AppError> {
    Ok(engine.take_pending_dial())
}

#[tauri::command]
#[specta::specta]
#[tracing::instrument(skip_all)]
pub async fn write_diagnostics(engine: EngineState<'_>) -> Result<String, AppError> {
    engine.write_diagnostics(None).map(|p| p.display().to_string())
}

#[tauri::command]
#[specta::specta]
#[tracing::instrument(skip_all)]
pub async fn salesforce_status(engine: EngineState<'_>) -> Result<SalesforceStatus, AppError> {
    Ok(engine.salesforce_status().await)
}

/// Opens Salesforce's sign-in page in the default browser and waits for the answer.
#[tauri::command]
#[specta::specta]
#[tracing::instrument(skip_all)]
pub async fn salesforce_sign_in(app: AppHandle, engine: EngineState<'_>) -> Result<Connection, AppError> {
    let connection = engine
        .sign_in_to_salesforce(|url| {
            if let Err(e) = app.opener().open_url(url, None::<&str>) {
                tracing::warn!(%e, "browser not opened for the sign-in");
            }
        })
        .await?;
    crate::prefill_in_background(engine.inner().clone());
    Ok(connection)
}

#[tauri::command]
#[specta::specta]
#[tracing::instrument(skip_all)]
pub async fn salesforce_sign_out(engine: EngineState<'_>) -> Result<(), AppError> {
    engine.sign_out_of_salesforce().await
}

#[tauri::command]
#[specta::specta]
#[tracing::instrument(skip_all)]
pub async fn match_number(engine: EngineState<'_>, number: String) -> Result<CallerMatch, AppError> {
    engine.match_number(&number).await
}

#[tauri::command]
#[specta::specta]
#[tracing::instrument(skip(engine, last_name, company))]
pub async fn create_caller_record(
    engine: EngineState<'_>,
    object: String,
    number: String,
    last_name: String,
    company: Option<String>,
) -> Result<MatchedRecord, AppError> {
    engine.create_caller_record(&object, &number, &last_name, company.as_deref()).await
}

/// Opens a record in Salesforce (Lightning) in the default browser.
#[tauri::command]
#[specta::specta]
#[tracing::instrument(skip(app, engine))]
pub async fn open_record(app: AppHandle, engine: EngineState<'_>, object: String, id: String) -> Result<(), AppError> {
    let url = engine.record_url(&object, &id).await?;
    app.opener()
        .open_url(url, None::<&str>)
        .map_err(|e| AppError::new(ringside::app::ErrorCode::Io, format!("The browser could not be opened: {e}")))
}

/// Open opportunities and cases for the record the pop shows.
#[tauri::command]
#[specta::specta]
#[tracing::instrument(skip(engine))]
pub async fn caller_details(
    engine: EngineState<'_>,
    object: String,
    id: String,
    account_id: Option<String>,
) -> Result<CallerDetails, AppError> {
    engine.caller_details(&object, &id, account_id.as_deref()).await
}
