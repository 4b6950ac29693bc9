"""A wrong plan is refused by `stackbox overcloud plan` with one line naming the host, role
or key, and exit status 2, before anything is touched."""
import pytest
import yaml

from undercloud.cmd.main import main

GOOD = {"hosts": {"oc-ctl-0": {"address": "10.89.0.10", "roles": ["control"]},
                  "oc-cmp-0": {"address": "10.89.0.12", "roles": ["compute"]}}}


def _plan(tmp_path, document):
    path = tmp_path / "overcloud.yaml"
    path.write_text(document if isinstance(document, str) else yaml.safe_dump(document))
    return str(path)


def _host(**fields):
    return {"hosts": {**GOOD["hosts"], "oc-x-0": {"address": "10.89.0.20",
                                                  "roles": ["network"], **fields}}}


@pytest.mark.parametrize("document, message", [
    (_host(roles=["contrl"]), "host oc-x-0: unknown role 'contrl' "
                              "(known: control, network, compute, storage)"),
    (_host(roles=["storage"]), "host oc-x-0: role storage is not available yet: it arrives "
                               "with the volume and object services"),
    ({"hosts": {"oc-cmp-0": {"address": "10.89.0.12", "roles": ["compute"]}}},
     "the plan has no control host: give at least one host the control role"),
    (_host(roles=["control", "compute"]),
     "host oc-x-0: roles compute and control cannot share a host"),
    (_host(address="10.89.0.10"), "host oc-x-0: address 10.89.0.10 is also host oc-ctl-0's"),
    (_host(address="10.89.0.300"), "host oc-x-0: address '10.89.0.300' is not an IP address"),
    (_host(address=10), "host oc-x-0: address 10 is not an IP address"),
    (_host(address=None), "host oc-x-0: address None is not an IP address"),
    (_host(roles=[["control"]]), "host oc-x-0: unknown role ['control']"),
    ({"hosts": {"oc_ctl": {"address": "10.89.0.10", "roles": ["control"]}}},
     "host 'oc_ctl': the name must be a host name"),
    (_host(adress="10.89.0.20"), "host oc-x-0: unknown key 'adress' (allowed: address, roles)"),
    (_host(roles=[]), "host oc-x-0: roles must be a non-empty list"),
    ({**GOOD, "host": {}}, "the plan: unknown key 'host' "
                           "(allowed: name, hosts, baremetal, ssh, settings)"),
    ({**GOOD, "ssh": {"user": "root", "key": "k"}},
     "ssh: unknown key 'key' (allowed: user, private_key, known_hosts)"),
    ({**GOOD, "settings": {"computer": {}}}, "settings: unknown key 'computer'"),
    ({"hosts": {}}, "the plan has no hosts: list hosts (deployed servers) or add a "
                    "baremetal section"),
    ({**GOOD, "baremetal": {"roles": {"compute": {"count": 0}}}},
     "baremetal role compute: count 0 must be a positive whole number"),
    ({**GOOD, "baremetal": {"roles": {"compute": {"count": "2"}}}},
     "baremetal role compute: count '2' must be a positive whole number"),
    ({**GOOD, "baremetal": {"roles": {"compute": {"count": 1, "flavor": "x"}}}},
     "baremetal role compute: unknown key 'flavor' (allowed: count, profile)"),
    ({**GOOD, "baremetal": {"roles": {"storage": {"count": 1}}}},
     "baremetal: role storage is not available yet"),
    ({**GOOD, "baremetal": {"roles": {"compute": {"count": 1}},
                            "ctlplane_range": ["192.168.24.99", "192.168.24.30"]}},
     "baremetal: ctlplane_range ['192.168.24.99', '192.168.24.30'] must be the first and "
     "last address, like [192.168.24.30, 192.168.24.99]"),
    ({**GOOD, "baremetal": {"roles": {"compute": {"count": 1}},
                            "ctlplane_range": "192.168.24.30"}},
     "baremetal: ctlplane_range '192.168.24.30' must be the first and last address"),
    ("hosts:\n  oc-ctl-0: {address: 10.89.0.10, roles: [control]}\n"
     "  oc-ctl-0: {address: 10.89.0.11, roles: [control]}\n",
     "'oc-ctl-0' is written twice (line 3)"),
    ("hosts: [oc-ctl-0", "is not YAML: "),
])
def test_a_wrong_plan_is_refused_with_its_reason(tmp_path, capsys, document, message):
    status = main(["overcloud", "plan", _plan(tmp_path, document),
                   "--data-dir", str(tmp_path)])
    error = capsys.readouterr().err
    assert status == 2
    assert message in error
    assert error.count("\n") == 1
    assert not (tmp_path / "overcloud").exists()


def test_a_missing_plan_file_is_named(tmp_path, capsys):
    assert main(["overcloud", "plan", str(tmp_path / "nope.yaml"),
                 "--data-dir", str(tmp_path)]) == 2
    assert f"cannot read {tmp_path}/nope.yaml: No such file or directory" in \
        capsys.readouterr().err
