//! The shared limiter backend: the GCRA of `gcra.rs` run in one Lua script inside Redis, on Redis's clock, so every
//! gatehouse replica talking to the same Redis shares one bucket per key.
//!
//! Lua numbers are doubles, so times are nanoseconds since 2020-09-13 (Unix 1 600 000 000): today that is ~2·10^17,
//! exact to 32 ns — finer than any rate the config accepts. Values are stored and returned as integer strings
//! (`%.0f`), never through Lua's `tostring` (which would print `1e+17`). A test can pass `now` explicitly (the same
//! vectors as the pure implementation); the gateway never does. The connection is the `redis` crate's
//! `ConnectionManager` (reconnects on its own), created on first use so a Redis that is down at startup is handled
//! like one that fails later.

use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};

use super::gcra::{Decision, Gcra};

/// The GCRA decision as a Lua script. KEYS[1]: the bucket. ARGV: emission_ns, tolerance_ns, cost, [now_ns].
const SCRIPT: &str = r"
local emission = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local n = tonumber(ARGV[3])
local now
if ARGV[4] and ARGV[4] ~= '' then
  now = tonumber(ARGV[4])
else
  local t = redis.call('TIME')
  now = (tonumber(t[1]) - 1600000000) * 1000000000 + tonumber(t[2]) * 1000
end
local stored = redis.call('GET', KEYS[1])
local tat = now
if stored then tat = math.max(tonumber(stored), now) end
local ahead = tat - now
local capacity = tolerance + emission
local cost = emission * n
local need = math.min(cost, capacity)
if ahead + need > capacity then
  return {0, string.format('%.0f', ahead + need - capacity)}
end
local new_tat = tat + cost
local ttl_ms = math.ceil((new_tat - now) / 1000000) + 1000
redis.call('SET', KEYS[1], string.format('%.0f', new_tat), 'PX', string.format('%.0f', ttl_ms))
local left = capacity - (new_tat - now)
if left < 0 then left = 0 end
return {1, string.format('%.0f', math.floor(left / emission))}
";

/// A Redis-backed GCRA store.
pub struct RedisLimiter {
    client: redis::Client,
    conn: tokio::sync::OnceCell<ConnectionManager>,
    script: redis::Script,
    timeout: Duration,
}

impl std::fmt::Debug for RedisLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisLimiter").finish_non_exhaustive()
    }
}

// === impl RedisLimiter ===

impl RedisLimiter {
    /// A limiter for `url` (`redis://host:port/db`); nothing is connected until the first check.
    pub fn new(url: &str, timeout: Duration) -> Result<Self, String> {
        let client = redis::Client::open(url).map_err(|e| format!("invalid Redis URL: {e}"))?;
        Ok(Self {
            client,
            conn: tokio::sync::OnceCell::new(),
            script: redis::Script::new(SCRIPT),
            timeout,
        })
    }

    async fn conn(&self) -> Result<ConnectionManager, String> {
        let cfg = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(self.timeout))
            .set_response_timeout(Some(self.timeout))
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_millis(500));
        self.conn
            .get_or_try_init(|| async {
                tokio::time::timeout(
                    self.timeout,
                    ConnectionManager::new_with_config(self.client.clone(), cfg),
                )
                .await
                .map_err(|_| "connect timed out".to_string())?
                .map_err(|e| e.to_string())
            })
            .await
            .cloned()
    }

    /// Decides a request costing `n` cells for `key` on Redis's clock (or `now_ns`, for tests).
    pub async fn check_n(&self, key: &str, gcra: Gcra, n: u64, now_ns: Option<u64>) -> Result<Decision, String> {
        let mut conn = self.conn().await?;
        let mut inv = self.script.key(key);
        inv.arg(gcra.emission_ns)
            .arg(gcra.tolerance_ns)
            .arg(n)
            .arg(now_ns.map(|t| t.to_string()).unwrap_or_default());
        let reply: (i64, String) = tokio::time::timeout(self.timeout, inv.invoke_async(&mut conn))
            .await
            .map_err(|_| "Redis timed out".to_string())?
            .map_err(|e| e.to_string())?;
        let v: u64 = reply
            .1
            .parse()
            .map_err(|_| format!("unexpected script reply {reply:?}"))?;
        Ok(if reply.0 == 1 {
            Decision::Allow { remaining: v }
        } else {
            Decision::Deny {
                retry_after: Duration::from_nanos(v),
            }
        })
    }
}
