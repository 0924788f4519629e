"""Drives gatehouse's OpenAI → Anthropic translation with the official OpenAI Python SDK.

Usage: openai_sdk_anthropic.py BASE_URL MODEL
The integration test `interop::openai_python_sdk_to_anthropic` runs it against gatehouse in front of the strict
Anthropic mock, with the mock's replies queued in the order of the calls below; the Rust side then checks what
the mock received. Exits non-zero (with a message) on the first failed expectation.
"""
import json
import sys

import openai

base_url, model = sys.argv[1], sys.argv[2]
client = openai.OpenAI(base_url=base_url + "/v1", api_key="client-key-not-forwarded", max_retries=0)


def check(cond, msg):
    if not cond:
        print(f"FAIL: {msg}", file=sys.stderr)
        sys.exit(1)


# 1. Create: text and a usage object that counts the cache (10 input + 3 cache write + 5 cache read).
r = client.chat.completions.create(model=model, messages=[{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hello"}])
check(r.choices[0].message.content == "Hello from Claude", f"content: {r.choices[0].message.content!r}")
check(r.choices[0].finish_reason == "stop", f"finish_reason {r.choices[0].finish_reason}")
check(r.usage.prompt_tokens == 18 and r.usage.completion_tokens == 7 and r.usage.total_tokens == 25, f"usage {r.usage}")
check(r.usage.prompt_tokens_details.cached_tokens == 5, f"cached tokens {r.usage.prompt_tokens_details}")
check(r.model == model, f"model reported {r.model}")

# 2. Stream without include_usage: text arrives in pieces, the usage chunk comes anyway.
chunks = list(client.chat.completions.create(model=model, messages=[{"role": "user", "content": "Stream please"}], stream=True))
text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
check(text == "Streaming hello from Claude", f"streamed text {text!r}")
check(sum(1 for c in chunks if c.choices and c.choices[0].delta.content) >= 2, "text in several chunks")
finish = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
check(finish == ["stop"], f"finish reasons {finish}")
check(chunks[-1].usage is not None and chunks[-1].usage.completion_tokens > 0, f"usage chunk last: {chunks[-1]}")

# 3. Stream with include_usage.
chunks = list(client.chat.completions.create(model=model, messages=[{"role": "user", "content": "Again"}], stream=True, stream_options={"include_usage": True}))
check(chunks[-1].usage is not None and chunks[-1].choices == [], f"usage chunk when asked: {chunks[-1]}")

# 4. Tools round trip: the model calls a tool (streamed), the client answers, the model replies.
tools = [{"type": "function", "function": {"name": "get_weather", "description": "Weather for a city",
          "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}]
messages = [{"role": "user", "content": "Weather in Paris?"}]
chunks = list(client.chat.completions.create(model=model, messages=messages, tools=tools, stream=True))
calls = {}
for c in chunks:
    if not c.choices:
        continue
    for tc in c.choices[0].delta.tool_calls or []:
        entry = calls.setdefault(tc.index, {"id": None, "name": None, "args": ""})
        entry["id"] = tc.id or entry["id"]
        if tc.function and tc.function.name:
            entry["name"] = tc.function.name
        if tc.function and tc.function.arguments:
            entry["args"] += tc.function.arguments
check(len(calls) == 1, f"one tool call: {calls}")
call = calls[0]
check(call["name"] == "get_weather" and json.loads(call["args"]) == {"city": "Paris"}, f"tool call {call}")
finish = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
check(finish == ["tool_calls"], f"tool finish reason {finish}")
messages.append({"role": "assistant", "content": None, "tool_calls": [
    {"id": call["id"], "type": "function", "function": {"name": "get_weather", "arguments": call["args"]}}]})
messages.append({"role": "tool", "tool_call_id": call["id"], "content": "18C and sunny"})
r = client.chat.completions.create(model=model, messages=messages, tools=tools)
check(r.choices[0].message.content == "It is 18C and sunny in Paris.", f"answer after tool: {r.choices[0].message}")

# 5. Image input (data URL → base64 source).
png = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
r = client.chat.completions.create(model=model, messages=[{"role": "user", "content": [
    {"type": "text", "text": "What is in this image?"},
    {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{png}"}}]}])
check(r.choices[0].message.content == "A single pixel.", f"image answer {r.choices[0].message.content!r}")

# 6. Structured output (json_schema → output_config.format).
schema = {"type": "object", "properties": {"answer": {"type": "string"}}, "required": ["answer"], "additionalProperties": False}
r = client.chat.completions.create(model=model, messages=[{"role": "user", "content": "Answer in JSON"}],
                                   response_format={"type": "json_schema", "json_schema": {"name": "reply", "schema": schema, "strict": True}})
check(json.loads(r.choices[0].message.content) == {"answer": "yes"}, f"json answer {r.choices[0].message.content!r}")

# 7. Upstream 429 → the SDK's RateLimitError with our code.
try:
    client.chat.completions.create(model=model, messages=[{"role": "user", "content": "x"}])
    check(False, "429 expected")
except openai.RateLimitError as e:
    check(e.status_code == 429 and e.code == "upstream_rate_limited", f"429: {e.status_code} {e.code}")

# 8. Upstream 529 → 503 InternalServerError with code upstream_overloaded.
try:
    client.chat.completions.create(model=model, messages=[{"role": "user", "content": "x"}])
    check(False, "503 expected")
except openai.InternalServerError as e:
    check(e.status_code == 503 and e.code == "upstream_overloaded", f"503: {e.status_code} {e.code}")

# 9. A parameter Anthropic cannot honour is refused by the gateway (never reaches the mock): BadRequestError.
try:
    client.chat.completions.create(model=model, messages=[{"role": "user", "content": "x"}], n=2)
    check(False, "n=2 should be refused")
except openai.BadRequestError as e:
    check(e.status_code == 400 and "n" in str(e.message), f"400 naming n: {e.message}")

print("ok")
