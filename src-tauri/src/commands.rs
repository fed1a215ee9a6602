//! The webview's commands: each one instruments, delegates to the engine and returns the
//! core's `{code, message}` error unchanged. Nothing here decides anything.

use std::sync::Arc;

use ringside::app::{AppError, AppStatus, DialTarget, Engine};
use ringside::audio::{AudioDevices, AudioRole};
use ringside::settings::SettingChange;
use tauri::State;

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
