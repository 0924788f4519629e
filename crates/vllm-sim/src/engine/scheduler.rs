//! The continuous-batching scheduler: admission, chunked prefill, KV allocation, preemption and token emission.
//!
//! Synchronous and clock-free (callers pass `now`), so it is tested step by step. One engine step is
//! [`Scheduler::schedule`] (decide what runs), a simulated delay, then [`Scheduler::complete`] (apply results).
//!
//! Per step, following vLLM V1's scheduler:
//! 1. Running requests, oldest first, each get their remaining tokens (1 when decoding, a chunk when prefilling)
//!    within the `max_num_batched_tokens` budget, and the KV blocks for them. When the pool is exhausted the
//!    newest running request is preempted (blocks freed, back to the front of the queue, recomputed later).
//! 2. If nothing was preempted, waiting requests are admitted FCFS while `running < max_num_seqs`, budget remains
//!    and their blocks fit; the prefix cache supplies the longest cached chain of full blocks so only uncached
//!    tokens are prefilled. A request whose LoRA adapter would exceed `max_loras` distinct adapters is skipped
//!    (kept in place); any other request that does not fit stops admission (head-of-line, like vLLM).
//! 3. When a step completes, newly computed full blocks enter the prefix cache, and each request whose tokens
//!    are all computed emits one token. A request whose client has gone is aborted and its blocks freed.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::SystemTime;

use tokio::sync::mpsc;
use tokio::time::Instant;

use super::sequence::{Finish, SeqId, Sequence, Submission, TokenEvent};
use super::step::StepPlan;
use crate::kv_cache::KvCache;
use crate::metrics::{Gauges, Stats};
use crate::options::SimOptions;

/// Scheduling limits taken from the options.
#[derive(Clone, Copy, Debug)]
struct Limits {
    max_num_seqs: usize,
    max_num_batched_tokens: usize,
    max_loras: usize,
    max_waiting: usize,
}

/// The state of one simulated engine.
#[derive(Debug)]
pub(crate) struct Scheduler {
    limits: Limits,
    model: Arc<str>,
    seed: u64,
    kv: KvCache,
    seqs: HashMap<SeqId, Sequence>,
    waiting: VecDeque<SeqId>,
    running: Vec<SeqId>,
    next_id: SeqId,
    stats: Stats,
    lora_updated: SystemTime,
}

/// Why a submission was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SubmitError {
    /// The waiting queue is at `max_waiting`.
    QueueFull,
    /// Empty prompt, or prompt + completion larger than the whole KV cache.
    Unschedulable,
}

// === impl Scheduler ===

impl Scheduler {
    /// An idle engine configured by `opts` (assumed valid).
    pub(crate) fn new(opts: &SimOptions) -> Self {
        Self {
            limits: Limits {
                max_num_seqs: opts.max_num_seqs.max(1),
                max_num_batched_tokens: opts.max_num_batched_tokens.max(1),
                max_loras: opts.max_loras.max(1),
                max_waiting: opts.max_waiting,
            },
            model: Arc::from(opts.model.as_str()),
            seed: opts.seed,
            kv: KvCache::new(opts.num_gpu_blocks, opts.block_size, opts.enable_prefix_caching),
            seqs: HashMap::new(),
            waiting: VecDeque::new(),
            running: Vec::new(),
            next_id: 0,
            stats: Stats::default(),
            lora_updated: SystemTime::now(),
        }
    }

    /// Queues a request; its tokens will be sent on `tx`.
    pub(crate) fn add(
        &mut self,
        sub: Submission,
        tx: mpsc::UnboundedSender<TokenEvent>,
        now: Instant,
    ) -> Result<SeqId, SubmitError> {
        if self.waiting.len() >= self.limits.max_waiting {
            return Err(SubmitError::QueueFull);
        }
        let scripted = sub.script.as_ref().map_or(usize::MAX, Vec::len);
        let max_tokens = sub.max_tokens.min(scripted).max(1);
        let total = sub.prompt.len() + max_tokens;
        if sub.prompt.is_empty() || self.kv.blocks_for(total) > self.kv.capacity() {
            return Err(SubmitError::Unschedulable);
        }
        let id = self.next_id;
        self.next_id += 1;
        let block_size = self.kv.block_size();
        let seq = Sequence::new(sub, max_tokens, &self.model, self.seed, block_size, tx, now);
        self.seqs.insert(id, seq);
        self.waiting.push_back(id);
        Ok(id)
    }

    /// Cancels a request wherever it is and frees its blocks; false if it had already finished.
    pub(crate) fn abort(&mut self, id: SeqId) -> bool {
        let Some(seq) = self.seqs.remove(&id) else {
            return false;
        };
        self.running.retain(|r| *r != id);
        self.waiting.retain(|w| *w != id);
        self.kv.free(&seq.blocks);
        self.stats.aborted += 1;
        true
    }

    /// Drops every request (their streams end); used when the replica shuts down.
    pub(crate) fn clear(&mut self) {
        for (_, seq) in self.seqs.drain() {
            self.kv.free(&seq.blocks);
        }
        self.running.clear();
        self.waiting.clear();
    }

    /// Decides the next step; `None` when there is nothing to run.
    pub(crate) fn schedule(&mut self, now: Instant) -> Option<StepPlan> {
        let mut plan = StepPlan::default();
        let mut budget = self.limits.max_num_batched_tokens;
        let preempted = self.schedule_running(&mut plan, &mut budget);
        // vLLM admits nothing in a step that preempted, unless the batch is now empty (else the engine would stall).
        if !preempted || self.running.is_empty() {
            self.schedule_waiting(&mut plan, &mut budget, now);
        }
        (!plan.entries.is_empty()).then_some(plan)
    }

    /// Applies a finished step: caches full blocks, emits tokens, finishes requests.
    pub(crate) fn complete(&mut self, plan: &StepPlan, now: Instant) {
        let block_size = self.kv.block_size();
        for s in &plan.entries {
            let Some(seq) = self.seqs.get_mut(&s.id) else {
                continue;
            }; // aborted during the step
            seq.num_computed = (seq.num_computed + s.num_new).min(seq.tokens.len());
            let full = seq.num_computed / block_size;
            while seq.num_registered < full {
                let i = seq.num_registered;
                if let (Some(block), Some(hash)) = (seq.blocks.get(i), seq.hashes.get(i)) {
                    self.kv.cache_block(*block, *hash);
                }
                seq.num_registered += 1;
            }
            if seq.num_computed < seq.tokens.len() {
                continue; // chunked prefill: more to compute
            }
            match seq.last_token_at {
                None => {
                    self.stats.ttft.observe(now.duration_since(seq.arrival).as_secs_f64());
                    self.stats.prompt_tokens += seq.prompt_len as u64;
                }
                Some(last) => self.stats.itl.observe(now.duration_since(last).as_secs_f64()),
            }
            seq.last_token_at = Some(now);
            seq.prefilling = false;
            let (text, id) = seq.reply.next_token();
            seq.push_token(id, block_size);
            self.stats.generation_tokens += 1;
            let finish = (seq.num_generated() >= seq.max_tokens).then(|| Finish {
                reason: seq.finish_reason,
                usage: seq.usage(),
            });
            let delivered = seq.tx.send(TokenEvent { text, finish }).is_ok();
            if !delivered {
                self.abort(s.id);
            } else if let Some(finish) = finish {
                self.finish(s.id, finish, now);
            }
        }
        self.lora_updated = SystemTime::now();
    }

    /// Current gauges for `/metrics`.
    pub(crate) fn gauges(&self) -> Gauges {
        let adapters = |ids: &mut dyn Iterator<Item = &SeqId>| {
            let mut names: Vec<String> = ids
                .filter_map(|id| self.seqs.get(id).and_then(|s| s.adapter.as_deref()).map(str::to_owned))
                .collect();
            names.sort();
            names.dedup();
            names
        };
        let unix = self
            .lora_updated
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap_or_default();
        Gauges {
            running: self.running.len(),
            waiting: self.waiting.len(),
            kv_usage: self.kv.usage(),
            running_loras: adapters(&mut self.running.iter()),
            waiting_loras: adapters(&mut self.waiting.iter()),
            lora_updated_unix: unix.as_secs_f64(),
        }
    }

    /// Cumulative statistics.
    pub(crate) fn stats(&self) -> &Stats {
        &self.stats
    }

    /// Read access to the block pool (tests and invariants).
    #[cfg(test)]
    pub(crate) fn kv(&self) -> &KvCache {
        &self.kv
    }

    /// Schedules running requests; returns whether any was preempted.
    fn schedule_running(&mut self, plan: &mut StepPlan, budget: &mut usize) -> bool {
        let mut preempted = false;
        let mut i = 0;
        while i < self.running.len() && *budget > 0 {
            let id = self.running[i];
            let Some(seq) = self.seqs.get(&id) else {
                self.running.remove(i);
                continue;
            };
            let num_new = (seq.tokens.len() - seq.num_computed).min(*budget);
            let need = self
                .kv
                .blocks_for(seq.num_computed + num_new)
                .saturating_sub(seq.blocks.len());
            let prefilling = seq.prefilling;
            let scheduled = loop {
                match self.kv.allocate(&[], need) {
                    Ok(fresh) => {
                        if let Some(seq) = self.seqs.get_mut(&id) {
                            seq.blocks.extend(fresh);
                        }
                        break true;
                    }
                    Err(_) => {
                        let Some(victim) = self.running.pop() else {
                            break false;
                        };
                        self.preempt(victim);
                        preempted = true;
                        if victim == id {
                            break false;
                        }
                    }
                }
            };
            if scheduled {
                plan.push(id, num_new, prefilling);
                *budget -= num_new;
                i += 1;
            }
        }
        preempted
    }

    /// Admits waiting requests FCFS (LoRA-blocked ones are skipped, not reordered).
    fn schedule_waiting(&mut self, plan: &mut StepPlan, budget: &mut usize, now: Instant) {
        let block_size = self.kv.block_size();
        let mut loras: Vec<Arc<str>> = Vec::new();
        for id in &self.running {
            if let Some(a) = self.seqs.get(id).and_then(|s| s.adapter.clone())
                && !loras.contains(&a)
            {
                loras.push(a);
            }
        }
        let mut skipped = Vec::new();
        while *budget > 0 && self.running.len() < self.limits.max_num_seqs {
            let Some(&id) = self.waiting.front() else {
                break;
            };
            let Some(seq) = self.seqs.get(&id) else {
                self.waiting.pop_front();
                continue;
            };
            if let Some(a) = &seq.adapter
                && !loras.contains(a)
                && loras.len() >= self.limits.max_loras
            {
                skipped.extend(self.waiting.pop_front());
                continue;
            }
            let len = seq.tokens.len();
            let hits = self.kv.lookup_prefix(&seq.hashes, len);
            let computed = hits.len() * block_size;
            let num_new = (len - computed).min(*budget);
            let need = self.kv.blocks_for(computed + num_new) - hits.len();
            let Ok(fresh) = self.kv.allocate(&hits, need) else {
                break;
            };
            self.waiting.pop_front();
            let Some(seq) = self.seqs.get_mut(&id) else {
                continue;
            };
            seq.num_registered = hits.len();
            seq.blocks = hits;
            seq.blocks.extend(fresh);
            seq.num_computed = computed;
            seq.prefilling = true;
            if self.kv.prefix_caching() {
                self.stats.prefix_queries += len as u64;
                self.stats.prefix_hits += computed as u64;
            }
            if seq.first_scheduled.is_none() {
                seq.first_scheduled = Some(now);
                seq.cached_tokens = computed;
                self.stats
                    .queue_time
                    .observe(now.duration_since(seq.arrival).as_secs_f64());
            }
            if let Some(a) = &seq.adapter
                && !loras.contains(a)
            {
                loras.push(a.clone());
            }
            self.running.push(id);
            plan.push(id, num_new, true);
            *budget -= num_new;
        }
        for id in skipped.into_iter().rev() {
            self.waiting.push_front(id);
        }
    }

    /// Sends a running request back to the front of the queue, freeing its blocks.
    fn preempt(&mut self, id: SeqId) {
        let Some(seq) = self.seqs.get_mut(&id) else {
            return;
        };
        let blocks = seq.reset_for_recompute();
        self.kv.free(&blocks);
        self.waiting.push_front(id);
        self.stats.preemptions += 1;
    }

    /// Removes a request that generated its last token.
    fn finish(&mut self, id: SeqId, finish: Finish, now: Instant) {
        let Some(seq) = self.seqs.remove(&id) else {
            return;
        };
        self.running.retain(|r| *r != id);
        self.kv.free(&seq.blocks);
        self.stats.e2e.observe(now.duration_since(seq.arrival).as_secs_f64());
        match finish.reason {
            super::FinishReason::Stop => self.stats.finished_stop += 1,
            super::FinishReason::Length => self.stats.finished_length += 1,
        }
    }
}

#[cfg(test)]
mod tests;
