//! `ringside layout …`: the admin's tools for the layout document — check a file,
//! publish it to the org, pull what is published — and the rep's view of the layout in
//! force.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use ringside::app::layouts::{PublishTarget, LayoutStatus};
use ringside::app::{AppError, Engine, ErrorCode};
use ringside::layout::document::{LayoutDocument, SCHEMA_JSON};

use super::Printer;

#[derive(Subcommand)]
pub(super) enum LayoutAction {
    /// Check a layout file: size, encoding, JSON, the schema and its rules, then the
    /// org's objects and fields when signed in. Exit status 1 when there is a problem.
    Validate {
        file: PathBuf,
        /// Skip the check against the org.
        #[arg(long)]
        offline: bool,
    },
    /// Check a layout file and publish it for the org, a profile or a user.
    Publish {
        file: PathBuf,
        #[command(flatten)]
        target: TargetArgs,
    },
    /// Print a published layout: the one assigned to you, or the target's.
    Pull {
        #[command(flatten)]
        target: OptionalTarget,
        /// Write it to this file instead of printing it.
        #[arg(long, short)]
        out: Option<PathBuf>,
    },
    /// Ask the org for the layout assigned to you now, and say which is in force.
    Refresh,
    /// The layout in force on this computer and where it came from.
    Status,
    /// Print the built-in layout (a starting point for a new one).
    Default,
    /// Print the layout document's JSON Schema.
    Schema,
}

#[derive(Args)]
#[group(required = true, multiple = false)]
pub(super) struct TargetArgs {
    /// Everyone without a profile or user layout.
    #[arg(long)]
    org: bool,
    /// A profile, by name ("Sales User") or id.
    #[arg(long)]
    profile: Option<String>,
    /// A user, by username or id.
    #[arg(long)]
    user: Option<String>,
}

#[derive(Args)]
#[group(required = false, multiple = false)]
pub(super) struct OptionalTarget {
    #[arg(long)]
    org: bool,
    #[arg(long)]
    profile: Option<String>,
    #[arg(long)]
    user: Option<String>,
}

fn target(org: bool, profile: &Option<String>, user: &Option<String>) -> Option<PublishTarget> {
    match (org, profile, user) {
        (true, _, _) => Some(PublishTarget::Org),
        (_, Some(p), _) => Some(PublishTarget::Profile(p.clone())),
        (_, _, Some(u)) => Some(PublishTarget::User(u.clone())),
        _ => None,
    }
}

fn read(file: &PathBuf) -> Result<Vec<u8>, AppError> {
    std::fs::read(file).map_err(|e| AppError::new(ErrorCode::Io, format!("cannot read {}: {e}", file.display())))
}

fn status_text(s: &LayoutStatus) -> String {
    let mut out = format!("Layout in force: \u{201c}{}\u{201d}", s.name);
    match &s.origin {
        Some(o) => out.push_str(&format!(" — version {} published for {} (record {})", o.version, o.target, o.record_id)),
        None => out.push_str(" — built in (nothing published for you)"),
    }
    if let Some(r) = &s.refused {
        out.push_str(&format!("\nRefused: version {} for {} —", r.origin.version, r.origin.target));
        for p in &r.problems {
            out.push_str(&format!("\n  {p}"));
        }
    }
    if let Some(p) = &s.problem {
        out.push_str(&format!("\nLast check: {p}"));
    }
    for r in &s.rep_settings {
        let how = if r.locked { "locked" } else if r.overridden { "yours" } else { "default" };
        out.push_str(&format!("\n  {:?}: {} ({how})", r.setting, if r.value { "on" } else { "off" }));
    }
    out
}

pub(super) fn run(action: &LayoutAction, engine: &std::sync::Arc<Engine>, runtime: &tokio::runtime::Runtime, out: &Printer) -> Result<(), AppError> {
    match action {
        LayoutAction::Validate { file, offline } => {
            let bytes = read(file)?;
            let check = if *offline {
                match ringside::layout::validate::parse(&bytes) {
                    Ok(_) => ringside::app::layouts::LayoutCheck { problems: vec![], checked_with_org: false, preview: None },
                    Err(problems) => ringside::app::layouts::LayoutCheck { problems, checked_with_org: false, preview: None },
                }
            } else {
                runtime.block_on(engine.validate_layout(&bytes))?
            };
            let ok = check.problems.is_empty();
            out.print(&serde_json::json!({ "valid": ok, "checkedWithOrg": check.checked_with_org, "problems": check.problems }), || {
                if ok {
                    format!("{}: valid{}", file.display(), if check.checked_with_org { " (checked with the org)" } else { " (not checked with an org: not signed in)" })
                } else {
                    let mut s = format!("{}: {} problem{}", file.display(), check.problems.len(), if check.problems.len() == 1 { "" } else { "s" });
                    for p in &check.problems {
                        s.push_str(&format!("\n  {p}"));
                    }
                    s
                }
            });
            if !ok {
                return Err(AppError::new(ErrorCode::InvalidInput, "the layout is not valid"));
            }
        }
        LayoutAction::Publish { file, target: t } => {
            let bytes = read(file)?;
            let target = target(t.org, &t.profile, &t.user).expect("clap requires one target");
            let published = runtime.block_on(engine.publish_layout(&bytes, &target))?;
            out.print(&published, || {
                format!(
                    "Published version {} for {} (record {}{}).",
                    published.version,
                    published.target_label,
                    published.record_id,
                    if published.created { ", new" } else { "" }
                )
            });
        }
        LayoutAction::Pull { target: t, out: file } => {
            let target = target(t.org, &t.profile, &t.user);
            let pulled = runtime.block_on(engine.pull_layout(target.as_ref()))?;
            match file {
                Some(path) => {
                    std::fs::write(path, &pulled.text).map_err(|e| AppError::new(ErrorCode::Io, format!("cannot write {}: {e}", path.display())))?;
                    out.print(&pulled.origin, || format!("Wrote \u{201c}{}\u{201d} version {} ({}) to {}.", pulled.name, pulled.origin.version, pulled.origin.target, path.display()));
                }
                None if out.json => out.print(&pulled, String::new),
                None => print!("{}", pulled.text),
            }
        }
        LayoutAction::Refresh => {
            let status = runtime.block_on(engine.refresh_layout())?;
            out.print(&status, || status_text(&status));
        }
        LayoutAction::Status => {
            let status = engine.layout_status();
            out.print(&status, || status_text(&status));
        }
        LayoutAction::Default => print!("{}", LayoutDocument::builtin().to_pretty()),
        LayoutAction::Schema => print!("{SCHEMA_JSON}"),
    }
    Ok(())
}
