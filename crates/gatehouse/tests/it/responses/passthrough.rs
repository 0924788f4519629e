//! Passthrough: OpenAI, Azure OpenAI and vLLM pools serve the Responses API themselves; the gateway swaps the
//! model and the credential, relays the answer untouched and meters it from the Responses usage shapes.

use super::*;

fn openai_config(mock: &MockResponses) -> String {
    format!(
        "providers:\n  oai: {{ kind: openai, base_url: \"{}/v1\", api_key: {{ value: {KEY} }} }}\nmodels:\n  - {{ name: gpt, targets: [{{ provider: oai, model: gpt-4.1-mini }}] }}\n",
        mock.base_url()
    )
}

#[tokio::test]
async fn openai_passthrough_swaps_model_and_key_and_meters() {
    let mock = MockResponses::builder()
        .api_key(KEY)
        .reply(ResponsesReply::Text("hello from responses".into()))
        .start()
        .await;
    let gw = TestGateway::start(&openai_config(&mock)).await;
    let body = json!({
        "model": "gpt", "instructions": "be brief", "input": [{"role": "user", "content": [{"type": "input_text", "text": "say hello now"}]}],
        "store": false, "text": {"format": {"type": "text"}}, "reasoning": {"effort": "low"}, "include": ["reasoning.encrypted_content"],
    });
    let (status, headers, text) = post(&gw, &body, &[("authorization", "Bearer client-own-key")]).await;
    assert_eq!(status, 200, "{text}");
    assert_eq!(headers["x-gatehouse-target"], "oai");
    let r: Value = serde_json::from_str(&text).expect("json");
    assert_eq!(r["object"], "response");
    assert_eq!(r["output"][0]["content"][0]["text"], "hello from responses");

    let sent = mock.requests();
    assert_eq!(sent.len(), 1);
    assert!(sent[0].rejection.is_none(), "{:?}", sent[0].rejection);
    assert_eq!(sent[0].path, "/v1/responses");
    assert_eq!(sent[0].header("authorization"), Some(format!("Bearer {KEY}").as_str()));
    // Only the model changed: every other field reached the upstream as the client wrote it.
    let mut expected = body.clone();
    expected["model"] = json!("gpt-4.1-mini");
    assert_eq!(sent[0].json(), expected);

    let log = gw.next_log().await;
    assert_eq!(log["route"], "responses");
    assert_eq!(log["model"], "gpt");
    assert_eq!(log["status"], 200);
    // 2 words of instructions + 3 of input; 3 words out.
    assert_eq!(
        (log["input_tokens"].as_u64(), log["output_tokens"].as_u64()),
        (Some(5), Some(3))
    );
}

#[tokio::test]
async fn openai_passthrough_stream_is_relayed_untouched_and_metered() {
    let mock = MockResponses::builder()
        .api_key(KEY)
        .reply(ResponsesReply::Text("one two three four".into()))
        .start()
        .await;
    let gw = TestGateway::start(&openai_config(&mock)).await;
    let body = json!({"model": "gpt", "input": "stream it", "stream": true});
    let (status, headers, text) = post(&gw, &body, &[]).await;
    assert_eq!(status, 200, "{text}");
    assert!(
        headers["content-type"]
            .to_str()
            .expect("ct")
            .starts_with("text/event-stream")
    );
    let evs = events(&text);
    // The gateway added nothing (no `stream_options`, which the Responses API would refuse) and changed nothing.
    let sent = mock.requests();
    assert!(sent[0].rejection.is_none(), "{:?}", sent[0].rejection);
    assert_eq!(
        sent[0].json(),
        json!({"model": "gpt-4.1-mini", "input": "stream it", "stream": true})
    );
    assert_eq!(evs.first().expect("events")["type"], "response.created");
    let last = evs.last().expect("events");
    assert_eq!(last["type"], "response.completed");
    for (i, e) in evs.iter().enumerate() {
        assert_eq!(e["sequence_number"], i, "sequence numbers are the upstream's");
    }
    let log = gw.next_log().await;
    assert_eq!(log["stream"], true);
    assert_eq!(
        (log["input_tokens"].as_u64(), log["output_tokens"].as_u64()),
        (Some(2), Some(4))
    );
}

#[tokio::test]
async fn previous_response_id_is_passed_through_to_openai() {
    let mock = MockResponses::builder().api_key(KEY).start().await;
    let gw = TestGateway::start(&openai_config(&mock)).await;
    let (_, _, first) = post(&gw, &json!({"model": "gpt", "input": "remember 7"}), &[]).await;
    let id = serde_json::from_str::<Value>(&first).expect("json")["id"].clone();
    let (status, _, text) = post(
        &gw,
        &json!({"model": "gpt", "input": "which number?", "previous_response_id": id}),
        &[],
    )
    .await;
    assert_eq!(status, 200, "{text}");
    assert_eq!(mock.requests()[1].json()["previous_response_id"], id);
    // An id OpenAI does not know: its own 400 reaches the client as it is.
    let (status, _, text) = post(
        &gw,
        &json!({"model": "gpt", "input": "x", "previous_response_id": "resp_unknown"}),
        &[],
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(
        serde_json::from_str::<Value>(&text).expect("json")["error"]["code"],
        "previous_response_not_found"
    );
}

#[tokio::test]
async fn azure_responses_use_the_resource_route_and_api_key() {
    let mock = MockResponses::builder()
        .api_key("azure-resource-key")
        .azure("2025-04-01-preview")
        .start()
        .await;
    let gw = TestGateway::start(&format!(
        "providers:\n  az: {{ kind: azure_openai, base_url: \"{}\", api_key: {{ value: azure-resource-key }}, api_version: \"2025-04-01-preview\" }}\nmodels:\n  - {{ name: gpt, targets: [{{ provider: az, model: prod-gpt41 }}] }}\n",
        mock.base_url()
    ))
    .await;
    let (status, _, text) = post(
        &gw,
        &json!({"model": "gpt", "input": "hi"}),
        &[("authorization", "Bearer client")],
    )
    .await;
    assert_eq!(status, 200, "{text}");
    let sent = mock.requests();
    assert!(sent[0].rejection.is_none(), "{:?}", sent[0].rejection);
    assert_eq!(sent[0].path, "/openai/responses");
    assert_eq!(sent[0].json()["model"], "prod-gpt41", "the deployment goes in the body");
}

#[tokio::test]
async fn vllm_pool_serves_responses_from_vllm_sim() {
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
        "providers:\n  pool: {{ kind: vllm_pool, endpoints: [\"http://{addr}\"] }}\nmodels:\n  - {{ name: llama, targets: [{{ provider: pool, model: meta-llama/Llama-3.1-8B-Instruct }}] }}\n"
    ))
    .await;
    let (status, _, text) = post(&gw, &json!({"model": "llama", "input": "Say hello"}), &[]).await;
    assert_eq!(status, 200, "{text}");
    let r: Value = serde_json::from_str(&text).expect("json");
    assert_eq!(
        r["model"], "meta-llama/Llama-3.1-8B-Instruct",
        "the replica's answer is relayed as is"
    );
    let log = gw.next_log().await;
    assert_eq!(log["input_tokens"], r["usage"]["input_tokens"]);
    assert_eq!(log["output_tokens"], r["usage"]["output_tokens"]);

    let (status, _, text) = post(&gw, &json!({"model": "llama", "input": "Stream", "stream": true}), &[]).await;
    assert_eq!(status, 200);
    let evs = events(&text);
    let done = evs.last().expect("events");
    assert_eq!(done["type"], "response.completed");
    let log = gw.next_log().await;
    assert_eq!(log["output_tokens"], done["response"]["usage"]["output_tokens"]);
}

#[tokio::test]
async fn keys_govern_the_responses_route() {
    let mock = MockResponses::builder().api_key(KEY).start().await;
    let gw = TestGateway::start(&format!("{}{}", openai_config(&mock), keys_yaml())).await;
    let (status, _, text) = post(
        &gw,
        &json!({"model": "gpt", "input": "hi"}),
        &[("authorization", "Bearer sk-nope")],
    )
    .await;
    assert_eq!(status, 401);
    assert_eq!(
        serde_json::from_str::<Value>(&text).expect("json")["error"]["code"],
        "invalid_api_key"
    );
    assert!(
        mock.requests().is_empty(),
        "a refused caller never reaches the upstream"
    );
    let (status, _, _) = post(
        &gw,
        &json!({"model": "gpt", "input": "hi"}),
        &[("authorization", "Bearer sk-alice")],
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        mock.requests()[0].header("authorization"),
        Some(format!("Bearer {KEY}").as_str())
    );
    // The model header wins over the body, as on every LLM route.
    let (status, _, text) = post(
        &gw,
        &json!({"model": "nope", "input": "hi"}),
        &[
            ("authorization", "Bearer sk-alice"),
            ("x-gateway-base-model-name", "gpt"),
        ],
    )
    .await;
    assert_eq!(status, 200, "{text}");
}
