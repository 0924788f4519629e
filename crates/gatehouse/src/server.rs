//! Our own accept loop around hyper: connection cap, header size/count and read-time limits, and a
//! graceful drain that lets in-flight requests and streams finish up to a deadline.
//!
//! The drain never closes a connection unread: connections still in the kernel's accept backlog are taken in, and a
//! connection that has not delivered its first request yet is given until it does (bounded by the header read
//! timeout) before it is told to close — otherwise a request its client already sent would fail unanswered.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};

use axum::Router;
use futures_util::FutureExt as _;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::{Notify, Semaphore};
use tokio_util::sync::CancellationToken;
use tower_service::Service;

use crate::peer::WithPeer;
use crate::snapshot::ServerSettings;

/// Serves `router` on `listener` until `stop` fires, then drains for at most `settings.drain_timeout`.
/// Returns true when every connection finished before the deadline.
pub async fn serve(listener: TcpListener, router: Router, settings: ServerSettings, stop: CancellationToken) -> bool {
    let mut builder = Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(settings.header_read_timeout)
        .max_buf_size(settings.max_header_bytes.max(8192))
        .max_headers(settings.max_headers);
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_header_list_size(u32::try_from(settings.max_header_bytes).unwrap_or(u32::MAX));
    let builder = Arc::new(builder);
    let drain = CancellationToken::new();
    // Every connection task holds a sender; the drain is over when all of them are dropped.
    let (done_tx, mut done_rx) = tokio::sync::mpsc::channel::<()>(1);
    let permits = Arc::new(Semaphore::new(settings.max_connections));
    let grace = settings.header_read_timeout;

    let accept = |stream: tokio::net::TcpStream, peer: std::net::SocketAddr| {
        let Ok(permit) = permits.clone().try_acquire_owned() else {
            tracing::warn!(%peer, limit = settings.max_connections, "connection limit reached; closing new connection");
            drop(stream);
            return;
        };
        let _ = stream.set_nodelay(true);
        let started = Arc::new(FirstRequest::default());
        let service = MarkStarted {
            inner: WithPeer::new(router.clone(), peer),
            started: started.clone(),
        };
        let conn = builder
            .serve_connection_with_upgrades(TokioIo::new(stream), TowerToHyperService::new(service))
            .into_owned();
        let (drain, done) = (drain.clone(), done_tx.clone());
        tokio::spawn(async move {
            let mut conn = std::pin::pin!(conn);
            let result = tokio::select! {
                r = conn.as_mut() => r,
                () = drain.cancelled() => {
                    // A connection that has not delivered its first request yet (typically one just taken from the
                    // accept backlog) gets until it does, bounded by the header read timeout: closing it unread would
                    // fail a request its client already sent.
                    let early = if started.seen.load(Ordering::SeqCst) {
                        None
                    } else {
                        tokio::select! {
                            r = conn.as_mut() => Some(r),
                            () = started.notify.notified() => None,
                            () = tokio::time::sleep(grace) => None,
                        }
                    };
                    match early {
                        Some(r) => r,
                        None => {
                            // Finishes the request in progress, then closes (HTTP/1) or sends GOAWAY (HTTP/2).
                            conn.as_mut().graceful_shutdown();
                            conn.await
                        }
                    }
                }
            };
            if let Err(e) = result {
                tracing::debug!(%peer, error = %e, "connection ended with an error");
            }
            drop(permit);
            drop(done);
        });
    };

    loop {
        let accepted = tokio::select! {
            () = stop.cancelled() => break,
            a = listener.accept() => a,
        };
        match accepted {
            Ok((stream, peer)) => accept(stream, peer),
            Err(e) => {
                // Out of file descriptors and similar: back off briefly rather than spin.
                tracing::warn!(error = %e, "accept failed");
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
        }
    }
    // Connections the kernel already completed sit in the accept backlog; closing the listener would reset them
    // after the client (or a load balancer) may have sent its request, which it then cannot safely retry. Take them
    // in and serve them as part of the drain; only connections arriving after this point are refused.
    while let Some(Ok((stream, peer))) = listener.accept().now_or_never() {
        accept(stream, peer);
    }
    drop(listener);
    drain.cancel();
    drop(done_tx);
    tokio::time::timeout(settings.drain_timeout, done_rx.recv())
        .await
        .is_ok()
}

/// Whether a connection has delivered its first request yet.
#[derive(Default)]
struct FirstRequest {
    seen: AtomicBool,
    notify: Notify,
}

/// Records the first request of a connection in its [`FirstRequest`], for the drain.
#[derive(Clone)]
struct MarkStarted<S> {
    inner: S,
    started: Arc<FirstRequest>,
}

// === impl MarkStarted ===

impl<S, B> Service<http::Request<B>> for MarkStarted<S>
where
    S: Service<http::Request<B>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: http::Request<B>) -> Self::Future {
        if !self.started.seen.swap(true, Ordering::SeqCst) {
            self.started.notify.notify_one();
        }
        self.inner.call(req)
    }
}
