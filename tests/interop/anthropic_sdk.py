"""Drives gatehouse's `/v1/messages` with the official Anthropic Python SDK.

Usage: anthropic_sdk.py BASE_URL MODEL
Used by the integration tests `interop::anthropic_python_sdk_native` (gatehouse in front of the strict Anthropic
mock: native passthrough) and `interop::anthropic_python_sdk_translated` (gatehouse in front of vllm-sim:
Anthropic ⇄ OpenAI translation). The script only checks what any Anthropic backend must satisfy; each Rust test
checks what its upstream received. Exits non-zero (with a message) on the first failed expectation.
"""
import sys

import anthropic

base_url, model = sys.argv[1], sys.argv[2]
client = anthropic.Anthropic(base_url=base_url, api_key="client-key-not-forwarded", max_retries=0)


def check(cond, msg):
    if not cond:
        print(f"FAIL: {msg}", file=sys.stderr)
        sys.exit(1)


# 1. Create: a text reply with usage.
m = client.messages.create(model=model, max_tokens=32, system="Be brief.",
                           messages=[{"role": "user", "content": "Say hello to the gateway"}])
check(m.type == "message" and m.role == "assistant", f"message envelope {m}")
texts = [b.text for b in m.content if b.type == "text"]
check(texts and texts[0], f"text content {m.content}")
check(m.stop_reason in ("end_turn", "max_tokens"), f"stop_reason {m.stop_reason}")
check(m.usage.input_tokens > 0 and m.usage.output_tokens > 0, f"usage {m.usage}")

# 2. Stream: text deltas through the SDK's event parser (which needs `event:` lines), final message with usage.
with client.messages.stream(model=model, max_tokens=32, messages=[{"role": "user", "content": "Stream please"}]) as s:
    streamed = "".join(s.text_stream)
    final = s.get_final_message()
check(len(streamed) > 0, "streamed text")
check(final.content and final.content[0].type == "text" and final.content[0].text == streamed, f"final message {final}")
check(final.usage.output_tokens > 0, f"stream usage {final.usage}")

# 3. Tool use round trip (non-streamed), then the same first turn streamed.
tools = [{"name": "get_weather", "description": "Weather for a city",
          "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}]
msgs = [{"role": "user", "content": "What is the weather in Paris? Use the tool."}]
m = client.messages.create(model=model, max_tokens=64, tools=tools, tool_choice={"type": "any"}, messages=msgs)
uses = [b for b in m.content if b.type == "tool_use"]
check(len(uses) == 1 and uses[0].name == "get_weather" and isinstance(uses[0].input, dict) and "city" in uses[0].input,
      f"tool_use block {m.content}")
check(m.stop_reason == "tool_use", f"tool stop_reason {m.stop_reason}")
msgs += [{"role": "assistant", "content": [b.model_dump(exclude_none=True) for b in m.content]},
         {"role": "user", "content": [{"type": "tool_result", "tool_use_id": uses[0].id, "content": "18C and sunny"}]}]
m = client.messages.create(model=model, max_tokens=32, tools=tools, messages=msgs)
check(any(b.type == "text" and b.text for b in m.content), f"answer after the tool result {m.content}")

with client.messages.stream(model=model, max_tokens=64, tools=tools, tool_choice={"type": "any"},
                            messages=msgs[:1]) as s:
    final = s.get_final_message()
uses = [b for b in final.content if b.type == "tool_use"]
check(len(uses) == 1 and uses[0].name == "get_weather" and isinstance(uses[0].input, dict), f"streamed tool_use {final.content}")
check(final.stop_reason == "tool_use", f"streamed tool stop_reason {final.stop_reason}")

# 4. count_tokens.
n = client.messages.count_tokens(model=model, messages=[{"role": "user", "content": "How many tokens is this?"}])
check(n.input_tokens > 0, f"count_tokens {n}")

# 5. Errors in Anthropic's shape: unknown model → NotFoundError; a bad request → BadRequestError.
try:
    client.messages.create(model="no-such-model", max_tokens=8, messages=[{"role": "user", "content": "x"}])
    check(False, "unknown model should fail")
except anthropic.NotFoundError as e:
    check(e.status_code == 404 and e.body["error"]["type"] == "not_found_error", f"404 body {e.body}")

print("ok")
