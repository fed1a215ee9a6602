//! The phone's own sounds: the ringtone on the ringer device for an incoming call,
//! and the ringback a caller hears while the far end rings. Both come from
//! `assets/sounds/` and are compiled in, so a missing file cannot silence a call.

use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::Arc;
use std::time::Duration;

use cpal::traits::{DeviceTrait, HostTrait, StreamTrait};

use super::devices::{self, AudioRole, DevicePreference};
use super::stream::Live;

const RINGTONE_WAV: &[u8] = include_bytes!("../../assets/sounds/ringtone.wav");
const RINGBACK_WAV: &[u8] = include_bytes!("../../assets/sounds/ringback.wav");

/// Mono samples and their rate.
#[derive(Debug, Clone)]
pub struct Sound {
    pub rate: u32,
    pub samples: Arc<[i16]>,
}

/// Reads a 16-bit PCM WAV, mixing its channels down to mono.
pub fn decode_wav(bytes: &[u8]) -> Result<Sound, String> {
    let mut reader = hound::WavReader::new(std::io::Cursor::new(bytes)).map_err(|e| e.to_string())?;
    let spec = reader.spec();
    if spec.sample_format != hound::SampleFormat::Int || spec.bits_per_sample != 16 {
        return Err(format!("{}-bit {:?} WAV: only 16-bit PCM is read", spec.bits_per_sample, spec.sample_format));
    }
    let channels = usize::from(spec.channels.max(1));
    let all: Vec<i16> = reader.samples::<i16>().collect::<Result<_, _>>().map_err(|e| e.to_string())?;
    let mono: Vec<i16> = all.chunks(channels).map(|c| (c.iter().map(|&s| i32::from(s)).sum::<i32>() / c.len() as i32) as i16).collect();
    Ok(Sound { rate: spec.sample_rate, samples: mono.into() })
}

pub fn ringtone() -> Sound {
    decode_wav(RINGTONE_WAV).expect("the ringtone asset is a 16-bit WAV")
}

pub fn ringback() -> Sound {
    decode_wav(RINGBACK_WAV).expect("the ringback asset is a 16-bit WAV")
}

/// A sound played in a loop, frame by frame, at any rate (nearest-sample stepping:
/// these are signalling tones, not speech).
#[derive(Debug, Clone)]
pub struct Looped {
    sound: Sound,
    /// Position in the sound, in its own samples, with a fraction.
    pos: f64,
}

impl Looped {
    pub fn new(sound: Sound) -> Looped {
        Looped { sound, pos: 0.0 }
    }

    pub fn rewind(&mut self) {
        self.pos = 0.0;
    }

    pub fn fill(&mut self, rate: u32, out: &mut [i16]) {
        let n = self.sound.samples.len();
        if n == 0 {
            out.fill(0);
            return;
        }
        let step = f64::from(self.sound.rate) / f64::from(rate.max(1));
        for o in out {
            *o = self.sound.samples[self.pos as usize % n];
            self.pos = (self.pos + step) % n as f64;
        }
    }
}

/// Rings on the ringer device until dropped.
pub struct Ringer {
    stop: mpsc::Sender<()>,
}

impl Drop for Ringer {
    fn drop(&mut self) {
        let _ = self.stop.send(());
    }
}

impl Ringer {
    /// Starts the ringtone on `pref` (else the default output). A device that cannot
    /// ring is logged; the incoming-call card still shows.
    pub fn start(pref: Option<DevicePreference>) -> Ringer {
        let (stop, stopped) = mpsc::channel();
        let spawned = std::thread::Builder::new().name("ringer".into()).spawn(move || {
            let stream = match open(pref.as_ref()) {
                Ok(s) => s,
                Err(e) => {
                    tracing::warn!(error = %e, "the ringtone cannot play");
                    return;
                }
            };
            // Until told to stop (or the engine is gone); at most two minutes.
            match stopped.recv_timeout(Duration::from_secs(120)) {
                Ok(()) | Err(RecvTimeoutError::Disconnected) | Err(RecvTimeoutError::Timeout) => drop(stream),
            }
        });
        if let Err(e) = spawned {
            tracing::warn!(%e, "no thread for the ringtone");
        }
        Ringer { stop }
    }
}

fn open(pref: Option<&DevicePreference>) -> Result<Live, String> {
    let list = devices::enumerate();
    let chosen = devices::resolve(AudioRole::Ringer, pref, &list);
    let host = devices::host();
    let device = chosen
        .active_id
        .as_deref()
        .and_then(|id| host.output_devices().ok()?.find(|d| d.id().ok().is_some_and(|i| i.to_string() == id)))
        .or_else(|| host.default_output_device())
        .ok_or("no output device")?;
    #[cfg(target_os = "linux")]
    if let Some(name) = super::pulse::device_name(&device) {
        let mut looped = Looped::new(ringtone());
        let rate = looped.sound.rate;
        let mut scratch = vec![0i16; (rate / 50) as usize];
        let fill = move |out: &mut [f32]| {
            let n = out.len().min(scratch.len());
            looped.fill(rate, &mut scratch[..n]);
            for (o, &s) in out.iter_mut().zip(&scratch[..n]) {
                *o = f32::from(s) / 32_768.0;
            }
        };
        // A small queue: the ring must stop as soon as the call is answered.
        let lost = |e: String| tracing::warn!(%e, "ringer device error");
        return super::pulse::playback(name, rate, 100, fill, lost).map(Live::Pulse);
    }
    let config = device.default_output_config().map_err(|e| e.to_string())?;
    let rate = config.sample_rate();
    let channels = usize::from(config.channels().max(1));
    // The whole ringtone at the device's rate, prepared before the stream starts, so
    // the callback only copies.
    let mut looped = Looped::new(ringtone());
    let len = (u64::from(rate) * looped.sound.samples.len() as u64 / u64::from(looped.sound.rate)) as usize;
    let mut at_rate = vec![0i16; len];
    looped.fill(rate, &mut at_rate);
    let samples: Vec<f32> = at_rate.iter().map(|&s| f32::from(s) / 32_768.0).collect();
    let mut pos = 0usize;
    let err = |e: cpal::Error| tracing::warn!(%e, "ringer device error");
    // A small device buffer: the ring must stop as soon as the call is answered.
    let stream_config = super::stream::low_latency(&config);
    let stream = match config.sample_format() {
        cpal::SampleFormat::F32 => device.build_output_stream::<f32, _, _>(
            stream_config,
            move |data: &mut [f32], _| {
                for frame in data.chunks_exact_mut(channels) {
                    let s = samples[pos];
                    pos = (pos + 1) % samples.len();
                    frame.fill(s);
                }
            },
            err,
            None,
        ),
        cpal::SampleFormat::I16 => device.build_output_stream::<i16, _, _>(
            stream_config,
            move |data: &mut [i16], _| {
                for frame in data.chunks_exact_mut(channels) {
                    let s = at_rate[pos];
                    pos = (pos + 1) % at_rate.len();
                    frame.fill(s);
                }
            },
            err,
            None,
        ),
        other => return Err(format!("the ringer's sample format {other} is not supported")),
    }
    .map_err(|e| e.to_string())?;
    stream.play().map_err(|e| e.to_string())?;
    Ok(Live::Cpal(stream))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::media::analysis::goertzel_level;

    #[test]
    fn the_assets_are_the_tones_they_claim() {
        let rb = ringback();
        assert_eq!(rb.rate, 8_000);
        assert_eq!(rb.samples.len(), 6 * 8_000, "2 s on, 4 s off");
        let on = &rb.samples[1_000..15_000];
        assert!(goertzel_level(on, 8_000, 440.0) > 0.2 && goertzel_level(on, 8_000, 480.0) > 0.2);
        assert!(goertzel_level(&rb.samples[20_000..], 8_000, 440.0) < 0.001, "then silence");
        let rt = ringtone();
        assert_eq!(rt.rate, 16_000);
        // The warble: 50 ms of 1000 Hz, then 50 ms of 1250 Hz.
        let (first, second) = (&rt.samples[160..800], &rt.samples[960..1_600]);
        assert!(goertzel_level(first, 16_000, 1_000.0) > 0.3 && goertzel_level(first, 16_000, 1_250.0) < 0.1);
        assert!(goertzel_level(second, 16_000, 1_250.0) > 0.3);
        assert!(decode_wav(b"RIFF....not a wav").is_err());
    }

    #[test]
    fn a_looped_sound_plays_at_any_rate_and_wraps() {
        let mut l = Looped::new(ringback());
        let mut frame = vec![0i16; 4_800];
        l.fill(48_000, &mut frame);
        assert!(goertzel_level(&frame, 48_000, 440.0) > 0.15 && goertzel_level(&frame, 48_000, 480.0) > 0.15, "resampled to 48 kHz, same pitch");
        let mut rest = vec![0i16; 6 * 8_000 - 800];
        l.fill(8_000, &mut rest);
        l.fill(8_000, &mut frame[..800]);
        assert!(goertzel_level(&frame[..800], 8_000, 440.0) > 0.15, "back to the start after 6 s");
    }
}
