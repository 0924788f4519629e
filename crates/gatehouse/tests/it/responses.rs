//! `POST /v1/responses` through the real gateway: passthrough to OpenAI-style targets (a strict Responses mock,
//! Azure's resource route, a vLLM pool of vllm-sim replicas), the translated routes, the response store, and the
//! governance every LLM route gets (keys, metering, access log). docs/responses.md describes the behaviour.

use gatehouse::policy::keys::hash_key;
use serde_json::{Value, json};
use testkit::{MockResponses, ResponsesReply};

use crate::support::TestGateway;

mod chained;
mod codex;
mod interop;
mod passthrough;
mod redis_store;
mod translated;

const KEY: &str = "sk-openai-upstream";

/// The `data:` payloads of a Responses event stream, each checked to match its `event:` line.
pub(crate) fn events(body: &str) -> Vec<Value> {
    body.split("\n\n")
        .filter(|f| !f.trim().is_empty())
        .map(|f| {
            let data: Value =
                serde_json::from_str(f.lines().find_map(|l| l.strip_prefix("data: ")).expect("data line"))
                    .unwrap_or_else(|e| panic!("{e}: {f}"));
            if let Some(kind) = f.lines().find_map(|l| l.strip_prefix("event: ")) {
                assert_eq!(data["type"], kind, "event line and type agree");
            }
            data
        })
        .collect()
}

/// Posts `body` to `/v1/responses` with `headers`; status, headers and text.
pub(crate) async fn post(
    gw: &TestGateway,
    body: &Value,
    headers: &[(&str, &str)],
) -> (u16, reqwest::header::HeaderMap, String) {
    let mut req = gw.http.post(gw.url("/v1/responses")).json(body);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let resp = req.send().await.expect("send");
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    (status, headers, resp.text().await.expect("body"))
}

/// `auth:` with two keys, alice and bob.
pub(crate) fn keys_yaml() -> String {
    format!(
        "auth:\n  api_keys:\n    - {{ name: alice, sha256: \"{}\", team: ml }}\n    - {{ name: bob, sha256: \"{}\", team: web }}\n",
        hash_key("sk-alice"),
        hash_key("sk-bob")
    )
}
