"""Interop: the official MCP Python SDK (mcp 2.x) drives gatehouse's /mcp in front of two server-everything upstreams
(`everything` over Streamable HTTP, `local` as a stdio child).

Usage: mcp_sdk.py GATEWAY_A_MCP_URL GATEWAY_B_MCP_URL [MODE]
MODE is the SDK's connect mode: `legacy` (default). (`auto` settles on the stateless 2026-07-28 era, which gatehouse
serves too: see mcp_sdk_stateless.py.)
The session is initialised on gateway A; after that every request goes to gateway B (same session key), which must
serve the session it never saw. Prints "ok" on success; any failed check raises.
"""

import asyncio
import sys

import httpx2
from mcp import Client, types
from mcp.client.streamable_http import streamable_http_client


async def main(url_a: str, url_b: str, mode: str) -> None:
    other = httpx2.URL(url_b)
    switched = {"on": False, "requests_to_b": 0}

    async def to_replica_b(request: httpx2.Request) -> None:
        if switched["on"]:
            request.url = request.url.copy_with(host=other.host, port=other.port)
            switched["requests_to_b"] += 1

    sampled = []

    async def sampling(context, params: types.CreateMessageRequestParams) -> types.CreateMessageResult:
        sampled.append(params.messages[0].content.text)
        return types.CreateMessageResult(
            role="assistant",
            content=types.TextContent(type="text", text=f"sampled-{len(sampled)}"),
            model="test-model",
            stop_reason="endTurn",
        )

    http = httpx2.AsyncClient(event_hooks={"request": [to_replica_b]}, timeout=60)
    client = Client(streamable_http_client(url_a, http_client=http), mode=mode, sampling_callback=sampling)
    async with client as c:
        tools = (await c.list_tools()).tools
        names = {t.name for t in tools}
        for expected in ("everything_echo", "everything_get-sum", "local_echo", "local_get-sum"):
            assert expected in names, f"{expected} missing from {sorted(names)}"
        assert all(n.startswith(("everything_", "local_")) for n in names), names
        # Unknown fields of tool definitions pass through (execution.taskSupport is not in every typed model).
        echo = next(t for t in tools if t.name == "everything_echo")
        assert echo.input_schema["properties"]["message"]["type"] == "string"

        r = await c.call_tool("everything_echo", {"message": "hi"})
        assert r.content[0].text == "Echo: hi", r
        r = await c.call_tool("local_get-sum", {"a": 2, "b": 3})
        assert "5" in r.content[0].text, r

        uri = "everything+demo://resource/static/document/architecture.md"
        res = await c.read_resource(uri)
        assert str(res.contents[0].uri) == uri and res.contents[0].text, res

        p = await c.get_prompt("local_args-prompt", {"city": "Paris"})
        assert "Paris" in p.messages[0].content.text, p

        for tool in ("everything_trigger-long-running-operation", "local_trigger-long-running-operation"):
            updates = []

            async def on_progress(progress, total, message, updates=updates):
                updates.append((progress, total))

            r = await c.call_tool(tool, {"duration": 0.3, "steps": 3}, progress_callback=on_progress)
            assert len(updates) == 3, (tool, updates)
            assert [u[0] for u in updates] == sorted(u[0] for u in updates), updates
            assert "completed" in r.content[0].text, r

        # Server→client requests: each upstream's sampling request reaches our callback through the gateway (ids
        # rewritten so both upstreams' `id: 0` cannot collide) and our answer goes back to the right upstream.
        for i, tool in enumerate(("everything_trigger-sampling-request", "local_trigger-sampling-request"), 1):
            assert tool in names, f"{tool} missing: the client's sampling capability must reach the upstream"
            r = await c.call_tool(tool, {"prompt": f"question {i}", "maxTokens": 5})
            assert f"sampled-{i}" in r.content[0].text, r
            assert f"question {i}" in sampled[-1], sampled

        # Same session, another replica.
        switched["on"] = True
        r = await c.call_tool("everything_echo", {"message": "via b"})
        assert r.content[0].text == "Echo: via b", r
        r = await c.call_tool("local_echo", {"message": "stdio via b"})
        assert r.content[0].text == "Echo: stdio via b", r
        assert switched["requests_to_b"] >= 2
    print("ok")


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else "legacy"))
