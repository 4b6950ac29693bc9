"""`stackbox node import/introspect` through the Ironic API, as TripleO's `openstack
overcloud node import/introspect` do: nodes with driver ipmi and their ports from a nodes
file (re-importing updates them), then manage -> inspect -> provide, waiting for each."""
import time

from undercloud.client.session import ApiError, Session

POLL_SECONDS = 2.0
# Where each verb leads when it works (Ironic's state machine, undercloud.baremetal.states).
GOALS = {"manage": "manageable", "inspect": "manageable", "provide": "available"}
WORKING = ("verifying", "inspecting", "inspect wait", "cleaning", "clean wait", "deploying",
           "wait call-back", "deleting")
STARTS = {"enroll": ["manage", "inspect"], "manageable": ["inspect"],
          "inspect failed": ["inspect"]}


class Baremetal:
    """Ironic's v1 API at the newest microversion both sides speak."""

    def __init__(self, session: Session):
        self.session = session
        self.endpoint = session.endpoint("baremetal")
        root = session.request(self.endpoint + "/")
        version = (root.get("default_version") or {}).get("version") or "1.1"
        self.headers = {"X-OpenStack-Ironic-API-Version": version}

    def call(self, method: str, path: str, body=None):
        return self.session.request(f"{self.endpoint}/v1{path}", method, body, self.headers)

    def node(self, ident: str) -> dict | None:
        try:
            return self.call("GET", f"/nodes/{ident}")
        except ApiError as exc:
            if exc.status == 404:
                return None
            raise

    def nodes(self) -> list[dict]:
        return self.call("GET", "/nodes/detail")["nodes"]

    def port(self, mac: str) -> dict | None:
        ports = self.call("GET", f"/ports/detail?address={mac}")["ports"]
        return ports[0] if ports else None

    def set_provision_state(self, node_id: str, verb: str, **params) -> None:
        """`params`: what the verb takes besides the target, e.g. configdrive."""
        self.call("PUT", f"/nodes/{node_id}/states/provision", {"target": verb, **params})

    def ports(self, node_id: str) -> list[dict]:
        return self.call("GET", f"/ports/detail?node={node_id}")["ports"]


def _driver_info(entry: dict) -> dict:
    return {"ipmi_address": entry["address"], "ipmi_port": entry["port"],
            "ipmi_username": entry["username"], "ipmi_password": entry["password"]}


def _existing(api: Baremetal, entry: dict) -> dict | None:
    if entry["name"]:
        node = api.node(entry["name"])
        if node:
            return node
    for mac in entry["macs"]:
        port = api.port(mac)
        if port:
            return api.node(port["node_uuid"])
    return None


def import_nodes(api: Baremetal, entries: list[dict], say) -> list[dict]:
    """Create or update each node and its ports; returns the nodes."""
    nodes = []
    for entry in entries:
        node = _existing(api, entry)
        if node is None:
            body = {"driver": "ipmi", "driver_info": _driver_info(entry),
                    "properties": entry["properties"]}
            if entry["name"]:
                body["name"] = entry["name"]
            node = api.call("POST", "/nodes", body)
            say(f"Created node {node.get('name') or node['uuid']} ({node['uuid']})")
        else:
            patch = [{"op": "add", "path": f"/driver_info/{key}", "value": value}
                     for key, value in _driver_info(entry).items()]
            patch += [{"op": "add", "path": f"/properties/{key}", "value": value}
                      for key, value in entry["properties"].items()]
            if node.get("driver") != "ipmi":
                patch.append({"op": "replace", "path": "/driver", "value": "ipmi"})
            if entry["name"] and node.get("name") != entry["name"]:
                # Found by its MAC: the file names it now.
                patch.append({"op": "add", "path": "/name", "value": entry["name"]})
            node = api.call("PATCH", f"/nodes/{node['uuid']}", patch)
            say(f"Updated node {node.get('name') or node['uuid']} ({node['uuid']})")
        for mac in entry["macs"]:
            port = api.port(mac)
            if port is None:
                api.call("POST", "/ports", {"node_uuid": node["uuid"], "address": mac,
                                            "pxe_enabled": True})
                say(f"  port {mac}")
            elif port["node_uuid"] != node["uuid"]:
                raise ApiError(409, f"MAC {mac} of node {entry['name'] or node['uuid']} "
                                    f"already belongs to node {port['node_uuid']}")
        nodes.append(node)
    return nodes


def _label(node: dict) -> str:
    return node.get("name") or node["uuid"]


def _plan(api: Baremetal, idents: list[str], everything: bool, provide: bool, say):
    """{node uuid: [verbs still to send]} for the nodes to introspect."""
    if everything:
        chosen = []
        for node in api.nodes():
            if node["provision_state"] in STARTS:
                chosen.append(node)
            else:
                say(f"Skipping {_label(node)}: it is {node['provision_state']}")
    else:
        chosen = []
        for ident in idents:
            node = api.node(ident)
            if node is None:
                raise ApiError(404, f"no node {ident}")
            if node["provision_state"] not in STARTS:
                raise ApiError(409, f"node {ident} is {node['provision_state']}: introspection "
                                    f"starts from {', '.join(STARTS)}")
            chosen.append(node)
    return {node["uuid"]: (_label(node), STARTS[node["provision_state"]]
                           + (["provide"] if provide else [])) for node in chosen}


def _describe(node: dict) -> str:
    properties = node.get("properties") or {}
    return (f"{properties.get('cpus', '?')} CPUs, {properties.get('memory_mb', '?')} MiB, "
            f"{properties.get('local_gb', '?')} GiB disk")


def introspect(api: Baremetal, idents: list[str], everything: bool, provide: bool, say,
               timeout: float = 3600.0) -> bool:
    """Walk each node through its verbs, all nodes at once; True when every node made it."""
    plan = _plan(api, idents, everything, provide, say)
    if not plan:
        say("No node to introspect.")
        return True
    pending = {uuid: verbs for uuid, (_, verbs) in plan.items()}
    sent = {}
    failed = []
    deadline = time.monotonic() + timeout
    say(f"Introspecting {len(plan)} node(s): {', '.join(label for label, _ in plan.values())}")
    while pending:
        for uuid in list(pending):
            label = plan[uuid][0]
            node = api.node(uuid)
            verb = sent.get(uuid)
            if verb is not None:
                if node["provision_state"] in WORKING or node.get("target_provision_state"):
                    continue
                if node["provision_state"] != GOALS[verb]:
                    say(f"{label}: {verb} failed, the node is {node['provision_state']}: "
                        f"{node.get('last_error') or 'no error recorded'}")
                    failed.append(label)
                    del pending[uuid]
                    continue
                say(f"{label}: {node['provision_state']}"
                    + (f" ({_describe(node)})" if verb == "inspect" else ""))
            if not pending[uuid]:
                del pending[uuid]
                continue
            verb = pending[uuid].pop(0)
            try:
                api.set_provision_state(uuid, verb)
            except ApiError as exc:
                say(f"{label}: {verb} refused: {exc}")
                failed.append(label)
                del pending[uuid]
                continue
            sent[uuid] = verb
            say(f"{label}: {verb} ...")
        if pending and time.monotonic() > deadline:
            for uuid in pending:
                say(f"{plan[uuid][0]}: still {api.node(uuid)['provision_state']} after "
                    f"{timeout:.0f} s")
                failed.append(plan[uuid][0])
            break
        if pending:
            time.sleep(POLL_SECONDS)
    if failed:
        say(f"Introspection failed for {', '.join(failed)}.")
        return False
    say(f"Introspection finished for {len(plan)} node(s)"
        f"{'; they are available' if provide else ''}.")
    return True
