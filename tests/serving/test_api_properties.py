"""Property-based runs of the live service's own OpenAPI schema (schemathesis): no input gives a 5xx.

Per operation: at least 200 generated requests (positive and negative). Stateful: the schema gets OpenAPI links
(a scored request is sent again, as a client retrying; /models between scorings), and schemathesis chains them.
"""

import copy

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from tests.serving.conftest import API_KEY

pytestmark = pytest.mark.slow
EXAMPLES = 200
HEADERS = {"x-api-key": API_KEY}
SETTINGS = settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None,
                    suppress_health_check=list(HealthCheck))


@pytest.fixture(scope="session")
def raw_schema(server):
    return httpx.get(server["url"] + "/docs.json", timeout=30).raise_for_status().json()


@pytest.fixture(scope="session")
def api_schema(raw_schema):
    return schemathesis.openapi.from_dict(raw_schema)


schema = schemathesis.pytest.from_fixture("api_schema").exclude(path="/reload")  # reloading is not input-driven


@schema.parametrize()
@SETTINGS
def test_no_input_makes_a_server_error(case, server):
    case.call_and_validate(base_url=server["url"], headers=HEADERS, checks=[not_a_server_error], timeout=60)


def with_links(raw: dict) -> dict:
    """The schema with OpenAPI links: each scoring call is followed by the same request again (a retry) or by
    /models, the way clients use the API."""
    linked = copy.deepcopy(raw)
    paths = linked["paths"]
    for route, operation in (("/score_deals", "score_deals"), ("/score_clients", "score_clients")):
        ok = paths[route]["post"]["responses"]["200"]
        body = {"deals" if "deals" in route else "clients": f"$request.body#/{route.split('_')[1]}",
                "as_of": "$request.body#/as_of"}
        ok["links"] = {
            "Retry": {"operationId": f"cvre-scoring__{operation}", "requestBody": body},
            "Models": {"operationId": "cvre-scoring__models"},
        }
    return linked


def test_stateful_sequences_make_no_server_error(raw_schema, server):
    machine = schemathesis.openapi.from_dict(with_links(raw_schema)).exclude(path="/reload").as_state_machine()

    class Client(machine):
        def get_call_kwargs(self, case):
            return {"base_url": server["url"], "headers": HEADERS, "timeout": 60}

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            case.validate_response(response, checks=[not_a_server_error], transport_kwargs=kwargs)

    Client.run(settings=settings(SETTINGS, max_examples=50, stateful_step_count=4))
