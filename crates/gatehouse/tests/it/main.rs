//! The one integration-test binary: the real gateway against strict mock upstreams.

mod admin;
mod anthropic;
mod anthropic_stream;
mod bedrock;
mod cli;
mod cross_provider;
mod gemini;
mod interop;
mod limits;
mod openai_azure;
mod reload;
mod routing;
mod secrets;
mod shutdown;
mod streaming;
mod support;
