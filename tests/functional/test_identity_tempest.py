"""The real tempest's identity interop tests pass against an identity-only undercloud."""
import pytest

from tests.fixtures import tempest

pytestmark = [pytest.mark.functional, pytest.mark.clients, pytest.mark.timeout(1200)]


def test_identity_interop_must_pass_tests_all_pass(start_undercloud, clients_venv):
    # Keystone-like security compliance matching tempest's [identity] user_* defaults.
    undercloud = start_undercloud(services=["identity"],
                                  extra={"identity": tempest.TEMPEST_COMPLIANCE})
    must_pass = tempest.interop_tests("identity")
    assert must_pass, f"no identity rows in {tempest.INTEROP_DIR / 'must_pass.txt'}"

    results = tempest.run(undercloud, clients_venv, include=tempest.include_regexes(must_pass))

    outcome = {name: results.status(name) for name in must_pass}
    not_passed = {name: status for name, status in outcome.items() if status != "success"}
    assert not not_passed and not results.failed, (
        "tempest identity interop tests did not all pass:\n"
        + "\n".join(f"  {status:8} {name}" for name, status in not_passed.items())
        + "\n" + results.report() + f"\nrun log: {results.run_log}")
