//! One request inside the engine: its tokens, KV blocks, progress and the channel its tokens go out on.

use std::borrow::Cow;
use std::sync::Arc;

use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::hash;
use crate::kv_cache::{self, BlockHash, BlockId};
use crate::reply::{Reply, ReplyGen};
use crate::tokenizer::Piece;

/// Engine-wide request number.
pub(crate) type SeqId = u64;

/// What the API layer asks the engine to run.
#[derive(Clone, Debug)]
pub(crate) struct Submission {
    /// LoRA adapter, `None` for the base model.
    pub(crate) adapter: Option<Arc<str>>,
    /// Prompt token ids; must not be empty.
    pub(crate) prompt: Vec<u32>,
    /// Tokens to generate (at least 1).
    pub(crate) max_tokens: usize,
    /// Reported when `max_tokens` tokens have been generated.
    pub(crate) finish_reason: FinishReason,
    /// Mixed into the reply seed (the request's `seed` field).
    pub(crate) request_seed: Option<u64>,
    /// Emit these tokens instead of sampled words (a tool call); at most this many are generated.
    pub(crate) script: Option<Vec<Piece>>,
}

/// Why a request stopped generating.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum FinishReason {
    /// The simulated model chose to stop (request did not set a token limit).
    Stop,
    /// The request's token limit was reached.
    Length,
}

/// Token counts reported in `usage`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Usage {
    /// Prompt length.
    pub(crate) prompt_tokens: usize,
    /// Generated tokens.
    pub(crate) completion_tokens: usize,
    /// Prompt tokens served from the prefix cache when the request was first scheduled.
    pub(crate) cached_tokens: usize,
}

/// How a finished request ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Finish {
    /// `finish_reason`.
    pub(crate) reason: FinishReason,
    /// Final token counts.
    pub(crate) usage: Usage,
}

/// One generated token, sent to the request's client as soon as its step completes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct TokenEvent {
    /// Text to append, including any leading space (borrowed for sampled words, owned for scripted tokens).
    pub(crate) text: Cow<'static, str>,
    /// Set on the last token.
    pub(crate) finish: Option<Finish>,
}

/// Engine-side state of one request.
#[derive(Debug)]
pub(crate) struct Sequence {
    pub(crate) adapter: Option<Arc<str>>,
    pub(crate) prompt_len: usize,
    /// Prompt followed by the tokens generated so far.
    pub(crate) tokens: Vec<u32>,
    pub(crate) max_tokens: usize,
    pub(crate) finish_reason: FinishReason,
    /// Starts the block-hash chain (model or adapter name).
    pub(crate) hash_seed: u64,
    /// Chain hash of every full block of `tokens`.
    pub(crate) hashes: Vec<BlockHash>,
    /// KV blocks held, in token order.
    pub(crate) blocks: Vec<BlockId>,
    /// Tokens whose KV has been computed.
    pub(crate) num_computed: usize,
    /// Leading blocks already registered in the prefix cache.
    pub(crate) num_registered: usize,
    /// True until the step that completes the (re)computation of all tokens.
    pub(crate) prefilling: bool,
    pub(crate) reply: Reply,
    pub(crate) tx: mpsc::UnboundedSender<TokenEvent>,
    pub(crate) arrival: Instant,
    /// When the request was first admitted to the running batch.
    pub(crate) first_scheduled: Option<Instant>,
    pub(crate) cached_tokens: usize,
    pub(crate) last_token_at: Option<Instant>,
}

// === impl Sequence ===

impl Sequence {
    /// A waiting sequence for `sub`; `max_tokens` is already clamped to at least 1 and to the script's length.
    ///
    /// The block-hash chain starts from the served name (adapter or base model); the reply seed mixes that,
    /// the prompt, the replica's `--seed` and the request's `seed`.
    pub(crate) fn new(
        sub: Submission,
        max_tokens: usize,
        model: &str,
        seed: u64,
        block_size: usize,
        tx: mpsc::UnboundedSender<TokenEvent>,
        now: Instant,
    ) -> Self {
        let hash_seed = hash::bytes(sub.adapter.as_deref().unwrap_or(model).as_bytes());
        let mut reply_seed = hash::combine(hash::tokens(hash_seed, &sub.prompt), seed);
        if let Some(request_seed) = sub.request_seed {
            reply_seed = hash::combine(reply_seed, request_seed);
        }
        let mut hashes = Vec::new();
        kv_cache::extend_chain_hashes(hash_seed, &sub.prompt, block_size, &mut hashes);
        Self {
            adapter: sub.adapter,
            prompt_len: sub.prompt.len(),
            tokens: sub.prompt,
            max_tokens,
            finish_reason: sub.finish_reason,
            hash_seed,
            hashes,
            blocks: Vec::new(),
            num_computed: 0,
            num_registered: 0,
            prefilling: true,
            reply: match sub.script {
                Some(script) => Reply::Scripted(script.into_iter()),
                None => Reply::Sampled(ReplyGen::new(reply_seed)),
            },
            tx,
            arrival: now,
            first_scheduled: None,
            cached_tokens: 0,
            last_token_at: None,
        }
    }

    /// Tokens generated so far.
    pub(crate) fn num_generated(&self) -> usize {
        self.tokens.len() - self.prompt_len
    }

    /// Appends a generated token and hashes any block it completes.
    pub(crate) fn push_token(&mut self, id: u32, block_size: usize) {
        self.tokens.push(id);
        kv_cache::extend_chain_hashes(self.hash_seed, &self.tokens, block_size, &mut self.hashes);
    }

    /// Forgets all KV state after preemption: everything will be recomputed (vLLM's recompute mode).
    pub(crate) fn reset_for_recompute(&mut self) -> Vec<BlockId> {
        self.num_computed = 0;
        self.num_registered = 0;
        self.prefilling = true;
        std::mem::take(&mut self.blocks)
    }

    /// Token counts so far.
    pub(crate) fn usage(&self) -> Usage {
        Usage {
            prompt_tokens: self.prompt_len,
            completion_tokens: self.num_generated(),
            cached_tokens: self.cached_tokens,
        }
    }
}
