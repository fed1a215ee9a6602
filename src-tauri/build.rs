fn main() {
    // Declaring the app's commands makes Tauri require a permission for each, so the
    // capability files decide exactly which window may call what.
    let manifest = tauri_build::AppManifest::new().commands(&[
        "app_status",
        "list_audio_devices",
        "select_audio_device",
        "change_setting",
        "parse_dial_input",
        "take_pending_dial",
        "write_diagnostics",
        "salesforce_status",
        "salesforce_sign_in",
        "salesforce_sign_out",
        "match_number",
        "create_caller_record",
        "open_record",
        "caller_details",
        "call_log_form",
        "new_call_log",
        "save_call_log",
        "history",
        "call_log",
        "retry_call_log",
        "sync_outbox",
        "outbox_summary",
        "search_people",
        "search_related",
        "set_sip_password",
        "start_phone",
        "dial",
        "answer_call",
        "decline_call",
        "hang_up",
        "hold_call",
        "mute_call",
        "send_dtmf",
        "transfer_call",
        "transfer_to_call",
        "set_do_not_disturb",
    ]);
    tauri_build::try_build(tauri_build::Attributes::new().app_manifest(manifest))
        .expect("tauri build script");
}
