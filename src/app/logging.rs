//! Tracing to a daily-rotated file in the data folder (seven files kept), with every
//! line passed through the secrets scrubber before it reaches the disk.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use tracing_appender::non_blocking::WorkerGuard;
use tracing_appender::rolling::{RollingFileAppender, Rotation};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{fmt, EnvFilter, Layer};

use crate::secrets::scrub;

const KEEP_LOG_FILES: usize = 7;
pub const LOG_PREFIX: &str = "ringside";

/// Keeps the background log writer alive; dropping it flushes the file.
pub struct LogGuard {
    _file: Option<WorkerGuard>,
    pub dir: Option<PathBuf>,
}

/// A writer that scrubs secrets from each buffer it is given. The fmt layer formats a
/// whole event into one buffer before writing, so a secret is never split across calls.
struct Redacting<W: Write>(W);

impl<W: Write> Write for Redacting<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let text = String::from_utf8_lossy(buf);
        self.0.write_all(scrub(&text).as_bytes())?;
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        self.0.flush()
    }
}

/// Starts logging. `log_dir` of `None`, or one that cannot be written, logs to stderr
/// only; the error is returned alongside so the caller can tell the user.
pub fn init(log_dir: Option<&Path>, echo_stderr: bool) -> (LogGuard, Option<io::Error>) {
    // cpal's PulseAudio client logs "Client disconnected" at ERROR each time a device
    // listing closes its connection; that is the normal end of a listing, not a fault
    // (real failures come back through cpal's own errors and are reported).
    let filter = || {
        EnvFilter::try_from_env("RINGSIDE_LOG")
            .unwrap_or_else(|_| EnvFilter::new("info,pulseaudio::client::reactor=off"))
    };
    let mut problem = None;
    let file = log_dir.and_then(|dir| {
        let built = std::fs::create_dir_all(dir).map_err(io::Error::other).and_then(|_| {
            RollingFileAppender::builder()
                .rotation(Rotation::DAILY)
                .filename_prefix(LOG_PREFIX)
                .filename_suffix("log")
                .max_log_files(KEEP_LOG_FILES)
                .build(dir)
                .map_err(io::Error::other)
        });
        match built {
            Ok(appender) => Some((tracing_appender::non_blocking(Redacting(appender)), dir.to_path_buf())),
            Err(e) => {
                problem = Some(e);
                None
            }
        }
    });
    let (file_layer, guard, dir) = match file {
        Some(((writer, guard), dir)) => (
            Some(fmt::layer().with_ansi(false).with_writer(writer).with_filter(filter())),
            Some(guard),
            Some(dir),
        ),
        None => (None, None, None),
    };
    let stderr_layer = (echo_stderr || dir.is_none()).then(|| {
        fmt::layer()
            .with_writer(|| Redacting(io::stderr()))
            .with_filter(filter())
    });
    // A second init (tests, a library user) keeps the first subscriber.
    let _ = tracing_subscriber::registry().with(file_layer).with(stderr_layer).try_init();
    (LogGuard { _file: guard, dir }, problem)
}
