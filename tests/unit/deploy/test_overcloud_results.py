"""What a deploy leaves for the operator: clouds.yaml (cloud `overcloud`) and the admin
password, both 0600; deploy.json with the outcome; timing.json; and what `stackbox overcloud
status` says when nothing was deployed or the last deploy failed. A wrong plan is refused
by `stackbox overcloud deploy` before anything is written."""
import json
import os
import stat

import yaml

from undercloud.cmd.main import main
from undercloud.deploy import clouds, plan as plans, report


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_clouds_yaml_names_the_overcloud_and_it_and_the_password_are_private(tmp_path):
    clouds_path, password_path = clouds.write(str(tmp_path), "10.89.0.10", "pw-1")
    assert clouds_path == str(tmp_path / "overcloud" / "clouds.yaml")
    assert yaml.safe_load(open(clouds_path)) == {"clouds": {"overcloud": {
        "auth": {"auth_url": "http://10.89.0.10:5000/v3", "username": "admin",
                 "password": "pw-1", "project_name": "admin",
                 "user_domain_name": "Default", "project_domain_name": "Default"},
        "region_name": "RegionOne", "interface": "public", "identity_api_version": 3}}}
    assert open(password_path).read() == "pw-1\n"
    assert (_mode(clouds_path), _mode(password_path)) == (0o600, 0o600)
    assert clouds.read(str(tmp_path))["auth"]["password"] == "pw-1"


def test_deploy_json_and_timing_json_keep_the_outcome(tmp_path):
    plan = plans.parse("hosts:\n  oc-ctl-0: {address: 10.89.0.10, roles: [control]}\n"
                       "  oc-cmp-0: {address: 10.89.0.12, roles: [compute, network]}\n")
    recap = {"oc-ctl-0": {"ok": 3, "changed": 1, "failed": 0, "unreachable": 0,
                          "skipped": 0, "rescued": 0, "ignored": 0}}
    report.write_deploy(str(tmp_path), plan.name, 1000.0, 1192.44, True, recap,
                        list(plan.hosts.values()))
    document = report.read_deploy(str(tmp_path))
    assert {key: document[key] for key in ("plan", "seconds", "result", "error", "recap",
                                            "hosts", "roles")} == {
        "plan": "overcloud", "seconds": 192.4, "result": "succeeded", "error": "",
        "recap": recap,
        "hosts": {"oc-ctl-0": {"address": "10.89.0.10", "roles": ["control"]},
                  "oc-cmp-0": {"address": "10.89.0.12", "roles": ["network", "compute"]}},
        "roles": {"control": ["oc-ctl-0"], "network": ["oc-cmp-0"],
                  "compute": ["oc-cmp-0"]}}
    assert document["finished"] > document["started"]
    rows = [{"play": "control", "role": "common", "task": "t", "host": "oc-ctl-0",
             "status": "ok", "seconds": 1.5}]
    path = report.write_timing(str(tmp_path), rows)
    assert json.load(open(path)) == rows


def test_status_with_nothing_deployed_exits_3(tmp_path, capsys):
    assert main(["overcloud", "status", "--state-dir", str(tmp_path)]) == 3
    assert capsys.readouterr().out == (
        f"No overcloud deployed (no {tmp_path}/overcloud/deploy.json): run stackbox "
        "overcloud deploy PLAN\n")


def test_status_of_a_failed_deploy_shows_it_and_exits_1(tmp_path, capsys):
    plan = plans.parse("hosts:\n  oc-ctl-0: {address: 10.89.0.10, roles: [control]}\n")
    report.write_deploy(str(tmp_path), "lab", 1000.0, 1061.0, False,
                        {"oc-ctl-0": {"ok": 2, "changed": 1, "failed": 1, "unreachable": 0,
                                      "skipped": 0}}, list(plan.hosts.values()),
                        "1 task(s) failed")
    assert main(["overcloud", "status", "--state-dir", str(tmp_path)]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("Last deploy of lab: failed, finished ")
    assert lines[0].endswith(", took 1 min 01 s")
    assert lines[1:] == [
        "  error: 1 task(s) failed", "",
        "HOST                 OK      CHANGED       FAILED  UNREACHABLE      SKIPPED",
        "oc-ctl-0              2            1            1            0            0", "",
        "HOST      ADDRESS     ROLES",
        "oc-ctl-0  10.89.0.10  control", "",
        f"No {tmp_path}/overcloud/clouds.yaml: the deploy did not finish, so the "
        "overcloud's APIs cannot be checked"]


def test_a_wrong_plan_is_refused_before_anything_is_written(tmp_path, capsys):
    path = tmp_path / "overcloud.yaml"
    path.write_text(yaml.safe_dump({"hosts": {
        "oc-ctl-0": {"address": "10.89.0.10", "roles": ["control", "compute"]}}}))
    state = tmp_path / "state"
    assert main(["overcloud", "deploy", str(path), "--state-dir", str(state)]) == 2
    output = capsys.readouterr()
    assert (output.out, output.err) == (
        "", "stackbox overcloud deploy: host oc-ctl-0: roles compute and control cannot "
            "share a host\n")
    assert not state.exists()
