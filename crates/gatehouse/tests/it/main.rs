//! The one integration-test binary: the real gateway against strict mock upstreams.

mod admin;
mod cli;
mod support;
