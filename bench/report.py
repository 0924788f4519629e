#!/usr/bin/env python3
"""Turns the runs recorded by bench/run.sh into bench/RESULTS.md (or prints one run's summary line).

    report.py line JSON            one run as a short line (run.sh prints it while the benchmark runs)
    report.py write JSONL OUT      the whole report; run metadata comes from BENCH_* environment variables

Nothing here measures anything: it only divides, subtracts and formats what run.sh recorded.
"""

import json
import os
import re
import sys

TARGET_THROUGHPUT_VS_NGINX = 0.9
TARGET_ADDED_P99_MS = 0.3
TARGET_IDLE_RSS_MIB = 20.0
BACKGROUND_WARN_PCT = 10.0
PASSTHROUGH_OF = {"anthropic": "chat", "anthropic_stream": "stream", "messages": "chat", "messages_native": "chat",
                  "keys_local": "chat", "keys_redis": "chat", "responses": "chat", "responses_stream": "stream"}
TITLES = {
    "chat": "chat: non-streaming chat completion (~1 KiB request, ~1 KiB response)",
    "stream": "stream: streaming chat completion (100 content chunks + finish chunk + [DONE])",
    "anthropic": "anthropic: OpenAI request in, translated to an Anthropic Messages upstream (non-streaming)",
    "anthropic_stream": "anthropic_stream: as anthropic, streaming (100 `text_delta` events in, OpenAI chunks out)",
    "messages": "messages: Anthropic `/v1/messages` in, translated to the OpenAI-compatible upstream and back (non-streaming)",
    "messages_native": "messages_native: Anthropic `/v1/messages` in, native passthrough to the Anthropic upstream (non-streaming)",
    "keys_local": "keys_local: the chat scenario behind a virtual-key check and an in-process per-key limit",
    "keys_redis": "keys_redis: the chat scenario behind a virtual-key check and a per-key limit shared through Redis",
    "responses": "responses: OpenAI Responses request (`/v1/responses`) in, translated to an Anthropic Messages upstream (non-streaming)",
    "responses_stream": "responses_stream: as responses, streaming (100 `text_delta` events in, typed Responses events out)",
}


_TRANSLATED_NOTE = ("`direct` sends the equivalent Anthropic request straight to the mock's `POST /v1/messages`; "
                    "`gatehouse` receives the OpenAI request and translates both ways. No nginx row.")
SCENARIO_NOTES = {
    "responses": "`direct` sends the equivalent Anthropic request straight to the mock's `POST /v1/messages`; "
                 "`gatehouse` receives the Responses request on `/v1/responses` and translates both ways. Compare "
                 "with `anthropic` (the chat-completions translation of the same prompt). No nginx row.",
    "responses_stream": "As `responses`, streamed; compare with `anthropic_stream`. No nginx row.",
    "anthropic": _TRANSLATED_NOTE,
    "anthropic_stream": _TRANSLATED_NOTE,
    "messages": "`direct` sends the equivalent OpenAI request straight to the mock's `POST /v1/chat/completions`; "
                "`gatehouse` receives the Anthropic request on `/v1/messages` and translates both ways. No nginx row.",
    "keys_local": "Compare with the `chat` scenario: the difference is the key check plus the in-process limiter.",
    "keys_redis": "Compare with the `chat` scenario: the difference is the key check plus one Redis round trip "
                  "(the GCRA Lua script; redis-server runs on the load generator's CPU).",
    "messages_native": "Every target receives the same Anthropic request on `POST /v1/messages`; gatehouse rewrites "
                       "`model` and swaps the credential, nginx relays it unchanged.",
}


def stats(run, clk_tck):
    """Derived figures of one run, or None when it did not run."""
    if not run or not run.get("wrk"):
        return None
    w = run["wrk"]
    seconds = w["duration_us"] / 1e6
    requests = w["requests"]
    cpu_s = run.get("cpu_ticks", 0) / clk_tck
    lat = w["latency_us"]
    return {
        "rps": requests / seconds if seconds else 0.0,
        "requests": requests,
        "p50": lat["p50"] / 1000,
        "p90": lat["p90"] / 1000,
        "p99": lat["p99"] / 1000,
        "p999": lat["p999"] / 1000,
        "max": lat["max"] / 1000,
        "errors": sum(w["errors"].values()),
        "cpu_us": cpu_s * 1e6 / requests if requests else None,
        "core": cpu_s / seconds if seconds else None,
        "hwm_mib": run.get("hwm_kib", 0) / 1024,
        "other": run.get("other_ticks", 0) / clk_tck / seconds * 100 if seconds else 0.0,
        "has_proxy": run["target"] != "direct",
    }


def fmt(value, spec=".3f", none="—"):
    return none if value is None else format(value, spec)


def background(s):
    """CPU used by processes outside the benchmark during a run, in % of one core; flagged when it is large."""
    flag = " ⚠" if s["other"] > BACKGROUND_WARN_PCT else ""
    return f"{s['other']:.0f}%{flag}"


def ratio(a, b):
    return a / b if a is not None and b else None


def line(raw):
    run = json.loads(raw)
    s = stats(run, 100)
    if s is None:
        return f"  {run['target']:9} {run['mode']:6} no result"
    return (f"  {run['target']:9} {run['mode']:6} {s['rps']:9.0f} req/s  p50 {s['p50']:.3f} ms  "
            f"p99 {s['p99']:.3f} ms  errors {s['errors']}")


def write(jsonl, out):
    env = os.environ
    clk_tck = int(env.get("BENCH_CLK_TCK", "100"))
    runs = {}
    failed = []
    with open(jsonl) as f:
        for raw in f:
            run = json.loads(raw)
            if run["mode"] == "failed":
                failed.append(f"{run['scenario']}/{run['target']}")
                continue
            runs[(run["scenario"], run["target"], run["mode"])] = stats(run, clk_tck)

    def get(scenario, target, mode):
        return runs.get((scenario, target, mode))

    scenarios = env.get("BENCH_SCENARIOS", "").split()
    idle_gh = int(env.get("BENCH_IDLE_GATEHOUSE_KIB", "0")) / 1024
    idle_nginx = int(env.get("BENCH_IDLE_NGINX_KIB", "0")) / 1024
    idle_mock = int(env.get("BENCH_IDLE_MOCK_KIB", "0")) / 1024
    conns = env.get("BENCH_CONNECTIONS")
    paced_conns = env.get("BENCH_PACED_CONNECTIONS")
    delay = env.get("BENCH_PACED_DELAY_MS")

    o = []
    o.append("# Benchmark results\n")
    o.append("Generated by `bench/run.sh`; do not edit by hand (see `bench/README.md` for the method and caveats).\n")
    o.append("| | |\n|---|---|")
    for key, label in [
        ("COMMAND", "command"), ("STARTED", "date (UTC)"), ("ELAPSED", "load phase (s)"), ("MACHINE", "machine"),
        ("KERNEL", "kernel"), ("QUIET", "background activity"), ("PINNING", "CPU pinning"), ("GIT", "gatehouse commit"), ("GATEHOUSE", "gatehouse"),
        ("RUSTC", "rustc"), ("NGINX", "nginx"), ("WRK", "load generator"),
    ]:
        value = re.sub(r" Copyright \(C\) \d+ [^,]*", "", env.get("BENCH_" + key, "?"))
        o.append(f"| {label} | {value.replace('|', '/')} |")
    o.append(f"| runs | per target: {env.get('BENCH_WARMUP')} s warm-up (discarded), {env.get('BENCH_DURATION')} s at "
             f"max throughput ({conns} connections, closed loop), {env.get('BENCH_PACED_DURATION')} s paced "
             f"({paced_conns} connections, each waiting {delay} ms after every response: ~1k RPS, closed loop) |")
    o.append("| gatehouse config | one `openai_compatible` provider (and one `anthropic` provider for the translated "
             "scenarios) pointing at mock-upstream; `telemetry: { access_log: off }` |")
    o.append("| nginx config | `worker_processes 1`, `access_log off`, `proxy_http_version 1.1` with upstream "
             "`keepalive 128`, `proxy_buffering off` (as an SSE proxy is configured) |")
    o.append("")

    worst = max((s["other"] for s in runs.values() if s), default=0.0)
    o.append(f"Background CPU (processes other than wrk, mock-upstream and the proxy under test) peaked at "
             f"**{worst:.0f}% of one core** in a measured run" +
             (f"; runs above {BACKGROUND_WARN_PCT:.0f}% are marked ⚠ and their figures are skewed.\n"
              if worst > BACKGROUND_WARN_PCT else ".\n"))

    # Summary and targets.
    o.append("## Summary against the targets\n")
    o.append("Targets are reported, not asserted. Throughput is the max-throughput run; added latency is the paced "
             "(~1k RPS) run minus the direct run at the same pacing.\n")
    o.append("| scenario | gatehouse req/s | × nginx (target ≥ 0.9) | × direct | gatehouse added p50 / p99 ms "
             "(target p99 ≤ 0.3) | nginx added p50 / p99 ms | gatehouse CPU µs/req (max) | nginx CPU µs/req (max) |")
    o.append("|---|---|---|---|---|---|---|---|")
    for sc in scenarios:
        gm, nm, dm = get(sc, "gatehouse", "max"), get(sc, "nginx", "max"), get(sc, "direct", "max")
        gp, np_, dp = get(sc, "gatehouse", "paced"), get(sc, "nginx", "paced"), get(sc, "direct", "paced")
        if gm is None and dm is None:
            continue
        r_nginx = ratio(gm and gm["rps"], nm and nm["rps"])
        if sc in PASSTHROUGH_OF and nm is None:
            r_nginx_s = "n/a (no nginx equivalent)"
        else:
            verdict = "" if r_nginx is None else (" ✅" if r_nginx >= TARGET_THROUGHPUT_VS_NGINX else " ❌")
            r_nginx_s = fmt(r_nginx, ".2f") + verdict

        def added(p, base=dp):
            if p is None or base is None:
                return None, None
            return p["p50"] - base["p50"], p["p99"] - base["p99"]

        g50, g99 = added(gp)
        n50, n99 = added(np_)
        verdict = "" if g99 is None else (" ✅" if g99 <= TARGET_ADDED_P99_MS else " ❌")
        o.append(f"| {sc} | {fmt(gm and gm['rps'], '.0f')} | {r_nginx_s} | {fmt(ratio(gm and gm['rps'], dm and dm['rps']), '.2f')} "
                 f"| {fmt(g50)} / {fmt(g99)}{verdict} | {fmt(n50)} / {fmt(n99)} "
                 f"| {fmt(gm and gm['cpu_us'], '.1f')} | {fmt(nm and nm['cpu_us'], '.1f')} |")
    o.append("")
    verdict = "✅" if idle_gh <= TARGET_IDLE_RSS_MIB else "❌"
    o.append(f"Idle RSS (VmRSS after start-up, before any request): **gatehouse {idle_gh:.1f} MiB** {verdict} "
             f"(target ≤ {TARGET_IDLE_RSS_MIB:.0f} MiB); nginx master + worker {idle_nginx:.1f} MiB; "
             f"mock-upstream {idle_mock:.1f} MiB.\n")

    translated = [sc for sc in scenarios if sc in PASSTHROUGH_OF]
    note = env.get("BENCH_ANTHROPIC_NOTE", "")
    if translated and note:
        o.append(f"Translated scenarios ({', '.join(translated)}): {note}\n")
    for sc in translated:
        base = PASSTHROUGH_OF[sc]
        gm, bm = get(sc, "gatehouse", "max"), get(base, "gatehouse", "max")
        gp, bp = get(sc, "gatehouse", "paced"), get(base, "gatehouse", "paced")
        if gm is None or bm is None:
            continue  # the passthrough scenario was not part of this run
        r = ratio(gm["rps"], bm and bm["rps"])
        extra = None if bm is None or gm["cpu_us"] is None or bm["cpu_us"] is None else gm["cpu_us"] - bm["cpu_us"]
        p99 = None if gp is None or bp is None else gp["p99"] - bp["p99"]
        o.append(f"- **{sc}** vs passthrough **{base}** (both through gatehouse): throughput × {fmt(r, '.2f')}, "
                 f"CPU {fmt(extra, '+.1f')} µs/req, paced p99 {fmt(p99, '+.3f')} ms.")
    if translated:
        o.append("")
    if failed:
        o.append(f"**Not measured** (the pre-load check request failed): {', '.join(failed)}.\n")

    # Per-scenario detail.
    for sc in scenarios:
        rows = [(t, get(sc, t, "max"), get(sc, t, "paced")) for t in ("direct", "nginx", "gatehouse")]
        if all(m is None and p is None for _, m, p in rows):
            continue
        o.append(f"## {TITLES.get(sc, sc)}\n")
        if sc in SCENARIO_NOTES:
            o.append(SCENARIO_NOTES[sc] + "\n")
        o.append(f"Max throughput ({conns} connections, closed loop):\n")
        o.append("| target | req/s | × direct | p50 ms | p99 ms | p99.9 ms | proxy CPU µs/req | proxy core use "
                 "| proxy peak RSS MiB | errors | background CPU |")
        o.append("|---|---|---|---|---|---|---|---|---|---|---|")
        direct_max = rows[0][1]
        for t, m, _ in rows:
            if m is None:
                continue
            proxy = m["has_proxy"]
            o.append(f"| {t} | {m['rps']:.0f} | {fmt(ratio(m['rps'], direct_max and direct_max['rps']), '.2f')} "
                     f"| {m['p50']:.3f} | {m['p99']:.3f} | {m['p999']:.3f} "
                     f"| {fmt(m['cpu_us'] if proxy else None, '.1f')} "
                     f"| {fmt(m['core'] * 100 if proxy else None, '.0f')}{'%' if proxy else ''} "
                     f"| {fmt(m['hwm_mib'] if proxy else None, '.1f')} | {m['errors']} | {background(m)} |")
        o.append("")
        o.append(f"Paced, ~1k RPS ({paced_conns} connections × one request per {delay} ms + latency, closed loop):\n")
        o.append("| target | req/s | p50 ms | p90 ms | p99 ms | p99.9 ms | added p50 ms | added p99 ms "
                 "| proxy CPU µs/req | errors | background CPU |")
        o.append("|---|---|---|---|---|---|---|---|---|---|---|")
        direct_paced = rows[0][2]
        for t, _, p in rows:
            if p is None:
                continue
            proxy = p["has_proxy"]
            a50 = p["p50"] - direct_paced["p50"] if proxy and direct_paced else None
            a99 = p["p99"] - direct_paced["p99"] if proxy and direct_paced else None
            o.append(f"| {t} | {p['rps']:.0f} | {p['p50']:.3f} | {p['p90']:.3f} | {p['p99']:.3f} | {p['p999']:.3f} "
                     f"| {fmt(a50)} | {fmt(a99)} | {fmt(p['cpu_us'] if proxy else None, '.1f')} | {p['errors']} "
                     f"| {background(p)} |")
        o.append("")

    o.append("## Notes\n")
    o.append("- `proxy CPU µs/req`: utime + stime of the proxy's processes (gatehouse; nginx master + worker) from "
             f"`/proc/PID/stat`, delta over the run divided by completed requests; clock tick 1/{clk_tck} s. "
             "`proxy core use`: the same CPU time over wall time (100% = one core busy).")
    hwm = "reset before each run (`/proc/PID/clear_refs`)" if env.get("BENCH_HWM_RESET") == "1" else \
        "NOT reset between runs (clear_refs refused), so each value is the peak so far"
    o.append(f"- Peak RSS: `VmHWM` from `/proc/PID/status` after the run, {hwm}; nginx is master + worker summed.")
    o.append("- Latency is measured by wrk from request write to the end of the response (the whole stream for "
             "streaming scenarios). Both load shapes are closed loop: see `bench/README.md`.")
    o.append("- `background CPU`: machine busy time (`/proc/stat` user + nice + system) over the run minus that of wrk, "
             "mock-upstream and the proxy under test, in % of one core. Softirq time is excluded on both sides.")
    o.append("- Load generator, upstream and proxy share one 2-core machine; absolute figures are this machine's, the "
             "ratios are the point.")
    with open(out, "w") as f:
        f.write("\n".join(o) + "\n")


def main(argv):
    if len(argv) == 3 and argv[1] == "line":
        print(line(argv[2]), file=sys.stderr)
    elif len(argv) == 4 and argv[1] == "write":
        write(argv[2], argv[3])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
