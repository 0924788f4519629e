"""Interop: the official MCP Python SDK (mcp 2.x) as a stateless 2026-07-28 client with sampling and elicitation
callbacks, through gatehouse's /mcp, in front of two session-era server-everything upstreams (`everything` over
Streamable HTTP, `local` as a stdio child). The upstreams ask for sampling/elicitation with server→client requests;
gatehouse turns each into an `input_required` result, and the SDK's multi-round-trip driver answers it through the
callbacks and retries with `inputResponses` + `requestState`.

Usage: mcp_sdk_mrtr.py GATEWAY_MCP_URL. Prints "ok" on success; any failed check raises.
"""

import asyncio
import sys

import httpx2
from mcp import Client, types
from mcp.client.streamable_http import streamable_http_client


async def main(url: str) -> None:
    sampled = []
    elicited = []
    retries = {"n": 0}

    async def sampling(context, params: types.CreateMessageRequestParams) -> types.CreateMessageResult:
        sampled.append(params.messages[0].content.text)
        return types.CreateMessageResult(
            role="assistant",
            content=types.TextContent(type="text", text=f"sampled-{len(sampled)}"),
            model="sdk-model",
            stop_reason="endTurn",
        )

    async def elicitation(context, params: types.ElicitRequestParams) -> types.ElicitResult:
        elicited.append(params.message)
        return types.ElicitResult(action="accept", content={"name": "Grace"})

    async def count_retries(request: httpx2.Request) -> None:
        body = request.content.decode()
        if '"requestState"' in body:
            retries["n"] += 1

    http = httpx2.AsyncClient(event_hooks={"request": [count_retries]}, timeout=60)
    client = Client(
        streamable_http_client(url, http_client=http),
        mode="2026-07-28",
        sampling_callback=sampling,
        elicitation_callback=elicitation,
    )
    async with client as c:
        assert c.protocol_version == "2026-07-28", c.protocol_version
        names = {t.name for t in (await c.list_tools()).tools}
        for i, tool in enumerate(("everything_trigger-sampling-request", "local_trigger-sampling-request"), 1):
            assert tool in names, f"{tool} missing: the sampling capability must reach the upstream"
            r = await c.call_tool(tool, {"prompt": f"question {i}", "maxTokens": 5})
            text = "\n".join(b.text for b in r.content)
            assert f"sampled-{i}" in text and "sdk-model" in text, r
            assert f"question {i}" in sampled[-1], sampled
        r = await c.call_tool("everything_trigger-elicitation-request", {})
        text = "\n".join(b.text for b in r.content)
        assert "Name: Grace" in text, r
        assert len(elicited) == 1, elicited
    assert retries["n"] == 3, retries
    print("ok")


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
