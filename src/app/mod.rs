//! The engine: owns Ringside's state (the store, the settings in force, notices, the
//! pending dial) behind one lock, runs the start-up checks, and announces every change
//! as an [`Event`]. Front ends (the desktop shell, the CLI) only call its methods and
//! listen to its events; they hold no state of their own.
//!
//! Starting never fails: a damaged database, a read-only folder, a missing keyring or
//! no sound card each become a [`Notice`] and the engine runs with what it has.

mod calllog;
mod calllog_search;
mod crm;
mod layout_publish;
pub mod layouts;
pub mod more_info;
pub mod phone;
pub mod diagnostics;
mod error;
mod events;
pub mod held_meetings;
pub mod links;
mod meeting_emails;
pub mod meetings;
pub mod logging;
pub mod reports;

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::Serialize;
use tokio::sync::broadcast;

pub use error::{AppError, ErrorCode};
pub use events::{DesktopNotification, Event, Notice, NoticeCode};
pub use calllog::{DrainReport, EndedCall, SaveOutcome};
pub use calllog_search::RecordChoice;
pub use crm::SalesforceStatus;
pub use links::DialTarget;
pub use meetings::{MeetingTime, StartedMeeting};

use crate::calllog::outbox::RetryPolicy;
use crate::clock::{Clock, SystemClock};
use crate::audio::{self, AudioDevices, AudioRole, DeviceList, DevicePreference};
use crate::secrets::Keyring;
use crate::settings::{self, Language, SettingChange, Settings, SystemLocale};
use crate::store::{Store, StoreError};

/// Events buffered per subscriber before the slowest one starts missing old events
/// (it then re-reads state with `status()`); events are small and rare.
const EVENT_CAPACITY: usize = 256;
const DB_FILE: &str = "ringside.db";

pub struct EngineConfig {
    pub data_dir: PathBuf,
    pub keyring_service: String,
    pub locale: SystemLocale,
    /// Where the log files are, when logging to files works.
    pub log_dir: Option<PathBuf>,
}

impl EngineConfig {
    /// The platform's data folder, or `RINGSIDE_DATA_DIR` when set (tests, portable use).
    pub fn default_data_dir() -> PathBuf {
        if let Some(dir) = std::env::var_os("RINGSIDE_DATA_DIR") {
            return PathBuf::from(dir);
        }
        directories::ProjectDirs::from("com", "Ringside", "Ringside")
            .map(|d| d.data_dir().to_path_buf())
            .unwrap_or_else(|| std::env::temp_dir().join("ringside"))
    }

    pub fn for_data_dir(data_dir: PathBuf) -> EngineConfig {
        EngineConfig {
            log_dir: Some(data_dir.join("logs")),
            data_dir,
            keyring_service: std::env::var("RINGSIDE_KEYRING_SERVICE").unwrap_or_else(|_| "ringside".into()),
            locale: SystemLocale::detect(),
        }
    }
}

/// What the front end needs to draw its first screen.
#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct AppStatus {
    pub version: String,
    pub language: Language,
    pub settings: Settings,
    pub notices: Vec<Notice>,
    pub registration: crate::sip::registration::RegistrationState,
    /// Calls in progress (ringing, talking, on hold), oldest first.
    pub calls: Vec<crate::sip::ua::CallInfo>,
    /// New calls are answered busy.
    pub do_not_disturb: bool,
    /// The voicemail box, once the PBX said.
    pub voicemail: Option<crate::sip::mwi::Voicemail>,
    pub data_dir: String,
    pub log_file: String,
}

struct State {
    store: Store,
    settings: Settings,
    notices: Vec<Notice>,
    pending_dial: Option<DialTarget>,
    devices: Option<AudioDevices>,
    /// The inbound layout in force (what most of the core reads).
    layout: crate::layout::Layout,
    /// The document behind it, where it came from, and the rep's own choices.
    layout_in_force: layouts::LayoutInForce,
    last_recent_sync: Option<std::time::Instant>,
    /// Objects Salesforce told us this rep cannot read (left out of searches).
    hidden_objects: std::collections::BTreeSet<String>,
    /// Open opportunities and cases per (object, id), with when they were read.
    details_cache: std::collections::HashMap<(String, String), (std::time::Instant, crate::crm::matching::CallerDetails)>,
    /// The signed-in org's instance, for links to records (read from the session).
    instance_url: Option<String>,
    registration: crate::sip::registration::RegistrationState,
    /// Calls in progress by id, and what the phone knows of each beyond the SIP side.
    calls: std::collections::BTreeMap<u32, phone::CallExtra>,
    do_not_disturb: bool,
    voicemail: Option<crate::sip::mwi::Voicemail>,
    /// The ringtone, while a call rings here.
    ringer: Option<crate::audio::tones::Ringer>,
}

pub struct Engine {
    config: EngineConfig,
    keyring: Keyring,
    state: Mutex<State>,
    events: broadcast::Sender<Event>,
    salesforce: std::sync::Arc<crate::crm::Salesforce>,
    clock: std::sync::Arc<dyn Clock>,
    retry_policy: RetryPolicy,
    /// Rings the outbox worker when something is saved or comes due.
    outbox_wake: tokio::sync::Notify,
    /// Rings the layout follower (signed in, "Refresh" asked for).
    layout_wake: tokio::sync::Notify,
    /// The running registration, when the phone is set up.
    phone: tokio::sync::Mutex<Option<phone::Phone>>,
    /// The devices calls use: the remembered preferences, applied to live calls too.
    audio: std::sync::Arc<crate::audio::stream::AudioHub>,
    /// The Zoom account, once connected.
    zoom: crate::meetings::account::Client,
    webex: crate::meetings::account::Client,
}

impl Engine {
    pub fn start(config: EngineConfig) -> Engine {
        Engine::start_with(config, std::sync::Arc::new(SystemClock), RetryPolicy::default())
    }

    /// [`start`] with the time source and the outbox's retry timing given (tests).
    pub fn start_with(config: EngineConfig, clock: std::sync::Arc<dyn Clock>, retry_policy: RetryPolicy) -> Engine {
        let mut notices = Vec::new();
        let mut store = open_store(&config.data_dir, &mut notices);
        let settings = Settings::load(&mut store, &config.locale).unwrap_or_else(|e| {
            tracing::error!(%e, "settings unreadable; using defaults");
            notices.push(Notice::new(NoticeCode::StorageProblem, format!("Settings could not be read ({e}); defaults are used.")));
            default_settings(&config.locale)
        });
        let keyring = Keyring::new(config.keyring_service.clone());
        if let Err(e) = keyring.probe() {
            tracing::warn!(%e, "keyring unavailable");
            notices.push(Notice::new(NoticeCode::KeyringUnavailable, e.to_string()));
        }
        for n in &notices {
            tracing::warn!(code = ?n.code, message = %n.message, "start-up notice");
        }
        tracing::info!(version = env!("CARGO_PKG_VERSION"), data_dir = %config.data_dir.display(), "engine started");
        let (events, _) = broadcast::channel(EVENT_CAPACITY);
        // Building the HTTP client only fails when the TLS backend cannot start.
        let salesforce = std::sync::Arc::new(
            crate::crm::Salesforce::new(keyring.clone()).expect("the HTTP client starts"),
        );
        let zoom = crate::meetings::account::Client::new(
            crate::meetings::Provider::Zoom,
            reqwest::Client::builder().build().expect("the HTTP client starts"),
            keyring.clone(),
        );
        let webex = crate::meetings::account::Client::new(
            crate::meetings::Provider::Webex,
            reqwest::Client::builder().build().expect("the HTTP client starts"),
            keyring.clone(),
        );
        let audio = crate::audio::stream::AudioHub::new();
        audio.set_voice_processing(settings.voice_processing);
        for role in AudioRole::ALL {
            audio.set_preference(role, settings::device_preference(&mut store, role.settings_key()).ok().flatten());
        }
        let layout_in_force = layouts::LayoutInForce::load(&mut store);
        // An invitation email the last run was sending may have gone: never resent.
        if let Err(e) = store.meeting_emails().recover_interrupted(clock.now_ms()) {
            tracing::warn!(%e, "invitation emails not checked");
        }
        let layout = layout_in_force.doc.effective(&layout_in_force.overrides, crate::layout::CallType::Inbound);
        Engine {
            audio,
            config,
            keyring,
            state: Mutex::new(State {
                store,
                settings,
                notices,
                pending_dial: None,
                devices: None,
                layout,
                layout_in_force,
                last_recent_sync: None,
                hidden_objects: Default::default(),
                details_cache: Default::default(),
                instance_url: None,
                registration: crate::sip::registration::RegistrationState::Unregistered,
                calls: Default::default(),
                do_not_disturb: false,
                voicemail: None,
                ringer: None,
            }),
            events,
            salesforce,
            clock,
            retry_policy,
            outbox_wake: tokio::sync::Notify::new(),
            layout_wake: tokio::sync::Notify::new(),
            phone: tokio::sync::Mutex::new(None),
            zoom,
            webex,
        }
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.events.subscribe()
    }

    pub fn keyring(&self) -> &Keyring {
        &self.keyring
    }

    pub fn data_dir(&self) -> &Path {
        &self.config.data_dir
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock leaves plain data behind, still usable.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn emit(&self, event: Event) {
        tracing::debug!(?event, "event");
        // No subscriber is fine: the CLI often has none.
        let _ = self.events.send(event);
    }

    pub(crate) fn add_notice(&self, notice: Notice) {
        tracing::warn!(code = ?notice.code, message = %notice.message, "notice");
        {
            let mut state = self.lock();
            if state.notices.contains(&notice) {
                return;
            }
            state.notices.push(notice.clone());
        }
        self.emit(Event::Notice { notice });
    }

    pub fn status(&self) -> AppStatus {
        let state = self.lock();
        AppStatus {
            version: env!("CARGO_PKG_VERSION").to_string(),
            language: state.settings.language.resolve(&self.config.locale),
            settings: state.settings.clone(),
            notices: state.notices.clone(),
            registration: state.registration.clone(),
            calls: state.calls.values().map(|c| c.info.clone()).collect(),
            do_not_disturb: state.do_not_disturb,
            voicemail: state.voicemail,
            data_dir: self.config.data_dir.display().to_string(),
            log_file: self.config.log_dir.as_ref().map(|d| d.display().to_string()).unwrap_or_default(),
        }
    }

    pub fn settings(&self) -> Settings {
        self.lock().settings.clone()
    }

    pub fn change_setting(&self, change: &SettingChange) -> Result<AppStatus, AppError> {
        let settings = {
            let mut state = self.lock();
            let settings = settings::apply(&mut state.store, &self.config.locale, change)?;
            state.settings = settings.clone();
            settings
        };
        tracing::info!(?change, "setting changed");
        self.audio.set_voice_processing(settings.voice_processing);
        let language = settings.language.resolve(&self.config.locale);
        self.emit(Event::SettingsChanged { settings, language });
        Ok(self.status())
    }

    /// Lists the devices again and resolves every role against the remembered
    /// preferences. A remembered device that is missing raises a `DeviceFallback`
    /// notice (once per device); the result is also announced as `DevicesChanged`.
    pub fn refresh_devices(&self) -> AudioDevices {
        let list = audio::enumerate();
        self.apply_device_list(list)
    }

    /// The resolution half of [`refresh_devices`], for a list obtained elsewhere.
    pub fn apply_device_list(&self, list: DeviceList) -> AudioDevices {
        let devices = {
            let mut state = self.lock();
            let prefs: Vec<(AudioRole, Option<DevicePreference>)> = AudioRole::ALL
                .iter()
                .map(|&r| (r, settings::device_preference(&mut state.store, r.settings_key()).ok().flatten()))
                .collect();
            let devices = AudioDevices::new(list, |role| {
                prefs.iter().find(|(r, _)| *r == role).and_then(|(_, p)| p.clone())
            });
            state.devices = Some(devices.clone());
            devices
        };
        if let Some(problem) = &devices.problem {
            self.add_notice(Notice::new(NoticeCode::AudioProblem, problem.clone()));
        }
        for sel in devices.roles.iter().filter(|s| s.fallback) {
            let using = sel
                .active_id
                .as_deref()
                .and_then(|id| devices.device(id))
                .map(|d| format!("using \u{201c}{}\u{201d} instead", d.name))
                .unwrap_or_else(|| "no other device is available".into());
            self.add_notice(Notice::new(
                NoticeCode::DeviceFallback,
                format!(
                    "Your {} \u{201c}{}\u{201d} is not connected; {using}.",
                    sel.role.label(),
                    sel.preferred_name.as_deref().unwrap_or("?")
                ),
            ));
        }
        self.emit(Event::DevicesChanged { devices: devices.clone() });
        devices
    }

    /// "Test my audio": `seconds` from the microphone, with its level announced as
    /// `AudioCheckChanged`, then played back through the speaker. Not during a call:
    /// the devices are the call's.
    pub async fn test_audio(&self, seconds: u32) -> Result<crate::audio::check::AudioCheck, AppError> {
        if !self.lock().calls.is_empty() {
            return Err(AppError::new(ErrorCode::Audio, "Test your audio between calls: a call is using the devices now."));
        }
        let seconds = seconds.clamp(1, crate::audio::check::MAX_SECONDS);
        tracing::info!(seconds, "audio check");
        let audio = self.audio.call_audio();
        let mut last = crate::audio::check::AudioCheck::Playing;
        crate::audio::check::run(audio, seconds, |check| {
            last = check;
            self.emit(Event::AudioCheckChanged { check });
        })
        .await;
        Ok(last)
    }

    /// Remembers `device_id` (or the system default, for `None`) for `role`.
    pub fn select_audio_device(&self, role: AudioRole, device_id: Option<&str>) -> Result<AudioDevices, AppError> {
        self.select_audio_device_in(audio::enumerate(), role, device_id)
    }

    /// [`select_audio_device`] against a list obtained elsewhere.
    pub fn select_audio_device_in(
        &self,
        list: DeviceList,
        role: AudioRole,
        device_id: Option<&str>,
    ) -> Result<AudioDevices, AppError> {
        let pref = match device_id {
            None => None,
            Some(id) => {
                let pool = if role.is_input() { &list.inputs } else { &list.outputs };
                let device = pool.iter().find(|d| d.id == id).ok_or_else(|| {
                    AppError::new(
                        ErrorCode::Audio,
                        format!("The {} \u{201c}{id}\u{201d} is not connected any more; pick another one.", role.label()),
                    )
                })?;
                Some(DevicePreference { id: device.id.clone(), name: device.name.clone() })
            }
        };
        {
            let mut state = self.lock();
            settings::set_device_preference(&mut state.store, role.settings_key(), pref.as_ref())?;
        }
        tracing::info!(role = role.label(), device = ?pref.as_ref().map(|p| &p.name), "audio device selected");
        self.audio.set_preference(role, pref.clone());
        Ok(self.apply_device_list(list))
    }

    pub fn parse_dial_input(&self, input: &str) -> Result<DialTarget, AppError> {
        let region = self.lock().settings.default_region.clone();
        Ok(links::parse_dial_input(input, &region)?)
    }

    /// A link the OS handed us (`tel:`, `sip:`, `callto:`). The result is announced and
    /// kept until the UI takes it, so a link that started the app is not lost.
    pub fn open_link(&self, link: &str) -> Result<DialTarget, AppError> {
        match self.parse_dial_input(link) {
            Ok(target) => {
                tracing::info!(kind = ?std::mem::discriminant(&target), "dial link opened");
                self.lock().pending_dial = Some(target.clone());
                self.emit(Event::DialRequested { target: target.clone() });
                Ok(target)
            }
            Err(e) => {
                let shown: String = link.chars().filter(|c| !c.is_control()).take(120).collect();
                tracing::warn!(link = %shown, reason = %e.message, "link rejected");
                // The event is what the UI shows (once, on the Phone view); no notice too.
                self.emit(Event::LinkRejected { link: shown, reason: e.message.clone() });
                Err(e)
            }
        }
    }

    /// The first argument that is a dial link, as the OS passes one to the program
    /// (`ringside-desktop tel:+33…`); other arguments are ignored.
    pub fn open_link_from_args<S: AsRef<str>>(&self, args: &[S]) -> Option<Result<DialTarget, AppError>> {
        args.iter()
            .map(AsRef::as_ref)
            .find(|a| links::is_dial_link(a))
            .map(|link| self.open_link(link))
    }

    /// One line for the tray tooltip.
    pub fn summary(&self) -> String {
        let count = self.lock().notices.len();
        match count {
            0 => "Ringside — ready".to_string(),
            1 => "Ringside — 1 problem, open the window for details".to_string(),
            n => format!("Ringside — {n} problems, open the window for details"),
        }
    }

    pub fn take_pending_dial(&self) -> Option<DialTarget> {
        self.lock().pending_dial.take()
    }

    /// Writes the support bundle into `dest_dir` (default: `diagnostics/` in the data
    /// folder) and returns its path.
    pub fn write_diagnostics(&self, dest_dir: Option<&Path>) -> Result<PathBuf, AppError> {
        let (settings_rows, devices, notices) = {
            let mut state = self.lock();
            let rows = state.store.settings().all().unwrap_or_default();
            (rows, state.devices.clone(), state.notices.clone())
        };
        let devices = devices.unwrap_or_else(|| self.refresh_devices());
        let settings_map: serde_json::Map<String, serde_json::Value> = settings_rows
            .into_iter()
            .map(|(k, v)| (k, serde_json::from_str(&v).unwrap_or(serde_json::Value::String(v))))
            .collect();
        let contents = diagnostics::BundleContents {
            versions: format!(
                "ringside {}\nos {} {}\nschema {}\naudio host {}\nkeyring {}\nbundle written at unix time {}\n",
                env!("CARGO_PKG_VERSION"),
                std::env::consts::OS,
                std::env::consts::ARCH,
                crate::store::schema_version(),
                devices.host,
                match self.keyring.probe() { Ok(()) => "available".to_string(), Err(e) => e.to_string() },
                SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0),
            ),
            settings_json: pretty(&settings_map),
            devices_json: pretty(&devices),
            notices_json: pretty(&notices),
            log_dir: self.config.log_dir.clone(),
        };
        let dest = dest_dir.map(Path::to_path_buf).unwrap_or_else(|| self.config.data_dir.join("diagnostics"));
        let path = diagnostics::write_bundle(&dest, &contents).map_err(|e| {
            AppError::new(ErrorCode::Io, format!("The support bundle could not be written to {}: {e}", dest.display()))
        })?;
        tracing::info!(path = %path.display(), "support bundle written");
        Ok(path)
    }
}

fn pretty<T: Serialize>(v: &T) -> String {
    serde_json::to_string_pretty(v).unwrap_or_default()
}

fn default_settings(locale: &SystemLocale) -> Settings {
    Settings {
        language: Default::default(),
        default_region: locale.region.clone().unwrap_or_else(|| "US".into()),
        salesforce_login: "production".into(),
        salesforce_client_id: String::new(),
        salesforce_callback_port: 0,
        sip_user: String::new(),
        sip_domain: String::new(),
        sip_proxy: String::new(),
        sip_transport: "udp".into(),
        sip_tls_ca: String::new(),
        sip_srtp: Default::default(),
        voice_processing: true,
        jitsi_server: crate::meetings::jitsi::PUBLIC_SERVER.to_string(),
        zoom_client_id: String::new(),
        zoom_oauth_url: crate::settings::ZOOM_OAUTH_URL.to_string(),
        webex_client_id: String::new(),
        webex_url: crate::settings::WEBEX_URL.to_string(),
        meetings_callback_port: 0,
    }
}

/// Opens the database, turning each failure into a notice and a working store: a
/// damaged file is set aside (never deleted) and a fresh one started; a newer or
/// unwritable one leaves the app on a memory-only store.
fn open_store(data_dir: &Path, notices: &mut Vec<Notice>) -> Store {
    if let Err(e) = std::fs::create_dir_all(data_dir).and_then(|_| probe_writable(data_dir)) {
        notices.push(Notice::new(
            NoticeCode::DataDirReadOnly,
            format!("The data folder {} cannot be written ({e}). Check its permissions and free space.", data_dir.display()),
        ));
        return memory_store(notices);
    }
    let path = data_dir.join(DB_FILE);
    match Store::open(&path) {
        Ok(store) => store,
        Err(StoreError::Corrupt { reason, .. }) => {
            let stamp = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
            let aside = data_dir.join(format!("{DB_FILE}.damaged-{stamp}"));
            let moved = std::fs::rename(&path, &aside);
            for suffix in ["-wal", "-shm"] {
                let _ = std::fs::rename(data_dir.join(format!("{DB_FILE}{suffix}")), data_dir.join(format!("{DB_FILE}.damaged-{stamp}{suffix}")));
            }
            match moved.map_err(|e| StoreError::ReadOnly { path: path.clone(), reason: e.to_string() }).and_then(|_| Store::open(&path)) {
                Ok(store) => {
                    notices.push(Notice::new(
                        NoticeCode::StorageProblem,
                        format!("The database was damaged ({reason}). It was set aside as {} and a new one started; settings are back to their defaults.", aside.display()),
                    ));
                    store
                }
                Err(e) => {
                    notices.push(Notice::new(NoticeCode::StorageProblem, format!("The database is damaged and could not be replaced: {e}")));
                    memory_store(notices)
                }
            }
        }
        Err(e) => {
            notices.push(Notice::new(NoticeCode::StorageProblem, e.to_string()));
            memory_store(notices)
        }
    }
}

/// The fallback when no database file can be used: the app runs, and says that what
/// is changed now will not be kept.
fn memory_store(notices: &mut Vec<Notice>) -> Store {
    notices.push(Notice::new(NoticeCode::StorageProblem, "Changes made now will not be kept after Ringside closes."));
    // SQLite failing to open in memory means the process is out of memory.
    Store::in_memory().expect("an in-memory SQLite database opens")
}

fn probe_writable(dir: &Path) -> std::io::Result<()> {
    let probe = dir.join(".write-probe");
    std::fs::write(&probe, b"ok")?;
    std::fs::remove_file(probe)
}
