"""Validates what gatehouse-llm's Responses translation writes against the official openai SDK's own models.

Usage: python responses_shapes.py <gatehouse-llm crate dir>

- every event of every stream snapshot (src/responses/stream/snapshots/*.snap) parses as the SDK's
  `ResponseStreamEvent` union, and `client.responses.stream(...)` accumulates each stream (its final response for
  completed ones);
- every expected Responses object of the response fixtures (tests/fixtures/responses/response/*.json) validates as
  the SDK's `Response`, and `client.responses.create(...)` returns it;
- every request fixture body (tests/fixtures/responses/request/*.json) validates as the SDK's create params.
Prints "ok" and exits 0, or prints each violation and exits 1.
"""

import glob
import json
import sys

import httpx2 as httpx
from openai import OpenAI
from openai.types.responses import Response, ResponseStreamEvent
from openai.types.responses.response_create_params import ResponseCreateParamsNonStreaming
from pydantic import TypeAdapter

crate = sys.argv[1]
errors = []


def client(body: bytes, content_type: str) -> OpenAI:
    def handler(request):
        return httpx.Response(200, headers={"content-type": content_type}, content=body)

    return OpenAI(api_key="x", base_url="http://gatehouse.test/v1", http_client=httpx.Client(transport=httpx.MockTransport(handler)))


events = TypeAdapter(ResponseStreamEvent)
snaps = sorted(glob.glob(f"{crate}/src/responses/stream/snapshots/*.snap"))
for path in snaps:
    name = path.rsplit("__", 1)[-1]
    body = open(path, encoding="utf-8").read().split("\n---\n", 1)[1].split("\n", 1)[1].rstrip("\n") + "\n\n"
    for frame in body.strip().split("\n\n"):
        data = json.loads(frame.split("\ndata: ", 1)[1])
        try:
            events.validate_python(data)
        except Exception as e:  # noqa: BLE001 - report every violation
            errors.append(f"{name} {data.get('type')}: {e}")
    with client(body.encode(), "text/event-stream").responses.stream(model="m", input="hi") as stream:
        kinds = [ev.type for ev in stream]
        if kinds and kinds[-1] == "response.completed":
            final = stream.get_final_response()
            if final.status != "completed":
                errors.append(f"{name}: final status {final.status}")

for path in sorted(glob.glob(f"{crate}/tests/fixtures/responses/response/*.json")):
    obj = json.load(open(path, encoding="utf-8"))["responses"]
    try:
        Response.model_validate(obj)
    except Exception as e:  # noqa: BLE001
        errors.append(f"{path}: {e}")
    got = client(json.dumps(obj).encode(), "application/json").responses.create(model="m", input="hi")
    if got.id != obj["id"] or len(got.output) != len(obj["output"]):
        errors.append(f"{path}: SDK read {got.id} with {len(got.output)} items")

params = TypeAdapter(ResponseCreateParamsNonStreaming)
for path in sorted(glob.glob(f"{crate}/tests/fixtures/responses/request/*.json")):
    body = json.load(open(path, encoding="utf-8"))["responses"]
    body.pop("stream", None)
    try:
        params.validate_python(body)
    except Exception as e:  # noqa: BLE001
        errors.append(f"{path}: {e}")

if not snaps:
    errors.append("no stream snapshots found")
for e in errors:
    print(e)
if errors:
    sys.exit(1)
print("ok")
