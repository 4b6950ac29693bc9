"""The typed clients for compute's managers: the method names are the messages.

- SchedulerAPI: the API asks the conductor (topic ``scheduler``) to place instances.
- ComputeAPI: the API asks one host's manager (topic ``compute.<host>``) to act on an instance.
- ConductorAPI: a compute host asks the conductor (topic ``conductor``) for the DB facts it may
  not read itself (compute hosts hold no DB credentials); the network API tells it when an
  instance's ports changed.

``context`` is always ``{"user_id", "project_id", "roles", "token", "request_id"}``.
"""
from undercloud.bus import RpcClient

SCHEDULER_TOPIC = "scheduler"
CONDUCTOR_TOPIC = "conductor"
CONSOLE_TIMEOUT = 30.0
# Attaching waits for the network agent to plug the port (network.rpcapi.PLUG_TIMEOUT) too.
ATTACH_TIMEOUT = 90.0


def compute_topic(host: str) -> str:
    return f"compute.{host}"


class _Client:
    def __init__(self, config, client: RpcClient | None = None):
        self.config = config
        self.client = client or RpcClient(config)


class SchedulerAPI(_Client):
    def build_instances(self, context: dict, instance_ids: list[str], request_spec: dict) -> None:
        """Place and build instances already recorded in BUILD/scheduling (cast)."""
        self.client.cast(SCHEDULER_TOPIC, "build_instances", context=context,
                         instance_ids=list(instance_ids), request_spec=request_spec)

    def resize_instance(self, context: dict, instance_id: str, new_flavor: dict) -> None:
        """Claim new_flavor on a host (this one allowed) and start the resize there (cast)."""
        self.client.cast(SCHEDULER_TOPIC, "resize_instance", context=context,
                         instance_id=instance_id, new_flavor=new_flavor)


class ComputeAPI(_Client):
    def _cast(self, host: str, method: str, **kwargs) -> None:
        self.client.cast(compute_topic(host), method, **kwargs)

    def reboot_instance(self, context, host, instance_id, hard: bool) -> None:
        self._cast(host, "reboot_instance", context=context, instance_id=instance_id, hard=hard)

    def stop_instance(self, context, host, instance_id) -> None:
        self._cast(host, "stop_instance", context=context, instance_id=instance_id)

    def start_instance(self, context, host, instance_id) -> None:
        self._cast(host, "start_instance", context=context, instance_id=instance_id)

    def pause_instance(self, context, host, instance_id) -> None:
        self._cast(host, "pause_instance", context=context, instance_id=instance_id)

    def unpause_instance(self, context, host, instance_id) -> None:
        self._cast(host, "unpause_instance", context=context, instance_id=instance_id)

    def suspend_instance(self, context, host, instance_id) -> None:
        self._cast(host, "suspend_instance", context=context, instance_id=instance_id)

    def resume_instance(self, context, host, instance_id) -> None:
        self._cast(host, "resume_instance", context=context, instance_id=instance_id)

    def rebuild_instance(self, context, host, instance_id, image_ref: str) -> None:
        self._cast(host, "rebuild_instance", context=context, instance_id=instance_id,
                   image_ref=image_ref)

    def confirm_resize(self, context, host, instance_id) -> None:
        self._cast(host, "confirm_resize", context=context, instance_id=instance_id)

    def revert_resize(self, context, host, instance_id) -> None:
        self._cast(host, "revert_resize", context=context, instance_id=instance_id)

    def snapshot_instance(self, context, host, instance_id, image_id: str) -> None:
        self._cast(host, "snapshot_instance", context=context, instance_id=instance_id,
                   image_id=image_id)

    def terminate_instance(self, context, host, instance_id) -> None:
        self._cast(host, "terminate_instance", context=context, instance_id=instance_id)

    def get_console_output(self, context, host, instance_id, length: int | None = None) -> str:
        return self.client.call(compute_topic(host), "get_console_output",
                                timeout=CONSOLE_TIMEOUT, context=context,
                                instance_id=instance_id, length=length)

    def attach_interface(self, context, host, instance_id, network_id=None, port_id=None,
                         fixed_ip=None, tag=None) -> dict:
        """Allocate, plug and attach one port; returns its VIF (a call: the API answers with
        it, or with the network's refusal)."""
        return self.client.call(compute_topic(host), "attach_interface",
                                timeout=ATTACH_TIMEOUT, context=context,
                                instance_id=instance_id, network_id=network_id,
                                port_id=port_id, fixed_ip=fixed_ip, tag=tag)

    def detach_interface(self, context, host, instance_id, port_id: str) -> None:
        self._cast(host, "detach_interface", context=context, instance_id=instance_id,
                   port_id=port_id)

    # Sent by the conductor, not the API.
    def build_and_run_instance(self, context, host, instance_id, request_spec: dict) -> None:
        self._cast(host, "build_and_run_instance", context=context, instance_id=instance_id,
                   request_spec=request_spec)

    def resize_instance(self, context, host, instance_id) -> None:
        self._cast(host, "resize_instance", context=context, instance_id=instance_id)


class ConductorAPI(_Client):
    """What a compute host asks the conductor; every method is a call so the host knows it landed
    (but network_changed, which the network API casts)."""

    def __init__(self, config, client: RpcClient | None = None, timeout: float | None = None):
        super().__init__(config, client)
        self.timeout = timeout

    def _call(self, method: str, **kwargs):
        return self.client.call(CONDUCTOR_TOPIC, method, timeout=self.timeout, **kwargs)

    def get_instance(self, instance_id: str) -> dict | None:
        return self._call("get_instance", instance_id=instance_id)

    def instances_on_host(self, host: str) -> list[dict]:
        return self._call("instances_on_host", host=host)

    def update_instance(self, instance_id: str, values: dict, expected_task_state=...) -> dict | None:
        kwargs = {} if expected_task_state is ... else {"expected_task_state": expected_task_state}
        return self._call("update_instance", instance_id=instance_id, values=values, **kwargs)

    def add_fault(self, instance_id: str, message: str, code: int = 500, details: str = "",
                  host: str | None = None) -> None:
        self._call("add_fault", instance_id=instance_id, message=message, code=code,
                   details=details, host=host)

    def action_event_start(self, context: dict, instance_id: str, event: str, host: str) -> None:
        self._call("action_event_start", context=context, instance_id=instance_id, event=event,
                   host=host)

    def action_event_finish(self, context: dict, instance_id: str, event: str, host: str,
                            error: str | None = None) -> None:
        self._call("action_event_finish", context=context, instance_id=instance_id, event=event,
                   host=host, error=error)

    def release_claims(self, instance_id: str, host: str | None = None,
                       keep_latest: bool = False) -> None:
        self._call("release_claims", instance_id=instance_id, host=host, keep_latest=keep_latest)

    def finish_resize_claims(self, instance_id: str, confirmed: bool) -> None:
        self._call("finish_resize_claims", instance_id=instance_id, confirmed=confirmed)

    def report_host(self, report: dict) -> None:
        self._call("report_host", report=report)

    def instance_deleted(self, instance_id: str) -> None:
        self._call("instance_deleted", instance_id=instance_id)

    def image_in_use(self, host: str, image_id: str, other_than: str | None = None) -> bool:
        return self._call("image_in_use", host=host, image_id=image_id, other_than=other_than)

    def network_changed(self, instance_id: str) -> None:
        """Nova's network-changed event: re-read the instance's VIFs (a cast; the conductor's
        periodic address refresh catches a lost one)."""
        self.client.cast(CONDUCTOR_TOPIC, "network_changed", instance_id=instance_id)
