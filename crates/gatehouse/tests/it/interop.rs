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

fn python() -> Option<String> {
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
        "providers:\n  claude: {{ kind: anthropic, base_url: \"{}\", api_key: {{ value: sk-ant-interop }} }}\nmodels:\n  - {{ name: claude-haiku, targets: [{{ provider: claude, model: claude-haiku-4-5 }}] }}\n",
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

/// The official MCP Python SDK through two gatehouse replicas sharing a session key, in front of server-everything
/// over Streamable HTTP and stdio (tests/interop/mcp_sdk.py), in the SDK's `legacy` mode and in its default `auto`
/// mode (which probes the 2026-07-28 era first and must fall back to `initialize`).
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
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/interop/mcp_sdk.py");
    for mode in ["legacy", "auto"] {
        let (ua, ub, py) = (a.url("/mcp"), b.url("/mcp"), python.clone());
        let out = tokio::task::spawn_blocking(move || Command::new(py).arg(script).arg(ua).arg(ub).arg(mode).output())
            .await
            .expect("join")
            .expect("run python");
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success(),
            "MCP SDK interop ({mode}) failed:\n{stdout}\n{stderr}"
        );
        assert!(stdout.contains("ok"), "{mode}");
    }
}
