//! The official OpenAI Python SDK on `/v1/responses` (`tests/interop/openai_sdk_responses.py`):
//! `responses.create`, `responses.stream` (final response and usage) and a function-tool round trip with
//! `function_call_output`, through gatehouse to vllm-sim (passthrough), to the strict Anthropic mock (translated,
//! plus `previous_response_id` from the gateway's store) and to the strict Gemini mock (chained translation).
//!
//! Needs the venv made by `scripts/test.sh` (GATEHOUSE_TEST_PYTHON); without it the tests say so and pass only
//! when interop is not required.

use super::*;
use crate::interop::python;

/// Runs the SDK script against `gw` for `model` (`extra`: optional mode argument) and asserts it printed `ok`.
pub(crate) async fn run_script(python: String, gw: &TestGateway, model: &str, extra: Option<&str>) {
    let mut args = vec![format!("http://{}", gw.gw.data_addr), model.to_string()];
    args.extend(extra.map(str::to_string));
    crate::interop::run_script(python, "openai_sdk_responses.py", args).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openai_python_sdk_responses_vllm_sim() {
    let Some(python) = python() else { return };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let opts = vllm_sim::SimOptions {
        time_scale: 0.0,
        ..vllm_sim::SimOptions::default()
    };
    tokio::spawn(async move {
        let _ = vllm_sim::serve(listener, opts).await;
    });
    let gw = TestGateway::start(&format!(
        "providers:\n  pool: {{ kind: vllm_pool, endpoints: [\"http://{addr}\"] }}\nmodels:\n  - {{ name: llama, targets: [{{ provider: pool, model: meta-llama/Llama-3.1-8B-Instruct }}] }}\n{}",
        keys_yaml()
    ))
    .await;
    run_script(python, &gw, "llama", None).await;
    // Four SDK calls, each authenticated as alice and metered.
    for _ in 0..4 {
        let log = gw.next_log().await;
        assert_eq!(
            (log["route"].as_str(), log["key"].as_str()),
            (Some("responses"), Some("alice"))
        );
        assert!(log["output_tokens"].as_u64().expect("usage logged") > 0);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openai_python_sdk_responses_anthropic() {
    use testkit::{AnthropicReply, MockAnthropic};
    let Some(python) = python() else { return };
    // Replies in the order of the script's calls.
    let mock = MockAnthropic::builder()
        .api_key("sk-ant-interop")
        .enqueue(
            AnthropicReply::message("Hello from Claude")
                .with_input_tokens(10)
                .with_output_tokens(4),
        )
        .enqueue(AnthropicReply::message("Streaming hello from Claude"))
        .enqueue(AnthropicReply::tool_use("get_weather", json!({"city": "Paris"})))
        .enqueue(AnthropicReply::message("It is 18C and sunny in Paris."))
        .enqueue(AnthropicReply::message("I will remember 7."))
        .enqueue(AnthropicReply::message("The number was 7."))
        .start()
        .await;
    let gw = TestGateway::start(&format!(
        "providers:\n  claude: {{ kind: anthropic, base_url: \"{}\", api_key: {{ value: sk-ant-interop }} }}\nmodels:\n  - {{ name: claude-haiku, targets: [{{ provider: claude, model: claude-haiku-4-5 }}] }}\nfailover: {{ max_attempts: 1 }}\n{}",
        mock.base_url(),
        keys_yaml()
    ))
    .await;
    run_script(python, &gw, "claude-haiku", Some("chain")).await;
    let sent = mock.requests();
    assert_eq!(
        sent.len(),
        6,
        "the unknown previous_response_id never reached Anthropic"
    );
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
    // The function_call / function_call_output pair became tool_use / tool_result blocks.
    let tool_turn = sent[3].json();
    assert_eq!(tool_turn["messages"][1]["content"][0]["type"], "tool_use");
    assert_eq!(tool_turn["messages"][2]["content"][0]["type"], "tool_result");
    assert_eq!(tool_turn["tools"][0]["name"], "get_weather");
    // previous_response_id replayed the stored turn.
    let chained = sent[5].json();
    assert_eq!(chained["messages"].as_array().map(Vec::len), Some(3));
    assert_eq!(chained["messages"][1]["content"][0]["text"], "I will remember 7.");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openai_python_sdk_responses_gemini_chained() {
    use testkit::{GeminiReply, MockGemini};
    let Some(python) = python() else { return };
    // Replies in the order of the script's calls.
    let mock = MockGemini::builder()
        .api_key("AIza-interop")
        .enqueue(GeminiReply::text("Hello from Gemini"))
        .enqueue(GeminiReply::text("Streaming hello from Gemini"))
        .enqueue(GeminiReply::function_call("get_weather", json!({"city": "Paris"})))
        .enqueue(GeminiReply::text("It is 18C and sunny in Paris."))
        .enqueue(GeminiReply::text("I will remember 7."))
        .enqueue(GeminiReply::text("The number was 7."))
        .start()
        .await;
    let gw = TestGateway::start(&format!(
        "providers:\n  google: {{ kind: gemini, base_url: \"{}\", api_key: {{ value: AIza-interop }} }}\nmodels:\n  - {{ name: gem, targets: [{{ provider: google, model: gemini-2.5-flash }}] }}\nfailover: {{ max_attempts: 1 }}\n{}",
        mock.base_url(),
        keys_yaml()
    ))
    .await;
    run_script(python, &gw, "gem", Some("chain")).await;
    let sent = mock.requests();
    assert_eq!(sent.len(), 6, "the unknown previous_response_id never reached Gemini");
    for r in &sent {
        assert!(
            r.rejection.is_none(),
            "mock rejected {:?}: {}",
            r.rejection,
            String::from_utf8_lossy(&r.body)
        );
        assert_eq!(r.header("x-goog-api-key"), Some("AIza-interop"));
        assert_eq!(r.header("authorization"), None);
    }
    // The function_call / function_call_output pair became functionCall / functionResponse parts.
    let tool_turn = sent[3].json();
    assert_eq!(
        tool_turn["contents"][1]["parts"][0]["functionCall"]["name"],
        "get_weather"
    );
    assert_eq!(
        tool_turn["contents"][2]["parts"][0]["functionResponse"]["name"],
        "get_weather"
    );
    // previous_response_id replayed the stored turn.
    let chained = sent[5].json();
    assert_eq!(chained["contents"].as_array().map(Vec::len), Some(3));
    assert_eq!(chained["contents"][1]["parts"][0]["text"], "I will remember 7.");
}
