"""Formats mcp-bench's `MCP_BENCH {json}` line into bench/RESULTS-mcp.md (formatting and arithmetic only)."""

import datetime
import json
import os
import sys


def main(path: str) -> None:
    line = next(l for l in open(path) if l.startswith("MCP_BENCH "))
    r = json.loads(line[len("MCP_BENCH "):])
    e = os.environ
    a = r["args"]
    out = []
    w = out.append
    w("# MCP benchmark: `tools/call` echo, direct vs through gatehouse")
    w("")
    w(f"Produced by `{e['COMMAND']}` on {datetime.datetime.utcnow():%Y-%m-%d %H:%M} UTC, source `{e['REV']}`.")
    w(f"Machine: {e['CPUS']} CPUs ({e['CPU_MODEL']}), load average {e['LOAD_BEFORE']} before / {e['LOAD_AFTER']} after "
      "the run — **shared with other builds and test runs**, so absolute figures are noisy; the comparison is what "
      "counts (both targets measured in the same run, alternating).")
    w(f"Upstream: `@modelcontextprotocol/server-everything` {e['EVERYTHING_VERSION']} (Streamable HTTP, node "
      f"{e['NODE_VERSION']}); gatehouse release build, `access_log: off`, one upstream. Client: `mcp-bench` "
      "(bench/mcp/src/main.rs), one session-era MCP session per target, every answer (SSE) read to its end and "
      "checked for `Echo: bench`.")
    w("")
    w(f"## Paced: {a['rate']:g} calls/s, {a['rounds']} rounds × {a['duration']:g} s per target (after {a['warmup']:g} s warm-up)")
    w("Latency from each call's scheduled start (open loop) to the last byte, in ms.")
    w("")
    w("| round | target | calls | errors | p50 | p90 | p99 | max |")
    w("|---|---|---|---|---|---|---|---|")
    for i, rnd in enumerate(r["rounds"]):
        for t in ("direct", "gateway"):
            s = rnd[t]
            w(f"| {i} | {t} | {s['n']} | {s['errors']} | {s['p50_ms']:.2f} | {s['p90_ms']:.2f} | {s['p99_ms']:.2f} | {s['max_ms']:.2f} |")
    for t in ("direct", "gateway"):
        s = r["pooled"][t]
        w(f"| all | {t} | {s['n']} | {s['errors']} | {s['p50_ms']:.2f} | {s['p90_ms']:.2f} | {s['p99_ms']:.2f} | {s['max_ms']:.2f} |")
    w("")
    rounds50 = ", ".join(f"{x:.2f}" for x in r["added_p50_ms_rounds"])
    rounds99 = ", ".join(f"{x:.2f}" for x in r["added_p99_ms_rounds"])
    w("| added by gatehouse | median of rounds | per round | pooled |")
    w("|---|---|---|---|")
    w(f"| p50 | **{r['added_p50_ms_median_of_rounds']:.2f} ms** | {rounds50} | {r['added_p50_ms_pooled']:.2f} ms |")
    w(f"| p99 | **{r['added_p99_ms_median_of_rounds']:.2f} ms** | {rounds99} | {r['added_p99_ms_pooled']:.2f} ms |")
    p99s = r["added_p99_ms_rounds"]
    spread = max(p99s) - min(p99s)
    direct99 = [rnd["direct"]["p99_ms"] for rnd in r["rounds"]]
    w("")
    if spread > 2.0:
        verdict = (f"**not resolvable on this machine**: the added p99 swings by {spread:.1f} ms from round to round "
                   f"(and the direct p99 alone ranges {min(direct99):.1f}–{max(direct99):.1f} ms), so a 1 ms "
                   "difference is far inside the noise; the median of rounds is reported above but is not evidence "
                   "either way. The added p50 is the stable figure.")
    elif r["added_p99_ms_median_of_rounds"] <= 1.0:
        verdict = "**met** in this run (median of rounds, round-to-round spread ≤ 2 ms)."
    else:
        verdict = "**not met** in this run (median of rounds, round-to-round spread ≤ 2 ms)."
    w(f"Target (issue 7): added p99 ≤ 1 ms — {verdict}")
    w("")
    c = r["closed"]
    w(f"## Closed loop: {a['workers']} clients back to back, {a['max_duration']:g} s per target")
    w("")
    w("| target | calls/s | errors | p50 ms | p99 ms |")
    w("|---|---|---|---|---|")
    for t in ("direct", "gateway"):
        s = c[t]
        w(f"| {t} | {s['rps']:.0f} | {s['errors']} | {s['p50_ms']:.2f} | {s['p99_ms']:.2f} |")
    w("")
    w(f"Throughput ratio gateway / direct: **{c['throughput_ratio']:.2f}**. server-everything (one node process) "
      "saturates first in both cases; the ratio shows how much of its capacity survives the extra hop on a machine where "
      "gatehouse, node and the driver share the same cores.")
    w("")
    w("## What the hop costs")
    w("Per call gatehouse opens the sealed session token (AES-256-GCM), parses the JSON-RPC envelope, resolves the "
      "prefixed name, rewrites one field of `params`, POSTs to the upstream session over a pooled connection, and relays "
      "the upstream's SSE answer event by event (each event parsed to map ids/URIs). The figures above include the "
      "extra loopback hop and the CPU contention of a second process on a 2-core machine.")
    w("")
    w("## Raw")
    w("The driver's output line, from which this page was generated (`python3 bench/mcp/report.py FILE`):")
    w("")
    w("```")
    w(line.strip())
    w("```")
    open(e["RESULTS"], "w").write("\n".join(out) + "\n")


if __name__ == "__main__":
    main(sys.argv[1])
