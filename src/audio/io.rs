//! What a call's media task reads its sound from and writes the far end's sound to:
//! 20 ms mono frames at the codec's rate. The sound card implementations (`stream`)
//! sit on lock-free rings filled and drained by the device threads; the ones here
//! generate or keep sound in memory (headless calls, tests, the CLI).

use std::sync::{Arc, Mutex};

use crate::media::analysis::Oscillator;

/// The microphone side. `read` never blocks: a source with too little sound fills
/// the rest with silence.
pub trait AudioSource: Send {
    fn read(&mut self, rate: u32, out: &mut [i16]);
    /// Why this source stopped delivering real sound, once (a device gone).
    fn take_problem(&mut self) -> Option<String> {
        None
    }
}

/// The speaker side. `write` never blocks: a full device buffer drops the oldest.
pub trait AudioSink: Send {
    fn write(&mut self, rate: u32, frame: &[i16]);
    /// Silence the device played because nothing was ready (the call's audio came
    /// late: a busy machine, a device running fast), in ms since the sink opened.
    fn gaps_ms(&self) -> u32 {
        0
    }
    fn take_problem(&mut self) -> Option<String> {
        None
    }
}

/// Both sides of one call's sound.
pub struct CallAudio {
    pub source: Box<dyn AudioSource>,
    pub sink: Box<dyn AudioSink>,
    /// Echo cancellation, noise suppression and gain control on the source (a
    /// microphone; not a generated tone).
    pub voice_processing: bool,
}

/// Makes the sound of each new call.
pub type AudioProvider = Arc<dyn Fn() -> CallAudio + Send + Sync>;

/// A steady tone (the far end hears a 440 Hz beep from a headless call).
pub struct ToneSource {
    freq: f32,
    rate: u32,
    osc: Oscillator,
}

impl ToneSource {
    pub fn new(freq: f32, amplitude: f32) -> ToneSource {
        ToneSource { freq, rate: 8_000, osc: Oscillator::new(freq, 8_000, amplitude) }
    }
}

impl AudioSource for ToneSource {
    fn read(&mut self, rate: u32, out: &mut [i16]) {
        if rate != self.rate {
            self.rate = rate;
            self.osc.set_rate(self.freq, rate);
        }
        self.osc.fill(out);
    }
}

pub struct Silence;

impl AudioSource for Silence {
    fn read(&mut self, _: u32, out: &mut [i16]) {
        out.fill(0);
    }
}

impl AudioSink for Silence {
    fn write(&mut self, _: u32, _: &[i16]) {}
}

/// What a recorder kept: the rate and the samples since the rate last changed.
#[derive(Debug, Default, Clone)]
pub struct Recording {
    pub rate: u32,
    pub samples: Vec<i16>,
}

/// Keeps what the far end sent (tests, "test my audio"). Bounded: the oldest sound
/// goes once `max_seconds` are held.
#[derive(Clone)]
pub struct Recorder {
    kept: Arc<Mutex<Recording>>,
    max_seconds: u32,
}

impl Recorder {
    pub fn new(max_seconds: u32) -> Recorder {
        Recorder { kept: Default::default(), max_seconds }
    }

    pub fn recording(&self) -> Recording {
        self.kept.lock().map(|r| r.clone()).unwrap_or_default()
    }
}

impl AudioSink for Recorder {
    fn write(&mut self, rate: u32, frame: &[i16]) {
        let Ok(mut r) = self.kept.lock() else { return };
        if r.rate != rate {
            r.rate = rate;
            r.samples.clear();
        }
        r.samples.extend_from_slice(frame);
        let max = (rate * self.max_seconds) as usize;
        if r.samples.len() > max + rate as usize {
            let extra = r.samples.len() - max;
            r.samples.drain(..extra);
        }
    }
}
