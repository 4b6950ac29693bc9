"""What the deploy shows while ansible-playbook runs, fed with the events the stackbox_events
callback recorded from a real run (two plays, a role, a skipped task, an ignored no_log
failure, a failure on one host): plain lines in a log, a redrawn bar on a terminal, then
the slowest tasks and the recap."""
import io
import json
import os

from undercloud.deploy import progress, report

RECORDED = os.path.join(os.path.dirname(__file__), "recorded_events.jsonl")


def _events() -> list[dict]:
    with open(RECORDED) as lines:
        return [json.loads(line) for line in lines]


def _shown(tty: bool) -> tuple[str, progress.Progress]:
    out = io.StringIO()
    shown = progress.Progress(out, tty=tty, width=72)
    for event in _events():
        shown.event(event)
    shown.close()
    return out.getvalue(), shown


def test_not_a_terminal_gets_one_plain_line_per_finished_task():
    text, shown = _shown(tty=False)
    assert text.splitlines() == [
        "control: 1 host(s) (oc-ctl-0), 2 task(s)",
        "control  [ 50%]  common : write the host's marker  changed=1  (0.6 s)",
        "control  [100%]  common : check the marker  ok=1  (0.3 s)",
        "control: done in 0.9 s: 1 changed, 1 ok, 0 failed, 0 skipped",
        "compute: 2 host(s) (oc-cmp-0, oc-cmp-1), 5 task(s)",
        "compute  [ 20%]  common : write the host's marker  changed=2  (0.4 s)",
        "compute  [ 40%]  common : check the marker  ok=2  (0.3 s)",
        "compute  [ 60%]  only on the first compute host  skipped=1 changed=1  (0.2 s)",
        "compute  [ 80%]  read a secret  ignored=2  (0.2 s)",
        "FAILED  compute  start the compute service on oc-cmp-1:",
        "    non-zero return code",
        "    libvirtd is not running",
        "compute  [100%]  start the compute service  failed=1 changed=1  (0.2 s)",
        "compute: done in 1.3 s: 4 changed, 2 ok, 1 failed, 1 skipped",
    ]
    assert "\r" not in text and "\x1b" not in text
    assert [(failure["host"], failure["task"]) for failure in shown.failures] == [
        ("oc-cmp-1", "start the compute service")]


def test_a_terminal_gets_a_redrawn_bar_with_the_play_task_and_host():
    text, _ = _shown(tty=True)
    redraws = [part for part in text.split(progress.CLEAR_LINE) if part]
    assert "[####......] 40%  compute  common : check the marker (oc-cmp-1)" in redraws
    assert all(len(part) < 72 for part in redraws if not part.endswith("\n"))
    # Permanent lines stay: the plays, and the failure with its message.
    assert (progress.CLEAR_LINE + "FAILED  compute  start the compute service on oc-cmp-1:\n"
            "    non-zero return code\n    libvirtd is not running\n") in text
    assert (progress.CLEAR_LINE + "compute: done in 1.3 s: 4 changed, 2 ok, 1 failed, "
            "1 skipped\n") in text
    # The run ended: the status line is cleared, nothing is left half drawn.
    assert text.endswith("1 failed, 1 skipped\n")


def test_no_log_output_never_shows_and_the_recap_and_slowest_tasks_come_from_the_events():
    record = report.Record()
    for event in _events():
        record.event(event)
    assert "s3cret" not in open(RECORDED).read()
    assert len(record.rows) == 12
    assert record.rows[0] == {"play": "control", "role": "common",
                              "task": "write the host's marker", "host": "oc-ctl-0",
                              "status": "changed", "seconds": 0.614}
    assert [row for row in record.rows if row.get("ignored")] == [
        {"play": "compute", "role": "", "task": "read a secret", "host": host,
         "status": "failed", "seconds": seconds, "ignored": True}
        for host, seconds in (("oc-cmp-0", 0.192), ("oc-cmp-1", 0.227))]
    assert report.slowest(record.rows, 3) == [
        "     0.6 s  control  common : write the host's marker  (oc-ctl-0)",
        "     0.4 s  compute  common : write the host's marker  (oc-cmp-0)",
        "     0.4 s  compute  common : write the host's marker  (oc-cmp-1)",
    ]
    assert report.recap_table(record.recap) == [
        "HOST                 OK      CHANGED       FAILED  UNREACHABLE      SKIPPED",
        "oc-cmp-0              5            4            0            0            0",
        "oc-cmp-1              3            2            1            0            1",
        "oc-ctl-0              2            1            0            0            0",
    ]


def test_durations_read_in_seconds_then_minutes():
    assert [progress.duration_text(seconds) for seconds in (0.04, 59.9, 60, 192.4)] == [
        "0.0 s", "59.9 s", "1 min 00 s", "3 min 12 s"]
