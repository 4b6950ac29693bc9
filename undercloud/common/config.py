"""Stackbox's one configuration file, its schema, and environment overrides.

Precedence, lowest first: schema defaults, the YAML file, environment
variables (``STACKBOX_<KEY>`` or ``STACKBOX_<SECTION>__<KEY>``), then
command-line flags. Unknown keys and bad values raise ConfigError naming them.
"""
import copy
import json
import os

import jsonschema
import yaml

from undercloud.services import SERVICES

ENV_PREFIX = "STACKBOX_"
# Environment variables with the prefix that are not config keys (the file, and test tools').
ENV_RESERVED = {"STACKBOX_CONFIG", "STACKBOX_CLIENTS_VENV", "STACKBOX_KEYSTONE_VENV",
                "STACKBOX_INTEROP_DIR", "STACKBOX_KEEP_LAB"}


class ConfigError(Exception):
    """The configuration is wrong; the message names the key and what is right."""


def _port(default):
    return {"type": "integer", "minimum": 1, "maximum": 65535, "default": default}


def _section(properties):
    return {"type": "object", "additionalProperties": False, "default": {},
            "properties": properties}


SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "data_dir": {"type": "string", "minLength": 1,
                     "default": "/var/lib/stackbox" if os.geteuid() == 0
                     else os.path.expanduser("~/.local/share/stackbox")},
        "bind": {"type": "string", "minLength": 1, "default": "127.0.0.1"},
        # The host name clients use in URLs; defaults to the bind address.
        "public_host": {"type": ["string", "null"], "default": None},
        "region": {"type": "string", "minLength": 1, "default": "RegionOne"},
        "services": {"type": "array", "uniqueItems": True, "default": list(SERVICES),
                     "items": {"enum": list(SERVICES)}},
        "ports": _section({name: _port(s.port) for name, s in SERVICES.items()}),
        "database": _section({
            # None means SQLite in WAL mode at DATA_DIR/stackbox.db.
            "url": {"type": ["string", "null"], "default": None},
            "busy_timeout_ms": {"type": "integer", "minimum": 0, "default": 15000},
        }),
        "bus": _section({
            # Where the broker listens and peers connect; defaults to the bind address.
            "host": {"type": ["string", "null"], "default": None},
            "port": _port(9780),
            # auto: CurveZMQ on whenever the bind address is not loopback.
            "curve": {"enum": ["auto", True, False], "default": "auto"},
            "call_timeout": {"type": "number", "exclusiveMinimum": 0, "default": 30},
        }),
        "api": _section({
            "workers": {"type": "integer", "minimum": 1, "maximum": 64, "default": 2},
            "threads": {"type": "integer", "minimum": 1, "maximum": 256, "default": 16},
            "max_body_bytes": {"type": "integer", "minimum": 1024, "default": 1048576},
            "max_page_size": {"type": "integer", "minimum": 1, "default": 1000},
        }),
        "logging": _section({
            "level": {"enum": ["DEBUG", "INFO", "WARNING", "ERROR"], "default": "INFO"},
        }),
        "identity": _section({
            "token_expiration": {"type": "integer", "minimum": 60, "default": 3600},
            # Keystone's [identity] password_hash_algorithm and _rounds (bcrypt cost).
            "password_hash_algorithm": {"enum": ["bcrypt", "scrypt"], "default": "bcrypt"},
            "password_hash_rounds": {"type": "integer", "minimum": 4, "maximum": 31,
                                     "default": 12},
            # Keystone's [security_compliance] options; null turns a check off.
            "lockout_failure_attempts": {"type": ["integer", "null"], "minimum": 1,
                                         "default": None},
            "lockout_duration": {"type": "integer", "minimum": 1, "default": 1800},
            "unique_last_password_count": {"type": "integer", "minimum": 0, "default": 0},
            "minimum_password_age": {"type": "integer", "minimum": 0, "default": 0},
            "password_expires_days": {"type": ["integer", "null"], "minimum": 1,
                                      "default": None},
            "password_regex": {"type": ["string", "null"], "default": None},
            "password_regex_description": {"type": ["string", "null"], "default": None},
            "change_password_upon_first_use": {"type": "boolean", "default": False},
        }),
        "image": _section({
            # null: DATA_DIR/images for image data, DATA_DIR/image-staging for staged uploads.
            "store_dir": {"type": ["string", "null"], "default": None},
            "staging_dir": {"type": ["string", "null"], "default": None},
            # Bytes read from the client and written to the store at a time.
            "upload_chunk_size": {"type": "integer", "minimum": 4096, "maximum": 67108864,
                                  "default": 1048576},
            # Glance's per-project limits; -1 means unlimited (sizes in MiB, as in Glance).
            "image_count_total": {"type": "integer", "minimum": -1, "default": 1000},
            "image_size_total": {"type": "integer", "minimum": -1, "default": 1048576},
            # Glance's image_size_cap (bytes), member/property/tag quotas and page size.
            "image_size_cap": {"type": "integer", "minimum": 1, "default": 1099511627776},
            "image_member_quota": {"type": "integer", "minimum": -1, "default": 128},
            "image_property_quota": {"type": "integer", "minimum": -1, "default": 128},
            "image_tag_quota": {"type": "integer", "minimum": -1, "default": 128},
            "limit_param_default": {"type": "integer", "minimum": 1, "default": 25},
        }),
        "compute": _section({
            # libvirt URI the compute manager drives: qemu:///system, or test:///default in tests.
            "virt_uri": {"type": "string", "minLength": 1, "default": "qemu:///system"},
            # This host's name on the bus (compute.<host>) and in os-hypervisors; null: hostname.
            "host": {"type": ["string", "null"], "default": None},
            # null: DATA_DIR/compute/instances (disks, config drives, console logs).
            "instances_dir": {"type": ["string", "null"], "default": None},
            "default_availability_zone": {"type": "string", "minLength": 1, "default": "nova"},
            # kvm, qemu (TCG), or auto: kvm when /dev/kvm is usable.
            "virt_type": {"enum": ["auto", "kvm", "qemu"], "default": "auto"},
            # What this host offers; null means measured (tests fake a small host with them).
            "host_memory_mb": {"type": ["integer", "null"], "minimum": 1, "default": None},
            "host_vcpus": {"type": ["integer", "null"], "minimum": 1, "default": None},
            "host_disk_gb": {"type": ["integer", "null"], "minimum": 1, "default": None},
            "scheduler_max_attempts": {"type": "integer", "minimum": 1, "default": 3},
            # Seconds a guest gets to shut down cleanly before it is destroyed.
            "shutdown_timeout": {"type": "number", "exclusiveMinimum": 0, "default": 60},
            "force_config_drive": {"type": "boolean", "default": False},
            # Nova's allocation ratios and host reservations for the scheduler's claims.
            "cpu_allocation_ratio": {"type": "number", "exclusiveMinimum": 0, "default": 16.0},
            "ram_allocation_ratio": {"type": "number", "exclusiveMinimum": 0, "default": 1.5},
            "disk_allocation_ratio": {"type": "number", "exclusiveMinimum": 0, "default": 1.0},
            "reserved_host_memory_mb": {"type": "integer", "minimum": 0, "default": 512},
            "reserved_host_disk_mb": {"type": "integer", "minimum": 0, "default": 0},
            "reserved_host_cpus": {"type": "integer", "minimum": 0, "default": 0},
            # Seconds between reconciliations, power-state syncs and host reports.
            "reconcile_interval": {"type": "number", "exclusiveMinimum": 0, "default": 60},
            "power_sync_interval": {"type": "number", "exclusiveMinimum": 0, "default": 60},
            "report_interval": {"type": "number", "exclusiveMinimum": 0, "default": 10},
            # A service whose last report is older than this is "down" (Nova's service_down_time).
            "service_down_time": {"type": "number", "exclusiveMinimum": 0, "default": 60},
            # Nova's default quotas per project; -1 means unlimited.
            "quota_instances": {"type": "integer", "minimum": -1, "default": 10},
            "quota_cores": {"type": "integer", "minimum": -1, "default": 20},
            "quota_ram": {"type": "integer", "minimum": -1, "default": 51200},
            "quota_key_pairs": {"type": "integer", "minimum": -1, "default": 100},
            "quota_metadata_items": {"type": "integer", "minimum": -1, "default": 128},
            "quota_server_groups": {"type": "integer", "minimum": -1, "default": 10},
            "quota_server_group_members": {"type": "integer", "minimum": -1, "default": 10},
            "quota_injected_files": {"type": "integer", "minimum": -1, "default": 5},
            "quota_injected_file_content_bytes": {"type": "integer", "minimum": -1,
                                                  "default": 10240},
            "quota_injected_file_path_length": {"type": "integer", "minimum": -1,
                                                "default": 255},
            # Page size of server and flavor listings (Nova's [api] max_limit).
            "max_limit": {"type": "integer", "minimum": 1, "default": 1000},
        }),
        "network": _section({
            # This host's name on the bus (network.<host>) and in the agents list; null: hostname.
            "host": {"type": ["string", "null"], "default": None},
            # What this host's agent runs: l2 (bridges, VXLAN, security groups on taps), dhcp
            # (dnsmasq per network), l3 (router namespaces, NAT), metadata (the guests' proxy).
            "agent_modes": {"type": "array", "uniqueItems": True, "default": [
                "l2", "dhcp", "l3", "metadata"],
                "items": {"enum": ["l2", "dhcp", "l3", "metadata"]}},
            # This host's VXLAN endpoint address; null: 127.0.0.1 (one host, no peers).
            "tunnel_ip": {"type": ["string", "null"], "default": None},
            # Physical networks (flat/vlan provider networks) -> an existing Linux bridge or NIC.
            "physical_mappings": {"type": "object", "default": {},
                                  "additionalProperties": {"type": "string", "minLength": 1}},
            # VLAN ids tenants may get per physical network, e.g. {"physnet1": [100, 199]}.
            "vlan_ranges": {"type": "object", "default": {}, "additionalProperties": {
                "type": "array", "items": {"type": "integer"}, "minItems": 2, "maxItems": 2}},
            "vni_min": {"type": "integer", "minimum": 1, "maximum": 16777215, "default": 1},
            "vni_max": {"type": "integer", "minimum": 1, "maximum": 16777215, "default": 65535},
            # The MTU of the physical network; VXLAN networks get 50 bytes less.
            "physical_mtu": {"type": "integer", "minimum": 68, "default": 1500},
            # Resolvers dnsmasq offers when a subnet names none; [] offers none.
            "dns_servers": {"type": "array", "items": {"type": "string"}, "default": []},
            "dns_domain": {"type": "string", "default": "openstacklocal"},
            # Seconds between agent heartbeats; an agent silent for agent_down_time is dead.
            "report_interval": {"type": "number", "exclusiveMinimum": 0, "default": 10},
            "agent_down_time": {"type": "number", "exclusiveMinimum": 0, "default": 75},
            "reconcile_interval": {"type": "number", "exclusiveMinimum": 0, "default": 30},
            # Neutron's default quotas per project; -1 means unlimited.
            "quota_network": {"type": "integer", "minimum": -1, "default": 100},
            "quota_subnet": {"type": "integer", "minimum": -1, "default": 100},
            "quota_subnetpool": {"type": "integer", "minimum": -1, "default": -1},
            "quota_port": {"type": "integer", "minimum": -1, "default": 500},
            "quota_router": {"type": "integer", "minimum": -1, "default": 10},
            "quota_floatingip": {"type": "integer", "minimum": -1, "default": 50},
            "quota_security_group": {"type": "integer", "minimum": -1, "default": 10},
            "quota_security_group_rule": {"type": "integer", "minimum": -1, "default": 100},
        }),
        "baremetal": _section({
            # This conductor's name on the bus and in GET /v1/conductors; null: hostname.
            "host": {"type": ["string", "null"], "default": None},
            # The provisioning network (TripleO's ctlplane): a bridge the conductor makes when
            # missing, its address, and the ranges dnsmasq leases to deploying and inspected
            # nodes. The bridge name may also be an existing NIC.
            "provisioning_bridge": {"type": "string", "minLength": 1, "maxLength": 15,
                                    "default": "br-ctlplane"},
            "provisioning_address": {"type": "string", "default": "192.168.24.1/24"},
            "dhcp_range": {"type": "array", "items": {"type": "string"}, "minItems": 2,
                           "maxItems": 2, "default": ["192.168.24.5", "192.168.24.24"]},
            "inspection_range": {"type": "array", "items": {"type": "string"}, "minItems": 2,
                                 "maxItems": 2, "default": ["192.168.24.100",
                                                            "192.168.24.120"]},
            # HTTP for kernels, ramdisks, iPXE scripts and images (Ironic's http_url port).
            "http_port": {"type": "integer", "minimum": 1, "maximum": 65535, "default": 8088},
            # The deploy/discovery ramdisk; null: DATA_DIR/baremetal/ramdisk/{vmlinuz,initrd.img}
            # (images/deploy-ramdisk/build writes them there with --output).
            "deploy_kernel": {"type": ["string", "null"], "default": None},
            "deploy_ramdisk": {"type": ["string", "null"], "default": None},
            # Seconds a node may take to call back before its deploy/clean/inspect fails.
            "deploy_callback_timeout": {"type": "integer", "minimum": 1, "default": 1800},
            "inspect_timeout": {"type": "integer", "minimum": 1, "default": 1800},
            "automated_clean": {"type": "boolean", "default": True},
            # IPMI: seconds per attempt and attempts before a BMC counts as unreachable.
            "ipmi_timeout": {"type": "number", "exclusiveMinimum": 0, "default": 5},
            "ipmi_retries": {"type": "integer", "minimum": 0, "default": 2},
            "power_sync_interval": {"type": "number", "exclusiveMinimum": 0, "default": 60},
            "heartbeat_interval": {"type": "number", "exclusiveMinimum": 0, "default": 5},
            "reconcile_interval": {"type": "number", "exclusiveMinimum": 0, "default": 30},
        }),
        "supervisor": _section({
            "health_timeout": {"type": "number", "exclusiveMinimum": 0, "default": 60},
            "restart_backoff_max": {"type": "number", "minimum": 1, "default": 30},
            "stop_timeout": {"type": "number", "minimum": 1, "maximum": 10, "default": 8},
        }),
    },
}


class Section(dict):
    """A config section with attribute access (config.bus.port)."""

    def __getattr__(self, name):
        try:
            value = self[name]
        except KeyError:
            raise AttributeError(name) from None
        return Section(value) if isinstance(value, dict) else value


class Config(Section):
    """The validated, effective configuration."""

    @property
    def database_url(self) -> str:
        return self["database"]["url"] or f"sqlite:///{self.path('stackbox.db')}"

    @property
    def host(self) -> str:
        """The host clients put in URLs."""
        if self["public_host"]:
            return self["public_host"]
        return "127.0.0.1" if self["bind"] in ("0.0.0.0", "::") else self["bind"]

    @property
    def curve_enabled(self) -> bool:
        curve = self["bus"]["curve"]
        return is_loopback(self["bind"]) is False if curve == "auto" else curve

    @property
    def bus_url(self) -> str:
        """Where peers connect to the broker."""
        host = self["bus"]["host"] or self.host
        return f"tcp://{host}:{self['bus']['port']}"

    @property
    def bus_bind_url(self) -> str:
        """Where the broker listens: the bus host if set, else the API bind address."""
        host = self["bus"]["host"] or self["bind"]
        return f"tcp://{'*' if host in ('0.0.0.0', '::') else host}:{self['bus']['port']}"

    def path(self, *parts) -> str:
        return os.path.join(self["data_dir"], *parts)

    def port(self, service: str) -> int:
        return self["ports"][service]

    def endpoint(self, service: str) -> str:
        return f"http://{self.host}:{self.port(service)}"

    def to_json(self) -> str:
        return json.dumps(self, sort_keys=True)


def is_loopback(address: str) -> bool:
    return address in ("localhost", "::1") or address.startswith("127.")


def _parse_scalar(key, text, schema):
    """An environment value, read as YAML so numbers and booleans keep their type."""
    if schema.get("type") == "array" and not text.lstrip().startswith("["):
        return [item.strip() for item in text.split(",") if item.strip()]
    try:
        return yaml.safe_load(text) if text != "" else ""
    except yaml.YAMLError:
        raise ConfigError(f"{key}: cannot read {text!r} as a value") from None


def _env_overrides(environ) -> dict:
    overrides = {}
    for name, text in environ.items():
        if not name.startswith(ENV_PREFIX) or name in ENV_RESERVED:
            continue
        path = [part.lower() for part in name[len(ENV_PREFIX):].split("__")]
        schema = SCHEMA
        for part in path:
            schema = schema.get("properties", {}).get(part)
            if schema is None:
                raise ConfigError(f"{name}: unknown configuration key "
                                  f"'{'.'.join(path)}' in the environment")
        target = overrides
        for part in path[:-1]:
            target = target.setdefault(part, {})
        target[path[-1]] = _parse_scalar(name, text, schema)
    return overrides


def _merge(base: dict, extra: dict) -> dict:
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            _merge(base[key], value)
        else:
            base[key] = value
    return base


def _fill_defaults(schema, value):
    if schema.get("type") != "object" or not isinstance(value, dict):
        return value
    for key, sub in schema.get("properties", {}).items():
        if key not in value and "default" in sub:
            value[key] = copy.deepcopy(sub["default"])
        if key in value:
            value[key] = _fill_defaults(sub, value[key])
    return value


def _describe(error: jsonschema.ValidationError) -> str:
    where = ".".join(str(p) for p in error.absolute_path)
    if error.validator == "additionalProperties":
        known = sorted(error.schema.get("properties", {}))
        unknown = sorted(set(error.instance) - set(known))
        prefix = f"{where}." if where else ""
        return (f"unknown configuration key '{prefix}{unknown[0]}' "
                f"(known keys{' in ' + where if where else ''}: {', '.join(known)})")
    if error.validator == "enum":
        allowed = ", ".join(repr(v) for v in error.validator_value)
        return f"{where}: {error.instance!r} is not one of {allowed}"
    return f"{where or 'configuration'}: {error.message}"


def load(path: str | None = None, environ=None, overrides: dict | None = None) -> Config:
    """Build the effective configuration, or raise ConfigError naming what is wrong."""
    environ = os.environ if environ is None else environ
    path = path or environ.get("STACKBOX_CONFIG")
    values: dict = {}
    if path:
        try:
            with open(path) as handle:
                values = yaml.safe_load(handle) or {}
        except OSError as exc:
            raise ConfigError(f"cannot read configuration file {path}: {exc.strerror}") from None
        except yaml.YAMLError as exc:
            raise ConfigError(f"configuration file {path} is not valid YAML: {exc}") from None
        if not isinstance(values, dict):
            raise ConfigError(f"configuration file {path} must hold a mapping of keys")
    _merge(values, _env_overrides(environ))
    _merge(values, {k: v for k, v in (overrides or {}).items() if v is not None})
    validator = jsonschema.Draft202012Validator(SCHEMA)
    errors = sorted(validator.iter_errors(values), key=lambda e: list(e.absolute_path))
    if errors:
        raise ConfigError(_describe(errors[0]) + (f" (in {path})" if path else ""))
    config = Config(_fill_defaults(SCHEMA, values))
    config["data_dir"] = os.path.abspath(os.path.expanduser(config["data_dir"]))
    return config


def from_json(text: str) -> Config:
    """The effective config the supervisor hands to its children."""
    return Config(json.loads(text))
