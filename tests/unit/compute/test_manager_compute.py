"""The compute manager on libvirt's test driver, with the real conductor and network server
functions in-process (their RPC calls made directly), a stand-in image service and network
agent: the same flow as production."""
import base64
import os
import subprocess
import uuid

import libvirt
import pytest

from undercloud import db
from undercloud.client.http import ApiError
from undercloud.common import config
from undercloud.compute.conductor import ComputeConductor
from undercloud.compute.drivers import power_state
from undercloud.compute.manager import ComputeManager, _uuid
from undercloud.compute.models import TABLES, ComputeNode, Instance, InstanceFault
from undercloud.network import instances as network_instances
from undercloud.network import models as network_models

TINY = {"name": "m1.tiny", "vcpus": 1, "memory_mb": 128, "root_gb": 1}


class DirectConductor:
    """ConductorAPI without the bus: each call goes straight to the conductor."""

    def __init__(self, conductor):
        self.conductor = conductor

    def __getattr__(self, name):
        return getattr(self.conductor, name)


class Images:
    def __init__(self, path):
        self.path = path
        self.uploaded = {}

    def get(self, context, image_id):
        if image_id == "missing":
            raise ApiError(404, "GET /v2/images/missing: HTTP 404: not found")
        return {"id": image_id}

    def data(self, context, image_id):
        with open(self.path, "rb") as stream:
            yield stream.read()

    def upload(self, context, image_id, path):
        self.uploaded[image_id] = os.path.getsize(path)

    def delete(self, context, image_id):
        pass


class NetworkServer:
    """ServerAPI without the bus: the network server's functions on the same DB."""

    def __init__(self, cfg):
        self.cfg = cfg

    def allocate_for_instance(self, context, instance_id, project_id, host, requested_networks,
                              security_groups, availability_zone):
        return network_instances.allocate_for_instance(
            self.cfg, context, instance_id, project_id, host, requested_networks,
            security_groups, availability_zone)

    def deallocate_for_instance(self, instance_id, port_ids=None):
        network_instances.deallocate_for_instance(self.cfg, instance_id, port_ids=port_ids)

    def network_info(self, instance_id):
        return network_instances.network_info(instance_id)


class Agent:
    """The host's network agent: remembers the ports it plugged."""

    def __init__(self):
        self.plugged, self.unplugged = [], []

    def plug_port(self, host, port_id):
        self.plugged.append(port_id)
        return {"bridge": "brq-test", "tap": f"tap{port_id[:11]}", "mtu": 1450}

    def unplug_port(self, host, port_id):
        self.unplugged.append(port_id)

    def sync(self, host=None):
        pass


class Compute:
    def __init__(self):
        self.manager = None

    def build_and_run_instance(self, context, host, instance_id, request_spec):
        self.manager.build_and_run_instance(context, instance_id, request_spec)

    def resize_instance(self, context, host, instance_id):
        self.manager.resize_instance(context, instance_id)


@pytest.fixture
def cloud(tmp_path):
    image = tmp_path / "image.qcow2"
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(image), "64M"], check=True)
    cfg = config.load(environ={}, overrides={
        "data_dir": str(tmp_path / "data"),
        "compute": {"virt_uri": "test:///default", "host": "h1", "ram_allocation_ratio": 1.0,
                    "reserved_host_memory_mb": 0}})
    db.connect(cfg)
    db.database.create_tables(TABLES + network_models.TABLES)
    conductor = ComputeConductor(cfg, host="control")
    conductor._compute = Compute()
    conductor._network = NetworkServer(cfg)
    agent = Agent()
    network_instances._AGENTS[id(cfg)] = agent
    manager = ComputeManager(cfg, conductor=DirectConductor(conductor),
                             network=NetworkServer(cfg), agents=agent)
    manager.images = Images(str(image))
    conductor._compute.manager = manager
    manager.prepare()
    manager.report()
    yield manager, conductor
    for found in manager.driver.list_instances():
        if found.name.startswith("instance-"):
            manager.driver.undefine(found.uuid)
    manager.driver.close()
    network_instances._AGENTS.pop(id(cfg))
    db.database.close()


def boot(conductor, **fields):
    values = dict(display_name="vm1", project_id="p", user_id="u", flavor=TINY,
                  reservation_id="r-1", hostname="vm1", image_ref="img1", config_drive=True,
                  key_name="k1", key_data="ssh-ed25519 AAAA k1",
                  user_data=base64.b64encode(b"#!/bin/sh\necho hi\n").decode())
    values.update(fields)
    instance = Instance.create(id=str(uuid.uuid4()), **values)
    conductor.build_instances({"request_id": None}, [instance.id],
                              {"flavor": values["flavor"]})
    return Instance.get_by_id(instance.id)


def test_boot_makes_an_active_guest_with_disk_and_config_drive(cloud):
    manager, conductor = cloud
    server = boot(conductor)
    assert (server.vm_state, server.task_state, server.power_state) == ("active", None, 1)
    assert server.launched_at is not None and server.host == "h1"
    folder = os.path.join(manager.instances_dir, server.id)
    assert sorted(os.listdir(folder)) == ["disk", "disk.config"]
    assert manager.cache.cached() == ["img1"]
    assert manager.driver.power_state(_uuid(server.id)) == power_state.RUNNING


def test_failed_boot_is_error_with_a_fault_and_no_claim(cloud):
    manager, conductor = cloud
    server = boot(conductor, image_ref="missing")
    assert server.vm_state == "error"
    assert "HTTP 404" in InstanceFault.get(InstanceFault.instance == server.id).message
    assert ComputeNode.get(ComputeNode.host == "h1").memory_mb_used == 0
    assert not os.path.exists(os.path.join(manager.instances_dir, server.id))


def test_power_actions_and_delete_leave_nothing_behind(cloud):
    manager, conductor = cloud
    server = boot(conductor)
    steps = [(manager.stop_instance, "stopped", 4), (manager.start_instance, "active", 1),
             (manager.pause_instance, "paused", 3), (manager.unpause_instance, "active", 1),
             (manager.suspend_instance, "suspended", 7), (manager.resume_instance, "active", 1)]
    for action, vm_state, power in steps:
        action(None, server.id)
        now = Instance.get_by_id(server.id)
        assert (now.vm_state, now.power_state) == (vm_state, power), action.__name__
    manager.reboot_instance(None, server.id, True)
    manager.rebuild_instance(None, server.id, "img2")
    now = Instance.get_by_id(server.id)
    assert (now.vm_state, now.image_ref) == ("active", "img2")
    assert manager.cache.cached() == ["img2"]
    manager.stop_instance(None, server.id)
    manager.rebuild_instance(None, server.id, "img2")
    now = Instance.get_by_id(server.id)
    assert (now.vm_state, now.power_state) == ("stopped", 4)  # a stopped server stays stopped
    manager.terminate_instance(None, server.id)
    gone = Instance.get_by_id(server.id)
    assert gone.deleted and gone.vm_state == "deleted"
    assert manager.cache.cached() == []
    assert not os.path.exists(os.path.join(manager.instances_dir, server.id))
    assert manager.driver.power_state(_uuid(server.id)) == power_state.NOSTATE
    assert ComputeNode.get(ComputeNode.host == "h1").memory_mb_used == 0


def test_resize_confirm_and_revert(cloud):
    manager, conductor = cloud
    server = boot(conductor)
    bigger = dict(TINY, name="m1.small", memory_mb=256, root_gb=2)
    conductor.resize_instance({}, server.id, bigger)
    now = Instance.get_by_id(server.id)
    assert (now.vm_state, now.flavor["memory_mb"]) == ("resized", 256)
    assert manager.driver.instance_info(_uuid(server.id)).memory_mb == 256
    manager.revert_resize(None, server.id)
    now = Instance.get_by_id(server.id)
    assert (now.vm_state, now.flavor["memory_mb"], now.old_flavor) == ("active", 128, None)
    assert ComputeNode.get(ComputeNode.host == "h1").memory_mb_used == 128
    conductor.resize_instance({}, server.id, bigger)
    manager.confirm_resize(None, server.id)
    now = Instance.get_by_id(server.id)
    assert (now.vm_state, now.flavor["memory_mb"]) == ("active", 256)
    assert ComputeNode.get(ComputeNode.host == "h1").memory_mb_used == 256


def test_snapshot_uploads_the_disk(cloud):
    manager, conductor = cloud
    server = boot(conductor)
    manager.snapshot_instance(None, server.id, "snap1")
    assert manager.images.uploaded["snap1"] > 0
    assert Instance.get_by_id(server.id).task_state is None


def test_power_sync_marks_a_vanished_guest_shutoff(cloud):
    manager, conductor = cloud
    server = boot(conductor)
    manager.driver.destroy(_uuid(server.id))
    manager.sync_power_states()
    now = Instance.get_by_id(server.id)
    assert (now.vm_state, now.power_state) == ("stopped", 4)


def test_reconcile_finishes_an_interrupted_build(cloud):
    manager, conductor = cloud
    instance = Instance.create(id=str(uuid.uuid4()), display_name="vm2", project_id="p",
                               user_id="u", flavor=TINY, reservation_id="r", hostname="vm2",
                               image_ref="img1", host="h1", task_state="spawning")
    manager.reconcile(startup=True)
    for _ in range(100):
        now = Instance.get_by_id(instance.id)
        if now.vm_state != "building":
            break
        import time
        time.sleep(0.05)
    assert now.vm_state == "active"


def test_console_output_tail(cloud, tmp_path):
    manager, conductor = cloud
    server = boot(conductor)
    log = os.path.join(manager.instances_dir, server.id, "console.log")
    with open(log, "w") as stream:
        stream.write("one\ntwo\nthree\n")
    assert manager.get_console_output(None, server.id, 2) == "two\nthree\n"


def test_a_server_deleted_while_it_builds_leaves_nothing(cloud):
    manager, conductor = cloud
    spawn = manager._spawn

    def spawn_then_user_deletes(context, record, image_ref=None):
        spawn(context, record, image_ref)
        Instance.update(task_state="deleting").where(Instance.id == record["id"]).execute()
    manager._spawn = spawn_then_user_deletes
    server = boot(conductor)
    assert server.deleted and server.vm_state == "deleted"
    assert manager.driver.power_state(_uuid(server.id)) == power_state.NOSTATE
    assert os.listdir(manager.instances_dir) == [] and manager.cache.cached() == []
    assert ComputeNode.get(ComputeNode.host == "h1").memory_mb_used == 0


@pytest.fixture
def private():
    network = network_models.Network.create(name="private", project_id="p")
    network_models.Subnet.create(network=network, project_id="p", cidr="10.0.0.0/24",
                                 gateway_ip="10.0.0.1",
                                 allocation_pools=[{"start": "10.0.0.10", "end": "10.0.0.20"}])
    return network


def _definition(manager, instance_id) -> str:
    return manager.driver._domain(_uuid(instance_id)).XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)


def _ports(instance_id):
    return list(network_models.Port.select().where(network_models.Port.device_id == instance_id))


def test_boot_on_a_network_plugs_a_port_and_shows_its_address(cloud, private):
    manager, conductor = cloud
    server = boot(conductor, requested_networks=[{"uuid": private.id}])
    assert server.vm_state == "active"
    port, = _ports(server.id)
    assert (port.binding_host_id, port.device_owner) == ("h1", "compute:nova")
    assert manager.agents.plugged == [port.id]
    assert server.addresses == {"private": [{
        "addr": "10.0.0.10", "version": 4, "OS-EXT-IPS:type": "fixed",
        "OS-EXT-IPS-MAC:mac_addr": port.mac_address}]}
    vif, = server.network_info
    assert (vif["bridge"], vif["tap"]) == ("brq-test", f"tap{port.id[:11]}")
    xml = manager.driver._domain(_uuid(server.id)).XMLDesc(0)
    assert port.mac_address in xml and "brq-test" in xml
    manager.terminate_instance(None, server.id)
    assert _ports(server.id) == [] and manager.agents.unplugged == [port.id]


def test_a_build_retried_after_a_crash_leaves_one_port(cloud, private):
    manager, conductor = cloud
    server = boot(conductor, requested_networks=[{"uuid": private.id}])
    Instance.update(vm_state="building", task_state="networking").where(
        Instance.id == server.id).execute()
    manager.driver.undefine(_uuid(server.id))
    manager.build_and_run_instance(None, server.id)
    assert Instance.get_by_id(server.id).vm_state == "active"
    assert len(_ports(server.id)) == 1


def test_no_agent_on_the_host_is_a_clear_fault_and_no_port_stays(cloud, private):
    from undercloud.bus import NoPeer
    manager, conductor = cloud

    def no_agent(host, port_id):
        raise NoPeer("network.h1")
    manager.agents.plug_port = no_agent
    server = boot(conductor, requested_networks=[{"uuid": private.id}])
    assert server.vm_state == "error"
    fault = InstanceFault.get(InstanceFault.instance == server.id)
    assert "no network agent on host h1" in fault.message
    assert _ports(server.id) == []


def test_attach_and_detach_an_interface(cloud, private):
    manager, conductor = cloud
    server = boot(conductor, requested_networks=[])
    vif = manager.attach_interface(None, server.id, network_id=private.id,
                                   fixed_ip="10.0.0.15", tag="data")
    assert vif["fixed_ips"][0]["ip_address"] == "10.0.0.15" and vif["tag"] == "data"
    # libvirt's test driver cannot hot-plug: the NIC is in the definition for the next start.
    assert vif["mac_address"] in _definition(manager, server.id)
    assert Instance.get_by_id(server.id).addresses["private"][0]["addr"] == "10.0.0.15"
    manager.detach_interface(None, server.id, vif["port_id"])
    now = Instance.get_by_id(server.id)
    assert now.network_info == [] and now.addresses == {} and _ports(server.id) == []
    assert vif["mac_address"] not in _definition(manager, server.id)


def test_network_changed_brings_a_floating_ip_into_addresses(cloud, private):
    manager, conductor = cloud
    server = boot(conductor, requested_networks=[{"uuid": private.id}])
    port, = _ports(server.id)
    public = network_models.Network.create(name="public", external=True)
    network_models.FloatingIP.create(floating_network=public, floating_port_id="f",
                                     floating_ip_address="172.24.4.50", port_id=port.id,
                                     fixed_ip_address="10.0.0.10")
    assert conductor.network_changed(server.id)
    addresses = Instance.get_by_id(server.id).addresses["private"]
    assert [(a["addr"], a["OS-EXT-IPS:type"]) for a in addresses] == \
        [("10.0.0.10", "fixed"), ("172.24.4.50", "floating")]
    assert Instance.get_by_id(server.id).network_info[0]["bridge"] == "brq-test"
    assert not conductor.network_changed(server.id)
    assert conductor.refresh_addresses() == 0
