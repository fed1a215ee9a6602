//! Registration over TCP: the user agent on a TCP wire (`wire.rs` frames the stream,
//! pings with a double CRLF every 30 s and reconnects after a loss; the user agent
//! registers again from the new local address). Calls use the same wire.

use std::net::SocketAddr;
use std::sync::Arc;

use super::registration::Account;
use super::transaction::Transport;
use super::ua::{UaConfig, UserAgent};
use super::udp::RegistrationHandle;
use crate::clock::Clock;

/// Registers `account` with the registrar at `server` over TCP.
pub async fn register(account: Account, server: SocketAddr, clock: Arc<dyn Clock>) -> std::io::Result<RegistrationHandle> {
    let mut config = UaConfig::new(account, server, true);
    config.transport = Transport::Tcp;
    Ok(UserAgent::start(config, clock).await?.into_registration())
}
