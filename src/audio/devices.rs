//! Device enumeration (cpal) and the pure choice of a device per role.

use cpal::traits::{DeviceTrait, HostTrait};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub enum AudioRole {
    Microphone,
    Speaker,
    Ringer,
}

impl AudioRole {
    pub const ALL: [AudioRole; 3] = [AudioRole::Microphone, AudioRole::Speaker, AudioRole::Ringer];

    /// The settings key under which the role's preferred device is remembered.
    pub fn settings_key(self) -> &'static str {
        match self {
            AudioRole::Microphone => "audio.microphone",
            AudioRole::Speaker => "audio.speaker",
            AudioRole::Ringer => "audio.ringer",
        }
    }

    pub fn is_input(self) -> bool {
        self == AudioRole::Microphone
    }

    pub fn label(self) -> &'static str {
        match self {
            AudioRole::Microphone => "microphone",
            AudioRole::Speaker => "speaker",
            AudioRole::Ringer => "ringer",
        }
    }
}

impl std::str::FromStr for AudioRole {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "microphone" | "mic" | "input" => Ok(AudioRole::Microphone),
            "speaker" | "output" => Ok(AudioRole::Speaker),
            "ringer" => Ok(AudioRole::Ringer),
            _ => Err(format!("\"{s}\" is not an audio role; use microphone, speaker or ringer")),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct AudioDevice {
    /// cpal's stable id, `host:device` (e.g. `pulseaudio:alsa_output.usb-Jabra…`).
    pub id: String,
    pub name: String,
    pub is_default: bool,
}

/// What the system offers right now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct DeviceList {
    pub host: String,
    pub inputs: Vec<AudioDevice>,
    pub outputs: Vec<AudioDevice>,
    /// Why the list is empty or partial, in words for the rep.
    pub problem: Option<String>,
}

/// What the rep picked for a role, as remembered in the settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct DevicePreference {
    pub id: String,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct RoleSelection {
    pub role: AudioRole,
    /// The device the rep picked; `None` follows the system default.
    pub preferred_id: Option<String>,
    pub preferred_name: Option<String>,
    /// The device that will actually be used; `None` when there is none at all.
    pub active_id: Option<String>,
    /// The picked device is absent and another one is used instead.
    pub fallback: bool,
}

/// The device lists plus the choice for every role: what the Settings page shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct AudioDevices {
    pub host: String,
    pub inputs: Vec<AudioDevice>,
    pub outputs: Vec<AudioDevice>,
    pub roles: Vec<RoleSelection>,
    pub problem: Option<String>,
}

impl AudioDevices {
    pub fn new(list: DeviceList, prefs: impl Fn(AudioRole) -> Option<DevicePreference>) -> Self {
        let roles = AudioRole::ALL.iter().map(|&r| resolve(r, prefs(r).as_ref(), &list)).collect();
        AudioDevices {
            host: list.host,
            inputs: list.inputs,
            outputs: list.outputs,
            roles,
            problem: list.problem,
        }
    }

    pub fn role(&self, role: AudioRole) -> Option<&RoleSelection> {
        self.roles.iter().find(|r| r.role == role)
    }

    pub fn device(&self, id: &str) -> Option<&AudioDevice> {
        self.inputs.iter().chain(&self.outputs).find(|d| d.id == id)
    }
}

/// Chooses the device for `role`: the preferred one by id, else by name, else the
/// system default (flagged as a fallback when a preference existed).
pub fn resolve(role: AudioRole, pref: Option<&DevicePreference>, list: &DeviceList) -> RoleSelection {
    let candidates = if role.is_input() { &list.inputs } else { &list.outputs };
    let default = candidates.iter().find(|d| d.is_default).or_else(|| candidates.first());
    let found = pref.and_then(|p| {
        candidates
            .iter()
            .find(|d| d.id == p.id)
            .or_else(|| candidates.iter().find(|d| d.name == p.name))
    });
    RoleSelection {
        role,
        preferred_id: pref.map(|p| p.id.clone()),
        preferred_name: pref.map(|p| p.name.clone()),
        active_id: found.or(default).map(|d| d.id.clone()),
        fallback: pref.is_some() && found.is_none(),
    }
}

/// Lists the devices of the platform's default host (PulseAudio/PipeWire when a sound
/// server runs, ALSA otherwise). Failures become `problem`, never an error or a panic.
pub fn enumerate() -> DeviceList {
    match std::panic::catch_unwind(enumerate_default_host) {
        Ok(list) => list,
        Err(_) => DeviceList {
            host: "unknown".into(),
            inputs: vec![],
            outputs: vec![],
            problem: Some("The audio system crashed while listing devices; check the log.".into()),
        },
    }
}

/// The audio host, one for the whole process: the platform's default (PulseAudio /
/// PipeWire when a sound server runs), or the one named by `RINGSIDE_AUDIO_HOST`
/// (`alsa`, `pulseaudio`, `jack`…) for a machine where the default misbehaves.
///
/// One, because a host is a connection to the sound server with its own thread and
/// buffers: a new one per listing would pile up connections (and their CPU) for as
/// long as the process runs. A listing that fails drops it, so a restarted sound
/// server is reached again.
pub fn host() -> std::sync::Arc<cpal::Host> {
    static HOST: std::sync::Mutex<Option<std::sync::Arc<cpal::Host>>> = std::sync::Mutex::new(None);
    let mut cached = HOST.lock().unwrap_or_else(|e| e.into_inner());
    if RESET.swap(false, std::sync::atomic::Ordering::Relaxed) {
        *cached = None;
    }
    cached.get_or_insert_with(|| std::sync::Arc::new(new_host())).clone()
}

static RESET: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// The next [`host`] connects afresh (the sound server went away).
pub fn reset_host() {
    RESET.store(true, std::sync::atomic::Ordering::Relaxed);
}

fn new_host() -> cpal::Host {
    if let Ok(name) = std::env::var("RINGSIDE_AUDIO_HOST") {
        let wanted = cpal::available_hosts().into_iter().find(|h| h.name().eq_ignore_ascii_case(&name));
        match wanted.map(cpal::host_from_id) {
            Some(Ok(h)) => return h,
            _ => tracing::warn!(host = %name, "RINGSIDE_AUDIO_HOST names no available audio host; using the default"),
        }
    }
    cpal::default_host()
}

fn enumerate_default_host() -> DeviceList {
    let host = host();
    let host_name = host.id().name().to_string();
    let default_in = host.default_input_device().and_then(|d| d.id().ok()).map(|i| i.to_string());
    let default_out = host.default_output_device().and_then(|d| d.id().ok()).map(|i| i.to_string());
    let mut problems = Vec::new();
    let inputs = match host.input_devices() {
        Ok(devs) => collect(devs, default_in.as_deref()),
        Err(e) => {
            problems.push(format!("Microphones could not be listed: {e}"));
            vec![]
        }
    };
    let outputs = match host.output_devices() {
        Ok(devs) => collect(devs, default_out.as_deref()),
        Err(e) => {
            problems.push(format!("Speakers could not be listed: {e}"));
            vec![]
        }
    };
    if !problems.is_empty() {
        reset_host();
    }
    if inputs.is_empty() && outputs.is_empty() && problems.is_empty() {
        problems.push(
            "No audio devices were found. Plug in a headset, or check that the sound system (PulseAudio or PipeWire) is running."
                .into(),
        );
    } else if inputs.is_empty() && problems.is_empty() {
        problems.push("No microphone was found: the other side will not hear you.".into());
    } else if outputs.is_empty() && problems.is_empty() {
        problems.push("No speaker or headset was found: you will not hear calls.".into());
    }
    DeviceList {
        host: host_name,
        inputs,
        outputs,
        problem: if problems.is_empty() { None } else { Some(problems.join(" ")) },
    }
}

/// ALSA lists its plugins next to real cards: rate converters, the null sink that
/// discards everything, bridges to OSS, JACK, PulseAudio and PipeWire (used when those
/// servers are absent, so they would fail). None is a device a rep can talk through.
const ALSA_PSEUDO_DEVICES: &[&str] = &[
    "null", "lavrate", "samplerate", "speexrate", "jack", "oss", "pulse", "pipewire", "speex",
    "upmix", "vdownmix",
];

/// False for ids of devices that are not something to talk or listen through.
pub(crate) fn is_real_device(id: &str) -> bool {
    match id.split_once(':') {
        Some(("alsa", pcm)) => !ALSA_PSEUDO_DEVICES.contains(&pcm),
        _ => true,
    }
}

fn collect<D: DeviceTrait>(devices: impl Iterator<Item = D>, default_id: Option<&str>) -> Vec<AudioDevice> {
    let mut out: Vec<AudioDevice> = Vec::new();
    for device in devices {
        let Ok(id) = device.id().map(|i| i.to_string()) else { continue };
        if !is_real_device(&id) || out.iter().any(|d| d.id == id) {
            continue;
        }
        let name = device
            .description()
            .map(|d| d.name().to_string())
            .unwrap_or_else(|_| id.clone());
        out.push(AudioDevice { is_default: default_id == Some(id.as_str()), id, name });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dev(id: &str, name: &str, is_default: bool) -> AudioDevice {
        AudioDevice { id: id.into(), name: name.into(), is_default }
    }

    fn list() -> DeviceList {
        DeviceList {
            host: "test".into(),
            inputs: vec![dev("p:builtin-mic", "Built-in Microphone", true), dev("p:jabra-mic", "Jabra Evolve 75", false)],
            outputs: vec![dev("p:builtin", "Built-in Audio", true)],
            problem: None,
        }
    }

    #[test]
    fn no_preference_follows_the_system_default() {
        let sel = resolve(AudioRole::Microphone, None, &list());
        assert_eq!(sel.active_id.as_deref(), Some("p:builtin-mic"));
        assert!(!sel.fallback, "following the default is not a fallback");
    }

    #[test]
    fn a_headset_is_found_again_by_name_when_its_id_changed() {
        let pref = DevicePreference { id: "p:jabra-mic-old-port".into(), name: "Jabra Evolve 75".into() };
        let sel = resolve(AudioRole::Microphone, Some(&pref), &list());
        assert_eq!(sel.active_id.as_deref(), Some("p:jabra-mic"));
        assert!(!sel.fallback);
    }

    #[test]
    fn an_absent_headset_falls_back_to_the_default_and_says_so() {
        let pref = DevicePreference { id: "p:jabra".into(), name: "Jabra Evolve 75 Speaker".into() };
        let sel = resolve(AudioRole::Speaker, Some(&pref), &list());
        assert_eq!(sel.active_id.as_deref(), Some("p:builtin"));
        assert!(sel.fallback, "the rep must be told the headset is missing");
        assert_eq!(sel.preferred_name.as_deref(), Some("Jabra Evolve 75 Speaker"));
    }

    #[test]
    fn alsa_plugins_are_not_offered_as_devices_but_cards_are() {
        for pseudo in ["alsa:null", "alsa:speexrate", "alsa:pulse", "alsa:oss"] {
            assert!(!is_real_device(pseudo), "{pseudo} is a plugin, not a device");
        }
        for real in ["alsa:default", "alsa:hw:CARD=PCH,DEV=0", "alsa:sysdefault:CARD=Headset", "pulseaudio:null"] {
            assert!(is_real_device(real), "{real} is a device");
        }
    }

    #[test]
    fn with_no_devices_at_all_nothing_is_active() {
        let empty = DeviceList { host: "test".into(), inputs: vec![], outputs: vec![], problem: None };
        let sel = resolve(AudioRole::Ringer, None, &empty);
        assert_eq!(sel.active_id, None);
    }
}
