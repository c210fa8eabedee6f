"""Property-based fuzzing of the API from its own OpenAPI document: no request gets a 5xx.

Each operation gets a bounded number of generated requests (valid and invalid bodies,
parameters and paths), sent with an admin key so every operation is reached.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from tests.service.server import Server, sqlite_target

EXAMPLES_PER_OPERATION = 25


@pytest.fixture(scope="module")
def fuzz_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    server = Server(sqlite_target(tmp_path_factory.mktemp("fuzz")))
    try:
        yield server
    finally:
        server.stop()


@pytest.mark.slow
def test_no_server_errors(fuzz_server: Server) -> None:
    schema = schemathesis.openapi.from_url(fuzz_server.url + "/openapi.json")
    headers = {"X-API-Key": fuzz_server.admin}
    failures: list[str] = []
    operations = 0
    calls = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1

        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, suppress_health_check=list(HealthCheck))
        def fuzz(case: schemathesis.Case) -> None:
            nonlocal calls
            calls += 1
            # Revoking the fuzzer's own key would turn the rest of the run into 401s.
            if case.path == "/v1/keys/{name}/revoke" and (case.path_parameters or {}).get("name") == "admin":
                return
            case.call_and_validate(base_url=fuzz_server.url, headers=headers, checks=[not_a_server_error])

        try:
            fuzz()
        except BaseException as exc:
            failures.append(f"{operation.label}: {exc}")
    assert operations >= 20
    assert calls >= operations * 10, "the fuzzer sent fewer requests than intended"
    assert not failures, "\n\n".join(failures)
