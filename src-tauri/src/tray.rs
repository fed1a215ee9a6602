//! The tray icon: shows the engine's one-line status and offers Show and Quit.

use std::sync::Arc;

use ringside::app::Engine;
use tauri::menu::{Menu, MenuItem};
use tauri::tray::TrayIconBuilder;
use tauri::AppHandle;

pub const TRAY_ID: &str = "ringside";

pub fn create(app: &AppHandle, engine: &Arc<Engine>) -> tauri::Result<()> {
    let show = MenuItem::with_id(app, "show", "Show Ringside", true, None::<&str>)?;
    let quit = MenuItem::with_id(app, "quit", "Quit Ringside", true, None::<&str>)?;
    let menu = Menu::with_items(app, &[&show, &quit])?;
    let icon = tauri::image::Image::from_bytes(include_bytes!("../../assets/icons/tray.png"))?;
    TrayIconBuilder::with_id(TRAY_ID)
        .icon(icon)
        .tooltip(engine.summary())
        .menu(&menu)
        .on_menu_event(|app, event| match event.id().as_ref() {
            "show" => super::show_main_window(app),
            "quit" => app.exit(0),
            _ => {}
        })
        .build(app)?;
    Ok(())
}

pub fn update(app: &AppHandle, engine: &Arc<Engine>) {
    if let Some(tray) = app.tray_by_id(TRAY_ID) {
        let _ = tray.set_tooltip(Some(engine.summary()));
    }
}
