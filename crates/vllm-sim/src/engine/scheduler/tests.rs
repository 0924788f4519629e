use tokio::sync::mpsc;
use tokio::time::{Duration, Instant};

use super::*;
use crate::engine::{FinishReason, TokenEvent};

fn opts() -> SimOptions {
    SimOptions {
        block_size: 4,
        num_gpu_blocks: 64,
        max_model_len: 200,
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

struct Client {
    id: SeqId,
    rx: mpsc::UnboundedReceiver<TokenEvent>,
}

fn add(s: &mut Scheduler, sub: Submission, now: Instant) -> Client {
    let (tx, rx) = mpsc::unbounded_channel();
    let id = s.add(sub, tx, now).unwrap_or(SeqId::MAX);
    Client { id, rx }
}

/// Runs steps (1 ms each) until the engine is idle; returns the plans.
fn run_to_idle(s: &mut Scheduler, mut now: Instant) -> Vec<StepPlan> {
    let mut plans = Vec::new();
    while let Some(plan) = s.schedule(now) {
        now += Duration::from_millis(1);
        s.complete(&plan, now);
        plans.push(plan);
        assert!(plans.len() < 10_000, "engine does not converge");
    }
    plans
}

fn drain(c: &mut Client) -> (usize, Option<TokenEvent>) {
    let mut n = 0;
    let mut last = None;
    while let Ok(e) = c.rx.try_recv() {
        n += 1;
        last = Some(e);
    }
    (n, last)
}

#[test]
fn admission_respects_max_num_seqs_and_a_queue_forms() {
    let mut s = Scheduler::new(&SimOptions {
        max_num_seqs: 2,
        ..opts()
    });
    let now = Instant::now();
    let mut clients: Vec<Client> = (0..5).map(|i| add(&mut s, submission(vec![i; 10], 3), now)).collect();
    let plan = s.schedule(now);
    assert_eq!(plan.as_ref().map(StepPlan::len), Some(2));
    let g = s.gauges();
    assert_eq!((g.running, g.waiting), (2, 3));
    if let Some(plan) = plan {
        s.complete(&plan, now);
    }
    run_to_idle(&mut s, now);
    for c in &mut clients {
        let (n, last) = drain(c);
        assert_eq!(n, 3);
        assert_eq!(last.and_then(|e| e.finish).map(|f| f.usage.completion_tokens), Some(3));
    }
    assert_eq!(s.stats().finished_length, 5);
    assert!(s.stats().queue_time.count() == 5);
    assert_eq!(s.kv().usage(), 0.0);
}

#[test]
fn prefill_counts_only_uncached_tokens() {
    let mut s = Scheduler::new(&opts());
    let now = Instant::now();
    let prompt: Vec<u32> = (0..42).collect();
    let mut a = add(&mut s, submission(prompt.clone(), 2), now);
    let first = run_to_idle(&mut s, now);
    assert_eq!(first[0].prefill_tokens, 42);
    let mut b = add(&mut s, submission(prompt, 2), now);
    let second = run_to_idle(&mut s, now);
    // 41 / 4 = 10 full blocks may hit: 40 tokens cached, 2 prefilled.
    assert_eq!(second[0].prefill_tokens, 2);
    let usage = |c: &mut Client| drain(c).1.and_then(|e| e.finish).map(|f| f.usage.cached_tokens);
    assert_eq!(usage(&mut a), Some(0));
    assert_eq!(usage(&mut b), Some(40));
    assert_eq!(s.stats().prefix_queries, 84);
    assert_eq!(s.stats().prefix_hits, 40);
    assert_eq!(s.stats().prompt_tokens, 84);
    assert_eq!(s.stats().generation_tokens, 4);
}

#[test]
fn long_prompts_are_prefilled_in_chunks() {
    let mut s = Scheduler::new(&SimOptions {
        max_num_batched_tokens: 16,
        ..opts()
    });
    let now = Instant::now();
    let mut c = add(&mut s, submission((0..40).collect(), 1), now);
    let plans = run_to_idle(&mut s, now);
    let chunks: Vec<usize> = plans.iter().map(|p| p.prefill_tokens).collect();
    assert_eq!(chunks, [16, 16, 8]);
    assert_eq!(drain(&mut c).0, 1);
}

#[test]
fn decode_growth_preempts_the_newest_request() {
    // 6 usable blocks of 4 tokens; each request grows from 2 to 4 blocks, so both cannot finish together.
    let small = SimOptions {
        num_gpu_blocks: 7,
        ..opts()
    };
    let mut s = Scheduler::new(&small);
    let now = Instant::now();
    let mut a = add(&mut s, submission((0..8).collect(), 8), now);
    let mut b = add(&mut s, submission((100..108).collect(), 8), now);
    let plans = run_to_idle(&mut s, now);
    assert!(s.stats().preemptions >= 1, "a preemption must have happened");
    assert!(
        plans.iter().any(|p| p.decode_seqs == 2),
        "both ran together before the preemption"
    );
    for c in [&mut a, &mut b] {
        let (n, last) = drain(c);
        assert_eq!(n, 8, "a preempted request still produces each token exactly once");
        assert_eq!(last.and_then(|e| e.finish).map(|f| f.usage.completion_tokens), Some(8));
    }
    assert_eq!(s.kv().usage(), 0.0);
}

#[test]
fn preempted_request_goes_back_to_the_front_of_the_queue() {
    let small = SimOptions {
        num_gpu_blocks: 7,
        max_num_seqs: 2,
        ..opts()
    };
    let mut s = Scheduler::new(&small);
    let now = Instant::now();
    let a = add(&mut s, submission((0..8).collect(), 8), now);
    let b = add(&mut s, submission((100..108).collect(), 8), now);
    let c = add(&mut s, submission((200..204).collect(), 1), now);
    let mut now2 = now;
    while s.stats().preemptions == 0 {
        let Some(plan) = s.schedule(now2) else { break };
        now2 += Duration::from_millis(1);
        s.complete(&plan, now2);
    }
    assert_eq!(s.stats().preemptions, 1);
    assert_eq!(
        s.waiting.front(),
        Some(&b.id),
        "the newest running request is preempted, queued first"
    );
    assert_eq!(s.waiting.get(1), Some(&c.id));
    assert_eq!(s.running, [a.id]);
}

#[test]
fn unschedulable_and_queue_full_are_refused() {
    let mut s = Scheduler::new(&SimOptions {
        max_waiting: 1,
        num_gpu_blocks: 5,
        ..opts()
    });
    let now = Instant::now();
    let (tx, _rx) = mpsc::unbounded_channel();
    assert_eq!(
        s.add(submission(vec![], 1), tx.clone(), now),
        Err(SubmitError::Unschedulable)
    );
    // 4 usable blocks of 4 tokens = 16 tokens.
    assert_eq!(
        s.add(submission(vec![1; 10], 7), tx.clone(), now),
        Err(SubmitError::Unschedulable)
    );
    assert!(s.add(submission(vec![1; 10], 6), tx.clone(), now).is_ok());
    assert_eq!(s.add(submission(vec![1; 2], 1), tx, now), Err(SubmitError::QueueFull));
}

#[test]
fn abort_frees_blocks_and_is_counted_once() {
    let mut s = Scheduler::new(&opts());
    let now = Instant::now();
    let c = add(&mut s, submission((0..30).collect(), 50), now);
    if let Some(plan) = s.schedule(now) {
        s.complete(&plan, now);
    }
    assert!(s.kv().usage() > 0.0);
    assert!(s.abort(c.id));
    assert!(!s.abort(c.id));
    assert_eq!(s.kv().usage(), 0.0);
    assert_eq!(s.stats().aborted, 1);
    assert!(s.schedule(now).is_none());
}

#[test]
fn dropped_receiver_aborts_at_next_token() {
    let mut s = Scheduler::new(&opts());
    let now = Instant::now();
    let c = add(&mut s, submission((0..10).collect(), 50), now);
    drop(c.rx);
    run_to_idle(&mut s, now);
    assert_eq!(s.stats().aborted, 1);
    assert_eq!(s.stats().generation_tokens, 1);
}

#[test]
fn lora_requests_wait_for_a_free_adapter_slot() {
    let mut s = Scheduler::new(&SimOptions {
        max_loras: 1,
        lora: vec!["a".into(), "b".into()],
        ..opts()
    });
    let now = Instant::now();
    let lora = |name: &str, p: u32| Submission {
        adapter: Some(Arc::from(name)),
        ..submission(vec![p; 5], 2)
    };
    let a1 = add(&mut s, lora("a", 1), now);
    let b1 = add(&mut s, lora("b", 2), now);
    let a2 = add(&mut s, lora("a", 3), now);
    let plan = s.schedule(now);
    assert_eq!(plan.as_ref().map(StepPlan::len), Some(2));
    assert_eq!(s.running, [a1.id, a2.id], "b is skipped but keeps its place");
    assert_eq!(s.waiting.front(), Some(&b1.id));
    let g = s.gauges();
    assert_eq!(g.running_loras, ["a"]);
    assert_eq!(g.waiting_loras, ["b"]);
    if let Some(plan) = plan {
        s.complete(&plan, now);
    }
    run_to_idle(&mut s, now);
    assert_eq!(s.stats().finished_length, 3);
}

#[test]
fn same_request_same_reply_and_adapters_do_not_share_cache() {
    let mut s = Scheduler::new(&SimOptions {
        lora: vec!["a".into()],
        ..opts()
    });
    let now = Instant::now();
    let prompt: Vec<u32> = (0..20).collect();
    let text = |c: &mut Client| {
        let mut out = String::new();
        while let Ok(e) = c.rx.try_recv() {
            out.push_str(&e.text);
        }
        out
    };
    let mut x = add(&mut s, submission(prompt.clone(), 12), now);
    run_to_idle(&mut s, now);
    let mut y = add(&mut s, submission(prompt.clone(), 12), now);
    run_to_idle(&mut s, now);
    assert_eq!(text(&mut x), text(&mut y));
    let hits_before = s.stats().prefix_hits;
    let sub = Submission {
        adapter: Some(Arc::from("a")),
        ..submission(prompt, 12)
    };
    let mut z = add(&mut s, sub, now);
    run_to_idle(&mut s, now);
    assert_eq!(
        s.stats().prefix_hits,
        hits_before,
        "the adapter's blocks hash differently"
    );
    assert!(!text(&mut z).is_empty());
}
