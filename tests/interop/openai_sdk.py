"""Drives gatehouse with the official OpenAI Python SDK.

Usage: openai_sdk.py BASE_URL MODEL
Exits non-zero (with a message) on the first failed expectation. The integration test
`interop::openai_python_sdk` runs it against gatehouse in front of vllm-sim replicas.
"""
import sys

import openai

base_url, model = sys.argv[1], sys.argv[2]
client = openai.OpenAI(base_url=base_url + "/v1", api_key="client-key-not-forwarded", max_retries=0)


def check(cond, msg):
    if not cond:
        print(f"FAIL: {msg}", file=sys.stderr)
        sys.exit(1)


# Non-streaming chat: a reply and a usage object.
r = client.chat.completions.create(model=model, messages=[{"role": "user", "content": "Say hello to the gateway"}], max_tokens=8)
check(r.choices[0].message.content, "chat reply has content")
check(r.usage is not None and r.usage.prompt_tokens > 0 and r.usage.completion_tokens > 0, f"chat usage present: {r.usage}")

# Streaming chat without include_usage: content arrives in chunks, and gatehouse adds the usage chunk.
chunks = list(client.chat.completions.create(model=model, messages=[{"role": "user", "content": "Stream please"}], max_tokens=8, stream=True))
text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
check(len(text) > 0, "streamed text")
check(chunks[-1].usage is not None and chunks[-1].usage.completion_tokens > 0, f"usage on the final chunk: {chunks[-1]}")

# Streaming with include_usage asked for explicitly.
chunks = list(client.chat.completions.create(model=model, messages=[{"role": "user", "content": "Again"}], max_tokens=4, stream=True, stream_options={"include_usage": True}))
check(chunks[-1].usage is not None, "usage when asked")

# Legacy completions.
c = client.completions.create(model=model, prompt="Once upon a time", max_tokens=5)
check(c.choices[0].text, "completion text")
check(c.usage.completion_tokens > 0, "completion usage")

# Embeddings.
e = client.embeddings.create(model=model, input=["first text", "second text"])
check(len(e.data) == 2 and len(e.data[0].embedding) > 0, "two embeddings")
check(e.usage.prompt_tokens > 0, f"embedding usage: {e.usage}")

# Models list: the configured model and its alias metadata.
ids = [m.id for m in client.models.list().data]
check(model in ids, f"{model} in models list {ids}")

# Unknown model: the SDK raises NotFoundError carrying our error code.
try:
    client.chat.completions.create(model="no-such-model", messages=[{"role": "user", "content": "x"}])
    check(False, "unknown model should fail")
except openai.NotFoundError as e:
    check(e.code == "model_not_found", f"error code {e.code}")

print("ok")
