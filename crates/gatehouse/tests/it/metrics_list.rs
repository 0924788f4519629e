//! `/metrics` after mixed traffic (success, stream, failover, rate limit, budget, unknown model) checked against a
//! list kept here: every family and its exact label names. A metric added without updating the list, or a label
//! added to one, fails the test, so docs/observability.md and the Grafana dashboard stay in step. Raw client input
//! (an unknown model name) never becomes a label value.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use gatehouse::policy::keys::hash_key;
use serde_json::json;
use testkit::{MockOpenAi, Reply};

use crate::support::TestGateway;

/// Every family `/metrics` may expose, with its label names (`le` of histogram buckets left out), and whether this
/// test's traffic must produce it (families with no sample yet are not printed at all).
const EXPECTED: &[(&str, &[&str], bool)] = &[
    ("gatehouse_build_info", &["version"], true),
    ("gatehouse_config_generation", &[], true),
    ("gatehouse_config_reloads", &["result"], true),
    (
        "gatehouse_requests",
        &["route", "model", "target", "status", "code"],
        true,
    ),
    (
        "gatehouse_request_duration_seconds",
        &["route", "model", "target", "status"],
        true,
    ),
    ("gatehouse_request_errors", &["route", "error_code"], true),
    ("gatehouse_requests_in_flight", &[], true),
    ("gatehouse_upstream_attempts", &["provider", "result"], true),
    ("gatehouse_upstream_errors", &["target", "code"], false),
    ("gatehouse_failovers", &["model", "from", "to", "reason"], true),
    ("gatehouse_retries", &["provider"], true),
    ("gatehouse_target_ejections", &["provider", "reason"], false),
    ("gatehouse_target_health", &["provider"], false),
    ("gatehouse_limit_rejections", &["name"], true),
    ("gatehouse_budget_rejections", &["name"], true),
    ("gatehouse_budget_soft_exceeded", &["budget", "account"], false),
    ("gatehouse_limiter_backend_errors", &[], true),
    ("gatehouse_spend_usd", &["key", "team", "model", "provider"], true),
    (
        "gatehouse_billed_tokens",
        &["key", "team", "model", "provider", "type"],
        true,
    ),
    (
        "gatehouse_unpriced_requests",
        &["key", "team", "model", "provider"],
        true,
    ),
    (
        "gen_ai_client_token_usage",
        &[
            "gen_ai_operation_name",
            "gen_ai_provider_name",
            "gen_ai_request_model",
            "gen_ai_token_type",
        ],
        true,
    ),
    (
        "gen_ai_client_operation_duration_seconds",
        &[
            "gen_ai_operation_name",
            "gen_ai_provider_name",
            "gen_ai_request_model",
            "error_type",
        ],
        true,
    ),
    (
        "gen_ai_server_time_to_first_token",
        &["gen_ai_operation_name", "gen_ai_provider_name", "gen_ai_request_model"],
        true,
    ),
    (
        "gen_ai_server_time_per_output_token_seconds",
        &["gen_ai_operation_name", "gen_ai_provider_name", "gen_ai_request_model"],
        true,
    ),
    ("gatehouse_pool_replica_waiting", &["pool", "replica"], false),
    ("gatehouse_pool_replica_running", &["pool", "replica"], false),
    ("gatehouse_pool_replica_kv_cache_usage", &["pool", "replica"], false),
    ("gatehouse_pool_replica_healthy", &["pool", "replica"], false),
    ("gatehouse_pool_replica_in_flight", &["pool", "replica"], false),
    ("gatehouse_pool_picks", &["pool", "replica", "reason"], false),
    ("gatehouse_pool_shed", &["pool", "priority"], false),
    ("gatehouse_pool_decision_seconds", &["pool", "strategy"], false),
    (
        "mcp_server_operation_duration_seconds",
        &["mcp_method_name", "target", "error_type"],
        false,
    ),
    ("gatehouse_mcp_local_sessions", &["upstream"], false),
    ("gatehouse_trace_spans_exported", &[], true),
    ("gatehouse_trace_spans_dropped", &[], true),
    ("gatehouse_trace_spans_failed", &[], true),
];

/// The names in [`EXPECTED`], for the dashboard check.
pub fn documented_families() -> Vec<&'static str> {
    EXPECTED.iter().map(|(n, _, _)| *n).collect()
}

/// `family → label names seen` from an OpenMetrics text (suffixes `_total`, `_bucket`, `_sum`, `_count`, `_created`
/// folded into their family by the `# TYPE` lines).
fn families(text: &str) -> BTreeMap<String, BTreeSet<BTreeSet<String>>> {
    let mut out: BTreeMap<String, BTreeSet<BTreeSet<String>>> = BTreeMap::new();
    let mut names: Vec<String> = Vec::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let name = rest.split(' ').next().unwrap_or_default().to_string();
            out.entry(name.clone()).or_default();
            names.push(name);
            continue;
        }
        if line.starts_with('#') || line.is_empty() {
            continue;
        }
        let (metric, labels) = match line.find('{') {
            Some(i) => (&line[..i], &line[i + 1..line.rfind('}').expect("closing brace")]),
            None => (line.split(' ').next().unwrap_or_default(), ""),
        };
        let family = names
            .iter()
            .filter(|n| metric.starts_with(n.as_str()))
            .max_by_key(|n| n.len())
            .unwrap_or_else(|| panic!("sample {metric} outside any family"))
            .clone();
        let keys: BTreeSet<String> = labels
            .split("\",")
            .filter_map(|kv| kv.split_once('='))
            .map(|(k, _)| k.trim().to_string())
            .filter(|k| k != "le")
            .collect();
        out.entry(family).or_default().insert(keys);
    }
    out
}

#[tokio::test]
async fn metrics_names_and_label_sets_match_the_documented_list() {
    let primary = MockOpenAi::builder()
        .reply(Reply::status(
            503,
            json!({"error": {"message": "down", "type": "server_error", "code": null}}),
        ))
        .start()
        .await;
    let secondary = MockOpenAi::builder()
        .reply(Reply::chat("one two three four"))
        .start()
        .await;
    let gw = TestGateway::start(&format!(
        r#"
providers:
  primary: {{ kind: openai_compatible, base_url: "{}" }}
  secondary: {{ kind: openai_compatible, base_url: "{}" }}
models:
  - {{ name: m, targets: [{{ provider: primary }}, {{ provider: secondary }}] }}
  - {{ name: solo, targets: [{{ provider: secondary }}] }}
auth:
  api_keys:
    - {{ name: alice, sha256: "{}", team: ml }}
    - {{ name: bob, sha256: "{}" }}
limits:
  - {{ name: per-key, scope: key, requests_per_minute: 1, burst: 2 }}
pricing:
  models:
    m: {{ input: 1, output: 1 }}
budgets:
  - {{ name: team-tiny, scope: team, period: day, limit_usd: 0.0000001 }}
telemetry: {{ access_log: off, traces: {{ endpoint: "http://127.0.0.1:9", export_interval: 1h }} }}
"#,
        primary.base_url(),
        secondary.base_url(),
        hash_key("sk-alice"),
        hash_key("sk-bob")
    ))
    .await;
    let send = |model: &str, key: &str, stream: bool| {
        let mut body = json!({"model": model, "stream": stream, "messages": [{"role": "user", "content": "hi"}]});
        if stream {
            body["stream_options"] = json!({"include_usage": true});
        }
        gw.chat(body).bearer_auth(key).send()
    };
    // bob (no team, so no budget): failover (503 then success), a stream, then his limit (burst 2) refuses.
    assert_eq!(send("m", "sk-bob", false).await.expect("send").status(), 200);
    let r = send("solo", "sk-bob", true).await.expect("send");
    assert_eq!(r.status(), 200);
    let _ = r.text().await;
    assert_eq!(send("solo", "sk-bob", false).await.expect("send").status(), 429);
    // alice (team ml): the first priced request passes (nothing spent yet), the team budget then refuses.
    assert_eq!(send("m", "sk-alice", false).await.expect("send").status(), 200);
    assert_eq!(send("m", "sk-alice", false).await.expect("send").status(), 429);
    // Raw client input must never become a label value.
    let r = send("attacker-chosen-model-name", "sk-bob", false).await.expect("send");
    assert_eq!(r.status(), 404);

    let text = gw.metrics().await;
    assert!(
        !text.contains("attacker-chosen-model-name"),
        "client input became a label value"
    );
    let seen = families(&text);
    let unlisted: Vec<&String> = seen
        .keys()
        .filter(|k| !EXPECTED.iter().any(|(n, _, _)| n == k))
        .collect();
    assert!(
        unlisted.is_empty(),
        "families not in the list (add them here and to docs): {unlisted:?}"
    );
    for (name, labels, must) in EXPECTED {
        let Some(sets) = seen.get(*name) else {
            assert!(!must, "{name} missing from /metrics");
            continue;
        };
        let want: BTreeSet<String> = labels.iter().map(|s| (*s).to_string()).collect();
        assert!(!sets.is_empty(), "{name} has no samples");
        for got in sets {
            assert_eq!(got, &want, "{name} label names");
        }
    }
    // Values that say the traffic was seen as it happened.
    for needle in [
        r#"gatehouse_upstream_attempts_total{provider="primary",result="status_503"} 2"#,
        r#"gatehouse_limit_rejections_total{name="per-key"} 1"#,
        r#"gatehouse_budget_rejections_total{name="team-tiny"} 1"#,
        r#"gatehouse_request_errors_total{route="chat_completions",error_code="rate_limit_exceeded"} 1"#,
        r#"gatehouse_request_errors_total{route="chat_completions",error_code="model_not_found"} 1"#,
        r#"gatehouse_build_info{version=""#,
        "gatehouse_config_generation 0",
    ] {
        assert!(text.contains(needle), "missing {needle}\n{text}");
    }
    assert!(
        text.contains(r#"gen_ai_server_time_per_output_token_seconds_count{gen_ai_operation_name="chat",gen_ai_provider_name="secondary",gen_ai_request_model="solo"} 1"#),
        "{text}"
    );
}

/// `deploy/grafana/gatehouse.json` is valid JSON, a Grafana dashboard (title, panels with Prometheus targets), and
/// every metric its queries use is one `/metrics` exposes (from the list above).
#[test]
fn grafana_dashboard_is_valid_and_uses_only_exposed_metrics() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy/grafana/gatehouse.json");
    let text = std::fs::read_to_string(&path).expect("dashboard file");
    let dash: serde_json::Value = serde_json::from_str(&text).expect("valid JSON");
    assert!(dash["title"].as_str().is_some_and(|t| t.contains("gatehouse")));
    let panels = dash["panels"].as_array().expect("panels");
    assert!(panels.len() >= 8, "a useful dashboard");
    let families = documented_families();
    let mut used = BTreeSet::new();
    for p in panels {
        for t in p["targets"].as_array().map(Vec::as_slice).unwrap_or_default() {
            let expr = t["expr"].as_str().expect("expr");
            for word in expr.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')) {
                let is_label = EXPECTED.iter().any(|(_, labels, _)| labels.contains(&word));
                if !is_label
                    && (word.starts_with("gatehouse_") || word.starts_with("gen_ai_") || word.starts_with("mcp_"))
                {
                    let family = ["_total", "_bucket", "_sum", "_count"]
                        .iter()
                        .find_map(|s| word.strip_suffix(s))
                        .unwrap_or(word);
                    assert!(
                        families.contains(&family),
                        "dashboard uses unknown metric {word} in {expr}"
                    );
                    used.insert(family.to_string());
                }
            }
        }
    }
    for key in [
        "gen_ai_client_token_usage",
        "gatehouse_requests",
        "gatehouse_upstream_attempts",
        "gatehouse_request_errors",
    ] {
        assert!(used.contains(key), "dashboard has no panel on {key}");
    }
}
