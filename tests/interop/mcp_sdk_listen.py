"""Interop: the official MCP Python SDK (mcp 2.x) as a stateless 2026-07-28 client opening `subscriptions/listen`
through gatehouse's /mcp in front of a session-era server-everything (`everything`, Streamable HTTP): the SDK's
listen driver must accept gatehouse's acknowledgement (honoured subset) and receive the resource update that
server-everything sends for the subscribed URI once `toggle-subscriber-updates` is called.

Usage: mcp_sdk_listen.py GATEWAY_MCP_URL. Prints "ok" on success; any failed check raises.
"""

import asyncio
import sys

import anyio
from mcp import Client
from mcp.client.subscriptions import ResourceUpdated, ToolsListChanged

URI = "everything+demo://resource/static/document/architecture.md"


async def main(url: str) -> None:
    async with Client(url, mode="2026-07-28") as c:
        assert c.protocol_version == "2026-07-28", c.protocol_version
        async with c.listen(tools_list_changed=True, resource_subscriptions=[URI, "nobody+x://y"]) as sub:
            assert sub.honored.tools_list_changed is True, sub.honored
            assert sub.honored.resource_subscriptions == [URI], sub.honored
            await c.call_tool("everything_toggle-subscriber-updates", {})
            with anyio.fail_after(15):
                async for event in sub:
                    if isinstance(event, ToolsListChanged):
                        continue
                    assert isinstance(event, ResourceUpdated), event
                    assert event.uri == URI, event
                    break
    print("ok")


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
