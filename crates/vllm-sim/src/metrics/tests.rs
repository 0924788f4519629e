use super::exposition::go_float;
use super::*;

#[test]
fn floats_match_prometheus_client() {
    assert_eq!(go_float(14.0), "14.0");
    assert_eq!(go_float(0.0), "0.0");
    assert_eq!(go_float(0.4173211), "0.4173211");
    assert_eq!(go_float(961_024.0), "961024.0");
    assert_eq!(go_float(1_284_000.0), "1.284e+06");
    assert_eq!(go_float(1_764_031_254.1), "1.7640312541e+09");
    assert_eq!(go_float(0.001), "0.001");
    assert_eq!(go_float(0.00001), "1e-05");
    assert_eq!(go_float(f64::INFINITY), "+Inf");
    assert_eq!(go_float(2560.0), "2560.0");
}

fn info(max_loras: Option<usize>, legacy: bool) -> Info {
    Info {
        model: "m".to_owned(),
        block_size: 16,
        num_gpu_blocks: 2048,
        prefix_caching: true,
        max_loras,
        legacy,
    }
}

#[test]
fn renders_vllm_names_and_labels() {
    let mut stats = Stats {
        prefix_queries: 1_284_000,
        prefix_hits: 961_024,
        ..Stats::default()
    };
    stats.ttft.observe(0.03);
    stats.ttft.observe(0.3);
    let gauges = Gauges {
        running: 14,
        waiting: 3,
        kv_usage: 0.25,
        ..Gauges::default()
    };
    let text = render(&info(None, false), &gauges, &stats);
    let expect = [
        "# TYPE vllm:num_requests_running gauge\nvllm:num_requests_running{engine=\"0\",model_name=\"m\"} 14.0\n",
        "vllm:num_requests_waiting{engine=\"0\",model_name=\"m\"} 3.0\n",
        "vllm:num_requests_waiting_by_reason{engine=\"0\",model_name=\"m\",reason=\"capacity\"} 3.0\n",
        "# HELP vllm:kv_cache_usage_perc KV-cache usage. 1 means 100 percent usage.\n",
        "vllm:kv_cache_usage_perc{engine=\"0\",model_name=\"m\"} 0.25\n",
        "# TYPE vllm:prefix_cache_queries counter\nvllm:prefix_cache_queries_total{engine=\"0\",model_name=\"m\"} 1.284e+06\n",
        "# TYPE vllm:prefix_cache_hits counter\nvllm:prefix_cache_hits_total{engine=\"0\",model_name=\"m\"} 961024.0\n",
        "vllm:num_preemptions_total{engine=\"0\",model_name=\"m\"} 0.0\n",
        "vllm:prompt_tokens_total{",
        "vllm:generation_tokens_total{",
        "vllm:request_success_total{engine=\"0\",finished_reason=\"abort\",model_name=\"m\"} 0.0\n",
        "# TYPE vllm:time_to_first_token_seconds histogram\n",
        "vllm:time_to_first_token_seconds_bucket{engine=\"0\",le=\"0.02\",model_name=\"m\"} 0.0\n",
        "vllm:time_to_first_token_seconds_bucket{engine=\"0\",le=\"0.04\",model_name=\"m\"} 1.0\n",
        "vllm:time_to_first_token_seconds_bucket{engine=\"0\",le=\"0.5\",model_name=\"m\"} 2.0\n",
        "vllm:time_to_first_token_seconds_bucket{engine=\"0\",le=\"+Inf\",model_name=\"m\"} 2.0\n\
         vllm:time_to_first_token_seconds_count{engine=\"0\",model_name=\"m\"} 2.0\n\
         vllm:time_to_first_token_seconds_sum{engine=\"0\",model_name=\"m\"} 0.32999999999999996\n",
        "vllm:inter_token_latency_seconds_count{",
        "vllm:request_queue_time_seconds_bucket{engine=\"0\",le=\"7680.0\",model_name=\"m\"} 0.0\n",
        "vllm:e2e_request_latency_seconds_sum{",
        "vllm:cache_config_info{block_size=\"16\",cache_dtype=\"auto\",enable_prefix_caching=\"True\",engine=\"0\",\
         gpu_memory_utilization=\"0.9\",num_cpu_blocks=\"0\",num_gpu_blocks=\"2048\",num_gpu_blocks_override=\"None\"} 1.0\n",
    ];
    for e in expect {
        assert!(text.contains(e), "missing {e:?} in\n{text}");
    }
    assert!(!text.contains("gpu_cache_usage_perc"));
    assert!(!text.contains("lora_requests_info"));
    // Every line is a comment or `name{labels} value`.
    for line in text.lines() {
        assert!(line.starts_with("# ") || line.starts_with("vllm:"), "{line}");
    }
}

#[test]
fn legacy_and_lora_series_are_optional() {
    let gauges = Gauges {
        running_loras: vec!["sql-lora".into(), "tweet-lora".into()],
        lora_updated_unix: 1_764_031_254.1,
        kv_usage: 0.5,
        ..Gauges::default()
    };
    let text = render(&info(Some(4), true), &gauges, &Stats::default());
    assert!(text.contains("vllm:gpu_cache_usage_perc{engine=\"0\",model_name=\"m\"} 0.5\n"));
    assert!(text.contains("vllm:gpu_prefix_cache_hits_total{"));
    assert!(text.contains(
        "vllm:lora_requests_info{max_lora=\"4\",running_lora_adapters=\"sql-lora,tweet-lora\",\
         waiting_lora_adapters=\"\"} 1.7640312541e+09\n"
    ));
}
