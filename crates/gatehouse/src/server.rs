//! Our own accept loop around hyper: connection cap, header size/count and read-time limits, and a
//! graceful drain that lets in-flight requests and streams finish up to a deadline.

use std::sync::Arc;

use axum::Router;
use futures_util::FutureExt as _;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

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
    let graceful = GracefulShutdown::new();
    let permits = Arc::new(Semaphore::new(settings.max_connections));

    let accept = |stream: tokio::net::TcpStream, peer: std::net::SocketAddr| {
        let Ok(permit) = permits.clone().try_acquire_owned() else {
            tracing::warn!(%peer, limit = settings.max_connections, "connection limit reached; closing new connection");
            drop(stream);
            return;
        };
        let _ = stream.set_nodelay(true);
        let conn = builder
            .serve_connection_with_upgrades(
                TokioIo::new(stream),
                TowerToHyperService::new(WithPeer::new(router.clone(), peer)),
            )
            .into_owned();
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!(%peer, error = %e, "connection ended with an error");
            }
            drop(permit);
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
    tokio::time::timeout(settings.drain_timeout, graceful.shutdown())
        .await
        .is_ok()
}
