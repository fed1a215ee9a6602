//! `ringside`: the engine from a terminal, for scripting, support and tests.
//! Every command prints either readable text or, with `--json`, one JSON document.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use ringside::app::{logging, AppError, Engine, EngineConfig, ErrorCode};
use ringside::audio::{AudioDevices, AudioRole};
use ringside::crm::phone;
use ringside::settings::SettingChange;
use serde::Serialize;

#[path = "ringside/calls.rs"]
mod calls;
#[path = "ringside/layout.rs"]
mod layout;
#[path = "ringside/log.rs"]
mod log;
#[path = "ringside/meeting.rs"]
mod meeting;
#[path = "ringside/sip.rs"]
mod sip;

use layout::LayoutAction;
use log::LogAction;
use meeting::MeetingAction;
use sip::SipAction;

#[derive(Parser)]
#[command(name = "ringside", version, about = "Ringside softphone engine, from the command line")]
struct Cli {
    /// Print JSON instead of text.
    #[arg(long, global = true)]
    json: bool,
    /// Use this data folder instead of the platform's (also: RINGSIDE_DATA_DIR).
    #[arg(long, global = true, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// List audio devices and the device used for each role.
    Devices {
        #[command(subcommand)]
        action: Option<DevicesAction>,
    },
    /// Read or change settings.
    Settings {
        #[command(subcommand)]
        action: SettingsAction,
    },
    /// Show how a phone number is understood.
    Number {
        input: String,
        /// Region for numbers without a country code (default: the rep's setting).
        #[arg(long)]
        region: Option<String>,
    },
    /// Show what a tel:, sip: or callto: link would dial.
    Link { link: String },
    /// Who is this number? Local index first, then Salesforce.
    Match { number: String },
    /// Create a Lead or Contact for a caller Salesforce does not know.
    CreateRecord {
        /// lead or contact
        object: String,
        #[arg(long)]
        number: String,
        #[arg(long)]
        last_name: String,
        #[arg(long)]
        company: Option<String>,
    },
    /// Connect to Salesforce, sign out, or show the connection.
    Salesforce {
        #[command(subcommand)]
        action: SalesforceAction,
    },
    /// Call logs: write one, edit it, list History, push what waits to Salesforce.
    Log {
        #[command(subcommand)]
        action: LogAction,
    },
    /// The admin layout: validate a file, publish it, pull what is published.
    Layout {
        #[command(subcommand)]
        action: LayoutAction,
    },
    /// Meetings with a person: start one, list them, record their Events.
    Meeting {
        #[command(subcommand)]
        action: MeetingAction,
    },
    /// Meetings by status and by host, calls by disposition with talk time, for a
    /// date range; --csv prints (or --out writes) one table as CSV.
    Report {
        /// First day, YYYY-MM-DD in this computer's time zone (default: 30 days ago).
        #[arg(long)]
        from: Option<String>,
        /// Last day, inclusive (default: today).
        #[arg(long)]
        to: Option<String>,
        /// meetings-by-status, meetings-by-host or calls-by-disposition.
        #[arg(long, value_name = "TABLE")]
        csv: Option<String>,
        #[arg(long, value_name = "FILE", requires = "csv")]
        out: Option<std::path::PathBuf>,
    },
    /// Call a number, extension or SIP address with the account in Settings → Phone;
    /// prints each change; hangs up after --seconds of talk (or on Ctrl-C).
    Call {
        target: String,
        #[arg(long)]
        seconds: Option<u64>,
    },
    /// Register, wait for a call, answer it (or --decline), print each change; hang
    /// up after --seconds of talk, or when the caller does.
    Answer {
        /// Seconds to wait for a call.
        #[arg(long, default_value_t = 60)]
        wait: u64,
        #[arg(long)]
        seconds: Option<u64>,
        #[arg(long)]
        decline: bool,
    },
    /// SIP tools for support engineers.
    Sip {
        #[command(subcommand)]
        action: SipAction,
    },
    /// Write a support bundle (logs, versions, settings — never secrets).
    Diagnostics {
        /// Folder to write the bundle into (default: the data folder's diagnostics/).
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
    },
    /// Check that the OS keyring answers; with --write, that it also stores a value
    /// (a locked keyring answers look-ups but refuses writes).
    Keyring {
        #[arg(long)]
        write: bool,
    },
}

#[derive(Subcommand)]
enum DevicesAction {
    /// List devices (the default).
    List,
    /// Remember a device for a role: `microphone`, `speaker` or `ringer`; `default`
    /// follows the system default.
    Select { role: AudioRole, device: String },
    /// Test my audio: record from the microphone, showing its level, then play it back.
    Test {
        #[arg(long, default_value_t = 3)]
        seconds: u32,
    },
}

#[derive(Subcommand)]
enum SalesforceAction {
    /// Sign in: prints the address to open in a browser and waits for the answer.
    Login,
    /// Revoke the tokens and forget them.
    Logout,
    /// Show who is signed in and the org's API usage.
    Status,
}

#[derive(Subcommand)]
enum SettingsAction {
    /// Print one setting, or all of them.
    Get { key: Option<String> },
    /// Change a setting: `language` (system|en|fr|ja) or `defaultRegion` (FR, JP, US…).
    Set { key: String, value: String },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let data_dir = cli.data_dir.clone().unwrap_or_else(EngineConfig::default_data_dir);
    let config = EngineConfig::for_data_dir(data_dir);
    let (_log, _) = logging::init(config.log_dir.as_deref(), false);
    let engine = std::sync::Arc::new(Engine::start(config));
    match run(&cli, &engine) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            if cli.json {
                println!("{}", serde_json::json!({ "error": e }));
            } else {
                eprintln!("ringside: {}", e.message);
            }
            ExitCode::FAILURE
        }
    }
}

fn run(cli: &Cli, engine: &std::sync::Arc<Engine>) -> Result<(), AppError> {
    let out = Printer { json: cli.json };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| AppError::new(ErrorCode::Internal, format!("cannot start the async runtime: {e}")))?;
    match &cli.command {
        Command::Match { number } => {
            let m = runtime.block_on(engine.match_number(number))?;
            out.print(&m, || match_text(&m));
        }
        Command::CreateRecord { object, number, last_name, company } => {
            let object = match object.to_ascii_lowercase().as_str() {
                "lead" => "Lead",
                "contact" => "Contact",
                other => return Err(AppError::new(ErrorCode::InvalidInput, format!("\u{201c}{other}\u{201d}: create a lead or a contact"))),
            };
            let record = runtime.block_on(engine.create_caller_record(object, number, last_name, company.as_deref()))?;
            out.print(&record, || format!("Created {} {} ({})", record.object, record.name, record.id));
        }
        Command::Salesforce { action: SalesforceAction::Login } => {
            let json = cli.json;
            let connection = runtime.block_on(engine.sign_in_to_salesforce(|url| {
                if json {
                    println!("{}", serde_json::json!({ "open": url }));
                } else {
                    println!("Open this address in your browser to sign in to Salesforce:\n{url}");
                }
            }))?;
            let owned = runtime.block_on(engine.prefill_owned_records()).unwrap_or_else(|e| {
                eprintln!("ringside: your records were not indexed yet ({})", e.message);
                0
            });
            out.print(&connection, || {
                format!("Connected to {} as user {} ({owned} of your records indexed)", connection.instance_url, connection.user_id)
            });
        }
        Command::Salesforce { action: SalesforceAction::Logout } => {
            runtime.block_on(engine.sign_out_of_salesforce())?;
            out.print(&serde_json::json!({ "signedOut": true }), || "Signed out of Salesforce.".into());
        }
        Command::Salesforce { action: SalesforceAction::Status } => {
            let status = runtime.block_on(engine.salesforce_status());
            out.print(&status, || match &status.connection {
                Some(c) => format!("Connected to {} as user {} (org {})", c.instance_url, c.user_id, c.org_id),
                None => format!("Not connected (login: {}{})", status.login, if status.client_id_set { "" } else { "; no consumer key set" }),
            });
        }
        Command::Devices { action: None | Some(DevicesAction::List) } => {
            let devices = engine.refresh_devices();
            out.print(&devices, || devices_text(&devices));
        }
        Command::Devices { action: Some(DevicesAction::Test { seconds }) } => {
            let mut events = engine.subscribe();
            let printer = runtime.spawn(async move {
                while let Ok(event) = events.recv().await {
                    if let ringside::app::Event::AudioCheckChanged { check } = event {
                        match check {
                            ringside::audio::check::AudioCheck::Recording { level, .. } => eprintln!("recording  {:<20} {level}", "#".repeat(usize::from(level) / 5)),
                            ringside::audio::check::AudioCheck::Playing => eprintln!("playing back…"),
                            ringside::audio::check::AudioCheck::Done { .. } => break,
                        }
                    }
                }
            });
            let done = runtime.block_on(engine.test_audio(*seconds))?;
            let _ = runtime.block_on(printer);
            let heard = matches!(done, ringside::audio::check::AudioCheck::Done { peak } if peak >= 2);
            out.print(&done, || if heard { "The microphone works: you heard yourself played back.".to_string() } else { "The microphone gave no sound: check that it is plugged in, not muted, and chosen in Settings → Audio.".to_string() });
        }
        Command::Devices { action: Some(DevicesAction::Select { role, device }) } => {
            let id = (device != "default").then_some(device.as_str());
            let devices = engine.select_audio_device(*role, id)?;
            out.print(&devices, || devices_text(&devices));
        }
        Command::Settings { action: SettingsAction::Get { key } } => {
            let value = serde_json::to_value(engine.settings()).unwrap_or_default();
            let shown = match key {
                None => value,
                Some(k) => value.get(k).cloned().ok_or_else(|| {
                    AppError::new(ErrorCode::InvalidInput, format!("Unknown setting \"{k}\". Known settings: language, defaultRegion."))
                })?,
            };
            out.print(&shown, || match &shown {
                serde_json::Value::Object(map) => map.iter().map(|(k, v)| format!("{k} = {}", plain(v))).collect::<Vec<_>>().join("\n"),
                other => plain(other),
            });
        }
        Command::Settings { action: SettingsAction::Set { key, value } } => {
            let change = SettingChange::from_key_value(key, value)?;
            let status = engine.change_setting(&change)?;
            out.print(&status.settings, || format!("{key} = {value}"));
        }
        Command::Number { input, region } => {
            let region = region.clone().unwrap_or_else(|| engine.settings().default_region);
            let info = phone::normalise(input, &region)?;
            out.print(&info, || {
                format!(
                    "E.164      {}\nformatted  {}\nextension  {}\nregion     {}\ntype       {:?}",
                    info.e164,
                    info.international,
                    info.extension.as_deref().unwrap_or("-"),
                    info.region.as_deref().unwrap_or("-"),
                    info.kind
                )
            });
        }
        Command::Link { link } => {
            let target = engine.parse_dial_input(link)?;
            out.print(&target, || format!("{target:?}"));
        }
        Command::Log { action } => log::run(action, engine, &runtime, &out)?,
        Command::Sip { action } => sip::run(action, engine, &runtime, &out)?,
        Command::Meeting { action } => meeting::run(action, engine, &runtime, &out)?,
        Command::Report { from, to, csv, out: file } => meeting::report(engine, from, to, csv.as_deref(), file.as_deref(), &out)?,
        Command::Layout { action } => layout::run(action, engine, &runtime, &out)?,
        Command::Call { target, seconds } => runtime.block_on(calls::call(engine, target, *seconds, &out))?,
        Command::Answer { wait, seconds, decline } => runtime.block_on(calls::answer(engine, *wait, *seconds, *decline, &out))?,
        Command::Diagnostics { out: dir } => {
            let path = engine.write_diagnostics(dir.as_deref())?;
            out.print(&serde_json::json!({ "bundle": path }), || format!("Support bundle written to {}", path.display()));
        }
        Command::Keyring { write } => {
            engine.keyring().probe()?;
            if *write {
                engine.keyring().check_write()?;
            }
            out.print(&serde_json::json!({ "keyring": "available", "service": engine.keyring().service() }), || {
                "The system keyring is available.".into()
            });
        }
    }
    Ok(())
}

struct Printer {
    json: bool,
}

impl Printer {
    /// One line per value: compact JSON with --json (a stream a script can read).
    fn line<T: Serialize>(&self, value: &T, text: impl FnOnce() -> String) {
        if self.json {
            println!("{}", serde_json::to_string(value).unwrap_or_default());
        } else {
            println!("{}", text());
        }
    }

    fn print<T: Serialize>(&self, value: &T, text: impl FnOnce() -> String) {
        if self.json {
            println!("{}", serde_json::to_string_pretty(value).unwrap_or_default());
        } else {
            println!("{}", text());
        }
    }
}

fn match_text(m: &ringside::crm::matching::CallerMatch) -> String {
    let mut s = match &m.number {
        Some(n) => format!("{} ({})", n.international, n.e164),
        None => m.dialled.clone(),
    };
    if m.internal {
        s.push_str("\ninternal call: not searched");
        return s;
    }
    if m.records.is_empty() {
        s.push_str("\nno match");
    }
    for r in &m.records {
        s.push_str(&format!("\n{} {} ({}) via {}", r.object, r.name, r.id, r.matched_field));
        for f in &r.fields {
            s.push_str(&format!("\n    {}: {}", f.field, f.value));
        }
    }
    if let Some(p) = &m.problem {
        s.push_str(&format!("\nnote: {p}"));
    }
    s
}

fn plain(v: &serde_json::Value) -> String {
    v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string())
}

fn devices_text(d: &AudioDevices) -> String {
    let mut s = format!("Audio host: {}\n", d.host);
    for (title, list) in [("Microphones", &d.inputs), ("Speakers", &d.outputs)] {
        s.push_str(&format!("{title}:\n"));
        if list.is_empty() {
            s.push_str("  (none)\n");
        }
        for dev in list {
            s.push_str(&format!("  {}{}\n      id: {}\n", dev.name, if dev.is_default { "  (default)" } else { "" }, dev.id));
        }
    }
    for sel in &d.roles {
        let active = sel.active_id.as_deref().and_then(|id| d.device(id)).map(|x| x.name.as_str()).unwrap_or("none");
        let note = if sel.fallback {
            format!("  (preferred \u{201c}{}\u{201d} is not connected)", sel.preferred_name.as_deref().unwrap_or("?"))
        } else {
            String::new()
        };
        s.push_str(&format!("{:<11} {active}{note}\n", format!("{}:", sel.role.label())));
    }
    if let Some(p) = &d.problem {
        s.push_str(&format!("Problem: {p}\n"));
    }
    s.trim_end().to_string()
}

