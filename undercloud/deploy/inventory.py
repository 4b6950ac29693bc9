"""STATE_DIR/overcloud/inventory.yml: the static YAML inventory the deploy runs
playbooks/overcloud.yml with, in the format of playbooks/README.md ("The inventory").

Groups are the roles, each host under its roles' groups with ansible_host; a plan's
`settings: {ROLE: {KNOB: VALUE}}` becomes the group variable ROLE_KNOB. It holds no secret
(it names the secrets directory), so it is written 0644.
"""
import os

import yaml

from undercloud.common.files import write_atomic
from undercloud.deploy import roles as catalogue
from undercloud.deploy.plan import Host, Plan

INVENTORY = os.path.join("overcloud", "inventory.yml")


def inventory_path(state_dir: str) -> str:
    return os.path.join(state_dir, INVENTORY)


def ordered_hosts(hosts: dict[str, Host]) -> list[Host]:
    """By name, so the first control host (the one that runs `db sync`) does not change
    when the plan file lists hosts in another order."""
    return [hosts[name] for name in sorted(hosts)]


def control_address(hosts: dict[str, Host]) -> str:
    return next(host.address for host in ordered_hosts(hosts) if "control" in host.roles)


def document(plan: Plan, hosts: dict[str, Host], secrets_dir: str, repo_url: str,
             nodes_known_hosts: str | None = None) -> dict:
    """The inventory as a mapping; `hosts` are the plan's and the provisioned nodes',
    `nodes_known_hosts` the file of the provisioned nodes' host keys."""
    children = {}
    for role in catalogue.CATALOGUE.values():
        if role.unavailable:
            continue
        # Every role's group is written, even empty, so the playbook's plays always match.
        group = {"hosts": {host.name: {"ansible_host": host.address}
                           for host in ordered_hosts(hosts) if role.name in host.roles}}
        knobs = plan.settings.get(role.name) or {}
        if knobs:
            group["vars"] = {f"{role.name}_{knob}": value for knob, value in knobs.items()}
        children[role.name] = group
    connection = {"ansible_user": plan.ssh.user,
                  "ansible_ssh_private_key_file": plan.ssh.private_key}
    if plan.ssh.known_hosts or nodes_known_hosts:
        # Checked against the given keys, so a by-hand run needs no ansible.cfg to connect;
        # the provisioned nodes' keys come on top of the plan's file (else ssh's own).
        files = [plan.ssh.known_hosts or "~/.ssh/known_hosts", nodes_known_hosts]
        listed = " ".join(path for path in files if path)
        listed = f'"{listed}"' if " " in listed else listed
        connection["ansible_ssh_common_args"] = (
            f"-o UserKnownHostsFile={listed} -o StrictHostKeyChecking=yes")
    return {"all": {
        "vars": {
            "stackbox_cloud_name": plan.name,
            "stackbox_repo_url": repo_url,
            "stackbox_secrets_dir": secrets_dir,
            "stackbox_control_address": control_address(hosts),
            **connection,
        },
        "children": children,
    }}


def write(path: str, plan: Plan, hosts: dict[str, Host], secrets_dir: str,
          repo_url: str, nodes_known_hosts: str | None = None) -> str:
    text = yaml.safe_dump(document(plan, hosts, secrets_dir, repo_url, nodes_known_hosts),
                          sort_keys=False)
    write_atomic(path, "# Written by `stackbox overcloud deploy`; run by hand with\n"
                       f"#   ansible-playbook -i {path} playbooks/overcloud.yml\n" + text)
    return path
