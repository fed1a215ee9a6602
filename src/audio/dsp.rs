//! Voice processing of the microphone before it is encoded: echo cancellation (so
//! the far end does not hear itself through the rep's speakers), noise suppression
//! and automatic gain control — WebRTC's audio processing (AEC3, NS, AGC2) through
//! `sonora`. It works on 10 ms chunks at the codec's rate; what the speaker plays is
//! fed to it as the echo reference.

use sonora::config::{EchoCanceller, GainController2, HighPassFilter, NoiseSuppression};
use sonora::{AudioProcessing, Config, StreamConfig};

/// The delay from a sample handed to the speaker to its echo in the microphone's
/// frames, as an estimate for AEC3 (which also measures it): the playout cushion and
/// device buffer, the capture device buffer and cushion.
const ECHO_PATH_DELAY_MS: i32 = 110;

pub struct VoiceProcessor {
    apm: AudioProcessing,
    capture_rate: u32,
    render_rate: u32,
    scratch: Vec<i16>,
}

/// The rates WebRTC's processing runs at.
pub fn supported_rate(rate: u32) -> bool {
    matches!(rate, 8_000 | 16_000 | 32_000 | 48_000)
}

impl VoiceProcessor {
    /// A processor for the microphone at `capture_rate`, with the speaker's sound at
    /// `render_rate` as the echo reference. None for a rate it cannot take.
    pub fn new(capture_rate: u32, render_rate: u32) -> Option<VoiceProcessor> {
        if !supported_rate(capture_rate) || !supported_rate(render_rate) {
            return None;
        }
        let config = Config {
            high_pass_filter: Some(HighPassFilter::default()),
            echo_canceller: Some(EchoCanceller::default()),
            noise_suppression: Some(NoiseSuppression::default()),
            gain_controller2: Some(GainController2::default()),
            ..Default::default()
        };
        let mut apm = AudioProcessing::builder().config(config).capture_config(StreamConfig::new(capture_rate, 1)).render_config(StreamConfig::new(render_rate, 1)).build();
        let _ = apm.set_stream_delay_ms(ECHO_PATH_DELAY_MS);
        Some(VoiceProcessor { apm, capture_rate, render_rate, scratch: vec![0; 480] })
    }

    pub fn rates(&self) -> (u32, u32) {
        (self.capture_rate, self.render_rate)
    }

    /// What the speaker is about to play (any multiple of 10 ms).
    pub fn render(&mut self, frame: &[i16]) {
        let chunk = (self.render_rate / 100) as usize;
        for c in frame.chunks_exact(chunk) {
            let out = &mut self.scratch[..chunk];
            let _ = self.apm.process_render_i16(c, out);
        }
    }

    /// Cleans the microphone's frame in place (any multiple of 10 ms).
    pub fn capture(&mut self, frame: &mut [i16]) {
        let chunk = (self.capture_rate / 100) as usize;
        let _ = self.apm.set_stream_delay_ms(ECHO_PATH_DELAY_MS);
        for c in frame.chunks_exact_mut(chunk) {
            let out = &mut self.scratch[..chunk];
            if self.apm.process_capture_i16(c, out).is_ok() {
                c.copy_from_slice(out);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::media::analysis::rms;
    use rand::{Rng, SeedableRng};

    /// Speech-like sound: noise through a gentle low-pass, in 200 ms bursts.
    fn talk(samples: usize, seed: u64) -> Vec<i16> {
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
        let mut y = 0f32;
        (0..samples)
            .map(|i| {
                let on = (i / 3_200) % 2 == 0;
                let x: f32 = rng.random_range(-1.0..1.0);
                y = 0.7 * y + 0.3 * x;
                if on { (y * 12_000.0) as i16 } else { 0 }
            })
            .collect()
    }

    #[test]
    fn the_far_ends_voice_coming_back_through_the_speaker_is_cancelled() {
        let rate = 16_000;
        let mut vp = VoiceProcessor::new(rate, rate).unwrap();
        let far = talk(rate as usize * 6, 1);
        // The room: the speaker's sound comes back 40 ms later at half the level.
        let delay = (rate / 25) as usize;
        let mut before = 0f32;
        let mut after = 0f32;
        for (i, frame) in far.chunks_exact(320).enumerate() {
            vp.render(frame);
            let start = i * 320;
            let mut mic: Vec<i16> = (start..start + 320).map(|j| if j >= delay { far[j - delay] / 2 } else { 0 }).collect();
            let echo = rms(&mic);
            vp.capture(&mut mic);
            // After 3 s to converge, compare what would have gone out.
            if start > rate as usize * 3 {
                before += echo * echo;
                after += rms(&mic).powi(2);
            }
        }
        let erle_db = 10.0 * (before / after.max(1e-12)).log10();
        assert!(erle_db > 20.0, "echo reduced by only {erle_db:.1} dB");
        assert!(VoiceProcessor::new(44_100, 16_000).is_none());
    }

    #[test]
    fn the_reps_own_voice_still_goes_out() {
        let rate = 16_000;
        let mut vp = VoiceProcessor::new(rate, rate).unwrap();
        let me = talk(rate as usize * 4, 7);
        let silence = vec![0i16; 320];
        let (mut sent_in, mut sent_out) = (0f32, 0f32);
        for (i, frame) in me.chunks_exact(320).enumerate() {
            vp.render(&silence);
            let mut mic = frame.to_vec();
            vp.capture(&mut mic);
            if i > 100 {
                sent_in += rms(frame).powi(2);
                sent_out += rms(&mic).powi(2);
            }
        }
        let kept_db = 10.0 * (sent_out / sent_in).log10();
        assert!(kept_db > -6.0, "the rep's voice lost {kept_db:.1} dB");
    }
}
