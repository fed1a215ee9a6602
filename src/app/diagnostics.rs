//! The support bundle: a `.tar.gz` with logs, versions, settings and devices, never a
//! secret (settings hold none by construction, and every file is scrubbed again).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use flate2::write::GzEncoder;
use flate2::Compression;

use crate::secrets::scrub;

/// Newest log files first, until this many bytes: enough for a few days of a busy rep.
const MAX_LOG_BYTES: u64 = 32 * 1024 * 1024;

pub struct BundleContents {
    pub versions: String,
    pub settings_json: String,
    pub devices_json: String,
    pub notices_json: String,
    pub log_dir: Option<PathBuf>,
}

pub fn write_bundle(dest_dir: &Path, contents: &BundleContents) -> std::io::Result<PathBuf> {
    std::fs::create_dir_all(dest_dir)?;
    let stamp = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    let path = dest_dir.join(format!("ringside-diagnostics-{stamp}.tar.gz"));
    let tmp = path.with_extension("partial");
    {
        let file = std::fs::File::create(&tmp)?;
        let mut tar = tar::Builder::new(GzEncoder::new(file, Compression::default()));
        add(&mut tar, "versions.txt", &contents.versions)?;
        add(&mut tar, "settings.json", &contents.settings_json)?;
        add(&mut tar, "devices.json", &contents.devices_json)?;
        add(&mut tar, "notices.json", &contents.notices_json)?;
        if let Some(dir) = &contents.log_dir {
            for (name, text) in newest_logs(dir)? {
                add(&mut tar, &format!("logs/{name}"), &text)?;
            }
        }
        tar.into_inner()?.finish()?.flush()?;
    }
    std::fs::rename(&tmp, &path)?;
    Ok(path)
}

fn add<W: Write>(tar: &mut tar::Builder<W>, name: &str, text: &str) -> std::io::Result<()> {
    let clean = scrub(text);
    let mut header = tar::Header::new_gnu();
    header.set_size(clean.len() as u64);
    header.set_mode(0o600);
    header.set_mtime(SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0));
    header.set_cksum();
    tar.append_data(&mut header, name, clean.as_bytes())
}

fn newest_logs(dir: &Path) -> std::io::Result<Vec<(String, String)>> {
    let mut files: Vec<(SystemTime, PathBuf, u64)> = match std::fs::read_dir(dir) {
        Ok(entries) => entries
            .filter_map(Result::ok)
            .filter(|e| e.file_name().to_string_lossy().starts_with(super::logging::LOG_PREFIX))
            .filter_map(|e| {
                let meta = e.metadata().ok()?;
                meta.is_file().then(|| (meta.modified().unwrap_or(UNIX_EPOCH), e.path(), meta.len()))
            })
            .collect(),
        Err(_) => return Ok(vec![]),
    };
    files.sort_by(|a, b| b.0.cmp(&a.0));
    let mut total = 0;
    let mut out = Vec::new();
    for (_, path, len) in files {
        if total + len > MAX_LOG_BYTES {
            break;
        }
        total += len;
        let bytes = std::fs::read(&path)?;
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        out.push((name, String::from_utf8_lossy(&bytes).into_owned()));
    }
    Ok(out)
}
