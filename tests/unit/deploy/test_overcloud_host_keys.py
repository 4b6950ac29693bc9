"""The provisioned nodes' host keys: learned once when a node is deployed (its sshd makes
them at first boot), kept for nodes deployed earlier, and a node whose sshd never answers
stops the deploy naming it."""
import subprocess

import pytest

from undercloud.deploy import host_keys, node_config


class Scanner:
    """ssh-keyscan's answers per address; an address answers after `silent` scans."""

    def __init__(self, keys, silent=0):
        self.keys, self.silent, self.scanned = keys, silent, []

    def __call__(self, address):
        self.scanned.append(address)
        if self.scanned.count(address) <= self.silent:
            return []
        return [f"{address} ssh-ed25519 {self.keys[address]}"]


def _learn(tmp_path, monkeypatch, scanner, hosts, fresh, timeout=60):
    monkeypatch.setattr(host_keys, "scan", scanner)
    said = []
    path = host_keys.learn(str(tmp_path / "known_hosts"), hosts, fresh, said.append, timeout,
                           sleep=lambda seconds: None)
    return open(path).read().splitlines(), said


def test_fresh_nodes_are_scanned_until_sshd_answers_and_kept_nodes_keep_their_key(
        tmp_path, monkeypatch):
    hosts = {"node-a": "192.168.24.30", "node-b": "192.168.24.32"}
    lines, said = _learn(tmp_path, monkeypatch, Scanner({"192.168.24.30": "A1",
                                                         "192.168.24.32": "B1"}, silent=2),
                         hosts, {"node-a", "node-b"})
    assert lines == ["192.168.24.30 ssh-ed25519 A1", "192.168.24.32 ssh-ed25519 B1"]
    assert said == ["  node node-a: sshd answers at 192.168.24.30, host key recorded",
                    "  node node-b: sshd answers at 192.168.24.32, host key recorded"]

    # node-b is deployed again (a new key); node-a is kept and its recorded key stays.
    scanner = Scanner({"192.168.24.30": "A2", "192.168.24.32": "B2"})
    lines, _ = _learn(tmp_path, monkeypatch, scanner, hosts, {"node-b"})
    assert lines == ["192.168.24.30 ssh-ed25519 A1", "192.168.24.32 ssh-ed25519 B2"]
    assert scanner.scanned == ["192.168.24.32"]


def test_a_node_whose_sshd_never_answers_is_named(tmp_path, monkeypatch):
    moments = iter(range(0, 10000, 10))
    monkeypatch.setattr(host_keys, "scan", lambda address: [])
    with pytest.raises(host_keys.HostKeyError, match=r"^sshd did not answer within 1 min 00 s "
                       r"on node-a \(192.168.24.30\): look at the node's console"):
        host_keys.learn(str(tmp_path / "known_hosts"), {"node-a": "192.168.24.30"},
                        {"node-a"}, lambda line: None, 60, sleep=lambda seconds: None,
                        clock=lambda: next(moments))
    assert not (tmp_path / "known_hosts").exists()


def test_the_public_key_comes_from_the_pub_file_or_from_the_private_key(tmp_path):
    key = tmp_path / "id_ed25519"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "me", "-f",
                    str(key)], check=True)
    public = (tmp_path / "id_ed25519.pub").read_text().strip()
    assert node_config.public_key(str(key)) == public
    (tmp_path / "id_ed25519.pub").unlink()
    assert node_config.public_key(str(key)).split()[:2] == public.split()[:2]
    with pytest.raises(node_config.NodeConfigError, match="has no .*missing.pub and "
                       "ssh-keygen cannot read it"):
        node_config.public_key(str(tmp_path / "missing"))
