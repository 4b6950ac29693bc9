"""The IPMI client's own logic: how pyghmi's errors are read, which are retried, and that
no message ever carries the password. (Real BMCs: tests/functional/test_baremetal_ipmi.py.)"""
import subprocess

import pytest

from undercloud.baremetal.drivers import ipmi, ipmi_call

PASSWORD = "s3cret-Pa55"


@pytest.mark.parametrize("message, kind", [
    ("Incorrect password provided", "auth"),
    ("Unauthorized name in RAKP2", "auth"),
    ("None", "unreachable"),
    ("timeout", "unreachable"),
    ("Session no longer connected", "unreachable"),
    ("Command not supported in present state", "refused"),
])
def test_pyghmi_errors_are_sorted_by_kind(message, kind):
    assert ipmi_call.kind_of(message) == kind


def _bmc():
    return ipmi.Bmc("127.0.0.1", 6230, "admin", PASSWORD, timeout=1, retries=2)


def test_a_silent_bmc_is_tried_retries_plus_one_times(monkeypatch):
    attempts = []
    monkeypatch.setattr(ipmi.Bmc, "_attempt", lambda self, action, args, extra: attempts.append(
        action) or {"error": "no answer within 1 s", "kind": "unreachable"})
    with pytest.raises(ipmi.IpmiError) as caught:
        _bmc().power_state()
    assert len(attempts) == 3 and caught.value.kind == "unreachable"
    assert str(caught.value) == ("the BMC at 127.0.0.1:6230 did not answer (no answer within "
                                 "1 s, 3 attempts)")


def test_rejected_credentials_are_not_tried_again(monkeypatch):
    attempts = []
    monkeypatch.setattr(ipmi.Bmc, "_attempt", lambda self, action, args, extra: attempts.append(
        action) or {"error": "Incorrect password provided", "kind": "auth"})
    with pytest.raises(ipmi.IpmiError, match="rejected the credentials of user 'admin'"):
        _bmc().power_state()
    assert len(attempts) == 1


def test_a_crashed_helper_never_shows_the_password(monkeypatch):
    def crashed(*args, **kwargs):
        return subprocess.CompletedProcess(args, 1, "", f"Traceback...\nValueError: {PASSWORD}")
    monkeypatch.setattr(subprocess, "run", crashed)
    with pytest.raises(ipmi.IpmiError) as caught:
        _bmc().power_state()
    assert PASSWORD not in str(caught.value) and "******" in str(caught.value)


def test_the_password_is_not_in_the_bmc_repr():
    assert PASSWORD not in repr(_bmc())


def test_unknown_targets_are_refused_before_any_call():
    with pytest.raises(ipmi.IpmiError, match="boot device 'floppy' is not one of"):
        _bmc().set_boot_device("floppy")
    with pytest.raises(ipmi.IpmiError, match="power target 'explode' is not one of"):
        _bmc().set_power("explode")
