//! Small signal tools: tone generation (ringback, tests), the level of one frequency
//! (Goertzel), RMS for level meters, and the longest run of silence in a recording.

/// `samples` of a sine at `freq` Hz and `amplitude` (0–1 of full scale).
pub fn sine(freq: f32, rate: u32, samples: usize, amplitude: f32) -> Vec<i16> {
    let mut out = vec![0; samples];
    let mut osc = Oscillator::new(freq, rate, amplitude);
    osc.fill(&mut out);
    out
}

/// A sine that continues across frames without allocating.
#[derive(Debug, Clone)]
pub struct Oscillator {
    phase: f64,
    step: f64,
    amplitude: f64,
}

impl Oscillator {
    pub fn new(freq: f32, rate: u32, amplitude: f32) -> Oscillator {
        Oscillator { phase: 0.0, step: std::f64::consts::TAU * f64::from(freq) / f64::from(rate), amplitude: f64::from(amplitude) * 32_767.0 }
    }

    /// Retunes to a new rate, keeping the phase (a codec change mid-call).
    pub fn set_rate(&mut self, freq: f32, rate: u32) {
        self.step = std::f64::consts::TAU * f64::from(freq) / f64::from(rate);
    }

    pub fn fill(&mut self, out: &mut [i16]) {
        for o in out {
            *o = (self.phase.sin() * self.amplitude) as i16;
            self.phase = (self.phase + self.step) % std::f64::consts::TAU;
        }
    }
}

/// The amplitude (0–1 of full scale) of `freq` in `samples` (Goertzel's algorithm).
pub fn goertzel_level(samples: &[i16], rate: u32, freq: f32) -> f32 {
    if samples.is_empty() {
        return 0.0;
    }
    let coeff = 2.0 * (std::f64::consts::TAU * f64::from(freq) / f64::from(rate)).cos();
    let (mut s1, mut s2) = (0f64, 0f64);
    for &x in samples {
        let s = f64::from(x) / 32_768.0 + coeff * s1 - s2;
        s2 = s1;
        s1 = s;
    }
    let power = (s1 * s1 + s2 * s2 - coeff * s1 * s2).max(0.0);
    (2.0 * power.sqrt() / samples.len() as f64) as f32
}

/// Root mean square, 0–1 of full scale.
pub fn rms(samples: &[i16]) -> f32 {
    if samples.is_empty() {
        return 0.0;
    }
    let sum: f64 = samples.iter().map(|&s| (f64::from(s) / 32_768.0).powi(2)).sum();
    (sum / samples.len() as f64).sqrt() as f32
}

/// The longest stretch, in milliseconds, where 10 ms windows are below `threshold` RMS.
pub fn longest_silence_ms(samples: &[i16], rate: u32, threshold: f32) -> u32 {
    let window = (rate / 100) as usize;
    let (mut run, mut longest) = (0u32, 0u32);
    for w in samples.chunks(window.max(1)) {
        if rms(w) < threshold {
            run += 10;
            longest = longest.max(run);
        } else {
            run = 0;
        }
    }
    longest
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn goertzel_finds_the_tone_and_only_it() {
        let tone = sine(440.0, 8_000, 8_000, 0.5);
        assert!((goertzel_level(&tone, 8_000, 440.0) - 0.5).abs() < 0.02);
        assert!(goertzel_level(&tone, 8_000, 1_000.0) < 0.01);
        assert!((rms(&tone) - 0.5 / 2f32.sqrt()).abs() < 0.01);
        let mut gap = tone.clone();
        gap[2_000..2_800].fill(0);
        assert_eq!(longest_silence_ms(&gap, 8_000, 0.01), 100);
    }
}
