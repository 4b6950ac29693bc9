"""The deploy makes the overcloud's secrets once, in the contract's layout (playbooks/README.md):
private folders and files, Fernet token keys, CurveZMQ pairs for the broker and each host; a
re-run keeps them all and a new host gets only its own pair."""
import os
import stat

import zmq.auth
from cryptography.fernet import Fernet

from undercloud.deploy import secrets

LAYOUT = ["admin-password", "bus/broker.key", "bus/broker.key_secret",
          "bus/hosts/oc-cmp-0.key", "bus/hosts/oc-cmp-0.key_secret",
          "bus/hosts/oc-ctl-0.key", "bus/hosts/oc-ctl-0.key_secret", "database-password",
          "encryption-key", "metadata-secret", "token-keys/0", "token-keys/1"]


def _files(directory) -> dict[str, bytes]:
    found = {}
    for root, _, names in os.walk(directory):
        for name in names:
            path = os.path.join(root, name)
            found[os.path.relpath(path, directory)] = open(path, "rb").read()
    return found


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_a_first_deploy_makes_every_secret_private(tmp_path):
    directory = secrets.secrets_dir(str(tmp_path))
    made = secrets.ensure(directory, ["oc-ctl-0", "oc-cmp-0"])
    assert sorted(_files(directory)) == LAYOUT
    assert made == ["admin-password", "database-password", "encryption-key",
                    "metadata-secret", "token-keys/0", "token-keys/1", "bus/broker.key",
                    "bus/hosts/oc-cmp-0.key", "bus/hosts/oc-ctl-0.key"]
    for root, _, names in os.walk(directory):
        assert _mode(root) == 0o700, root
        for name in names:
            assert _mode(os.path.join(root, name)) == 0o600, name
    for number in ("0", "1"):
        Fernet(open(os.path.join(directory, "token-keys", number), "rb").read())
    public, secret = zmq.auth.load_certificate(
        os.path.join(directory, "bus", "hosts", "oc-ctl-0.key_secret"))
    assert (public, len(secret)) == (
        zmq.auth.load_certificate(os.path.join(directory, "bus", "hosts", "oc-ctl-0.key"))[0],
        40)


def test_a_rerun_keeps_every_secret_and_a_new_host_gets_only_its_pair(tmp_path):
    directory = secrets.secrets_dir(str(tmp_path))
    secrets.ensure(directory, ["oc-ctl-0", "oc-cmp-0"])
    before = _files(directory)
    assert secrets.ensure(directory, ["oc-ctl-0", "oc-cmp-0"]) == []
    assert _files(directory) == before
    made = secrets.ensure(directory, ["oc-ctl-0", "oc-cmp-0", "oc-cmp-1"])
    after = _files(directory)
    assert made == ["bus/hosts/oc-cmp-1.key"]
    assert {name: value for name, value in after.items() if name in before} == before
    assert sorted(set(after) - set(before)) == ["bus/hosts/oc-cmp-1.key",
                                                "bus/hosts/oc-cmp-1.key_secret"]
    assert after["bus/hosts/oc-cmp-1.key"] != after["bus/hosts/oc-cmp-0.key"]
