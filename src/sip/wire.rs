//! The transports under the user agent: a `Wire` takes bytes to send and gives back
//! parsed messages, whatever carries them. UDP: one socket connected to the registrar
//! or proxy (so only it can reach us); malformed datagrams are logged and dropped.
//! TCP: one connection framed with [`parse_stream`](super::parse_stream) (a refused
//! message whose framing holds is skipped with `frame_length`; broken framing closes
//! the connection), a double-CRLF keepalive every 30 s (RFC 5626 §4.4.1), and a new
//! connection after a loss, with a backoff of 2 s doubling to 5 min; the user agent
//! hears `Connected` with the new local address and registers again. TLS: the same
//! over rustls, the certificate checked against the system's roots (plus a CA the
//! account names) for the proxy's host name; a certificate that does not check out
//! is the connection's error, named. WebSocket (RFC 7118): the same connection (TCP
//! or TLS) upgraded with `Sec-WebSocket-Protocol: sip` at the proxy's URL; one SIP
//! message per text frame, WebSocket pings as the keepalive.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

use tokio::sync::mpsc;

use super::transaction::Transport;
use super::{Message, ParseError};

const KEEPALIVE: Duration = Duration::from_secs(30);
const RECONNECT_MIN: Duration = Duration::from_secs(2);
const RECONNECT_MAX: Duration = Duration::from_secs(300);
/// A peer that sends this much without completing a message is not a SIP server.
const MAX_BUFFER: usize = 256 * 1024;
/// A datagram larger than this is not SIP we can use (RFC 3261 §18.1.1 keeps UDP
/// requests under the path MTU; responses with many contacts can be larger).
const MAX_DATAGRAM: usize = 65_535;

pub(super) enum WireEvent {
    Message(Box<Message>, Instant),
    /// A new connection (after a loss), from this local address.
    Connected(SocketAddr),
    /// The connection was lost; a new one is being made.
    Lost(String),
}

pub(super) struct Wire {
    pub send: mpsc::UnboundedSender<Vec<u8>>,
    pub events: mpsc::UnboundedReceiver<WireEvent>,
    pub local: SocketAddr,
    pub transport: Transport,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Wire {
    /// Sends what is still queued (the ACK of a final answer, an unregister), then
    /// closes. Every clone of `send` must be gone for the queue to end; what is still
    /// queued after [`CLOSE_GRACE`] is dropped.
    pub async fn close(mut self) {
        drop(std::mem::replace(&mut self.send, mpsc::unbounded_channel().0));
        if let Some(mut task) = self.task.take() {
            if tokio::time::timeout(CLOSE_GRACE, &mut task).await.is_err() {
                task.abort();
            }
        }
    }
}

/// How long a closing wire may take to send what was queued before it.
const CLOSE_GRACE: Duration = Duration::from_millis(500);

impl Drop for Wire {
    fn drop(&mut self) {
        if let Some(task) = &self.task {
            task.abort();
        }
    }
}

/// How a TLS connection checks the proxy's certificate.
#[derive(Debug, Clone, Default)]
pub struct TlsOptions {
    /// The name the certificate must carry (the proxy's host name or IP address);
    /// empty: the account's domain.
    pub server_name: String,
    /// PEM certificates of CAs to trust besides the system's (a company PBX's own CA).
    pub extra_ca_pem: Option<Vec<u8>>,
}

/// A byte stream: TCP, or TLS over TCP.
trait Stream: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Stream for T {}

/// What opens a stream connection (again, after a loss).
#[derive(Clone)]
struct Connector {
    server: SocketAddr,
    tls: Option<(tokio_rustls::TlsConnector, tokio_rustls::rustls::pki_types::ServerName<'static>)>,
    /// WebSocket: the URL of the upgrade request (`ws://host:port/`).
    websocket: Option<String>,
}

fn io_error(e: impl std::fmt::Display) -> std::io::Error {
    std::io::Error::other(e.to_string())
}

/// The TLS client configuration: system roots plus the account's CA, TLS 1.2+.
pub fn tls_connector(options: &TlsOptions) -> std::io::Result<(tokio_rustls::TlsConnector, tokio_rustls::rustls::pki_types::ServerName<'static>)> {
    use tokio_rustls::rustls::{self, pki_types::pem::PemObject, pki_types::CertificateDer, pki_types::ServerName, RootCertStore};
    let mut roots = RootCertStore::empty();
    let native = rustls_native_certs::load_native_certs();
    let (added, _) = roots.add_parsable_certificates(native.certs);
    tracing::debug!(added, "system CA certificates loaded");
    if let Some(pem) = &options.extra_ca_pem {
        let mut n = 0;
        for cert in CertificateDer::pem_slice_iter(pem) {
            let cert = cert.map_err(|e| io_error(format!("the CA file is not PEM certificates ({e})")))?;
            roots.add(cert).map_err(|e| io_error(format!("the CA certificate cannot be used ({e})")))?;
            n += 1;
        }
        if n == 0 {
            return Err(io_error("the CA file holds no certificate"));
        }
    }
    let provider = std::sync::Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(io_error)?
        .with_root_certificates(roots)
        .with_no_client_auth();
    let name = ServerName::try_from(options.server_name.clone()).map_err(|e| io_error(format!("{} is not a server name ({e})", options.server_name)))?;
    Ok((tokio_rustls::TlsConnector::from(std::sync::Arc::new(config)), name))
}

impl Connector {
    async fn connect(&self) -> std::io::Result<(Box<dyn Stream>, SocketAddr)> {
        let tcp = TcpStream::connect(self.server).await?;
        let _ = tcp.set_nodelay(true);
        let local = tcp.local_addr()?;
        match &self.tls {
            None => Ok((Box::new(tcp), local)),
            Some((connector, name)) => {
                let tls = connector.connect(name.clone(), tcp).await.map_err(|e| {
                    let text = e.to_string();
                    let hint = if text.contains("UnknownIssuer") {
                        " — the certificate is not from a CA this computer trusts: add the PBX's CA in Settings → Phone"
                    } else if text.contains("NotValidForName") {
                        " — the certificate does not name the registrar as written in Settings → Phone"
                    } else if text.contains("Expired") {
                        " — the PBX's certificate has expired"
                    } else {
                        ""
                    };
                    io_error(format!("TLS with {} failed: {text}{hint}", self.server))
                })?;
                Ok((Box::new(tls), local))
            }
        }
    }
}

pub(super) async fn open(transport: Transport, server: SocketAddr, tls: &TlsOptions) -> std::io::Result<Wire> {
    match transport {
        Transport::Udp => udp(server).await,
        Transport::Tcp => stream(Connector { server, tls: None, websocket: None }, transport).await,
        Transport::Tls => stream(Connector { server, tls: Some(tls_connector(tls)?), websocket: None }, transport).await,
        Transport::Ws | Transport::Wss => {
            let secure = transport == Transport::Wss;
            let host = if tls.server_name.is_empty() { server.ip().to_string() } else { tls.server_name.clone() };
            let url = format!("{}://{}:{}/", if secure { "wss" } else { "ws" }, host, server.port());
            let tls = if secure { Some(tls_connector(tls)?) } else { None };
            stream(Connector { server, tls, websocket: Some(url) }, transport).await
        }
    }
}

async fn udp(server: SocketAddr) -> std::io::Result<Wire> {
    let (socket, local) = super::udp::connected_socket(server).await?;
    let (send, mut outgoing) = mpsc::unbounded_channel::<Vec<u8>>();
    let (events_tx, events) = mpsc::unbounded_channel();
    let task = tokio::spawn(async move {
        let mut buf = vec![0u8; MAX_DATAGRAM];
        // Once the user agent stops listening, what it queued is still sent.
        let mut listening = true;
        loop {
            tokio::select! {
                biased;
                bytes = outgoing.recv() => match bytes {
                    Some(b) => {
                        if let Err(e) = socket.send(&b).await {
                            tracing::warn!(%e, %server, "SIP datagram not sent");
                        }
                    }
                    None => break,
                },
                received = socket.recv(&mut buf), if listening => match received {
                    Ok(n) => {
                        let at = Instant::now();
                        match super::parse_datagram(&buf[..n]) {
                            Ok(msg) => {
                                if events_tx.send(WireEvent::Message(Box::new(msg), at)).is_err() {
                                    listening = false;
                                }
                            }
                            // A datagram we cannot read: nothing can be answered to it.
                            Err(e) => tracing::warn!(%e, bytes = n, "malformed SIP datagram dropped"),
                        }
                    }
                    // ICMP port unreachable surfaces here on a connected socket; the
                    // transactions' timers decide what it means.
                    Err(e) => {
                        tracing::debug!(%e, "receive failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                },
            }
        }
    });
    Ok(Wire { send, events, local, transport: Transport::Udp, task: Some(task) })
}

async fn stream(connector: Connector, transport: Transport) -> std::io::Result<Wire> {
    // The first connection is made here so a refused one is the caller's error.
    let (first, local) = connector.connect().await?;
    let (send, mut outgoing) = mpsc::unbounded_channel::<Vec<u8>>();
    let (events_tx, events) = mpsc::unbounded_channel();
    let name = transport.via_name();
    let task = tokio::spawn(async move {
        let mut next = Some(first);
        let mut wait = RECONNECT_MIN;
        loop {
            let conn = match next.take() {
                Some(c) => c,
                None => match connector.connect().await {
                    Ok((c, local)) => {
                        if events_tx.send(WireEvent::Connected(local)).is_err() {
                            return;
                        }
                        c
                    }
                    Err(e) => {
                        if events_tx.send(WireEvent::Lost(format!("the registrar cannot be reached over {name} ({e})"))).is_err() {
                            return;
                        }
                        if !discard_for(wait, &mut outgoing).await {
                            return;
                        }
                        wait = (wait * 2).min(RECONNECT_MAX);
                        continue;
                    }
                },
            };
            let started = Instant::now();
            let run = match &connector.websocket {
                Some(url) => run_websocket(conn, url, &mut outgoing, &events_tx).await,
                None => run_stream(conn, &mut outgoing, &events_tx).await,
            };
            let reason = match run {
                Some(reason) => reason,
                None => return,
            };
            tracing::warn!(%reason, transport = name, "connection to the registrar lost");
            if events_tx.send(WireEvent::Lost(reason)).is_err() {
                return;
            }
            if started.elapsed() > Duration::from_secs(60) {
                wait = RECONNECT_MIN;
            }
            if !discard_for(wait, &mut outgoing).await {
                return;
            }
            wait = (wait * 2).min(RECONNECT_MAX);
        }
    });
    Ok(Wire { send, events, local, transport, task: Some(task) })
}

/// Waits `wait`, dropping what the user agent sends meanwhile (it registers again on
/// the next connection). False when the user agent is gone.
async fn discard_for(wait: Duration, outgoing: &mut mpsc::UnboundedReceiver<Vec<u8>>) -> bool {
    let until = tokio::time::Instant::now() + wait;
    loop {
        tokio::select! {
            _ = tokio::time::sleep_until(until) => return true,
            bytes = outgoing.recv() => if bytes.is_none() { return false },
        }
    }
}

/// Runs one connection until it is lost (Some(reason)) or the user agent is gone (None).
async fn run_stream(
    conn: Box<dyn Stream>,
    outgoing: &mut mpsc::UnboundedReceiver<Vec<u8>>,
    events: &mpsc::UnboundedSender<WireEvent>,
) -> Option<String> {
    let (mut rd, mut wr) = tokio::io::split(conn);
    let mut buf: Vec<u8> = Vec::new();
    let mut chunk = vec![0u8; 16 * 1024];
    let mut keepalive = tokio::time::interval_at(tokio::time::Instant::now() + KEEPALIVE, KEEPALIVE);
    loop {
        tokio::select! {
            bytes = outgoing.recv() => match bytes {
                Some(b) => {
                    if let Err(e) = wr.write_all(&b).await {
                        return Some(format!("sending to the registrar failed ({e})"));
                    }
                }
                None => {
                    let _ = wr.shutdown().await;
                    return None;
                }
            },
            read = rd.read(&mut chunk) => match read {
                Ok(0) => return Some("the registrar closed the connection".into()),
                Ok(n) => {
                    let at = Instant::now();
                    buf.extend_from_slice(&chunk[..n]);
                    loop {
                        match super::parse_stream(&buf) {
                            Ok((msg, used)) => {
                                buf.drain(..used);
                                if events.send(WireEvent::Message(Box::new(msg), at)).is_err() {
                                    return None;
                                }
                            }
                            Err(ParseError::Incomplete) => {
                                // Keepalive answers (a lone CRLF pair) are not messages.
                                if buf.iter().all(|b| *b == b'\r' || *b == b'\n') {
                                    buf.clear();
                                }
                                break;
                            }
                            Err(ParseError::Malformed { reason, fatal_for_stream, .. }) => {
                                tracing::warn!(%reason, "malformed message on the connection");
                                if fatal_for_stream {
                                    return Some(format!("the registrar sent a message whose framing is broken ({reason})"));
                                }
                                // The framing held: skip to the next message.
                                match super::message::frame_length(&buf) {
                                    Some(n) => {
                                        buf.drain(..n);
                                    }
                                    None => return Some(reason.clone()),
                                }
                            }
                        }
                    }
                    if buf.len() > MAX_BUFFER {
                        return Some("the registrar sent more than 256 KiB without a complete message".into());
                    }
                }
                Err(e) => return Some(format!("reading from the registrar failed ({e})")),
            },
            _ = keepalive.tick() => {
                if let Err(e) = wr.write_all(b"\r\n\r\n").await {
                    return Some(format!("the keepalive could not be sent ({e})"));
                }
            }
        }
    }
}

/// Runs one WebSocket connection (after its upgrade) until it is lost (Some(reason))
/// or the user agent is gone (None).
async fn run_websocket(
    conn: Box<dyn Stream>,
    url: &str,
    outgoing: &mut mpsc::UnboundedReceiver<Vec<u8>>,
    events: &mpsc::UnboundedSender<WireEvent>,
) -> Option<String> {
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::{client::IntoClientRequest, Message as Frame};
    let mut request = match url.into_client_request() {
        Ok(r) => r,
        Err(e) => return Some(format!("{url} is not a WebSocket URL ({e})")),
    };
    request.headers_mut().insert("Sec-WebSocket-Protocol", tokio_tungstenite::tungstenite::http::HeaderValue::from_static("sip"));
    let (mut ws, response) = match tokio_tungstenite::client_async(request, conn).await {
        Ok(done) => done,
        Err(e) => return Some(format!("the WebSocket upgrade at {url} failed ({e})")),
    };
    let agreed = response.headers().get("Sec-WebSocket-Protocol").and_then(|v| v.to_str().ok()).unwrap_or_default();
    if !agreed.eq_ignore_ascii_case("sip") {
        return Some(format!("the server at {url} did not agree to carry SIP (subprotocol \u{201c}{agreed}\u{201d})"));
    }
    let mut keepalive = tokio::time::interval_at(tokio::time::Instant::now() + KEEPALIVE, KEEPALIVE);
    loop {
        tokio::select! {
            bytes = outgoing.recv() => match bytes {
                Some(b) => {
                    // SIP text goes in text frames (RFC 7118 §5.2); a message that is
                    // not UTF-8 (a binary body) goes as a binary frame.
                    let frame = match String::from_utf8(b) {
                        Ok(text) => Frame::text(text),
                        Err(e) => Frame::binary(e.into_bytes()),
                    };
                    if let Err(e) = ws.send(frame).await {
                        return Some(format!("sending to the registrar failed ({e})"));
                    }
                }
                None => {
                    let _ = ws.close(None).await;
                    return None;
                }
            },
            frame = ws.next() => match frame {
                Some(Ok(Frame::Text(text))) => deliver(text.as_bytes(), events)?,
                Some(Ok(Frame::Binary(bytes))) => deliver(&bytes, events)?,
                Some(Ok(Frame::Close(_))) | None => return Some("the registrar closed the WebSocket".into()),
                Some(Ok(_)) => {}
                Some(Err(e)) => return Some(format!("the WebSocket failed ({e})")),
            },
            _ = keepalive.tick() => {
                if let Err(e) = ws.send(Frame::Ping(Default::default())).await {
                    return Some(format!("the keepalive could not be sent ({e})"));
                }
            }
        }
    }
}

/// One frame, one message. `None` when the user agent is gone; a malformed message is
/// logged and dropped (the frame kept the stream's framing).
fn deliver(bytes: &[u8], events: &mpsc::UnboundedSender<WireEvent>) -> Option<()> {
    let at = Instant::now();
    match super::parse_datagram(bytes) {
        Ok(msg) => events.send(WireEvent::Message(Box::new(msg), at)).ok(),
        Err(e) => {
            tracing::warn!(%e, bytes = bytes.len(), "malformed SIP message in a WebSocket frame dropped");
            Some(())
        }
    }
}
