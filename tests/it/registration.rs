//! SIP registration against a real Kamailio (the testbed's registrar, Debian package),
//! started by `tests/testbed/kamailio/start` on free ports of 127.0.0.1. Skips with a
//! message when Kamailio is not installed (`make test` installs it).

use std::net::{SocketAddr, UdpSocket};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use ringside::clock::SystemClock;
use ringside::secrets::Sensitive;
use ringside::sip::registration::{Account, RegistrationState};

/// A testbed program (Kamailio, baresip) that is stopped when the test ends.
pub(crate) struct Daemon {
    child: Child,
    _dir: tempfile::TempDir,
    /// Where the program writes its traces (SIPp: `*_errors.log`, `*_messages.log`).
    work: std::path::PathBuf,
}

impl Daemon {
    pub(crate) fn new(child: Child, dir: tempfile::TempDir) -> Daemon {
        let work = dir.path().to_path_buf();
        Daemon { child, _dir: dir, work }
    }

    pub(crate) fn in_folder(child: Child, dir: tempfile::TempDir, work: std::path::PathBuf) -> Daemon {
        Daemon { child, _dir: dir, work }
    }

    /// Panics with `what`, the exit status and the program's own traces unless it ends by
    /// itself with status 0 within `timeout`: a failing scenario explains itself in CI.
    pub(crate) fn assert_passed(&mut self, timeout: Duration, what: &str) {
        let status = self.wait_for_exit(timeout);
        if status == Some(0) {
            return;
        }
        let mut traces = String::new();
        if let Ok(entries) = std::fs::read_dir(&self.work) {
            for entry in entries.flatten() {
                let name = entry.file_name().to_string_lossy().into_owned();
                if name.ends_with("_errors.log") || name.ends_with("_messages.log") {
                    let text = std::fs::read_to_string(entry.path()).unwrap_or_default();
                    let tail: String = text.chars().rev().take(6000).collect::<Vec<_>>().into_iter().rev().collect();
                    traces.push_str(&format!("\n--- {name} (last 6000 characters)\n{tail}"));
                }
            }
        }
        panic!("{what}: exit status {status:?}{traces}");
    }

    /// The exit status, if the program ends by itself within `timeout`.
    pub(crate) fn wait_for_exit(&mut self, timeout: Duration) -> Option<i32> {
        let deadline = std::time::Instant::now() + timeout;
        while std::time::Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status.code();
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        // SIGTERM lets a main process stop its children; SIGKILL would leave them.
        if let Ok(None) = self.child.try_wait() {
            let _ = Command::new("kill").arg("-TERM").arg(self.child.id().to_string()).stderr(Stdio::null()).status();
        }
        let _ = self.child.wait();
    }
}

pub(crate) struct Kamailio {
    _daemon: Daemon,
    pub addr: SocketAddr,
    pub tcp: SocketAddr,
    /// With `TESTBED_TLS_PORT`: the TLS listener and the CA that signed its certificate.
    pub tls: Option<(SocketAddr, std::path::PathBuf)>,
}

fn free_udp_port() -> u16 {
    UdpSocket::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

pub(crate) fn free_tcp_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Starts Kamailio and waits until it answers an OPTIONS keepalive.
pub(crate) fn kamailio(env: &[(&str, &str)]) -> Option<Kamailio> {
    if Command::new("kamailio").arg("-v").stdout(Stdio::null()).status().is_err() {
        eprintln!("skipped: kamailio is not installed");
        return None;
    }
    let dir = tempfile::tempdir().unwrap();
    let udp = free_udp_port();
    let tcp = free_tcp_port();
    let mut cmd = Command::new(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/testbed/kamailio/start"));
    cmd.arg(udp.to_string()).arg(tcp.to_string()).env("TESTBED_DIR", dir.path());
    for (k, v) in env {
        cmd.env(k, v);
    }
    // Kamailio's log goes to the system temp folder, named by port, for a failing test to point at.
    let log = std::fs::File::create(std::env::temp_dir().join(format!("ringside-kamailio-{udp}.log"))).unwrap();
    let child = cmd.stdout(Stdio::null()).stderr(log).spawn().expect("the testbed script runs");
    let addr: SocketAddr = format!("127.0.0.1:{udp}").parse().unwrap();
    let tls = env.iter().find(|(k, _)| *k == "TESTBED_TLS_PORT").map(|(_, p)| (format!("127.0.0.1:{p}").parse().unwrap(), dir.path().join("ca.pem")));
    let k = Kamailio { _daemon: Daemon::new(child, dir), addr, tcp: format!("127.0.0.1:{tcp}").parse().unwrap(), tls };
    let probe = UdpSocket::bind("127.0.0.1:0").unwrap();
    probe.set_read_timeout(Some(Duration::from_millis(100))).unwrap();
    let options = format!(
        "OPTIONS sip:ringside.test SIP/2.0\r\nVia: SIP/2.0/UDP {};branch=z9hG4bKprobe\r\nMax-Forwards: 70\r\nFrom: <sip:probe@ringside.test>;tag=p\r\nTo: <sip:ringside.test>\r\nCall-ID: probe\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n",
        probe.local_addr().unwrap()
    );
    let mut buf = [0u8; 2048];
    for _ in 0..100 {
        let _ = probe.send_to(options.as_bytes(), addr);
        if let Ok(n) = probe.recv(&mut buf) {
            if buf[..n].starts_with(b"SIP/2.0 200") {
                return Some(k);
            }
        }
    }
    panic!("Kamailio did not answer on {addr}");
}

pub(crate) fn account(user: &str, password: &str, expires: u32) -> Account {
    Account { user: user.into(), auth_user: None, domain: "ringside.test".into(), password: Sensitive::new(password.into()), expires }
}

fn settled(s: &RegistrationState) -> bool {
    !matches!(s, RegistrationState::Registering | RegistrationState::Unregistered)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_rep_registers_with_digest_refreshes_on_the_registrars_terms_and_unregisters() {
    let Some(k) = kamailio(&[]) else { return };
    let mut reg = ringside::sip::udp::register(account("alice", "alice-secret", 600), k.addr, Arc::new(SystemClock)).await.unwrap();
    let state = reg.wait_for(Duration::from_secs(10), settled).await;
    assert!(matches!(state, RegistrationState::Registered { expires_secs: 600, .. }), "{state:?}");
    assert_eq!(reg.stop().await, RegistrationState::Unregistered, "the binding is removed on exit");

    // Kamailio's min_expires is 60: asking for 30 gets 423, then 60 is granted.
    let mut short = ringside::sip::udp::register(account("bob", "bob-secret", 30), k.addr, Arc::new(SystemClock)).await.unwrap();
    let state = short.wait_for(Duration::from_secs(10), settled).await;
    assert!(matches!(state, RegistrationState::Registered { expires_secs: 60, .. }), "{state:?}");
    short.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn registration_over_tcp_frames_the_stream_and_unregisters() {
    let Some(k) = kamailio(&[]) else { return };
    let mut reg = ringside::sip::tcp::register(account("alice", "alice-secret", 600), k.tcp, Arc::new(SystemClock)).await.unwrap();
    let state = reg.wait_for(Duration::from_secs(10), settled).await;
    assert!(matches!(state, RegistrationState::Registered { expires_secs: 600, .. }), "{state:?}");
    assert_eq!(reg.stop().await, RegistrationState::Unregistered);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_wrong_password_is_reported_as_such() {
    let Some(k) = kamailio(&[]) else { return };
    let mut reg = ringside::sip::udp::register(account("alice", "not-her-password", 600), k.addr, Arc::new(SystemClock)).await.unwrap();
    match reg.wait_for(Duration::from_secs(10), settled).await {
        RegistrationState::Failed { reason } => assert!(reason.contains("password") && reason.contains("alice@ringside.test"), "{reason}"),
        other => panic!("expected a failure, got {other:?}"),
    }
    reg.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_registrar_challenging_with_sha_256_is_answered() {
    let Some(k) = kamailio(&[("TESTBED_ALGORITHM", "SHA-256")]) else { return };
    let mut reg = ringside::sip::udp::register(account("bob", "bob-secret", 300), k.addr, Arc::new(SystemClock)).await.unwrap();
    let state = reg.wait_for(Duration::from_secs(10), settled).await;
    assert!(matches!(state, RegistrationState::Registered { expires_secs: 300, .. }), "{state:?}");
    reg.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_engine_registers_the_account_from_settings_and_the_keyring() {
    use ringside::app::{Engine, EngineConfig, Event};
    use ringside::settings::{SettingChange, SystemLocale};
    let Some(k) = kamailio(&[]) else { return };
    let dir = tempfile::tempdir().unwrap();
    let engine = Arc::new(Engine::start(EngineConfig {
        data_dir: dir.path().to_path_buf(),
        keyring_service: format!("ringside-test-phone-{}", std::process::id()),
        locale: SystemLocale::from_tag("en_US"),
        log_dir: None,
    }));
    assert_eq!(engine.start_phone().await, RegistrationState::Unregistered, "not set up: nothing to do");
    for change in [
        SettingChange::SipUser("alice".into()),
        SettingChange::SipDomain("ringside.test".into()),
        SettingChange::SipProxy(k.addr.to_string()),
    ] {
        engine.change_setting(&change).unwrap();
    }
    match engine.start_phone().await {
        RegistrationState::Failed { reason } => assert!(reason.contains("No SIP password"), "{reason}"),
        other => panic!("without a password: {other:?}"),
    }
    assert!(engine.change_setting(&SettingChange::SipProxy("pbx.example.com:99999".into())).is_err(), "a port is 1-65535");
    assert!(engine.change_setting(&SettingChange::SipProxy("pbx.example.com:".into())).is_err(), "a colon without a port is a typo");
    engine.set_sip_password("alice-secret").unwrap();
    let mut events = engine.subscribe();
    engine.start_phone().await;
    let registered = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            if let Ok(Event::RegistrationChanged { state: RegistrationState::Registered { expires_secs, .. } }) = events.recv().await {
                return expires_secs;
            }
        }
    })
    .await
    .expect("a RegistrationChanged event says registered");
    assert_eq!(registered, 600);
    assert!(matches!(engine.status().registration, RegistrationState::Registered { .. }));
    engine.stop_phone().await;
    assert_eq!(engine.registration(), RegistrationState::Unregistered);

    // The same account over TCP, as Settings → Phone → Transport chooses it.
    engine.change_setting(&SettingChange::SipTransport("tcp".into())).unwrap();
    engine.change_setting(&SettingChange::SipProxy(k.tcp.to_string())).unwrap();
    assert!(engine.change_setting(&SettingChange::SipTransport("carrier-pigeon".into())).is_err());
    engine.start_phone().await;
    let over_tcp = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            if matches!(engine.registration(), RegistrationState::Registered { .. }) {
                return;
            }
            let _ = events.recv().await;
        }
    })
    .await;
    assert!(over_tcp.is_ok(), "registered over TCP: {:?}", engine.registration());
    engine.stop_phone().await;
    let _ = engine.keyring().delete(&ringside::app::phone::password_item("alice", "ringside.test"));
}

/// Drives a registration core over a plain UDP socket until it settles; returns the
/// registrar's last 2xx.
fn register_over(reg: &mut ringside::sip::registration::Registration, socket: &UdpSocket, server: SocketAddr) -> ringside::sip::Message {
    use ringside::sip::registration::Output;
    let start = std::time::Instant::now();
    let now = || start.elapsed().as_millis() as i64;
    let mut outputs = reg.start(now());
    let mut last_ok = None;
    socket.set_read_timeout(Some(Duration::from_millis(200))).unwrap();
    let mut buf = vec![0u8; 65_536];
    while start.elapsed() < Duration::from_secs(10) {
        for o in outputs.drain(..) {
            if let Output::Send(bytes) = o {
                socket.send_to(&bytes, server).unwrap();
            }
        }
        if matches!(reg.state(), RegistrationState::Registered { .. }) && reg.next_wakeup().is_some_and(|at| at > now() + 1_000) {
            return last_ok.expect("a 2xx registered it");
        }
        match socket.recv_from(&mut buf) {
            Ok((n, _)) => {
                let msg = ringside::sip::parse_datagram(&buf[..n]).unwrap();
                if msg.code().is_some_and(|c| (200..300).contains(&c)) {
                    last_ok = Some(msg.clone());
                }
                outputs = reg.on_response(now(), &msg);
            }
            Err(_) => outputs = reg.on_timer(now()),
        }
    }
    panic!("not registered within 10 s: {:?}", reg.state());
}

#[test]
fn registering_again_from_a_new_address_removes_the_binding_at_the_old_one() {
    use ringside::sip::registration::Registration;
    use ringside::sip::transaction::Transport;
    let Some(k) = kamailio(&[]) else { return };
    let contacts = |ok: &ringside::sip::Message| -> Vec<String> {
        ok.contact
            .iter()
            .filter_map(|c| match c {
                ringside::sip::Contact::Addr(a) => Some(a.uri.to_string()),
                ringside::sip::Contact::Star(_) => None,
            })
            .collect()
    };
    let ids = || {
        let mut n = 0u32;
        Box::new(move || {
            n += 1;
            format!("mv{}x{n}", std::process::id())
        }) as Box<dyn FnMut() -> String + Send>
    };
    // On the first network (127.0.0.1).
    let first = UdpSocket::bind("127.0.0.1:0").unwrap();
    let mut reg = Registration::new(account("alice", "alice-secret", 600), first.local_addr().unwrap(), ids(), Box::new(|| 0.5));
    let ok = register_over(&mut reg, &first, k.addr);
    assert_eq!(contacts(&ok).len(), 1, "{:?}", contacts(&ok));
    // The laptop moved (127.0.0.2): the registrar's answer lists only the new binding.
    let second = UdpSocket::bind("127.0.0.2:0").unwrap();
    let mut moved = reg.moved_to(second.local_addr().unwrap(), Transport::Udp);
    let ok = register_over(&mut moved, &second, k.addr);
    let now = contacts(&ok);
    assert_eq!(now.len(), 1, "the old binding is gone: {now:?}");
    assert!(now[0].contains("127.0.0.2"), "{now:?}");
    // Without it (a fresh registration from a third address) both would be kept.
    let third = UdpSocket::bind("127.0.0.3:0").unwrap();
    let mut fresh = Registration::new(account("alice", "alice-secret", 600), third.local_addr().unwrap(), ids(), Box::new(|| 0.5));
    let ok = register_over(&mut fresh, &third, k.addr);
    assert_eq!(contacts(&ok).len(), 2, "{:?}", contacts(&ok));
}
