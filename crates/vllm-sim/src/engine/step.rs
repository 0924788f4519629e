//! One engine step: which sequences it computes, and how long it takes on the simulated GPU.
//!
//! Duration = `time_scale` × (prefill part + decode part). The prefill part, `prefill_base_ms + prefill_tokens ×
//! prefill_ms_per_token`, applies when the step prefills anything; every prefilled token is uncached by
//! construction (cache hits are skipped at admission). The decode part, `decode_base_ms + decode_seqs ×
//! decode_ms_per_seq`, applies when the step decodes anything. Durations are never negative or NaN.

use std::time::Duration;

use super::sequence::SeqId;
use crate::options::SimOptions;

/// What one step computes.
#[derive(Clone, Debug, Default)]
pub(crate) struct StepPlan {
    pub(super) entries: Vec<Scheduled>,
    /// Prompt (or recomputed) tokens prefilled this step: they are all uncached.
    pub(crate) prefill_tokens: usize,
    /// Sequences decoding one token this step.
    pub(crate) decode_seqs: usize,
}

#[derive(Clone, Copy, Debug)]
pub(super) struct Scheduled {
    pub(super) id: SeqId,
    pub(super) num_new: usize,
}

/// Simulated step durations.
#[derive(Clone, Copy, Debug)]
pub(super) struct CostModel {
    prefill_base_ms: f64,
    prefill_ms_per_token: f64,
    decode_base_ms: f64,
    decode_ms_per_seq: f64,
    time_scale: f64,
}

// === impl StepPlan ===

impl StepPlan {
    pub(super) fn push(&mut self, id: SeqId, num_new: usize, prefilling: bool) {
        self.entries.push(Scheduled { id, num_new });
        if prefilling {
            self.prefill_tokens += num_new;
        } else {
            self.decode_seqs += 1;
        }
    }

    /// Number of sequences in the step.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }
}

// === impl CostModel ===

impl CostModel {
    pub(super) fn new(opts: &SimOptions) -> Self {
        Self {
            prefill_base_ms: opts.prefill_base_ms,
            prefill_ms_per_token: opts.prefill_ms_per_token,
            decode_base_ms: opts.decode_base_ms,
            decode_ms_per_seq: opts.decode_ms_per_seq,
            time_scale: opts.time_scale,
        }
    }

    pub(super) fn step_duration(&self, plan: &StepPlan) -> Duration {
        let mut ms = 0.0;
        if plan.prefill_tokens > 0 {
            ms += self.prefill_base_ms + plan.prefill_tokens as f64 * self.prefill_ms_per_token;
        }
        if plan.decode_seqs > 0 {
            ms += self.decode_base_ms + plan.decode_seqs as f64 * self.decode_ms_per_seq;
        }
        Duration::try_from_secs_f64(ms * self.time_scale / 1000.0).unwrap_or(Duration::ZERO)
    }
}
