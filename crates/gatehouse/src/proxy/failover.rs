//! The attempt loop: a model's targets in priority order, retried and failed over before the first byte.
//!
//! The client body is already in memory (bounded by `server.max_body_bytes`) and is replayed on every attempt,
//! prepared anew for each target's provider (translated where it needs). An attempt that fails before anything
//! reached the client — connect error, first-byte timeout, a 5xx/429/529 status (checked before relaying), or a
//! stream whose first event is an error — moves to the next target, or back to the same one after an
//! exponential, jittered backoff (at least the upstream's `Retry-After`, up to `retry_after_cap`) when it is the
//! only one. Limits: `failover.max_attempts`, the request's deadline (the first target's `timeouts.total`) and the
//! retry budget. Only the final attempt's answer is relayed, so a translated provider's error body is translated
//! once. Once the response head goes to the client nothing is retried. docs/failover.md has the rules.

use std::hash::{BuildHasher, Hasher};
use std::time::Duration;

use http::header;
use tokio::time::Instant;

use super::{AttemptError, Attempted, Forwarded, Relay, Request0};
use crate::context::RequestContext;
use crate::error::GatewayError;
use crate::health::Failure;
use crate::metrics::{FailoverLabels, ProviderLabels};
use crate::snapshot::{FailoverSettings, Snapshot, Target, TargetState};

/// Response header naming the provider that served the request.
pub const TARGET_HEADER: &str = "x-gatehouse-target";
/// Response header with the number of upstream attempts the request took.
pub const ATTEMPTS_HEADER: &str = "x-gatehouse-attempts";

/// A failed attempt that another attempt may fix.
struct Retryable {
    failure: Failure,
    /// Label for metrics and logs: `status_503`, `upstream_timeout`, ...
    reason: String,
    /// The upstream's `Retry-After`, when it sent one.
    retry_after: Option<Duration>,
    /// What the client gets if no further attempt is made.
    last: Last,
}

/// The answer of the last attempt, relayed when the loop stops.
enum Last {
    Response(Box<Relay>, Vec<(http::HeaderName, http::HeaderValue)>),
    Error(GatewayError),
}

/// Runs the attempts for one request and returns what to relay.
pub(super) async fn run(
    snap: &Snapshot,
    req: &Request0<'_>,
    ctx: &mut RequestContext,
) -> Result<Forwarded, GatewayError> {
    let settings = &snap.failover;
    snap.retry_budget.record_request();
    let start = Instant::now();
    let candidates = candidates(req.model, start)?;
    let deadline = start + candidates[0].provider.timeouts.total;
    let mut tries = vec![0u32; candidates.len()];
    let mut idx = 0;
    let mut skipped = vec![false; candidates.len()];
    let mut previous: Option<GatewayError> = None;
    loop {
        let target = candidates[idx];
        let provider = &target.provider;
        tries[idx] += 1;
        let outcome = match super::attempt(req, target, deadline, ctx).await {
            Ok(Attempted::Local(resp)) => return Ok(Forwarded::Local(resp)),
            Ok(Attempted::Sent { resp, mode, extra }) => {
                let relay = Relay {
                    resp,
                    deadline: start + provider.timeouts.total,
                    idle: provider.timeouts.idle,
                    first_byte: provider.timeouts.first_byte,
                    target: provider.name.clone(),
                    mode,
                };
                let mut relay = relay;
                let verdict = match classify(&relay.resp, settings) {
                    None => peek(&mut relay, settings.first_event_wait, deadline).await,
                    other => other.map(Ok),
                };
                match verdict {
                    Some(Err(e)) => Retryable {
                        failure: Failure::Server,
                        reason: e.code().to_string(),
                        retry_after: None,
                        last: Last::Error(e),
                    },
                    None => {
                        provider.health.record_success(&provider.name, ctx.metrics());
                        if !ctx.stream {
                            ctx.first_byte();
                        }
                        return Ok(Forwarded::Relay(Box::new(relay), with_report(extra, ctx)));
                    }
                    Some(Ok((failure, reason, retry_after))) => Retryable {
                        failure,
                        reason,
                        retry_after,
                        last: Last::Response(Box::new(relay), extra),
                    },
                }
            }
            Err(AttemptError::Prepare(e)) => {
                // This target cannot take the request at all (pool without a live replica, route it does not
                // serve): skip it if another can, else report the earlier failure or this one.
                if skippable(&e) {
                    skipped[idx] = true;
                    if let Some(next) = (0..candidates.len()).find(|&i| tries[i] == 0 && !skipped[i]) {
                        tracing::info!(request_id = %ctx.id, target = %provider.name, error = %e, "target skipped");
                        idx = next;
                        continue;
                    }
                }
                return Err(previous.unwrap_or(e));
            }
            Err(AttemptError::Send(e)) => Retryable {
                failure: Failure::Server,
                reason: e.code().to_string(),
                retry_after: None,
                last: Last::Error(e),
            },
        };

        let status = match &outcome.last {
            Last::Response(relay, _) => Some(relay.resp.status().as_u16()),
            Last::Error(_) => None,
        };
        ctx.attempt_failed(&outcome.reason, status);

        // Passive health sees every failure, whether or not the request is retried.
        let health_failure = match (outcome.failure, outcome.retry_after) {
            (Failure::Throttled(_), Some(d)) => Some(Failure::Throttled(d.min(settings.retry_after_cap))),
            (Failure::Throttled(_), None) => None,
            (f @ Failure::Server, _) => Some(f),
        };
        if let Some(f) = health_failure {
            provider
                .health
                .record_failure(&provider.name, f, settings, ctx.metrics());
        }
        if let Some(lease) = ctx.pool_lease.take() {
            let code = match &outcome.last {
                Last::Error(e) => Some(e.code()),
                Last::Response(..) => None,
            };
            lease.finish(code);
        }

        let next = next_attempt(snap, &candidates, &tries, &skipped, idx, &outcome, deadline, ctx);
        let Some((next_idx, wait)) = next else {
            return match outcome.last {
                Last::Response(relay, extra) => {
                    if !ctx.stream {
                        ctx.first_byte();
                    }
                    Ok(Forwarded::Relay(relay, with_report(extra, ctx)))
                }
                Last::Error(e) => Err(e),
            };
        };
        let to = &candidates[next_idx].provider.name;
        tracing::warn!(
            request_id = %ctx.id,
            model = %req.model.name,
            from = %provider.name,
            to = %to,
            reason = %outcome.reason,
            attempt = ctx.attempts,
            wait_ms = wait.as_millis() as u64,
            "upstream attempt failed before the first byte; retrying"
        );
        let m = ctx.metrics();
        m.retries.get_or_create(&ProviderLabels { provider: to.clone() }).inc();
        if next_idx != idx {
            m.failovers
                .get_or_create(&FailoverLabels {
                    model: req.model.name.clone(),
                    from: provider.name.clone(),
                    to: to.clone(),
                    reason: outcome.reason.clone(),
                })
                .inc();
        }
        previous = Some(match outcome.last {
            Last::Error(e) => e,
            Last::Response(relay, _) => GatewayError::UpstreamUnreachable {
                target: relay.target.clone(),
                detail: format!("answered HTTP {}", relay.resp.status().as_u16()),
            },
        });
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
        idx = next_idx;
    }
}

/// The model's usable targets in attempt order (priority groups, weighted inside a group: `crate::fallback`):
/// enabled (credential present) and in rotation (passive health and probes). When every enabled target is out,
/// they are all tried anyway, in the same order — an attempt beats a certain 503.
fn candidates(model: &crate::snapshot::Model, now: Instant) -> Result<Vec<&Target>, GatewayError> {
    let mut reasons = Vec::new();
    let enabled: Vec<&Target> = model
        .targets
        .iter()
        .filter(|t| match t.provider.state() {
            TargetState::Enabled => true,
            TargetState::Disabled(r) => {
                reasons.push(format!("{}: {r}", t.provider.name));
                false
            }
        })
        .collect();
    if enabled.is_empty() {
        return Err(GatewayError::NoTargetAvailable {
            model: model.name.clone(),
            reason: reasons.join("; "),
        });
    }
    let healthy: Vec<&Target> = enabled
        .iter()
        .copied()
        .filter(|t| t.provider.health.available(now).is_ok())
        .collect();
    let usable = if healthy.is_empty() { enabled } else { healthy };
    if usable.len() == 1 {
        return Ok(usable);
    }
    let seed = std::collections::hash_map::RandomState::new().build_hasher().finish();
    Ok(crate::fallback::order(&usable, seed))
}

/// Whether the response must not be relayed because another attempt may do better, and why.
fn classify(
    resp: &http::Response<crate::body::Upstream>,
    settings: &FailoverSettings,
) -> Option<(Failure, String, Option<Duration>)> {
    let status = resp.status().as_u16();
    let retry_after = retry_after(resp.headers());
    match status {
        429 | 529 => Some((
            Failure::Throttled(retry_after.unwrap_or_default().min(settings.retry_after_cap)),
            format!("status_{status}"),
            retry_after,
        )),
        // 501 Not Implemented and 505 are answers about the request, not the target's health.
        500..=599 if status != 501 && status != 505 => Some((Failure::Server, format!("status_{status}"), retry_after)),
        _ => None,
    }
}

/// For a successful event stream: waits (up to `first_event_wait`, within the first-byte timeout) for its first event and reports a
/// "200 then error" stream as retryable. Nothing has been sent to the client yet, so a retry is safe. Bedrock's
/// binary event stream and Gemini's are relayed without peeking (their error frames are translated mid-stream).
async fn peek(
    relay: &mut Relay,
    first_event_wait: Duration,
    deadline: Instant,
) -> Option<Result<(Failure, String, Option<Duration>), GatewayError>> {
    use super::Mode;
    if first_event_wait.is_zero()
        || !relay.resp.status().is_success()
        || !super::has_content_type(relay.resp.headers(), super::SSE)
    {
        return None;
    }
    if !matches!(
        relay.mode,
        Mode::Passthrough
            | Mode::ResponsesPassthrough
            | Mode::Responses(_)
            | Mode::Anthropic(_)
            | Mode::AnthropicNative
            | Mode::Messages(_)
    ) {
        return None;
    }
    let wait = first_event_wait
        .min(relay.first_byte)
        .min(deadline.saturating_duration_since(Instant::now()));
    match relay.resp.body_mut().peek_first_event(wait).await {
        Ok(crate::body::FirstEvent::Data) => None,
        Ok(crate::body::FirstEvent::Error) => Some(Ok((Failure::Server, "stream_error_event".to_string(), None))),
        // A slow first event (a long prefill) is not a failure: the head came in time; relay what there is.
        Err(true) => None,
        Err(false) => Some(Err(GatewayError::UpstreamUnreachable {
            target: relay.target.clone(),
            detail: "the stream failed before its first event".into(),
        })),
    }
}

/// The next attempt's target and how long to wait before it, or `None` when the loop must stop.
#[allow(clippy::too_many_arguments)]
fn next_attempt(
    snap: &Snapshot,
    candidates: &[&Target],
    tries: &[u32],
    skipped: &[bool],
    idx: usize,
    outcome: &Retryable,
    deadline: Instant,
    ctx: &RequestContext,
) -> Option<(usize, Duration)> {
    let settings = &snap.failover;
    if ctx.attempts >= settings.max_attempts {
        return None;
    }
    let n = candidates.len();
    let next = (1..=n).map(|k| (idx + k) % n).find(|&i| !skipped[i])?;
    let mut wait = Duration::ZERO;
    if tries[next] > 0 {
        // Back to a target already tried: exponential backoff with jitter, at least its Retry-After.
        let shift = (tries[next] - 1).min(16);
        let backoff = settings
            .backoff_base
            .saturating_mul(1u32 << shift)
            .min(settings.backoff_max);
        wait = jitter(backoff);
        if next == idx
            && let Some(ra) = outcome.retry_after
        {
            if ra > settings.retry_after_cap {
                tracing::info!(request_id = %ctx.id, retry_after_s = ra.as_secs(), "Retry-After beyond retry_after_cap; not retrying");
                return None;
            }
            wait = wait.max(ra);
        }
    }
    if Instant::now() + wait >= deadline {
        return None;
    }
    if !snap
        .retry_budget
        .try_retry(settings.retry_budget_ratio, settings.retry_budget_min_per_sec)
    {
        tracing::warn!(request_id = %ctx.id, "retry budget exhausted; not retrying");
        return None;
    }
    Some((next, wait))
}

/// Errors that rule out one target but not the request.
fn skippable(e: &GatewayError) -> bool {
    matches!(
        e,
        GatewayError::NoTargetAvailable { .. } | GatewayError::Shed { .. } | GatewayError::RouteNotSupported { .. }
    )
}

/// The upstream's `Retry-After` in delta-seconds (an HTTP-date is ignored: clocks differ).
fn retry_after(headers: &http::HeaderMap) -> Option<Duration> {
    let v = headers.get(header::RETRY_AFTER)?.to_str().ok()?.trim();
    let secs: f64 = v.parse().ok()?;
    (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs.min(86_400.0)))
}

/// Between half and all of `d`, so clients retrying together spread out.
fn jitter(d: Duration) -> Duration {
    let r = std::collections::hash_map::RandomState::new().build_hasher().finish();
    let half = d / 2;
    #[allow(clippy::cast_precision_loss)]
    let frac = (r % 1_000_000) as f64 / 1_000_000.0;
    half + half.mul_f64(frac)
}

/// Adds the served-by and attempt-count headers to the client's response headers.
fn with_report(
    mut extra: Vec<(http::HeaderName, http::HeaderValue)>,
    ctx: &RequestContext,
) -> Vec<(http::HeaderName, http::HeaderValue)> {
    if let Some(t) = &ctx.target
        && let Ok(v) = http::HeaderValue::from_str(t)
    {
        extra.push((http::HeaderName::from_static(TARGET_HEADER), v));
    }
    extra.push((
        http::HeaderName::from_static(ATTEMPTS_HEADER),
        http::HeaderValue::from(ctx.attempts),
    ));
    extra
}
