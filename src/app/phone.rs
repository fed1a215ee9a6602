//! The engine's phone: the SIP account's registration, started from the settings and
//! the password in the keyring, restarted on request, stopped (unregistered) on exit.
//! Its state is part of the status and every change is a `RegistrationChanged` event.

use std::net::SocketAddr;
use std::sync::Arc;

use super::{AppError, Engine, ErrorCode, Event};
use crate::secrets::Sensitive;
use crate::sip::registration::{Account, RegistrationState};

/// The keyring item that holds a SIP account's password.
pub fn password_item(user: &str, domain: &str) -> String {
    format!("sip:{user}@{domain}")
}

impl Engine {
    pub fn registration(&self) -> RegistrationState {
        self.lock().registration.clone()
    }

    fn set_registration(&self, state: RegistrationState) {
        {
            let mut s = self.lock();
            if s.registration == state {
                return;
            }
            s.registration = state.clone();
        }
        self.emit(Event::RegistrationChanged { state });
    }

    /// Keeps the SIP password in the keyring (never anywhere else).
    pub fn set_sip_password(&self, password: &str) -> Result<(), AppError> {
        let settings = self.settings();
        if settings.sip_user.is_empty() || settings.sip_domain.is_empty() {
            return Err(AppError::new(ErrorCode::InvalidInput, "Enter the SIP user and domain first."));
        }
        if password.is_empty() {
            return Err(AppError::new(ErrorCode::InvalidInput, "Enter the SIP password."));
        }
        self.keyring.put(&password_item(&settings.sip_user, &settings.sip_domain), &Sensitive::new(password.to_string()))?;
        tracing::info!("SIP password stored in the keyring");
        Ok(())
    }

    /// (Re)starts the registration from the settings in force. Not set up → stays
    /// unregistered; no password or an unknown proxy → `Failed` with what to do.
    pub async fn start_phone(self: &Arc<Self>) -> RegistrationState {
        self.stop_phone().await;
        let settings = self.settings();
        if settings.sip_user.is_empty() || settings.sip_domain.is_empty() || settings.sip_proxy.is_empty() {
            self.set_registration(RegistrationState::Unregistered);
            return self.registration();
        }
        let item = password_item(&settings.sip_user, &settings.sip_domain);
        let password = match self.keyring.get(&item) {
            Ok(Some(p)) => p,
            Ok(None) => {
                self.set_registration(RegistrationState::Failed { reason: format!("No SIP password for {item}: enter it in Settings → Phone.") });
                return self.registration();
            }
            Err(e) => {
                self.set_registration(RegistrationState::Failed { reason: e.to_string() });
                return self.registration();
            }
        };
        let server: Option<SocketAddr> = match tokio::net::lookup_host(settings.sip_proxy.as_str()).await {
            Ok(mut addrs) => addrs.next(),
            Err(e) => {
                tracing::warn!(%e, proxy = %settings.sip_proxy, "proxy not resolved");
                None
            }
        };
        let Some(server) = server else {
            self.set_registration(RegistrationState::Failed {
                reason: format!("{} cannot be found: check the registrar in Settings → Phone.", settings.sip_proxy),
            });
            return self.registration();
        };
        let account = Account {
            user: settings.sip_user.clone(),
            auth_user: None,
            domain: settings.sip_domain.clone(),
            password: Sensitive::new(password.expose().clone()),
            expires: 600,
        };
        let registered = if settings.sip_transport == "tcp" {
            crate::sip::tcp::register(account, server, self.clock.clone()).await
        } else {
            crate::sip::udp::register(account, server, self.clock.clone()).await
        };
        let handle = match registered {
            Ok(h) => h,
            Err(e) => {
                self.set_registration(RegistrationState::Failed { reason: format!("{} cannot be reached over {}: {e}", settings.sip_proxy, settings.sip_transport.to_uppercase()) });
                return self.registration();
            }
        };
        let mut states = handle.states.clone();
        *self.phone.lock().await = Some(handle);
        let engine = Arc::clone(self);
        tokio::spawn(async move {
            loop {
                let state = states.borrow_and_update().clone();
                engine.set_registration(state);
                if states.changed().await.is_err() {
                    break;
                }
            }
        });
        self.registration()
    }

    /// Unregisters (waiting a few seconds at most) and forgets the registration.
    pub async fn stop_phone(&self) {
        let handle = self.phone.lock().await.take();
        if let Some(h) = handle {
            let last = h.stop().await;
            tracing::info!(state = ?last, "phone stopped");
            self.set_registration(RegistrationState::Unregistered);
        }
    }
}
