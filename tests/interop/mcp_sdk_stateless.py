"""Interop: the official MCP Python SDK (mcp 2.x) speaking the stateless 2026-07-28 era to gatehouse's /mcp, in front
of two session-era server-everything upstreams (`everything` over Streamable HTTP, `local` as a stdio child).

Usage: mcp_sdk_stateless.py GATEWAY_A_MCP_URL GATEWAY_B_MCP_URL MODE
MODE is the SDK's connect mode: `2026-07-28` (adopt the era directly) or `auto` (probe `server/discover`, which
gatehouse answers, so the SDK must settle on 2026-07-28). Requests alternate between the two gateways: nothing is
shared between them but the config, since the era has no sessions. Prints "ok" on success; any failed check raises.
"""

import asyncio
import sys

import httpx2
from mcp import Client
from mcp.client.streamable_http import streamable_http_client


async def main(url_a: str, url_b: str, mode: str) -> None:
    other = httpx2.URL(url_b)
    seen = {"n": 0, "to_b": 0, "session_headers": 0}

    async def alternate(request: httpx2.Request) -> None:
        seen["n"] += 1
        if seen["n"] % 2 == 0:
            request.url = request.url.copy_with(host=other.host, port=other.port)
            seen["to_b"] += 1
        assert request.headers.get("mcp-protocol-version") == "2026-07-28", request.headers
        assert "mcp-method" in request.headers, request.headers

    async def no_session(response: httpx2.Response) -> None:
        if "mcp-session-id" in response.headers:
            seen["session_headers"] += 1

    http = httpx2.AsyncClient(event_hooks={"request": [alternate], "response": [no_session]}, timeout=60)
    async with Client(streamable_http_client(url_a, http_client=http), mode=mode) as c:
        assert c.protocol_version == "2026-07-28", c.protocol_version
        if mode == "auto":
            assert c.server_info is not None and c.server_info.name == "gatehouse", c.server_info
        tools = (await c.list_tools()).tools
        names = {t.name for t in tools}
        for expected in ("everything_echo", "everything_get-sum", "local_echo", "local_get-sum"):
            assert expected in names, f"{expected} missing from {sorted(names)}"

        for i in range(4):
            r = await c.call_tool("everything_echo", {"message": f"hi {i}"})
            assert r.content[0].text == f"Echo: hi {i}", r
        r = await c.call_tool("local_get-sum", {"a": 2, "b": 3})
        assert "5" in r.content[0].text, r

        uri = "everything+demo://resource/static/document/architecture.md"
        res = await c.read_resource(uri)
        assert str(res.contents[0].uri) == uri and res.contents[0].text, res

        p = await c.get_prompt("local_args-prompt", {"city": "Paris"})
        assert "Paris" in p.messages[0].content.text, p

        updates = []

        async def on_progress(progress, total, message):
            updates.append(progress)

        r = await c.call_tool(
            "local_trigger-long-running-operation", {"duration": 0.3, "steps": 3}, progress_callback=on_progress
        )
        assert "completed" in r.content[0].text, r
        assert len(updates) == 3, updates
    assert seen["to_b"] >= 4, seen
    assert seen["session_headers"] == 0, seen
    print("ok")


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3]))
