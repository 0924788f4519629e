//! Loopback listeners on a port the OS picks, so parallel tests never collide, and the accept loop every mock
//! serves them with.
//!
//! Invariant: everything a mock spawns (the accept loop, each connection, each HTTP/2 stream) runs under one
//! [`CancellationToken`], so cancelling it (the mock's `Drop`) closes the listener and every open connection,
//! hung ones included.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use http::{Request, Response};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use hyper_util::server::conn::auto;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::sse_body::MockBody;

/// Spawns hyper's HTTP/2 stream tasks so that they end with the mock.
#[derive(Clone)]
struct CancellingExecutor {
    shutdown: CancellationToken,
}

/// A listener on `127.0.0.1:0`. Hand the listener itself to the server under test: binding first and passing
/// only the port would race with other tests for it.
///
/// # Panics
///
/// If loopback cannot be bound, which no test can recover from.
pub async fn free_port_listener() -> TcpListener {
    TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap_or_else(|e| panic!("cannot bind 127.0.0.1:0: {e}"))
}

/// A listener on `addr` exactly, for a mock restarted on the port of one that was dropped: binding is retried for
/// up to 5 s while the old listener is still closing.
///
/// # Panics
///
/// If `addr` cannot be bound within 5 s.
pub async fn listener_on(addr: SocketAddr) -> TcpListener {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        match TcpListener::bind(addr).await {
            Ok(l) => return l,
            Err(e) if tokio::time::Instant::now() >= deadline => panic!("cannot bind {addr}: {e}"),
            Err(_) => tokio::time::sleep(std::time::Duration::from_millis(10)).await,
        }
    }
}

/// Serves HTTP/1 and HTTP/2 on `listener` with `handle` until `shutdown` is cancelled.
pub(crate) fn spawn_serve<H, F>(listener: TcpListener, shutdown: &CancellationToken, handle: H)
where
    H: Fn(Request<Incoming>) -> F + Clone + Send + Sync + 'static,
    F: Future<Output = Response<MockBody>> + Send + 'static,
{
    spawn_serve_counting(listener, shutdown, Arc::new(AtomicUsize::new(0)), handle);
}

/// [`spawn_serve`], counting every accepted TCP connection in `accepted` (to prove a client reused a connection).
pub(crate) fn spawn_serve_counting<H, F>(
    listener: TcpListener,
    shutdown: &CancellationToken,
    accepted: Arc<AtomicUsize>,
    handle: H,
) where
    H: Fn(Request<Incoming>) -> F + Clone + Send + Sync + 'static,
    F: Future<Output = Response<MockBody>> + Send + 'static,
{
    tokio::spawn(
        shutdown
            .clone()
            .run_until_cancelled_owned(serve(listener, shutdown.clone(), accepted, handle)),
    );
}

async fn serve<H, F>(listener: TcpListener, shutdown: CancellationToken, accepted: Arc<AtomicUsize>, handle: H)
where
    H: Fn(Request<Incoming>) -> F + Clone + Send + Sync + 'static,
    F: Future<Output = Response<MockBody>> + Send + 'static,
{
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            // Accept errors (e.g. out of file descriptors) are transient; let other tasks run and retry.
            tokio::task::yield_now().await;
            continue;
        };
        accepted.fetch_add(1, Ordering::SeqCst);
        // Best effort: without it small SSE frames may wait for Nagle, which only slows tests down.
        let _ = stream.set_nodelay(true);
        let handle = handle.clone();
        let executor = CancellingExecutor {
            shutdown: shutdown.clone(),
        };
        tokio::spawn(shutdown.clone().run_until_cancelled_owned(async move {
            let service = service_fn(move |req| {
                let response = handle(req);
                async move { Ok::<_, Infallible>(response.await) }
            });
            // A connection error only means the peer went away; the journal already has what arrived.
            let _ = auto::Builder::new(executor)
                .serve_connection(TokioIo::new(stream), service)
                .await;
        }));
    }
}

// === impl CancellingExecutor ===

impl<F> hyper::rt::Executor<F> for CancellingExecutor
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    fn execute(&self, fut: F) {
        tokio::spawn(self.shutdown.clone().run_until_cancelled_owned(fut));
    }
}
