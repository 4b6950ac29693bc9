"""`stackbox overcloud deploy PLAN`: check the plan, make the secrets, provision bare-metal
nodes, make sure the package repository answers, write the inventory, run
playbooks/overcloud.yml with live progress, then keep the timing, the outcome, and the
overcloud's clouds.yaml and admin password in STATE_DIR/overcloud/.

`deploy` is the one entry point; it returns the exit status: 0 deployed, 1 failed, 2 a wrong
plan (nothing was touched), 130 interrupted.
"""
import os
import sys
import time
import urllib.error
import urllib.request

from undercloud.client import enroll
from undercloud.client import session as undercloud_api
from undercloud.deploy import (
    clouds,
    host_keys,
    inventory,
    node_config,
    progress,
    provision,
    report,
    run,
    secrets,
)
from undercloud.deploy import plan as plans

DEPLOYED, FAILED, BAD_PLAN, INTERRUPTED = 0, 1, 2, 130
REPO_CHECK_TIMEOUT = 10
REPO_SERVED_WITHIN = 20   # seconds: the conductor's tick (baremetal.heartbeat_interval) and more
# Bare-metal deploys are bounded by the conductor's own call-back timeout, plus this margin.
PROVISION_MARGIN_SECONDS = 600
# A deployed node boots from its disk before sshd answers (minutes under emulation).
SSH_WAIT_SECONDS = 900
LOG_TAIL_LINES = 15
ANSIBLE_LOG = os.path.join("overcloud", "ansible.log")
EVENTS = os.path.join("overcloud", "events.jsonl")


class DeployError(Exception):
    """A step before ansible-playbook cannot be done; the message names what and why."""


def playbooks_dir(checkout: str | None = None) -> str:
    from undercloud.deploy import repo
    return os.path.join(checkout or repo.default_checkout(), "playbooks")


def _check_repo(config, say) -> str:
    from undercloud.deploy import repo
    try:
        repo.ensure(config, say=say)
    except repo.RepoError as exc:
        raise DeployError(f"the package repository cannot be built: {exc}") from None
    url = repo.url(config)
    index = f"{url}/python/stackbox.json"
    # A repository built just now is served from the conductor's next tick.
    deadline = time.monotonic() + REPO_SERVED_WITHIN
    while True:
        try:
            with urllib.request.urlopen(index, timeout=REPO_CHECK_TIMEOUT) as response:
                response.read()
            return url
        except (urllib.error.URLError, OSError) as exc:
            if time.monotonic() >= deadline:
                raise DeployError(f"the package repository does not answer at {index} ({exc}): "
                                  "is `stackbox serve` running? (its bare-metal conductor "
                                  f"serves {config.path('repo')} on {url})") from None
        time.sleep(1)


def _baremetal_hosts(config, plan, state_dir: str, say) -> dict[str, plans.Host]:
    """Provision the plan's bare-metal roles and learn the nodes' SSH host keys."""
    try:
        key = node_config.public_key(plan.ssh.private_key)
        session = undercloud_api.Session(undercloud_api.find_cloud(plan.baremetal.cloud,
                                                                   config["data_dir"]))
        api = enroll.Baremetal(session)
        found, fresh = provision.provision(
            api, session, plan.baremetal, config["baremetal"]["provisioning_address"],
            {host.address for host in plan.hosts.values()}, key, say,
            config["baremetal"]["deploy_callback_timeout"] + PROVISION_MARGIN_SECONDS)
        host_keys.learn(host_keys.known_hosts_path(state_dir),
                        {name: host.address for name, host in found.items()}, fresh, say,
                        SSH_WAIT_SECONDS)
    except (undercloud_api.CloudError, provision.ProvisionError, node_config.NodeConfigError,
            host_keys.HostKeyError) as exc:
        raise DeployError(f"bare metal: {exc}") from None
    for name, host in found.items():
        if name in plan.hosts:
            raise DeployError(f"bare-metal node {name} has the name of the plan's host "
                              f"{name}: rename the node or the host")
        if host.address in {other.address for other in plan.hosts.values()}:
            raise DeployError(f"bare-metal node {name}'s ctlplane address {host.address} is "
                              "a plan host's address too")
    return found


def _hosts_line(hosts: dict[str, plans.Host]) -> str:
    return ", ".join(f"{host.name} ({','.join(host.roles)})"
                     for host in inventory.ordered_hosts(hosts))


def _log_tail(path: str) -> list[str]:
    try:
        with open(path, errors="replace") as log:
            return log.read().rstrip().splitlines()[-LOG_TAIL_LINES:]
    except OSError:
        return []


def _prepare(config, plan, state_dir: str, say) -> tuple[dict, str, str]:
    """Everything before ansible-playbook: (hosts, inventory path, secrets directory)."""
    secrets_dir = secrets.secrets_dir(state_dir)
    made = secrets.ensure(secrets_dir, plan.hosts)
    hosts = dict(plan.hosts)
    known_hosts = None
    if plan.baremetal:
        hosts.update(_baremetal_hosts(config, plan, state_dir, say))
        known_hosts = host_keys.known_hosts_path(state_dir)
        made += secrets.ensure(secrets_dir, hosts)
    say(f"Secrets in {secrets_dir}: " + (f"made {', '.join(made)}" if made else
                                         "all kept from the last deploy"))
    repo_url = _check_repo(config, say)
    say(f"Package repository: {repo_url} answers")
    path = inventory.write(inventory.inventory_path(state_dir), plan, hosts, secrets_dir,
                           repo_url, known_hosts)
    say(f"Inventory: {path}")
    return hosts, path, secrets_dir


def deploy(config, plan_path: str, state_dir: str, out, err=None,
           checkout: str | None = None) -> int:
    """Deploy the plan at `plan_path`, printing progress to `out`; returns the exit status.
    `checkout` is where playbooks/ and roles/ are (default: this source tree)."""
    err = err or sys.stderr

    def say(line: str) -> None:
        print(line, file=out, flush=True)

    try:
        plan = plans.read(plan_path)
    except plans.PlanError as exc:
        print(f"stackbox overcloud deploy: {exc}", file=err)
        return BAD_PLAN
    started = time.time()
    say(f"Deploying overcloud {plan.name} from {plan_path}")
    try:
        hosts, inventory_path, secrets_dir = _prepare(config, plan, state_dir, say)
    except DeployError as exc:
        print(f"stackbox overcloud deploy: {exc}", file=err)
        return FAILED
    say(f"Hosts: {_hosts_line(hosts)}")
    playbooks = playbooks_dir(checkout)
    log_path = os.path.join(state_dir, ANSIBLE_LOG)
    say(f"Running {os.path.join(playbooks, 'overcloud.yml')} (ansible-playbook's output: "
        f"{log_path})")
    shown = progress.Progress(out)
    record = report.Record()

    def on_event(event: dict) -> None:
        record.event(event)
        shown.event(event)

    ansible_config = os.path.join(playbooks, "ansible.cfg")
    error = ""
    try:
        status = run.run(inventory_path, os.path.join(playbooks, "overcloud.yml"), log_path,
                         os.path.join(state_dir, EVENTS), on_event,
                         ansible_config if os.path.exists(ansible_config) else None)
    except KeyboardInterrupt:
        status, error = INTERRUPTED, "interrupted"
    except OSError as exc:
        status, error = FAILED, f"cannot run ansible-playbook: {exc}"
    finally:
        shown.close()
    finished = time.time()
    succeeded = status == 0
    if not succeeded and not error:
        error = (f"{len(shown.failures)} task(s) failed" if shown.failures else
                 f"ansible-playbook exited with status {status}")
    report.write_timing(state_dir, record.rows)
    report.write_deploy(state_dir, plan.name, started, finished, succeeded, record.recap,
                        inventory.ordered_hosts(hosts), error)
    if record.rows:
        say("")
        say("Slowest tasks:")
        for line in report.slowest(record.rows):
            say(line)
    say("")
    for line in report.recap_table(record.recap):
        say(line)
    say("")
    took = progress.duration_text(finished - started)
    if not succeeded:
        for failure in shown.failures:
            message = (failure.get("message") or "").splitlines()
            say(f"Failed: {failure['play']}  {progress.task_text(failure)} on "
                f"{failure['host']}: {message[-1] if message else ''}")
        if not shown.failures and error != "interrupted":
            say(f"The end of {log_path}:")
            for line in _log_tail(log_path):
                say(f"    {line}")
        say(f"Overcloud {plan.name}: deploy FAILED after {took}: {error} (the full output is "
            f"in {log_path})")
        return INTERRUPTED if error == "interrupted" else FAILED
    plans.save_last(plan, state_dir)
    clouds_path, _ = clouds.write(state_dir, inventory.control_address(hosts),
                                  secrets.admin_password(secrets_dir))
    say(f"Overcloud {plan.name} deployed in {took}. Use it with:")
    say(f"    export OS_CLIENT_CONFIG_FILE={clouds_path}")
    say("    openstack --os-cloud overcloud compute service list")
    return DEPLOYED
