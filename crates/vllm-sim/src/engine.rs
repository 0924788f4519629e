//! One simulated engine per replica: a shared [`Scheduler`] driven by a sleep-based step loop.
//!
//! HTTP handlers [`Engine::submit`] requests and read tokens from a [`RequestHandle`]; dropping the handle (a client
//! that disconnected) aborts the request and frees its blocks. [`Engine::run`] is the step loop: it schedules a
//! step under the lock, sleeps for the step's simulated duration with the lock released, then applies the step.
//! An idle engine waits on a [`Notify`] (no polling), so idle replicas cost no CPU.
//!
//! How long a step takes is [`step`]'s business.

mod scheduler;
mod sequence;
mod step;

use std::convert::Infallible;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use tokio::sync::{Notify, mpsc};
use tokio::time::Instant;

use crate::metrics;
use crate::options::SimOptions;
use scheduler::Scheduler;
pub(crate) use scheduler::SubmitError;
pub(crate) use sequence::{Finish, FinishReason, SeqId, Submission, TokenEvent, Usage};
use step::CostModel;

/// How far the engine may run behind its ideal timeline before it stops catching up.
const MAX_LAG: Duration = Duration::from_millis(50);

/// Handle to one replica's engine; cheap to clone.
#[derive(Clone, Debug)]
pub(crate) struct Engine {
    shared: Arc<Shared>,
}

/// The receiving end of one request. Dropping it before the last token cancels the request.
#[derive(Debug)]
pub(crate) struct RequestHandle {
    id: SeqId,
    rx: mpsc::UnboundedReceiver<TokenEvent>,
    shared: Arc<Shared>,
    finished: bool,
}

#[derive(Debug)]
struct Shared {
    scheduler: Mutex<Scheduler>,
    wake: Notify,
    cost: CostModel,
    info: metrics::Info,
}

// === impl Engine ===

impl Engine {
    /// An idle engine; nothing runs until [`Engine::run`] is polled.
    pub(crate) fn new(opts: &SimOptions) -> Self {
        let shared = Shared {
            scheduler: Mutex::new(Scheduler::new(opts)),
            wake: Notify::new(),
            cost: CostModel::new(opts),
            info: metrics::Info {
                model: opts.model.clone(),
                block_size: opts.block_size,
                num_gpu_blocks: opts.num_gpu_blocks,
                prefix_caching: opts.enable_prefix_caching,
                max_loras: (!opts.lora.is_empty()).then_some(opts.max_loras),
                legacy: opts.legacy_metrics,
            },
        };
        Self {
            shared: Arc::new(shared),
        }
    }

    /// Queues a request and wakes the step loop.
    pub(crate) fn submit(&self, sub: Submission) -> Result<RequestHandle, SubmitError> {
        let (tx, rx) = mpsc::unbounded_channel();
        let id = self.shared.lock().add(sub, tx, Instant::now())?;
        self.shared.wake.notify_one();
        Ok(RequestHandle {
            id,
            rx,
            shared: self.shared.clone(),
            finished: false,
        })
    }

    /// The `/metrics` page.
    pub(crate) fn metrics_text(&self) -> String {
        let (gauges, stats) = {
            let scheduler = self.shared.lock();
            (scheduler.gauges(), scheduler.stats().clone())
        };
        metrics::render(&self.shared.info, &gauges, &stats)
    }

    /// Ends every request (their streams close); called when the replica stops.
    pub(crate) fn shutdown(&self) {
        self.shared.lock().clear();
    }

    /// The step loop; never returns, stops when dropped.
    ///
    /// While busy, steps are laid end to end on an ideal timeline (`sleep_until` exact deadlines), so the timer's
    /// 1 ms granularity delays a step by less than 1 ms without accumulating; the scheduler sees these ideal times.
    /// After a stall longer than [`MAX_LAG`] (or idling) the timeline restarts from the current time.
    pub(crate) async fn run(&self) -> Infallible {
        let mut timeline: Option<Instant> = None;
        loop {
            let now = Instant::now();
            let start = match timeline {
                Some(end) if now.duration_since(end) <= MAX_LAG => end,
                _ => now,
            };
            let plan = self.shared.lock().schedule(start);
            let Some(plan) = plan else {
                timeline = None;
                // `notify_one` stores a permit, so a submission racing with this check is not lost.
                self.shared.wake.notified().await;
                continue;
            };
            let duration = self.shared.cost.step_duration(&plan);
            let end = start + duration;
            if duration.is_zero() {
                tokio::task::yield_now().await;
            } else {
                tokio::time::sleep_until(end).await;
            }
            self.shared.lock().complete(&plan, end);
            timeline = Some(end);
        }
    }

    /// Runs `f` on the scheduler (tests inspect its state).
    #[cfg(test)]
    pub(crate) fn with_scheduler<T>(&self, f: impl FnOnce(&Scheduler) -> T) -> T {
        f(&self.shared.lock())
    }
}

// === impl RequestHandle ===

impl RequestHandle {
    /// The next token; `None` after the last one, or if the engine stopped.
    pub(crate) async fn recv(&mut self) -> Option<TokenEvent> {
        if self.finished {
            return None;
        }
        let event = self.rx.recv().await;
        match event {
            Some(TokenEvent { finish: Some(_), .. }) | None => self.finished = true,
            Some(_) => {}
        }
        event
    }
}

impl Drop for RequestHandle {
    fn drop(&mut self) {
        if self.finished {
            return;
        }
        let aborted = self.shared.lock().abort(self.id);
        if aborted {
            tracing::debug!(request = self.id, "client went away; request aborted");
            self.shared.wake.notify_one();
        }
    }
}

// === impl Shared ===

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Scheduler> {
        // A panic while holding the lock cannot leave the scheduler half-updated in a way that matters more than
        // stopping the replica would; keep serving.
        self.scheduler.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests;
