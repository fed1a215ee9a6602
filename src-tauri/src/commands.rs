//! The webview's commands: each one instruments, delegates to the engine and returns the
//! core's `{code, message}` error unchanged. Nothing here decides anything.

use std::sync::Arc;

use ringside::app::{AppError, AppStatus, DialTarget, Engine, RecordChoice, SalesforceStatus, SaveOutcome, StartedMeeting, MeetingTime};
use ringside::meetings::{MeetingEntry, MeetingRequest, Provider};
use ringside::app::meetings::{MeetingSyncReport, ProviderStatus};
use ringside::app::held_meetings::{HeldChoice, HeldListing};
use ringside::app::reports::{Report, ReportKind};
use ringside::app::layouts::{DiffLine, LayoutCheck, LayoutStatus, Published, PublishTarget, PulledLayout};
use ringside::app::more_info::MoreInfo;
use ringside::layout::RepSetting;
use ringside::calllog::form::FormSpec;
use ringside::sip::registration::RegistrationState;
use ringside::calllog::{CallLogInput, CallType, HistoryEntry, HistoryQuery, OutboxSummary, RecordRef};
use ringside::crm::matching::{CallerDetails, CallerMatch, MatchedRecord};
use ringside::crm::Connection;
use ringside::audio::{AudioDevices, AudioRole};
use ringside::settings::SettingChange;
use tauri::{AppHandle, State};
use tauri_plugin_opener::OpenerExt;

use ringside::sip::ua::CallInfo;

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
pub async fn test_audio(engine: EngineState<'_>, seconds: u32) -> Result<ringside::audio::check::AudioCheck, AppError> {
    engine.test_audio(seconds).await
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

/// The call-log form: the layout's fields, dispositions and picklists.
#[tauri::command]
#[specta::specta]
#[tracing::instrument(skip_all)]
pub async fn call_log_form(engine: EngineState<'_>) -> Result<FormSpec, AppError> {
    Ok(engine.call_log_form().await)
}

/// A new log for a number, prefilled with the record the pop shows.
#[tauri::command]
#[specta::specta]
#[tracing::instrument(skip_all)]
pub async fn new_call_log(
    engine: EngineState<'_>,
    number: String,
    call_type: CallType,
    record: Option<MatchedRecord>,
) -> Result<CallLogInput, AppError> {
    Ok(engine.new_call_log(&number, call_type, record.as_ref()))
}

#[tauri::command]
#[specta::specta]
#[tracing::instrument(skip(engine, input))]
pub async fn save_call_log(
    engine: EngineState<'_>,
    id: Option<u32>,
    input: CallLogInput,
    save: bool,
) -> Result<SaveOutcome, AppError> {
    engine.save_call_log(id.map(i64::from), &input, save)
}

#[tauri::command]
#[specta::specta]
#[tracing::instrument(skip_all)]
pub async fn history(engine: EngineState<'_>, query: HistoryQuery) -> Result<Vec<HistoryEntry>, AppError> {
    engine.history(&query).await
}

#[tauri::command]
#[specta::specta]
#[tracing::instrument(skip(engine))]
pub async fn call_log(engine: EngineState<'_>, id: u32) -> Result<HistoryEntry, AppError> {
    engine.call_log(i64::from(id)).await
}

#[tauri::command]
#[specta::specta]
#[tracing::instrument(skip(engine))]
pub async fn retry_call_log(engine: EngineState<'_>, id: u32) -> Result<HistoryEntry, AppError> {
    engine.retry_call_log(i64::from(id))
}

/// "Sync now": everything waiting is tried at once.
#[tauri::command]
#[specta::specta]
#[tracing::instrument(skip_all)]
pub async fn sync_outbox(engine: EngineState<'_>) -> Result<OutboxSummary, AppError> {
    engine.wake_outbox();
    engine.outbox_summary()
}

#[tauri::command]
#[specta::specta]
#[tracing::instrument(skip_all)]
pub async fn outbox_summary(engine: EngineState<'_>) -> Result<OutboxSummary, AppError> {
    engine.outbox_summary()
}

#[tauri::command]
#[specta::specta]
#[tracing::instrument(skip_all)]
pub async fn search_people(engine: EngineState<'_>, term: String) -> Result<Vec<RecordChoice>, AppError> {
    engine.search_people(&term).await
}

#[tauri::command]
#[specta::specta]
#[tracing::instrument(skip(engine, term))]
pub async fn search_related(
    engine: EngineState<'_>,
    who: Option<RecordRef>,
    term: String,
) -> Result<Vec<RecordChoice>, AppError> {
    engine.search_related(who.as_ref(), &term).await
}

/// Keeps the SIP password in the OS keyring; it is never sent back to the webview.
#[tauri::command]
#[specta::specta]
#[tracing::instrument(skip_all)]
pub async fn set_sip_password(engine: EngineState<'_>, password: String) -> Result<(), AppError> {
    engine.set_sip_password(&password)
}

/// (Re)connects the phone with the SIP settings in force.
#[tauri::command]
#[specta::specta]
#[tracing::instrument(skip_all)]
pub async fn start_phone(engine: EngineState<'_>) -> Result<RegistrationState, AppError> {
    Ok(engine.inner().start_phone().await)
}

/// Places a call to a number, extension or SIP address.
#[tauri::command]
#[specta::specta]
#[tracing::instrument(skip(engine))]
pub async fn dial(engine: EngineState<'_>, input: String) -> Result<CallInfo, AppError> {
    engine.inner().dial(&input).await
}

/// Answers a ringing call (a call in progress goes on hold).
#[tauri::command]
#[specta::specta]
#[tracing::instrument(skip(engine))]
pub async fn answer_call(engine: EngineState<'_>, id: u32) -> Result<(), AppError> {
    engine.answer_call(id).await
}

/// Refuses a ringing call: 603 Decline, or 486 Busy Here with `busy`.
#[tauri::command]
#[specta::specta]
#[tracing::instrument(skip(engine))]
pub async fn decline_call(engine: EngineState<'_>, id: u32, busy: bool) -> Result<(), AppError> {
    engine.decline_call(id, busy).await
}

/// Ends a call (CANCEL while it rings out, BYE once answered).
#[tauri::command]
#[specta::specta]
#[tracing::instrument(skip(engine))]
pub async fn hang_up(engine: EngineState<'_>, id: u32) -> Result<(), AppError> {
    engine.hang_up(id).await
}

/// Puts a call on hold or takes it off (the other call goes on hold).
#[tauri::command]
#[specta::specta]
#[tracing::instrument(skip(engine))]
pub async fn hold_call(engine: EngineState<'_>, id: u32, on: bool) -> Result<(), AppError> {
    engine.hold_call(id, on).await
}

/// Mutes or unmutes the microphone of a call.
#[tauri::command]
#[specta::specta]
#[tracing::instrument(skip(engine))]
pub async fn mute_call(engine: EngineState<'_>, id: u32, on: bool) -> Result<(), AppError> {
    engine.mute_call(id, on).await
}

/// Sends keypad digits on a call.
#[tauri::command]
#[specta::specta]
#[tracing::instrument(skip(engine))]
pub async fn send_dtmf(engine: EngineState<'_>, id: u32, digits: String) -> Result<(), AppError> {
    engine.send_digits(id, &digits).await
}

/// Blind transfer of a call to a number, extension or SIP address.
#[tauri::command]
#[specta::specta]
#[tracing::instrument(skip(engine))]
pub async fn transfer_call(engine: EngineState<'_>, id: u32, target: String) -> Result<(), AppError> {
    engine.transfer_call(id, &target).await
}

/// Attended transfer: joins the far ends of two calls and leaves both.
#[tauri::command]
#[specta::specta]
#[tracing::instrument(skip(engine))]
pub async fn transfer_to_call(engine: EngineState<'_>, id: u32, other: u32) -> Result<(), AppError> {
    engine.transfer_to_call(id, other).await
}

/// Do not disturb: new calls are answered busy.
#[tauri::command]
#[specta::specta]
#[tracing::instrument(skip(engine))]
pub async fn set_do_not_disturb(engine: EngineState<'_>, on: bool) -> Result<(), AppError> {
    engine.set_do_not_disturb(on).await; Ok(())
}

/// Starts a meeting with the person in front of the rep and, when it is instant, opens it
/// in the browser.
/// The meeting and its Event are stored before the browser opens: a browser that
/// fails to start loses nothing (the answer says so; the meeting is listed and its
/// link can be opened again).
#[tauri::command]
#[specta::specta]
#[tracing::instrument(skip_all)]
pub async fn start_meeting(app: AppHandle, engine: EngineState<'_>, request: MeetingRequest) -> Result<StartedMeeting, AppError> {
    let mut started = engine.start_meeting(&request).await?;
    if let Some(url) = &started.open_url {
        if let Err(e) = open_in_browser(&app, url) {
            tracing::warn!(meeting = started.meeting.id, reason = %e.message, "meeting created; browser not opened");
            started.open_problem = Some(e.message);
        }
    }
    Ok(started)
}

/// Opens a stored meeting's join address again.
#[tauri::command]
#[specta::specta]
#[tracing::instrument(skip(app, engine))]
pub async fn open_meeting(app: AppHandle, engine: EngineState<'_>, id: u32) -> Result<(), AppError> {
    let url = engine.meeting_join_url(i64::from(id)).await?;
    open_in_browser(&app, &url)
}

fn open_in_browser(app: &AppHandle, url: &str) -> Result<(), AppError> {
    app.opener()
        .open_url(url, None::<&str>)
        .map_err(|e| AppError::new(ringside::app::ErrorCode::Io, format!("The meeting is created, but the browser could not be opened: {e}")))
}

/// Meetings starting in `[from, to)` (unix seconds), newest first.
#[tauri::command]
#[specta::specta]
#[tracing::instrument(skip(engine))]
pub async fn list_meetings(engine: EngineState<'_>, from: u32, to: u32) -> Result<Vec<MeetingEntry>, AppError> {
    engine.meetings(i64::from(from), i64::from(to), 500).await
}

#[tauri::command]
#[specta::specta]
#[tracing::instrument(skip(engine))]
pub async fn retry_meeting_event(engine: EngineState<'_>, id: u32) -> Result<MeetingEntry, AppError> {
    engine.retry_meeting_event(i64::from(id))
}

/// What "Start meeting" on a record sends: the person and the related record filled in.
#[tauri::command]
#[specta::specta]
#[tracing::instrument(skip_all)]
pub async fn new_meeting_request(engine: EngineState<'_>, record: Option<MatchedRecord>) -> Result<MeetingRequest, AppError> {
    Ok(engine.new_meeting_request(record.as_ref()))
}

/// Writes the meeting's `.ics` invitation into the Downloads folder; returns its path.
#[tauri::command]
#[specta::specta]
#[tracing::instrument(skip(engine))]
pub async fn save_meeting_invitation(engine: EngineState<'_>, id: u32) -> Result<String, AppError> {
    Ok(engine.save_meeting_invitation(i64::from(id), None).await?.display().to_string())
}

/// What a date and time in a zone is, for the schedule form (nothing is created).
#[tauri::command]
#[specta::specta]
#[tracing::instrument]
pub async fn meeting_time(local: String, time_zone: String) -> Result<MeetingTime, AppError> {
    Ok(ringside::app::meetings::meeting_time(&local, &time_zone))
}

/// The meeting providers and whether each can be used now.
#[tauri::command]
#[specta::specta]
#[tracing::instrument(skip(engine))]
pub async fn meeting_providers(engine: EngineState<'_>) -> Result<Vec<ProviderStatus>, AppError> {
    Ok(engine.meeting_providers().await)
}

/// Connects a provider account in the browser (its sign-in page opens); returns once
/// the browser came back.
#[tauri::command]
#[specta::specta]
#[tracing::instrument(skip(app, engine))]
pub async fn connect_meetings(app: AppHandle, engine: EngineState<'_>, provider: Provider) -> Result<(), AppError> {
    engine
        .connect_meetings(provider, |url| {
            if let Err(e) = app.opener().open_url(url, None::<&str>) {
                tracing::warn!(%e, "browser not opened for the sign-in");
            }
        })
        .await
}

#[tauri::command]
#[specta::specta]
#[tracing::instrument(skip(engine))]
pub async fn disconnect_meetings(engine: EngineState<'_>, provider: Provider) -> Result<(), AppError> {
    engine.disconnect_meetings(provider).await
}

/// "Sync now": asks the providers how meetings went, then sends the Events.
#[tauri::command]
#[specta::specta]
#[tracing::instrument(skip(engine))]
pub async fn sync_meetings(engine: EngineState<'_>) -> Result<MeetingSyncReport, AppError> {
    Ok(engine.sync_meetings_now().await.0)
}

/// Keeps the provider app's client secret in the keyring (empty forgets it).
#[tauri::command]
#[specta::specta]
#[tracing::instrument(skip(engine, secret))]
pub async fn set_meeting_client_secret(engine: EngineState<'_>, provider: Provider, secret: String) -> Result<(), AppError> {
    engine.set_meeting_client_secret(provider, &secret)
}

/// Meetings held at Zoom or Webex in `[from, to)` (unix seconds), attendees matched.
#[tauri::command]
#[specta::specta]
#[tracing::instrument(skip(engine))]
pub async fn held_meetings(engine: EngineState<'_>, provider: Provider, from: u32, to: u32) -> Result<HeldListing, AppError> {
    engine.held_meetings(provider, i64::from(from), i64::from(to)).await
}

/// Records the picked held meetings with their Events; returns those stored now.
#[tauri::command]
#[specta::specta]
#[tracing::instrument(skip(engine, choices))]
pub async fn record_held_meetings(engine: EngineState<'_>, choices: Vec<HeldChoice>) -> Result<Vec<MeetingEntry>, AppError> {
    engine.record_held_meetings(&choices).await
}

/// Meetings and calls counted for `[from, to)` (unix seconds).
#[tauri::command]
#[specta::specta]
#[tracing::instrument(skip(engine))]
pub async fn report(engine: EngineState<'_>, from: u32, to: u32) -> Result<Report, AppError> {
    engine.report(i64::from(from), i64::from(to))
}

/// Writes one report table as CSV to Downloads; returns the file's path.
#[tauri::command]
#[specta::specta]
#[tracing::instrument(skip(engine))]
pub async fn save_report_csv(engine: EngineState<'_>, from: u32, to: u32, kind: ReportKind) -> Result<String, AppError> {
    Ok(engine.save_report_csv(i64::from(from), i64::from(to), kind, None)?.display().to_string())
}

// ---- the admin layout ----------------------------------------------------------------

#[tauri::command]
#[specta::specta]
#[tracing::instrument(skip_all)]
pub async fn layout_status(engine: EngineState<'_>) -> Result<LayoutStatus, AppError> {
    Ok(engine.layout_status())
}

/// "Refresh": ask the org for the layout assigned to the rep now.
#[tauri::command]
#[specta::specta]
#[tracing::instrument(skip_all)]
pub async fn refresh_layout(engine: EngineState<'_>) -> Result<LayoutStatus, AppError> {
    engine.refresh_layout().await
}

#[tauri::command]
#[specta::specta]
#[tracing::instrument(skip(engine))]
pub async fn set_rep_setting(engine: EngineState<'_>, setting: RepSetting, value: Option<bool>) -> Result<LayoutStatus, AppError> {
    engine.set_rep_setting(setting, value)
}

/// The document in force, for the Admin page's editor.
#[tauri::command]
#[specta::specta]
#[tracing::instrument(skip_all)]
pub async fn layout_document(engine: EngineState<'_>) -> Result<String, AppError> {
    Ok(engine.layout_document())
}

#[tauri::command]
#[specta::specta]
#[tracing::instrument(skip_all)]
pub async fn can_publish_layouts(engine: EngineState<'_>) -> Result<bool, AppError> {
    Ok(engine.can_publish_layouts().await)
}

#[tauri::command]
#[specta::specta]
#[tracing::instrument(skip_all)]
pub async fn validate_layout(engine: EngineState<'_>, text: String) -> Result<LayoutCheck, AppError> {
    engine.validate_layout(text.as_bytes()).await
}

#[tauri::command]
#[specta::specta]
#[tracing::instrument(skip(engine, text))]
pub async fn publish_layout(engine: EngineState<'_>, text: String, target: PublishTarget) -> Result<Published, AppError> {
    engine.publish_layout(text.as_bytes(), &target).await
}

#[tauri::command]
#[specta::specta]
#[tracing::instrument(skip(engine))]
pub async fn pull_layout(engine: EngineState<'_>, target: Option<PublishTarget>) -> Result<PulledLayout, AppError> {
    engine.pull_layout(target.as_ref()).await
}

#[tauri::command]
#[specta::specta]
#[tracing::instrument(skip_all)]
pub async fn diff_layouts(published: String, edited: String) -> Result<Vec<DiffLine>, AppError> {
    Ok(ringside::app::layouts::diff_layouts(&published, &edited))
}

/// A "more info" tab of the pop for the caller's account.
#[tauri::command]
#[specta::specta]
#[tracing::instrument(skip(engine))]
pub async fn more_info(engine: EngineState<'_>, label: String, account_id: String) -> Result<MoreInfo, AppError> {
    engine.more_info(&label, &account_id).await
}

/// Sends a meeting's refused or unsure invitation email again, at the rep's word.
#[tauri::command]
#[specta::specta]
#[tracing::instrument(skip(engine))]
pub async fn resend_invitation(engine: EngineState<'_>, id: u32) -> Result<MeetingEntry, AppError> {
    engine.resend_invitation(i64::from(id)).await
}
