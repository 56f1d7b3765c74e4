"""Property-based run of the live service's own OpenAPI schema (schemathesis): no input gives a 5xx."""

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from tests.serving.conftest import API_KEY

pytestmark = pytest.mark.slow


@pytest.fixture(scope="session")
def api_schema(server):
    return schemathesis.openapi.from_url(server["url"] + "/docs.json", timeout=30)


schema = schemathesis.pytest.from_fixture("api_schema").exclude(path="/reload")  # reloading is not input-driven


@schema.parametrize()
@settings(max_examples=40, derandomize=True, deadline=None, database=None, suppress_health_check=list(HealthCheck))
def test_no_input_makes_a_server_error(case, server):
    case.call_and_validate(base_url=server["url"], headers={"x-api-key": API_KEY}, checks=[not_a_server_error],
                           timeout=60)
