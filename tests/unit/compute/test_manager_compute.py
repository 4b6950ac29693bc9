"""The compute manager on libvirt's test driver, with the real conductor in-process (its RPC
calls made directly) and a stand-in image service: the same flow as production."""
import base64
import os
import subprocess
import uuid

import pytest

from undercloud import db
from undercloud.common import config
from undercloud.compute.conductor import ComputeConductor
from undercloud.compute.drivers import power_state
from undercloud.compute.manager import ComputeManager, _uuid
from undercloud.compute.models import TABLES, ComputeNode, Instance, InstanceFault

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
            from undercloud.compute.drivers.errors import ImageError
            raise ImageError("image service refused GET: HTTP 404")
        return {"id": image_id}

    def data(self, context, image_id):
        with open(self.path, "rb") as stream:
            yield stream.read()

    def upload(self, context, image_id, path):
        self.uploaded[image_id] = os.path.getsize(path)

    def delete(self, context, image_id):
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
    db.database.create_tables(TABLES)
    conductor = ComputeConductor(cfg, host="control")
    conductor._compute = Compute()
    manager = ComputeManager(cfg, conductor=DirectConductor(conductor))
    manager.images = Images(str(image))
    conductor._compute.manager = manager
    manager.prepare()
    manager.report()
    yield manager, conductor
    for found in manager.driver.list_instances():
        if found.name.startswith("instance-"):
            manager.driver.undefine(found.uuid)
    manager.driver.close()
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
