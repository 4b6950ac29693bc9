"""The compute manager: one per hypervisor host, on topic ``compute.<host>``.

It builds and runs guests through the libvirt driver and reports what happened. It holds
no DB credentials: every fact comes from, and every change goes to, the conductor over the
bus. At start and periodically it reconciles: instances left mid-operation by a crash are
finished or put in ERROR with a fault, power states are synced with the hypervisor, and the
host's resources are reported.
"""
import collections
import datetime
import logging
import os
import shutil
import socket
import threading
import time
import traceback
import uuid as uuids

from undercloud.bus import BusError, BusTimeout, NoPeer, RpcServer, remote
from undercloud.client.images import ImageClient
from undercloud.common.manager import Manager
from undercloud.compute import guestinfo, vifs
from undercloud.compute.drivers import power_state
from undercloud.compute.drivers.errors import InstanceNotFound, NicNotFound
from undercloud.compute.drivers.instance import Instance as Guest
from undercloud.compute.drivers.libvirt import LibvirtDriver
from undercloud.compute.rpcapi import ConductorAPI, compute_topic
from undercloud.host import disks, libvirtd
from undercloud.network.rpcapi import AgentAPI, ServerAPI

LOG = logging.getLogger(__name__)
BUILD_TASK_STATES = [None, "scheduling", "networking", "block_device_mapping", "spawning"]
# Reconciliation leaves a task alone this long after its last change (its cast may be queued).
STUCK_AFTER_SECONDS = 30


class NetworkUnavailable(Exception):
    """No network agent on this host wired the instance's port."""


def _option(config, key, default):
    value = (config.get("compute") or {}).get(key)
    return default if value is None else value


def _uuid(instance_id: str) -> str:
    """libvirt's form of the instance id (dashed)."""
    return str(uuids.UUID(instance_id))


class ComputeManager(Manager):
    service = "compute"

    def __init__(self, config, host: str | None = None, conductor: ConductorAPI | None = None,
                 network: ServerAPI | None = None, agents: AgentAPI | None = None):
        super().__init__(config, host or _option(config, "host", None) or socket.gethostname())
        self.uri = _option(config, "virt_uri", "qemu:///system")
        self.instances_dir = _option(config, "instances_dir", None) or \
            config.path("compute", "instances")
        self.driver = LibvirtDriver(self.uri, _option(config, "virt_type", "auto"),
                                    self.instances_dir)
        self.cache = disks.ImageCache.for_config(config)
        self.conductor = conductor or ConductorAPI(config)
        self.network = network or ServerAPI(config)
        self.agents = agents or AgentAPI(config)
        self.images = ImageClient(config)
        self.report_interval = _option(config, "report_interval", 10)
        self.power_sync_interval = _option(config, "power_sync_interval", 60)
        self.reconcile_every = _option(config, "reconcile_interval", 60)
        self.shutdown_timeout = _option(config, "shutdown_timeout", 60)
        self._locks = collections.defaultdict(threading.Lock)
        self._locks_guard = threading.Lock()
        self.busy: set[str] = set()

    @property
    def topics(self) -> list[str]:
        return [compute_topic(self.host)]

    # ---- the process ----------------------------------------------------------------------

    def prepare(self):
        """Folders qemu (user libvirt-qemu) can traverse, and the libvirt daemons."""
        os.makedirs(self.config.path("compute"), mode=0o755, exist_ok=True)
        os.chmod(self.config.path("compute"), 0o755)
        os.makedirs(self.instances_dir, mode=0o755, exist_ok=True)
        os.makedirs(self.cache.folder, mode=0o755, exist_ok=True)
        # Half-written downloads and snapshot exports of a process that was killed.
        for folder in (self.cache.folder, self.instances_dir):
            for name in os.listdir(folder):
                path = os.path.join(folder, name)
                if name.startswith(".") and os.path.isfile(path):
                    LOG.info("removing %s, left by an interrupted download or export", path)
                    os.unlink(path)
        if self.uri == "qemu:///system":
            libvirtd.ensure_running()

    def run(self):
        self.prepare()
        server = RpcServer(self.config, self.topics, self, f"compute-host-{self.host}")
        server.start()
        LOG.info("compute manager on %s (%s) serving %s", self.host, self.uri, self.topics[0])
        try:
            self._wait_for_conductor()
            self._safely(lambda: self.reconcile(startup=True))
            due = {"report": time.monotonic() + self.report_interval,
                   "power": time.monotonic() + self.power_sync_interval,
                   "reconcile": time.monotonic() + self.reconcile_every}
            while not self.stopping.wait(0.5):
                now = time.monotonic()
                if now >= due["report"]:
                    due["report"] = now + self.report_interval
                    self._safely(self.report)
                if now >= due["power"]:
                    due["power"] = now + self.power_sync_interval
                    self._safely(self.sync_power_states)
                if now >= due["reconcile"]:
                    due["reconcile"] = now + self.reconcile_every
                    self._safely(self.reconcile)
        finally:
            server.stop()
            self.driver.close()

    def _wait_for_conductor(self):
        """Report until the conductor answers: nothing is scheduled here before that."""
        while not self.stopping.is_set():
            try:
                self.report()
                return
            except BusError as exc:
                LOG.info("waiting for the compute conductor: %s", exc)
                self.stopping.wait(1.0)

    @staticmethod
    def _safely(work):
        try:
            work()
        except Exception:  # a failed pass is retried on the next one
            LOG.exception("compute periodic task failed; retrying on the next pass")

    def _lock(self, instance_id: str) -> threading.Lock:
        with self._locks_guard:
            return self._locks[instance_id]

    # ---- host report and power sync --------------------------------------------------------

    def report(self):
        resources = self.driver.host_resources()
        report = {
            "host": self.host, "hypervisor_hostname": self.host, "hypervisor_type": "QEMU",
            "hypervisor_version": resources["hypervisor_version"],
            "cpu_arch": resources["cpu_arch"],
            # This host's own address (an overcloud compute host's), not the API's.
            "host_ip": self.config["network"]["tunnel_ip"] or self.config.host,
            "cpu_info": {"arch": resources["cpu_arch"], "virt_type": resources["virt_type"]},
            "vcpus": _option(self.config, "host_vcpus", resources["vcpus"]),
            "memory_mb": _option(self.config, "host_memory_mb", resources["memory_mb"]),
            "local_gb": _option(self.config, "host_disk_gb", resources["disk_gb"]),
            "availability_zone": _option(self.config, "default_availability_zone", "nova"),
        }
        self.conductor.report_host(report)

    def sync_power_states(self):
        """What the hypervisor says wins: a vanished or stopped guest is SHUTOFF."""
        for record in self.conductor.instances_on_host(self.host):
            if record["task_state"] is not None or record["id"] in self.busy or \
                    record["vm_state"] in ("building", "error", "deleted"):
                continue
            actual = self.driver.power_state(_uuid(record["id"]))
            if actual == power_state.NOSTATE:
                actual = power_state.SHUTDOWN
            values = {}
            if actual != record["power_state"]:
                values["power_state"] = actual
            if record["vm_state"] in ("active", "resized") and \
                    actual in (power_state.SHUTDOWN, power_state.CRASHED):
                values["vm_state"] = "stopped"
            if values:
                LOG.info("instance %s: hypervisor says %s; recording %s", record["id"],
                         power_state.NAMES.get(actual), values)
                self.conductor.update_instance(record["id"], values, expected_task_state=None)

    # ---- reconciliation --------------------------------------------------------------------

    def reconcile(self, startup: bool = False):
        """Finish what a crash interrupted. At start nothing is in flight, so every task is
        stuck; later only tasks untouched for STUCK_AFTER_SECONDS are."""
        oldest = time.time() - STUCK_AFTER_SECONDS
        if not self.busy:
            self.prune_cache()
        for record in self.conductor.instances_on_host(self.host):
            if record["id"] in self.busy:
                continue
            task, state = record["task_state"], record["vm_state"]
            if task is None and state != "building":
                continue
            if not startup and _timestamp(record["updated_at"]) > oldest:
                continue
            LOG.warning("instance %s was left %s/%s; finishing it", record["id"], state, task)
            threading.Thread(target=self._finish_stuck, args=(record,), daemon=True,
                             name=f"reconcile-{record['id'][:8]}").start()

    def _finish_stuck(self, record):
        instance_id, task = record["id"], record["task_state"]
        context = None
        try:
            if task == "deleting":
                self.terminate_instance(context, instance_id)
            elif record["vm_state"] == "building":
                self.build_and_run_instance(context, instance_id, None)
            elif task == "powering-off":
                self.stop_instance(context, instance_id)
            elif task == "powering-on":
                self.start_instance(context, instance_id)
            elif task and task.startswith("reboot"):
                self.reboot_instance(context, instance_id, True)
            elif task in ("pausing", "unpausing", "suspending", "resuming"):
                method = {"pausing": self.pause_instance, "unpausing": self.unpause_instance,
                          "suspending": self.suspend_instance,
                          "resuming": self.resume_instance}[task]
                method(context, instance_id)
            elif task and task.startswith("rebuild"):
                self.rebuild_instance(context, instance_id, record["image_ref"])
            elif task == "resize_reverting":
                self.revert_resize(context, instance_id)
            elif task == "resize_confirming":
                self.confirm_resize(context, instance_id)
            elif task and task.startswith("image_"):
                self.conductor.update_instance(instance_id, {"task_state": None})
            else:
                self._error(None, instance_id, f"interrupted while {task}; the host restarted",
                            "", None)
        except Exception:
            LOG.exception("could not finish instance %s's %s", instance_id, task)

    # ---- building --------------------------------------------------------------------------

    @remote
    def build_and_run_instance(self, context, instance_id, request_spec=None):
        event = "compute__do_build_and_run_instance"
        with self._lock(instance_id):
            record = self.conductor.get_instance(instance_id)
            if record is None or record["deleted"] or record["host"] != self.host or \
                    record["vm_state"] != "building":
                return
            self.busy.add(instance_id)
            try:
                self.conductor.action_event_start(context, instance_id, event, self.host)
                try:
                    record = self._allocate_network(context, record)
                    self.conductor.update_instance(instance_id, {"task_state": "spawning"})
                    self._spawn(context, record)
                except Exception as exc:
                    LOG.exception("building instance %s failed", instance_id)
                    try:
                        self._cleanup(record)
                    except BusError:  # its delete releases the ports again
                        LOG.exception("could not release the ports of instance %s", instance_id)
                    self.conductor.release_claims(instance_id)
                    self._error(context, instance_id, f"Build of instance {instance_id} "
                                f"aborted: {exc}", traceback.format_exc(), event)
                    return
                done = self.conductor.update_instance(
                    instance_id, {"vm_state": "active", "task_state": None,
                                  "power_state": self.driver.power_state(_uuid(instance_id)),
                                  "launched_at": "now"}, expected_task_state="spawning")
                if done is None:
                    self._deleted_while_building(record)
                    return
                self.conductor.action_event_finish(context, instance_id, event, self.host)
                LOG.info("instance %s is ACTIVE on %s", instance_id, self.host)
            finally:
                self.busy.discard(instance_id)

    def _deleted_while_building(self, record):
        """The user deleted the instance while it was building: nothing may stay behind."""
        LOG.info("instance %s was deleted while it was building; removing it", record["id"])
        self._cleanup(record)
        now = self.conductor.get_instance(record["id"])
        if now is not None and not now["deleted"]:
            self.conductor.instance_deleted(record["id"])

    # ---- networking ------------------------------------------------------------------------

    def _allocate_network(self, context, record) -> dict:
        """The instance's ports made, bound and plugged here; the record with its VIFs."""
        requested = record.get("requested_networks") or []
        if not requested:
            return record
        instance_id = record["id"]
        self.conductor.update_instance(instance_id, {"task_state": "networking"})
        self.network.deallocate_for_instance(instance_id)  # a retried build starts clean
        allocated = self.network.allocate_for_instance(
            _network_context(context, record), instance_id, record["project_id"], self.host,
            requested, record.get("security_groups") or [],
            record.get("availability_zone") or "nova")
        network_info = [self._plug(vif) for vif in allocated]
        self._save_network_info(instance_id, network_info)
        return dict(record, network_info=network_info)

    def _plug(self, vif: dict) -> dict:
        """Wire the port on this host before a guest uses it; the VIF with what was wired."""
        try:
            wired = self.agents.plug_port(self.host, vif["port_id"])
        except (NoPeer, BusTimeout) as exc:
            raise NetworkUnavailable(f"no network agent on host {self.host} plugged port "
                                     f"{vif['port_id']} ({exc})") from None
        return {**vif, **{key: wired[key] for key in ("bridge", "tap", "mtu")
                          if wired.get(key)}}

    def _save_network_info(self, instance_id, network_info):
        self.conductor.update_instance(instance_id, {"network_info": network_info,
                                                     "addresses": vifs.addresses(network_info)})

    def _release_ports(self, record, port_ids=None):
        """Unplug and give back the instance's ports (all, or port_ids): compute's are
        deleted, the user's unbound. Safe to repeat."""
        for vif in record.get("network_info") or []:
            if port_ids is None or vif["port_id"] in port_ids:
                try:
                    self.agents.unplug_port(self.host, vif["port_id"])
                except BusError as exc:  # the agent drops rules of ports gone from its host
                    LOG.warning("could not unplug port %s: %s", vif["port_id"], exc)
        try:
            self.network.deallocate_for_instance(record["id"], port_ids=port_ids)
        except BusError:
            if record.get("network_info") or record.get("requested_networks"):
                raise
            LOG.debug("instance %s never asked for a port and no network service answers",
                      record["id"])

    @remote
    def attach_interface(self, context, instance_id, network_id=None, port_id=None,
                         fixed_ip=None, tag=None) -> dict:
        """One more port on the instance, plugged live if the guest runs; returns its VIF."""
        event = "compute_attach_interface"
        with self._lock(instance_id):
            record = self.conductor.get_instance(instance_id)
            if record is None or record["deleted"] or record["host"] != self.host:
                raise InstanceNotFound(f"instance {instance_id} is not on host {self.host}")
            self.conductor.action_event_start(context, instance_id, event, self.host)
            try:
                vif = self._attach(context, record, network_id, port_id, fixed_ip, tag)
            except Exception as exc:
                LOG.exception("attaching an interface to instance %s failed", instance_id)
                self.conductor.action_event_finish(context, instance_id, event, self.host,
                                                   error=str(exc))
                raise
            self.conductor.action_event_finish(context, instance_id, event, self.host)
            LOG.info("instance %s: port %s attached", instance_id, vif["port_id"])
            return vif

    def _attach(self, context, record, network_id, port_id, fixed_ip, tag) -> dict:
        if port_id:
            requested = [{"port": port_id}]
        elif network_id:
            requested = [{"uuid": network_id, **({"fixed_ip": fixed_ip} if fixed_ip else {})}]
        else:
            requested = []  # the one network the project can use
        vif, = self.network.allocate_for_instance(
            _network_context(context, record), record["id"], record["project_id"], self.host,
            requested, record.get("security_groups") or [],
            record.get("availability_zone") or "nova")
        try:
            vif = dict(self._plug(vif), **({"tag": tag} if tag else {}))
            if self.driver.power_state(_uuid(record["id"])) != power_state.NOSTATE:
                self.driver.attach_interface(_uuid(record["id"]), vifs.nics([vif])[0])
        except Exception:
            self.network.deallocate_for_instance(record["id"], port_ids=[vif["port_id"]])
            raise
        current = self.conductor.get_instance(record["id"]) or record
        network_info = [v for v in current.get("network_info") or []
                        if v["port_id"] != vif["port_id"]] + [vif]
        self._save_network_info(record["id"], network_info)
        return vif

    @remote
    def detach_interface(self, context, instance_id, port_id):
        """Unplug one port from the instance and give it back."""
        event = "compute_detach_interface"
        with self._lock(instance_id):
            record = self.conductor.get_instance(instance_id)
            if record is None or record["deleted"] or record["host"] != self.host:
                return
            self.conductor.action_event_start(context, instance_id, event, self.host)
            try:
                for vif in record.get("network_info") or []:
                    if vif["port_id"] == port_id:
                        try:
                            self.driver.detach_interface(_uuid(instance_id), vif["mac_address"])
                        except (InstanceNotFound, NicNotFound):
                            pass  # no guest, or no such NIC: nothing to unplug from it
                self._release_ports(record, port_ids=[port_id])
                current = self.conductor.get_instance(instance_id) or record
                self._save_network_info(instance_id, [
                    v for v in current.get("network_info") or [] if v["port_id"] != port_id])
            except Exception as exc:
                LOG.exception("detaching port %s from instance %s failed", port_id, instance_id)
                self.conductor.action_event_finish(context, instance_id, event, self.host,
                                                   error=str(exc))
                return
            self.conductor.action_event_finish(context, instance_id, event, self.host)
            LOG.info("instance %s: port %s detached", instance_id, port_id)

    def _files(self, instance_id):
        return disks.instance_files(self.instances_dir, instance_id)

    def _guest(self, record, flavor=None) -> Guest:
        flavor = flavor or record["flavor"]
        files = self._files(record["id"])
        return Guest(uuid=_uuid(record["id"]), name=f"instance-{record['id']}",
                     vcpus=int(flavor.get("vcpus") or 1),
                     memory_mb=int(flavor.get("memory_mb") or flavor.get("ram") or 64),
                     disk_path=files.disk,
                     config_drive_path=files.config_drive
                     if os.path.exists(files.config_drive) else None,
                     console_log_path=files.console_log, display_name=record["display_name"],
                     nics=vifs.nics(record.get("network_info")))

    def _spawn(self, context, record, image_ref=None):
        """Disk, config drive and domain for the record, from a clean folder."""
        files = self._files(record["id"])
        self.driver.undefine(_uuid(record["id"]))
        if os.path.exists(files.folder):
            disks.delete(files.folder)  # a build or rebuild a crash interrupted
        os.makedirs(files.folder, mode=0o755)
        image_ref = image_ref or record["image_ref"]
        base = self._cached_image(context, image_ref)
        root_gb = int(record["flavor"].get("root_gb") or record["flavor"].get("disk") or 0)
        disks.create_overlay(base.path, files.disk,
                             root_gb if root_gb * disks.GIB >= base.virtual_size else None)
        if record.get("config_drive") or _option(self.config, "force_config_drive", False):
            guestinfo.drive_for(record).write(files.config_drive)
        self.driver.spawn(self._guest(record))

    def _cached_image(self, context, image_id):
        path = self.cache.path(image_id)
        if os.path.exists(path):
            return disks.info(path)
        image = self.images.get(context, image_id)
        checksums = {}
        if image.get("os_hash_algo") and image.get("os_hash_value"):
            checksums[image["os_hash_algo"]] = image["os_hash_value"]
        return self.cache.fetch(image_id, lambda: self.images.data(context, image_id),
                                checksums)

    def _cleanup(self, record):
        """No domain, disk, port or cached base of an unused image stays behind."""
        self.driver.undefine(_uuid(record["id"]))
        disks.delete(self._files(record["id"]).folder)
        self.prune_cache(other_than=record["id"])
        self._release_ports(record)

    def prune_cache(self, other_than: str | None = None):
        """Drop cached bases no live instance on this host boots from (other_than: the
        instance going away, which still counts as live until the conductor marks it)."""
        for image_id in self.cache.cached():
            if not self.conductor.image_in_use(self.host, image_id, other_than):
                LOG.info("no instance on %s uses image %s any more; dropping it from the "
                         "cache", self.host, image_id)
                self.cache.remove(image_id)

    def _error(self, context, instance_id, message, details, event):
        self.conductor.add_fault(instance_id, message, 500, details, self.host)
        self.conductor.update_instance(instance_id, {"vm_state": "error", "task_state": None})
        if event:
            self.conductor.action_event_finish(context, instance_id, event, self.host,
                                               error=message)

    # ---- actions on a running instance ------------------------------------------------------

    def _act(self, context, instance_id, event, work):
        """Run work(record) -> instance values under the instance's lock, recording the event;
        a failure leaves the instance as the hypervisor has it, with a fault."""
        with self._lock(instance_id):
            record = self.conductor.get_instance(instance_id)
            if record is None or record["deleted"] or record["host"] != self.host:
                return
            self.busy.add(instance_id)
            try:
                self.conductor.action_event_start(context, instance_id, event, self.host)
                try:
                    values = work(record) or {}
                except Exception as exc:
                    LOG.exception("%s of instance %s failed", event, instance_id)
                    self.conductor.add_fault(instance_id, str(exc)[:255], 500,
                                             traceback.format_exc(), self.host)
                    self.conductor.update_instance(instance_id, {
                        "task_state": None, "power_state": self._power(instance_id)})
                    self.conductor.action_event_finish(context, instance_id, event, self.host,
                                                       error=str(exc))
                    return
                values.setdefault("task_state", None)
                values.setdefault("power_state", self._power(instance_id))
                self.conductor.update_instance(instance_id, values)
                self.conductor.action_event_finish(context, instance_id, event, self.host)
            finally:
                self.busy.discard(instance_id)

    def _power(self, instance_id) -> int:
        state = self.driver.power_state(_uuid(instance_id))
        return power_state.SHUTDOWN if state == power_state.NOSTATE else state

    def _ensure_defined(self, record, flavor=None):
        """A guest whose domain vanished (hypervisor restart, test driver) is defined again
        from its files, as Nova's hard reboot does."""
        if self.driver.power_state(_uuid(record["id"])) == power_state.NOSTATE:
            self.driver.define(self._guest(record, flavor))

    @remote
    def reboot_instance(self, context, instance_id, hard: bool = False):
        def work(record):
            if self.driver.power_state(_uuid(instance_id)) == power_state.NOSTATE:
                self._ensure_defined(record)
                self.driver.start(_uuid(instance_id))
            else:
                self.driver.reboot(_uuid(instance_id), hard=hard, timeout=self.shutdown_timeout)
            return {"vm_state": "active"}
        self._act(context, instance_id, "compute_reboot_instance", work)

    @remote
    def stop_instance(self, context, instance_id):
        def work(record):
            try:
                self.driver.shutdown(_uuid(instance_id), timeout=self.shutdown_timeout)
            except InstanceNotFound:
                pass  # already gone: it is as stopped as it gets
            return {"vm_state": "stopped", "power_state": power_state.SHUTDOWN}
        self._act(context, instance_id, "compute_stop_instance", work)

    @remote
    def start_instance(self, context, instance_id):
        def work(record):
            self._ensure_defined(record)
            self.driver.start(_uuid(instance_id))
            return {"vm_state": "active"}
        self._act(context, instance_id, "compute_start_instance", work)

    @remote
    def pause_instance(self, context, instance_id):
        self._act(context, instance_id, "compute_pause_instance", lambda record: (
            self.driver.pause(_uuid(instance_id)), {"vm_state": "paused"})[1])

    @remote
    def unpause_instance(self, context, instance_id):
        self._act(context, instance_id, "compute_unpause_instance", lambda record: (
            self.driver.unpause(_uuid(instance_id)), {"vm_state": "active"})[1])

    @remote
    def suspend_instance(self, context, instance_id):
        self._act(context, instance_id, "compute_suspend_instance", lambda record: (
            self.driver.suspend(_uuid(instance_id)), {"vm_state": "suspended"})[1])

    @remote
    def resume_instance(self, context, instance_id):
        self._act(context, instance_id, "compute_resume_instance", lambda record: (
            self.driver.resume(_uuid(instance_id)), {"vm_state": "active"})[1])

    @remote
    def rebuild_instance(self, context, instance_id, image_ref: str):
        def work(record):
            self.conductor.update_instance(instance_id, {"task_state": "rebuild_spawning",
                                                         "image_ref": image_ref})
            was_stopped = record["vm_state"] == "stopped"
            record = dict(record, image_ref=image_ref)
            self._spawn(context, record, image_ref)
            self.prune_cache()  # the image it was built from before may now be unused
            if was_stopped:  # as Nova does, a stopped server stays stopped across a rebuild
                self.driver.destroy(_uuid(instance_id))
                return {"vm_state": "stopped", "power_state": power_state.SHUTDOWN,
                        "launched_at": "now"}
            return {"vm_state": "active", "launched_at": "now"}
        self._act(context, instance_id, "compute_rebuild_instance", work)

    # ---- resize (on this host) ---------------------------------------------------------------

    @remote
    def resize_instance(self, context, instance_id):
        def work(record):
            new_flavor = record["new_flavor"] or record["flavor"]
            files = self._files(instance_id)
            was_running = self.driver.power_state(_uuid(instance_id)) == power_state.RUNNING
            if was_running:
                self.driver.destroy(_uuid(instance_id))
            # The disk as it was, for revertResize (an overlay: small to copy).
            shutil.copyfile(files.disk, files.disk + ".resize-backup")
            root_gb = int(new_flavor.get("root_gb") or new_flavor.get("disk") or 0)
            if root_gb and root_gb * disks.GIB > disks.info(files.disk).virtual_size:
                disks.resize(files.disk, root_gb)
            self.driver.define(self._guest(record, new_flavor))
            if was_running:
                self.driver.start(_uuid(instance_id))
            return {"vm_state": "resized", "flavor": new_flavor, "old_flavor": record["flavor"],
                    "new_flavor": new_flavor}
        self._act(context, instance_id, "compute_resize_instance", work)

    @remote
    def confirm_resize(self, context, instance_id):
        def work(record):
            disks.delete(self._files(instance_id).disk + ".resize-backup")
            self.conductor.finish_resize_claims(instance_id, True)
            running = self._power(instance_id) != power_state.SHUTDOWN
            return {"vm_state": "active" if running else "stopped", "old_flavor": None,
                    "new_flavor": None}
        self._act(context, instance_id, "compute_confirm_resize", work)

    @remote
    def revert_resize(self, context, instance_id):
        def work(record):
            old_flavor = record["old_flavor"] or record["flavor"]
            files = self._files(instance_id)
            self.driver.undefine(_uuid(instance_id))
            backup = files.disk + ".resize-backup"
            if os.path.exists(backup):
                os.replace(backup, files.disk)
            self.driver.spawn(self._guest(record, old_flavor))
            self.conductor.finish_resize_claims(instance_id, False)
            return {"vm_state": "active", "flavor": old_flavor, "old_flavor": None,
                    "new_flavor": None}
        self._act(context, instance_id, "compute_revert_resize", work)

    # ---- snapshot, console, delete -----------------------------------------------------------

    @remote
    def snapshot_instance(self, context, instance_id, image_id: str):
        def work(record):
            files = self._files(instance_id)
            target = os.path.join(self.instances_dir, f".snapshot-{image_id}")
            try:
                self.conductor.update_instance(instance_id, {"task_state": "image_uploading"})
                disks.export_snapshot(files.disk, target, force_share=True)
                self.images.upload(context, image_id, target)
            except Exception:
                try:
                    self.images.delete(context, image_id)
                except Exception:
                    LOG.warning("could not delete the failed snapshot image %s", image_id)
                raise
            finally:
                disks.delete(target)
            return {}
        self._act(context, instance_id, "compute_snapshot_instance", work)

    @remote
    def get_console_output(self, context, instance_id, length: int | None = None) -> str:
        try:
            output = self.driver.console_output(_uuid(instance_id))
        except InstanceNotFound:
            path = self._files(instance_id).console_log
            output = open(path, errors="replace").read() if os.path.exists(path) else ""
        if length is not None and length >= 0:
            lines = output.splitlines(keepends=True)
            output = "".join(lines[-length:]) if length else ""
        return output

    @remote
    def terminate_instance(self, context, instance_id):
        event = "compute_terminate_instance"
        with self._lock(instance_id):
            record = self.conductor.get_instance(instance_id)
            if record is None:
                return
            self.busy.add(instance_id)
            try:
                if not record["deleted"]:
                    self.conductor.action_event_start(context, instance_id, event, self.host)
                self._cleanup(record)
                if not record["deleted"]:
                    self.conductor.instance_deleted(instance_id)
                    self.conductor.action_event_finish(context, instance_id, event, self.host)
                LOG.info("instance %s deleted from %s", instance_id, self.host)
            finally:
                self.busy.discard(instance_id)


def _network_context(context, record) -> dict:
    """Who asks for the ports (never their token): the request's caller, or (when
    reconciling) the instance's owner."""
    context = context or {"user_id": record["user_id"], "project_id": record["project_id"]}
    return {key: context.get(key) for key in ("user_id", "project_id", "roles", "request_id")}


def _timestamp(value) -> float:
    if value is None:
        return 0.0
    if isinstance(value, str):
        value = datetime.datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=datetime.timezone.utc)
    return value.timestamp()
