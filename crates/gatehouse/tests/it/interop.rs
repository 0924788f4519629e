//! Interop: the official OpenAI Python SDK drives gatehouse in front of two vllm-sim replicas.
//!
//! Needs the venv made by `scripts/test.sh` (it sets GATEHOUSE_TEST_PYTHON and GATEHOUSE_REQUIRE_INTEROP);
//! without it the test says so and passes only when interop is not required.

use std::process::Command;

use crate::support::TestGateway;

async fn start_sim(seed: u64) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let opts = vllm_sim::SimOptions {
        seed,
        time_scale: 0.01,
        ..vllm_sim::SimOptions::default()
    };
    tokio::spawn(async move {
        let _ = vllm_sim::serve(listener, opts).await;
    });
    format!("http://{addr}")
}

pub fn python() -> Option<String> {
    match std::env::var("GATEHOUSE_TEST_PYTHON") {
        Ok(p) if !p.is_empty() => Some(p),
        _ => {
            assert!(
                std::env::var("GATEHOUSE_REQUIRE_INTEROP").is_err(),
                "GATEHOUSE_REQUIRE_INTEROP is set but GATEHOUSE_TEST_PYTHON is not"
            );
            eprintln!("SKIPPED: interop needs the venv from scripts/test.sh (GATEHOUSE_TEST_PYTHON)");
            None
        }
    }
}

/// Runs `tests/interop/{script}` with `args` under the test venv's Python, asserts that it exited 0 and printed
/// `ok`, and returns what it printed.
pub async fn run_script(python: String, script: &str, args: Vec<String>) -> String {
    let path = format!("{}/../../tests/interop/{script}", env!("CARGO_MANIFEST_DIR"));
    let out = tokio::task::spawn_blocking(move || Command::new(python).arg(path).args(args).output())
        .await
        .expect("join")
        .expect("run python");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{script} failed:\n{stdout}\n{stderr}");
    assert!(stdout.contains("ok"), "{script} did not print ok:\n{stdout}");
    stdout
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openai_python_sdk() {
    let Some(python) = python() else { return };
    let a = start_sim(1).await;
    let b = start_sim(2).await;
    let gw = TestGateway::start(&format!(
        "providers:\n  pool: {{ kind: vllm_pool, endpoints: [\"{a}\", \"{b}\"] }}\nmodels:\n  - {{ name: llama, aliases: [default], targets: [{{ provider: pool, model: meta-llama/Llama-3.1-8B-Instruct }}] }}\n"
    ))
    .await;
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/interop/openai_sdk.py");
    let base = format!("http://{}", gw.gw.data_addr);
    let out = tokio::task::spawn_blocking(move || Command::new(python).arg(script).arg(base).arg("llama").output())
        .await
        .expect("join")
        .expect("run python");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "SDK interop failed:\n{stdout}\n{stderr}");
    assert!(stdout.contains("ok"));
    // Every SDK call was logged with usage.
    let log = gw.next_log().await;
    assert_eq!(log["model"], "llama");
    assert!(log["output_tokens"].as_u64().expect("usage logged") > 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openai_python_sdk_to_anthropic() {
    use testkit::{AnthropicReply, MockAnthropic};
    let Some(python) = python() else { return };
    // Replies in the order of the script's calls (tests/interop/openai_sdk_anthropic.py).
    let mock = MockAnthropic::builder()
        .api_key("sk-ant-interop")
        .enqueue(
            AnthropicReply::message("Hello from Claude")
                .with_input_tokens(10)
                .with_cache_tokens(3, 5)
                .with_output_tokens(7),
        )
        .enqueue(AnthropicReply::message("Streaming hello from Claude"))
        .enqueue(AnthropicReply::message("Again here"))
        .enqueue(AnthropicReply::tool_use(
            "get_weather",
            serde_json::json!({"city": "Paris"}),
        ))
        .enqueue(AnthropicReply::message("It is 18C and sunny in Paris."))
        .enqueue(AnthropicReply::message("A single pixel."))
        .enqueue(AnthropicReply::message(r#"{"answer": "yes"}"#))
        .enqueue(AnthropicReply::rate_limited(1))
        .enqueue(AnthropicReply::overloaded())
        .start()
        .await;
    let gw = TestGateway::start(&format!(
        "providers:\n  claude: {{ kind: anthropic, base_url: \"{}\", api_key: {{ value: sk-ant-interop }} }}\nmodels:\n  - {{ name: claude-haiku, targets: [{{ provider: claude, model: claude-haiku-4-5 }}] }}\nfailover: {{ max_attempts: 1 }}\n",
        mock.base_url()
    ))
    .await;
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/interop/openai_sdk_anthropic.py"
    );
    let base = format!("http://{}", gw.gw.data_addr);
    let out =
        tokio::task::spawn_blocking(move || Command::new(python).arg(script).arg(base).arg("claude-haiku").output())
            .await
            .expect("join")
            .expect("run python");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "SDK interop failed:\n{stdout}\n{stderr}");
    assert!(stdout.contains("ok"));

    // What the strict mock received: all accepted, in the shapes Anthropic documents.
    let sent = mock.requests();
    assert_eq!(sent.len(), 9, "the n=2 request never reached Anthropic");
    for r in &sent {
        assert!(
            r.rejection.is_none(),
            "mock rejected {:?}: {}",
            r.rejection,
            String::from_utf8_lossy(&r.body)
        );
        assert_eq!(r.header("x-api-key"), Some("sk-ant-interop"));
        assert_eq!(r.header("authorization"), None);
    }
    let tool_turn = sent[4].json();
    assert_eq!(tool_turn["messages"][1]["content"][0]["type"], "tool_use");
    assert_eq!(tool_turn["messages"][2]["content"][0]["type"], "tool_result");
    assert_eq!(tool_turn["messages"][2]["content"][0]["content"], "18C and sunny");
    let image = sent[5].json();
    let block = &image["messages"][0]["content"][1];
    assert_eq!(block["type"], "image");
    assert_eq!(block["source"]["type"], "base64");
    assert_eq!(block["source"]["media_type"], "image/png");
    let structured = sent[6].json();
    assert_eq!(structured["output_config"]["format"]["type"], "json_schema");
    assert_eq!(
        structured["output_config"]["format"]["schema"]["required"],
        serde_json::json!(["answer"])
    );
}

/// Runs `tests/interop/anthropic_sdk.py` against a gateway serving `model`.
async fn run_anthropic_sdk(python: String, gw: &TestGateway, model: &'static str) {
    let base = format!("http://{}", gw.gw.data_addr);
    run_script(python, "anthropic_sdk.py", vec![base, model.to_string()]).await;
}

/// Runs `tests/interop/openai_sdk_providers.py` against `model` and returns the JSON line it printed.
async fn run_provider_script(python: String, gw: &TestGateway, model: &'static str) -> serde_json::Value {
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/interop/openai_sdk_providers.py"
    );
    let base = format!("http://{}", gw.gw.data_addr);
    let out = tokio::task::spawn_blocking(move || Command::new(python).arg(script).arg(base).arg(model).output())
        .await
        .expect("join")
        .expect("run python");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "SDK interop with {model} failed:\n{stdout}\n{stderr}"
    );
    serde_json::from_str(stdout.trim()).unwrap_or_else(|e| panic!("{model}: not JSON ({e}): {stdout}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn anthropic_python_sdk_native() {
    use testkit::{AnthropicReply, MockAnthropic};
    let Some(python) = python() else { return };
    // Replies in the order of the script's calls; count_tokens and the unknown model consume none.
    let mock = MockAnthropic::builder()
        .api_key("sk-ant-native")
        .enqueue(AnthropicReply::message("Hello from Claude"))
        .enqueue(AnthropicReply::message("Streaming hello from Claude"))
        .enqueue(AnthropicReply::tool_use(
            "get_weather",
            serde_json::json!({"city": "Paris"}),
        ))
        .enqueue(AnthropicReply::message("It is 18C and sunny."))
        .enqueue(AnthropicReply::tool_use(
            "get_weather",
            serde_json::json!({"city": "Paris"}),
        ))
        .start()
        .await;
    let gw = TestGateway::start(&format!(
        "providers:\n  claude: {{ kind: anthropic, base_url: \"{}\", api_key: {{ value: sk-ant-native }} }}\nmodels:\n  - {{ name: claude-haiku, targets: [{{ provider: claude, model: claude-haiku-4-5 }}] }}\n",
        mock.base_url()
    ))
    .await;
    run_anthropic_sdk(python, &gw, "claude-haiku").await;
    let sent = mock.requests();
    assert_eq!(sent.len(), 6, "five messages calls and one count_tokens");
    for r in &sent {
        assert!(
            r.rejection.is_none(),
            "mock rejected {:?}: {}",
            r.rejection,
            String::from_utf8_lossy(&r.body)
        );
        assert_eq!(r.header("x-api-key"), Some("sk-ant-native"));
        assert_eq!(
            r.header("authorization"),
            None,
            "the SDK's bearer token is not forwarded"
        );
        assert_eq!(r.json()["model"], "claude-haiku-4-5");
    }
    let round_trip = sent[3].json();
    assert_eq!(round_trip["messages"][2]["content"][0]["type"], "tool_result");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn anthropic_python_sdk_translated() {
    let Some(python) = python() else { return };
    let a = start_sim(3).await;
    let gw = TestGateway::start(&format!(
        "providers:\n  pool: {{ kind: vllm_pool, endpoints: [\"{a}\"] }}\nmodels:\n  - {{ name: llama, targets: [{{ provider: pool, model: meta-llama/Llama-3.1-8B-Instruct }}] }}\n"
    ))
    .await;
    run_anthropic_sdk(python, &gw, "llama").await;
    let log = gw.next_log().await;
    assert_eq!(log["route"], "messages");
    assert!(log["output_tokens"].as_u64().expect("usage logged") > 0);
}

/// The official MCP Python SDK through two gatehouse replicas sharing a session key, in front of server-everything
/// over Streamable HTTP and stdio (tests/interop/mcp_sdk.py), in the SDK's `legacy` mode (its `auto` mode now settles
/// on the stateless era: `mcp_stateless::mcp_python_sdk_stateless_era`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mcp_python_sdk_through_two_replicas() {
    let Some(python) = python() else { return };
    let Some(ev) = crate::mcp_support::everything() else {
        return;
    };
    let up = ev.start_http(None).await;
    let cfg = crate::mcp::config(&up.url(), &ev.stdio_command());
    let a = TestGateway::start(&cfg).await;
    let b = TestGateway::start(&cfg).await;
    for mode in ["legacy"] {
        run_script(
            python.clone(),
            "mcp_sdk.py",
            vec![a.url("/mcp"), b.url("/mcp"), mode.to_string()],
        )
        .await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openai_python_sdk_to_gemini_and_bedrock() {
    use serde_json::json;
    use testkit::{BedrockReply, GeminiReply, MockBedrock, MockGemini};
    let Some(python) = python() else { return };
    let bedrock_model = "anthropic.claude-3-5-haiku-20241022-v1:0";
    let gemini = MockGemini::builder()
        .api_key("AIza-interop")
        .enqueue(GeminiReply::text("Hello from the provider").with_cached_tokens(2))
        .enqueue(GeminiReply::text("Streaming hello from the provider"))
        .enqueue(GeminiReply::text("Again here"))
        .enqueue(GeminiReply::function_call("get_weather", json!({"city": "Paris"})))
        .enqueue(GeminiReply::text("It is 18C and sunny in Paris."))
        .enqueue(GeminiReply::error(
            429,
            "RESOURCE_EXHAUSTED",
            "Resource has been exhausted (e.g. check quota).",
        ))
        .start()
        .await;
    let bedrock = MockBedrock::builder("us-east-1", "AKIDINTEROP", "interop-secret")
        .models(&[bedrock_model])
        .start()
        .await;
    for reply in [
        BedrockReply::text("Hello from the provider").with_cache(2, 0),
        BedrockReply::text("Streaming hello from the provider"),
        BedrockReply::text("Again here"),
        BedrockReply::text("").with_tool_use("tooluse_interop", "get_weather", json!({"city": "Paris"})),
        BedrockReply::text("It is 18C and sunny in Paris."),
        BedrockReply::error(
            429,
            "ThrottlingException",
            "Too many requests, please wait before trying again.",
        ),
    ] {
        bedrock.enqueue(reply);
    }
    let gw = TestGateway::start(&format!(
        "providers:\n  google: {{ kind: gemini, base_url: \"{}\", api_key: {{ value: AIza-interop }} }}\n  aws: {{ kind: bedrock, region: us-east-1, base_url: \"{}\", aws: {{ access_key_id: {{ value: AKIDINTEROP }}, secret_access_key: {{ value: interop-secret }} }} }}\nmodels:\n  - {{ name: gem, targets: [{{ provider: google, model: gemini-2.5-flash }}] }}\n  - {{ name: bed, targets: [{{ provider: aws, model: \"{bedrock_model}\" }}] }}\nfailover: {{ max_attempts: 1 }}\n",
        gemini.base_url(),
        bedrock.base_url()
    ))
    .await;
    let seen_gemini = run_provider_script(python.clone(), &gw, "gem").await;
    let seen_bedrock = run_provider_script(python, &gw, "bed").await;

    // The model name differs by design; everything else the client saw is identical.
    let mut normalized = seen_bedrock.clone();
    normalized["create"]["model"] = seen_gemini["create"]["model"].clone();
    assert_eq!(seen_gemini, normalized, "identical client-visible shapes");
    assert_eq!(seen_gemini["create"]["model"], "gem");
    assert_eq!(seen_bedrock["create"]["model"], "bed");
    assert_eq!(seen_gemini["stream"]["text"], "Streaming hello from the provider");
    assert_eq!(seen_gemini["stream"]["finish"], json!(["stop"]));
    assert_eq!(seen_gemini["tools"]["finish"], json!(["tool_calls"]));
    assert_eq!(seen_gemini["tools"]["answer"], "It is 18C and sunny in Paris.");
    assert_eq!(
        seen_gemini["rate_limited"],
        json!({"status": 429, "code": "upstream_rate_limited"})
    );
    assert_eq!(seen_gemini["refused"], json!({"status": 400, "names_n": true}));

    // Both strict mocks accepted every request they got (the n=2 request reached neither).
    let g = gemini.requests();
    let b = bedrock.requests();
    assert_eq!((g.len(), b.len()), (6, 6));
    assert!(
        g.iter().all(|r| r.rejection.is_none()),
        "{:?}",
        g.iter().map(|r| &r.rejection).collect::<Vec<_>>()
    );
    assert!(
        b.iter().all(|r| r.rejection.is_none()),
        "{:?}",
        b.iter().map(|r| &r.rejection).collect::<Vec<_>>()
    );
    assert_eq!(
        g[4].json()["contents"][2]["parts"][0]["functionResponse"]["name"],
        "get_weather"
    );
    assert_eq!(
        b[4].json()["messages"][2]["content"][0]["toolResult"]["toolUseId"],
        "tooluse_interop"
    );
}
