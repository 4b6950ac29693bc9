"""The stackbox_baremetal inventory plugin: the undercloud's deployed bare-metal nodes, each in
the group its `profile` capability names (control, network, compute)."""
import json
import os
import urllib.error
import urllib.parse
import urllib.request

import yaml
from ansible.errors import AnsibleParserError
from ansible.plugins.inventory import BaseInventoryPlugin
from ansible.utils.display import Display

display = Display()

DOCUMENTATION = r"""
name: stackbox_baremetal
short_description: The undercloud's active bare-metal nodes, grouped by their profile
description:
  - Lists the nodes of the undercloud's bare-metal API (Ironic's GET /v1/nodes) whose
    provision_state is active.
  - Each node joins the group named by the profile in its properties' capabilities
    (for example C(profile:compute,boot_option:local) puts it in C(compute)).
  - Its address (ansible_host) is instance_info's ctlplane_address, which the deployer
    records when it provisions the node. Nodes without a profile or an address are left
    out, with a warning.
  - Authenticates with Keystone v3 passwords, from a cloud of a clouds.yaml file.
  - The configuration file's name ends in stackbox.yml or stackbox.yaml.
options:
  plugin:
    description: The plugin's name.
    required: true
    choices: [stackbox_baremetal]
  cloud:
    description: The cloud of clouds.yaml to use.
    default: stackbox
  clouds_yaml:
    description:
      - The clouds.yaml file. Unset, the first of OS_CLIENT_CONFIG_FILE, ./clouds.yaml,
        ~/.config/openstack/clouds.yaml, /etc/openstack/clouds.yaml and the undercloud's
        /var/lib/stackbox/clouds.yaml that exists.
    required: false
  timeout:
    description: Seconds each API request may take.
    type: int
    default: 30
"""

EXAMPLES = r"""
# playbooks/inventory/baremetal.stackbox.yml
plugin: stackbox_baremetal
cloud: stackbox
"""

CLOUDS_YAML_PLACES = ("clouds.yaml", "~/.config/openstack/clouds.yaml",
                      "/etc/openstack/clouds.yaml", "/var/lib/stackbox/clouds.yaml")
# 1.9: the provision_state filter (fields came in 1.8).
BAREMETAL_API_VERSION = "1.9"
NODE_FIELDS = "uuid,name,provision_state,properties,instance_info"


def capabilities(properties) -> dict:
    """A node's capabilities, given as Ironic stores them ("k:v,k:v") or as a mapping."""
    value = (properties or {}).get("capabilities") or {}
    if isinstance(value, dict):
        return {str(key): str(item) for key, item in value.items()}
    pairs = (part.split(":", 1) for part in str(value).split(",") if ":" in part)
    return {key.strip(): item.strip() for key, item in pairs}


def inventory_hosts(nodes) -> tuple[list[dict], list[str]]:
    """The hosts the nodes give, each {name, group, address, uuid}, and a warning for each
    active node left out."""
    hosts, warnings = [], []
    for node in nodes:
        if node.get("provision_state") not in (None, "active"):
            continue
        name = node.get("name") or node["uuid"]
        profile = capabilities(node.get("properties")).get("profile")
        address = (node.get("instance_info") or {}).get("ctlplane_address")
        if not profile:
            warnings.append(f"bare-metal node {name} has no profile capability "
                            "(properties/capabilities 'profile:ROLE'): left out")
        elif not address:
            warnings.append(f"bare-metal node {name} has no instance_info "
                            "ctlplane_address: left out")
        else:
            hosts.append({"name": name, "group": profile, "address": address,
                          "uuid": node["uuid"]})
    return hosts, warnings


def find_cloud(path: str | None, name: str) -> dict:
    """The cloud's entry of clouds.yaml."""
    places = [path] if path else [os.environ.get("OS_CLIENT_CONFIG_FILE"),
                                  *CLOUDS_YAML_PLACES]
    found = next((os.path.expanduser(place) for place in places
                  if place and os.path.exists(os.path.expanduser(place))), None)
    if found is None:
        raise AnsibleParserError("stackbox_baremetal: no clouds.yaml in "
                                 + ", ".join(place for place in places if place))
    with open(found) as source:
        clouds = (yaml.safe_load(source) or {}).get("clouds") or {}
    if name not in clouds:
        raise AnsibleParserError(f"stackbox_baremetal: {found} has no cloud {name!r} "
                                 f"(it has: {', '.join(sorted(clouds)) or 'none'})")
    return clouds[name]


class Keystone:
    """A token and the baremetal endpoint, from Keystone v3 password authentication."""

    def __init__(self, cloud: dict, timeout: int):
        self.cloud, self.timeout = cloud, timeout

    def baremetal(self) -> tuple[str, str]:
        auth = self.cloud.get("auth") or {}
        url = auth.get("auth_url", "").rstrip("/")
        if not url:
            raise AnsibleParserError("stackbox_baremetal: the cloud has no auth.auth_url")
        if not url.endswith("/v3"):
            url += "/v3"
        body = {"auth": {
            "identity": {"methods": ["password"], "password": {"user": {
                "name": auth.get("username"), "password": auth.get("password"),
                "domain": {"name": auth.get("user_domain_name", "Default")}}}},
            "scope": {"project": {"name": auth.get("project_name"), "domain": {
                "name": auth.get("project_domain_name", "Default")}}}}}
        request = urllib.request.Request(url + "/auth/tokens", method="POST",
                                         data=json.dumps(body).encode(),
                                         headers={"Content-Type": "application/json"})
        with self._open(request, f"authenticating at {url}") as response:
            token = response.headers["X-Subject-Token"]
            catalog = json.load(response)["token"].get("catalog", [])
        return token, self._endpoint(catalog)

    def _endpoint(self, catalog) -> str:
        interface = self.cloud.get("interface", "public")
        region = self.cloud.get("region_name")
        for service in catalog:
            if service.get("type") != "baremetal":
                continue
            for endpoint in service.get("endpoints", []):
                if endpoint.get("interface") == interface and region in (
                        None, endpoint.get("region_id"), endpoint.get("region")):
                    return endpoint["url"].rstrip("/")
        raise AnsibleParserError(f"stackbox_baremetal: the catalog has no baremetal endpoint "
                                 f"(interface {interface}, region {region})")

    def _open(self, request, doing: str):
        try:
            return urllib.request.urlopen(request, timeout=self.timeout)
        except urllib.error.HTTPError as exc:
            raise AnsibleParserError(f"stackbox_baremetal: {doing}: HTTP {exc.code} "
                                     f"{exc.reason}") from None
        except (urllib.error.URLError, OSError) as exc:
            raise AnsibleParserError(f"stackbox_baremetal: {doing}: "
                                     f"{getattr(exc, 'reason', exc)}") from None

    def nodes(self, token: str, endpoint: str) -> list[dict]:
        """Every active node, following the API's `next` links."""
        url = f"{endpoint}/v1/nodes?" + urllib.parse.urlencode(
            {"provision_state": "active", "fields": NODE_FIELDS})
        nodes = []
        while url:
            request = urllib.request.Request(url, headers={
                "X-Auth-Token": token, "Accept": "application/json",
                "X-OpenStack-Ironic-API-Version": BAREMETAL_API_VERSION})
            with self._open(request, f"listing nodes at {endpoint}") as response:
                page = json.load(response)
            nodes += page.get("nodes", [])
            url = page.get("next")
        return nodes


class InventoryModule(BaseInventoryPlugin):
    NAME = "stackbox_baremetal"

    def verify_file(self, path):
        return super().verify_file(path) and path.endswith(("stackbox.yml", "stackbox.yaml"))

    def parse(self, inventory, loader, path, cache=True):
        super().parse(inventory, loader, path, cache)
        self._read_config_data(path)
        cloud = find_cloud(self.get_option("clouds_yaml"), self.get_option("cloud"))
        keystone = Keystone(cloud, self.get_option("timeout"))
        hosts, warnings = inventory_hosts(keystone.nodes(*keystone.baremetal()))
        for warning in warnings:
            display.warning(warning)
        for host in hosts:
            self.inventory.add_group(host["group"])
            self.inventory.add_host(host["name"], group=host["group"])
            self.inventory.set_variable(host["name"], "ansible_host", host["address"])
            self.inventory.set_variable(host["name"], "stackbox_node_uuid", host["uuid"])
