"""`stackbox overcloud status`: the last deploy (STATE_DIR/overcloud/deploy.json) and a live
look at the overcloud through its APIs, with its clouds.yaml: a token from identity, the
compute services and hypervisors, and the network agents, each up or down.

Exit status: 0 when the last deploy succeeded and everything answers and is up, 1 otherwise,
3 when nothing was deployed.
"""
import os

from undercloud.client.session import CloudError, Session
from undercloud.deploy import clouds, report
from undercloud.deploy.progress import duration_text

HEALTHY, UNHEALTHY, NOTHING_DEPLOYED = 0, 1, 3


def _columns(rows: list[tuple[str, ...]], indent: str = "  ") -> list[str]:
    widths = [max(len(row[column]) for row in rows) + 2 for column in range(len(rows[0]) - 1)]
    return [indent + "".join(cell.ljust(width) for cell, width in zip(row, widths)) + row[-1]
            for row in rows]


def _short(host: str) -> str:
    return host.split(".")[0]


def deploy_lines(deploy: dict) -> list[str]:
    lines = [f"Last deploy of {deploy['plan']}: {deploy['result']}, finished "
             f"{deploy['finished']}, took {duration_text(deploy['seconds'])}"]
    if deploy.get("error"):
        lines.append(f"  error: {deploy['error']}")
    lines += [""] + report.recap_table(deploy.get("recap") or {})
    hosts = deploy.get("hosts") or {}
    if hosts:
        lines += [""] + _columns([("HOST", "ADDRESS", "ROLES")] + [
            (name, host["address"], ",".join(host["roles"])) for name, host in hosts.items()],
            indent="")
    return lines


def live_lines(cloud: dict, compute_hosts: list[str]) -> tuple[list[str], bool]:
    """What the overcloud's APIs say, and whether all of it is up."""
    session = Session(cloud)
    try:
        session.login()
    except CloudError as exc:
        return [f"Identity: no token from {cloud['auth']['auth_url']}: {exc}"], False
    lines = [f"Identity: token issued by {cloud['auth']['auth_url']}"]
    healthy = True
    checks = (
        ("Compute services", "compute", "/os-services", "services",
         lambda row: (row["binary"], row["host"], row["state"], row["status"]),
         lambda row: row["state"] == "up"),
        ("Hypervisors", "compute", "/os-hypervisors", "hypervisors",
         lambda row: (row["hypervisor_hostname"], row["state"], row["status"]),
         lambda row: row["state"] == "up"),
        ("Network agents", "network", "/v2.0/agents", "agents",
         lambda row: (row["agent_type"], row["host"], "up" if row["alive"] else "down",
                      "enabled" if row["admin_state_up"] else "disabled"),
         lambda row: row["alive"]),
    )
    for title, service_type, path, key, shown, is_up in checks:
        try:
            rows = session.request(session.endpoint(service_type) + path)[key]
        except (CloudError, KeyError, TypeError) as exc:
            lines += ["", f"{title}: no answer: {exc}"]
            healthy = False
            continue
        lines += ["", f"{title}:"]
        lines += _columns([shown(row) for row in rows]) if rows else ["  none"]
        down = [row for row in rows if not is_up(row)]
        healthy = healthy and not down
        if key == "services":
            computes = {_short(row["host"]) for row in rows if row["binary"] == "nova-compute"}
            missing = [host for host in compute_hosts if _short(host) not in computes]
            if missing:
                lines.append(f"  missing: no nova-compute service on {', '.join(missing)}")
                healthy = False
    return lines, healthy


def status(state_dir: str, out) -> int:
    try:
        deploy = report.read_deploy(state_dir)
    except ValueError as exc:
        print(f"{os.path.join(state_dir, report.DEPLOY)} is not a deploy record: {exc}",
              file=out)
        return UNHEALTHY
    if deploy is None:
        print(f"No overcloud deployed (no {os.path.join(state_dir, report.DEPLOY)}): run "
              "stackbox overcloud deploy PLAN", file=out)
        return NOTHING_DEPLOYED
    for line in deploy_lines(deploy):
        print(line, file=out)
    print(file=out)
    cloud = clouds.read(state_dir)
    if cloud is None:
        print(f"No {clouds.clouds_path(state_dir)}: the deploy did not finish, so the "
              "overcloud's APIs cannot be checked", file=out)
        return UNHEALTHY
    lines, healthy = live_lines(cloud, (deploy.get("roles") or {}).get("compute", []))
    for line in lines:
        print(line, file=out)
    return HEALTHY if healthy and deploy["result"] == "succeeded" else UNHEALTHY
