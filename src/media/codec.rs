//! The audio codecs a call can carry: Opus (RFC 7587), G.722, PCMU and PCMA (G.711).
//! Every codec works on 20 ms frames of mono 16-bit samples at its own audio rate
//! (48 kHz, 16 kHz, 8 kHz); the media task resamples the devices to that rate.
//!
//! G.711 is a few lines of table-free arithmetic and is written here; G.722 is the
//! public-domain ITU coder in `ezk-g722`; Opus is libopus through the `opus` crate.

use std::fmt;

/// Milliseconds of audio in one RTP packet, in both directions.
pub const FRAME_MS: u32 = 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CodecKind {
    Opus,
    G722,
    Pcmu,
    Pcma,
}

impl CodecKind {
    /// From an rtpmap's encoding name and clock rate.
    pub fn from_rtpmap(name: &str, rtp_rate: u32) -> Option<CodecKind> {
        match (name.to_ascii_uppercase().as_str(), rtp_rate) {
            ("OPUS", 48_000) => Some(CodecKind::Opus),
            // G.722's RTP clock is 8000 although it samples at 16 kHz (RFC 3551 §4.5.2).
            ("G722", 8_000) => Some(CodecKind::G722),
            ("PCMU", 8_000) => Some(CodecKind::Pcmu),
            ("PCMA", 8_000) => Some(CodecKind::Pcma),
            _ => None,
        }
    }

    /// The rate the codec's audio is sampled at.
    pub fn audio_rate(self) -> u32 {
        match self {
            CodecKind::Opus => 48_000,
            CodecKind::G722 => 16_000,
            CodecKind::Pcmu | CodecKind::Pcma => 8_000,
        }
    }

    /// The RTP timestamp clock.
    pub fn rtp_rate(self) -> u32 {
        match self {
            CodecKind::Opus => 48_000,
            _ => 8_000,
        }
    }

    /// Samples in one frame at the audio rate.
    pub fn frame_samples(self) -> usize {
        (self.audio_rate() * FRAME_MS / 1_000) as usize
    }

    /// How far the RTP timestamp moves per frame.
    pub fn frame_ticks(self) -> u32 {
        self.rtp_rate() * FRAME_MS / 1_000
    }

    pub fn name(self) -> &'static str {
        match self {
            CodecKind::Opus => "opus",
            CodecKind::G722 => "G722",
            CodecKind::Pcmu => "PCMU",
            CodecKind::Pcma => "PCMA",
        }
    }
}

#[derive(Debug)]
pub struct CodecError(pub String);

impl fmt::Display for CodecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for CodecError {}

impl From<opus::Error> for CodecError {
    fn from(e: opus::Error) -> Self {
        CodecError(format!("opus: {e}"))
    }
}

/// Opus settings taken from the far end's fmtp (RFC 7587 §6.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpusOptions {
    /// In-band forward error correction: lost packets are rebuilt from the next one.
    pub fec: bool,
    /// Discontinuous transmission: a packet every 400 ms in silence.
    pub dtx: bool,
}

impl Default for OpusOptions {
    fn default() -> Self {
        OpusOptions { fec: true, dtx: false }
    }
}

pub enum Encoder {
    Pcmu,
    Pcma,
    G722(ezk_g722::libg722::encoder::Encoder),
    Opus(Box<opus::Encoder>),
}

impl Encoder {
    pub fn new(kind: CodecKind, opus_options: OpusOptions) -> Result<Encoder, CodecError> {
        use ezk_g722::libg722::{encoder, Bitrate};
        Ok(match kind {
            CodecKind::Pcmu => Encoder::Pcmu,
            CodecKind::Pcma => Encoder::Pcma,
            CodecKind::G722 => Encoder::G722(encoder::Encoder::new(Bitrate::Mode1_64000, false, false)),
            CodecKind::Opus => {
                let mut e = opus::Encoder::new(48_000, opus::Channels::Mono, opus::Application::Voip)?;
                e.set_inband_fec(opus_options.fec)?;
                // FEC only helps when the encoder expects loss; 10 % is the usual setting.
                e.set_packet_loss_perc(if opus_options.fec { 10 } else { 0 })?;
                e.set_dtx(opus_options.dtx)?;
                e.set_bitrate(opus::Bitrate::Bits(32_000))?;
                Encoder::Opus(Box::new(e))
            }
        })
    }

    /// Encodes one frame (`kind.frame_samples()` samples), appending the payload to `out`.
    pub fn encode(&mut self, pcm: &[i16], out: &mut Vec<u8>) -> Result<(), CodecError> {
        match self {
            Encoder::Pcmu => out.extend(pcm.iter().map(|&s| ulaw(s))),
            Encoder::Pcma => out.extend(pcm.iter().map(|&s| alaw(s))),
            Encoder::G722(e) => out.extend_from_slice(&e.encode(pcm)),
            Encoder::Opus(e) => {
                let start = out.len();
                out.resize(start + 1_275, 0);
                let n = e.encode(pcm, &mut out[start..])?;
                out.truncate(start + n);
            }
        }
        Ok(())
    }
}

pub enum Decoder {
    Pcmu(Concealer),
    Pcma(Concealer),
    G722(Box<ezk_g722::libg722::decoder::Decoder>, Concealer),
    Opus(Box<opus::Decoder>),
}

impl Decoder {
    pub fn new(kind: CodecKind) -> Result<Decoder, CodecError> {
        use ezk_g722::libg722::{decoder, Bitrate};
        let frame = kind.frame_samples();
        Ok(match kind {
            CodecKind::Pcmu => Decoder::Pcmu(Concealer::new(frame)),
            CodecKind::Pcma => Decoder::Pcma(Concealer::new(frame)),
            CodecKind::G722 => Decoder::G722(Box::new(decoder::Decoder::new(Bitrate::Mode1_64000, false, false)), Concealer::new(frame)),
            CodecKind::Opus => Decoder::Opus(Box::new(opus::Decoder::new(48_000, opus::Channels::Mono)?)),
        })
    }

    /// Decodes one payload into `out` (a frame's worth), returning the samples written.
    /// A payload of the wrong size for the codec is an error, not a crash.
    pub fn decode(&mut self, payload: &[u8], out: &mut [i16]) -> Result<usize, CodecError> {
        let frame = out.len();
        let n = match self {
            Decoder::Pcmu(c) => {
                let n = payload.len().min(frame);
                for (o, &b) in out.iter_mut().zip(payload) {
                    *o = ulaw_to_linear(b);
                }
                c.remember(&out[..n]);
                n
            }
            Decoder::Pcma(c) => {
                let n = payload.len().min(frame);
                for (o, &b) in out.iter_mut().zip(payload) {
                    *o = alaw_to_linear(b);
                }
                c.remember(&out[..n]);
                n
            }
            Decoder::G722(d, c) => {
                let pcm = d.decode(payload);
                let n = pcm.len().min(frame);
                out[..n].copy_from_slice(&pcm[..n]);
                c.remember(&out[..n]);
                n
            }
            Decoder::Opus(d) => d.decode(payload, out, false)?,
        };
        out[n..].fill(0);
        Ok(n)
    }

    /// Fills a frame for a packet that did not come. Opus rebuilds it from the in-band
    /// FEC of the packet after it when that one is here (`next`), else runs its own
    /// concealment; the others repeat the last frame, fading out.
    pub fn conceal(&mut self, next: Option<&[u8]>, out: &mut [i16]) -> Result<(), CodecError> {
        match self {
            Decoder::Pcmu(c) | Decoder::Pcma(c) | Decoder::G722(_, c) => c.conceal(out),
            Decoder::Opus(d) => {
                let n = match next {
                    Some(p) => d.decode(p, out, true)?,
                    None => d.decode(&[], out, false)?,
                };
                out[n..].fill(0);
            }
        }
        Ok(())
    }
}

/// Packet-loss concealment for codecs without their own: the last good frame again,
/// 6 dB quieter each time, silent after 60 ms, so a gap sounds like a dip, not a click.
pub struct Concealer {
    last: Vec<i16>,
    gain: f32,
}

impl Concealer {
    fn new(frame: usize) -> Concealer {
        Concealer { last: vec![0; frame], gain: 1.0 }
    }

    fn remember(&mut self, frame: &[i16]) {
        let n = frame.len().min(self.last.len());
        self.last[..n].copy_from_slice(&frame[..n]);
        self.gain = 1.0;
    }

    fn conceal(&mut self, out: &mut [i16]) {
        self.gain *= 0.5;
        if self.gain < 0.2 {
            self.gain = 0.0;
        }
        let n = out.len().min(self.last.len());
        // A short fade from the previous gain avoids a step at the frame boundary.
        let from = (self.gain * 2.0).min(1.0);
        for (i, (o, &s)) in out[..n].iter_mut().zip(&self.last).enumerate() {
            let g = from + (self.gain - from) * i as f32 / n as f32;
            *o = (f32::from(s) * g) as i16;
        }
        out[n..].fill(0);
    }
}

/// µ-law (G.711) of one linear 16-bit sample.
pub fn ulaw(sample: i16) -> u8 {
    const BIAS: i32 = 0x84;
    const CLIP: i32 = 32_635;
    let mut s = i32::from(sample);
    let sign = if s < 0 {
        s = -s;
        0x80
    } else {
        0
    };
    let s = s.min(CLIP) + BIAS;
    let exponent = (7 - (s.leading_zeros() as i32 - 17)).clamp(0, 7);
    let mantissa = (s >> (exponent + 3)) & 0x0F;
    !(sign | (exponent << 4) | mantissa) as u8
}

/// A-law (G.711) of one linear 16-bit sample.
pub fn alaw(sample: i16) -> u8 {
    let mut s = i32::from(sample) >> 3;
    let sign = if s >= 0 {
        0x80
    } else {
        s = -s - 1;
        0
    };
    let s = s.min(0x0FFF);
    let code = if s < 32 {
        s >> 1
    } else {
        let exponent = 31 - (s as u32).leading_zeros() as i32 - 4;
        (exponent << 4) | ((s >> exponent) & 0x0F)
    };
    ((sign | code) ^ 0x55) as u8
}

/// The linear sample of a µ-law byte.
pub fn ulaw_to_linear(byte: u8) -> i16 {
    let b = !byte;
    let exponent = (b >> 4) & 0x07;
    let mantissa = i32::from(b & 0x0F);
    let magnitude = (((mantissa << 3) + 0x84) << exponent) - 0x84;
    if b & 0x80 != 0 {
        -magnitude as i16
    } else {
        magnitude as i16
    }
}

/// The linear sample of an A-law byte.
pub fn alaw_to_linear(byte: u8) -> i16 {
    let b = byte ^ 0x55;
    let exponent = (b >> 4) & 0x07;
    let mantissa = i32::from(b & 0x0F);
    let magnitude = if exponent == 0 { (mantissa << 4) + 8 } else { ((mantissa << 4) + 0x108) << (exponent - 1) };
    if b & 0x80 != 0 {
        magnitude as i16
    } else {
        -magnitude as i16
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::media::analysis::{goertzel_level, sine};

    #[test]
    fn g711_matches_the_reference_values() {
        // ITU-T G.711 tables: silence and full scale.
        assert_eq!(ulaw(0), 0xFF);
        assert_eq!(ulaw(-1), 0x7F);
        assert_eq!(ulaw(32_767), 0x80);
        assert_eq!(ulaw(-32_768), 0x00);
        assert_eq!(alaw(0), 0xD5);
        assert_eq!(alaw(32_767), 0xAA);
        assert_eq!(alaw(-32_768), 0x2A);
        assert_eq!(ulaw_to_linear(0xFF), 0);
        assert_eq!(ulaw_to_linear(0x80), 32_124);
        assert_eq!(ulaw_to_linear(0x00), -32_124);
        assert_eq!(alaw_to_linear(0xD5), 8);
        assert_eq!(alaw_to_linear(0xAA), 32_256);
        assert_eq!(alaw_to_linear(0x2A), -32_256);
    }

    #[test]
    fn g711_round_trips_within_its_quantisation() {
        for s in (-32_000i16..32_000).step_by(97) {
            let u = ulaw_to_linear(ulaw(s));
            let a = alaw_to_linear(alaw(s));
            let tolerance = (i32::from(s).abs() / 16).max(16);
            assert!((i32::from(u) - i32::from(s)).abs() <= tolerance, "µ-law {s} → {u}");
            assert!((i32::from(a) - i32::from(s)).abs() <= tolerance, "A-law {s} → {a}");
        }
    }

    /// Every codec carries a tone through encode and decode with its pitch and level.
    #[test]
    fn each_codec_carries_a_tone() {
        for kind in [CodecKind::Opus, CodecKind::G722, CodecKind::Pcmu, CodecKind::Pcma] {
            let rate = kind.audio_rate();
            let mut enc = Encoder::new(kind, OpusOptions::default()).unwrap();
            let mut dec = Decoder::new(kind).unwrap();
            let input = sine(1_000.0, rate, rate as usize, 0.3);
            let mut output = Vec::new();
            let mut frame = vec![0i16; kind.frame_samples()];
            let mut payload = Vec::new();
            for chunk in input.chunks_exact(kind.frame_samples()) {
                payload.clear();
                enc.encode(chunk, &mut payload).unwrap();
                assert!(!payload.is_empty() && payload.len() <= 1_275, "{kind:?}");
                dec.decode(&payload, &mut frame).unwrap();
                output.extend_from_slice(&frame);
            }
            // Past the codec's start-up, the tone is there at about the level sent.
            let tail = &output[rate as usize / 5..];
            let level = goertzel_level(tail, rate, 1_000.0);
            assert!((0.2..0.4).contains(&level), "{kind:?}: 1 kHz at {level}");
            assert!(goertzel_level(tail, rate, 1_500.0) < 0.02, "{kind:?}: no other tone");
        }
    }

    #[test]
    fn concealment_fades_and_opus_uses_the_next_packet() {
        let mut dec = Decoder::new(CodecKind::Pcmu).unwrap();
        let mut frame = vec![0i16; 160];
        let tone: Vec<u8> = sine(400.0, 8_000, 160, 0.5).into_iter().map(ulaw).collect();
        dec.decode(&tone, &mut frame).unwrap();
        let peak = |f: &[i16]| f.iter().map(|s| s.unsigned_abs()).max().unwrap();
        let first = peak(&frame);
        dec.conceal(None, &mut frame).unwrap();
        let second = peak(&frame);
        for _ in 0..3 {
            dec.conceal(None, &mut frame).unwrap();
        }
        assert!(second < first && second > first / 4, "{first} → {second}");
        assert_eq!(peak(&frame), 0, "silent after a while");

        let mut enc = Encoder::new(CodecKind::Opus, OpusOptions::default()).unwrap();
        let mut dec = Decoder::new(CodecKind::Opus).unwrap();
        let mut out = vec![0i16; 960];
        let input = sine(700.0, 48_000, 960 * 20, 0.3);
        let mut packets = Vec::new();
        for chunk in input.chunks_exact(960) {
            let mut p = Vec::new();
            enc.encode(chunk, &mut p).unwrap();
            packets.push(p);
        }
        for p in &packets[..10] {
            dec.decode(p, &mut out).unwrap();
        }
        // Packet 10 is lost; 11 carries its FEC.
        dec.conceal(Some(&packets[11]), &mut out).unwrap();
        assert!(goertzel_level(&out, 48_000, 700.0) > 0.1, "rebuilt from FEC");
        assert!(dec.decode(&[0xFF; 3], &mut out).is_err() || out.len() == 960, "garbage is an error or silence, never a crash");
    }
}
