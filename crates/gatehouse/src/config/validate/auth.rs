//! Authentication settings → a ready [`JwtAuthenticator`]: issuer and key URLs that parse and pass the SSRF scheme
//! rule, at least one audience, only asymmetric algorithms, non-zero cache settings.

use std::time::Duration;

use super::Errors;
use crate::auth::JwtAuthenticator;
use crate::auth::jwks::{CachePolicy, JwksCache, KeySource, check_url};
use crate::auth::jwt::{ALLOWED_ALGORITHMS, parse_algorithm};
use crate::config::spec::auth::JwtSpec;
use crate::upstream::UpstreamClient;

/// Builds the validator for the JWT settings at `path`.
pub(super) fn jwt(errs: &mut Errors<'_>, path: &[&str], spec: &JwtSpec) -> Option<JwtAuthenticator> {
    let before = errs.list.len();
    let at = |field: &'static str| {
        let mut p = path.to_vec();
        p.push(field);
        p
    };
    let issuer = spec.issuer.trim_end_matches('/').to_string();
    if issuer
        .parse::<http::Uri>()
        .map_or(true, |u| u.scheme().is_none() || u.host().is_none())
    {
        errs.push(&at("issuer"), format!("`{}` is not an issuer URL", spec.issuer));
    }
    if spec.audiences.is_empty() || spec.audiences.iter().any(|a| a.trim().is_empty()) {
        errs.push(&at("audiences"), "at least one non-empty audience is required");
    }
    let names: Vec<&str> = if spec.algorithms.is_empty() {
        vec!["RS256", "ES256"]
    } else {
        spec.algorithms.iter().map(String::as_str).collect()
    };
    let mut algorithms = Vec::new();
    for (i, n) in names.iter().enumerate() {
        match parse_algorithm(n) {
            Some(a) => algorithms.push(a),
            None => {
                let mut p = at("algorithms");
                let idx = i.to_string();
                p.push(&idx);
                errs.push(
                    &p,
                    format!("`{n}` is not accepted; use one of {}", ALLOWED_ALGORITHMS.join(", ")),
                );
            }
        }
    }
    let source = match &spec.jwks_url {
        Some(u) => match u.parse::<http::Uri>() {
            Ok(uri) => {
                if let Err(e) = check_url(&uri, spec.allow_insecure_http) {
                    errs.push(&at("jwks_url"), e);
                }
                KeySource::Url(uri)
            }
            Err(_) => {
                errs.push(&at("jwks_url"), format!("`{u}` is not a URL"));
                KeySource::Discovery(issuer.clone())
            }
        },
        None => {
            if let Ok(u) = format!("{issuer}/.well-known/openid-configuration").parse::<http::Uri>()
                && let Err(e) = check_url(&u, spec.allow_insecure_http)
            {
                errs.push(&at("issuer"), format!("OIDC discovery: {e}"));
            }
            KeySource::Discovery(issuer.clone())
        }
    };
    let dur = |d: Option<crate::config::units::HumanDuration>, def: u64| d.map_or(Duration::from_secs(def), |d| d.0);
    let policy = CachePolicy {
        ttl: dur(spec.jwks_cache_ttl, 600),
        refetch_interval: dur(spec.jwks_refetch_interval, 30),
        max_bytes: usize::try_from(spec.max_jwks_bytes.map_or(256 << 10, |b| b.0)).unwrap_or(usize::MAX),
        allow_insecure_http: spec.allow_insecure_http,
    };
    if policy.ttl.is_zero() {
        errs.push(&at("jwks_cache_ttl"), "must be greater than zero");
    }
    if policy.max_bytes == 0 {
        errs.push(&at("max_jwks_bytes"), "must be greater than zero");
    }
    let client = match UpstreamClient::new(Duration::from_secs(5)) {
        Ok(c) => c,
        Err(e) => {
            errs.push(path, format!("cannot build an HTTP client: {e}"));
            return None;
        }
    };
    if errs.list.len() > before {
        return None;
    }
    Some(JwtAuthenticator::new(
        issuer,
        spec.audiences.clone(),
        algorithms,
        dur(spec.leeway, 30),
        JwksCache::new(source, policy, client),
    ))
}
