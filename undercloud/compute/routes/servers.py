"""Servers: create (recorded in BUILD, then cast to the scheduler), list, show, update, delete."""
import base64
import binascii
import ipaddress
import logging
import re
import secrets
import string
import uuid

from flask import Blueprint, g

from undercloud import db
from undercloud.bus import BusError, NoPeer
from undercloud.common.errors import BadRequest, Conflict, Forbidden, NotFound, ServiceUnavailable
from undercloud.common.validation import validate
from undercloud.compute import glance, policy, quotas, schemas, views
from undercloud.compute.models import (ComputeNode, Instance, InstanceTag, KeyPair, ServerGroup,
                                       ServerGroupMember)
from undercloud.compute.routes import server_listing
from undercloud.compute.routes.common import (computes, config, network, no_content,
                                              record_action, respond, rpc_context, scheduler)
from undercloud.compute.routes.flavors import find_flavor
from undercloud.network.rpcapi import (InvalidNetworkRequest, NetworkAttachForbidden,
                                       NetworkRequestConflict, NetworkRequestNotFound)

blueprint = Blueprint("compute_servers", __name__)
LOG = logging.getLogger(__name__)
NO_NETWORKING = ("Networking is not available: no network service answers. Start the network "
                 "service, or boot with networks \"none\" (microversion 2.37+, `--nic none`).")


@blueprint.get("/v2.1/servers")
def list_servers():
    return respond(server_listing.servers(detail=False))


@blueprint.get("/v2.1/servers/detail")
def list_servers_detail():
    return respond(server_listing.servers(detail=True))


@blueprint.get("/v2.1/servers/<server_id>")
def show_server(server_id):
    server = policy.find_server(server_id)
    policy.enforce("servers:show", project_id=server.project_id)
    return respond({"server": views.server(server, show=True)})


def last_part(text) -> str:
    return str(text).rstrip("/").rsplit("/", 1)[-1]


def _requires(version: str, body: dict, *names):
    for name in names:
        if name in body and not views.at_least(version):
            raise BadRequest(f"Invalid input for field/attribute server. Additional properties "
                             f"are not allowed ('{name}' was unexpected)")


def _networks(body):
    """What the create asks for: "none", "auto", a list of {"uuid"|"port", "fixed_ip", "tag"}
    or None (no networks key before 2.37: the project's network if it has one)."""
    if "networks" not in body:
        if views.at_least("2.37"):
            raise BadRequest("Invalid input for field/attribute server. 'networks' is a "
                             "required property")
        return None
    networks = body["networks"]
    if isinstance(networks, str) and not views.at_least("2.37"):
        if networks == "none":
            raise BadRequest("Invalid input for field/attribute networks. 'none' needs "
                             "microversion 2.37 or later.")
        raise BadRequest(f"Invalid input for field/attribute networks. Value: {networks}. "
                         f"'{networks}' is not of type 'array'")
    if isinstance(networks, str):
        return networks
    return [_network_request(item) for item in networks] or None


def _is_uuid(text) -> bool:
    try:
        uuid.UUID(str(text))
    except ValueError:
        return False
    return True


def _network_request(item) -> dict:
    """One item of networks, checked as Nova does (ids are checked by the network service)."""
    if not isinstance(item, dict):
        raise BadRequest("Bad networks format")
    unexpected = set(item) - {"uuid", "port", "fixed_ip", "tag"}
    tags_allowed = views.at_least("2.32") and not (views.at_least("2.37")
                                                    and not views.at_least("2.42"))
    if "tag" in item and not tags_allowed:
        unexpected.add("tag")
    if unexpected:
        raise BadRequest(f"Invalid input for field/attribute networks. Additional properties "
                         f"are not allowed ('{sorted(unexpected)[0]}' was unexpected)")
    request = {}
    if item.get("port"):
        if not _is_uuid(item["port"]):
            raise BadRequest(f"Invalid input for field/attribute port. Value: {item['port']}. "
                             f"'{item['port']}' is not a 'uuid'")
        if item.get("fixed_ip") is not None:
            raise BadRequest(f"Specified Fixed IP '{item['fixed_ip']}' cannot be used with port "
                             f"'{item['port']}': the two cannot be specified together.")
        request["port"] = str(uuid.UUID(item["port"]))
    else:
        if "uuid" not in item:
            raise BadRequest("Bad network format: missing 'uuid'")
        if not _is_uuid(item["uuid"]):
            raise BadRequest(f"Bad networks format: network uuid is not in proper format "
                             f"({item['uuid']})")
        request["uuid"] = str(uuid.UUID(item["uuid"]))
        if item.get("fixed_ip") is not None:
            try:
                request["fixed_ip"] = ipaddress.ip_address(item["fixed_ip"]).compressed
            except ValueError:
                raise BadRequest(f"Invalid fixed IP address ({item['fixed_ip']})") from None
    if item.get("tag"):
        request["tag"] = str(item["tag"])
    return request


def network_context() -> dict:
    """The caller as the network server needs it (its token stays here)."""
    context = rpc_context()
    return {key: context[key] for key in ("user_id", "project_id", "roles", "request_id")}


def network_refusal(exc: Exception, not_found=BadRequest):
    """The network server's refusal in Nova's terms (a missing network is 400 at create)."""
    if isinstance(exc, NetworkRequestNotFound):
        return not_found(str(exc))
    if isinstance(exc, NetworkRequestConflict):
        return Conflict(str(exc))
    if isinstance(exc, NetworkAttachForbidden):
        return Forbidden(str(exc))
    if isinstance(exc, InvalidNetworkRequest):
        return BadRequest(str(exc))
    return ServiceUnavailable(f"The network service did not answer: {exc}")


def _checked_networks(requested, security_groups: list[str], max_count: int) -> list[dict]:
    """The networks the build will ask for, checked by the network service now so a missing
    network or a busy port is the create's 4xx, not a failed build."""
    if requested == "none":
        return []
    if isinstance(requested, list) and max_count > 1:
        if any(r.get("port") for r in requested):
            raise BadRequest("Unable to launch multiple instances with a single configured port "
                             "ID. Please launch your instance one by one with different ports.")
        if any(r.get("fixed_ip") for r in requested):
            raise BadRequest("max_count cannot be greater than 1 if an fixed_ip is specified.")
    asked = requested if isinstance(requested, list) else []
    try:
        resolved = network().validate_networks(network_context(), g.context.project_id, asked,
                                               security_groups)
    except NoPeer:
        if requested is None:  # no network service: before 2.37 that boots without one
            return []
        raise BadRequest(NO_NETWORKING) from None
    except (BusError, InvalidNetworkRequest, NetworkAttachForbidden, NetworkRequestConflict,
            NetworkRequestNotFound) as exc:
        raise network_refusal(exc) from None
    if not resolved and requested == "auto":
        raise BadRequest(f"Unable to automatically allocate a network for project "
                         f"{g.context.project_id}")
    return resolved


def _security_groups(body) -> list[str]:
    names = []
    for group in body.get("security_groups") or []:
        name = group.get("name")
        if not isinstance(name, str) or not name.strip():
            raise BadRequest("Invalid input for field/attribute security_groups: each needs a "
                             "name.")
        names.append(name.strip())
    return list(dict.fromkeys(names))


def _boot_image_id(body) -> str:
    """The image the root disk comes from: imageRef, or an image block device (boot_index 0)."""
    mappings = body.get("block_device_mapping_v2") or []
    if body.get("block_device_mapping"):
        raise BadRequest("Booting from a volume is not available yet: block_device_mapping "
                         "needs the volume service.")
    for mapping in mappings:
        source = mapping.get("source_type")
        destination = mapping.get("destination_type", "local")
        if source in ("volume", "snapshot") or destination == "volume":
            raise BadRequest(f"Booting from a volume is not available yet: "
                             f"block_device_mapping_v2 source_type '{source}' with "
                             f"destination_type '{destination}' needs the volume service.")
        if source == "blank":
            raise BadRequest("Blank block devices are not available yet: they need the "
                             "volume service or ephemeral disks in the flavor.")
    image_ref = body.get("imageRef", "")
    for mapping in mappings:
        if mapping.get("source_type") == "image" and str(mapping.get("boot_index")) == "0":
            if image_ref and last_part(image_ref) != mapping.get("uuid"):
                raise BadRequest("The image in block_device_mapping_v2 and imageRef differ.")
            image_ref = mapping.get("uuid", "")
    if not image_ref:
        raise BadRequest("Missing imageRef attribute")
    return last_part(image_ref)


def check_image(image_id: str, memory_mb: int, root_gb: int) -> dict:
    """The image, if the caller may boot it with this much RAM and root disk; else 400."""
    image = glance.get_image(config(), g.context.token, image_id)
    if image is None:
        raise BadRequest(f"Image {image_id} could not be found.")
    if image.get("status") != "active":
        raise BadRequest(f"Image {image_id} is not active.")
    if memory_mb < int(image.get("min_ram") or 0):
        raise BadRequest("Flavor's memory is too small for requested image.")
    if root_gb:
        if root_gb < int(image.get("min_disk") or 0):
            raise BadRequest("Flavor's disk is too small for requested image.")
        size = int(image.get("size") or 0)
        if size > root_gb * 1024 ** 3:
            raise BadRequest(f"Flavor's disk is too small for requested image. Flavor disk is "
                             f"{root_gb * 1024 ** 3} bytes, image is {size} bytes.")
    return image


def _image_properties(image: dict) -> dict:
    core = {"id", "name", "status", "visibility", "protected", "os_hidden", "owner",
            "container_format", "disk_format", "min_disk", "min_ram", "size", "virtual_size",
            "checksum", "os_hash_algo", "os_hash_value", "created_at", "updated_at", "tags",
            "self", "file", "schema", "locations", "direct_url", "stores"}
    return {k: v for k, v in image.items() if k not in core and v is not None}


def _availability_zone(body) -> tuple[str, str | None]:
    """(zone, forced host): "zone", "zone:host" or "zone:host:node" (the host part admin-only)."""
    default = config()["compute"]["default_availability_zone"]
    text = body.get("availability_zone")
    if not text:
        return default, None
    zone, _, rest = text.partition(":")
    host = rest.split(":")[0] or None if rest else None
    if host:
        policy.enforce("servers:create:forced_host", project_id=g.context.project_id)
    zone = zone or default
    zones = {default} | {row.availability_zone for row in ComputeNode.select(
        ComputeNode.availability_zone)}
    if zone not in zones:
        raise BadRequest("The requested availability zone is not available")
    return zone, host


def ip_address(text: str | None, version: int) -> str | None:
    """An access IP in its canonical form (Nova stores what netaddr prints), or 400."""
    if not text:
        return None
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        address = None
    if address is None or address.version != version:
        raise BadRequest(f"Invalid input for field/attribute accessIPv{version}. Value: {text}. "
                         f"'{text}' is not a 'ipv{version}'")
    return address.compressed


def _count(body, name) -> int:
    value = body.get(name, 1)
    try:
        value = int(value)
    except ValueError:
        raise BadRequest(f"Invalid input for field/attribute {name}.") from None
    if value < 1:
        raise BadRequest(f"Invalid input for field/attribute {name}. Value: {value}. "
                         f"{value} is less than the minimum of 1")
    return value


def _user_data(body) -> str | None:
    text = body.get("user_data")
    if text is None:
        return None
    try:
        base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise BadRequest("User data needs to be valid base 64.") from None
    return text


def hostname(name: str) -> str:
    """Nova's sanitized hostname: lower case, letters, digits and dashes, at most 63."""
    text = re.sub(r"[^\w.-]+", "-", name.lower()).replace("_", "-")
    text = re.sub(r"[.-]+$", "", re.sub(r"^[.-]+", "", text))
    return (text[:63] or "server").rstrip("-.")


def _server_group(hints: dict):
    group_id = hints.get("group")
    if not group_id:
        return None
    group = ServerGroup.get_or_none(ServerGroup.id == str(group_id))
    if group is None or not (g.context.is_admin or group.project_id == g.context.project_id):
        raise BadRequest(f"Invalid server group {group_id}: it could not be found.")
    return group


@blueprint.post("/v2.1/servers")
@validate(schemas.SERVER_CREATE)
def create_server():
    body = g.body["server"]
    hints = g.body.get("os:scheduler_hints") or g.body.get("OS-SCH-HNT:scheduler_hints") or {}
    _requires("2.19", body, "description")
    _requires("2.52", body, "tags")
    _requires("2.63", body, "trusted_image_certificates")
    _requires("2.74", body, "host", "hypervisor_hostname")
    if "personality" in body and views.at_least("2.57"):
        raise BadRequest("Invalid input for field/attribute server. Additional properties are "
                         "not allowed ('personality' was unexpected)")
    context = g.context
    policy.enforce("servers:create", project_id=context.project_id)
    flavor_ref = last_part(body["flavorRef"])
    try:
        flavor = find_flavor(flavor_ref)
    except NotFound:
        raise BadRequest(f"Flavor {flavor_ref} could not be found.") from None
    if flavor.disabled:
        raise BadRequest(f"Flavor {flavor_ref} is disabled and cannot boot servers.")
    requested_networks = _networks(body)
    security_groups = _security_groups(body)
    image_id = _boot_image_id(body)
    image = check_image(image_id, flavor.memory_mb, flavor.root_gb)
    key_data = None
    if body.get("key_name"):
        keypair = KeyPair.get_or_none(KeyPair.user_id == context.user_id,
                                      KeyPair.name == body["key_name"])
        if keypair is None:
            raise BadRequest("Invalid key_name provided.")
        key_data = keypair.public_key
    user_data = _user_data(body)
    zone, forced_host = _availability_zone(body)
    if body.get("host"):
        policy.enforce("servers:create:forced_host", project_id=context.project_id)
        forced_host = body["host"]
    ip_address(body.get("accessIPv4"), 4), ip_address(body.get("accessIPv6"), 6)
    min_count, max_count = _count(body, "min_count"), _count(body, "max_count")
    if "max_count" not in body:
        max_count = max(min_count, 1)
    if min_count > max_count:
        raise BadRequest("min_count must be <= max_count")
    metadata = body.get("metadata") or {}
    quotas.check_metadata(config(), context.project_id, metadata)
    networks = _checked_networks(requested_networks, security_groups, max_count)
    group = _server_group(hints)
    admin_pass = body.get("adminPass") or "".join(
        secrets.choice(string.ascii_letters + string.digits) for _ in range(12))
    flavor_snapshot = views.flavor_snapshot(flavor)
    reservation_id = "r-" + "".join(secrets.choice(string.ascii_lowercase + string.digits)
                                    for _ in range(8))
    mappings = [{"source_type": "image", "destination_type": "local", "boot_index": 0,
                 "uuid": image_id, "delete_on_termination": True}]
    system_metadata = {f"image_{k}": v for k, v in _image_properties(image).items()}
    system_metadata.update({"image_min_ram": image.get("min_ram") or 0,
                            "image_min_disk": image.get("min_disk") or 0,
                            "image_disk_format": image.get("disk_format"),
                            "image_container_format": image.get("container_format")})
    with db.transaction():
        count = quotas.check_servers(config(), context.project_id, context.user_id,
                                     flavor_snapshot, min_count, max_count)
        if group is not None:
            quotas.check_group_members(config(), group, count)
        instances = []
        for index in range(count):
            name = body["name"] if count == 1 else f"{body['name']}-{index + 1}"
            instance = Instance.create(
                id=str(uuid.uuid4()), display_name=name,
                display_description=body.get("description"),
                project_id=context.project_id, user_id=context.user_id, image_ref=image_id,
                flavor=flavor_snapshot, vm_state="building", task_state="scheduling",
                availability_zone=zone, key_name=body.get("key_name"), key_data=key_data,
                user_data=user_data, config_drive=schemas.truthy(body.get("config_drive",
                                                                          False)),
                metadata=metadata, system_metadata=system_metadata,
                reservation_id=reservation_id, launch_index=index, hostname=hostname(name),
                access_ip_v4=ip_address(body.get("accessIPv4"), 4),
                access_ip_v6=ip_address(body.get("accessIPv6"), 6),
                block_device_mapping=mappings, requested_networks=networks,
                security_groups=security_groups,
                server_group_id=group.id if group else None)
            for tag in dict.fromkeys(body.get("tags") or []):
                InstanceTag.create(instance=instance.id, tag=tag)
            if group is not None:
                ServerGroupMember.create(group=group.id, instance_id=instance.id)
            record_action(instance, "create")
            instances.append(instance)
    request_spec = {
        "flavor": flavor_snapshot,
        "image": {"id": image_id, "properties": _image_properties(image),
                  "min_disk": image.get("min_disk") or 0, "min_ram": image.get("min_ram") or 0,
                  "size": image.get("size") or 0, "disk_format": image.get("disk_format")},
        "availability_zone": zone, "group_id": group.id if group else None,
        "force_host": forced_host, "admin_password": admin_pass,
    }
    try:
        scheduler().build_instances(rpc_context(), [i.id for i in instances], request_spec)
    except Exception:  # noqa: BLE001 (the conductor reconciles BUILD rows it never got)
        LOG.exception("could not cast build_instances for %s; reconciliation will retry",
                      [i.id for i in instances])
    if schemas.truthy(body.get("return_reservation_id", False)):
        return respond({"reservation_id": reservation_id}, 202)
    first = instances[0]
    shown = {"id": first.id, "links": views.links("servers", first.id),
             "OS-DCF:diskConfig": "MANUAL",
             "security_groups": [{"name": name} for name in security_groups or ["default"]],
             "adminPass": admin_pass}
    return respond({"server": shown}, 202,
                   {"Location": views.links("servers", first.id)[0]["href"]})


@blueprint.get("/v2.1/servers/<server_id>/ips")
def list_addresses(server_id):
    server = policy.find_server(server_id)
    policy.enforce("servers:show", project_id=server.project_id)
    return respond({"addresses": server.addresses or {}})


@blueprint.get("/v2.1/servers/<server_id>/ips/<network>")
def show_addresses(server_id, network):
    server = policy.find_server(server_id)
    policy.enforce("servers:show", project_id=server.project_id)
    addresses = server.addresses or {}
    if network not in addresses:
        raise NotFound("There is no such network")
    return respond({network: addresses[network]})


@blueprint.put("/v2.1/servers/<server_id>")
@validate(schemas.SERVER_UPDATE)
def update_server(server_id):
    body = g.body["server"]
    _requires("2.19", body, "description")
    server = policy.find_server(server_id)
    policy.enforce("servers:update", project_id=server.project_id)
    if "name" in body:
        server.display_name = body["name"]
    if "description" in body:
        server.display_description = body["description"]
    if "accessIPv4" in body:
        server.access_ip_v4 = ip_address(body["accessIPv4"], 4)
    if "accessIPv6" in body:
        server.access_ip_v6 = ip_address(body["accessIPv6"], 6)
    server.save()
    return respond({"server": views.server(server, show=True, brief=True)})


def mark_deleted(server):
    """A server that never reached a host goes at once: nothing to tear down."""
    now = db.utcnow()
    with db.transaction():
        Instance.update(deleted=True, deleted_at=now, terminated_at=now, vm_state="deleted",
                        task_state=None, updated_at=now).where(Instance.id == server.id).execute()
        ServerGroupMember.delete().where(ServerGroupMember.instance_id == server.id).execute()


@blueprint.delete("/v2.1/servers/<server_id>")
def delete_server(server_id):
    server = policy.find_server(server_id)
    policy.enforce("servers:delete", project_id=server.project_id)
    if server.locked and not policy.allowed("servers:unlock:unlock_override",
                                            project_id=server.project_id):
        raise Conflict(f"Instance {server.id} is locked")
    record_action(server, "delete")
    if not server.host:
        mark_deleted(server)
        return no_content()
    Instance.update(task_state="deleting", updated_at=db.utcnow()).where(
        Instance.id == server.id).execute()
    try:
        computes().terminate_instance(rpc_context(), server.host, server.id)
    except Exception:  # noqa: BLE001 (the host's reconciliation finishes the delete)
        LOG.exception("could not cast terminate_instance for %s", server.id)
    return no_content()
