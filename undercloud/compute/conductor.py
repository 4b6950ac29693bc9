"""The compute conductor: the control-side process that holds the DB for compute.

It schedules (topic ``scheduler``) and records what compute hosts report and decide
(topic ``conductor``), since compute hosts hold no DB credentials. It reconciles too:
instances left in scheduling with no host are scheduled again, and claims of deleted
instances are released.
"""
import datetime
import logging
import socket
import time
import traceback

import peewee

from undercloud import db
from undercloud.bus import BusError, remote
from undercloud.common.manager import Manager
from undercloud.compute import records, vifs
from undercloud.compute.models import (
    Claim, ComputeNode, Instance, InstanceAction, InstanceActionEvent, InstanceFault,
    ServerGroup, ServerGroupMember, ServiceRecord)
from undercloud.compute.rpcapi import CONDUCTOR_TOPIC, SCHEDULER_TOPIC, ComputeAPI
from undercloud.compute.scheduler import claims, hoststate, placement
from undercloud.compute.scheduler.hoststate import Limits
from undercloud.compute.scheduler.request import Request
from undercloud.network.rpcapi import ServerAPI

LOG = logging.getLogger(__name__)
# A scheduling cast older than this with no host is taken as lost and scheduled again.
LOST_SCHEDULING_SECONDS = 30
# Instances whose addresses each reconcile pass re-reads from the network (a lost
# network_changed cast is caught up within a few passes, at a bounded cost).
ADDRESS_REFRESH_BATCH = 20
NO_PORTS = peewee.Value("[]", converter=False)   # network_info as stored when it is empty
# Instance columns a compute host may change through update_instance.
UPDATABLE = {"vm_state", "task_state", "power_state", "launched_at", "terminated_at",
             "image_ref", "flavor", "old_flavor", "new_flavor", "progress", "system_metadata",
             "host", "node", "network_info", "addresses"}
_DATETIMES = {"launched_at", "terminated_at"}


def _option(config, key, default):
    value = (config.get("compute") or {}).get(key)
    return default if value is None else value


class ComputeConductor(Manager):
    service = "compute"

    def __init__(self, config, host: str | None = None):
        super().__init__(config, host or _option(config, "host", None) or socket.gethostname())
        self.limits = Limits.from_config(config)
        self.service_down_time = _option(config, "service_down_time", 60)
        self.max_attempts = _option(config, "scheduler_max_attempts", 10)
        self.reconcile_every = _option(config, "reconcile_interval", 60)
        # The loop ticks at the heartbeat rate; the DB reconciliation runs when due.
        self.reconcile_interval = min(_option(config, "report_interval", 10),
                                      self.reconcile_every)
        self._reconciled_at = 0.0
        self._compute = None
        self._network = None
        self._refreshed_up_to = ""  # the id the last address refresh pass ended at

    @property
    def topics(self) -> list[str]:
        return [SCHEDULER_TOPIC, CONDUCTOR_TOPIC]

    @property
    def compute(self) -> ComputeAPI:
        if self._compute is None:
            self._compute = ComputeAPI(self.config)
        return self._compute

    @property
    def network(self) -> ServerAPI:
        if self._network is None:
            self._network = ServerAPI(self.config)
        return self._network

    # ---- the loop --------------------------------------------------------------------------

    def reconcile(self):
        now = db.utcnow()
        with db.transaction():
            for binary in ("nova-scheduler", "nova-conductor"):
                _heartbeat(binary, self.host, "internal", now)
        if time.monotonic() - self._reconciled_at >= self.reconcile_every:
            self._reconciled_at = time.monotonic()
            self.reschedule_lost()
            self.release_stale_claims()
            self.refresh_addresses()

    def reschedule_lost(self) -> int:
        """Instances still in scheduling with no host long after their cast: schedule again."""
        oldest = db.utcnow() - datetime.timedelta(seconds=LOST_SCHEDULING_SECONDS)
        lost = list(Instance.select().where(
            Instance.deleted == False, Instance.vm_state == "building",  # noqa: E712
            Instance.task_state == "scheduling", Instance.host.is_null(),
            Instance.updated_at < oldest))
        for instance in lost:
            LOG.warning("instance %s waited in scheduling since %s; scheduling it again",
                        instance.id, instance.updated_at)
            claims.release(instance.id)  # made by a scheduling pass that died before assigning
            context = {"user_id": instance.user_id, "project_id": instance.project_id,
                       "roles": [], "token": None, "request_id": None}
            self.build_instances(context, [instance.id], records.request_spec(instance))
        return len(lost)

    def release_stale_claims(self) -> int:
        # Live: not deleted, and not an ERROR that never reached a host (nothing runs there).
        live = Instance.select(Instance.id).where(
            Instance.deleted == False,  # noqa: E712
            ~((Instance.vm_state == "error") & Instance.host.is_null()))
        stale = {row.instance_id for row in Claim.select(Claim.instance_id)
                 .where(Claim.instance_id.not_in(live))}
        for instance_id in stale:
            claims.release(instance_id)
        return len(stale)

    def refresh_addresses(self) -> int:
        """Re-read the VIFs of the next few ACTIVE instances with ports; returns how many
        changed."""
        with_ports = Instance.select(Instance.id).where(
            Instance.deleted == False, Instance.vm_state == "active",  # noqa: E712
            Instance.network_info != NO_PORTS, Instance.id > self._refreshed_up_to) \
            .order_by(Instance.id).limit(ADDRESS_REFRESH_BATCH)
        ids = [row.id for row in with_ports]
        self._refreshed_up_to = ids[-1] if len(ids) == ADDRESS_REFRESH_BATCH else ""
        changed = 0
        for instance_id in ids:
            try:
                changed += self.network_changed(instance_id)
            except BusError as exc:  # the network server is away: the next pass retries
                LOG.warning("could not refresh the addresses of instances: %s", exc)
                break
        return changed

    # ---- scheduling (topic "scheduler") -------------------------------------------------------

    @remote
    def build_instances(self, context: dict, instance_ids: list[str], request_spec: dict):
        request = Request.from_spec(request_spec)
        hosts = hoststate.load(self.limits, self.service_down_time)
        group_id = request_spec.get("group_id")
        for instance_id in instance_ids:
            try:
                self._schedule_one(context, instance_id, request_spec, request, hosts, group_id)
            except Exception as exc:  # one instance's failure must not strand the others
                LOG.exception("scheduling instance %s failed", instance_id)
                self._fail(context, instance_id, f"Scheduling failed: {exc}", 500,
                           traceback.format_exc(), "conductor_schedule_and_build_instances")

    def _schedule_one(self, context, instance_id, spec, request, hosts, group_id):
        instance = Instance.get_or_none(Instance.id == instance_id)
        if instance is None or instance.deleted or instance.host or \
                instance.vm_state != "building":
            return
        event = "conductor_schedule_and_build_instances"
        self.action_event_start(context, instance_id, event, self.host)
        group_id = group_id or instance.server_group_id
        if group_id:
            self._apply_group(request, group_id, instance_id)
        chosen = placement.place(instance_id, request, hosts, self.limits, self.max_attempts)
        if chosen is None:
            LOG.info("no valid host for instance %s (%d MB, %d vCPU, %d GB)", instance_id,
                     request.memory_mb, request.vcpus, request.disk_gb)
            self._fail(context, instance_id, placement.NO_VALID_HOST, 500, "", event)
            return
        with db.transaction():
            assigned = (Instance.update(host=chosen.host, node=chosen.hypervisor_hostname,
                                        availability_zone=instance.availability_zone
                                        or chosen.availability_zone, updated_at=db.utcnow())
                        .where(Instance.id == instance_id, Instance.deleted == False,  # noqa
                               Instance.host.is_null()).execute())
        if not assigned:  # deleted, or scheduled by someone else, meanwhile
            claims.release(instance_id, only_latest=True)
            return
        self.action_event_finish(context, instance_id, event, self.host)
        LOG.info("instance %s scheduled to %s", instance_id, chosen.host)
        self.compute.build_and_run_instance(context, chosen.host, instance_id, spec)

    def _apply_group(self, request: Request, group_id: str, instance_id: str):
        group = ServerGroup.get_or_none(ServerGroup.id == group_id)
        if group is None:
            return
        ServerGroupMember.insert(group=group.id, instance_id=instance_id) \
            .on_conflict_ignore().execute()
        member_ids = ServerGroupMember.select(ServerGroupMember.instance_id) \
            .where(ServerGroupMember.group == group.id)
        counts = {}
        for (host,) in Instance.select(Instance.host).where(
                Instance.id.in_(member_ids), Instance.id != instance_id,
                Instance.deleted == False, Instance.host.is_null(False)).tuples():  # noqa
            counts[host] = counts.get(host, 0) + 1
        request.group_policy = group.policy
        request.group_hosts = set(counts)
        request.group_host_counts = counts
        request.max_server_per_host = (group.rules or {}).get("max_server_per_host")

    @remote
    def resize_instance(self, context: dict, instance_id: str, new_flavor: dict):
        """Claim the growth on the instance's own host, then let that host resize it."""
        event = "conductor_migrate_server"
        instance = Instance.get_or_none(Instance.id == instance_id)
        if instance is None or instance.deleted or not instance.host:
            return
        self.action_event_start(context, instance_id, event, self.host)
        old = Request.from_spec({}, flavor=instance.flavor)
        new = Request.from_spec({}, flavor=new_flavor)
        node = ComputeNode.get_or_none(ComputeNode.host == instance.host)
        grown = node is not None and claims.claim(
            node.id, instance_id, max(new.vcpus - old.vcpus, 0),
            max(new.memory_mb - old.memory_mb, 0), max(new.disk_gb - old.disk_gb, 0),
            self.limits)
        if not grown:
            message = placement.NO_VALID_HOST
            self.add_fault(instance_id, message, 500, "", self.host)
            self.update_instance(instance_id, {"task_state": None})
            self.action_event_finish(context, instance_id, event, self.host, error=message)
            return
        self.update_instance(instance_id, {"old_flavor": instance.flavor,
                                           "new_flavor": new_flavor})
        self.action_event_finish(context, instance_id, event, self.host)
        self.compute.resize_instance(context, instance.host, instance_id)

    def _fail(self, context, instance_id, message, code, details, event):
        self.add_fault(instance_id, message, code, details, self.host)
        self.update_instance(instance_id, {"vm_state": "error", "task_state": None})
        self.action_event_finish(context, instance_id, event, self.host, error=message)

    # ---- what compute hosts ask (topic "conductor") -----------------------------------------

    @remote
    def get_instance(self, instance_id: str) -> dict | None:
        instance = Instance.get_or_none(Instance.id == instance_id)
        return None if instance is None else records.instance_record(instance)

    @remote
    def instances_on_host(self, host: str) -> list[dict]:
        return [records.instance_record(instance) for instance in Instance.select().where(
            Instance.host == host, Instance.deleted == False)]  # noqa: E712

    @remote
    def update_instance(self, instance_id: str, values: dict, expected_task_state=...):
        """Change an instance; with expected_task_state, only if its task_state still is that
        (or one of a list). Returns the instance, or None when nothing changed."""
        unknown = set(values) - UPDATABLE
        if unknown:
            raise ValueError(f"instance {instance_id}: cannot update {sorted(unknown)}")
        changes = {getattr(Instance, key): _value(key, value) for key, value in values.items()}
        changes[Instance.updated_at] = db.utcnow()
        conditions = [Instance.id == instance_id, Instance.deleted == False]  # noqa: E712
        if expected_task_state is not ...:
            expected = expected_task_state if isinstance(expected_task_state, list) \
                else [expected_task_state]
            allowed = [state for state in expected if state is not None]
            condition = Instance.task_state.in_(allowed) if allowed else None
            if None in expected:
                condition = Instance.task_state.is_null() if condition is None \
                    else condition | Instance.task_state.is_null()
            conditions.append(condition)
        elif values.get("task_state", "deleting") != "deleting":
            # A delete the user asked for meanwhile outranks finishing any other task.
            conditions.append(Instance.task_state.is_null() | (Instance.task_state != "deleting"))
        with db.transaction():
            if Instance.update(changes).where(*conditions).execute() != 1:
                return None
        return self.get_instance(instance_id)

    @remote
    def add_fault(self, instance_id: str, message: str, code: int = 500, details: str = "",
                  host: str | None = None) -> None:
        with db.transaction():
            if Instance.get_or_none(Instance.id == instance_id) is not None:
                InstanceFault.create(instance=instance_id, code=code, message=message[:255],
                                     details=details or "", host=host)

    @remote
    def action_event_start(self, context: dict, instance_id: str, event: str,
                           host: str) -> None:
        action = _action(context, instance_id)
        if action is not None:
            with db.transaction():
                InstanceActionEvent.create(action=action, event=event, host=host)

    @remote
    def action_event_finish(self, context: dict, instance_id: str, event: str, host: str,
                            error: str | None = None) -> None:
        action = _action(context, instance_id)
        if action is None:
            return
        now = db.utcnow()
        with db.transaction():
            found = (InstanceActionEvent.select().where(
                InstanceActionEvent.action == action, InstanceActionEvent.event == event,
                InstanceActionEvent.finish_time.is_null())
                .order_by(InstanceActionEvent.start_time.desc()).first())
            if found is None:
                found = InstanceActionEvent.create(action=action, event=event, host=host)
            found.finish_time = now
            found.result = "Error" if error else "Success"
            found.traceback = error
            found.save()
            action.finish_time = now
            action.updated_at = now
            if error:
                action.message = "Error"
            action.save()

    @remote
    def release_claims(self, instance_id: str, host: str | None = None,
                       keep_latest: bool = False) -> None:
        claims.release(instance_id, keep_latest=keep_latest)

    @remote
    def finish_resize_claims(self, instance_id: str, confirmed: bool) -> None:
        """Confirmed: one claim of the new flavor stays; reverted: the growth is given back."""
        instance = Instance.get_or_none(Instance.id == instance_id)
        if instance is None:
            return
        if not confirmed:
            claims.release(instance_id, only_latest=True)
            return
        held = claims.held(instance_id)
        if not held:
            return
        size = Request.from_spec({}, flavor=instance.flavor)
        claims.replace(instance_id, held[-1].node_id, size.vcpus, size.memory_mb, size.disk_gb)

    @remote
    def report_host(self, report: dict) -> None:
        """A compute host's resources and heartbeat (os-hypervisors, os-services)."""
        now = db.utcnow()
        fields = {key: report[key] for key in (
            "hypervisor_hostname", "hypervisor_type", "hypervisor_version", "host_ip",
            "cpu_arch", "cpu_info", "vcpus", "memory_mb", "local_gb", "availability_zone")
            if report.get(key) is not None}
        host = report["host"]
        with db.transaction():
            running = Instance.select().where(Instance.host == host,
                                              Instance.deleted == False).count()  # noqa: E712
            fields.update(heartbeat_at=now, updated_at=now, running_vms=running)
            if ComputeNode.update(fields).where(ComputeNode.host == host).execute() == 0:
                fields.setdefault("hypervisor_hostname", host)
                fields.pop("updated_at")
                ComputeNode.create(host=host, **fields)
            _heartbeat("nova-compute", host, report.get("availability_zone") or "nova", now)

    @remote
    def network_changed(self, instance_id: str) -> bool:
        """Nova's network-changed event: the instance's ports, addresses or floating IPs
        changed; re-read its VIFs. Returns whether anything changed."""
        instance = Instance.get_or_none(Instance.id == instance_id)
        if instance is None or instance.deleted or not instance.host:
            return False
        network_info = vifs.merged(instance.network_info, self.network.network_info(instance_id))
        if network_info == instance.network_info:
            return False
        addresses = vifs.addresses(network_info)
        with db.transaction():
            Instance.update(network_info=network_info, addresses=addresses,
                            updated_at=db.utcnow()) \
                .where(Instance.id == instance_id, Instance.deleted == False).execute()  # noqa
        LOG.info("instance %s: addresses now %s", instance_id, addresses)
        return True

    @remote
    def instance_deleted(self, instance_id: str) -> None:
        """The host removed the guest: mark the instance deleted and give back its room."""
        now = db.utcnow()
        with db.transaction():
            (Instance.update(deleted=True, deleted_at=now, terminated_at=now, updated_at=now,
                             vm_state="deleted", task_state=None, power_state=0)
             .where(Instance.id == instance_id).execute())
            ServerGroupMember.delete().where(
                ServerGroupMember.instance_id == instance_id).execute()
        claims.release(instance_id)

    @remote
    def image_in_use(self, host: str, image_id: str, other_than: str | None = None) -> bool:
        """Whether another live instance on the host still boots from the cached image."""
        query = Instance.select().where(Instance.host == host, Instance.image_ref == image_id,
                                        Instance.deleted == False)  # noqa: E712
        if other_than:
            query = query.where(Instance.id != other_than)
        return query.exists()


def _value(key, value):
    if key in _DATETIMES and isinstance(value, str):
        return db.utcnow() if value == "now" else \
            datetime.datetime.fromisoformat(value).replace(tzinfo=None)
    return value


def _action(context: dict | None, instance_id: str):
    request_id = (context or {}).get("request_id")
    if not request_id:
        return None
    return (InstanceAction.select().where(InstanceAction.instance == instance_id,
                                          InstanceAction.request_id == request_id)
            .order_by(InstanceAction.start_time.desc()).first())


def _heartbeat(binary: str, host: str, zone: str, now) -> None:
    updated = (ServiceRecord.update(heartbeat_at=now, updated_at=now)
               .where(ServiceRecord.binary == binary, ServiceRecord.host == host).execute())
    if not updated:
        ServiceRecord.insert(binary=binary, host=host, zone=zone, heartbeat_at=now) \
            .on_conflict_ignore().execute()
