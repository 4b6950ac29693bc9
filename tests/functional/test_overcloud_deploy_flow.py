"""`deploy()` end to end with a real ansible-playbook, on a stand-in checkout whose
ansible.cfg runs every host locally (no containers, no SSH): the secrets, the repository
check against a real HTTP server, the inventory, the run with its progress, and what it
leaves behind. Building the package repository is `stackbox repo`'s work, tested there, so
`repo.ensure` is stood in for here."""
import functools
import http.server
import io
import json
import os
import stat
import sys
import threading

import pytest
import yaml

from tests.fixtures.ports import free_port
from undercloud.common import config as configuration
from undercloud.deploy import deploy as deployer
from undercloud.deploy import repo

pytestmark = pytest.mark.functional

PLAYBOOK = """\
- name: control
  hosts: control
  gather_facts: false
  tasks:
    - name: write the control address
      ansible.builtin.copy:
        content: "{{ stackbox_control_address }} {{ stackbox_repo_url }}\\n"
        dest: "{{ control_output }}/{{ inventory_hostname }}"
- name: compute
  hosts: compute
  gather_facts: false
  tasks:
    - name: write the virt type and whether the host has its bus key
      ansible.builtin.copy:
        content: "{{ compute_virt_type }} {{ lookup('file', stackbox_secrets_dir
                    + '/bus/hosts/' + inventory_hostname + '.key') | length > 0 }}\\n"
        dest: "{{ compute_output }}/{{ inventory_hostname }}"
    - name: start libvirt
      ansible.builtin.command: sh -c 'echo "libvirtd is not running" >&2; exit 1'
      when: compute_fail
"""


@pytest.fixture
def repository_port(tmp_path):
    """A real HTTP server answering /repo/python/stackbox.json, as the conductor's does."""
    root = tmp_path / "www"
    (root / "repo" / "python").mkdir(parents=True)
    (root / "repo" / "python" / "stackbox.json").write_text('{"wheel": "stackbox.whl"}')
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", free_port()),
        functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


@pytest.fixture
def checkout(tmp_path):
    folder = tmp_path / "checkout"
    (folder / "playbooks").mkdir(parents=True)
    (folder / "playbooks" / "overcloud.yml").write_text(PLAYBOOK)
    (folder / "playbooks" / "ansible.cfg").write_text(
        f"[defaults]\ntransport = local\ninterpreter_python = {sys.executable}\n")
    return str(folder)


@pytest.fixture
def ensured(monkeypatch):
    calls = []
    monkeypatch.setattr(repo, "ensure", lambda config, say=print, **_: calls.append(config))
    return calls


def _config(tmp_path, port):
    return configuration.load(environ={}, overrides={
        "data_dir": str(tmp_path / "data"),
        "baremetal": {"provisioning_address": "127.0.0.1/8", "http_port": port}})


def _deploy(tmp_path, config, checkout, fail=False, hosts=None):
    output = tmp_path / "hosts"
    output.mkdir(exist_ok=True)
    plan = {"name": "lab",
            "hosts": hosts or {"oc-ctl-0": {"address": "127.0.0.1", "roles": ["control"]},
                               "oc-cmp-0": {"address": "127.0.0.2", "roles": ["compute"]}},
            "settings": {"control": {"output": str(output)},
                         "compute": {"output": str(output), "virt_type": "qemu",
                                     "fail": fail}}}
    plan_path = tmp_path / "overcloud.yaml"
    plan_path.write_text(yaml.safe_dump(plan))
    out, err = io.StringIO(), io.StringIO()
    status = deployer.deploy(config, str(plan_path), str(tmp_path / "state"), out, err,
                             checkout=checkout)
    return status, out.getvalue(), err.getvalue()


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_a_deploy_runs_the_playbook_and_leaves_clouds_yaml_timing_and_the_record(
        tmp_path, checkout, ensured, repository_port):
    config = _config(tmp_path, repository_port)
    status, out, err = _deploy(tmp_path, config, checkout)
    assert (status, err) == (0, ""), out
    assert len(ensured) == 1
    state = tmp_path / "state" / "overcloud"
    repo_url = f"http://127.0.0.1:{repository_port}/repo"
    assert (tmp_path / "hosts" / "oc-ctl-0").read_text() == f"127.0.0.1 {repo_url}\n"
    assert (tmp_path / "hosts" / "oc-cmp-0").read_text() == "qemu True\n"
    password = (state / "secrets" / "admin-password").read_text().strip()
    assert (state / "admin-password").read_text() == password + "\n"
    assert password not in out
    clouds = yaml.safe_load((state / "clouds.yaml").read_text())["clouds"]["overcloud"]
    assert clouds["auth"]["auth_url"] == "http://127.0.0.1:5000/v3"
    assert (_mode(state / "clouds.yaml"), _mode(state / "admin-password")) == (0o600, 0o600)
    record = json.loads((state / "deploy.json").read_text())
    assert (record["plan"], record["result"], record["roles"]) == (
        "lab", "succeeded", {"control": ["oc-ctl-0"], "compute": ["oc-cmp-0"]})
    assert record["recap"]["oc-cmp-0"]["changed"] == 1
    timing = json.loads((state / "timing.json").read_text())
    assert [(row["host"], row["status"]) for row in timing] == [
        ("oc-ctl-0", "changed"), ("oc-cmp-0", "changed"), ("oc-cmp-0", "skipped")]
    assert (state / "last-plan.json").exists()
    lines = out.splitlines()
    assert lines[0].startswith("Deploying overcloud lab from ")
    assert f"Package repository: {repo_url} answers" in lines
    assert "Hosts: oc-cmp-0 (compute), oc-ctl-0 (control)" in lines
    assert "Slowest tasks:" in lines
    assert lines[-3].startswith("Overcloud lab deployed in ")
    assert lines[-2] == f"    export OS_CLIENT_CONFIG_FILE={state / 'clouds.yaml'}"

    # Again: the secrets are kept and nothing changes on the hosts.
    status, out, _ = _deploy(tmp_path, config, checkout)
    assert status == 0
    assert f"Secrets in {state / 'secrets'}: all kept from the last deploy" in out
    record = json.loads((state / "deploy.json").read_text())
    assert {host: counts["changed"] for host, counts in record["recap"].items()} == {
        "oc-ctl-0": 0, "oc-cmp-0": 0}
    assert (state / "secrets" / "admin-password").read_text().strip() == password


def test_a_failed_task_fails_the_deploy_with_its_message(tmp_path, checkout, ensured,
                                                         repository_port):
    status, out, _ = _deploy(tmp_path, _config(tmp_path, repository_port), checkout,
                             fail=True)
    assert status == 1
    assert "FAILED  compute  start libvirt on oc-cmp-0:\n    non-zero return code\n" \
           "    libvirtd is not running\n" in out
    assert out.splitlines()[-1].startswith("Overcloud lab: deploy FAILED after ")
    state = tmp_path / "state" / "overcloud"
    record = json.loads((state / "deploy.json").read_text())
    assert (record["result"], record["error"]) == ("failed", "1 task(s) failed")
    assert not (state / "clouds.yaml").exists()
    assert not (state / "last-plan.json").exists()


def test_no_repository_answering_fails_before_any_host_is_touched(tmp_path, checkout,
                                                                  ensured):
    status, out, err = _deploy(tmp_path, _config(tmp_path, free_port()), checkout)
    assert status == 1
    assert err.startswith("stackbox overcloud deploy: the package repository does not "
                          "answer at http://127.0.0.1:")
    assert "is `stackbox serve` running?" in err
    assert not (tmp_path / "state" / "overcloud" / "ansible.log").exists()
    assert not (tmp_path / "hosts" / "oc-ctl-0").exists()
