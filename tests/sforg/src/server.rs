//! Sockets: accepts connections and serves each with hyper, so that a fault can close
//! one connection without an answer (a TCP reset). One task owns the listener and the
//! set of connection tasks; aborting it ends them all.

use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::Router;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;
use tokio::task::JoinSet;
use tower::ServiceExt;

/// Lets a request ask for its own connection to be dropped without an answer.
#[derive(Debug, Default)]
pub(crate) struct KillSwitch {
    fired: AtomicBool,
    notify: Notify,
}

impl KillSwitch {
    pub(crate) fn trigger(&self) {
        self.fired.store(true, Ordering::SeqCst);
        self.notify.notify_one();
    }
}

/// A TCP stream that closes with RST instead of FIN when its connection was killed.
struct KillableStream {
    inner: TcpStream,
    kill: Arc<KillSwitch>,
}

impl Drop for KillableStream {
    fn drop(&mut self) {
        if self.kill.fired.load(Ordering::SeqCst) {
            // Zero linger makes the close a reset: the client sees "connection reset".
            let _ = self.inner.set_zero_linger();
        }
    }
}

impl AsyncRead for KillableStream {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for KillableStream {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// Serves `router` on `listener` until the task running it is aborted.
pub(crate) async fn run(listener: TcpListener, router: Router) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                let _ = stream.set_nodelay(true);
                let kill = Arc::new(KillSwitch::default());
                let for_requests = kill.clone();
                let service = router.clone().map_request(move |mut req: axum::http::Request<Incoming>| {
                    req.extensions_mut().insert(for_requests.clone());
                    req
                });
                let io = TokioIo::new(KillableStream { inner: stream, kill: kill.clone() });
                connections.spawn(async move {
                    let conn = http1::Builder::new().serve_connection(io, TowerToHyperService::new(service));
                    tokio::select! {
                        _ = conn => {}
                        _ = kill.notify.notified() => {}
                    }
                });
            }
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
}
