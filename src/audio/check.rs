//! "Test my audio": a few seconds from the microphone, shown on a level meter as
//! they are recorded, then played back through the speaker — the rep hears
//! themselves as the far end would, through the same devices, rings and resampling
//! as a call.

use std::time::Duration;

use super::io::CallAudio;
use crate::media::analysis::rms;

/// How the check goes, for the level meter and the button.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, specta::Type)]
#[serde(tag = "phase", rename_all = "camelCase")]
pub enum AudioCheck {
    /// Recording; `level` 0–100 of the last 100 ms, `peak` of the whole so far.
    Recording { level: u8, peak: u8 },
    Playing,
    /// Done; `peak` says whether the microphone gave anything at all.
    Done { peak: u8 },
}

const RATE: u32 = 48_000;
const FRAME: usize = 960;
/// Longest check the rep can ask for.
pub const MAX_SECONDS: u32 = 10;

fn level(frame: &[i16]) -> u8 {
    (rms(frame) * 200.0).min(100.0) as u8
}

/// Records `seconds` from `audio`'s source, then plays them to its sink; `report`
/// hears every 100 ms while recording and at each change of phase.
pub async fn run(audio: CallAudio, seconds: u32, mut report: impl FnMut(AudioCheck)) -> Vec<i16> {
    let CallAudio { mut source, mut sink, .. } = audio;
    let frames = (seconds.clamp(1, MAX_SECONDS) * 1_000 / 20) as usize;
    let mut recorded = vec![0i16; frames * FRAME];
    let mut tick = tokio::time::interval(Duration::from_millis(20));
    let mut peak = 0u8;
    // Let the device settle (its cushion fills) before the first frame counts.
    for _ in 0..5 {
        tick.tick().await;
        source.read(RATE, &mut recorded[..FRAME]);
    }
    for (i, frame) in recorded.chunks_exact_mut(FRAME).enumerate() {
        tick.tick().await;
        source.read(RATE, frame);
        let l = level(frame);
        peak = peak.max(l);
        if i % 5 == 4 {
            report(AudioCheck::Recording { level: l, peak });
        }
    }
    report(AudioCheck::Playing);
    for frame in recorded.chunks_exact(FRAME) {
        tick.tick().await;
        sink.write(RATE, frame);
    }
    // The device's cushion and buffer still hold the last of it.
    tokio::time::sleep(Duration::from_millis(200)).await;
    report(AudioCheck::Done { peak });
    recorded
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audio::io::{Recorder, ToneSource};
    use crate::media::analysis::goertzel_level;

    #[tokio::test]
    async fn records_reports_levels_and_plays_back_what_it_heard() {
        let played = Recorder::new(5);
        let audio = CallAudio { source: Box::new(ToneSource::new(600.0, 0.3)), sink: Box::new(played.clone()), voice_processing: false };
        let mut phases = Vec::new();
        let recorded = run(audio, 1, |p| phases.push(p)).await;
        assert_eq!(recorded.len(), 48_000);
        assert!(matches!(phases[0], AudioCheck::Recording { level, .. } if level > 30), "{phases:?}");
        assert_eq!(phases.iter().filter(|p| matches!(p, AudioCheck::Recording { .. })).count(), 10, "every 100 ms");
        assert!(matches!(phases.last(), Some(AudioCheck::Done { peak }) if *peak > 30));
        let back = played.recording();
        assert_eq!(back.samples.len(), 48_000, "all of it played back");
        assert!(goertzel_level(&back.samples, 48_000, 600.0) > 0.25);
    }
}
