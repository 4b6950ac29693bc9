"""The bare-metal conductor (topic ``baremetal-conductor``): the process with DB access that
answers rpcapi.ConductorAPI, drives nodes through Ironic's state machine (flows/) over IPMI
(drivers/ipmi.py) and the provisioning network (drivers/provisioning.py), and reconciles.

Casts return at once: the work runs on the conductor's own threads, holding the node's
reservation (locks.py), so heartbeats and calls are answered meanwhile. The provisioning
network starts when a flow first needs it, or at start when nodes are already using it. Every tick
(heartbeat_interval) it records its Conductor row and fails waiting nodes whose time is up;
every reconcile_interval it takes over dead conductors' nodes and lost requests; every
power_sync_interval power_state follows the BMCs.
"""
import logging
import os
import socket
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor

from undercloud import db
from undercloud.baremetal import locks, states
from undercloud.baremetal.drivers.provisioning import Provisioning, ProvisioningError
from undercloud.baremetal.flows import (abort, agent, clean, deploy, inspect, nodes, power,
                                        recovery, validate, verify)
from undercloud.baremetal.models import Conductor, Node
from undercloud.baremetal.rpcapi import (CONDUCTOR_TOPIC, InvalidParameterValue, InvalidState,
                                         NodeLocked)
from undercloud.baremetal.interfaces import BOOT_DEVICES, DRIVER
from undercloud.bus import remote
from undercloud.common.manager import Manager

LOG = logging.getLogger("undercloud.baremetal.conductor")
# Flows at once: each mostly waits on a BMC, a download or a ramdisk.
WORKERS = 16
# The busy state a verb's request leaves the node in (states.VERBS), and its flow.
VERB_FLOWS = {
    states.MANAGE: (states.VERIFYING, verify.manage),
    states.INSPECT: (states.INSPECTING, inspect.start),
    states.PROVIDE: (states.CLEANING, clean.start),
    states.CLEAN: (states.CLEANING, clean.start),
    states.DEPLOY: (states.DEPLOYING, deploy.start),
    states.REBUILD: (states.DEPLOYING, deploy.start),
    states.UNDEPLOY: (states.DELETING, deploy.undeploy),
}
BUSY_FLOWS = {state: flow for state, flow in VERB_FLOWS.values()}
# Nodes in these states need the provisioning network (an active node's iPXE script sends
# it to its disk when its BMC ignored the boot device).
NETWORK_BOOT_STATES = (states.INSPECTING, states.INSPECT_WAIT, states.CLEANING,
                       states.CLEAN_WAIT, states.DEPLOYING, states.DEPLOY_WAIT, states.ACTIVE)
# A continue_inspection may meet the node still booting into inspect wait (within the
# API's call timeout).
INSPECTION_WAIT_SECONDS = 20.0


class BaremetalConductor(Manager):
    service = "baremetal"

    def __init__(self, config, host: str | None = None, provisioning=None, bmc_for=None,
                 executor=None):
        options = config["baremetal"]
        super().__init__(config, host or options["host"] or socket.gethostname())
        self.reconcile_interval = options["heartbeat_interval"]   # the loop's tick
        self.reconcile_every = options["reconcile_interval"]
        self.power_sync_every = options["power_sync_interval"]
        self.provisioning = provisioning or Provisioning(config)
        self._bmc_for = bmc_for or (lambda node: power.bmc_for(config, node))
        self.executor = executor or ThreadPoolExecutor(WORKERS, "baremetal-flow")
        self._provisioning_up = False
        self._provisioning_lock = threading.Lock()
        self._started = False
        self._reconciled_at = 0.0
        self._synced_at = 0.0
        self._sync: Future | None = None

    @property
    def topics(self) -> list[str]:
        return [CONDUCTOR_TOPIC]

    def bmc_for(self, node):
        return self._bmc_for(node)

    # ---- running flows ----------------------------------------------------------------------

    def submit_reserved(self, node_id: str, flow, *args) -> Future:
        """Run flow(*args) on a worker thread; the node is already reserved by this host
        and is released when the flow ends, however it ends."""
        return self.executor.submit(self._run_reserved, node_id, flow, *args)

    def _run_reserved(self, node_id: str, flow, *args):
        try:
            flow(*args)
        except Exception as exc:  # a bug or a lost DB must not leave the node busy for good
            LOG.exception("node %s: %s failed", node_id, getattr(flow, "__qualname__", flow))
            self._fail_unexpectedly(node_id, exc)
        finally:
            locks.release(node_id, self.host)

    def _fail_unexpectedly(self, node_id: str, exc: Exception) -> None:
        try:
            node = nodes.get(node_id)
            if node.provision_state in recovery.BUSY:
                nodes.fail(node_id, node.provision_state,
                           f"Unexpected error in the conductor while {node.provision_state} "
                           f"node {node_id}: {type(exc).__name__}: {exc}")
        except Exception:
            LOG.exception("node %s: could not record the failure", node_id)

    def ensure_provisioning(self) -> None:
        """Start the provisioning network if it is not up (ProvisioningError if it can't).
        Once: a start clears half-done downloads, which a running deploy may own."""
        with self._provisioning_lock:
            if not self._provisioning_up:
                self.provisioning.start()
                self._provisioning_up = True

    def _serve_repository(self) -> None:
        """Overcloud hosts install from the package repository on the provisioning network,
        so once `stackbox repo build` made one, the network is up without a node needing it."""
        if self._provisioning_up or not os.path.exists(
                self.config.path("repo", "python", "stackbox.json")):
            return
        try:
            self.ensure_provisioning()
            LOG.info("serving the package repository on the provisioning network")
        except ProvisioningError as exc:
            LOG.warning("cannot serve the package repository: %s", exc)

    # ---- the loop ---------------------------------------------------------------------------

    def reconcile(self):
        if not self._started:
            failed = recovery.take_over(self, [self.host])
            if failed:
                LOG.warning("nodes %s were busy when this conductor stopped; they failed and "
                            "can be retried", ", ".join(failed))
            self._started = True
        self._heartbeat()
        self._serve_repository()
        agent.act_on_results(self)
        recovery.check_timeouts(self)
        if time.monotonic() - self._reconciled_at >= self.reconcile_every:
            self._reconciled_at = time.monotonic()
            if not self._provisioning_up and Node.select().where(
                    Node.provision_state.in_(NETWORK_BOOT_STATES)).exists():
                self._start_provisioning()
            recovery.take_over(self, recovery.dead_hosts(self.host, 6 * self.reconcile_interval))
            recovery.lost_requests(self, BUSY_FLOWS)
        if time.monotonic() - self._synced_at >= self.power_sync_every and \
                (self._sync is None or self._sync.done()):
            self._synced_at = time.monotonic()
            self._sync = self.executor.submit(self.sync_power_states)

    def _heartbeat(self) -> None:
        now = db.utcnow()
        with db.transaction():
            updated = Conductor.update(updated_at=now, online=True, drivers=[DRIVER]).where(
                Conductor.hostname == self.host).execute()
            if not updated:
                Conductor.insert(hostname=self.host, drivers=[DRIVER], online=True,
                                 created_at=now, updated_at=now).on_conflict_ignore().execute()

    def _start_provisioning(self) -> None:
        try:
            self.ensure_provisioning()
        except ProvisioningError as exc:
            LOG.error("the provisioning network is not up: %s; nodes cannot boot over the "
                      "network until it is (power works)", exc)

    def sync_power_states(self) -> None:
        """power_state follows each BMC, a few nodes at a time."""
        node_ids = power.nodes_to_sync()
        with ThreadPoolExecutor(min(8, len(node_ids) or 1), "baremetal-sync") as pool:
            for future in [pool.submit(self._sync_one, node_id) for node_id in node_ids]:
                try:
                    future.result()
                except Exception:
                    LOG.exception("power sync failed")

    def _sync_one(self, node_id: str) -> None:
        if not self.stopping.is_set():
            power.sync(self, node_id)

    def run(self):
        try:
            super().run()
        finally:
            self.executor.shutdown(wait=False, cancel_futures=True)
            self._going_offline()

    def _going_offline(self) -> None:
        try:
            if self._provisioning_up:
                self.provisioning.stop()
            with db.transaction():
                Conductor.update(online=False).where(Conductor.hostname == self.host).execute()
        except Exception:
            LOG.exception("the conductor did not stop cleanly")

    # ---- the bus: what the API asks -----------------------------------------------------------

    @remote
    def do_provisioning_action(self, context: dict, node_id: str, verb: str,
                               params: dict | None = None) -> None:
        if verb == states.ABORT:
            state, flow = None, abort.abort
        elif verb in VERB_FLOWS:
            state, flow = VERB_FLOWS[verb]
        else:
            LOG.warning("node %s: provisioning verb %r is not one this conductor does",
                        node_id, verb)
            return
        node = nodes.get(node_id)
        if state is not None and node.provision_state != state:
            LOG.info("node %s: %s ignored: the node is %s, not %s", node_id, verb,
                     node.provision_state, state)
            return
        try:
            locks.reserve(node_id, self.host)
        except NodeLocked as exc:
            # A busy node nobody takes is picked up again by recovery.lost_requests.
            LOG.warning("node %s: %s not started: %s", node_id, verb, exc)
            return
        LOG.info("node %s: %s", node_id, verb)
        self.submit_reserved(node_id, flow, self, node_id, context or {}, params or {})

    @remote
    def change_power_state(self, context: dict, node_id: str, target: str,
                           timeout: int | None = None) -> None:
        if target not in states.POWER_TARGETS:
            raise InvalidParameterValue(f"Invalid power state {target!r}; valid ones are "
                                        f"{', '.join(states.POWER_TARGETS)}.")
        try:
            locks.reserve(node_id, self.host)
        except NodeLocked as exc:
            nodes.set_fields(node_id, target_power_state=None,
                             last_error=f"Failed to change power state of node {node_id} to "
                                        f"'{target}': {exc}")
            return
        self.submit_reserved(node_id, power.change_requested, self, node_id, target, timeout)

    @remote
    def set_boot_device(self, node_id: str, device: str, persistent: bool = False) -> None:
        if device not in BOOT_DEVICES:
            raise InvalidParameterValue(f"Invalid boot device {device}, valid devices are "
                                        f"{', '.join(BOOT_DEVICES)}.")
        with locks.reserved(node_id, self.host):
            self.bmc_for(nodes.get(node_id)).set_boot_device(device, persistent)
        LOG.info("node %s: boot device %s%s", node_id, device,
                 " (persistent)" if persistent else "")

    @remote
    def get_boot_device(self, node_id: str) -> dict:
        return self.bmc_for(nodes.get(node_id)).boot_device()

    @remote
    def validate(self, node_id: str) -> dict:
        return validate.validate(self, node_id)

    @remote
    def heartbeat(self, node_id: str, payload: dict) -> dict | None:
        return agent.heartbeat(self, node_id, payload)

    @remote
    def continue_inspection(self, node_id: str, inventory: dict) -> None:
        inspect.check(inventory)
        if nodes.get(node_id).provision_state not in (states.INSPECTING, states.INSPECT_WAIT):
            raise InvalidState(f"Node {node_id} is not being inspected.")
        locks.reserve(node_id, self.host, wait=INSPECTION_WAIT_SECONDS)
        try:
            state = nodes.get(node_id).provision_state
            if state != states.INSPECT_WAIT:
                raise InvalidState(f"Node {node_id} is not waiting for its inventory: its "
                                   f"provision state is \"{state}\".")
            inspect.store(node_id, inventory)
        except BaseException:
            locks.release(node_id, self.host)
            raise
        self.submit_reserved(node_id, inspect.finish, self, node_id)
