//! Settings the rep changes: typed keys over the store's `settings` table.
//!
//! Every setting has one type, one default and one validation here; the UI, the CLI and
//! the engine all go through [`Settings::load`] and [`apply`], never through raw keys.

use serde::{Deserialize, Serialize};

use crate::store::{Store, StoreError};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    En,
    Fr,
    Ja,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, specta::Type, Default)]
#[serde(rename_all = "lowercase")]
pub enum LanguageSetting {
    #[default]
    System,
    En,
    Fr,
    Ja,
}

impl LanguageSetting {
    pub fn resolve(self, system: &SystemLocale) -> Language {
        match self {
            LanguageSetting::System => system.language,
            LanguageSetting::En => Language::En,
            LanguageSetting::Fr => Language::Fr,
            LanguageSetting::Ja => Language::Ja,
        }
    }
}

/// What the operating system says about the user's language and country.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SystemLocale {
    pub language: Language,
    pub region: Option<String>,
}

impl SystemLocale {
    /// Reads the OS locale (LANG / LC_* on Linux, the user's preference elsewhere).
    pub fn detect() -> SystemLocale {
        SystemLocale::from_tag(sys_locale::get_locale().as_deref().unwrap_or("en-US"))
    }

    /// Understands BCP 47 tags (`fr-FR`) and POSIX names (`ja_JP.UTF-8`).
    pub fn from_tag(tag: &str) -> SystemLocale {
        let tag = tag.split(['.', '@']).next().unwrap_or("");
        let mut parts = tag.split(['-', '_']);
        let language = match parts.next().map(str::to_ascii_lowercase).as_deref() {
            Some("fr") => Language::Fr,
            Some("ja") => Language::Ja,
            _ => Language::En,
        };
        let region = parts
            .find(|p| p.len() == 2 && p.chars().all(|c| c.is_ascii_alphabetic()))
            .map(str::to_ascii_uppercase);
        SystemLocale { language, region }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct Settings {
    pub language: LanguageSetting,
    /// ISO 3166-1 alpha-2 region used to read numbers written without a country code.
    pub default_region: String,
    /// `production`, `sandbox`, or a My Domain / login URL.
    pub salesforce_login: String,
    /// The connected app's consumer key (public: the app is a PKCE client).
    pub salesforce_client_id: String,
    /// Fixed loopback port for the sign-in redirect; 0 picks a free one each time.
    pub salesforce_callback_port: u16,
    /// The SIP account: user (`alice`), domain (`pbx.example.com`) and the registrar
    /// or outbound proxy (`host:port`); empty until set. Its password is in the keyring.
    pub sip_user: String,
    pub sip_domain: String,
    pub sip_proxy: String,
    /// `udp` (the default), `tcp`, `tls`, `ws` or `wss` (SIP over WebSocket, RFC 7118).
    pub sip_transport: String,
    /// Over TLS and WSS: a PEM file of a CA to trust besides the system's (a PBX with its own
    /// CA); empty: the system's roots only.
    pub sip_tls_ca: String,
    /// Encrypted media (SDES-SRTP): `off` (plain RTP offered, SRTP accepted when asked),
    /// `optional` (offered, plain accepted) or `required` (calls without it refused).
    pub sip_srtp: crate::media::srtp::SrtpMode,
    /// Echo cancellation, noise suppression and gain control on the microphone (on
    /// unless switched off).
    pub voice_processing: bool,
    /// The Jitsi Meet server no-account meetings are held on (`https://…`).
    pub jitsi_server: String,
    /// The Zoom app's public client ID (a PKCE client: there is no secret); empty until
    /// the admin gives one.
    pub zoom_client_id: String,
    /// Where Zoom's sign-in lives (`https://zoom.us`); the API address comes with the token.
    pub zoom_oauth_url: String,
    /// The Webex integration's client ID; empty until the admin gives one. Its client
    /// secret, when the admin hands one out, is kept in the keyring, not here.
    pub webex_client_id: String,
    /// Where Webex's sign-in and API live (`https://webexapis.com`).
    pub webex_url: String,
    /// The loopback port Zoom and Webex sign-ins come back to (0: any free port). A
    /// Webex integration names its redirect URI exactly, port included:
    /// `http://127.0.0.1:{port}/oauth/callback`.
    pub meetings_callback_port: u16,
}

/// One change to one setting, as the UI and the CLI send it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(tag = "key", content = "value", rename_all = "camelCase")]
pub enum SettingChange {
    Language(LanguageSetting),
    DefaultRegion(String),
    SalesforceLogin(String),
    SalesforceClientId(String),
    SalesforceCallbackPort(u16),
    SipUser(String),
    SipDomain(String),
    SipProxy(String),
    SipTransport(String),
    SipTlsCa(String),
    SipSrtp(String),
    VoiceProcessing(bool),
    JitsiServer(String),
    ZoomClientId(String),
    ZoomOauthUrl(String),
    WebexClientId(String),
    WebexUrl(String),
    MeetingsCallbackPort(u16),
}

#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("Unknown setting \"{0}\". Known settings: language, defaultRegion, salesforceLogin, salesforceClientId, salesforceCallbackPort, sipUser, sipDomain, sipProxy, sipTransport, sipTlsCa, sipSrtp, voiceProcessing, jitsiServer, zoomClientId, zoomOauthUrl, webexClientId, webexUrl, meetingsCallbackPort.")]
    UnknownKey(String),
    #[error("\"{0}\" is not a language Ringside speaks. Use system, en, fr or ja.")]
    BadLanguage(String),
    #[error("\"{0}\" is not a region code. Use a two-letter country code such as FR, JP or US.")]
    BadRegion(String),
    #[error("{0}")]
    BadLogin(String),
    #[error("\"{0}\" is not a consumer key: copy it from the connected app in Salesforce Setup (App Manager).")]
    BadClientId(String),
    #[error("\"{0}\" is not a port number (0 to 65535; 0 picks a free port).")]
    BadPort(String),
    #[error("{0}")]
    BadSip(String),
    #[error("{0}")]
    BadMeetings(String),
    #[error("\"{0}\" is not on or off.")]
    BadSwitch(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

const KEY_LANGUAGE: &str = "language";
const KEY_DEFAULT_REGION: &str = "defaultRegion";
const KEY_SF_LOGIN: &str = "salesforceLogin";
const KEY_SF_CLIENT_ID: &str = "salesforceClientId";
const KEY_SF_PORT: &str = "salesforceCallbackPort";
const KEY_SIP_USER: &str = "sipUser";
const KEY_SIP_DOMAIN: &str = "sipDomain";
const KEY_SIP_PROXY: &str = "sipProxy";
const KEY_SIP_TRANSPORT: &str = "sipTransport";
const KEY_SIP_TLS_CA: &str = "sipTlsCa";
const KEY_SIP_SRTP: &str = "sipSrtp";
const KEY_VOICE_PROCESSING: &str = "voiceProcessing";
const KEY_JITSI_SERVER: &str = "jitsiServer";
const KEY_ZOOM_CLIENT_ID: &str = "zoomClientId";
const KEY_ZOOM_OAUTH_URL: &str = "zoomOauthUrl";
pub const ZOOM_OAUTH_URL: &str = "https://zoom.us";
const KEY_WEBEX_CLIENT_ID: &str = "webexClientId";
const KEY_WEBEX_URL: &str = "webexUrl";
const KEY_MEETINGS_PORT: &str = "meetingsCallbackPort";
pub const WEBEX_URL: &str = "https://webexapis.com";

impl SettingChange {
    /// Parses `KEY VALUE` as typed on the command line.
    pub fn from_key_value(key: &str, value: &str) -> Result<SettingChange, SettingsError> {
        match key {
            KEY_LANGUAGE => parse_language(value).map(SettingChange::Language),
            KEY_DEFAULT_REGION | "default-region" | "region" => {
                Ok(SettingChange::DefaultRegion(value.to_string()))
            }
            KEY_SF_LOGIN => Ok(SettingChange::SalesforceLogin(value.to_string())),
            KEY_SF_CLIENT_ID => Ok(SettingChange::SalesforceClientId(value.to_string())),
            KEY_SF_PORT => value.trim().parse().map(SettingChange::SalesforceCallbackPort).map_err(|_| SettingsError::BadPort(value.to_string())),
            KEY_SIP_USER => Ok(SettingChange::SipUser(value.to_string())),
            KEY_SIP_DOMAIN => Ok(SettingChange::SipDomain(value.to_string())),
            KEY_SIP_PROXY => Ok(SettingChange::SipProxy(value.to_string())),
            KEY_SIP_TRANSPORT => Ok(SettingChange::SipTransport(value.to_string())),
            KEY_SIP_TLS_CA => Ok(SettingChange::SipTlsCa(value.to_string())),
            KEY_SIP_SRTP => Ok(SettingChange::SipSrtp(value.to_string())),
            KEY_JITSI_SERVER => Ok(SettingChange::JitsiServer(value.to_string())),
            KEY_ZOOM_CLIENT_ID => Ok(SettingChange::ZoomClientId(value.to_string())),
            KEY_ZOOM_OAUTH_URL => Ok(SettingChange::ZoomOauthUrl(value.to_string())),
            KEY_WEBEX_CLIENT_ID => Ok(SettingChange::WebexClientId(value.to_string())),
            KEY_WEBEX_URL => Ok(SettingChange::WebexUrl(value.to_string())),
            KEY_MEETINGS_PORT => value.trim().parse().map(SettingChange::MeetingsCallbackPort).map_err(|_| SettingsError::BadPort(value.to_string())),
            KEY_VOICE_PROCESSING => match value.trim().to_ascii_lowercase().as_str() {
                "on" | "true" | "yes" | "1" => Ok(SettingChange::VoiceProcessing(true)),
                "off" | "false" | "no" | "0" => Ok(SettingChange::VoiceProcessing(false)),
                _ => Err(SettingsError::BadSwitch(value.to_string())),
            },
            other => Err(SettingsError::UnknownKey(other.to_string())),
        }
    }
}

fn parse_language(value: &str) -> Result<LanguageSetting, SettingsError> {
    serde_json::from_value(serde_json::Value::String(value.trim().to_ascii_lowercase()))
        .map_err(|_| SettingsError::BadLanguage(value.to_string()))
}

/// Normalises and checks a region code against the phone-number metadata, so a region
/// that is accepted here is one numbers can actually be read in.
pub fn parse_region(value: &str) -> Result<String, SettingsError> {
    let code = value.trim().to_ascii_uppercase();
    match crate::crm::phone::parse_region(&code) {
        Some(_) if code.len() == 2 && code.chars().all(|c| c.is_ascii_alphabetic()) => Ok(code),
        _ => Err(SettingsError::BadRegion(value.to_string())),
    }
}

impl Settings {
    /// Reads every setting, falling back to its default when absent or unreadable (an
    /// unreadable value is logged and ignored rather than blocking the start).
    pub fn load(store: &mut Store, system: &SystemLocale) -> Result<Settings, StoreError> {
        let table = store.settings();
        let language = read(&table, KEY_LANGUAGE)?.unwrap_or_default();
        let region = read::<String>(&table, KEY_DEFAULT_REGION)?
            .and_then(|r| parse_region(&r).ok())
            .or_else(|| system.region.clone().and_then(|r| parse_region(&r).ok()))
            .unwrap_or_else(|| "US".to_string());
        Ok(Settings {
            language,
            default_region: region,
            salesforce_login: read(&table, KEY_SF_LOGIN)?.unwrap_or_else(|| "production".to_string()),
            salesforce_client_id: read(&table, KEY_SF_CLIENT_ID)?.unwrap_or_default(),
            salesforce_callback_port: read(&table, KEY_SF_PORT)?.unwrap_or(0),
            sip_user: read(&table, KEY_SIP_USER)?.unwrap_or_default(),
            sip_domain: read(&table, KEY_SIP_DOMAIN)?.unwrap_or_default(),
            sip_proxy: read(&table, KEY_SIP_PROXY)?.unwrap_or_default(),
            sip_transport: read(&table, KEY_SIP_TRANSPORT)?.unwrap_or_else(|| "udp".to_string()),
            sip_tls_ca: read(&table, KEY_SIP_TLS_CA)?.unwrap_or_default(),
            sip_srtp: read(&table, KEY_SIP_SRTP)?.unwrap_or_default(),
            voice_processing: read(&table, KEY_VOICE_PROCESSING)?.unwrap_or(true),
            jitsi_server: read::<String>(&table, KEY_JITSI_SERVER)?
                .and_then(|v| crate::meetings::jitsi::server_url(&v).ok())
                .unwrap_or_else(|| crate::meetings::jitsi::PUBLIC_SERVER.to_string()),
            zoom_client_id: read(&table, KEY_ZOOM_CLIENT_ID)?.unwrap_or_default(),
            zoom_oauth_url: read(&table, KEY_ZOOM_OAUTH_URL)?.unwrap_or_else(|| ZOOM_OAUTH_URL.to_string()),
            webex_client_id: read(&table, KEY_WEBEX_CLIENT_ID)?.unwrap_or_default(),
            webex_url: read(&table, KEY_WEBEX_URL)?.unwrap_or_else(|| WEBEX_URL.to_string()),
            meetings_callback_port: read(&table, KEY_MEETINGS_PORT)?.unwrap_or(0),
        })
    }
}

/// A setting's stored JSON value; an unreadable one is logged and treated as absent, so
/// a damaged value falls back to the default instead of blocking the start.
fn read<T: for<'de> Deserialize<'de>>(table: &crate::store::SettingsTable<'_>, key: &str) -> Result<Option<T>, StoreError> {
    Ok(table.get(key)?.and_then(|raw| match serde_json::from_str(&raw) {
        Ok(v) => Some(v),
        Err(e) => {
            tracing::warn!(%e, key, "ignoring unreadable setting");
            None
        }
    }))
}

/// Validates and saves one change; returns the settings now in force.
pub fn apply(
    store: &mut Store,
    system: &SystemLocale,
    change: &SettingChange,
) -> Result<Settings, SettingsError> {
    match change {
        SettingChange::Language(lang) => store.settings().put(KEY_LANGUAGE, &json(lang))?,
        SettingChange::DefaultRegion(raw) => {
            let region = parse_region(raw)?;
            store.settings().put(KEY_DEFAULT_REGION, &json(&region))?
        }
        SettingChange::SalesforceLogin(raw) => {
            let login = crate::crm::LoginHost::parse(raw).map_err(|e| SettingsError::BadLogin(e.to_string()))?;
            let value = match login {
                crate::crm::LoginHost::Production => "production".to_string(),
                crate::crm::LoginHost::Sandbox => "sandbox".to_string(),
                crate::crm::LoginHost::Custom(url) => url,
            };
            store.settings().put(KEY_SF_LOGIN, &json(&value))?
        }
        SettingChange::SalesforceClientId(raw) => {
            let key = raw.trim();
            if key.is_empty() {
                // Clearing the key is allowed; signing in then says a key is needed.
                store.settings().delete(KEY_SF_CLIENT_ID)?
            } else {
                let ok = key.len() <= 256 && key.chars().all(|c| c.is_ascii_alphanumeric() || "._-".contains(c));
                if !ok {
                    return Err(SettingsError::BadClientId(raw.clone()));
                }
                store.settings().put(KEY_SF_CLIENT_ID, &json(&key))?
            }
        }
        SettingChange::SalesforceCallbackPort(port) => store.settings().put(KEY_SF_PORT, &json(port))?,
        SettingChange::MeetingsCallbackPort(port) => store.settings().put(KEY_MEETINGS_PORT, &json(port))?,
        SettingChange::SipUser(raw) => put_or_clear(store, KEY_SIP_USER, raw.trim(), sip_user_ok, "A SIP user is letters, digits and . - _ ! ~ * ' ( ) & = + $ , ; ? / (as in alice or 2041).")?,
        SettingChange::SipDomain(raw) => put_or_clear(store, KEY_SIP_DOMAIN, raw.trim(), host_ok, "A SIP domain is a host name or address, such as pbx.example.com.")?,
        SettingChange::SipTransport(raw) => {
            let t = raw.trim().to_ascii_lowercase();
            if !matches!(t.as_str(), "udp" | "tcp" | "tls" | "ws" | "wss") {
                return Err(SettingsError::BadSip(format!("\u{201c}{raw}\u{201d}: the SIP transport is udp, tcp, tls, ws or wss.")));
            }
            store.settings().put(KEY_SIP_TRANSPORT, &json(&t))?
        }
        SettingChange::SipTlsCa(raw) => {
            let path = raw.trim();
            if path.is_empty() {
                store.settings().delete(KEY_SIP_TLS_CA)?
            } else {
                let pem = std::fs::read(path).map_err(|e| SettingsError::BadSip(format!("\u{201c}{path}\u{201d} cannot be read: {e}")))?;
                let options = crate::sip::wire::TlsOptions { server_name: "localhost".into(), extra_ca_pem: Some(pem) };
                crate::sip::wire::tls_connector(&options).map_err(|e| SettingsError::BadSip(format!("\u{201c}{path}\u{201d}: {e}")))?;
                store.settings().put(KEY_SIP_TLS_CA, &json(&path))?
            }
        }
        SettingChange::VoiceProcessing(on) => store.settings().put(KEY_VOICE_PROCESSING, &json(on))?,
        SettingChange::JitsiServer(raw) => {
            let url = crate::meetings::jitsi::server_url(raw).map_err(|e| SettingsError::BadMeetings(e.to_string()))?;
            store.settings().put(KEY_JITSI_SERVER, &json(&url))?
        }
        SettingChange::ZoomClientId(raw) => put_client_id(store, KEY_ZOOM_CLIENT_ID, raw, "Zoom", "the public client ID from the Zoom app (App Credentials)")?,
        SettingChange::ZoomOauthUrl(raw) => {
            let url = service_url(raw, ZOOM_OAUTH_URL).map_err(SettingsError::BadMeetings)?;
            store.settings().put(KEY_ZOOM_OAUTH_URL, &json(&url))?
        }
        SettingChange::WebexClientId(raw) => put_client_id(store, KEY_WEBEX_CLIENT_ID, raw, "Webex", "the Client ID of the Webex integration (developer.webex.com \u{2192} My Webex Apps)")?,
        SettingChange::WebexUrl(raw) => {
            let url = service_url(raw, WEBEX_URL).map_err(SettingsError::BadMeetings)?;
            store.settings().put(KEY_WEBEX_URL, &json(&url))?
        }
        SettingChange::SipSrtp(raw) => {
            let mode: crate::media::srtp::SrtpMode = raw.trim().to_ascii_lowercase().parse().map_err(|e: String| SettingsError::BadSip(format!("\u{201c}{raw}\u{201d}: {e}.")))?;
            store.settings().put(KEY_SIP_SRTP, &json(&mode))?
        }
        SettingChange::SipProxy(raw) => put_or_clear(store, KEY_SIP_PROXY, raw.trim(), proxy_ok, "The registrar or proxy is a domain (looked up by DNS SRV), host:port or an address, such as pbx.example.com, pbx.example.com:5060 or 192.0.2.10:5060.")?,
    }
    Ok(Settings::load(store, system)?)
}

/// A provider app's client ID: letters, digits and `._-`; empty forgets it.
fn put_client_id(store: &mut Store, key: &str, raw: &str, provider: &str, where_from: &str) -> Result<(), SettingsError> {
    let id = raw.trim();
    if id.is_empty() {
        store.settings().delete(key)?
    } else if id.len() <= 128 && id.chars().all(|c| c.is_ascii_alphanumeric() || "._-".contains(c)) {
        store.settings().put(key, &json(&id))?
    } else {
        return Err(SettingsError::BadMeetings(format!("\u{201c}{raw}\u{201d} is not a {provider} client ID: copy {where_from}.")));
    }
    Ok(())
}

/// A service address typed in settings (`zoom.us`, `https://zoom.us/`): https, or
/// http on this machine only; normalised without a trailing slash. Empty: `default`.
pub fn service_url(raw: &str, default: &str) -> Result<String, String> {
    let v = raw.trim();
    if v.is_empty() {
        return Ok(default.to_string());
    }
    let with_scheme = if v.contains("://") { v.to_string() } else { format!("https://{v}") };
    match url::Url::parse(&with_scheme) {
        Ok(u) if crate::oauth::is_secure_or_loopback(&u) && u.host_str().is_some() && u.query().is_none() => {
            Ok(u.as_str().trim_end_matches('/').to_string())
        }
        Ok(_) => Err(format!("\u{201c}{raw}\u{201d}: a service is reached over https.")),
        Err(_) => Err(format!("\u{201c}{raw}\u{201d} is not an address (such as https://zoom.us).")),
    }
}

fn put_or_clear(store: &mut Store, key: &str, value: &str, ok: fn(&str) -> bool, hint: &str) -> Result<(), SettingsError> {
    if value.is_empty() {
        return Ok(store.settings().delete(key)?);
    }
    if !ok(value) {
        return Err(SettingsError::BadSip(format!("\u{201c}{value}\u{201d}: {hint}")));
    }
    Ok(store.settings().put(key, &json(&value))?)
}

fn sip_user_ok(v: &str) -> bool {
    v.len() <= 128 && v.chars().all(|c| c.is_ascii_alphanumeric() || "-_.!~*'()&=+$,;?/".contains(c))
}

fn host_ok(v: &str) -> bool {
    v.len() <= 253 && v.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.') && !v.starts_with(['.', '-'])
}

/// `host:port`, an IP with or without a port, or a bare domain (looked up by SRV,
/// RFC 3263). `host:` and `host:99999` are typos, not hosts.
fn proxy_ok(v: &str) -> bool {
    let (host, port) = crate::sip::locate::split_host_port(v);
    if port.is_none() && v.contains(':') && host.parse::<std::net::Ipv6Addr>().is_err() {
        return false;
    }
    port != Some(0) && (host_ok(&host) || host.parse::<std::net::IpAddr>().is_ok())
}

fn json<T: Serialize>(value: &T) -> String {
    // Serializing plain enums and strings cannot fail.
    serde_json::to_string(value).unwrap_or_default()
}

/// Reads and writes the remembered audio device for a role, as a JSON object.
pub fn device_preference<T: for<'de> Deserialize<'de>>(
    store: &mut Store,
    key: &str,
) -> Result<Option<T>, StoreError> {
    read(&store.settings(), key)
}

pub fn set_device_preference<T: Serialize>(
    store: &mut Store,
    key: &str,
    value: Option<&T>,
) -> Result<(), StoreError> {
    match value {
        Some(v) => store.settings().put(key, &json(v)),
        None => store.settings().delete(key),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn posix_and_bcp47_locales_give_language_and_region() {
        assert_eq!(
            SystemLocale::from_tag("ja_JP.UTF-8"),
            SystemLocale { language: Language::Ja, region: Some("JP".into()) }
        );
        assert_eq!(
            SystemLocale::from_tag("fr-CA"),
            SystemLocale { language: Language::Fr, region: Some("CA".into()) }
        );
        assert_eq!(
            SystemLocale::from_tag("C"),
            SystemLocale { language: Language::En, region: None },
            "the C locale means English with no region"
        );
    }

    #[test]
    fn region_codes_are_checked_against_phone_metadata() {
        assert_eq!(parse_region(" fr ").unwrap(), "FR");
        assert!(parse_region("XX").is_err(), "XX is no country");
        assert!(parse_region("France").is_err());
    }

    #[test]
    fn command_line_keys_map_to_typed_changes() {
        assert_eq!(
            SettingChange::from_key_value("language", "JA").unwrap(),
            SettingChange::Language(LanguageSetting::Ja)
        );
        assert!(matches!(
            SettingChange::from_key_value("language", "de"),
            Err(SettingsError::BadLanguage(_))
        ));
        assert!(matches!(
            SettingChange::from_key_value("volume", "3"),
            Err(SettingsError::UnknownKey(_))
        ));
    }
}
