"""`stackbox overcloud status` checks a live cloud through its APIs with the deploy's
clouds.yaml: a token, the compute services, hypervisors and network agents up. A real
`stackbox serve` stands in for the overcloud's control host (libvirt's test driver is its
hypervisor), reached through an `overcloud` cloud written as the deploy writes it."""
import subprocess
import time

import pytest
import yaml

from tests.fixtures.undercloud import stackbox_argv, start
from undercloud.deploy import plan as plans, report

pytestmark = pytest.mark.functional

HOST = "oc-cmp-0"


@pytest.fixture(scope="module")
def stand_in(tmp_path_factory):
    serve = start(tmp_path_factory.mktemp("overcloud-status"),
                  ["identity", "image", "compute", "network"], {
                      "compute": {"virt_uri": "test:///default", "host": HOST,
                                  "report_interval": 1},
                      "network": {"host": HOST, "agent_modes": ["l2"], "report_interval": 1}})
    yield serve
    serve.stop()


def _state(tmp_path, serve, compute_hosts, succeeded=True):
    """A deploy record and clouds.yaml as `stackbox overcloud deploy` leaves them."""
    stackbox = yaml.safe_load(serve.clouds_yaml.read_text())["clouds"]["stackbox"]
    (tmp_path / "overcloud").mkdir(parents=True, exist_ok=True)
    (tmp_path / "overcloud" / "clouds.yaml").write_text(
        yaml.safe_dump({"clouds": {"overcloud": stackbox}}))
    hosts = {"oc-ctl-0": {"address": "127.0.0.1", "roles": ["control"]}}
    hosts.update({name: {"address": f"127.0.0.{number + 2}", "roles": ["compute"]}
                  for number, name in enumerate(compute_hosts)})
    plan = plans.parse(yaml.safe_dump({"hosts": hosts}))
    report.write_deploy(str(tmp_path), plan.name, 1000.0, 1100.0, succeeded, {},
                        list(plan.hosts.values()))


def _status(tmp_path):
    result = subprocess.run(stackbox_argv("overcloud", "status", "--state-dir", str(tmp_path)),
                            capture_output=True, text=True, timeout=120)
    return result.returncode, result.stdout


def _until_healthy(tmp_path, timeout=60):
    deadline = time.monotonic() + timeout
    while True:
        status, out = _status(tmp_path)
        if status == 0 or time.monotonic() > deadline:
            return status, out
        time.sleep(1)


def test_a_healthy_overcloud_shows_every_service_up(tmp_path, stand_in):
    _state(tmp_path, stand_in, [HOST])
    status, out = _until_healthy(tmp_path)
    assert status == 0, out
    lines = out.splitlines()
    assert lines[0].startswith("Last deploy of overcloud: succeeded, finished ")
    assert f"Identity: token issued by {stand_in.endpoint('identity')}/v3" in lines
    compute = lines.index("Compute services:")
    assert any(line.split() == ["nova-compute", HOST, "up", "enabled"]
               for line in lines[compute:])
    assert any(line.split() == [HOST, "up", "enabled"]
               for line in lines[lines.index("Hypervisors:"):])
    assert any(line.split()[-3:] == [HOST, "up", "enabled"]
               for line in lines[lines.index("Network agents:"):])
    assert (stand_in.data_dir / "secrets" / "admin-password").read_text().strip() not in out


def test_a_compute_host_without_its_service_or_a_failed_deploy_is_unhealthy(tmp_path,
                                                                           stand_in):
    _state(tmp_path, stand_in, [HOST, "oc-cmp-1"])
    status, out = _status(tmp_path)
    assert status == 1
    assert "  missing: no nova-compute service on oc-cmp-1" in out.splitlines()
    _state(tmp_path, stand_in, [HOST], succeeded=False)
    status, out = _until_healthy(tmp_path, timeout=0)
    assert status == 1
    assert out.startswith("Last deploy of overcloud: failed, ")


def test_an_overcloud_that_does_not_answer_is_unhealthy(tmp_path, stand_in):
    _state(tmp_path, stand_in, [HOST])
    clouds = tmp_path / "overcloud" / "clouds.yaml"
    document = yaml.safe_load(clouds.read_text())
    document["clouds"]["overcloud"]["auth"]["auth_url"] = "http://127.0.0.1:9/v3"
    clouds.write_text(yaml.safe_dump(document))
    status, out = _status(tmp_path)
    assert status == 1
    assert "Identity: no token from http://127.0.0.1:9/v3: POST http://127.0.0.1:9/v3/" \
           "auth/tokens: cannot reach the cloud" in out
