"""Drives gatehouse's /v1/responses with the official OpenAI Python SDK.

Usage: openai_sdk_responses.py BASE_URL MODEL [chain]
`chain` also continues a stored response with previous_response_id (translated targets, where gatehouse keeps
the conversation). Exits non-zero (with a message) on the first failed expectation; prints "ok" at the end.
The integration tests `responses::interop::*` run it against gatehouse in front of vllm-sim and of the strict
Anthropic mock.
"""
import json
import sys

import openai

base_url, model = sys.argv[1], sys.argv[2]
chain = len(sys.argv) > 3 and sys.argv[3] == "chain"
client = openai.OpenAI(base_url=base_url + "/v1", api_key="sk-alice", max_retries=0)


def check(cond, msg):
    if not cond:
        print(f"FAIL: {msg}", file=sys.stderr)
        sys.exit(1)


def check_usage(u, what):
    check(u is not None, f"{what}: usage present")
    check(u.input_tokens > 0 and u.output_tokens > 0, f"{what}: token counts {u}")
    check(u.total_tokens == u.input_tokens + u.output_tokens, f"{what}: total {u}")


# Non-streaming: a message with text, a completed status and usage.
r = client.responses.create(model=model, instructions="Be brief.", input="Say hello to the gateway")
check(r.status == "completed", f"status {r.status}")
check(r.output_text, f"output_text present: {r}")
check_usage(r.usage, "create")

# Streaming through the SDK's event accumulator: deltas add up to the final response, which carries usage.
with client.responses.stream(model=model, input="Stream a greeting please") as stream:
    deltas = [e.delta for e in stream if e.type == "response.output_text.delta"]
    final = stream.get_final_response()
check(len(deltas) > 0, "text deltas streamed")
check("".join(deltas) == final.output_text, f"deltas {deltas!r} == final {final.output_text!r}")
check(final.status == "completed", f"final status {final.status}")
check_usage(final.usage, "stream")

# A function-tool round trip: the model calls get_weather, the client returns function_call_output.
tools = [{
    "type": "function",
    "name": "get_weather",
    "description": "The weather in a city",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
}]
question = [{"role": "user", "content": "What is the weather in Paris?"}]
r1 = client.responses.create(model=model, input=question, tools=tools, store=False)
calls = [o for o in r1.output if o.type == "function_call"]
check(len(calls) == 1 and calls[0].name == "get_weather", f"one get_weather call: {r1.output}")
check(isinstance(json.loads(calls[0].arguments), dict), f"arguments are a JSON object: {calls[0].arguments}")
check(calls[0].call_id, "call_id present")
follow = question + [calls[0], {"type": "function_call_output", "call_id": calls[0].call_id, "output": "18C and sunny"}]
r2 = client.responses.create(model=model, input=follow, tools=tools, store=False)
check(r2.output_text, f"answer after the tool output: {r2.output}")
check_usage(r2.usage, "tool round trip")

if chain:
    # A stored response continued by id: the gateway replays the earlier turn to the model.
    first = client.responses.create(model=model, input="Remember the number 7.")
    second = client.responses.create(model=model, input="Which number?", previous_response_id=first.id)
    check(second.output_text, f"continued answer: {second}")
    check(second.previous_response_id == first.id, f"previous_response_id echoed: {second.previous_response_id}")
    try:
        client.responses.create(model=model, input="x", previous_response_id="resp_does_not_exist")
        check(False, "an unknown previous_response_id must fail")
    except openai.NotFoundError as e:
        check(e.code == "previous_response_not_found", f"error code {e.code}")

print("ok")
