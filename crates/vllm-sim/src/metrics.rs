//! Engine statistics and their `/metrics` rendering with vLLM's names, labels and float format.
//!
//! The scheduler owns a [`Stats`] and updates it as requests move; a scrape copies it (and the gauges) under the
//! engine lock and renders outside it. Every engine series carries `engine="0"` and `model_name=<base model>`
//! (LoRA requests are attributed to the base model, as vLLM does); `vllm:lora_requests_info` carries neither.
//! Counters are declared without `_total` in `# TYPE` and sampled with it, as `prometheus_client` does.

mod exposition;
mod histogram;

use histogram::{Histogram, ITL_BUCKETS, REQUEST_LATENCY_BUCKETS, TTFT_BUCKETS};

/// The only engine index a simulated replica has (vLLM's data-parallel rank label).
const ENGINE: &str = "0";

/// Cumulative engine statistics.
#[derive(Clone, Debug)]
pub(crate) struct Stats {
    /// Prompt tokens of requests whose prefill completed (cached ones included, like vLLM).
    pub(crate) prompt_tokens: u64,
    /// Generated tokens.
    pub(crate) generation_tokens: u64,
    /// Tokens looked up in the prefix cache when a request was admitted.
    pub(crate) prefix_queries: u64,
    /// Of those, tokens found cached.
    pub(crate) prefix_hits: u64,
    /// Running requests sent back to the waiting queue for lack of KV blocks.
    pub(crate) preemptions: u64,
    /// Requests finished with `finish_reason = "stop"`.
    pub(crate) finished_stop: u64,
    /// Requests finished with `finish_reason = "length"`.
    pub(crate) finished_length: u64,
    /// Requests cancelled because their client went away.
    pub(crate) aborted: u64,
    /// Arrival → first token.
    pub(crate) ttft: Histogram,
    /// Time between consecutive tokens of one request.
    pub(crate) itl: Histogram,
    /// Arrival → first scheduled.
    pub(crate) queue_time: Histogram,
    /// Arrival → finished.
    pub(crate) e2e: Histogram,
}

/// Point-in-time values read with the stats.
#[derive(Clone, Debug, Default)]
pub(crate) struct Gauges {
    /// Requests in the running batch.
    pub(crate) running: usize,
    /// Requests waiting (including preempted ones).
    pub(crate) waiting: usize,
    /// `1 − free / (num_blocks − 1)`.
    pub(crate) kv_usage: f64,
    /// Adapters of running requests, sorted.
    pub(crate) running_loras: Vec<String>,
    /// Adapters of waiting requests, sorted.
    pub(crate) waiting_loras: Vec<String>,
    /// Unix time (seconds) the LoRA gauges were last updated.
    pub(crate) lora_updated_unix: f64,
}

/// Configuration echoed in info metrics; fixed for the life of a replica.
#[derive(Clone, Debug)]
pub(crate) struct Info {
    /// Served base model name (`model_name` label).
    pub(crate) model: String,
    /// Tokens per KV block.
    pub(crate) block_size: usize,
    /// Total KV blocks.
    pub(crate) num_gpu_blocks: usize,
    /// Whether prefix caching is on.
    pub(crate) prefix_caching: bool,
    /// `Some(max_loras)` when LoRA adapters are configured.
    pub(crate) max_loras: Option<usize>,
    /// Also emit the pre-0.12 names (`gpu_cache_usage_perc`, `gpu_prefix_cache_*`).
    pub(crate) legacy: bool,
}

// === impl Stats ===

impl Default for Stats {
    fn default() -> Self {
        Self {
            prompt_tokens: 0,
            generation_tokens: 0,
            prefix_queries: 0,
            prefix_hits: 0,
            preemptions: 0,
            finished_stop: 0,
            finished_length: 0,
            aborted: 0,
            ttft: Histogram::new(TTFT_BUCKETS),
            itl: Histogram::new(ITL_BUCKETS),
            queue_time: Histogram::new(REQUEST_LATENCY_BUCKETS),
            e2e: Histogram::new(REQUEST_LATENCY_BUCKETS),
        }
    }
}

/// Renders the whole `/metrics` page.
pub(crate) fn render(info: &Info, gauges: &Gauges, stats: &Stats) -> String {
    use exposition::{header, sample};

    let mut out = String::with_capacity(8 * 1024);
    let m = info.model.as_str();
    let labels = [("engine", ENGINE), ("model_name", m)];
    let gauge = |out: &mut String, name: &str, help: &str, value: f64| {
        header(out, name, "gauge", help);
        sample(out, name, &labels, value);
    };
    let counter = |out: &mut String, name: &str, help: &str, value: u64| {
        header(out, name, "counter", help);
        sample(out, &format!("{name}_total"), &labels, value as f64);
    };

    gauge(
        &mut out,
        "vllm:num_requests_running",
        "Number of requests in model execution batches.",
        gauges.running as f64,
    );
    gauge(
        &mut out,
        "vllm:num_requests_waiting",
        "Number of requests waiting to be processed.",
        gauges.waiting as f64,
    );
    header(
        &mut out,
        "vllm:num_requests_waiting_by_reason",
        "gauge",
        "Number of requests waiting, by reason.",
    );
    for (reason, n) in [("capacity", gauges.waiting), ("deferred", 0)] {
        let l = [("engine", ENGINE), ("model_name", m), ("reason", reason)];
        sample(&mut out, "vllm:num_requests_waiting_by_reason", &l, n as f64);
    }
    gauge(
        &mut out,
        "vllm:kv_cache_usage_perc",
        "KV-cache usage. 1 means 100 percent usage.",
        gauges.kv_usage,
    );
    if info.legacy {
        let help = "GPU KV-cache usage. 1 means 100 percent usage.";
        gauge(&mut out, "vllm:gpu_cache_usage_perc", help, gauges.kv_usage);
    }
    let queries_help = "Prefix cache queries, in terms of number of queried tokens.";
    let hits_help = "Prefix cache hits, in terms of number of cached tokens.";
    counter(
        &mut out,
        "vllm:prefix_cache_queries",
        queries_help,
        stats.prefix_queries,
    );
    counter(&mut out, "vllm:prefix_cache_hits", hits_help, stats.prefix_hits);
    if info.legacy {
        counter(
            &mut out,
            "vllm:gpu_prefix_cache_queries",
            queries_help,
            stats.prefix_queries,
        );
        counter(&mut out, "vllm:gpu_prefix_cache_hits", hits_help, stats.prefix_hits);
    }
    let preempt_help = "Cumulative number of preemption from the engine.";
    counter(&mut out, "vllm:num_preemptions", preempt_help, stats.preemptions);
    counter(
        &mut out,
        "vllm:prompt_tokens",
        "Number of prefill tokens processed.",
        stats.prompt_tokens,
    );
    let gen_help = "Number of generation tokens processed.";
    counter(&mut out, "vllm:generation_tokens", gen_help, stats.generation_tokens);

    header(
        &mut out,
        "vllm:request_success",
        "counter",
        "Count of successfully processed requests.",
    );
    for (reason, n) in [
        ("stop", stats.finished_stop),
        ("length", stats.finished_length),
        ("abort", stats.aborted),
    ] {
        let l = [("engine", ENGINE), ("finished_reason", reason), ("model_name", m)];
        sample(&mut out, "vllm:request_success_total", &l, n as f64);
    }

    let histograms = [
        (
            "vllm:time_to_first_token_seconds",
            "Histogram of time to first token in seconds.",
            &stats.ttft,
        ),
        (
            "vllm:inter_token_latency_seconds",
            "Histogram of inter-token latency in seconds.",
            &stats.itl,
        ),
        (
            "vllm:request_queue_time_seconds",
            "Histogram of time spent in WAITING phase for request.",
            &stats.queue_time,
        ),
        (
            "vllm:e2e_request_latency_seconds",
            "Histogram of e2e request latency in seconds.",
            &stats.e2e,
        ),
    ];
    for (name, help, h) in histograms {
        header(&mut out, name, "histogram", help);
        h.render(&mut out, name, ENGINE, m);
    }

    header(
        &mut out,
        "vllm:cache_config_info",
        "gauge",
        "Information of the LLMEngine CacheConfig",
    );
    let block_size = info.block_size.to_string();
    let num_gpu_blocks = info.num_gpu_blocks.to_string();
    let cache_labels = [
        ("block_size", block_size.as_str()),
        ("cache_dtype", "auto"),
        (
            "enable_prefix_caching",
            if info.prefix_caching { "True" } else { "False" },
        ),
        ("engine", ENGINE),
        ("gpu_memory_utilization", "0.9"),
        ("num_cpu_blocks", "0"),
        ("num_gpu_blocks", num_gpu_blocks.as_str()),
        ("num_gpu_blocks_override", "None"),
    ];
    sample(&mut out, "vllm:cache_config_info", &cache_labels, 1.0);

    if let Some(max_loras) = info.max_loras {
        header(
            &mut out,
            "vllm:lora_requests_info",
            "gauge",
            "Running stats on lora requests.",
        );
        let max = max_loras.to_string();
        let running = gauges.running_loras.join(",");
        let waiting = gauges.waiting_loras.join(",");
        let l = [
            ("max_lora", max.as_str()),
            ("running_lora_adapters", running.as_str()),
            ("waiting_lora_adapters", waiting.as_str()),
        ];
        sample(&mut out, "vllm:lora_requests_info", &l, gauges.lora_updated_unix);
    }
    out
}

#[cfg(test)]
mod tests;
