//! Loopback listeners on a port the OS picks, so parallel tests never collide.

use tokio::net::TcpListener;

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
