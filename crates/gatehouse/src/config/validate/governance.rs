//! `auth:` → the runtime [`Policy`]: keys checked (names and hashes unique, hashes well formed), the key file read
//! once now so a bad file is a load error, the JWT authenticator built like `/mcp`'s.

use super::Errors;
use std::collections::HashSet;
use std::sync::Arc;

use crate::config::spec::ConfigSpec;
use crate::config::spec::governance::{ApiKeysSpec, AuthSpec, LimitSpec, RedisFailMode};
use crate::policy::budget::Budget;
use crate::policy::keys::{self, KeyStore};
use crate::policy::limits::Limit;
use crate::policy::{Authn, Policy};

/// Builds the LLM-route policies; problems are pushed to `errs`.
pub(super) fn build(errs: &mut Errors<'_>, spec: &ConfigSpec) -> Policy {
    let (auth, limits, budgets) = (spec.auth.as_ref(), &spec.limits, &spec.budgets);
    let redis = spec.redis.as_ref().and_then(|r| {
        let timeout = r.timeout.map_or(std::time::Duration::from_millis(200), |d| d.0);
        match crate::limit::redis::RedisLimiter::new(&r.url, timeout) {
            Ok(l) => Some(Arc::new(crate::policy::RedisBackend {
                limiter: l,
                fail_open: r.on_error == RedisFailMode::FailOpen,
            })),
            Err(message) => {
                errs.push(&["redis", "url"], message);
                None
            }
        }
    });
    let mut seen = HashSet::new();
    for (i, l) in limits.iter().enumerate() {
        if !seen.insert(l.name.as_str()) {
            errs.push(
                &["limits", &i.to_string(), "name"],
                format!("the limit name `{}` is used twice", l.name),
            );
        }
    }
    let mut names = HashSet::new();
    for (i, b) in budgets.iter().enumerate() {
        let idx = i.to_string();
        if b.name.trim().is_empty() {
            errs.push(&["budgets", &idx, "name"], "a budget needs a name");
        } else if !names.insert(b.name.as_str()) {
            errs.push(
                &["budgets", &idx, "name"],
                format!("the budget name `{}` is used twice", b.name),
            );
        }
        if !(b.limit_usd.is_finite() && b.limit_usd > 0.0) {
            errs.push(&["budgets", &idx, "limit_usd"], "must be a positive number");
        }
        if let Some(s) = b.soft_usd
            && !(s.is_finite() && s > 0.0 && s <= b.limit_usd)
        {
            errs.push(
                &["budgets", &idx, "soft_usd"],
                "must be positive and at most `limit_usd`",
            );
        }
    }
    Policy {
        redis,
        budgets: budgets.iter().map(|b| Arc::new(Budget::new(b.clone()))).collect(),
        auth: auth.and_then(|a| authn(errs, a)),
        limits: limits
            .iter()
            .enumerate()
            .filter_map(|(i, l)| limit(errs, i, l))
            .map(Arc::new)
            .collect(),
    }
}

fn limit(errs: &mut Errors<'_>, i: usize, spec: &LimitSpec) -> Option<Limit> {
    let idx = i.to_string();
    let before = errs.list.len();
    if spec.name.trim().is_empty() {
        errs.push(&["limits", &idx, "name"], "a limit needs a name");
    }
    if spec.requests_per_second.is_some() && spec.requests_per_minute.is_some() {
        errs.push(
            &["limits", &idx, "requests_per_minute"],
            "set `requests_per_second` or `requests_per_minute`, not both",
        );
    }
    for (field, v) in [
        ("requests_per_second", spec.requests_per_second),
        ("requests_per_minute", spec.requests_per_minute),
    ] {
        if let Some(v) = v
            && !(v.is_finite() && v > 0.0 && v <= 1e9)
        {
            errs.push(&["limits", &idx, field], "must be a positive number");
        }
    }
    if spec.burst == Some(0) {
        errs.push(&["limits", &idx, "burst"], "must be at least 1");
    }
    if spec.burst.is_some() && spec.requests_per_second.is_none() && spec.requests_per_minute.is_none() {
        errs.push(&["limits", &idx, "burst"], "`burst` needs a request rate");
    }
    if let Some(t) = spec.tokens_per_minute
        && (t == 0 || u32::try_from(t).is_err())
    {
        errs.push(
            &["limits", &idx, "tokens_per_minute"],
            "must be between 1 and 4294967295",
        );
    }
    if spec.concurrent == Some(0) {
        errs.push(&["limits", &idx, "concurrent"], "must be at least 1");
    }
    if spec.requests_per_second.is_none()
        && spec.requests_per_minute.is_none()
        && spec.tokens_per_minute.is_none()
        && spec.concurrent.is_none()
    {
        errs.push(
            &["limits", &idx],
            "a limit needs `requests_per_second`, `requests_per_minute`, `tokens_per_minute` or `concurrent`",
        );
    }
    if errs.list.len() > before {
        return None;
    }
    match Limit::new(spec.clone()) {
        Some(l) => Some(l),
        None => {
            errs.push(&["limits", &idx], "the rate is out of range");
            None
        }
    }
}

fn authn(errs: &mut Errors<'_>, spec: &AuthSpec) -> Option<Authn> {
    let before = errs.list.len();
    if spec.api_keys.is_none() && spec.jwt.is_none() && !spec.anonymous {
        errs.push(
            &["auth"],
            "`auth` needs `api_keys`, `jwt` or `anonymous: true` (remove the section to leave the gateway open)",
        );
    }
    let keys = match &spec.api_keys {
        None => None,
        Some(ApiKeysSpec::Inline(list)) => {
            for p in keys::check(list) {
                errs.push(&["auth", "api_keys", &p.index.to_string(), p.field], p.message);
            }
            Some(KeyStore::new(list, None))
        }
        Some(ApiKeysSpec::File { file }) => match keys::read_file(file) {
            Ok(list) => Some(KeyStore::new(&list, Some(file.clone()))),
            Err(message) => {
                errs.push(&["auth", "api_keys", "file"], message);
                None
            }
        },
    };
    let jwt = spec
        .jwt
        .as_ref()
        .and_then(|j| super::auth::jwt(errs, &["auth", "jwt"], j));
    if errs.list.len() > before {
        return None;
    }
    let claims = spec.jwt_claims.clone().unwrap_or_default();
    Some(Authn {
        keys,
        jwt,
        team_claim: claims.team,
        user_claim: claims.user,
        anonymous: spec.anonymous,
    })
}
