"""schemathesis against the service's own OpenAPI schema (bounded examples): no input gives a 5xx.

Driven through hypothesis directly (schemathesis' pytest plugin does not support pytest 9 yet), one test per
operation, against a real uvicorn with the fake provider as upstream.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings

from tests.api.conftest import proxy_settings
from tests.condenser.live_server import serve

schemathesis = pytest.importorskip("schemathesis")

OPERATIONS = [("/v1/compress", "POST"), ("/v1/compress/batch", "POST"), ("/v1/methods", "GET"),
              ("/v1/chat/completions", "POST"), ("/v1/messages", "POST"), ("/v1/models", "GET"),
              ("/healthz", "GET"), ("/readyz", "GET"), ("/metrics", "GET")]
EXAMPLES = 20


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
