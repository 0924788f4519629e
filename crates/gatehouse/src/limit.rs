//! Rate limiting shared by every route: the GCRA decision (`gcra.rs`, pure, clock injected) and a keyed in-process
//! store (`keyed.rs`). A shared backend (Redis, one Lua script running the same arithmetic on the same test vectors)
//! can replace the store without changing callers: both answer [`gcra::Decision`].

pub mod gcra;
pub mod keyed;
pub mod redis;

pub use gcra::{Decision, Gcra};
pub use keyed::{Clock, KeyedLimiter, TokioClock};
