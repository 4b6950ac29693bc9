"""The deploy writes the inventory of playbooks/README.md from a plan: a group per role, the
hosts at their addresses, the shared variables, and settings as ROLE_KNOB group variables."""
import os
import stat

import yaml

from undercloud.deploy import inventory, roles
from undercloud.deploy import plan as plans

PLAN = """
name: lab
hosts:
  oc-net-0: {address: 10.89.0.11, roles: [network]}
  oc-cmp-1: {address: 10.89.0.13, roles: [compute, network]}
  oc-ctl-0: {address: 10.89.0.10, roles: [control]}
  oc-cmp-0: {address: 10.89.0.12, roles: [compute]}
ssh: {user: deployer, private_key: /keys/lab}
settings: {compute: {virt_type: qemu, packages: [qemu-system-x86]}}
"""


def _written(tmp_path, text=PLAN, extra_hosts=None):
    plan = plans.parse(text)
    hosts = {**plan.hosts, **(extra_hosts or {})}
    path = inventory.write(inventory.inventory_path(str(tmp_path)), plan, hosts,
                           "/state/overcloud/secrets", "http://192.168.24.1:8088/repo")
    return path, yaml.safe_load(open(path))


def test_deployed_servers_become_role_groups_with_the_shared_variables(tmp_path):
    path, document = _written(tmp_path)
    assert path == os.path.join(str(tmp_path), "overcloud", "inventory.yml")
    assert document == {"all": {
        "vars": {"stackbox_cloud_name": "lab",
                 "stackbox_repo_url": "http://192.168.24.1:8088/repo",
                 "stackbox_secrets_dir": "/state/overcloud/secrets",
                 "stackbox_control_address": "10.89.0.10",
                 "ansible_user": "deployer", "ansible_ssh_private_key_file": "/keys/lab"},
        "children": {
            "control": {"hosts": {"oc-ctl-0": {"ansible_host": "10.89.0.10"}}},
            "network": {"hosts": {"oc-cmp-1": {"ansible_host": "10.89.0.13"},
                                  "oc-net-0": {"ansible_host": "10.89.0.11"}}},
            "compute": {"hosts": {"oc-cmp-0": {"ansible_host": "10.89.0.12"},
                                  "oc-cmp-1": {"ansible_host": "10.89.0.13"}},
                        "vars": {"compute_virt_type": "qemu",
                                 "compute_packages": ["qemu-system-x86"]}},
        }}}
    # No secret in it: it only names the secrets' folder.
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o644


def test_roles_without_hosts_still_have_their_group_and_the_first_control_host_leads(
        tmp_path):
    text = """
hosts:
  oc-ctl-1: {address: 10.89.0.21, roles: [control]}
  oc-ctl-0: {address: 10.89.0.20, roles: [control]}
"""
    _, document = _written(tmp_path, text)
    assert document["all"]["vars"]["stackbox_control_address"] == "10.89.0.20"
    assert document["all"]["vars"]["ansible_user"] == "root"
    assert document["all"]["vars"]["ansible_ssh_private_key_file"] == "~/.ssh/id_ed25519"
    assert document["all"]["children"]["network"] == {"hosts": {}}
    assert list(document["all"]["children"]) == [
        role for role in roles.CATALOGUE if not roles.CATALOGUE[role].unavailable]


def test_provisioned_nodes_join_their_role_group(tmp_path):
    node = plans.Host("node-3", "192.168.24.30", ("compute",),
                      roles.services_for(("compute",)))
    _, document = _written(tmp_path, extra_hosts={"node-3": node})
    assert document["all"]["children"]["compute"]["hosts"]["node-3"] == {
        "ansible_host": "192.168.24.30"}


def test_known_hosts_from_the_plan_let_a_by_hand_run_check_host_keys():
    from undercloud.deploy import inventory
    from undercloud.deploy.plan import parse
    plan = parse("hosts: {c: {address: 10.0.0.2, roles: [control]}}\n"
                 "ssh: {known_hosts: /lab/ssh/known_hosts}\n")

    document = inventory.document(plan, plan.hosts, "/s", "http://r")

    assert document["all"]["vars"]["ansible_ssh_common_args"] == (
        "-o UserKnownHostsFile=/lab/ssh/known_hosts -o StrictHostKeyChecking=yes")


def test_provisioned_nodes_keys_are_checked_beside_the_plans_or_ssh_own_file():
    from undercloud.deploy import inventory
    from undercloud.deploy.plan import parse
    own = parse("hosts: {c: {address: 10.0.0.2, roles: [control]}}\n")
    lab = parse("hosts: {c: {address: 10.0.0.2, roles: [control]}}\n"
                "ssh: {known_hosts: /lab/ssh/known_hosts}\n")

    for plan, first in ((own, "~/.ssh/known_hosts"), (lab, "/lab/ssh/known_hosts")):
        document = inventory.document(plan, plan.hosts, "/s", "http://r", "/d/known_hosts")
        assert document["all"]["vars"]["ansible_ssh_common_args"] == (
            f'-o UserKnownHostsFile="{first} /d/known_hosts" -o StrictHostKeyChecking=yes')
