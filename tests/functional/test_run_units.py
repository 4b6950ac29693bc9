"""One process per systemd unit, as an overcloud host runs them: `stackbox db sync`,
`stackbox run bus`, `stackbox run api SERVICE`, and `stackbox config check`."""
import signal
import subprocess

import pytest

from tests.fixtures.processes import wait_for
from tests.fixtures.undercloud import REPO, openstack_cli, stackbox, stackbox_argv, write_config
from undercloud.common import config as configuration
from undercloud.common import secrets
from undercloud.serve import clouds, health

pytestmark = [pytest.mark.functional, pytest.mark.clients, pytest.mark.timeout(180)]


@pytest.fixture
def host_config(tmp_path):
    path = write_config(tmp_path / "control", ["identity"], {"bus": {"curve": True}})
    return path, configuration.load(str(path), environ={})


def test_db_sync_says_what_it_changed_and_only_once(host_config):
    path, config = host_config
    refused = stackbox("db", "sync", "--config", str(path))
    assert refused.returncode == 1 and "admin-password is missing" in refused.stderr

    secrets.ensure_secrets(config)   # the deployer's copy, on a real host
    first = stackbox("db", "sync", "--config", str(path))
    second = stackbox("db", "sync", "--config", str(path))

    assert first.returncode == 0, first.stderr
    assert "migrated identity schema to version 1" in first.stdout
    assert second.returncode == 0 and second.stdout == "database up to date\n"


def test_units_serve_the_real_client(host_config, clients_venv, tmp_path):
    path, config = host_config
    secrets.ensure_secrets(config)
    assert stackbox("db", "sync", "--config", str(path)).returncode == 0
    units = [subprocess.Popen(stackbox_argv("run", *kind, "--config", str(path)),
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              cwd=str(REPO))
             for kind in (["bus"], ["api", "identity"])]
    try:
        wait_for(lambda: health.api_healthy(config, "identity")[0], 60)
        clouds_file = clouds.write(config, secrets.admin_password(config))
        openstack = openstack_cli(clients_venv, clouds_file, timeout=60)
        # A host's PATH: nothing of the checkout's venvs on it.
        token = openstack("token", "issue", env={"PATH": "/usr/bin:/bin"})
        assert token["project_id"]
        assert health.bus_healthy(config)[0]
    finally:
        for unit in units:
            unit.send_signal(signal.SIGTERM)
        codes = [unit.wait(20) for unit in units]
    assert codes == [0, 0]
    assert (tmp_path / "control" / "logs" / "identity-api.log").exists()


def test_config_check_names_the_wrong_key(tmp_path):
    good = write_config(tmp_path / "good", ["identity"])
    bad = tmp_path / "bad.yaml"
    bad.write_text("bus: {curve: sometimes}\n")

    assert stackbox("config", "check", str(good)).returncode == 0
    result = stackbox("config", "check", str(bad))
    assert result.returncode == 2
    assert "bus.curve: 'sometimes' is not one of" in result.stderr
