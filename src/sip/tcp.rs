//! The TCP driver of a registration: one task owns the connection, frames the stream
//! with [`parse_stream`](super::parse_stream), feeds responses and time to
//! [`Registration`], and pings with a double CRLF every 30 s (RFC 5626 §4.4.1) so NATs
//! keep the connection. A connection that closes or loses its framing is opened again
//! after a backoff, with a new registration (its Contact is the new local address).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::{oneshot, watch};

use super::registration::{Account, Output, Registration, RegistrationState};
use super::transaction::Transport;
use super::udp::{token, RegistrationHandle};
use super::ParseError;
use crate::clock::Clock;

const KEEPALIVE: Duration = Duration::from_secs(30);
const RECONNECT_MIN: Duration = Duration::from_secs(2);
const RECONNECT_MAX: Duration = Duration::from_secs(300);
const STOP_GRACE: Duration = Duration::from_secs(5);
/// A peer that sends this much without completing a message is not a SIP server.
const MAX_BUFFER: usize = 256 * 1024;

/// Registers `account` with the registrar at `server` over TCP.
pub async fn register(account: Account, server: SocketAddr, clock: Arc<dyn Clock>) -> std::io::Result<RegistrationHandle> {
    // The first connection is made here so a refused one is the caller's error.
    let first = TcpStream::connect(server).await?;
    let local = first.local_addr()?;
    let (state_tx, states) = watch::channel(RegistrationState::Unregistered);
    let (stop_tx, mut stop_rx) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let mut stream = Some(first);
        let mut wait = RECONNECT_MIN;
        loop {
            let conn = match stream.take() {
                Some(s) => s,
                None => match TcpStream::connect(server).await {
                    Ok(s) => s,
                    Err(e) => {
                        let at = (clock.now_ms() + wait.as_millis() as i64).div_euclid(1_000);
                        let _ = state_tx.send(RegistrationState::Retrying { reason: format!("the registrar refused the TCP connection ({e})"), retry_at: at });
                        tokio::select! {
                            _ = tokio::time::sleep(wait) => {}
                            _ = &mut stop_rx => break,
                        }
                        wait = (wait * 2).min(RECONNECT_MAX);
                        continue;
                    }
                },
            };
            let _ = conn.set_nodelay(true);
            match run_connection(conn, account.clone(), &clock, &state_tx, &mut stop_rx).await {
                Ended::Stopped => break,
                Ended::Lost(reason) => {
                    tracing::warn!(%reason, "TCP connection to the registrar lost");
                    let at = (clock.now_ms() + wait.as_millis() as i64).div_euclid(1_000);
                    let _ = state_tx.send(RegistrationState::Retrying { reason, retry_at: at });
                    tokio::select! {
                        _ = tokio::time::sleep(wait) => {}
                        _ = &mut stop_rx => break,
                    }
                    wait = (wait * 2).min(RECONNECT_MAX);
                }
            }
        }
        let _ = state_tx.send(RegistrationState::Unregistered);
    });
    Ok(RegistrationHandle::new(states, local, stop_tx, task))
}

enum Ended {
    Stopped,
    Lost(String),
}

/// A connection lost while unregistering ends the task; otherwise it is reopened.
fn lost(stopping: bool, reason: String) -> Ended {
    if stopping {
        Ended::Stopped
    } else {
        Ended::Lost(reason)
    }
}

async fn run_connection(
    conn: TcpStream,
    account: Account,
    clock: &Arc<dyn Clock>,
    state_tx: &watch::Sender<RegistrationState>,
    stop_rx: &mut oneshot::Receiver<()>,
) -> Ended {
    let Ok(local) = conn.local_addr() else { return Ended::Lost("the connection has no local address".into()) };
    let (mut rd, mut wr) = conn.into_split();
    let mut reg = Registration::new(account, local, Box::new(token), Box::new(rand::random::<f64>)).with_transport(Transport::Tcp);
    let mut outputs = reg.start(clock.now_ms());
    let mut buf: Vec<u8> = Vec::new();
    let mut chunk = vec![0u8; 16 * 1024];
    let mut keepalive = tokio::time::interval(KEEPALIVE);
    keepalive.tick().await;
    let mut stopping_until: Option<tokio::time::Instant> = None;
    loop {
        for o in outputs.drain(..) {
            match o {
                Output::Send(bytes) => {
                    if let Err(e) = wr.write_all(&bytes).await {
                        return lost(stopping_until.is_some(), format!("sending to the registrar failed ({e})"));
                    }
                }
                Output::State(s) => {
                    tracing::info!(state = ?s, "registration (TCP)");
                    let _ = state_tx.send(s);
                }
            }
        }
        if let Some(until) = stopping_until {
            if matches!(reg.state(), RegistrationState::Unregistered) || tokio::time::Instant::now() >= until {
                return Ended::Stopped;
            }
        }
        let wait = super::udp::next_wait(&reg, clock.as_ref(), stopping_until);
        tokio::select! {
            read = rd.read(&mut chunk) => match read {
                Ok(0) => return lost(stopping_until.is_some(), "the registrar closed the TCP connection".into()),
                Ok(n) => {
                    buf.extend_from_slice(&chunk[..n]);
                    loop {
                        match super::parse_stream(&buf) {
                            Ok((msg, used)) => {
                                buf.drain(..used);
                                outputs.extend(reg.on_response(clock.now_ms(), &msg));
                            }
                            Err(ParseError::Incomplete) => {
                                // Keepalive answers (a lone CRLF pair) are not messages.
                                if buf.iter().all(|b| *b == b'\r' || *b == b'\n') {
                                    buf.clear();
                                }
                                break;
                            }
                            Err(ParseError::Malformed { reason, fatal_for_stream, .. }) => {
                                tracing::warn!(%reason, "malformed message on the TCP connection");
                                if fatal_for_stream {
                                    return lost(stopping_until.is_some(), format!("the registrar sent a message whose framing is broken ({reason})"));
                                }
                                // The framing held: skip to the next message.
                                match super::message::frame_length(&buf) {
                                    Some(n) => {
                                        buf.drain(..n);
                                    }
                                    None => return lost(stopping_until.is_some(), reason.clone()),
                                }
                            }
                        }
                    }
                    if buf.len() > MAX_BUFFER {
                        return lost(stopping_until.is_some(), "the registrar sent more than 256 KiB without a complete message".into());
                    }
                }
                Err(e) => return lost(stopping_until.is_some(), format!("reading from the registrar failed ({e})")),
            },
            _ = tokio::time::sleep(wait) => outputs = reg.on_timer(clock.now_ms()),
            _ = keepalive.tick() => {
                if let Err(e) = wr.write_all(b"\r\n\r\n").await {
                    return lost(stopping_until.is_some(), format!("the keepalive could not be sent ({e})"));
                }
            }
            _ = &mut *stop_rx, if stopping_until.is_none() => {
                stopping_until = Some(tokio::time::Instant::now() + STOP_GRACE);
                outputs = reg.stop(clock.now_ms());
                if outputs.is_empty() {
                    return Ended::Stopped;
                }
            }
        }
    }
}
