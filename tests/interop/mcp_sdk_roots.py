"""Interop: roots through gatehouse. The official MCP Python SDK (mcp 2.x, session era) offers `roots`; gatehouse passes
the capability to both server-everything upstreams (`everything` over Streamable HTTP, `local` as a stdio child), which
then ask the client for its roots outside any call — on the upstream's GET stream (HTTP) or its stdout (stdio).
gatehouse relays those `roots/list` requests on the client's GET stream with ids naming the upstream, and routes the
client's answers back; each upstream's `get-roots-list` tool then shows the client's roots.

Usage: mcp_sdk_roots.py GATEWAY_MCP_URL. Prints "ok" on success; any failed check raises.
"""

import asyncio
import sys

from mcp import Client, types


async def main(url: str) -> None:
    asked = []

    async def list_roots(context) -> types.ListRootsResult:
        asked.append(1)
        return types.ListRootsResult(
            roots=[types.Root(uri="file:///work/project-alpha", name="alpha"), types.Root(uri="file:///tmp/beta")]
        )

    async with Client(url, mode="legacy", list_roots_callback=list_roots) as c:
        names = {t.name for t in (await c.list_tools()).tools}
        for tool in ("everything_get-roots-list", "local_get-roots-list"):
            assert tool in names, f"{tool} missing: the client's roots capability must reach the upstream"
        for tool in ("everything_get-roots-list", "local_get-roots-list"):
            r = await asyncio.wait_for(c.call_tool(tool, {}), 30)
            text = r.content[0].text
            assert "file:///work/project-alpha" in text and "file:///tmp/beta" in text, (tool, text)
        assert len(asked) >= 2, asked
    print("ok")


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
