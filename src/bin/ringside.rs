//! `ringside`: the engine from a terminal, for scripting, support and tests.
//! Every command prints either readable text or, with `--json`, one JSON document.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use ringside::app::{logging, AppError, Engine, EngineConfig, ErrorCode};
use ringside::audio::{AudioDevices, AudioRole};
use ringside::calllog::{CallLogInput, CallType, HistoryEntry, HistoryQuery, RecordRef, SyncState};
use ringside::crm::phone;
use ringside::settings::SettingChange;
use serde::Serialize;

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
}

#[derive(Subcommand)]
enum SipAction {
    /// Read one SIP message (as captured from a PBX) and print what Ringside
    /// understands of it, or exactly why it refuses it (exit status 1).
    Parse {
        /// The message file (`-` for standard input).
        file: PathBuf,
    },
    /// Store the SIP password of the account in Settings (sipUser, sipDomain) in the
    /// OS keyring, read from standard input.
    Password,
    /// Register once with a registrar (UDP), print the state, unregister.
    Register {
        #[command(flatten)]
        account: SipAccountArgs,
    },
    /// Call a SIP URI through the proxy (UDP), send a test tone, hang up after
    /// --seconds, and print what happened (states, codec, RTP counts).
    Call {
        /// `sip:bob@example.com`
        target: String,
        #[command(flatten)]
        account: SipAccountArgs,
        #[arg(long, default_value_t = 5)]
        seconds: u64,
    },
}

#[derive(clap::Args)]
struct SipAccountArgs {
    /// SIP user (`alice` of alice@example.com).
    #[arg(long)]
    user: String,
    #[arg(long)]
    domain: String,
    /// The registrar or outbound proxy, `IP:port`.
    #[arg(long)]
    proxy: std::net::SocketAddr,
    /// Read the password from standard input; otherwise it is taken from the OS
    /// keyring item `sip:USER@DOMAIN`.
    #[arg(long)]
    password_stdin: bool,
}

impl SipAccountArgs {
    fn account(&self, engine: &Engine) -> Result<ringside::sip::registration::Account, AppError> {
        let password = if self.password_stdin {
            let mut line = String::new();
            std::io::stdin().read_line(&mut line)?;
            line.trim_end_matches(['\r', '\n']).to_string()
        } else {
            let item = format!("sip:{}@{}", self.user, self.domain);
            engine.keyring().get(&item)?.map(|s| s.expose().clone()).ok_or_else(|| {
                AppError::new(ErrorCode::Keyring, format!("No password for {item} in the keyring; pass --password-stdin."))
            })?
        };
        Ok(ringside::sip::registration::Account {
            user: self.user.clone(),
            auth_user: None,
            domain: self.domain.clone(),
            password: ringside::secrets::Sensitive::new(password),
            expires: 600,
        })
    }
}

#[derive(Subcommand)]
enum LogAction {
    /// Write a log and send it (the person is the number's match when there is one).
    Create {
        #[command(flatten)]
        fields: LogFields,
        /// Keep it as a draft: not sent until saved.
        #[arg(long)]
        draft: bool,
        /// Save only; the next `log sync` (or the app) sends it.
        #[arg(long)]
        no_sync: bool,
    },
    /// Change a log (only the options given); a saved log updates the same Task.
    Edit {
        id: i64,
        #[command(flatten)]
        fields: LogFields,
        #[arg(long)]
        no_sync: bool,
    },
    /// History, newest first.
    List {
        /// Words to find in the name, number, subject, notes or disposition.
        #[arg(long, default_value = "")]
        search: String,
        #[arg(long, default_value_t = 50)]
        limit: u32,
    },
    Show { id: i64 },
    /// Send every log that waits, now, and say what is left.
    Sync,
    /// Send a log that needs attention again.
    Retry { id: i64 },
}

#[derive(clap::Args)]
struct LogFields {
    #[arg(long)]
    number: Option<String>,
    /// inbound, outbound or internal
    #[arg(long = "type")]
    call_type: Option<String>,
    #[arg(long)]
    subject: Option<String>,
    #[arg(long)]
    notes: Option<String>,
    /// Read the notes from this file (`-` for standard input).
    #[arg(long, value_name = "FILE")]
    notes_file: Option<PathBuf>,
    #[arg(long)]
    disposition: Option<String>,
    /// Call length in seconds.
    #[arg(long)]
    duration: Option<u32>,
    /// Start, as unix seconds (default: now).
    #[arg(long)]
    started_at: Option<i64>,
    /// The Contact or Lead: `Contact:003…` (`none` removes it).
    #[arg(long)]
    who: Option<String>,
    /// The related record: `Opportunity:006…` (`none` removes it).
    #[arg(long)]
    what: Option<String>,
    /// An admin field: `Reason__c=Billing` (repeatable).
    #[arg(long = "field", value_name = "NAME=VALUE")]
    custom: Vec<String>,
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
    let engine = Engine::start(config);
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

fn run(cli: &Cli, engine: &Engine) -> Result<(), AppError> {
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
        Command::Log { action } => run_log(action, engine, &runtime, &out)?,
        Command::Sip { action: SipAction::Parse { file } } => sip_parse(file, &out)?,
        Command::Sip { action: SipAction::Password } => {
            let mut line = String::new();
            std::io::stdin().read_line(&mut line)?;
            engine.set_sip_password(line.trim_end_matches(['\r', '\n']))?;
            let s = engine.settings();
            let item = ringside::app::phone::password_item(&s.sip_user, &s.sip_domain);
            out.print(&serde_json::json!({ "stored": item }), || format!("The password of {item} is in the keyring."));
        }
        Command::Sip { action: SipAction::Register { account } } => {
            let acc = account.account(engine)?;
            let proxy = account.proxy;
            let state = runtime.block_on(async {
                let clock: std::sync::Arc<dyn ringside::clock::Clock> = std::sync::Arc::new(ringside::clock::SystemClock);
                let mut reg = ringside::sip::udp::register(acc, proxy, clock).await?;
                let state = reg
                    .wait_for(std::time::Duration::from_secs(40), |s| {
                        !matches!(s, ringside::sip::registration::RegistrationState::Registering | ringside::sip::registration::RegistrationState::Unregistered)
                    })
                    .await;
                reg.stop().await;
                Ok::<_, std::io::Error>(state)
            })?;
            out.print(&state, || format!("{state:?}"));
        }
        Command::Sip { action: SipAction::Call { target, account, seconds } } => {
            let acc = account.account(engine)?;
            let proxy = account.proxy;
            let clock: std::sync::Arc<dyn ringside::clock::Clock> = std::sync::Arc::new(ringside::clock::SystemClock);
            let talk = std::time::Duration::from_secs(*seconds);
            let report = runtime.block_on(ringside::sip::udp::call(acc, proxy, target.clone(), talk, talk + std::time::Duration::from_secs(60), clock))?;
            out.print(&report, || {
                let states: Vec<String> = report.states.iter().map(|s| format!("{s:?}")).collect();
                format!(
                    "{}\ncodec {}; RTP sent {}, received {}",
                    states.join(" → "),
                    report.negotiated.as_ref().map(|n| n.codec.as_str()).unwrap_or("none"),
                    report.rtp_sent,
                    report.rtp_received
                )
            });
        }
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

fn run_log(action: &LogAction, engine: &Engine, runtime: &tokio::runtime::Runtime, out: &Printer) -> Result<(), AppError> {
    match action {
        LogAction::Create { fields, draft, no_sync } => {
            let number = fields.number.clone().ok_or_else(|| AppError::new(ErrorCode::InvalidInput, "Give the call's number with --number."))?;
            let call_type = match &fields.call_type {
                Some(t) => parse_call_type(t)?,
                None => CallType::Outbound,
            };
            // The person is the number's only match, when Salesforce (or the index) knows it.
            let matched = if fields.who.is_none() { runtime.block_on(engine.match_number(&number)).ok() } else { None };
            let only = matched.as_ref().filter(|m| m.records.len() == 1).map(|m| &m.records[0]);
            let mut input = engine.new_call_log(&number, call_type, only);
            apply_fields(&mut input, fields)?;
            let outcome = engine.save_call_log(None, &input, !draft)?;
            finish_save(engine, runtime, out, outcome, *no_sync || *draft)?;
        }
        LogAction::Edit { id, fields, no_sync } => {
            let mut input = runtime.block_on(engine.call_log(*id))?.log.content;
            apply_fields(&mut input, fields)?;
            let outcome = engine.save_call_log(Some(*id), &input, true)?;
            finish_save(engine, runtime, out, outcome, *no_sync)?;
        }
        LogAction::List { search, limit } => {
            let query = HistoryQuery { text: search.clone(), limit: Some(*limit), ..HistoryQuery::default() };
            let entries = runtime.block_on(engine.history(&query))?;
            out.print(&entries, || entries.iter().map(entry_line).collect::<Vec<_>>().join("\n"));
        }
        LogAction::Show { id } => {
            let entry = runtime.block_on(engine.call_log(*id))?;
            out.print(&entry, || entry_text(&entry));
        }
        LogAction::Sync => {
            let report = runtime.block_on(engine.drain_outbox(true));
            let summary = engine.outbox_summary()?;
            out.print(&serde_json::json!({ "report": report, "summary": summary }), || {
                format!(
                    "Sent: {} new, {} updated, {} found already in Salesforce ({} requests).\nWaiting: {}; needing attention: {}; drafts: {}.",
                    report.inserted, report.updated, report.adopted, report.requests, summary.pending, summary.attention, summary.drafts
                )
            });
        }
        LogAction::Retry { id } => {
            engine.retry_call_log(*id)?;
            runtime.block_on(engine.drain_outbox(false));
            let entry = runtime.block_on(engine.call_log(*id))?;
            out.print(&entry, || entry_text(&entry));
        }
    }
    Ok(())
}

fn sip_parse(file: &std::path::Path, out: &Printer) -> Result<(), AppError> {
    let bytes = if file.as_os_str() == "-" {
        let mut buf = Vec::new();
        std::io::Read::read_to_end(&mut std::io::stdin(), &mut buf)?;
        buf
    } else {
        std::fs::read(file).map_err(|e| AppError::new(ErrorCode::Io, format!("{}: {e}", file.display())))?
    };
    match ringside::sip::parse_datagram(&bytes) {
        Ok(m) => {
            out.print(&serde_json::json!({ "message": m, "bodyBytes": m.body.len() }), || sip_text(&m));
            Ok(())
        }
        Err(ringside::sip::ParseError::Malformed { reason, status, fatal_for_stream }) => {
            let answer = match status {
                Some(code) => format!("a user agent answers {code}"),
                None => "a response like this is dropped".into(),
            };
            let stream = if fatal_for_stream { "; on TCP/TLS the connection is closed" } else { "" };
            if out.json {
                println!("{}", serde_json::json!({ "error": { "code": "invalidInput", "message": reason, "status": status, "closesStream": fatal_for_stream } }));
                std::process::exit(1);
            }
            Err(AppError::new(ErrorCode::InvalidInput, format!("refused: {reason} ({answer}{stream})")))
        }
        Err(e) => Err(AppError::new(ErrorCode::InvalidInput, e.to_string())),
    }
}

fn sip_text(m: &ringside::sip::Message) -> String {
    let mut s = match &m.start {
        ringside::sip::StartLine::Request { method, uri } => format!("request {method} {uri}\n"),
        ringside::sip::StartLine::Response { code, reason } => format!("response {code} {reason}\n"),
    };
    s.push_str(&format!("call-id  {}\ncseq     {} {}\n", m.call_id, m.cseq.seq, m.cseq.method));
    s.push_str(&format!("from     {}{}\n", m.from.uri, m.from.tag().map(|t| format!(" (tag {t})")).unwrap_or_default()));
    s.push_str(&format!("to       {}{}\n", m.to.uri, m.to.tag().map(|t| format!(" (tag {t})")).unwrap_or_default()));
    for v in &m.via {
        s.push_str(&format!(
            "via      {} {}{} branch {}\n",
            v.transport,
            v.host,
            v.port.map(|p| format!(":{p}")).unwrap_or_default(),
            v.branch().unwrap_or("(none: RFC 2543 peer)")
        ));
    }
    for c in &m.contact {
        match c {
            ringside::sip::Contact::Addr(a) => s.push_str(&format!("contact  {}\n", a.uri)),
            ringside::sip::Contact::Star(_) => s.push_str("contact  * (all bindings)\n"),
        }
    }
    if let Some(mf) = m.max_forwards {
        s.push_str(&format!("max-fwd  {mf}\n"));
    }
    s.push_str(&format!("headers  {}\nbody     {} bytes{}", m.headers.len(), m.body.len(), m.content_type.as_deref().map(|t| format!(" ({t})")).unwrap_or_default()));
    s
}

fn finish_save(
    engine: &Engine,
    runtime: &tokio::runtime::Runtime,
    out: &Printer,
    outcome: ringside::app::SaveOutcome,
    no_sync: bool,
) -> Result<(), AppError> {
    let id = outcome.entry.log.id;
    let entry = if no_sync || !outcome.problems.is_empty() {
        outcome.entry
    } else {
        runtime.block_on(engine.drain_outbox(false));
        runtime.block_on(engine.call_log(id))?
    };
    out.print(&serde_json::json!({ "entry": entry, "problems": outcome.problems }), || {
        let mut s = entry_text(&entry);
        for p in &outcome.problems {
            s.push_str(&format!("\n{}: {}", p.field, p.message));
        }
        s
    });
    if outcome.problems.is_empty() {
        Ok(())
    } else {
        Err(AppError::new(ErrorCode::InvalidInput, format!("Log {id} kept as a draft: fix the fields above and run `ringside log edit {id}`.")))
    }
}

fn parse_call_type(t: &str) -> Result<CallType, AppError> {
    CallType::parse(t).ok_or_else(|| AppError::new(ErrorCode::InvalidInput, format!("\u{201c}{t}\u{201d}: the call type is inbound, outbound or internal.")))
}

fn parse_ref(value: &str) -> Result<Option<RecordRef>, AppError> {
    if value.eq_ignore_ascii_case("none") {
        return Ok(None);
    }
    let (object, id) = value
        .split_once(':')
        .ok_or_else(|| AppError::new(ErrorCode::InvalidInput, format!("\u{201c}{value}\u{201d}: write OBJECT:ID, e.g. Contact:003…")))?;
    Ok(Some(RecordRef { object: object.to_string(), id: id.to_string(), name: id.to_string() }))
}

fn apply_fields(input: &mut CallLogInput, f: &LogFields) -> Result<(), AppError> {
    if let Some(n) = &f.number {
        input.number = n.clone();
    }
    if let Some(t) = &f.call_type {
        input.call_type = parse_call_type(t)?;
    }
    if let Some(s) = &f.subject {
        input.subject = s.clone();
    }
    if let Some(n) = &f.notes {
        input.notes = n.clone();
    }
    if let Some(path) = &f.notes_file {
        input.notes = if path.as_os_str() == "-" {
            std::io::read_to_string(std::io::stdin())?
        } else {
            std::fs::read_to_string(path).map_err(|e| AppError::new(ErrorCode::Io, format!("{}: {e}", path.display())))?
        };
    }
    if let Some(d) = &f.disposition {
        input.disposition = Some(d.clone()).filter(|d| !d.is_empty());
    }
    if let Some(d) = f.duration {
        input.duration_secs = d;
    }
    if let Some(t) = f.started_at {
        input.started_at = t;
    }
    if let Some(w) = &f.who {
        input.who = parse_ref(w)?;
    }
    if let Some(w) = &f.what {
        input.what = parse_ref(w)?;
    }
    for kv in &f.custom {
        let (k, v) = kv
            .split_once('=')
            .ok_or_else(|| AppError::new(ErrorCode::InvalidInput, format!("\u{201c}{kv}\u{201d}: write NAME=VALUE")))?;
        input.custom.insert(k.to_string(), v.to_string());
    }
    Ok(())
}

fn sync_text(sync: &SyncState) -> String {
    match sync {
        SyncState::Draft { problems } if problems.is_empty() => "draft".into(),
        SyncState::Draft { problems } => format!("draft ({} to fix)", problems.len()),
        SyncState::Pending { reason: None, .. } => "waiting to be sent".into(),
        SyncState::Pending { reason: Some(r), attempts, .. } => format!("waiting ({attempts} tries): {r}"),
        SyncState::Synced { task_id, .. } => format!("in Salesforce as Task {task_id}"),
        SyncState::Attention { reason, .. } => format!("needs attention: {reason}"),
    }
}

fn entry_line(e: &HistoryEntry) -> String {
    let c = &e.log.content;
    let who = c.who.as_ref().map(|w| w.name.as_str()).unwrap_or(c.number.as_str());
    format!("{:>5}  {}  {:<8} {:<24} {}  [{}]", e.log.id, c.started_at, c.call_type.as_str(), who, c.subject, sync_text(&e.sync))
}

fn entry_text(e: &HistoryEntry) -> String {
    let c = &e.log.content;
    let mut s = format!("Log {} (call {})\n", e.log.id, e.log.call_id);
    s.push_str(&format!("  number       {}\n  type         {}\n  subject      {}\n", c.number, c.call_type.as_str(), c.subject));
    if let Some(w) = &c.who {
        s.push_str(&format!("  person       {} {} ({})\n", w.object, w.name, w.id));
    }
    if let Some(w) = &c.what {
        s.push_str(&format!("  related to   {} {} ({})\n", w.object, w.name, w.id));
    }
    s.push_str(&format!("  disposition  {}\n  duration     {} s\n", c.disposition.as_deref().unwrap_or("-"), c.duration_secs));
    s.push_str(&format!("  state        {}", sync_text(&e.sync)));
    s
}

struct Printer {
    json: bool,
}

impl Printer {
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

