//! Engine tests on tokio's paused clock: step durations are exact virtual time, nothing waits on wall time.

use tokio::time::{Duration, Instant};

use super::*;

fn opts() -> SimOptions {
    SimOptions {
        default_max_tokens: 4,
        ..SimOptions::default()
    }
}

fn submission(prompt: Vec<u32>, max_tokens: usize) -> Submission {
    Submission {
        adapter: None,
        prompt,
        max_tokens,
        finish_reason: FinishReason::Length,
        request_seed: None,
        script: None,
    }
}

fn start(opts: &SimOptions) -> Engine {
    let engine = Engine::new(opts);
    let runner = engine.clone();
    tokio::spawn(async move { runner.run().await });
    engine
}

/// Time to the first token, and the full text, of one request.
async fn run_one(engine: &Engine, prompt: Vec<u32>, max_tokens: usize) -> (Duration, String) {
    let start = Instant::now();
    let mut handle = engine
        .submit(submission(prompt, max_tokens))
        .unwrap_or_else(|e| panic!("submit: {e:?}"));
    let mut ttft = None;
    let mut text = String::new();
    while let Some(event) = handle.recv().await {
        ttft.get_or_insert_with(|| start.elapsed());
        text.push_str(&event.text);
    }
    (ttft.unwrap_or_default(), text)
}

fn assert_close(actual: Duration, expected_ms: f64) {
    let diff = (actual.as_secs_f64() * 1000.0 - expected_ms).abs();
    assert!(diff <= 1.5, "expected ~{expected_ms} ms, got {actual:?}");
}

#[tokio::test(start_paused = true)]
async fn cached_prompt_has_lower_ttft() {
    let engine = start(&opts());
    let prompt: Vec<u32> = (0..1000).collect();
    let (cold, text_cold) = run_one(&engine, prompt.clone(), 4).await;
    // 30 ms + 1000 × 0.25 ms.
    assert_close(cold, 280.0);
    let (warm, text_warm) = run_one(&engine, prompt, 4).await;
    // 62 full blocks (992 tokens) hit; 8 tokens are prefilled: 30 + 8 × 0.25.
    assert_close(warm, 32.0);
    assert!(warm < cold);
    assert_eq!(text_cold, text_warm, "same request, same reply");
}

#[tokio::test(start_paused = true)]
async fn decode_steps_follow_the_cost_model() {
    let engine = start(&opts());
    let started = Instant::now();
    let (ttft, text) = run_one(&engine, vec![1, 2, 3, 4], 5).await;
    assert_close(ttft, 31.0);
    // 4 more tokens, one per 12 ms + 0.1 ms × 1 sequence.
    assert_close(started.elapsed(), 31.0 + 4.0 * 12.1);
    assert_eq!(text.split_whitespace().count() + text.matches('.').count(), 5);
}

#[tokio::test(start_paused = true)]
async fn scripted_tokens_are_timed_like_sampled_ones() {
    let engine = start(&opts());
    let started = Instant::now();
    let script = crate::tokenizer::pieces(r#"{"a":"sim"}"#);
    assert_eq!(script.len(), 9);
    let sub = Submission {
        script: Some(script),
        finish_reason: FinishReason::Stop,
        ..submission(vec![1, 2, 3, 4], 64)
    };
    let mut handle = engine.submit(sub).unwrap_or_else(|e| panic!("submit: {e:?}"));
    let mut text = String::new();
    let mut ttft = None;
    let mut last = None;
    while let Some(event) = handle.recv().await {
        ttft.get_or_insert_with(|| started.elapsed());
        text.push_str(&event.text);
        last = event.finish;
    }
    assert_eq!(text, r#"{"a":"sim"}"#);
    // Same cost model as sampled text: prefill 30 + 4 × 0.25 ms, then 8 decode steps of 12 + 0.1 ms.
    assert_close(ttft.unwrap_or_default(), 31.0);
    assert_close(started.elapsed(), 31.0 + 8.0 * 12.1);
    let finish = last.unwrap_or_else(|| panic!("no finish"));
    assert_eq!((finish.reason, finish.usage.completion_tokens), (FinishReason::Stop, 9));
    assert_eq!(engine.with_scheduler(|s| s.stats().generation_tokens), 9);
}

#[tokio::test(start_paused = true)]
async fn time_scale_multiplies_durations() {
    let engine = start(&SimOptions {
        time_scale: 0.5,
        ..opts()
    });
    let (ttft, _) = run_one(&engine, (0..100).collect(), 1).await;
    assert_close(ttft, (30.0 + 25.0) * 0.5);
}

#[tokio::test(start_paused = true)]
async fn queue_forms_beyond_max_num_seqs() {
    let engine = start(&SimOptions {
        max_num_seqs: 2,
        ..opts()
    });
    let mut handles: Vec<RequestHandle> = Vec::new();
    for i in 0..4 {
        handles.push(
            engine
                .submit(submission(vec![i; 8], 3))
                .unwrap_or_else(|e| panic!("{e:?}")),
        );
    }
    let first = handles[0].recv().await;
    assert!(first.is_some());
    let (running, waiting) = engine.with_scheduler(|s| {
        let g = s.gauges();
        (g.running, g.waiting)
    });
    assert_eq!((running, waiting), (2, 2));
    let metrics = engine.metrics_text();
    assert!(
        metrics.contains("vllm:num_requests_waiting{engine=\"0\",model_name=\"meta-llama/Llama-3.1-8B-Instruct\"} 2.0")
    );
    for h in &mut handles {
        while h.recv().await.is_some() {}
    }
    assert_eq!(engine.with_scheduler(|s| s.stats().finished_length), 4);
}

#[tokio::test(start_paused = true)]
async fn dropping_the_handle_cancels_and_frees_blocks() {
    let engine = start(&opts());
    let mut handle = engine
        .submit(submission((0..100).collect(), 500))
        .unwrap_or_else(|e| panic!("{e:?}"));
    assert!(handle.recv().await.is_some());
    assert!(engine.with_scheduler(|s| s.kv().usage()) > 0.0);
    drop(handle);
    let (usage, aborted, running) = engine.with_scheduler(|s| (s.kv().usage(), s.stats().aborted, s.gauges().running));
    assert_eq!((usage, aborted, running), (0.0, 1, 0));
    assert!(
        engine
            .metrics_text()
            .contains("finished_reason=\"abort\",model_name=\"meta-llama/Llama-3.1-8B-Instruct\"} 1.0")
    );
}

#[tokio::test(start_paused = true)]
async fn metrics_reflect_finished_requests() {
    let engine = start(&opts());
    let prompt: Vec<u32> = (0..40).collect();
    run_one(&engine, prompt.clone(), 3).await;
    run_one(&engine, prompt, 3).await;
    let text = engine.metrics_text();
    let m = "{engine=\"0\",model_name=\"meta-llama/Llama-3.1-8B-Instruct\"}";
    for expected in [
        format!("vllm:num_requests_running{m} 0.0"),
        format!("vllm:num_requests_waiting{m} 0.0"),
        format!("vllm:kv_cache_usage_perc{m} 0.0"),
        format!("vllm:prefix_cache_queries_total{m} 80.0"),
        format!("vllm:prefix_cache_hits_total{m} 32.0"),
        format!("vllm:prompt_tokens_total{m} 80.0"),
        format!("vllm:generation_tokens_total{m} 6.0"),
        format!("vllm:num_preemptions_total{m} 0.0"),
        format!("vllm:time_to_first_token_seconds_count{m} 2.0"),
        format!("vllm:inter_token_latency_seconds_count{m} 4.0"),
        format!("vllm:e2e_request_latency_seconds_count{m} 2.0"),
        format!("vllm:request_queue_time_seconds_count{m} 2.0"),
    ] {
        assert!(text.contains(&expected), "missing {expected:?} in\n{text}");
    }
    let ttft_sum = engine.with_scheduler(|s| s.stats().ttft.sum());
    // (30 + 40 × 0.25) + (30 + 8 × 0.25) ms; the timer wheel has 1 ms resolution.
    assert!((ttft_sum - 0.072).abs() < 0.003, "{ttft_sum}");
}

#[tokio::test(start_paused = true)]
async fn shutdown_ends_open_streams() {
    let engine = start(&opts());
    let mut handle = engine
        .submit(submission(vec![1; 10], 100))
        .unwrap_or_else(|e| panic!("{e:?}"));
    assert!(handle.recv().await.is_some());
    engine.shutdown();
    while handle.recv().await.is_some() {}
    assert_eq!(engine.with_scheduler(|s| s.kv().usage()), 0.0);
}
