//! `ringside call TARGET` and `ringside answer`: headless calls with the account in
//! Settings → Phone, through the same engine as the app. Every change of the call is
//! printed (a JSON line each with --json); the exit status says whether it was answered.

use std::sync::Arc;
use std::time::Duration;

use ringside::app::{AppError, Engine, ErrorCode, Event};
use ringside::sip::call::CallState;
use ringside::sip::registration::RegistrationState;
use ringside::sip::ua::CallInfo;
use tokio::sync::broadcast;

use super::Printer;

/// Starts the phone and waits until the registrar has answered (registered, or a
/// failure that says why). An outgoing call does not need the registration.
async fn start(engine: &Arc<Engine>, need_registration: bool) -> Result<(), AppError> {
    let mut events = engine.subscribe();
    let mut state = engine.start_phone().await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    while matches!(state, RegistrationState::Registering) {
        match tokio::time::timeout_at(deadline, events.recv()).await {
            Ok(Ok(Event::RegistrationChanged { state: s })) => state = s,
            Ok(Ok(_)) | Ok(Err(broadcast::error::RecvError::Lagged(_))) => {}
            Ok(Err(_)) | Err(_) => break,
        }
    }
    match state {
        RegistrationState::Unregistered => Err(AppError::new(ErrorCode::InvalidInput, "The phone is not set up: ringside settings set sipUser/sipDomain/sipProxy, then ringside sip password.")),
        RegistrationState::Failed { reason } if need_registration => Err(AppError::new(ErrorCode::Unavailable, reason)),
        RegistrationState::Retrying { reason, .. } if need_registration => Err(AppError::new(ErrorCode::Unavailable, format!("not registered: {reason}"))),
        _ => Ok(()),
    }
}

fn describe(c: &CallInfo) -> String {
    let who = match &c.remote_name {
        Some(n) => format!("{n} <{}>", c.remote_user),
        None => c.remote_user.clone(),
    };
    match &c.state {
        CallState::Ended { reason, code } => format!("call {}: ended — {reason}{} (sent {} RTP packets, received {})", c.id, code.map(|c| format!(" ({c})")).unwrap_or_default(), c.media.sent, c.media.received),
        s => format!("call {} with {who}: {}", c.id, serde_json::to_value(s).ok().and_then(|v| v.get("state").and_then(|s| s.as_str()).map(str::to_string)).unwrap_or_default()),
    }
}

/// Prints the call's changes until it ends; hangs up after `seconds` of talk, or on
/// Ctrl-C. Ok when it was answered.
async fn follow(engine: &Arc<Engine>, events: &mut broadcast::Receiver<Event>, id: u32, seconds: Option<u64>, mut last: Option<CallInfo>, out: &Printer) -> Result<(), AppError> {
    let mut hang_up_at: Option<tokio::time::Instant> = None;
    let mut answered = false;
    let interrupted = tokio::signal::ctrl_c();
    tokio::pin!(interrupted);
    loop {
        let until = hang_up_at.unwrap_or_else(|| tokio::time::Instant::now() + Duration::from_secs(3_600));
        tokio::select! {
            event = events.recv() => match event {
                Ok(Event::CallChanged { call }) if call.id == id => {
                    if last.as_ref().is_none_or(|l| l.state != call.state || l.muted != call.muted) {
                        out.line(&call, || describe(&call));
                    }
                    if call.state.is_answered() && !answered {
                        answered = true;
                        hang_up_at = seconds.map(|s| tokio::time::Instant::now() + Duration::from_secs(s));
                    }
                    let ended = call.state.is_ended();
                    last = Some(call);
                    if ended {
                        break;
                    }
                }
                Ok(Event::TransferChanged { id: t, progress }) if t == id => out.line(&progress, || format!("transfer: {progress:?}")),
                Ok(Event::CallProblem { id: t, message }) if t == id => out.line(&serde_json::json!({ "problem": message }), || message.clone()),
                Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {}
                Err(broadcast::error::RecvError::Closed) => break,
            },
            _ = tokio::time::sleep_until(until), if hang_up_at.is_some() => {
                hang_up_at = None;
                engine.hang_up(id).await?;
            }
            _ = &mut interrupted => engine.hang_up(id).await?,
        }
    }
    engine.stop_phone().await;
    match last {
        Some(_) if answered => Ok(()),
        Some(CallInfo { state: CallState::Ended { reason, code }, .. }) => {
            Err(AppError::new(ErrorCode::Unavailable, format!("not answered: {reason}{}", code.map(|c| format!(" ({c})")).unwrap_or_default())))
        }
        _ => Err(AppError::new(ErrorCode::Unavailable, "the call ended without an answer")),
    }
}

pub(super) async fn call(engine: &Arc<Engine>, target: &str, seconds: Option<u64>, out: &Printer) -> Result<(), AppError> {
    start(engine, false).await?;
    let mut events = engine.subscribe();
    let info = engine.dial(target).await?;
    follow(engine, &mut events, info.id, seconds, None, out).await
}

/// Waits `wait` seconds at most for a call, answers it (or declines it), and follows it.
pub(super) async fn answer(engine: &Arc<Engine>, wait: u64, seconds: Option<u64>, decline: bool, out: &Printer) -> Result<(), AppError> {
    let mut events = engine.subscribe();
    start(engine, true).await?;
    eprintln!("waiting for a call…");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(wait);
    let call = loop {
        match tokio::time::timeout_at(deadline, events.recv()).await {
            Ok(Ok(Event::CallChanged { call })) if call.state == CallState::Incoming => break call,
            Ok(Ok(_)) | Ok(Err(broadcast::error::RecvError::Lagged(_))) => {}
            Ok(Err(_)) => return Err(AppError::new(ErrorCode::Internal, "the engine stopped")),
            Err(_) => {
                engine.stop_phone().await;
                return Err(AppError::new(ErrorCode::Unavailable, format!("no call came in {wait} s")));
            }
        }
    };
    out.line(&call, || describe(&call));
    if decline {
        engine.decline_call(call.id, false).await?;
    } else {
        engine.answer_call(call.id).await?;
    }
    follow(engine, &mut events, call.id, seconds, Some(call.clone()), out).await
}
