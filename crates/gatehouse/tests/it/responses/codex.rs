//! The Codex CLI (npm `@openai/codex`, which speaks only the Responses API) run end to end through gatehouse:
//! `codex exec` with a custom model provider (`wire_api = "responses"`, `base_url` = the gateway, `env_key` = a
//! gatehouse API key), answering from a vllm-sim replica (passthrough), from the strict Anthropic mock
//! (translated) and from the strict Gemini mock (chained translation).
//!
//! Needs the Codex binary installed by `scripts/test.sh` (GATEHOUSE_TEST_CODEX); without it the tests say so and
//! pass only when interop is not required (GATEHOUSE_REQUIRE_INTEROP).

use std::process::Command;

use super::*;

fn codex() -> Option<String> {
    match std::env::var("GATEHOUSE_TEST_CODEX") {
        Ok(p) if !p.is_empty() => Some(p),
        _ => {
            assert!(
                std::env::var("GATEHOUSE_REQUIRE_INTEROP").is_err(),
                "GATEHOUSE_REQUIRE_INTEROP is set but GATEHOUSE_TEST_CODEX is not"
            );
            eprintln!("SKIPPED: the Codex end-to-end test needs tests/codex installed by scripts/test.sh");
            None
        }
    }
}

/// Runs `codex exec PROMPT` against the gateway with the gatehouse key `sk-alice`; its stdout (the final answer).
pub(crate) async fn run_codex(bin: String, gw: &TestGateway, model: &str, prompt: &str) -> String {
    let home = gw.dir.path().join("codex-home");
    std::fs::create_dir_all(&home).expect("codex home");
    std::fs::write(
        home.join("config.toml"),
        format!(
            "model = \"{model}\"\nmodel_provider = \"gatehouse\"\n\n[model_providers.gatehouse]\nname = \"gatehouse\"\nbase_url = \"{}\"\nenv_key = \"GATEHOUSE_API_KEY\"\nwire_api = \"responses\"\n",
            gw.url("/v1")
        ),
    )
    .expect("codex config");
    let work = gw.dir.path().to_path_buf();
    let prompt = prompt.to_string();
    let out = tokio::task::spawn_blocking(move || {
        Command::new(bin)
            .args(["exec", "--skip-git-repo-check", "--color", "never", &prompt])
            .current_dir(&work)
            .env("CODEX_HOME", &home)
            .env("HOME", &work)
            .env("GATEHOUSE_API_KEY", "sk-alice")
            .stdin(std::process::Stdio::null())
            .output()
    })
    .await
    .expect("join")
    .expect("run codex");
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "codex exec failed:\n{stdout}\n{stderr}");
    stdout
}

/// The access-log line of the first `/v1/responses` request.
pub(crate) async fn responses_log(gw: &TestGateway) -> Value {
    loop {
        let log = gw.next_log().await;
        if log["route"] == "responses" {
            return log;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn codex_exec_answers_from_vllm_sim() {
    let Some(bin) = codex() else { return };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    // Codex's own instructions and tool definitions are about 9k tokens: a longer context than the default.
    let opts = vllm_sim::SimOptions {
        time_scale: 0.0,
        max_model_len: 65_536,
        num_gpu_blocks: 8192,
        max_num_batched_tokens: 65_536,
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
    let stdout = run_codex(bin, &gw, "llama", "Say hello").await;
    assert!(!stdout.trim().is_empty(), "codex printed the model's answer");
    let log = responses_log(&gw).await;
    assert_eq!(log["key"], "alice", "Codex authenticated with its gatehouse key");
    assert_eq!(log["stream"], true);
    assert_eq!(log["outcome"], "complete");
    assert!(
        log["input_tokens"].as_u64().expect("input tokens") > 1000,
        "Codex's instructions were metered"
    );
    assert!(log["output_tokens"].as_u64().expect("output tokens") > 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn codex_exec_answers_from_the_anthropic_mock() {
    use testkit::{AnthropicReply, MockAnthropic};
    let Some(bin) = codex() else { return };
    let mock = MockAnthropic::builder()
        .api_key("sk-ant-codex")
        .reply(AnthropicReply::message("Hello from Claude through gatehouse").with_output_tokens(6))
        .start()
        .await;
    let gw = TestGateway::start(&format!(
        "providers:\n  claude: {{ kind: anthropic, base_url: \"{}\", api_key: {{ value: sk-ant-codex }} }}\nmodels:\n  - {{ name: claude, targets: [{{ provider: claude, model: claude-sonnet-4-5 }}] }}\nfailover: {{ max_attempts: 1 }}\n{}",
        mock.base_url(),
        keys_yaml()
    ))
    .await;
    let stdout = run_codex(bin, &gw, "claude", "Say hello").await;
    assert!(
        stdout.contains("Hello from Claude through gatehouse"),
        "codex printed the answer: {stdout}"
    );
    let log = responses_log(&gw).await;
    assert_eq!(
        (log["key"].as_str(), log["target"].as_str()),
        (Some("alice"), Some("claude"))
    );
    assert_eq!(log["stream"], true);
    assert_eq!(log["outcome"], "complete");
    assert_eq!(log["output_tokens"], 6);
    let sent = mock.requests();
    assert!(!sent.is_empty());
    for r in &sent {
        assert!(
            r.rejection.is_none(),
            "mock rejected {:?}: {}",
            r.rejection,
            String::from_utf8_lossy(&r.body)
        );
        assert_eq!(r.header("x-api-key"), Some("sk-ant-codex"));
    }
    let m = sent[0].json();
    assert_eq!(m["model"], "claude-sonnet-4-5");
    assert!(
        m["tools"].as_array().is_some_and(|t| !t.is_empty()),
        "Codex's function tools reached Anthropic"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn codex_exec_answers_from_the_gemini_mock_through_the_chain() {
    use testkit::{GeminiReply, MockGemini};
    let Some(bin) = codex() else { return };
    let mock = MockGemini::builder()
        .api_key("AIza-codex")
        .reply(GeminiReply::text("Hello from Gemini through gatehouse"))
        .start()
        .await;
    let gw = TestGateway::start(&format!(
        "providers:\n  google: {{ kind: gemini, base_url: \"{}\", api_key: {{ value: AIza-codex }} }}\nmodels:\n  - {{ name: gem, targets: [{{ provider: google, model: gemini-2.5-flash }}] }}\nfailover: {{ max_attempts: 1 }}\n{}",
        mock.base_url(),
        keys_yaml()
    ))
    .await;
    let stdout = run_codex(bin, &gw, "gem", "Say hello").await;
    assert!(
        stdout.contains("Hello from Gemini through gatehouse"),
        "codex printed the answer: {stdout}"
    );
    let log = responses_log(&gw).await;
    assert_eq!(
        (log["key"].as_str(), log["target"].as_str()),
        (Some("alice"), Some("google"))
    );
    assert_eq!(log["stream"], true);
    assert_eq!(log["outcome"], "complete");
    assert!(log["output_tokens"].as_u64().expect("output tokens") > 0);
    let sent = mock.requests();
    assert!(!sent.is_empty());
    for r in &sent {
        assert!(
            r.rejection.is_none(),
            "mock rejected {:?}: {}",
            r.rejection,
            String::from_utf8_lossy(&r.body)
        );
        assert_eq!(r.header("x-goog-api-key"), Some("AIza-codex"));
    }
    assert_eq!(sent[0].path, "/v1beta/models/gemini-2.5-flash:streamGenerateContent");
    let m = sent[0].json();
    assert!(
        m["tools"][0]["functionDeclarations"]
            .as_array()
            .is_some_and(|t| !t.is_empty()),
        "Codex's function tools reached Gemini"
    );
}
