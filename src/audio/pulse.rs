//! Call streams through the sound server's own client library (libpulse, which also
//! speaks to PipeWire's PulseAudio service), used when cpal's host is PulseAudio.
//! cpal still lists the devices and watches them come and go; only the streams are
//! opened here.
//!
//! Why not cpal's own streams on that host (cpal 0.18, measured on a null sink):
//! - its playback asks for a target length of two requests with "adjust latency",
//!   which the server turns into a sink latency of zero: the sink runs at its
//!   minimum (0.5 ms), and so do its monitor and, on PipeWire, the whole graph;
//! - its protocol client zero-fills a 1 MiB buffer on every socket read, and asks
//!   the server for timing after every chunk it receives.
//!
//! Together that cost 38 % of a core for one capture stream; libpulse with buffers
//! asked for explicitly costs about 1 % (docs/BENCHMARKS.md).
//!
//! Each stream is a thread of its own doing blocking reads or writes of 10 ms; the
//! rest of the call only sees the lock-free ring it fills or drains.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::time::Duration;

use libpulse_binding::def::BufferAttr;
use libpulse_binding::sample::{Format, Spec};
use libpulse_binding::stream::Direction;
use libpulse_simple_binding::Simple;

/// The rate asked of the server; it converts from the device's own.
pub(crate) const RATE: u32 = 48_000;
/// One read or write, in ms.
const CHUNK_MS: u32 = 10;
/// How long opening a stream may take before the server counts as not answering.
const OPEN_TIMEOUT: Duration = Duration::from_secs(3);

/// The PulseAudio name of a device cpal found on the PulseAudio host.
pub(crate) fn device_name(device: &cpal::Device) -> Option<String> {
    use cpal::traits::DeviceTrait;
    let id = device.id().ok()?;
    (id.host() == cpal::HostId::PulseAudio && !id.id().contains('\0')).then(|| id.id().to_string())
}

/// A running stream; dropping it stops the thread within one chunk.
pub(crate) struct PulseStream {
    stop: Arc<AtomicBool>,
}

impl Drop for PulseStream {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

fn bytes(ms: u32, rate: u32) -> u32 {
    rate * ms / 1_000 * std::mem::size_of::<f32>() as u32
}

/// Opens `device` for capture, mono at [`RATE`],
/// delivered in 10 ms chunks into `ring` (a full ring drops). `lost` is told once if
/// the server ends the stream.
pub(crate) fn capture(device: String, mut ring: rtrb::Producer<f32>, lost: impl FnOnce(String) + Send + 'static) -> Result<PulseStream, String> {
    let attr = BufferAttr { maxlength: u32::MAX, tlength: u32::MAX, prebuf: u32::MAX, minreq: u32::MAX, fragsize: bytes(CHUNK_MS, RATE) };
    spawn("call-mic", Direction::Record, device, RATE, attr, move |simple, stop| {
        let mut buf = [0u8; (RATE * CHUNK_MS / 1_000) as usize * 4];
        while !stop.load(Ordering::Relaxed) {
            if let Err(e) = simple.read(&mut buf) {
                return Err(explain(e));
            }
            let n = (buf.len() / 4).min(ring.slots());
            if let Ok(chunk) = ring.write_chunk_uninit(n) {
                chunk.fill_from_iter(buf.chunks_exact(4).map(|b| f32::from_ne_bytes([b[0], b[1], b[2], b[3]])));
            }
        }
        Ok(())
    }, lost)
}

/// Opens `device` for playback, mono at `rate`, keeping `latency_ms` queued at the
/// server; `fill` is asked for 10 ms at a time, at the device's pace.
pub(crate) fn playback(device: String, rate: u32, latency_ms: u32, mut fill: impl FnMut(&mut [f32]) + Send + 'static, lost: impl FnOnce(String) + Send + 'static) -> Result<PulseStream, String> {
    // With "adjust latency" (which the simple API sets) the server gives the sink
    // half of what is left after two requests: 40 ms with 10 ms requests is 10 ms
    // of sink latency, not the sink's minimum.
    // Playback starts with the first chunk: with the default (start when the target
    // length is queued) a server that trims the target never starts it.
    let attr = BufferAttr { maxlength: u32::MAX, tlength: bytes(latency_ms, rate), prebuf: bytes(CHUNK_MS, rate), minreq: bytes(CHUNK_MS, rate), fragsize: u32::MAX };
    spawn("call-speaker", Direction::Playback, device, rate, attr, move |simple, stop| {
        let mut samples = vec![0f32; (rate * CHUNK_MS / 1_000) as usize];
        let mut buf = vec![0u8; samples.len() * 4];
        while !stop.load(Ordering::Relaxed) {
            fill(&mut samples);
            for (b, s) in buf.chunks_exact_mut(4).zip(&samples) {
                b.copy_from_slice(&s.to_ne_bytes());
            }
            if let Err(e) = simple.write(&buf) {
                return Err(explain(e));
            }
        }
        Ok(())
    }, lost)
}

fn spawn(
    name: &str,
    direction: Direction,
    device: String,
    rate: u32,
    attr: BufferAttr,
    run: impl FnOnce(&Simple, &AtomicBool) -> Result<(), String> + Send + 'static,
    lost: impl FnOnce(String) + Send + 'static,
) -> Result<PulseStream, String> {
    let stop = Arc::new(AtomicBool::new(false));
    let (opened_tx, opened_rx) = mpsc::sync_channel::<Result<(), String>>(1);
    let flag = stop.clone();
    std::thread::Builder::new()
        .name(name.into())
        .spawn(move || {
            let spec = Spec { format: Format::FLOAT32NE, rate, channels: 1 };
            let simple = match Simple::new(None, "Ringside", direction, Some(&device), "Call", &spec, None, Some(&attr)) {
                Ok(s) => s,
                Err(e) => {
                    let _ = opened_tx.send(Err(explain(e)));
                    return;
                }
            };
            let _ = opened_tx.send(Ok(()));
            if let Err(why) = run(&simple, &flag) {
                // A stream stopped on purpose may see its last call fail; only an end
                // nobody asked for is a loss.
                if !flag.load(Ordering::Relaxed) {
                    lost(why);
                }
            }
        })
        .map_err(|e| e.to_string())?;
    match opened_rx.recv_timeout(OPEN_TIMEOUT) {
        Ok(Ok(())) => Ok(PulseStream { stop }),
        Ok(Err(e)) => Err(e),
        Err(_) => {
            stop.store(true, Ordering::Relaxed);
            Err("the sound server did not answer".into())
        }
    }
}

fn explain(e: libpulse_binding::error::PAErr) -> String {
    e.to_string().unwrap_or_else(|| format!("sound server error {}", e.0))
}
