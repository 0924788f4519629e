//! gatehouse: one governed data plane for traffic between AI applications and the models they call.
//!
//! The crate is the server: config loading and hot reload, listeners, the request pipeline, the upstream
//! client, metrics, logs and the admin API. Protocol logic (body splicing, SSE, usage) lives in the pure
//! `gatehouse-llm` crate.

pub mod access_log;
pub mod admin;
pub mod auth;
pub mod body;
pub mod config;
pub mod context;
pub mod error;
pub mod fallback;
pub mod gateway;
pub mod health;
pub mod limit;
pub mod mcp;
pub mod metering;
pub mod metrics;
pub mod peer;
pub mod policy;
pub mod pool;
pub mod probe;
pub mod proxy;
pub mod reload;
pub mod request_id;
pub mod respond;
pub mod response_store;
pub mod routes;
pub mod secret;
pub mod server;
pub mod snapshot;
pub mod state;
pub mod telemetry;
pub mod trace;
pub mod upstream;
pub mod watch;

pub use gateway::{Gateway, StartOptions};
