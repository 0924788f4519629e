//! Roots through the gateway: the client's `roots` capability reaches every upstream, and the `roots/list` requests
//! upstreams send outside any call (server-everything asks after `initialized` and from its `get-roots-list` tool,
//! never on a call's stream) reach the client on its GET stream and are answered back to the upstream that asked.

use crate::mcp_support::everything;
use crate::support::TestGateway;

/// The official Python SDK (session era, `list_roots_callback`) against server-everything over Streamable HTTP and
/// stdio (tests/interop/mcp_sdk_roots.py).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mcp_python_sdk_roots_reach_upstreams() {
    let Some(python) = crate::interop::python() else { return };
    let Some(ev) = everything() else { return };
    let up = ev.start_http(None).await;
    let gw = TestGateway::start(&crate::mcp::config(&up.url(), &ev.stdio_command())).await;
    crate::interop::run_script(python, "mcp_sdk_roots.py", vec![gw.url("/mcp")]).await;
}
