"""`stackbox overcloud plan` shows hosts per role, services per host, and what changed since
the plan the last deploy saved."""
import yaml

from undercloud.cmd.main import main
from undercloud.deploy import plan as plans

FOUR_HOSTS = {"hosts": {
    "oc-ctl-0": {"address": "10.89.0.10", "roles": ["control"]},
    "oc-net-0": {"address": "10.89.0.11", "roles": ["network"]},
    "oc-cmp-0": {"address": "10.89.0.12", "roles": ["compute"]},
    "oc-cmp-1": {"address": "10.89.0.13", "roles": ["compute"]},
}}


def _plan_output(tmp_path, capsys, document):
    path = tmp_path / "overcloud.yaml"
    path.write_text(yaml.safe_dump(document))
    status = main(["overcloud", "plan", str(path), "--state-dir", str(tmp_path / "state")])
    output = capsys.readouterr()
    assert (status, output.err) == (0, "")
    return output.out.splitlines()


def test_four_hosts_show_roles_and_services_with_no_previous_deploy(tmp_path, capsys):
    assert _plan_output(tmp_path, capsys, FOUR_HOSTS) == [
        "Overcloud overcloud: 4 deployed server(s)",
        "",
        "ROLE     HOSTS",
        "control  oc-ctl-0",
        "network  oc-net-0",
        "compute  oc-cmp-0, oc-cmp-1",
        "",
        "HOST      ADDRESS     ROLES    SERVICES",
        "oc-ctl-0  10.89.0.10  control  database, bus, identity-api, image-api, compute-api, "
        "metadata-api, compute-conductor, network-api, network-server",
        "oc-net-0  10.89.0.11  network  network-agent (dhcp, l3, metadata, l2)",
        "oc-cmp-0  10.89.0.12  compute  libvirt, compute-host, network-agent (l2)",
        "oc-cmp-1  10.89.0.13  compute  libvirt, compute-host, network-agent (l2)",
        "",
        f"No previous deploy (no {tmp_path}/state/overcloud/last-plan.json): every host "
        "above is new.",
    ]


def test_a_fifth_compute_host_is_the_only_change_since_the_last_deploy(tmp_path, capsys):
    plans.save_last(plans.parse(yaml.safe_dump(FOUR_HOSTS)), str(tmp_path / "state"))
    grown = {"hosts": {**FOUR_HOSTS["hosts"],
                       "oc-cmp-2": {"address": "10.89.0.14", "roles": ["compute"]}}}
    lines = _plan_output(tmp_path, capsys, grown)
    assert lines[lines.index("Since the last deploy:") + 1:] == [
        "  + oc-cmp-2 compute (10.89.0.14)"]


def test_the_same_plan_again_changes_nothing(tmp_path, capsys):
    plans.save_last(plans.parse(yaml.safe_dump(FOUR_HOSTS)), str(tmp_path / "state"))
    assert _plan_output(tmp_path, capsys, FOUR_HOSTS)[-2:] == [
        "Since the last deploy:", "  nothing changed"]


def test_removed_hosts_role_and_bare_metal_changes_are_listed(tmp_path, capsys):
    before = {**FOUR_HOSTS, "baremetal": {"roles": {"compute": {"count": 2}}}}
    plans.save_last(plans.parse(yaml.safe_dump(before)), str(tmp_path / "state"))
    hosts = {name: fields for name, fields in FOUR_HOSTS["hosts"].items()
             if name != "oc-cmp-1"}
    hosts["oc-net-0"] = {"address": "10.89.0.11", "roles": ["network", "compute"]}
    after = {"hosts": hosts, "baremetal": {"roles": {"compute": {"count": 3}}},
             "settings": {"compute": {"virt_type": "qemu"}}}
    lines = _plan_output(tmp_path, capsys, after)
    assert lines[lines.index("Since the last deploy:") + 1:] == [
        "  - oc-cmp-1 compute (10.89.0.13)",
        "  ~ oc-net-0 roles: network -> network,compute",
        "  ~ oc-net-0 services: +libvirt +compute-host",
        "  ~ baremetal compute: 2 -> 3 node(s)",
        "  ~ settings compute: {} -> {'virt_type': 'qemu'}",
    ]


def test_a_bare_metal_only_plan_takes_the_defaults(tmp_path, capsys):
    document = {"baremetal": {"roles": {"control": {"count": 1},
                                        "compute": {"count": 2, "profile": "big"}}}}
    plan = plans.parse(yaml.safe_dump(document))
    assert (plan.name, plan.baremetal.cloud, plan.baremetal.image, plan.ssh) == \
        ("overcloud", "stackbox", "overcloud-image", plans.Ssh("root", "~/.ssh/id_ed25519"))
    assert plan.baremetal.roles["control"] == plans.BaremetalRole(1, "control")
    assert _plan_output(tmp_path, capsys, document)[:5] == [
        "Overcloud overcloud: 0 deployed server(s), 3 bare-metal node(s) from cloud stackbox "
        "(image overcloud-image)",
        "",
        "ROLE     HOSTS",
        "control  1 bare-metal node(s) (profile control)",
        "compute  2 bare-metal node(s) (profile big)",
    ]


def test_the_saved_plan_reads_back_as_it_was(tmp_path):
    document = {**FOUR_HOSTS, "name": "edge", "baremetal": {"roles": {"compute": {"count": 1}}},
                "ssh": {"user": "stack"}, "settings": {"compute": {"virt_type": "qemu"}}}
    plan = plans.parse(yaml.safe_dump(document))
    path = plans.save_last(plan, str(tmp_path))
    assert path == f"{tmp_path}/overcloud/last-plan.json"
    assert plans.load_last(str(tmp_path)) == plan


def test_a_damaged_saved_plan_is_named(tmp_path, capsys):
    (tmp_path / "state" / "overcloud").mkdir(parents=True)
    (tmp_path / "state" / "overcloud" / "last-plan.json").write_text("{}")
    path = tmp_path / "overcloud.yaml"
    path.write_text(yaml.safe_dump(FOUR_HOSTS))
    assert main(["overcloud", "plan", str(path), "--state-dir", str(tmp_path / "state")]) == 2
    assert f"{tmp_path}/state/overcloud/last-plan.json is not a saved plan" in \
        capsys.readouterr().err


def test_a_baremetal_ctlplane_range_is_kept_with_the_last_plan(tmp_path):
    plan = plans.parse(yaml.safe_dump({**FOUR_HOSTS, "baremetal": {
        "roles": {"compute": {"count": 2}},
        "ctlplane_range": ["192.168.24.40", "192.168.24.49"]}}))
    plans.save_last(plan, str(tmp_path))
    assert plans.load_last(str(tmp_path)) == plan
    assert plan.baremetal.ctlplane_range == ("192.168.24.40", "192.168.24.49")
