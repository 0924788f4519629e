//! The pooled HTTP client used to reach one provider.
//!
//! One hyper-util client per provider (HTTP/1.1, and h2 over TLS via ALPN, rustls with the platform's
//! root certificates), so each provider's connect timeout and pool are its own. The first-byte, idle and
//! total timeouts are enforced by the caller (`proxy.rs`, `body.rs`) because they span the body too.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

/// The request body type sent upstream: the (rewritten) client body, already in memory.
pub type UpstreamBody = Full<Bytes>;

/// A pooled client for one provider.
#[derive(Clone, Debug)]
pub struct UpstreamClient {
    inner: Client<HttpsConnector<HttpConnector>, UpstreamBody>,
}

/// The timeouts of one provider, all resolved to concrete values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// TCP + TLS connect.
    pub connect: Duration,
    /// Until the response head arrives.
    pub first_byte: Duration,
    /// Longest gap between body chunks.
    pub idle: Duration,
    /// Whole exchange.
    pub total: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Self {
            connect: Duration::from_secs(5),
            first_byte: Duration::from_secs(60),
            idle: Duration::from_secs(60),
            total: Duration::from_secs(600),
        }
    }
}

// === impl UpstreamClient ===

impl UpstreamClient {
    /// Builds a client; fails only if the platform has no usable root certificates.
    pub fn new(connect_timeout: Duration) -> std::io::Result<Self> {
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_nodelay(true);
        http.set_connect_timeout(Some(connect_timeout));
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_native_roots()?
            .https_or_http()
            .enable_http1()
            .enable_http2()
            .wrap_connector(http);
        let inner = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(90))
            .pool_max_idle_per_host(256)
            .build(https);
        Ok(Self { inner })
    }

    /// Sends one request; the caller owns timeouts beyond connect.
    pub async fn send(
        &self,
        req: http::Request<UpstreamBody>,
    ) -> Result<http::Response<hyper::body::Incoming>, hyper_util::client::legacy::Error> {
        self.inner.request(req).await
    }
}
