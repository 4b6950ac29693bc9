"""What a deploy leaves behind in STATE_DIR/overcloud/: timing.json (every task on every
host), deploy.json (the last deploy's outcome, for `stackbox overcloud status`), and the
tables printed at the end: the slowest tasks and the PLAY RECAP."""
import json
import os
import time

from undercloud.common.files import read_if_exists, write_atomic
from undercloud.deploy.progress import duration_text, task_text

TIMING = os.path.join("overcloud", "timing.json")
DEPLOY = os.path.join("overcloud", "deploy.json")
RECAP_COLUMNS = ("ok", "changed", "failed", "unreachable", "skipped")
SLOWEST = 10


class Record:
    """Collects the run's events: one timing row per task and host, and the recap."""

    def __init__(self):
        self.rows: list[dict] = []
        self.recap: dict[str, dict] = {}

    def event(self, event: dict) -> None:
        if event.get("event") == "host_result":
            self.rows.append({key: event[key] for key in
                              ("play", "role", "task", "host", "status", "seconds")})
            if event.get("ignored"):
                self.rows[-1]["ignored"] = True
        elif event.get("event") == "stats":
            self.recap = event["recap"]


def write_timing(state_dir: str, rows: list[dict]) -> str:
    path = os.path.join(state_dir, TIMING)
    write_atomic(path, json.dumps(rows, indent=1) + "\n")
    return path


def slowest(rows: list[dict], count: int = SLOWEST) -> list[str]:
    """The slowest task runs, one line each: seconds, play, task, host."""
    ranked = sorted(rows, key=lambda row: row["seconds"], reverse=True)[:count]
    return [f"{duration_text(row['seconds']):>10}  {row['play']}  {task_text(row)}  "
            f"({row['host']})" for row in ranked]


def recap_table(recap: dict[str, dict]) -> list[str]:
    """Ansible's PLAY RECAP as a table: a host per line, a column per count."""
    if not recap:
        return ["(no recap: ansible-playbook ended before its summary)"]
    width = max(len("HOST"), *(len(host) for host in recap)) + 2
    lines = ["HOST".ljust(width) + "".join(f"{column.upper():>13}" for column in RECAP_COLUMNS)]
    for host, counts in recap.items():
        lines.append(host.ljust(width) + "".join(f"{counts.get(column, 0):>13}"
                                                 for column in RECAP_COLUMNS))
    return lines


def write_deploy(state_dir: str, plan_name: str, started: float, finished: float,
                 succeeded: bool, recap: dict, hosts, error: str = "") -> str:
    """deploy.json; `hosts` are plan.Host (deployed servers and provisioned nodes)."""
    roles: dict[str, list[str]] = {}
    for host in hosts:
        for role in host.roles:
            roles.setdefault(role, []).append(host.name)
    document = {
        "plan": plan_name,
        "started": _iso(started),
        "finished": _iso(finished),
        "seconds": round(finished - started, 1),
        "result": "succeeded" if succeeded else "failed",
        "error": error,
        "recap": recap,
        "hosts": {host.name: {"address": host.address, "roles": list(host.roles)}
                  for host in hosts},
        "roles": roles,
    }
    path = os.path.join(state_dir, DEPLOY)
    write_atomic(path, json.dumps(document, indent=2) + "\n")
    return path


def read_deploy(state_dir: str) -> dict | None:
    text = read_if_exists(os.path.join(state_dir, DEPLOY))
    return json.loads(text) if text is not None else None


def _iso(moment: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(moment))
