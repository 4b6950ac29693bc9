"""The real tempest's image interop tests pass against an identity + image undercloud."""
import pytest

from tests.fixtures import tempest

pytestmark = [pytest.mark.functional, pytest.mark.clients, pytest.mark.timeout(1800)]

# ListUserImagesTest uploads random bytes as qcow2 and friends; it runs only when tempest is
# told the cloud does not check that data matches its disk_format (Stackbox does not).
IMAGE_FEATURES = {"image-feature-enabled": {"image_format_enforcement": "False"}}


def test_image_interop_must_pass_tests_all_pass(start_undercloud, clients_venv):
    undercloud = start_undercloud(services=["identity", "image"],
                                  extra={"identity": tempest.TEMPEST_COMPLIANCE})
    must_pass = tempest.interop_tests("image")
    assert len(must_pass) == 23, must_pass

    results = tempest.run(undercloud, clients_venv, include=tempest.include_regexes(must_pass),
                          available=("identity", "image"), overrides=IMAGE_FEATURES)

    outcome = {name: results.status(name) for name in must_pass}
    not_passed = {name: status for name, status in outcome.items() if status != "success"}
    assert not not_passed and not results.failed, (
        "tempest image interop tests did not all pass:\n"
        + "\n".join(f"  {status:8} {name}" for name, status in not_passed.items())
        + "\n" + results.report() + f"\nrun log: {results.run_log}")
