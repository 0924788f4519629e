//! The one integration-test binary: the real gateway against strict mock upstreams.

mod admin;
mod anthropic;
mod anthropic_stream;
mod cli;
mod interop;
mod limits;
mod pool_health;
mod pool_routing;
mod reload;
mod routing;
mod secrets;
mod shutdown;
mod streaming;
mod support;
