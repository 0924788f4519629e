//! The one integration-test binary: the real gateway against strict mock upstreams.

mod admin;
mod anthropic;
mod anthropic_stream;
mod bedrock;
mod cli;
mod cross_provider;
mod failover;
mod gemini;
mod interop;
mod jwt_support;
mod limits;
mod mcp;
mod mcp_auth;
mod mcp_policy;
mod mcp_support;
mod messages;
mod openai_azure;
mod pool_routing;
mod reload;
mod routing;
mod secrets;
mod shutdown;
mod streaming;
mod support;
