-- wrk script for the gatehouse benchmark (bench/run.sh): POSTs the JSON body in the file named by BENCH_BODY,
-- optionally paces each connection (BENCH_DELAY_MS of think time after every response), and prints one
-- machine-readable line, "BENCH_RESULT {...}", with the request count, errors and latency percentiles (µs).

local body_path = os.getenv("BENCH_BODY")
if body_path == nil or body_path == "" then
  error("BENCH_BODY must name the request body file")
end
local file = assert(io.open(body_path, "rb"))
wrk.method = "POST"
wrk.body = file:read("*a")
file:close()
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Accept"] = os.getenv("BENCH_ACCEPT") or "application/json"
local auth = os.getenv("BENCH_AUTH")
if auth ~= nil and auth ~= "" then
  wrk.headers["Authorization"] = auth
end

local delay_ms = tonumber(os.getenv("BENCH_DELAY_MS") or "0") or 0
if delay_ms > 0 then
  -- Called before each request after the first on a connection: think time, so N connections make a steady
  -- ~N * 1000 / (delay_ms + latency) requests per second instead of saturating the server.
  function delay()
    return delay_ms
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "BENCH_RESULT {\"requests\":%d,\"duration_us\":%d,\"bytes\":%d," ..
    "\"errors\":{\"connect\":%d,\"read\":%d,\"write\":%d,\"status\":%d,\"timeout\":%d}," ..
    "\"latency_us\":{\"mean\":%.1f,\"p50\":%d,\"p90\":%d,\"p99\":%d,\"p999\":%d,\"max\":%d}}\n",
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency.mean, latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency:percentile(99.9), latency.max))
end
