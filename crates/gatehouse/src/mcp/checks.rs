//! Transport checks of `/mcp`, before any JSON-RPC processing: `Origin` (DNS-rebinding protection), `Host`,
//! `Content-Type`, `Accept` and `MCP-Protocol-Version`.

use http::{HeaderMap, header};

use super::SUPPORTED_VERSIONS;
use super::error::McpFailure;
use super::settings::McpSettings;

pub fn origin_and_host(settings: &McpSettings, headers: &HeaderMap) -> Result<(), McpFailure> {
    if let Some(origin) = headers.get(header::ORIGIN) {
        let o = origin.to_str().map_err(|_| McpFailure::BadOrigin)?;
        if !(loopback_origin(o) || settings.allowed_origins.iter().any(|a| a == o)) {
            return Err(McpFailure::BadOrigin);
        }
    }
    if !settings.allowed_hosts.is_empty() {
        let host = headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .unwrap_or_default();
        let bare = host.rsplit_once(':').map_or(host, |(h, _)| h);
        if !settings.allowed_hosts.iter().any(|a| a == host || a == bare) {
            return Err(McpFailure::BadHost);
        }
    }
    Ok(())
}

/// `http(s)://localhost`, `127.0.0.1` or `[::1]`, any port.
fn loopback_origin(o: &str) -> bool {
    let Some(rest) = o.strip_prefix("http://").or_else(|| o.strip_prefix("https://")) else {
        return false;
    };
    let host = if rest.starts_with('[') {
        rest.split_inclusive(']').next().unwrap_or(rest)
    } else {
        rest.split(':').next().unwrap_or(rest)
    };
    matches!(host, "localhost" | "127.0.0.1" | "[::1]")
}

pub fn post_headers(headers: &HeaderMap) -> Result<(), McpFailure> {
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if !ct.trim_start().to_ascii_lowercase().starts_with("application/json") {
        return Err(McpFailure::BadHeaders("Content-Type must be application/json"));
    }
    let accept = headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect::<Vec<_>>()
        .join(",")
        .to_ascii_lowercase();
    let wildcard = accept.contains("*/*");
    if !(wildcard || (accept.contains("application/json") && accept.contains("text/event-stream"))) {
        return Err(McpFailure::BadHeaders(
            "Accept must list application/json and text/event-stream",
        ));
    }
    Ok(())
}

/// `MCP-Protocol-Version` of a session-era request: absent, or one we serve.
pub fn version(headers: &HeaderMap) -> Result<(), McpFailure> {
    if let Some(v) = headers.get("mcp-protocol-version") {
        let v = v.to_str().unwrap_or_default();
        if !SUPPORTED_VERSIONS.contains(&v) {
            return Err(McpFailure::BadVersion(v.to_string()));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_origins() {
        for ok in [
            "http://localhost",
            "http://localhost:6274",
            "https://127.0.0.1:8443",
            "http://[::1]:80",
        ] {
            assert!(loopback_origin(ok), "{ok}");
        }
        for bad in [
            "http://evil.example",
            "http://localhost.evil.example",
            "null",
            "file://",
            "http://127.0.0.1.nip.io",
        ] {
            assert!(!loopback_origin(bad), "{bad}");
        }
    }
}
