"""Drives a translated provider target (Gemini, Bedrock, ...) with the official OpenAI Python SDK.

Usage: openai_sdk_providers.py BASE_URL MODEL
The integration test `interop::openai_python_sdk_to_gemini_and_bedrock` runs it once per provider, against
gatehouse in front of that provider's strict mock with replies queued in the order of the calls below:
  1. text "Hello from the provider"   2. stream "Streaming hello from the provider"   3. stream "Again here"
  4. tool call get_weather {"city": "Paris"} (streamed)   5. text "It is 18C and sunny in Paris."
  6. a 429 (rate limited)
Exits non-zero on the first failed expectation; otherwise prints one JSON line describing what the client saw,
with provider-specific ids and token counts abstracted, which the test compares across providers.
"""
import json
import sys

import openai

base_url, model = sys.argv[1], sys.argv[2]
client = openai.OpenAI(base_url=base_url + "/v1", api_key="client-key-not-forwarded", max_retries=0)
seen = {}


def check(cond, msg):
    if not cond:
        print(f"FAIL: {msg}", file=sys.stderr)
        sys.exit(1)


def usage_ok(u):
    return u is not None and u.total_tokens == u.prompt_tokens + u.completion_tokens and u.completion_tokens > 0


# 1. Create.
r = client.chat.completions.create(model=model, messages=[{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hello"}])
check(r.choices[0].message.content == "Hello from the provider", f"content: {r.choices[0].message.content!r}")
check(usage_ok(r.usage), f"usage {r.usage}")
seen["create"] = {"object": r.object, "model": r.model, "finish": r.choices[0].finish_reason,
                  "content": r.choices[0].message.content, "role": r.choices[0].message.role,
                  "cached_reported": r.usage.prompt_tokens_details is not None}

# 2. Stream without include_usage: several text chunks, one finish reason, the usage chunk anyway.
chunks = list(client.chat.completions.create(model=model, messages=[{"role": "user", "content": "Stream please"}], stream=True))
text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
check(sum(1 for c in chunks if c.choices and c.choices[0].delta.content) >= 2, "text in several chunks")
check(len({c.id for c in chunks}) == 1, "one id per stream")
seen["stream"] = {"text": text, "finish": [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason],
                  "first_role": chunks[0].choices[0].delta.role, "usage_last": chunks[-1].choices == [] and usage_ok(chunks[-1].usage)}

# 3. Stream with include_usage.
chunks = list(client.chat.completions.create(model=model, messages=[{"role": "user", "content": "Again"}], stream=True, stream_options={"include_usage": True}))
seen["stream_usage"] = {"usage_last": chunks[-1].choices == [] and usage_ok(chunks[-1].usage),
                        "others_null": all(c.usage is None for c in chunks[:-1])}

# 4. Tools round trip: a streamed tool call, the client's result, the model's answer.
tools = [{"type": "function", "function": {"name": "get_weather", "description": "Weather for a city",
          "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"], "additionalProperties": False}}}]
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
check(len(calls) == 1 and calls[0]["id"], f"one tool call with an id: {calls}")
call = calls[0]
messages.append({"role": "assistant", "content": None, "tool_calls": [
    {"id": call["id"], "type": "function", "function": {"name": call["name"], "arguments": call["args"]}}]})
messages.append({"role": "tool", "tool_call_id": call["id"], "content": "18C and sunny"})
r = client.chat.completions.create(model=model, messages=messages, tools=tools)
seen["tools"] = {"name": call["name"], "args": json.loads(call["args"]),
                 "finish": [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason],
                 "answer": r.choices[0].message.content, "answer_finish": r.choices[0].finish_reason}

# 5. Upstream rate limiting → the SDK's RateLimitError with our code.
try:
    client.chat.completions.create(model=model, messages=[{"role": "user", "content": "x"}])
    check(False, "429 expected")
except openai.RateLimitError as e:
    seen["rate_limited"] = {"status": e.status_code, "code": e.code}

# 6. A parameter the target cannot honour is refused by the gateway (never reaches the mock).
try:
    client.chat.completions.create(model=model, messages=[{"role": "user", "content": "x"}], n=2)
    check(False, "n=2 should be refused")
except openai.BadRequestError as e:
    seen["refused"] = {"status": e.status_code, "names_n": "`n`" in str(e.message)}

print(json.dumps(seen, sort_keys=True))
