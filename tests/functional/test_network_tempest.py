"""The real tempest's network interop tests (the admin L3 ones included) pass against an
identity + network undercloud whose agent wires a bridge the test made for the public network."""
import pytest

from tests.fixtures import tempest

pytestmark = [pytest.mark.functional, pytest.mark.clients, pytest.mark.timeout(3600)]


@pytest.fixture
def external_bridge():
    with tempest.external_bridge() as bridge:
        yield bridge


def test_network_interop_must_pass_tests_all_pass(start_undercloud, clients_venv,
                                                  external_bridge):
    undercloud = start_undercloud(services=["identity", "network"], extra={
        "identity": tempest.TEMPEST_COMPLIANCE, **tempest.network_extra(external_bridge)})
    must_pass = tempest.interop_tests("network")
    assert len(must_pass) == 82, must_pass   # 16 of them admin-only L3 tests

    results = tempest.run(undercloud, clients_venv, include=tempest.include_regexes(must_pass),
                          available=("identity", "network"))

    outcome = {name: results.status(name) for name in must_pass}
    passed = [name for name, status in outcome.items() if status == "success"]
    print(f"network interop: {len(passed)} of {len(must_pass)} passed; {results.totals()}")
    not_passed = {name: status for name, status in outcome.items() if status != "success"}
    assert not not_passed and not results.failed, (
        f"tempest network interop tests: {len(passed)} of {len(must_pass)} passed:\n"
        + "\n".join(f"  {status:8} {name}" for name, status in not_passed.items())
        + "\n" + results.report() + f"\nrun log: {results.run_log}")
