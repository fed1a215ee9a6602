//! Audio devices. This slice lists microphones and speakers through cpal and decides
//! which device each role (microphone, speaker, ringer) uses; streams come with calls.
//!
//! Devices are remembered by cpal's stable id *and* name: the id survives reboots, the
//! name finds a headset again when its id changed (another USB port, a renumbered ALSA
//! card). Enumeration never panics and never blocks the caller for long.

mod devices;
pub mod check;
pub mod dsp;
pub mod io;
#[cfg(target_os = "linux")]
mod pulse;
pub mod stream;
pub mod tones;

pub use devices::{
    enumerate, resolve, AudioDevice, AudioDevices, AudioRole, DeviceList, DevicePreference,
    RoleSelection,
};
