"""schemathesis against the service's own OpenAPI schema (bounded examples): no input gives a 5xx.

Driven through hypothesis directly (schemathesis' pytest plugin does not support pytest 9 yet), one test per
operation, against a real uvicorn with the fake provider as upstream. The JSON bodies are also sent with a
deeply nested value spliced in (up to 2,000 levels): past ``CONDENSER_MAX_JSON_DEPTH`` they get a 400.
"""

from __future__ import annotations

import json

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.api.conftest import proxy_settings
from tests.condenser.live_server import serve

schemathesis = pytest.importorskip("schemathesis")

OPERATIONS = [("/v1/compress", "POST"), ("/v1/compress/batch", "POST"), ("/v1/methods", "GET"),
              ("/v1/chat/completions", "POST"), ("/v1/messages", "POST"), ("/v1/models", "GET"),
              ("/healthz", "GET"), ("/readyz", "GET"), ("/metrics", "GET")]
EXAMPLES = 20
JSON_BODIES = [op for op in OPERATIONS if op[1] == "POST"]
SPLICE = "__deep__"


@pytest.fixture(scope="module")
def api_schema(upstream):
    from api.app import create_app

    with serve(create_app(proxy_settings(upstream[0], None, compress_timeout_s=120))) as url:
        yield schemathesis.openapi.from_url(f"{url}/openapi.json"), url


def test_the_schema_lists_every_operation(api_schema):
    schema, _ = api_schema
    listed = {(op.ok().path, op.ok().method.upper()) for op in schema.get_all_operations()}
    assert listed == set(OPERATIONS)


@pytest.mark.parametrize(("path", "method"), OPERATIONS)
def test_no_input_makes_a_server_error(api_schema, path, method):
    from schemathesis.checks import not_a_server_error

    schema, url = api_schema
    statuses = []

    @given(schema[path][method].as_strategy())
    @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    def run(case):
        response = case.call_and_validate(base_url=url, checks=[not_a_server_error], timeout=120)
        statuses.append(response.status_code)

    run()
    assert statuses and max(statuses) < 500


def nested(depth: int, kind: str) -> str:
    """A JSON value ``depth`` arrays or objects deep."""
    return "[" * depth + "]" * depth if kind == "array" else '{"a": ' * depth + "1" + "}" * depth


def spliced(body: object, where: str, pick: int) -> str:
    """``body`` as JSON text with the ``SPLICE`` marker in place of its ``pick``-th field's value, in an extra
    field, or beside the body in an array (``where``)."""
    if where == "root" or not isinstance(body, dict) or not body:
        return json.dumps([body, SPLICE])
    key = list(body)[pick % len(body)] if where == "field" else "x-extra"
    return json.dumps({**body, key: SPLICE})


@pytest.mark.parametrize(("path", "method"), JSON_BODIES)
def test_deeply_nested_bodies_are_a_400_never_a_server_error(api_schema, path, method):
    from api.limits import json_depth
    from api.settings import Settings

    schema, url = api_schema
    limit = Settings.model_fields["max_json_depth"].default
    statuses = []

    @given(schema[path][method].as_strategy(), st.integers(1, 2000), st.sampled_from(["array", "object"]),
           st.sampled_from(["field", "extra", "root"]), st.integers(0, 9))
    @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    def run(case, depth, kind, where, pick):
        text = spliced(case.body, where, pick).replace(f'"{SPLICE}"', nested(depth, kind))
        r = httpx.post(f"{url}{case.formatted_path}", content=text, timeout=120,
                       headers={**(case.headers or {}), "content-type": "application/json"})
        statuses.append(r.status_code)
        assert r.status_code < 500, r.text
        if json_depth(text.encode()) > limit:
            assert r.status_code == 400 and r.json()["error"]["param"] == "body", r.text

    run()
    assert statuses and max(statuses) < 500 and 400 in statuses
