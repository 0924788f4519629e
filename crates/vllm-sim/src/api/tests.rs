//! HTTP tests against in-process servers on `127.0.0.1:0`, with instantaneous engine steps.

use serde_json::{Value, json};
use tokio::net::TcpListener;

use crate::SimOptions;

const MODEL: &str = "meta-llama/Llama-3.1-8B-Instruct";

struct Sim {
    base: String,
    client: reqwest::Client,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Sim {
    async fn start(opts: SimOptions) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap_or_else(|e| panic!("bind: {e}"));
        let addr = listener.local_addr().unwrap_or_else(|e| panic!("addr: {e}"));
        let task = tokio::spawn(crate::serve(listener, opts));
        Self {
            base: format!("http://{addr}"),
            client: reqwest::Client::new(),
            task,
        }
    }

    async fn fast() -> Self {
        Self::start(SimOptions {
            time_scale: 0.0,
            lora: vec!["sql-lora".into()],
            ..SimOptions::default()
        })
        .await
    }

    async fn post(&self, path: &str, body: impl Into<reqwest::Body>) -> (u16, String) {
        let resp = self
            .client
            .post(format!("{}{path}", self.base))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap_or_else(|e| panic!("POST {path}: {e}"));
        let status = resp.status().as_u16();
        (status, resp.text().await.unwrap_or_default())
    }

    async fn post_json(&self, path: &str, body: &Value) -> (u16, Value) {
        let (status, text) = self.post(path, body.to_string()).await;
        (
            status,
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}")),
        )
    }

    async fn get(&self, path: &str) -> (u16, String) {
        let resp = self.client.get(format!("{}{path}", self.base)).send().await;
        let resp = resp.unwrap_or_else(|e| panic!("GET {path}: {e}"));
        let status = resp.status().as_u16();
        (status, resp.text().await.unwrap_or_default())
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The JSON payloads of an SSE body, `[DONE]` included as a string.
fn sse_events(body: &str) -> Vec<Value> {
    assert!(
        body.ends_with("data: [DONE]\n\n"),
        "stream must end with [DONE]: {body}"
    );
    body.split("\n\n")
        .filter(|e| !e.is_empty())
        .map(|e| {
            let data = e
                .strip_prefix("data: ")
                .unwrap_or_else(|| panic!("not an SSE data line: {e}"));
            serde_json::from_str(data).unwrap_or_else(|_| Value::String(data.to_owned()))
        })
        .collect()
}

fn chat_body(max_tokens: usize) -> Value {
    json!({
        "model": MODEL,
        "messages": [
            {"role": "system", "content": "You are a helpful assistant that answers questions about routing."},
            {"role": "user", "content": [{"type": "text", "text": "How does prefix-aware routing work?"}]}
        ],
        "max_tokens": max_tokens
    })
}

#[tokio::test]
async fn chat_non_stream_has_vllm_shape_and_prefix_cache_usage() {
    let sim = Sim::fast().await;
    let (status, first) = sim.post_json("/v1/chat/completions", &chat_body(5)).await;
    assert_eq!(status, 200, "{first}");
    assert!(
        first["id"]
            .as_str()
            .is_some_and(|id| id.starts_with("chatcmpl-") && id.len() == 9 + 32)
    );
    assert_eq!(first["object"], "chat.completion");
    assert_eq!(first["model"], MODEL);
    assert!(first["created"].as_u64().is_some_and(|t| t > 1_700_000_000));
    let choice = &first["choices"][0];
    assert_eq!(choice["index"], 0);
    assert_eq!(choice["message"]["role"], "assistant");
    assert_eq!(choice["finish_reason"], "length");
    let content = choice["message"]["content"].as_str().unwrap_or_default().to_owned();
    assert!(!content.is_empty());
    let usage = &first["usage"];
    assert_eq!(usage["completion_tokens"], 5);
    // BOS + system (start, "syst" "em", end, 19, eot) + user (start, "user", end, 11, eot) + assistant header (5).
    assert_eq!(usage["prompt_tokens"], 1 + 24 + 15 + 5);
    assert_eq!(usage["total_tokens"], 50);
    assert_eq!(usage["prompt_tokens_details"]["cached_tokens"], 0);

    let (_, second) = sim.post_json("/v1/chat/completions", &chat_body(5)).await;
    assert_eq!(
        second["choices"][0]["message"]["content"],
        content.as_str(),
        "deterministic reply"
    );
    assert_eq!(
        second["usage"]["prompt_tokens_details"]["cached_tokens"], 32,
        "two full blocks hit"
    );
    assert_ne!(second["id"], first["id"]);
}

#[tokio::test]
async fn chat_stream_without_usage() {
    let sim = Sim::fast().await;
    let (_, full) = sim.post_json("/v1/chat/completions", &chat_body(6)).await;
    let mut body = chat_body(6);
    body["stream"] = json!(true);
    let (status, text) = sim.post("/v1/chat/completions", body.to_string()).await;
    assert_eq!(status, 200);
    let events = sse_events(&text);
    assert_eq!(events.last(), Some(&Value::String("[DONE]".into())));
    let chunks = &events[..events.len() - 1];
    assert_eq!(chunks.len(), 1 + 6, "role chunk + one chunk per token");
    assert_eq!(
        chunks[0]["choices"][0]["delta"],
        json!({"role": "assistant", "content": ""})
    );
    let mut content = String::new();
    for (i, c) in chunks.iter().enumerate() {
        assert_eq!(c["object"], "chat.completion.chunk");
        assert_eq!(c["id"], chunks[0]["id"]);
        assert!(c.get("usage").is_none(), "no usage key without include_usage");
        let finish = &c["choices"][0]["finish_reason"];
        assert_eq!(*finish, if i == 6 { json!("length") } else { Value::Null });
        content.push_str(c["choices"][0]["delta"]["content"].as_str().unwrap_or_default());
    }
    assert_eq!(
        content,
        full["choices"][0]["message"]["content"].as_str().unwrap_or_default()
    );
}

#[tokio::test]
async fn chat_stream_with_include_usage() {
    let sim = Sim::fast().await;
    let mut body = chat_body(3);
    body["stream"] = json!(true);
    body["stream_options"] = json!({"include_usage": true});
    let (_, text) = sim.post("/v1/chat/completions", body.to_string()).await;
    let events = sse_events(&text);
    let chunks = &events[..events.len() - 1];
    assert_eq!(chunks.len(), 1 + 3 + 1);
    let (usage_chunk, token_chunks) = chunks.split_last().unwrap_or_else(|| panic!("no chunks"));
    for c in token_chunks {
        assert_eq!(c.get("usage"), Some(&Value::Null), "every chunk carries usage: null");
    }
    assert_eq!(usage_chunk["choices"], json!([]));
    assert_eq!(usage_chunk["usage"]["completion_tokens"], 3);
    assert_eq!(usage_chunk["usage"]["total_tokens"], 48);
    assert_eq!(usage_chunk["usage"]["prompt_tokens_details"]["cached_tokens"], 0);
}

#[tokio::test]
async fn completions_stream_and_non_stream() {
    let sim = Sim::fast().await;
    let body = json!({"model": MODEL, "prompt": [1, 2, 3, 4, 5], "max_tokens": 4});
    let (status, full) = sim.post_json("/v1/completions", &body).await;
    assert_eq!(status, 200, "{full}");
    assert!(full["id"].as_str().is_some_and(|id| id.starts_with("cmpl-")));
    assert_eq!(full["object"], "text_completion");
    assert_eq!(full["choices"][0]["finish_reason"], "length");
    assert_eq!(full["usage"]["prompt_tokens"], 5);
    assert_eq!(full["usage"]["completion_tokens"], 4);

    let mut streamed = body.clone();
    streamed["stream"] = json!(true);
    let (_, text) = sim.post("/v1/completions", streamed.to_string()).await;
    let events = sse_events(&text);
    assert_eq!(events.len(), 4 + 1);
    let joined: String = events[..4]
        .iter()
        .filter_map(|c| c["choices"][0]["text"].as_str())
        .collect();
    assert_eq!(joined, full["choices"][0]["text"].as_str().unwrap_or_default());
    assert_eq!(events[0]["object"], "text_completion");
    assert_eq!(events[3]["choices"][0]["finish_reason"], "length");

    // A text prompt without max_tokens uses the default length and finishes with "stop".
    let (_, text_prompt) = sim
        .post_json("/v1/completions", &json!({"prompt": "Hello there"}))
        .await;
    assert_eq!(text_prompt["usage"]["completion_tokens"], 64);
    assert_eq!(text_prompt["choices"][0]["finish_reason"], "stop");
    assert_eq!(text_prompt["model"], MODEL);
}

#[tokio::test]
async fn lora_adapter_is_served_and_listed() {
    let sim = Sim::fast().await;
    let mut body = chat_body(2);
    body["model"] = json!("sql-lora");
    let (status, resp) = sim.post_json("/v1/chat/completions", &body).await;
    assert_eq!(status, 200);
    assert_eq!(resp["model"], "sql-lora");

    let (status, text) = sim.get("/v1/models").await;
    assert_eq!(status, 200);
    let models: Value = serde_json::from_str(&text).unwrap_or_default();
    assert_eq!(models["object"], "list");
    let data = models["data"].as_array().cloned().unwrap_or_default();
    assert_eq!(data.len(), 2);
    assert_eq!(data[0]["id"], MODEL);
    assert_eq!(data[0]["object"], "model");
    assert_eq!(data[0]["owned_by"], "vllm");
    assert_eq!(data[0]["root"], MODEL);
    assert_eq!(data[0]["parent"], Value::Null);
    assert_eq!(data[0]["max_model_len"], 8192);
    assert_eq!(data[1]["id"], "sql-lora");
    assert_eq!(data[1]["parent"], MODEL);
    assert_eq!(data[1]["root"], "sql-lora");
}

#[tokio::test]
async fn errors_use_vllm_error_json() {
    let sim = Sim::fast().await;
    let mut body = chat_body(2);
    body["model"] = json!("x");
    let (status, err) = sim.post_json("/v1/chat/completions", &body).await;
    assert_eq!(status, 404);
    assert_eq!(
        err,
        json!({"error": {"message": "The model `x` does not exist.", "type": "NotFoundError", "param": null, "code": 404}})
    );

    for bad in ["{not json", r#"{"model": "m"}"#, r#"{"messages": "hi"}"#] {
        let (status, text) = sim.post("/v1/chat/completions", bad).await;
        assert_eq!(status, 400, "{bad}");
        let err: Value = serde_json::from_str(&text).unwrap_or_default();
        assert_eq!(err["error"]["type"], "BadRequestError", "{text}");
        assert_eq!(err["error"]["code"], 400);
        assert_eq!(err["error"]["param"], Value::Null);
    }

    let mut n2 = chat_body(2);
    n2["n"] = json!(2);
    assert_eq!(sim.post_json("/v1/chat/completions", &n2).await.0, 400);

    let long = json!({"prompt": vec![1; 100], "max_tokens": 8100});
    let (status, err) = sim.post_json("/v1/completions", &long).await;
    assert_eq!(status, 400);
    assert!(
        err["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("maximum context length is 8192"))
    );

    let (status, _) = sim
        .post_json("/v1/completions", &json!({"prompt": [], "max_tokens": 1}))
        .await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn full_queue_answers_429() {
    let sim = Sim::start(SimOptions {
        time_scale: 0.0,
        max_waiting: 0,
        ..SimOptions::default()
    })
    .await;
    let (status, err) = sim.post_json("/v1/chat/completions", &chat_body(1)).await;
    assert_eq!(status, 429);
    assert_eq!(err["error"]["code"], 429);
}

#[tokio::test]
async fn health_and_metrics() {
    let sim = Sim::start(SimOptions {
        time_scale: 0.0,
        legacy_metrics: true,
        ..SimOptions::default()
    })
    .await;
    assert_eq!(sim.get("/health").await, (200, String::new()));
    sim.post_json("/v1/chat/completions", &chat_body(5)).await;
    sim.post_json("/v1/chat/completions", &chat_body(5)).await;
    let (status, text) = sim.get("/metrics").await;
    assert_eq!(status, 200);
    let m = format!("{{engine=\"0\",model_name=\"{MODEL}\"}}");
    for expected in [
        format!("vllm:num_requests_running{m} 0.0\n"),
        format!("vllm:num_requests_waiting{m} 0.0\n"),
        format!("vllm:kv_cache_usage_perc{m} 0.0\n"),
        format!("vllm:gpu_cache_usage_perc{m} 0.0\n"),
        format!("vllm:prefix_cache_queries_total{m} 90.0\n"),
        format!("vllm:prefix_cache_hits_total{m} 32.0\n"),
        format!("vllm:prompt_tokens_total{m} 90.0\n"),
        format!("vllm:generation_tokens_total{m} 10.0\n"),
        format!("vllm:time_to_first_token_seconds_count{m} 2.0\n"),
        "# TYPE vllm:prefix_cache_queries counter\n".to_owned(),
        "vllm:cache_config_info{block_size=\"16\",".to_owned(),
    ] {
        assert!(text.contains(&expected), "missing {expected:?} in\n{text}");
    }
    assert!(!text.contains("lora_requests_info"), "only with LoRAs configured");
}

mod lifecycle;
mod responses;
mod tools;
