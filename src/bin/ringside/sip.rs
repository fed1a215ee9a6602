//! `ringside sip …`: SIP tools — read a captured message, store the account's
//! password, register once, place a test call.

use std::path::PathBuf;

use clap::Subcommand;
use ringside::app::{AppError, Engine, ErrorCode};

use super::Printer;

#[derive(Subcommand)]
pub(super) enum SipAction {
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
pub(super) struct SipAccountArgs {
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

pub(super) fn run(action: &SipAction, engine: &Engine, runtime: &tokio::runtime::Runtime, out: &Printer) -> Result<(), AppError> {
    match action {
        SipAction::Parse { file } => parse(file, out)?,
        SipAction::Password => {
            let mut line = String::new();
            std::io::stdin().read_line(&mut line)?;
            engine.set_sip_password(line.trim_end_matches(['\r', '\n']))?;
            let s = engine.settings();
            let item = ringside::app::phone::password_item(&s.sip_user, &s.sip_domain);
            out.print(&serde_json::json!({ "stored": item }), || format!("The password of {item} is in the keyring."));
        }
        SipAction::Register { account } => {
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
        SipAction::Call { target, account, seconds } => {
            let acc = account.account(engine)?;
            let proxy = account.proxy;
            let clock: std::sync::Arc<dyn ringside::clock::Clock> = std::sync::Arc::new(ringside::clock::SystemClock);
            let talk = std::time::Duration::from_secs(*seconds);
            let report = runtime.block_on(ringside::sip::udp::call(acc, proxy, target.clone(), talk, talk + std::time::Duration::from_secs(60), clock))?;
            out.print(&report, || {
                let states: Vec<String> = report.states.iter().map(|s| format!("{s:?}")).collect();
                let call = report.call.as_ref();
                format!(
                    "{}\ncodec {}; RTP sent {}, received {}",
                    states.join(" → "),
                    call.and_then(|c| c.codec.as_deref()).unwrap_or("none"),
                    call.map_or(0, |c| c.media.sent),
                    call.map_or(0, |c| c.media.received)
                )
            });
        }
    }
    Ok(())
}

fn parse(file: &std::path::Path, out: &Printer) -> Result<(), AppError> {
    let bytes = if file.as_os_str() == "-" {
        let mut buf = Vec::new();
        std::io::Read::read_to_end(&mut std::io::stdin(), &mut buf)?;
        buf
    } else {
        std::fs::read(file).map_err(|e| AppError::new(ErrorCode::Io, format!("{}: {e}", file.display())))?
    };
    match ringside::sip::parse_datagram(&bytes) {
        Ok(m) => {
            out.print(&serde_json::json!({ "message": m, "bodyBytes": m.body.len() }), || text(&m));
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

fn text(m: &ringside::sip::Message) -> String {
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

