//! The sound card side of a call: input and output streams on a thread of their own,
//! joined to the call's media task by lock-free rings (`rtrb`). On a PulseAudio (or
//! PipeWire) host the streams are libpulse's (`pulse.rs` says why); elsewhere cpal's.
//!
//! - The device callbacks only move samples between the device buffer and a ring:
//!   no allocation, no lock, no wait. A full ring drops; an empty one plays silence.
//! - The media task resamples between the device's rate and the codec's (`rubato`)
//!   and keeps the rings near their target fill, which also absorbs the drift between
//!   the sound card's clock and the far end's.
//! - A device that fails (unplugged) is replaced by the system default and the rep
//!   is told; the preferred device is taken back when it returns, mid-call too. The
//!   rep can move a live call to another device. A missing device never stops a call:
//!   its side is silent until one is there.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use cpal::traits::{DeviceTrait, HostTrait, StreamTrait};
use rubato::{FftFixedIn, FftFixedOut, Resampler};

use super::devices::{self, AudioRole, DevicePreference};
use super::io::{AudioSink, AudioSource, CallAudio};

/// How often the device thread looks for a preferred device that came back.
const RECHECK: Duration = Duration::from_secs(2);
/// The fill the rings are kept near at their lowest point over a second, in ms: a
/// device that takes sound in bursts makes the fill swing, so only a floor that
/// stays high means delay building up (clock drift, a stalled task).
const TARGET_FILL_MS: u32 = 20;
/// At most this much is skipped per second to give delay back, in ms.
const MAX_SKIP_MS: u32 = 10;
/// Frames (20 ms) between drift checks.
const DRIFT_WINDOW: u32 = 50;
/// Sound held back before playout starts (and again after running dry), in ms: a
/// cushion against the media task's scheduling, so the device never plays a gap.
/// cpal's callbacks come in device-buffer bursts and need more than the sound
/// server's steady 10 ms chunks, which sit behind a server-side queue of their own.
const PRIME_MS: u32 = 30;
#[cfg(target_os = "linux")]
const PULSE_PRIME_MS: u32 = 10;
/// A ring holding more than this (a device that stalled, a task that fell behind) is
/// cut back to its cushion at once, in ms: drift correction alone would take minutes
/// to give back a second.
const MAX_FILL_MS: u32 = 150;
/// The device buffer asked for, in ms.
const DEVICE_BUFFER_MS: u32 = 40;
/// Playback queued at the sound server (PulseAudio/PipeWire), in ms.
#[cfg(target_os = "linux")]
const PULSE_PLAYBACK_MS: u32 = 30;
/// How long the sound server's writer waits for the call's next frame.
#[cfg(target_os = "linux")]
const PULSE_WAIT: Duration = Duration::from_millis(10);

/// Which device each role uses, shared by the app and every live call.
pub struct AudioHub {
    prefs: Mutex<[Option<DevicePreference>; 3]>,
    /// Echo cancellation, noise suppression and gain control for new calls.
    voice_processing: std::sync::atomic::AtomicBool,
    calls: Mutex<Vec<Weak<DeviceThread>>>,
}

fn slot(role: AudioRole) -> usize {
    match role {
        AudioRole::Microphone => 0,
        AudioRole::Speaker => 1,
        AudioRole::Ringer => 2,
    }
}

impl AudioHub {
    pub fn new() -> Arc<AudioHub> {
        Arc::new(AudioHub { prefs: Default::default(), voice_processing: true.into(), calls: Default::default() })
    }

    /// Voice processing on or off from the next call.
    pub fn set_voice_processing(&self, on: bool) {
        self.voice_processing.store(on, Ordering::Relaxed);
    }

    pub fn preference(&self, role: AudioRole) -> Option<DevicePreference> {
        self.prefs.lock().ok().and_then(|p| p[slot(role)].clone())
    }

    /// The rep picked another device: remembered for new calls and applied to the
    /// live ones at once.
    pub fn set_preference(&self, role: AudioRole, pref: Option<DevicePreference>) {
        if let Ok(mut p) = self.prefs.lock() {
            p[slot(role)] = pref.clone();
        }
        if role == AudioRole::Ringer {
            return;
        }
        if let Ok(mut calls) = self.calls.lock() {
            calls.retain(|c| match c.upgrade() {
                Some(t) => {
                    let _ = t.control.send(Control::Switch(role, pref.clone()));
                    true
                }
                None => false,
            });
        }
    }

    /// Opens the microphone and speaker for a new call.
    pub fn call_audio(self: &Arc<Self>) -> CallAudio {
        let thread = DeviceThread::start(self.preference(AudioRole::Microphone), self.preference(AudioRole::Speaker));
        if let Ok(mut calls) = self.calls.lock() {
            calls.retain(|c| c.strong_count() > 0);
            calls.push(Arc::downgrade(&thread));
        }
        CallAudio {
            source: Box::new(DeviceSource { thread: thread.clone(), ring: None, device_rate: 0, prime_ms: PRIME_MS, resampler: None, primed: false, drift: Drift::default(), scratch: vec![vec![0.0; 8_192]], resampled: vec![vec![0.0; 2_048]] }),
            sink: Box::new(DeviceSink { thread, ring: None, device_rate: 0, prime_ms: PRIME_MS, resampler: None, drift: Drift::default(), input: vec![vec![0.0; 2_048]], resampled: vec![vec![0.0; 8_192]] }),
            voice_processing: self.voice_processing.load(Ordering::Relaxed),
        }
    }
}

enum Control {
    Lost(AudioRole, String),
    Switch(AudioRole, Option<DevicePreference>),
    Stop,
}

/// The thread that owns one call's device streams.
pub struct DeviceThread {
    control: Sender<Control>,
    inputs: Mutex<Receiver<Handoff<rtrb::Consumer<f32>>>>,
    outputs: Mutex<Receiver<Handoff<rtrb::Producer<f32>>>>,
    problems: Mutex<Vec<String>>,
    /// Samples the output callback had to make up (ring empty), for the statistics.
    pub underruns: Arc<AtomicU32>,
}

impl Drop for DeviceThread {
    fn drop(&mut self) {
        let _ = self.control.send(Control::Stop);
    }
}

impl DeviceThread {
    fn start(mic: Option<DevicePreference>, speaker: Option<DevicePreference>) -> Arc<DeviceThread> {
        let (control, control_rx) = mpsc::channel();
        let (in_tx, in_rx) = mpsc::channel();
        let (out_tx, out_rx) = mpsc::channel();
        let (problem_tx, problem_rx) = mpsc::channel::<String>();
        let underruns = Arc::new(AtomicU32::new(0));
        let thread = Arc::new(DeviceThread { control: control.clone(), inputs: Mutex::new(in_rx), outputs: Mutex::new(out_rx), problems: Mutex::new(Vec::new()), underruns: underruns.clone() });
        let weak = Arc::downgrade(&thread);
        let spawned = std::thread::Builder::new().name("call-audio".into()).spawn(move || {
            let mut devices = Devices { control, input: None, output: None, prefs: [mic, speaker], fallback: [false, false], active: [None, None], in_tx, out_tx, problems: problem_tx, underruns };
            devices.open(AudioRole::Microphone, false);
            devices.open(AudioRole::Speaker, false);
            loop {
                match control_rx.recv_timeout(RECHECK) {
                    Ok(Control::Stop) | Err(RecvTimeoutError::Disconnected) => break,
                    Ok(Control::Lost(role, why)) => {
                        tracing::warn!(role = role.label(), %why, "audio device lost");
                        devices.close(role);
                        devices.open(role, true);
                    }
                    Ok(Control::Switch(role, pref)) => {
                        devices.prefs[role_index(role)] = pref;
                        devices.close(role);
                        devices.open(role, false);
                    }
                    Err(RecvTimeoutError::Timeout) => devices.recheck(),
                }
                // Problems go to the call's media task through the thread's list.
                if let Some(t) = weak.upgrade() {
                    if let Ok(mut list) = t.problems.lock() {
                        list.extend(problem_rx.try_iter());
                    }
                }
            }
        });
        if let Err(e) = spawned {
            tracing::error!(%e, "no thread for the call's audio devices");
            if let Ok(mut p) = thread.problems.lock() {
                p.push("The sound devices could not be opened for this call.".into());
            }
        }
        thread
    }

    fn take_problem(&self) -> Option<String> {
        self.problems.lock().ok().and_then(|mut p| (!p.is_empty()).then(|| p.remove(0)))
    }
}

fn role_index(role: AudioRole) -> usize {
    if role == AudioRole::Microphone {
        0
    } else {
        1
    }
}

/// A device's ring for the media task: its rate and the cushion it needs, in ms.
type Handoff<T> = (T, u32, u32);

/// An open device stream; dropping it closes the device.
pub(crate) enum Live {
    #[allow(dead_code)]
    Cpal(cpal::Stream),
    #[cfg(target_os = "linux")]
    #[allow(dead_code)]
    Pulse(super::pulse::PulseStream),
}

struct Devices {
    control: Sender<Control>,
    input: Option<Live>,
    output: Option<Live>,
    prefs: [Option<DevicePreference>; 2],
    /// The preferred device is absent and the default is in use.
    fallback: [bool; 2],
    /// The id of the device open for each role.
    active: [Option<String>; 2],
    in_tx: Sender<Handoff<rtrb::Consumer<f32>>>,
    out_tx: Sender<Handoff<rtrb::Producer<f32>>>,
    problems: Sender<String>,
    underruns: Arc<AtomicU32>,
}

impl Devices {
    fn close(&mut self, role: AudioRole) {
        if role == AudioRole::Microphone {
            self.input = None;
        } else {
            self.output = None;
        }
    }

    /// Opens the preferred device for `role`, else the default. `after_loss`: the
    /// device in use just failed, so the rep hears about the change.
    fn open(&mut self, role: AudioRole, after_loss: bool) {
        let i = role_index(role);
        let pref = self.prefs[i].clone();
        let list = devices::enumerate();
        let chosen = devices::resolve(role, pref.as_ref(), &list);
        let host = devices::host();
        let device = chosen.active_id.as_deref().and_then(|id| find_device(&host, id, role)).or_else(|| if role.is_input() { host.default_input_device() } else { host.default_output_device() });
        let name = device.as_ref().and_then(|d| d.description().ok()).map(|d| d.name().to_string()).unwrap_or_else(|| "none".into());
        self.active[i] = device.as_ref().and_then(|d| d.id().ok()).map(|id| id.to_string());
        let opened = device.ok_or_else(|| format!("no {} is available", role.label())).and_then(|d| self.build(role, &d));
        match opened {
            Ok(()) => {
                self.fallback[i] = chosen.fallback;
                tracing::info!(role = role.label(), device = %name, fallback = chosen.fallback, "call audio device open");
                if chosen.fallback || after_loss {
                    let missing = pref.as_ref().map(|p| p.name.as_str()).unwrap_or("device");
                    let _ = self.problems.send(format!("Your {} \u{201c}{missing}\u{201d} is not available; the call continues on \u{201c}{name}\u{201d}.", role.label()));
                }
            }
            Err(e) => {
                self.fallback[i] = pref.is_some();
                tracing::warn!(role = role.label(), error = %e, "no call audio device");
                let _ = self.problems.send(format!("No {} could be opened ({e}); the call continues without it.", role.label()));
            }
        }
    }

    /// The device in use went away without an error (a sound server may move the
    /// stream by itself): the rep is told and the default is opened properly. On a
    /// fallback (or on nothing), the preferred device is back: use it again.
    fn recheck(&mut self) {
        let list = devices::enumerate();
        for role in [AudioRole::Microphone, AudioRole::Speaker] {
            let i = role_index(role);
            let pool = if role.is_input() { &list.inputs } else { &list.outputs };
            if let Some(active) = &self.active[i] {
                if !pool.iter().any(|d| &d.id == active) {
                    tracing::warn!(role = role.label(), device = %active, "audio device gone");
                    self.close(role);
                    self.open(role, true);
                    continue;
                }
            }
            let missing = (role.is_input() && self.input.is_none()) || (!role.is_input() && self.output.is_none());
            if !(self.fallback[i] || missing) {
                continue;
            }
            let sel = devices::resolve(role, self.prefs[i].as_ref(), &list);
            if (!sel.fallback && self.fallback[i]) || (missing && sel.active_id.is_some()) {
                tracing::info!(role = role.label(), "the preferred audio device is back");
                self.close(role);
                self.open(role, false);
                if !self.fallback[i] {
                    let name = self.prefs[i].as_ref().map(|p| p.name.clone()).unwrap_or_else(|| "the default device".into());
                    let _ = self.problems.send(format!("Your {} \u{201c}{name}\u{201d} is back and in use.", role.label()));
                }
            }
        }
    }

    fn build(&mut self, role: AudioRole, device: &cpal::Device) -> Result<(), String> {
        let lost = self.control.clone();
        let on_error = move |e: String| {
            // Runs on the device's thread; a send does not block.
            let _ = lost.send(Control::Lost(role, e));
        };
        #[cfg(target_os = "linux")]
        if let Some(name) = super::pulse::device_name(device) {
            use super::pulse;
            let rate = pulse::RATE;
            if role.is_input() {
                let (producer, consumer) = rtrb::RingBuffer::new(rate as usize);
                self.input = Some(Live::Pulse(pulse::capture(name, producer, on_error)?));
                let _ = self.in_tx.send((consumer, rate, PULSE_PRIME_MS));
            } else {
                let (producer, mut consumer) = rtrb::RingBuffer::new(rate as usize);
                // No cushion in the ring: the server still holds 20–30 ms when it asks
                // for more, so the writer waits a little for the call's next frame
                // instead of playing a gap.
                let mut playout = Playout::new(rate, 0, self.underruns.clone());
                let fill = move |out: &mut [f32]| {
                    let deadline = std::time::Instant::now() + PULSE_WAIT;
                    while consumer.slots() < out.len() && std::time::Instant::now() < deadline {
                        std::thread::sleep(Duration::from_millis(1));
                    }
                    let mut it = out.iter_mut();
                    playout.pull(&mut consumer, it.len(), |s| {
                        if let Some(o) = it.next() {
                            *o = s;
                        }
                    });
                };
                self.output = Some(Live::Pulse(pulse::playback(name, rate, PULSE_PLAYBACK_MS, fill, on_error)?));
                let _ = self.out_tx.send((producer, rate, 0));
            }
            return Ok(());
        }
        let on_error = move |e: cpal::Error| on_error(e.to_string());
        if role.is_input() {
            let config = device.default_input_config().map_err(|e| e.to_string())?;
            let rate = config.sample_rate();
            let channels = usize::from(config.channels().max(1));
            let (producer, consumer) = rtrb::RingBuffer::new(rate as usize);
            let stream = match config.sample_format() {
                cpal::SampleFormat::F32 => build_input::<f32>(device, &low_latency(&config), channels, producer, on_error),
                cpal::SampleFormat::I16 => build_input::<i16>(device, &low_latency(&config), channels, producer, on_error),
                cpal::SampleFormat::I32 => build_input::<i32>(device, &low_latency(&config), channels, producer, on_error),
                cpal::SampleFormat::U16 => build_input::<u16>(device, &low_latency(&config), channels, producer, on_error),
                other => return Err(format!("the microphone's sample format {other} is not supported")),
            }?;
            stream.play().map_err(|e| e.to_string())?;
            self.input = Some(Live::Cpal(stream));
            let _ = self.in_tx.send((consumer, rate, PRIME_MS));
        } else {
            let config = device.default_output_config().map_err(|e| e.to_string())?;
            let rate = config.sample_rate();
            let channels = usize::from(config.channels().max(1));
            let (producer, consumer) = rtrb::RingBuffer::new(rate as usize);
            let playout = Playout::new(rate, PRIME_MS, self.underruns.clone());
            let stream = match config.sample_format() {
                cpal::SampleFormat::F32 => build_output::<f32>(device, &low_latency(&config), channels, consumer, playout, on_error),
                cpal::SampleFormat::I16 => build_output::<i16>(device, &low_latency(&config), channels, consumer, playout, on_error),
                cpal::SampleFormat::I32 => build_output::<i32>(device, &low_latency(&config), channels, consumer, playout, on_error),
                cpal::SampleFormat::U16 => build_output::<u16>(device, &low_latency(&config), channels, consumer, playout, on_error),
                other => return Err(format!("the speaker's sample format {other} is not supported")),
            }?;
            stream.play().map_err(|e| e.to_string())?;
            self.output = Some(Live::Cpal(stream));
            let _ = self.out_tx.send((producer, rate, PRIME_MS));
        }
        Ok(())
    }
}

/// A small device buffer (40 ms) for talk: a sound server's default is seconds of
/// playback buffer, which a call would hear as delay and lost sound.
pub(crate) fn low_latency(supported: &cpal::SupportedStreamConfig) -> cpal::StreamConfig {
    let mut config = supported.config();
    let want = supported.sample_rate() * DEVICE_BUFFER_MS / 1_000;
    config.buffer_size = match *supported.buffer_size() {
        cpal::SupportedBufferSize::Range { min, max } => cpal::BufferSize::Fixed(want.clamp(min, max)),
        cpal::SupportedBufferSize::Unknown => cpal::BufferSize::Fixed(want),
    };
    config
}

fn find_device(host: &cpal::Host, id: &str, role: AudioRole) -> Option<cpal::Device> {
    let mut list = if role.is_input() { host.input_devices().ok()? } else { host.output_devices().ok()? };
    list.find(|d| d.id().ok().is_some_and(|i| i.to_string() == id))
}

fn build_input<T>(device: &cpal::Device, config: &cpal::StreamConfig, channels: usize, mut ring: rtrb::Producer<f32>, on_error: impl FnMut(cpal::Error) + Send + 'static) -> Result<cpal::Stream, String>
where
    T: cpal::SizedSample,
    f32: cpal::FromSample<T>,
{
    device
        .build_input_stream::<T, _, _>(
            *config,
            move |data: &[T], _| {
                // Real-time: mix down to mono and push; a full ring drops the rest.
                for frame in data.chunks_exact(channels) {
                    let sum: f32 = frame.iter().map(|&s| <f32 as cpal::FromSample<T>>::from_sample_(s)).sum();
                    if ring.push(sum / channels as f32).is_err() {
                        break;
                    }
                }
            },
            on_error,
            None,
        )
        .map_err(|e| e.to_string())
}

fn build_output<T>(device: &cpal::Device, config: &cpal::StreamConfig, channels: usize, mut ring: rtrb::Consumer<f32>, mut playout: Playout, on_error: impl FnMut(cpal::Error) + Send + 'static) -> Result<cpal::Stream, String>
where
    T: cpal::SizedSample + cpal::FromSample<f32>,
{
    device
        .build_output_stream::<T, _, _>(
            *config,
            move |data: &mut [T], _| {
                // Real-time: one mono sample per frame to every channel.
                let mut frames = data.chunks_exact_mut(channels);
                playout.pull(&mut ring, frames.len(), |s| {
                    if let Some(frame) = frames.next() {
                        frame.fill(T::from_sample_(s));
                    }
                });
            },
            on_error,
            None,
        )
        .map_err(|e| e.to_string())
}

/// What the speaker plays from the call's ring: silence until the ring holds its
/// cushion, and again after it ran dry. Real-time: no allocation, no lock.
struct Playout {
    prime: usize,
    max: usize,
    primed: bool,
    underruns: Arc<AtomicU32>,
}

impl Playout {
    fn new(rate: u32, prime_ms: u32, underruns: Arc<AtomicU32>) -> Playout {
        Playout { prime: (rate * prime_ms / 1_000) as usize, max: (rate * MAX_FILL_MS / 1_000) as usize, primed: false, underruns }
    }

    /// Hands `frames` samples to `put`.
    fn pull(&mut self, ring: &mut rtrb::Consumer<f32>, frames: usize, mut put: impl FnMut(f32)) {
        cut_back(ring, self.max, self.prime + frames);
        if !self.primed && ring.slots() < self.prime + frames {
            (0..frames).for_each(|_| put(0.0));
            return;
        }
        self.primed = true;
        let mut missing = 0u32;
        for _ in 0..frames {
            put(ring.pop().unwrap_or_else(|_| {
                missing += 1;
                0.0
            }));
        }
        if missing > 0 {
            self.primed = false;
            self.underruns.fetch_add(missing, Ordering::Relaxed);
        }
    }
}

/// The ring of the device opened last (after a switch or a fallback), with its rate.
fn newest<T>(handoff: &Mutex<Receiver<Handoff<T>>>) -> Option<Handoff<T>> {
    handoff.lock().ok().and_then(|rx| rx.try_iter().last())
}

/// The microphone as a call's audio source.
struct DeviceSource {
    thread: Arc<DeviceThread>,
    ring: Option<rtrb::Consumer<f32>>,
    device_rate: u32,
    prime_ms: u32,
    /// (codec rate, resampler from the device's rate) when the two differ.
    resampler: Option<(u32, usize, FftFixedOut<f32>)>,
    /// The ring held its cushion once; cleared when it runs dry.
    primed: bool,
    drift: Drift,
    scratch: Vec<Vec<f32>>,
    resampled: Vec<Vec<f32>>,
}

impl AudioSource for DeviceSource {
    fn read(&mut self, rate: u32, out: &mut [i16]) {
        if let Some((ring, device_rate, prime_ms)) = newest(&self.thread.inputs) {
            self.ring = Some(ring);
            self.device_rate = device_rate;
            self.prime_ms = prime_ms;
            self.resampler = None;
        }
        let Some(ring) = self.ring.as_mut() else {
            out.fill(0);
            return;
        };
        let direct = self.device_rate == rate;
        if !direct && self.resampler.as_ref().is_none_or(|r| r.0 != rate || r.1 != out.len()) {
            self.resampler = FftFixedOut::<f32>::new(self.device_rate as usize, rate as usize, out.len(), 2, 1).ok().map(|r| (rate, out.len(), r));
        }
        let need = if direct { out.len() } else { self.resampler.as_ref().map_or(out.len(), |r| r.2.input_frames_next()) };
        let prime = (self.device_rate * self.prime_ms / 1_000) as usize;
        cut_back(ring, (self.device_rate * MAX_FILL_MS / 1_000) as usize, need + prime);
        // Drift: the lowest fill over a second above the target means the card
        // delivers faster than we take; a few ms are skipped to give the delay back.
        let available = ring.slots();
        self.drift.observe(available.saturating_sub(need));
        if let Some(skip) = self.drift.excess(self.device_rate, self.prime_ms) {
            if let Ok(chunk) = ring.read_chunk(skip.min(available.saturating_sub(need))) {
                chunk.commit_all();
            }
        }
        if (!self.primed && ring.slots() < need + prime) || ring.slots() < need || need > self.scratch[0].len() {
            self.primed = false;
            out.fill(0);
            return;
        }
        self.primed = true;
        let Ok(chunk) = ring.read_chunk(need) else {
            out.fill(0);
            return;
        };
        let (a, b) = chunk.as_slices();
        self.scratch[0][..a.len()].copy_from_slice(a);
        self.scratch[0][a.len()..need].copy_from_slice(b);
        chunk.commit_all();
        if direct {
            for (o, &s) in out.iter_mut().zip(&self.scratch[0][..need]) {
                *o = to_i16(s);
            }
            return;
        }
        let Some((_, _, r)) = self.resampler.as_mut() else {
            out.fill(0);
            return;
        };
        let input = [&self.scratch[0][..need]];
        match r.process_into_buffer(&input, &mut self.resampled, None) {
            Ok((_, produced)) => {
                for (o, &s) in out.iter_mut().zip(&self.resampled[0][..produced]) {
                    *o = to_i16(s);
                }
                let n = produced.min(out.len());
                out[n..].fill(0);
            }
            Err(_) => out.fill(0),
        }
    }

    fn take_problem(&mut self) -> Option<String> {
        self.thread.take_problem()
    }
}

/// The speaker as a call's audio sink.
struct DeviceSink {
    thread: Arc<DeviceThread>,
    ring: Option<rtrb::Producer<f32>>,
    device_rate: u32,
    prime_ms: u32,
    resampler: Option<(u32, usize, FftFixedIn<f32>)>,
    drift: Drift,
    input: Vec<Vec<f32>>,
    resampled: Vec<Vec<f32>>,
}

impl AudioSink for DeviceSink {
    fn gaps_ms(&self) -> u32 {
        match self.device_rate {
            0 => 0,
            rate => (u64::from(self.thread.underruns.load(Ordering::Relaxed)) * 1_000 / u64::from(rate)) as u32,
        }
    }

    fn write(&mut self, rate: u32, frame: &[i16]) {
        if let Some((ring, device_rate, prime_ms)) = newest(&self.thread.outputs) {
            self.ring = Some(ring);
            self.device_rate = device_rate;
            self.prime_ms = prime_ms;
            self.resampler = None;
        }
        let Some(ring) = self.ring.as_mut() else { return };
        if frame.len() > self.input[0].len() {
            return;
        }
        for (i, &s) in self.input[0].iter_mut().zip(frame) {
            *i = f32::from(s) / 32_768.0;
        }
        let samples: &[f32] = if self.device_rate == rate {
            &self.input[0][..frame.len()]
        } else {
            if self.resampler.as_ref().is_none_or(|r| r.0 != rate || r.1 != frame.len()) {
                self.resampler = FftFixedIn::<f32>::new(rate as usize, self.device_rate as usize, frame.len(), 2, 1).ok().map(|r| (rate, frame.len(), r));
            }
            let Some((_, _, r)) = self.resampler.as_mut() else { return };
            let input = [&self.input[0][..frame.len()]];
            match r.process_into_buffer(&input, &mut self.resampled, None) {
                Ok((_, produced)) => &self.resampled[0][..produced],
                Err(_) => return,
            }
        };
        // Drift: the lowest fill over a second above the target means the card plays
        // slower than the far end sends; a few ms of this frame are left out.
        let filled = ring.buffer().capacity() - ring.slots();
        self.drift.observe(filled);
        let skip = self.drift.excess(self.device_rate, self.prime_ms).unwrap_or(0).min(samples.len());
        let samples = &samples[skip..];
        if let Ok(chunk) = ring.write_chunk_uninit(samples.len().min(ring.slots())) {
            chunk.fill_from_iter(samples.iter().copied());
        }
    }

    fn take_problem(&mut self) -> Option<String> {
        self.thread.take_problem()
    }
}

/// The lowest fill of a ring over a window of frames, and how much of it is delay
/// to give back.
#[derive(Debug, Default)]
struct Drift {
    lowest: Option<usize>,
    frames: u32,
}

impl Drift {
    fn observe(&mut self, fill: usize) {
        self.lowest = Some(self.lowest.map_or(fill, |l| l.min(fill)));
        self.frames += 1;
    }

    /// At the end of a window: the samples to skip, if the floor stayed high.
    fn excess(&mut self, rate: u32, prime_ms: u32) -> Option<usize> {
        if self.frames < DRIFT_WINDOW {
            return None;
        }
        let lowest = self.lowest.take().unwrap_or(0);
        self.frames = 0;
        let target = (rate * (TARGET_FILL_MS + prime_ms) / 1_000) as usize;
        (lowest > target).then(|| (lowest - target).min((rate * MAX_SKIP_MS / 1_000) as usize))
    }
}

/// Drops the oldest samples of a ring that holds more than `max`, down to `keep`.
/// Real-time safe.
fn cut_back(ring: &mut rtrb::Consumer<f32>, max: usize, keep: usize) {
    let held = ring.slots();
    if held > max {
        if let Ok(chunk) = ring.read_chunk(held - keep.min(held)) {
            chunk.commit_all();
        }
    }
}

fn to_i16(s: f32) -> i16 {
    (s.clamp(-1.0, 1.0) * 32_767.0) as i16
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_speakers_gaps_are_counted_once_primed_and_told_in_ms() {
        let underruns = Arc::new(AtomicU32::new(0));
        let (mut tx, mut rx) = rtrb::RingBuffer::<f32>::new(4_800);
        let mut playout = Playout::new(48_000, 20, underruns.clone());
        let mut out = Vec::new();
        // Not primed yet: silence, not counted (the call's sound has not started).
        playout.pull(&mut rx, 480, |s| out.push(s));
        assert_eq!(underruns.load(Ordering::Relaxed), 0);
        for _ in 0..1_440 {
            tx.push(0.5).unwrap();
        }
        playout.pull(&mut rx, 480, |s| out.push(s));
        playout.pull(&mut rx, 480, |s| out.push(s));
        assert_eq!(underruns.load(Ordering::Relaxed), 0, "enough was ready");
        // 480 left; asking for 960 makes up 480 samples: 10 ms at 48 kHz.
        playout.pull(&mut rx, 960, |s| out.push(s));
        assert_eq!(underruns.load(Ordering::Relaxed), 480);
        let (_, sink_rx) = std::sync::mpsc::channel::<Handoff<rtrb::Producer<f32>>>();
        let (control, _) = std::sync::mpsc::channel();
        let (_, in_rx) = std::sync::mpsc::channel();
        let thread = Arc::new(DeviceThread { control, inputs: Mutex::new(in_rx), outputs: Mutex::new(sink_rx), problems: Mutex::new(Vec::new()), underruns });
        let sink = DeviceSink { thread, ring: None, device_rate: 48_000, prime_ms: 20, resampler: None, drift: Drift::default(), input: vec![], resampled: vec![] };
        assert_eq!(sink.gaps_ms(), 10);
    }
}
