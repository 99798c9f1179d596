"""Schemathesis against the served /openapi.json (loopback, bounded examples):
for schema-valid and schema-invalid requests alike, no 5xx and every status code,
content type and body as documented.

Schemathesis's pytest plugin (``from_fixture``) does not run under pytest 9, so each
operation's hypothesis strategy is driven here directly.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.conftest import serve_in_thread
from ui.server import build_server

pytestmark = pytest.mark.e2e

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
MAX_EXAMPLES = 30


@pytest.fixture(scope="module")
def api_url(fake_assistant) -> Iterator[str]:
    yield from serve_in_thread(build_server(fake_assistant, fake_assistant.settings))


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_api_matches_its_openapi_document(api_url, mode):
    schema = schemathesis.openapi.from_url(f"{api_url}/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {op.path for op in operations} >= {"/api/ask", "/api/health", "/v1/chat/completions"}
    checked: set[str] = set()
    for operation in operations:
        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(max_examples=MAX_EXAMPLES, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        def conforms(case) -> None:
            case.call_and_validate(base_url=api_url, checks=CHECKS, timeout=60)

        try:
            conforms()
        except Unsatisfiable:
            if mode is GenerationMode.NEGATIVE:  # nothing in this operation's request can be made invalid
                continue
            raise
        checked.add(operation.path)
    assert {"/api/ask", "/api/measures/{plan}/{number}", "/v1/chat/completions"} <= checked
