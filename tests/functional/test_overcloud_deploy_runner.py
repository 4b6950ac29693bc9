"""The deployer's runner drives a real ansible-playbook (no containers: a tiny playbook on
localhost, connection local) and turns the stackbox_events callback's events into progress
lines, timing rows and the recap; a failure shows the task, the host and the message."""
import io
import json
import subprocess
import sys
import textwrap

import pytest
import yaml

from undercloud.deploy import inventory, plan as plans, progress, report, run

pytestmark = pytest.mark.functional

INVENTORY = f"""\
all:
  hosts:
    localhost: {{ansible_connection: local, ansible_python_interpreter: {sys.executable}}}
"""


def _playbook(tmp_path, tasks: str) -> str:
    path = tmp_path / "play.yml"
    path.write_text("- name: control\n  hosts: all\n  gather_facts: false\n  tasks:\n"
                    + textwrap.indent(textwrap.dedent(tasks), "    "))
    (tmp_path / "inventory.yml").write_text(INVENTORY)
    return str(path)


def _run(tmp_path, tasks: str):
    playbook = _playbook(tmp_path, tasks)
    out = io.StringIO()
    shown = progress.Progress(out, tty=False)
    record = report.Record()
    events = []

    def on_event(event):
        events.append(event)
        record.event(event)
        shown.event(event)

    status = run.run(str(tmp_path / "inventory.yml"), playbook, str(tmp_path / "ansible.log"),
                     str(tmp_path / "events.jsonl"), on_event)
    shown.close()
    return status, events, out.getvalue().splitlines(), record


THREE_TASKS = """\
- name: look at the host
  ansible.builtin.command: uname -s
  changed_when: false
- name: write the marker
  ansible.builtin.copy: {content: "deployed\\n", dest: "{{ marker }}"}
- name: only on compute hosts
  ansible.builtin.command: "true"
  when: "'compute' in group_names"
"""


def test_a_tiny_playbook_gives_events_progress_timing_and_recap(tmp_path):
    tasks = THREE_TASKS.replace("{{ marker }}", str(tmp_path / "marker"))
    status, events, lines, record = _run(tmp_path, tasks)
    assert status == 0
    assert (tmp_path / "marker").read_text() == "deployed\n"
    assert [event["event"] for event in events] == [
        "play_start"] + ["task_start", "host_start", "host_result"] * 3 + ["stats"]
    assert {key: events[0][key] for key in ("play", "hosts", "tasks")} == {
        "play": "control", "hosts": ["localhost"], "tasks": 3}
    assert [(event["task"], event["status"]) for event in events
            if event["event"] == "host_result"] == [
        ("look at the host", "ok"), ("write the marker", "changed"),
        ("only on compute hosts", "skipped")]
    # The events are also kept, one JSON object a line, as they came.
    assert [json.loads(line) for line in (tmp_path / "events.jsonl").read_text().splitlines()
            ] == events
    assert lines[0] == "control: 1 host(s) (localhost), 3 task(s)"
    assert [line.rsplit("  (", 1)[0] for line in lines[1:4]] == [
        "control  [ 33%]  look at the host  ok=1",
        "control  [ 66%]  write the marker  changed=1",
        "control  [100%]  only on compute hosts  skipped=1"]
    assert lines[4].startswith("control: done in ")
    assert lines[4].endswith(": 1 changed, 1 ok, 0 failed, 1 skipped")
    assert record.recap == {"localhost": {"ok": 2, "changed": 1, "failed": 0,
                                          "unreachable": 0, "skipped": 1, "rescued": 0,
                                          "ignored": 0}}
    path = report.write_timing(str(tmp_path), record.rows)
    rows = json.load(open(path))
    assert [(row["play"], row["task"], row["host"], row["status"]) for row in rows] == [
        ("control", "look at the host", "localhost", "ok"),
        ("control", "write the marker", "localhost", "changed"),
        ("control", "only on compute hosts", "localhost", "skipped")]
    assert all(isinstance(row["seconds"], float) and row["seconds"] >= 0 for row in rows)
    assert "PLAY RECAP" in (tmp_path / "ansible.log").read_text()


def test_a_failure_shows_the_task_host_and_message_but_never_a_no_log_output(tmp_path):
    status, _, lines, record = _run(tmp_path, """\
        - name: read the database password
          ansible.builtin.command: sh -c 'echo hunter2; echo hunter2 >&2; exit 1'
          no_log: true
          ignore_errors: true
        - name: start the api
          ansible.builtin.command: sh -c 'echo "port 5000 is taken" >&2; exit 3'
        - name: never reached
          ansible.builtin.command: "true"
        """)
    assert status == 2
    assert "hunter2" not in "\n".join(lines)
    assert "hunter2" not in (tmp_path / "events.jsonl").read_text()
    assert lines[1].startswith("control  [ 33%]  read the database password  ignored=1")
    assert lines[2:5] == ["FAILED  control  start the api on localhost:",
                          "    non-zero return code", "    port 5000 is taken"]
    assert record.recap["localhost"]["failed"] == 1
    assert [row["task"] for row in record.rows] == ["read the database password",
                                                    "start the api"]


def test_the_written_inventory_reads_as_ansible_reads_it(tmp_path):
    plan = plans.parse(yaml.safe_dump({
        "hosts": {"oc-ctl-0": {"address": "10.89.0.10", "roles": ["control"]},
                  "oc-cmp-0": {"address": "10.89.0.12", "roles": ["compute"]}},
        "settings": {"compute": {"virt_type": "qemu"}}}))
    path = inventory.write(inventory.inventory_path(str(tmp_path)), plan, plan.hosts,
                           "/state/secrets", "http://192.168.24.1:8088/repo")
    listed = json.loads(subprocess.run(
        [run.ansible_playbook().replace("ansible-playbook", "ansible-inventory"), "-i", path,
         "--list"], check=True, capture_output=True, text=True).stdout)
    assert listed["control"]["hosts"] == ["oc-ctl-0"]
    assert listed["compute"]["hosts"] == ["oc-cmp-0"]
    assert "hosts" not in listed.get("network", {})
    variables = listed["_meta"]["hostvars"]["oc-cmp-0"]
    assert {key: variables[key] for key in ("ansible_host", "compute_virt_type",
                                            "stackbox_control_address",
                                            "stackbox_secrets_dir")} == {
        "ansible_host": "10.89.0.12", "compute_virt_type": "qemu",
        "stackbox_control_address": "10.89.0.10", "stackbox_secrets_dir": "/state/secrets"}
