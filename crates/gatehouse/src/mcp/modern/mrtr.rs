//! Multi-round-trip requests (MRTR) for stateless clients over session-era upstreams.
//!
//! A session-era upstream asks the client something (`sampling/createMessage`, `elicitation/create`, `roots/list`) on
//! the SSE stream of a running `tools/call`, `prompts/get` or `resources/read`, and waits for the answer before it
//! finishes the call. A stateless client cannot receive that request, so [`sse`] ends the client's answer with an
//! `input_required` result instead and *parks* the still-open upstream call on this replica ([`ParkedCalls`]) under a
//! sealed `requestState` (AEAD with the session key; bound to the principal, the method and the name/arguments, and
//! an expiry). The client's retry ([`resume`]) — same method, new id, `inputResponses`, the echoed `requestState` —
//! is matched to the parked call; its results go to the upstream under the upstream's own request ids, and the
//! upstream's stream is relayed on (which may end in another `input_required` round, or the final result).
//!
//! A parked call lives only on the replica that holds its upstream stream. A retry reaching another replica, arriving
//! after `stateless_input_timeout`, or whose `requestState` does not open or belongs to another principal or request
//! gets `-32602` with `error.data.code` saying which (`mcp_request_state_*`), and the client starts over.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::body::Body;
use axum::response::Response;
use bytes::Bytes;
use futures_util::stream;
use gatehouse_mcp::envelope::{self, Message, codes};
use gatehouse_mcp::mrtr::{self, StateClaims, StateError};
use gatehouse_mcp::session::SessionClaims;
use http::{HeaderValue, header};
use serde_json::value::RawValue;
use tokio::sync::mpsc;

use super::super::error::McpFailure;
use super::super::log::McpLog;
use super::super::methods::Mapper;
use super::super::settings::McpSettings;
use super::super::upstream;
use super::held::Held;

/// Associated data of a sealed `requestState` (a session token never opens as one, nor the reverse).
const STATE_AAD: &[u8] = b"gatehouse-mcp-request-state-v1";
/// The longest `requestState` accepted before any crypto is attempted.
const MAX_STATE_TOKEN: usize = (mrtr::MAX_STATE_BYTES + 12 + 16) * 4 / 3 + 4;
/// SSE comment sent while a relayed answer is quiet.
const KEEP_ALIVE: Duration = Duration::from_secs(15);

/// Where a relayed call runs and, for an interactive one, what a parked round is bound to.
#[derive(Debug, Clone)]
pub struct Origin {
    /// The claims of the upstream sessions the call runs in (to answer the upstream).
    pub claims: SessionClaims,
    /// Keeps those upstream sessions from being evicted while the call runs or is parked (only its reference
    /// count matters: a key whose [`Held`] is shared is never evicted).
    #[allow(dead_code, reason = "held for its reference count, never read")]
    pub held: Arc<Held>,
    /// The caller.
    pub principal: String,
    /// The client's method.
    pub method: String,
    /// Digest of the request's binding; `None` when the method cannot answer `input_required`.
    pub binding: Option<String>,
}

/// A call being relayed to a stateless client.
#[derive(Debug)]
pub struct Call {
    /// The upstream's messages.
    pub rx: mpsc::Receiver<Bytes>,
    /// Messages read ahead of an `input_required` round, relayed first on resumption.
    pub buffer: VecDeque<Bytes>,
    /// Maps them into the client's namespace (its `client_id` is this request's id).
    pub mapper: Mapper,
    /// The client's id of this request.
    pub id: Box<RawValue>,
    /// Where it runs.
    pub origin: Origin,
}

/// A call waiting for its client's retry.
#[derive(Debug)]
struct Parked {
    call: Call,
    /// Input-request key → the upstream's own request id.
    pending: BTreeMap<String, Box<RawValue>>,
    deadline: Instant,
}

/// Calls parked on this replica, by park id; bounded by `max_stateless_parked_calls`, each kept at most
/// `stateless_input_timeout` (swept on every stateless request; dropping one closes its upstream stream).
#[derive(Default)]
pub struct ParkedCalls {
    slots: Mutex<HashMap<String, Parked>>,
}

impl std::fmt::Debug for ParkedCalls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let n = self.slots.lock().map(|s| s.len()).unwrap_or(0);
        f.debug_struct("ParkedCalls").field("parked", &n).finish()
    }
}

// === impl ParkedCalls ===

impl ParkedCalls {
    /// Drops the parked calls past their deadline (closing their upstream streams and letting their keys' upstream
    /// sessions be evicted again). Runs on every stateless request, and whenever a call is parked or resumed.
    pub fn sweep(&self, now: Instant) {
        if let Ok(mut slots) = self.slots.lock() {
            slots.retain(|_, p| p.deadline > now);
        }
    }

    /// Parks a call; `None` when the replica already holds `max` calls that have not expired.
    fn park(&self, parked: Parked, max: usize, now: Instant) -> Option<String> {
        let mut slots = self.slots.lock().ok()?;
        slots.retain(|_, p| p.deadline > now);
        if slots.len() >= max {
            return None;
        }
        let id = random_hex()?;
        slots.insert(id.clone(), parked);
        Some(id)
    }

    /// Takes the parked call `id` out for resumption. A retry missing one of the call's input responses is refused
    /// and the call stays parked (the client may retry correctly).
    fn take(&self, id: &str, responses: &BTreeMap<String, Box<RawValue>>, now: Instant) -> Result<Parked, McpFailure> {
        let mut slots = self
            .slots
            .lock()
            .map_err(|_| McpFailure::RequestState(StateError::NotHeld))?;
        slots.retain(|_, p| p.deadline > now);
        let Some(p) = slots.get(id) else {
            return Err(McpFailure::RequestState(StateError::NotHeld));
        };
        if let Some(missing) = p.pending.keys().find(|k| !responses.contains_key(*k)) {
            return Err(gatehouse_mcp::McpError::InvalidParams(format!(
                "`inputResponses` has no response for input request `{missing}`"
            ))
            .into());
        }
        slots.remove(id).ok_or(McpFailure::RequestState(StateError::NotHeld))
    }
}

/// The binding digest of a request (SHA-256 of [`mrtr::binding`], hex).
pub fn binding_digest(method: &str, params: Option<&RawValue>) -> Result<String, McpFailure> {
    let bytes = mrtr::binding(method, params)?;
    let d = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, &bytes);
    Ok(d.as_ref().iter().map(|b| format!("{b:02x}")).collect())
}

/// A retry: opens and checks its `requestState`, takes the parked call, hands the client's results to the upstream
/// (each under the upstream's original request id), and returns the call to relay on under the retry's id.
pub async fn resume(
    settings: &McpSettings,
    principal: &str,
    method: &str,
    binding: &str,
    state: &str,
    responses: &BTreeMap<String, Box<RawValue>>,
    id: &RawValue,
) -> Result<Call, McpFailure> {
    let plain = settings
        .key
        .open_bytes(STATE_AAD, state, MAX_STATE_TOKEN)
        .ok_or(McpFailure::RequestState(StateError::Invalid))?;
    let claims = StateClaims::from_bytes(&plain).map_err(McpFailure::RequestState)?;
    claims
        .check(principal, method, binding, now_ms())
        .map_err(McpFailure::RequestState)?;
    let parked = settings.runtime.parked.take(&claims.park, responses, Instant::now())?;
    let mut call = parked.call;
    for (key, original) in &parked.pending {
        if let Some(r) = responses.get(key) {
            let body = envelope::result(original, r);
            upstream::respond(settings, &call.origin.claims, call.mapper.target, body).await;
        }
    }
    call.mapper.client_id = Some(id.to_owned());
    call.id = id.to_owned();
    Ok(call)
}

/// What one upstream message means for the relay.
enum Step {
    /// Relay it (mapped); `true` when it is the final response.
    Emit(Bytes, bool),
    /// A request the client must answer: park the call.
    Input(Box<RawValue>, String, Option<Box<RawValue>>),
    /// A request gatehouse answers itself (ping) or refuses: this reply goes upstream.
    Answer(String),
}

/// Relays a stateless client's call as SSE: notifications and the final result mapped into the client's namespace,
/// keep-alives while quiet, an idle deadline; an upstream's request for input ends the answer with `input_required`
/// (and parks the call).
pub fn sse(settings: Arc<McpSettings>, call: Call, log: McpLog) -> Response {
    struct St {
        call: Option<Call>,
        settings: Arc<McpSettings>,
        log: McpLog,
        last: tokio::time::Instant,
    }
    let st = St {
        call: Some(call),
        settings,
        log,
        last: tokio::time::Instant::now(),
    };
    let body = stream::unfold(st, |mut st| async move {
        loop {
            let call = st.call.as_mut()?;
            let msg = match call.buffer.pop_front() {
                Some(m) => m,
                None => {
                    let idle = st.settings.request_timeout;
                    let left = idle.saturating_sub(st.last.elapsed());
                    tokio::select! {
                        m = call.rx.recv() => match m {
                            Some(m) => m,
                            None => {
                                let e = McpFailure::Upstream {
                                    target: st.log.target.clone().unwrap_or_default(),
                                    detail: "the upstream ended the stream without an answer".into(),
                                };
                                let ev = fail(&mut st.log, &call.id, &e);
                                st.call = None;
                                return Some((Ok::<_, std::convert::Infallible>(ev), st));
                            }
                        },
                        () = tokio::time::sleep(KEEP_ALIVE.min(left)) => {
                            if st.last.elapsed() >= idle {
                                let e = McpFailure::UpstreamTimeout(st.log.target.clone().unwrap_or_default());
                                let ev = fail(&mut st.log, &call.id, &e);
                                st.call = None;
                                return Some((Ok(ev), st));
                            }
                            return Some((Ok(Bytes::from_static(b": keep-alive\n\n")), st));
                        }
                    }
                }
            };
            st.last = tokio::time::Instant::now();
            match step(&st.settings, call, msg) {
                Step::Emit(mapped, last) => {
                    if last {
                        st.call = None;
                        st.log.completed = true;
                        note_outcome(&mut st.log, &mapped);
                    }
                    return Some((Ok(event(&String::from_utf8_lossy(&mapped))), st));
                }
                Step::Answer(reply) => {
                    let (claims, target) = (call.origin.claims.clone(), call.mapper.target);
                    upstream::respond(&st.settings, &claims, target, reply).await;
                }
                Step::Input(up_id, method, params) => {
                    let call = st.call.take()?;
                    let ev = park_round(&st.settings, call, (up_id, method, params), &mut st.log);
                    return Some((Ok(ev), st));
                }
            }
        }
    });
    let mut r = Response::new(Body::from_stream(body));
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/event-stream"));
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("no-cache, no-transform"),
    );
    h.insert("x-accel-buffering", HeaderValue::from_static("no"));
    r
}

fn step(settings: &McpSettings, call: &Call, msg: Bytes) -> Step {
    if let Ok(Message::Request { id, method, params }) = envelope::parse_one(&msg) {
        if mrtr::is_input_method(method) && call.origin.binding.is_some() {
            return Step::Input(id.to_owned(), method.to_string(), params.map(ToOwned::to_owned));
        }
        if method == "ping" {
            let empty = RawValue::from_string("{}".into()).ok();
            if let Some(e) = empty {
                return Step::Answer(envelope::result(id, &e));
            }
        }
        return Step::Answer(envelope::error(
            Some(id),
            codes::METHOD_NOT_FOUND,
            &format!(
                "`{method}` cannot reach a stateless (2026-07-28) client outside tools/call, prompts/get or resources/read"
            ),
            None,
        ));
    }
    let (mapped, last) = call.mapper.map(settings, msg);
    Step::Emit(mapped, last)
}

/// Ends this answer with `input_required`: the first request plus any others already queued become the round's
/// input requests, and the call is parked under a sealed `requestState`.
fn park_round(
    settings: &McpSettings,
    mut call: Call,
    first: (Box<RawValue>, String, Option<Box<RawValue>>),
    log: &mut McpLog,
) -> Bytes {
    let mut asked = vec![first];
    while asked.len() < mrtr::MAX_INPUT_REQUESTS {
        let Ok(m) = call.rx.try_recv() else { break };
        match envelope::parse_one(&m) {
            Ok(Message::Request { id, method, params }) if mrtr::is_input_method(method) => {
                asked.push((id.to_owned(), method.to_string(), params.map(ToOwned::to_owned)));
            }
            _ => call.buffer.push_back(m),
        }
    }
    let target = settings
        .upstreams
        .get(call.mapper.target)
        .map_or_else(String::new, |u| u.name.clone());
    let mut pending = BTreeMap::new();
    let mut inputs = Vec::new();
    for (up_id, method, params) in asked {
        let key = gatehouse_mcp::idmap::encode(&target, &up_id);
        match mrtr::input_request(&method, params.as_deref()) {
            Ok(r) => inputs.push((key.clone(), r)),
            Err(e) => return fail(log, &call.id, &e.into()),
        }
        pending.insert(key, up_id);
    }
    let client_id = call.id.clone();
    let (principal, method, binding) = (
        call.origin.principal.clone(),
        call.origin.method.clone(),
        call.origin.binding.clone().unwrap_or_default(),
    );
    let timeout = settings.stateless.input_timeout;
    let parked = Parked {
        call,
        pending,
        deadline: Instant::now() + timeout,
    };
    let Some(park) = settings
        .runtime
        .parked
        .park(parked, settings.stateless.max_parked, Instant::now())
    else {
        let e = McpFailure::Upstream {
            target,
            detail: "too many calls are waiting for client input on this replica".into(),
        };
        return fail(log, &client_id, &e);
    };
    let claims = StateClaims {
        v: mrtr::STATE_VERSION,
        park,
        principal,
        method,
        binding,
        exp_ms: now_ms().saturating_add(u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX)),
    };
    let sealed = claims
        .to_bytes()
        .map_err(McpFailure::RequestState)
        .and_then(|b| settings.key.seal_bytes(STATE_AAD, b));
    let result = sealed.and_then(|state| Ok(mrtr::input_required_result(&inputs, &state)?));
    match result {
        Ok(r) => {
            log.completed = true;
            event(&envelope::result(&client_id, &r))
        }
        Err(e) => fail(log, &client_id, &e),
    }
}

fn fail(log: &mut McpLog, id: &RawValue, e: &McpFailure) -> Bytes {
    log.error_code = Some(e.code());
    let data = serde_json::value::to_raw_value(&serde_json::json!({ "code": e.code() })).ok();
    event(&envelope::error(
        Some(id),
        e.jsonrpc_code(),
        &e.to_string(),
        data.as_deref(),
    ))
}

fn note_outcome(log: &mut McpLog, msg: &[u8]) {
    #[derive(serde::Deserialize)]
    struct R {
        #[serde(default, rename = "isError")]
        is_error: bool,
    }
    match envelope::parse_one(msg) {
        Ok(Message::Response { outcome: Err(_), .. }) => log.error_code = Some("mcp_upstream_error"),
        Ok(Message::Response { outcome: Ok(r), .. }) => {
            log.tool_error = serde_json::from_str::<R>(r.get()).is_ok_and(|r| r.is_error);
        }
        _ => {}
    }
}

fn event(data: &str) -> Bytes {
    let mut out = Vec::with_capacity(data.len() + 24);
    gatehouse_llm::sse::encode_event(Some("message"), data, &mut out);
    Bytes::from(out)
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

fn random_hex() -> Option<String> {
    let mut b = [0u8; 16];
    aws_lc_rs::rand::fill(&mut b).ok()?;
    Some(b.iter().map(|x| format!("{x:02x}")).collect())
}
