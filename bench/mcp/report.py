"""Formats mcp-bench's `MCP_BENCH {json}` lines into bench/RESULTS-mcp.md (formatting and arithmetic only).

Usage: report.py EVERYTHING_OUT [FAST_OUT] — the run against server-everything, and optionally the same run against
mcp-echo (the fast upstream that isolates gatehouse's own hop).
"""

import datetime
import json
import os
import sys


def read(path: str):
    line = next(l for l in open(path) if l.startswith("MCP_BENCH "))
    return line.strip(), json.loads(line[len("MCP_BENCH "):])


def verdict(r) -> str:
    p99s = r["added_p99_ms_rounds"]
    spread = max(p99s) - min(p99s)
    direct99 = [rnd["direct"]["p99_ms"] for rnd in r["rounds"]]
    median = r["added_p99_ms_median_of_rounds"]
    ok = sum(1 for x in p99s if x <= 1.0)
    if min(p99s) < -1.0:
        return (f"**not resolvable from this run**: in some rounds the gateway's p99 is more than 1 ms *below* the "
                f"direct one ({min(p99s):.2f} ms), so the baseline's own round-to-round noise (direct p99 "
                f"{min(direct99):.1f}–{max(direct99):.1f} ms) is larger than the target; the median of rounds "
                f"({median:.2f} ms, ≤ 1 ms in {ok} of {len(p99s)} rounds) is not evidence either way. The added p50 "
                "is the stable figure.")
    if median <= 1.0 and 3 * ok >= 2 * len(p99s):
        others = [f"{x:.2f}" for x in p99s if x > 1.0]
        tail = f"; the other round{'s' if len(others) > 1 else ''}: {', '.join(others)} ms" if others else ""
        return (f"**met**: added p99 ≤ 1 ms in {ok} of {len(p99s)} rounds, median of rounds {median:.2f} ms{tail} "
                "(a stall of the shared machine during one target's turn shows up as one such round).")
    if spread > 2.0:
        return (f"**not resolvable from this run**: the added p99 swings by {spread:.1f} ms from round to round "
                f"(and the direct p99 alone ranges {min(direct99):.1f}–{max(direct99):.1f} ms), so a 1 ms "
                "difference is inside the noise; the median of rounds is reported above but is not evidence "
                "either way. The added p50 is the stable figure.")
    return (f"**not met** in this run: median of rounds {median:.2f} ms, round-to-round spread {spread:.2f} ms, "
            f"≤ 1 ms in {ok} of {len(p99s)} rounds.")


def section(w, r, upstream: str, bottleneck: str) -> None:
    a = r["args"]
    w(f"### Paced: {a['rate']:g} calls/s, {a['rounds']} rounds × {a['duration']:g} s per target (after {a['warmup']:g} s warm-up)")
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
    w("")
    w(f"Target (issue 7), added p99 ≤ 1 ms, against {upstream}: {verdict(r)}")
    w("")
    c = r["closed"]
    w(f"### Closed loop: {a['workers']} clients back to back, {a['max_duration']:g} s per target")
    w("")
    w("| target | calls/s | errors | p50 ms | p99 ms |")
    w("|---|---|---|---|---|")
    for t in ("direct", "gateway"):
        s = c[t]
        w(f"| {t} | {s['rps']:.0f} | {s['errors']} | {s['p50_ms']:.2f} | {s['p99_ms']:.2f} |")
    w("")
    w(f"Throughput ratio gateway / direct: **{c['throughput_ratio']:.2f}**. {bottleneck}")
    w("")


def main(paths) -> None:
    e = os.environ
    runs = [read(p) for p in paths]
    out = []
    w = out.append
    w("# MCP benchmark: `tools/call` echo, direct vs through gatehouse")
    w("")
    w(f"Produced by `{e['COMMAND']}` on {datetime.datetime.utcnow():%Y-%m-%d %H:%M} UTC, source `{e['REV']}`.")
    w(f"Machine: {e['CPUS']} CPUs ({e['CPU_MODEL']}), load average {e['LOAD_BEFORE']} before / {e['LOAD_AFTER']} after "
      "the run (a 2-core machine other work may share, so absolute figures are noisy; the comparison is what counts: "
      "both targets are measured in the same run, alternating).")
    w("Client: `mcp-bench` (bench/mcp/src/main.rs), one session-era MCP session per target, every answer (SSE) read "
      "to its end and checked for `Echo: bench`; gatehouse release build, `access_log: off`, one upstream.")
    w("")
    w(f"## Against server-everything ({e['EVERYTHING_VERSION']}, Streamable HTTP, node {e['NODE_VERSION']})")
    w("The issue's scenario: `everything`'s echo straight to server-everything vs through gatehouse (upstream "
      "`everything`, tool `everything_echo`).")
    w("")
    section(w, runs[0][1], "server-everything",
            "server-everything (one node process) saturates first in both cases; the ratio shows how much of its "
            "capacity survives the extra hop on a machine where gatehouse, node and the driver share the same cores.")
    if len(runs) > 1:
        w("## Against mcp-echo (gatehouse's own hop, isolated)")
        w("The same load against `mcp-echo` (bench/mcp/src/echo.rs: a minimal Rust MCP server, session era, answering "
          "an echo as SSE in microseconds) straight and through a second gatehouse (upstream `fast`, tool "
          "`fast_echo`). server-everything's own p99 moves by several ms between runs; this baseline does not, so "
          "the added p99 is resolvable here.")
        w("")
        section(w, runs[1][1], "mcp-echo",
                "Here the driver, gatehouse and mcp-echo share 2 cores, so the closed-loop ratio is mostly how CPU "
                "is split between them, not a gatehouse limit.")
    w("## What the hop costs")
    w("Per call gatehouse opens the sealed session token (AES-256-GCM), parses the JSON-RPC envelope, resolves the "
      "prefixed name, rewrites one field of `params`, POSTs to the upstream session over a pooled connection, and relays "
      "the upstream's SSE answer event by event (each event parsed to map ids/URIs). The figures above include the "
      "extra loopback hop and the CPU contention of a second process on a 2-core machine. Profile of the mcp-echo "
      "closed loop (2026-11-25, `perf record` on gatehouse, `strace -c` over 500 paced calls): 42% of gatehouse's "
      "samples are in the kernel and 29% under `writev`; per call about 3 `writev`, 2 `recvfrom` and 4 `futex` "
      "(thread hand-offs between the client connection, the upstream reader task and the upstream connection). "
      "Parsing, mapping and the AEAD are each under 1% — the hop's cost is syscalls and wake-ups, which is where a "
      "further reduction would come from (one task per call instead of a reader task and a channel).")
    w("")
    w("## Raw")
    w("The driver's output lines, from which this page was generated (`python3 bench/mcp/report.py FILE [FILE]`):")
    w("")
    w("```")
    for line, _ in runs:
        w(line)
    w("```")
    open(e["RESULTS"], "w").write("\n".join(out) + "\n")


if __name__ == "__main__":
    main(sys.argv[1:])
