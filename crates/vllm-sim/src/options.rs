//! Every knob of a simulated replica, as a clap argument group with a matching `Default`.
//!
//! The defaults describe a small GPU serving Llama-3.1-8B with llm-d's "8B H100 per-token" latency profile:
//! prefill 30 ms + 0.25 ms per uncached token, decode 12 ms per step (+0.1 ms per running sequence), 16 concurrent
//! sequences, 2048 KV blocks of 16 tokens (32k tokens). [`SimOptions::validate`] reports every bad value at once.

use clap::ArgAction;

/// Default values, shared by clap and [`Default`] so they cannot drift apart.
mod defaults {
    pub(super) const MODEL: &str = "meta-llama/Llama-3.1-8B-Instruct";
    pub(super) const MAX_LORAS: usize = 4;
    pub(super) const MAX_NUM_SEQS: usize = 16;
    pub(super) const MAX_NUM_BATCHED_TOKENS: usize = 2048;
    pub(super) const MAX_MODEL_LEN: usize = 8192;
    pub(super) const BLOCK_SIZE: usize = 16;
    pub(super) const NUM_GPU_BLOCKS: usize = 2048;
    pub(super) const MAX_WAITING: usize = 1000;
    pub(super) const DEFAULT_MAX_TOKENS: usize = 64;
    pub(super) const PREFILL_BASE_MS: f64 = 30.0;
    pub(super) const PREFILL_MS_PER_TOKEN: f64 = 0.25;
    pub(super) const DECODE_BASE_MS: f64 = 12.0;
    pub(super) const DECODE_MS_PER_SEQ: f64 = 0.1;
    pub(super) const TIME_SCALE: f64 = 1.0;
    pub(super) const SEED: u64 = 0;
}

/// Configuration of one simulated vLLM replica.
///
/// Used as `#[command(flatten)]` by the binary and built directly (usually from `SimOptions::default()`) by tests
/// and benchmarks.
#[derive(Clone, Debug, PartialEq, clap::Args)]
pub struct SimOptions {
    /// Served base model name (`model` in requests, `model_name` label in metrics).
    #[arg(long, default_value = defaults::MODEL)]
    pub model: String,

    /// LoRA adapter names accepted as `model`, comma-separated.
    #[arg(long, value_delimiter = ',')]
    pub lora: Vec<String>,

    /// Most distinct LoRA adapters in one running batch; requests for others wait (vLLM `--max-loras`).
    #[arg(long, default_value_t = defaults::MAX_LORAS)]
    pub max_loras: usize,

    /// Most sequences in the running batch (vLLM `--max-num-seqs`).
    #[arg(long, default_value_t = defaults::MAX_NUM_SEQS)]
    pub max_num_seqs: usize,

    /// Token budget per engine step, prefill chunks and decodes together (chunked prefill).
    #[arg(long, default_value_t = defaults::MAX_NUM_BATCHED_TOKENS)]
    pub max_num_batched_tokens: usize,

    /// Longest prompt + completion; longer requests get 400.
    #[arg(long, default_value_t = defaults::MAX_MODEL_LEN)]
    pub max_model_len: usize,

    /// Tokens per KV-cache block.
    #[arg(long, default_value_t = defaults::BLOCK_SIZE)]
    pub block_size: usize,

    /// KV-cache blocks, including the one vLLM reserves.
    #[arg(long, default_value_t = defaults::NUM_GPU_BLOCKS)]
    pub num_gpu_blocks: usize,

    /// Reuse cached KV blocks across requests with a common prefix (`--enable-prefix-caching false` to disable).
    #[arg(long, default_value_t = true, action = ArgAction::Set)]
    pub enable_prefix_caching: bool,

    /// Waiting-queue length beyond which new requests get 429.
    #[arg(long, default_value_t = defaults::MAX_WAITING)]
    pub max_waiting: usize,

    /// Completion length when a request sets neither `max_tokens` nor `max_completion_tokens`.
    #[arg(long, default_value_t = defaults::DEFAULT_MAX_TOKENS)]
    pub default_max_tokens: usize,

    /// Fixed cost of a step that runs any prefill, in ms.
    #[arg(long, default_value_t = defaults::PREFILL_BASE_MS)]
    pub prefill_base_ms: f64,

    /// Cost per uncached prompt token prefilled, in ms.
    #[arg(long, default_value_t = defaults::PREFILL_MS_PER_TOKEN)]
    pub prefill_ms_per_token: f64,

    /// Fixed cost of a step that decodes any sequence, in ms; ITL = this + batch × `decode_ms_per_seq`.
    #[arg(long, default_value_t = defaults::DECODE_BASE_MS)]
    pub decode_base_ms: f64,

    /// Extra decode-step cost per decoding sequence, in ms.
    #[arg(long, default_value_t = defaults::DECODE_MS_PER_SEQ)]
    pub decode_ms_per_seq: f64,

    /// Multiplies every simulated duration; 0 makes steps instantaneous (the engine only yields).
    #[arg(long, default_value_t = defaults::TIME_SCALE)]
    pub time_scale: f64,

    /// Seed for reply text (response ids are unique per replica, not seeded).
    #[arg(long, default_value_t = defaults::SEED)]
    pub seed: u64,

    /// Also export the metric names removed in vLLM 0.12 (`vllm:gpu_cache_usage_perc`, `vllm:gpu_prefix_cache_*`).
    #[arg(long)]
    pub legacy_metrics: bool,
}

// === impl SimOptions ===

impl Default for SimOptions {
    fn default() -> Self {
        Self {
            model: defaults::MODEL.to_owned(),
            lora: Vec::new(),
            max_loras: defaults::MAX_LORAS,
            max_num_seqs: defaults::MAX_NUM_SEQS,
            max_num_batched_tokens: defaults::MAX_NUM_BATCHED_TOKENS,
            max_model_len: defaults::MAX_MODEL_LEN,
            block_size: defaults::BLOCK_SIZE,
            num_gpu_blocks: defaults::NUM_GPU_BLOCKS,
            enable_prefix_caching: true,
            max_waiting: defaults::MAX_WAITING,
            default_max_tokens: defaults::DEFAULT_MAX_TOKENS,
            prefill_base_ms: defaults::PREFILL_BASE_MS,
            prefill_ms_per_token: defaults::PREFILL_MS_PER_TOKEN,
            decode_base_ms: defaults::DECODE_BASE_MS,
            decode_ms_per_seq: defaults::DECODE_MS_PER_SEQ,
            time_scale: defaults::TIME_SCALE,
            seed: defaults::SEED,
            legacy_metrics: false,
        }
    }
}

impl SimOptions {
    /// Checks every field and returns all problems, one message per bad field.
    pub fn validate(&self) -> Result<(), Vec<String>> {
        let mut errors = Vec::new();
        if self.model.trim().is_empty() {
            errors.push("model: must not be empty".to_owned());
        }
        for name in &self.lora {
            if name.trim().is_empty() || *name == self.model {
                errors.push(format!(
                    "lora: `{name}` must be non-empty and differ from the base model"
                ));
            }
        }
        let positive = [
            ("max_loras", self.max_loras),
            ("max_num_seqs", self.max_num_seqs),
            ("max_num_batched_tokens", self.max_num_batched_tokens),
            ("max_model_len", self.max_model_len),
            ("block_size", self.block_size),
            ("default_max_tokens", self.default_max_tokens),
        ];
        for (field, value) in positive {
            if value == 0 {
                errors.push(format!("{field}: must be at least 1"));
            }
        }
        if self.num_gpu_blocks < 2 || self.num_gpu_blocks >= u32::MAX as usize {
            errors.push("num_gpu_blocks: must be between 2 and 2^32 - 2".to_owned());
        } else if self.block_size > 0 && (self.num_gpu_blocks - 1) * self.block_size < self.max_model_len {
            errors.push(format!(
                "num_gpu_blocks: {} usable blocks of {} tokens cannot hold one max_model_len ({}) sequence",
                self.num_gpu_blocks - 1,
                self.block_size,
                self.max_model_len
            ));
        }
        let durations = [
            ("prefill_base_ms", self.prefill_base_ms),
            ("prefill_ms_per_token", self.prefill_ms_per_token),
            ("decode_base_ms", self.decode_base_ms),
            ("decode_ms_per_seq", self.decode_ms_per_seq),
            ("time_scale", self.time_scale),
        ];
        for (field, value) in durations {
            if !(value.is_finite() && value >= 0.0) {
                errors.push(format!("{field}: must be a finite number >= 0, got {value}"));
            }
        }
        if errors.is_empty() { Ok(()) } else { Err(errors) }
    }

    /// Whether `name` is the base model or one of the adapters.
    pub(crate) fn serves(&self, name: &str) -> bool {
        name == self.model || self.lora.iter().any(|l| l == name)
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        sim: SimOptions,
    }

    #[test]
    fn default_matches_clap_defaults() {
        let parsed = Cli::try_parse_from(["vllm-sim"]).map(|c| c.sim);
        assert_eq!(parsed.ok(), Some(SimOptions::default()));
        assert_eq!(SimOptions::default().validate(), Ok(()));
    }

    #[test]
    fn parses_flags() {
        let args = [
            "vllm-sim",
            "--lora",
            "a,b",
            "--enable-prefix-caching",
            "false",
            "--legacy-metrics",
        ];
        let sim = Cli::try_parse_from(args).map(|c| c.sim).ok();
        let sim = sim.unwrap_or_default();
        assert_eq!(sim.lora, ["a", "b"]);
        assert!(!sim.enable_prefix_caching);
        assert!(sim.legacy_metrics);
        assert!(sim.serves("a") && sim.serves(defaults::MODEL) && !sim.serves("c"));
    }

    #[test]
    fn validate_reports_every_error() {
        let bad = SimOptions {
            max_num_seqs: 0,
            block_size: 0,
            time_scale: -1.0,
            lora: vec![String::new()],
            ..SimOptions::default()
        };
        let errors = bad.validate().err().unwrap_or_default();
        assert_eq!(errors.len(), 4, "{errors:?}");
        let small = SimOptions {
            num_gpu_blocks: 10,
            ..SimOptions::default()
        };
        assert!(small.validate().is_err());
    }
}
