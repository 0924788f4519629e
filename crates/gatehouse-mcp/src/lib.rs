//! Pure protocol pieces of the gatehouse MCP gateway: no sockets, no clock, no config, no crypto.
//!
//! - [`envelope`]: the JSON-RPC 2.0 envelope, parsed by borrowing; `params`, `result` and `error` stay raw JSON so a
//!   proxied message keeps every field, known or not.
//! - [`name`]: per-upstream prefixing of tool and prompt names, valid for LLM clients (`^[a-zA-Z0-9_-]{1,64}$`),
//!   with the reverse lookup used to route a call.
//! - [`uri`]: reversible namespacing of resource URIs and URI templates.
//! - [`merge`] and [`cursor`]: merging list results of several upstreams, with a composite cursor that carries each
//!   upstream's own cursor.
//! - [`idmap`]: rewriting ids of server→client requests so ids from different upstreams never collide.
//! - [`modern`]: the stateless 2026-07-28 era: the request ladder (envelope, `Mcp-Method`/`Mcp-Name` headers
//!   checked against the body, version), and the shapes exchanged with modern clients and session-era upstreams.
//! - [`listen`]: `subscriptions/listen` for stateless clients: the filter, the acknowledgement, the subscription tag.
//! - [`mrtr`]: multi-round-trip requests (`input_required`) for stateless clients over session-era upstreams.
//! - [`task`]: task ids (2025-11-25 tasks) namespaced per upstream, and their rewriting in results and notifications.
//! - [`session`]: the claims carried inside the gateway's session token. Sealing them (AEAD) is I/O-free but needs a
//!   crypto library and a random source, so it lives in the server crate (`gatehouse::mcp::token`); this crate only
//!   defines and validates the plaintext.

pub mod cursor;
pub mod envelope;
pub mod error;
pub mod idmap;
pub mod listen;
pub mod merge;
pub mod modern;
pub mod mrtr;
pub mod name;
pub mod session;
pub mod task;
pub mod uri;

pub use error::McpError;
