"""The scheduler's filters, weigher and atomic claims, and the conductor's placement story."""
import multiprocessing
import threading
import uuid

import pytest

from undercloud import db
from undercloud.common import config
from undercloud.compute.conductor import ComputeConductor
from undercloud.compute.models import TABLES, Claim, ComputeNode, Instance, InstanceFault, \
    ServerGroup
from undercloud.compute.scheduler import claims, filters, hoststate, placement, weighers
from undercloud.compute.scheduler.hoststate import HostState, Limits
from undercloud.compute.scheduler.request import Request

EXACT = Limits(cpu_ratio=1.0, ram_ratio=1.0, disk_ratio=1.0, reserved_memory_mb=0)
TINY = {"name": "m1.tiny", "vcpus": 1, "memory_mb": 512, "root_gb": 1}


@pytest.fixture
def cfg(tmp_path):
    cfg = config.load(environ={}, overrides={
        "data_dir": str(tmp_path),
        "compute": {"cpu_allocation_ratio": 1.0, "ram_allocation_ratio": 1.0,
                    "disk_allocation_ratio": 1.0, "reserved_host_memory_mb": 0}})
    db.connect(cfg)
    db.database.create_tables(TABLES)
    yield cfg
    db.database.close()


def node(host, memory_mb=1024, vcpus=4, local_gb=20, **fields):
    fields.setdefault("heartbeat_at", db.utcnow())
    return ComputeNode.create(host=host, hypervisor_hostname=host, vcpus=vcpus,
                              memory_mb=memory_mb, local_gb=local_gb, **fields)


def instance(**fields):
    values = dict(display_name="vm", project_id="p", user_id="u", flavor=TINY,
                  reservation_id="r-1", hostname="vm", image_ref="img")
    values.update(fields)
    return Instance.create(id=str(uuid.uuid4()), **values)


def state(host="h1", **fields):
    values = dict(node_id="n", host=host, hypervisor_hostname=host, hypervisor_type="QEMU",
                  cpu_arch="x86_64", availability_zone="nova", vcpus_total=4,
                  memory_mb_total=1024, disk_gb_total=20, vcpus_used=0, memory_mb_used=0,
                  disk_gb_used=0, up=True)
    values.update(fields)
    return HostState(**values)


class FakeCompute:
    def __init__(self):
        self.built = []

    def build_and_run_instance(self, context, host, instance_id, request_spec):
        self.built.append((host, instance_id))

    def resize_instance(self, context, host, instance_id):
        self.built.append(("resize", host, instance_id))


def conductor(cfg):
    made = ComputeConductor(cfg, host="control")
    made._compute = FakeCompute()
    return made


# ---- filters and weigher ------------------------------------------------------------------

def test_filters_drop_hosts_that_cannot_take_the_request():
    request = Request(vcpus=2, memory_mb=512, disk_gb=10)
    hosts = [state("ok"), state("down", up=False), state("small", memory_mb_used=600),
             state("busy", vcpus_used=3), state("full", disk_gb_used=15)]
    assert [h.host for h in filters.passing(hosts, request)] == ["ok"]


def test_availability_zone_and_image_properties_filters():
    hosts = [state("a", availability_zone="az1"), state("b", availability_zone="az2")]
    assert [h.host for h in filters.passing(hosts, Request(1, 1, 1, "az2"))] == ["b"]
    arm = Request(1, 1, 1, image_properties={"hw_architecture": "aarch64"})
    assert filters.passing(hosts, arm) == []
    x86 = Request(1, 1, 1, image_properties={"architecture": "amd64", "img_hv_type": "kvm"})
    assert len(filters.passing(hosts, x86)) == 2
    xen = Request(1, 1, 1, image_properties={"hypervisor_type": "xen"})
    assert filters.passing(hosts, xen) == []


def test_server_group_affinity_and_anti_affinity():
    hosts = [state("a"), state("b")]
    affinity = Request(1, 1, 1, group_policy="affinity", group_hosts={"b"})
    assert [h.host for h in filters.passing(hosts, affinity)] == ["b"]
    anti = Request(1, 1, 1, group_policy="anti-affinity", group_host_counts={"b": 1})
    assert [h.host for h in filters.passing(hosts, anti)] == ["a"]


def test_weigher_spreads_by_free_ram():
    hosts = [state("a", memory_mb_used=800), state("b"), state("c", memory_mb_used=100)]
    assert [h.host for h in weighers.ordered(hosts, Request(1, 1, 1))] == ["b", "c", "a"]


# ---- claims -------------------------------------------------------------------------------

def test_claim_is_refused_when_it_does_not_fit(cfg):
    host = node("h1", memory_mb=1024)
    assert claims.claim(host.id, "i1", 1, 512, 1, EXACT)
    assert claims.claim(host.id, "i2", 1, 512, 1, EXACT)
    assert not claims.claim(host.id, "i3", 1, 512, 1, EXACT)
    assert ComputeNode.get_by_id(host.id).memory_mb_used == 1024
    assert claims.release("i1") == 1
    assert ComputeNode.get_by_id(host.id).memory_mb_used == 512


def test_threads_racing_for_one_slot_never_overcommit(cfg):
    host = node("h1", memory_mb=2048, vcpus=64)
    results = []
    start = threading.Barrier(16)

    def race(index):
        db.connect(cfg)
        start.wait()
        results.append(claims.claim(host.id, f"i{index}", 1, 512, 1, EXACT))

    threads = [threading.Thread(target=race, args=(i,)) for i in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results.count(True) == 4
    assert ComputeNode.get_by_id(host.id).memory_mb_used == 2048
    assert Claim.select().count() == 4


def _claim_in_process(cfg_json, node_id, index, queue):
    cfg = config.from_json(cfg_json)
    db.connect(cfg)
    won = sum(claims.claim(node_id, f"p{index}-{n}", 1, 256, 1, EXACT) for n in range(5))
    queue.put(won)


def test_processes_racing_never_overcommit(cfg):
    host = node("h1", memory_mb=2048, vcpus=64)  # room for 8 claims of 256 MB, 30 tried
    fork = multiprocessing.get_context("fork")
    queue = fork.Queue()
    db.database.close()
    processes = [fork.Process(target=_claim_in_process,
                              args=(cfg.to_json(), host.id, i, queue)) for i in range(6)]
    for process in processes:
        process.start()
    won = sum(queue.get(timeout=60) for _ in processes)
    for process in processes:
        process.join(timeout=60)
    db.connect(cfg)
    assert won == 8
    assert ComputeNode.get_by_id(host.id).memory_mb_used == 2048


# ---- the conductor ----------------------------------------------------------------------

def test_conductor_places_then_reports_no_valid_host(cfg):
    node("h1", memory_mb=768)
    made = conductor(cfg)
    first, second = instance(), instance()
    spec = {"flavor": TINY, "image": {"id": "img", "properties": {}}}
    made.build_instances({"request_id": None}, [first.id, second.id], spec)
    assert Instance.get_by_id(first.id).host == "h1"
    failed = Instance.get_by_id(second.id)
    assert failed.vm_state == "error" and failed.host is None
    assert InstanceFault.get(InstanceFault.instance == failed.id).message.startswith(
        "No valid host was found.")
    assert made.compute.built == [("h1", first.id)]


def test_down_or_disabled_hosts_are_skipped(cfg):
    node("old", heartbeat_at=db.utcnow().replace(year=2000))
    node("off", enabled=False)
    made = conductor(cfg)
    server = instance()
    made.build_instances({}, [server.id], {"flavor": TINY})
    assert Instance.get_by_id(server.id).vm_state == "error"


def test_anti_affinity_group_spreads_instances(cfg):
    node("a", memory_mb=4096)
    node("b", memory_mb=4096)
    group = ServerGroup.create(name="g", project_id="p", user_id="u", policy="anti-affinity")
    made = conductor(cfg)
    servers = [instance(server_group_id=group.id) for _ in range(3)]
    made.build_instances({}, [s.id for s in servers], {"flavor": TINY, "group_id": group.id})
    hosts = [Instance.get_by_id(s.id).host for s in servers]
    assert sorted(hosts[:2]) == ["a", "b"] and hosts[2] is None


def test_resize_claims_growth_and_confirm_keeps_one_claim(cfg):
    host = node("h1", memory_mb=2048)
    made = conductor(cfg)
    server = instance()
    made.build_instances({}, [server.id], {"flavor": TINY})
    bigger = dict(TINY, name="m1.small", memory_mb=1024, root_gb=2)
    made.resize_instance({}, server.id, bigger)
    assert ComputeNode.get_by_id(host.id).memory_mb_used == 1024
    made.update_instance(server.id, {"flavor": bigger})
    made.finish_resize_claims(server.id, confirmed=True)
    assert [c.memory_mb for c in claims.held(server.id)] == [1024]
    assert ComputeNode.get_by_id(host.id).memory_mb_used == 1024


def test_resize_revert_gives_the_growth_back(cfg):
    host = node("h1", memory_mb=2048)
    made = conductor(cfg)
    server = instance()
    made.build_instances({}, [server.id], {"flavor": TINY})
    made.resize_instance({}, server.id, dict(TINY, memory_mb=1024))
    made.finish_resize_claims(server.id, confirmed=False)
    assert ComputeNode.get_by_id(host.id).memory_mb_used == 512


def test_reconcile_releases_claims_of_deleted_instances(cfg):
    host = node("h1")
    made = conductor(cfg)
    server = instance()
    made.build_instances({}, [server.id], {"flavor": TINY})
    Instance.update(deleted=True).where(Instance.id == server.id).execute()
    assert made.release_stale_claims() == 1
    assert ComputeNode.get_by_id(host.id).memory_mb_used == 0


def test_reconcile_reschedules_instances_whose_cast_was_lost(cfg):
    node("h1")
    made = conductor(cfg)
    server = instance()
    Instance.update(updated_at=db.utcnow().replace(year=2000)).execute()
    assert made.reschedule_lost() == 1
    assert Instance.get_by_id(server.id).host == "h1"


def test_report_host_creates_then_updates_the_node(cfg):
    made = conductor(cfg)
    made.report_host({"host": "h9", "vcpus": 2, "memory_mb": 1000, "local_gb": 5})
    made.report_host({"host": "h9", "vcpus": 4, "memory_mb": 1000, "local_gb": 5})
    found = ComputeNode.get(ComputeNode.host == "h9")
    assert found.vcpus == 4 and found.heartbeat_at is not None
    assert [h.host for h in hoststate.load(EXACT, 60)] == ["h9"]


def test_update_instance_honours_the_expected_task_state(cfg):
    made = conductor(cfg)
    server = instance(task_state="spawning")
    assert made.update_instance(server.id, {"vm_state": "active"},
                                expected_task_state="deleting") is None
    done = made.update_instance(server.id, {"vm_state": "active", "task_state": None,
                                            "launched_at": "now"},
                                expected_task_state="spawning")
    assert done["vm_state"] == "active" and done["launched_at"] is not None


def test_placing_many_instances_uses_every_host(cfg):
    for index in range(20):
        node(f"h{index:02}", memory_mb=1024)
    made = conductor(cfg)
    servers = [instance() for _ in range(40)]
    made.build_instances({}, [s.id for s in servers], {"flavor": TINY})
    assert ComputeNode.select().where(ComputeNode.memory_mb_used == 1024).count() == 20
    assert placement.NO_VALID_HOST.startswith("No valid host was found.")


def test_concurrent_build_requests_on_a_one_guest_host(cfg):
    node("h1", memory_mb=768)
    made = conductor(cfg)
    servers = [instance() for _ in range(6)]
    start = threading.Barrier(len(servers))

    def build(server):
        db.connect(cfg)
        start.wait()
        made.build_instances({}, [server.id], {"flavor": TINY})

    threads = [threading.Thread(target=build, args=(s,)) for s in servers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    states = sorted(Instance.get_by_id(s.id).vm_state for s in servers)
    assert states == ["building"] + ["error"] * 5
    assert ComputeNode.get(ComputeNode.host == "h1").memory_mb_used == 512
    assert Claim.select().count() == 1


def test_a_lost_scheduling_pass_does_not_leak_its_claim(cfg):
    host = node("h1", memory_mb=1024)
    made = conductor(cfg)
    server = instance()
    claims.claim(host.id, server.id, 1, 512, 1, EXACT)  # the pass died before assigning
    Instance.update(updated_at=db.utcnow().replace(year=2000)).execute()
    made.reschedule_lost()
    assert Instance.get_by_id(server.id).host == "h1"
    assert ComputeNode.get_by_id(host.id).memory_mb_used == 512
