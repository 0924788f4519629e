//! The workloads (reference §7, scaled to run in minutes) and their Poisson arrival traces.
//!
//! A trace is a pure function of (workload, stage rates, seed): every strategy replays the same requests at the
//! same offsets. Text is made of 4-letter words, one simulator token each, so token counts are exact.

use std::time::Duration;

/// One request of a trace.
#[derive(Debug, Clone)]
pub struct Item {
    /// Offset from the start of the run.
    pub at: Duration,
    /// Index of the stage it belongs to.
    pub stage: usize,
    /// System message (the shared prefix, or empty).
    pub system: String,
    /// User message.
    pub user: String,
    /// Output tokens (the simulator generates exactly this many).
    pub max_tokens: u32,
}

/// Which workload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Workload {
    /// Prefix-heavy: groups of users sharing a long system prompt, each user's question reused.
    A,
    /// Low sharing: short shared prefix, long unique questions.
    B,
    /// ShareGPT-like lengths, no sharing.
    C,
}

/// SplitMix64 (seeded, reproducible).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn unit(&mut self) -> f64 {
        ((self.next() >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }
    fn below(&mut self, n: usize) -> usize {
        (self.unit() * n as f64) as usize % n.max(1)
    }
    fn words(&mut self, n: usize) -> String {
        let mut s = String::with_capacity(n * 5);
        for i in 0..n {
            if i > 0 {
                s.push(' ');
            }
            for _ in 0..4 {
                s.push(char::from(b'a' + (self.next() % 26) as u8));
            }
        }
        s
    }
}

/// Shape parameters of a workload at bench scale.
#[derive(Debug, Clone, Copy)]
pub struct Shape {
    /// Prefix groups.
    pub groups: usize,
    /// Users per group.
    pub users: usize,
    /// Shared system prefix, tokens.
    pub system: usize,
    /// Question, tokens.
    pub question: usize,
    /// Output, tokens.
    pub output: u32,
}

impl Workload {
    /// The reference's CI scale (§7): A = 150 × 5, S 750, Q 150, O 125; B = 150 × 5, S 125, Q 775, O 125.
    pub fn shape(self) -> Shape {
        match self {
            Self::A => Shape {
                groups: 150,
                users: 5,
                system: 750,
                question: 150,
                output: 125,
            },
            Self::B => Shape {
                groups: 150,
                users: 5,
                system: 125,
                question: 775,
                output: 125,
            },
            Self::C => Shape {
                groups: 0,
                users: 0,
                system: 0,
                question: 250,
                output: 225,
            },
        }
    }
}

/// Builds the trace: `stages` of (virtual QPS, virtual seconds), Poisson arrivals, every time divided by
/// `time_scale` (the simulator runs `1/time_scale` times faster than its model).
pub fn trace(w: Workload, stages: &[(f64, f64)], time_scale: f64, seed: u64) -> Vec<Item> {
    let mut rng = Rng(seed ^ 0xA5A5_0000 ^ w as u64);
    let shape = w.shape();
    let systems: Vec<String> = (0..shape.groups).map(|_| rng.words(shape.system)).collect();
    let questions: Vec<Vec<String>> = (0..shape.groups)
        .map(|_| (0..shape.users).map(|_| rng.words(shape.question)).collect())
        .collect();
    let mut out = Vec::new();
    let mut t0 = 0.0;
    for (stage, &(qps, secs)) in stages.iter().enumerate() {
        let mut t = t0;
        loop {
            t += -rng.unit().ln() / qps;
            if t >= t0 + secs {
                break;
            }
            let (system, user, max_tokens) = match w {
                Workload::A | Workload::B => {
                    let g = rng.below(shape.groups);
                    let u = rng.below(shape.users);
                    (systems[g].clone(), questions[g][u].clone(), shape.output)
                }
                Workload::C => {
                    // Lognormal lengths (σ = 0.8) with ShareGPT-like means, capped at 1024.
                    let mut ln = |mean: f64| {
                        let z = (-2.0 * rng.unit().ln()).sqrt() * (std::f64::consts::TAU * rng.unit()).cos();
                        let mu = mean.ln() - 0.32;
                        (mu + 0.8 * z).exp().clamp(4.0, 1024.0) as usize
                    };
                    let input = ln(f64::from(250u32));
                    let output = ln(f64::from(shape.output)) as u32;
                    (String::new(), rng.words(input), output)
                }
            };
            out.push(Item {
                at: Duration::from_secs_f64(t * time_scale),
                stage,
                system,
                user,
                max_tokens,
            });
        }
        t0 += secs;
    }
    out
}
