"""Property-based API testing: schemathesis drives the live app from its own OpenAPI schema."""

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from core.settings import get_settings
from tests.support.live_server import LiveServer
from tests.support.openai_server import FakeOpenAI

OUR_ROUTES = r"^/(api/v1/dream(/stream)?)?$"
API_KEY = "schemathesis-test-key"


@pytest.mark.filterwarnings("ignore::hypothesis.errors.HypothesisWarning")
def test_api_has_no_5xx_and_keeps_its_schema(
    fake_llm: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CODREAMER_MAX_NODES", "40")  # each valid example stays a quick dream
    monkeypatch.setenv("CODREAMER_API_KEY", API_KEY)
    get_settings.cache_clear()
    server = LiveServer().start()
    try:
        schema = schemathesis.openapi.from_url(f"{server.url}/openapi.json").include(
            path_regex=OUR_ROUTES
        )
        operations = [result.ok() for result in schema.get_all_operations()]
        for operation in operations:

            @given(case=operation.as_strategy())
            @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
            def check(case: schemathesis.Case) -> None:
                case.call_and_validate(
                    base_url=server.url,
                    headers={"Authorization": f"Bearer {API_KEY}"},
                    # K and G valid one by one can still exceed the node limit together, which
                    # JSON schema cannot say: that 422 (naming both fields) is expected.
                    excluded_checks=[positive_data_acceptance],
                )

            check()
    finally:
        server.stop()

    assert sorted(operation.label for operation in operations) == [
        "GET /",
        "POST /api/v1/dream",
        "POST /api/v1/dream/stream",
    ]
    assert fake_llm.stats.calls > 0
