"""The roles keep the shape playbooks/README.md promises (knobs prefixed with the role's name,
plays named after their roles), and the common role's stackbox.yaml is a configuration the
services accept, for each kind of host."""
import os

import pytest
import yaml
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar
from playhouse import db_url

from undercloud.common import config as configuration

ROOT = os.path.join(os.path.dirname(__file__), "..", "..", "..")
ROLES = os.path.join(ROOT, "roles")
PLAYBOOK = os.path.join(ROOT, "playbooks", "overcloud.yml")


def _yaml(*parts):
    with open(os.path.join(ROLES, *parts)) as source:
        return yaml.safe_load(source) or {}


def _roles():
    return sorted(os.listdir(ROLES))


@pytest.mark.parametrize("role", _roles())
def test_every_knob_is_prefixed_with_its_role(role):
    defaults = _yaml(role, "defaults", "main.yml")

    assert defaults, f"roles/{role}/defaults/main.yml lists no knob"
    assert [knob for knob in defaults if not knob.startswith(f"{role}_")] == []


@pytest.mark.parametrize("role", _roles())
def test_tasks_main_routes_to_install_configure_and_service(role):
    steps = [task["ansible.builtin.import_tasks"] for task in
             yaml.safe_load(open(os.path.join(ROLES, role, "tasks", "main.yml")))]

    assert set(steps) <= {"install.yml", "configure.yml", "service.yml"}
    assert all(os.path.exists(os.path.join(ROLES, role, "tasks", step)) for step in steps)


def test_the_plays_are_named_after_their_roles_in_the_contract_order():
    plays = yaml.safe_load(open(PLAYBOOK))

    assert [(play["name"], play["hosts"], play["roles"]) for play in plays] == [
        ("common", "all", ["common"]), ("database", "control", ["database"]),
        ("bus", "control", ["bus"]), ("control", "control", ["control"]),
        ("network", "network", ["network"]), ("compute", "compute", ["compute"])]


def _stackbox_yaml(tmp_path, name, groups, extra=None):
    secrets = tmp_path / "secrets"
    secrets.mkdir(exist_ok=True)
    (secrets / "database-password").write_text("p@ss:word/1\n")
    variables = {**_yaml("common", "defaults", "main.yml"), **_yaml("common", "vars", "main.yml"),
                 "inventory_hostname": name, "group_names": groups,
                 "ansible_host": {"ctl": "10.0.0.10", "net": "10.0.0.11"}.get(name, "10.0.0.12"),
                 "stackbox_control_address": "10.0.0.10", "stackbox_secrets_dir": str(secrets),
                 "ansible_managed": "Ansible managed", **(extra or {})}
    template = open(os.path.join(ROLES, "common", "templates", "stackbox.yaml.j2")).read()
    path = tmp_path / f"{name}.yaml"
    path.write_text(Templar(loader=DataLoader(), variables=variables).template(template))
    return configuration.load(str(path), environ={})


def test_a_control_hosts_configuration_serves_the_apis_on_postgresql(tmp_path):
    config = _stackbox_yaml(tmp_path, "ctl", ["control"])

    assert config["bind"] == "10.0.0.10" and config.host == "10.0.0.10"
    assert config["services"] == ["identity", "image", "compute", "metadata", "network"]
    # Quoted in the URL, read back whole (without the file's newline), as the services do.
    database = db_url.parse(config["database"]["url"], unquote_password=True)
    assert database == {"database": "stackbox", "user": "stackbox", "password": "p@ss:word/1",
                        "host": "127.0.0.1", "port": 5432}
    assert config.bus_url == "tcp://10.0.0.10:9780" and config.curve_enabled is True


def test_a_network_host_runs_every_agent_mode_and_no_api(tmp_path):
    config = _stackbox_yaml(tmp_path, "net", ["network"])

    assert config["services"] == [] and config["database"]["url"] is None
    assert config["network"]["agent_modes"] == ["l2", "dhcp", "l3", "metadata"]
    assert config["network"]["host"] == "net" and config["network"]["tunnel_ip"] == "10.0.0.11"
    assert config.endpoint("metadata") == "http://10.0.0.10:8775"


def test_a_compute_host_runs_the_l2_agent_with_its_virt_type(tmp_path):
    config = _stackbox_yaml(tmp_path, "cmp", ["compute"], {"compute_virt_type": "qemu"})

    assert config["network"]["agent_modes"] == ["l2"]
    assert config["compute"]["host"] == "cmp" and config["compute"]["virt_type"] == "qemu"


def test_a_network_and_compute_host_runs_every_agent_mode(tmp_path):
    config = _stackbox_yaml(tmp_path, "cmp", ["compute", "network"])

    assert config["network"]["agent_modes"] == ["l2", "dhcp", "l3", "metadata"]
    assert config["compute"]["virt_type"] == "auto"
