//! The MCP gateway: one Streamable HTTP endpoint (`/mcp`) in front of several upstream MCP servers.
//!
//! Request path (`handler.rs`): transport checks (Origin, Host, size, headers) → session token opened and checked
//! against the caller → method dispatch (`methods.rs`): `initialize` fans out to every upstream, lists are merged
//! under per-upstream prefixes, calls are routed to the owning upstream with the prefix stripped and the answer
//! relayed (JSON or SSE). Upstreams are Streamable HTTP servers (`http.rs`) or stdio child processes (`stdio.rs`),
//! behind one interface (`upstream.rs`) that also re-initialises an upstream that lost its session.
//!
//! The stateless 2026-07-28 era (`modern.rs`) shares the dispatch: each self-contained POST is checked (envelope,
//! `Mcp-Method`/`Mcp-Name` against the body) and served over upstream sessions the gateway holds per principal; an
//! upstream's request for client input becomes an `input_required` result with the call parked (`modern/mrtr.rs`),
//! and `subscriptions/listen` relays the upstreams' change notifications (`modern/listen.rs`).
//!
//! State: the session token carries everything needed to serve a session (see `gatehouse_mcp::session`); a replica
//! only caches, per session, upstream sessions it had to re-create and its stdio children ([`McpRuntime`]). Losing
//! that cache costs one re-initialisation, never the session.

mod checks;
pub mod error;
mod handler;
mod http;
mod legacy_sse;
mod limit;
mod log;
mod methods;
mod modern;
pub mod policy;
mod relay;
pub mod settings;
mod stdio;
mod tasks;
pub mod token;
mod upstream;

pub use handler::handle;
pub use handler::metadata;
pub use settings::{McpAuth, McpSettings, Transport, UpstreamDef};

/// The protocol versions served to clients, newest first.
pub const SUPPORTED_VERSIONS: &[&str] = &["2025-11-25", "2025-06-18"];
