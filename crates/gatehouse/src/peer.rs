//! Tags every request of a connection with the client's address (`axum::extract::ConnectInfo<SocketAddr>`), so
//! policies that key on the caller (rate limits without authentication) can read it. Our own accept loop knows the
//! peer; this wrapper hands it to the router without rebuilding the router per connection.

use std::net::SocketAddr;
use std::task::{Context, Poll};

use axum::extract::ConnectInfo;
use tower_service::Service;

/// A service that inserts the peer address into each request's extensions.
#[derive(Debug, Clone)]
pub struct WithPeer<S> {
    inner: S,
    peer: SocketAddr,
}

// === impl WithPeer ===

impl<S> WithPeer<S> {
    /// Wraps `inner` for one connection from `peer`.
    pub fn new(inner: S, peer: SocketAddr) -> Self {
        Self { inner, peer }
    }
}

impl<S, B> Service<http::Request<B>> for WithPeer<S>
where
    S: Service<http::Request<B>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: http::Request<B>) -> Self::Future {
        req.extensions_mut().insert(ConnectInfo(self.peer));
        self.inner.call(req)
    }
}

/// The client address of a request, when it came through our listener.
#[must_use]
pub fn of<B>(req: &http::Request<B>) -> Option<SocketAddr> {
    req.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0)
}
