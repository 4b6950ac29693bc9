"""Flavors: list/show for everyone; create, update, delete, extra specs and access for admins."""
import uuid
from urllib.parse import urlencode

import peewee
from flask import Blueprint, g, request

from undercloud import db
from undercloud.common import paging
from undercloud.common.errors import BadRequest, Conflict, NotFound
from undercloud.common.validation import check, json_body, validate
from undercloud.compute import policy, schemas, views
from undercloud.compute.models import Flavor, FlavorAccess
from undercloud.compute.routes.common import config, integer_arg, respond

blueprint = Blueprint("compute_flavors", __name__)

SORT_KEYS = {"created_at": Flavor.created_at, "description": Flavor.description,
             "disabled": Flavor.disabled, "ephemeral_gb": Flavor.ephemeral_gb,
             "flavorid": Flavor.flavorid, "id": Flavor.flavorid, "is_public": Flavor.is_public,
             "memory_mb": Flavor.memory_mb, "name": Flavor.name, "root_gb": Flavor.root_gb,
             "rxtx_factor": Flavor.rxtx_factor, "swap": Flavor.swap,
             "updated_at": Flavor.updated_at, "vcpus": Flavor.vcpus}


def _accessible(query):
    """Public flavors plus the private ones shared with the caller's project."""
    shared = FlavorAccess.select(FlavorAccess.flavor).where(
        FlavorAccess.project_id == g.context.project_id)
    return query.where(Flavor.is_public | Flavor.id.in_(shared))


def find_flavor(flavor_id) -> Flavor:
    """The flavor by its user-facing id, or 404 when absent or private to other projects."""
    query = Flavor.select().where(Flavor.flavorid == str(flavor_id))
    if not g.context.is_admin:
        query = _accessible(query)
    flavor = query.first()
    if flavor is None:
        raise NotFound(f"Flavor {flavor_id} could not be found.")
    return flavor


def _is_public_arg():
    text = request.args.get("is_public")
    if text is None:
        return True
    if text.lower() == "none":
        return None
    if text.lower() in ("true", "t", "1", "yes", "y", "on"):
        return True
    if text.lower() in ("false", "f", "0", "no", "n", "off"):
        return False
    raise BadRequest(f"Invalid is_public filter [{text}]")


def _listing(detail: bool):
    policy.enforce("flavors:index")
    query = Flavor.select()
    if g.context.is_admin:
        is_public = _is_public_arg()
        if is_public is not None:
            query = query.where(Flavor.is_public == is_public)
    else:
        query = _accessible(query.where(Flavor.disabled == False))  # noqa: E712
    for arg, field in (("minDisk", Flavor.root_gb), ("minRam", Flavor.memory_mb)):
        value = request.args.get(arg)
        if value is not None:
            try:
                query = query.where(field >= int(value))
            except ValueError:
                raise BadRequest(f"Invalid {arg} filter [{value}]") from None
    key = request.args.get("sort_key", "flavorid")
    direction = request.args.get("sort_dir", "asc").lower()
    if key not in SORT_KEYS:
        raise BadRequest(f"Invalid input received: Invalid sort_key {key}")
    if direction not in ("asc", "desc"):
        raise BadRequest(f"Invalid input received: Invalid sort_dir {direction}")
    order = [(SORT_KEYS[key], direction)]
    if SORT_KEYS[key] is not Flavor.flavorid:
        order.append((Flavor.flavorid, direction))
    limit = integer_arg(request.args, "limit") or None
    limit = min(limit or config()["compute"]["max_limit"], config()["compute"]["max_limit"])
    marker_id = request.args.get("marker")
    if marker_id:
        marker = Flavor.get_or_none(Flavor.flavorid == marker_id)
        if marker is None:
            raise BadRequest(f"marker [{marker_id}] not found")
        query = query.where(paging._after(order, marker))
    rows = list(query.order_by(*[f.asc() if d == "asc" else f.desc() for f, d in order])
                .limit(limit))
    document = {"flavors": [views.flavor(row, detail) for row in rows]}
    if request.args.get("limit") and rows and len(rows) == limit:
        args = request.args.to_dict(flat=False)
        args["marker"] = [rows[-1].flavorid]
        document["flavors_links"] = [{"rel": "next", "href": f"{request.base_url}?"
                                      f"{urlencode(args, doseq=True)}"}]
    return respond(document)


@blueprint.get("/v2.1/flavors")
def list_flavors():
    return _listing(detail=False)


@blueprint.get("/v2.1/flavors/detail")
def list_flavors_detail():
    return _listing(detail=True)


@blueprint.get("/v2.1/flavors/<flavor_id>")
def show_flavor(flavor_id):
    policy.enforce("flavors:index")
    return respond({"flavor": views.flavor(find_flavor(flavor_id))})


def _integer(body, name, default=0):
    value = body.get(name, default)
    if value in ("", None):
        return default
    return int(value)


@blueprint.post("/v2.1/flavors")
@validate(schemas.FLAVOR_CREATE)
def create_flavor():
    policy.enforce("flavor-manage:create")
    body = g.body["flavor"]
    if "description" in body and not views.at_least("2.55"):
        raise BadRequest("Invalid input for field/attribute flavor. Additional properties are "
                         "not allowed ('description' was unexpected)")
    flavor_id = body.get("id") or None
    name = body["name"]
    rxtx = float(body.get("rxtx_factor", 1.0))
    if rxtx <= 0:
        raise BadRequest("Invalid input for field/attribute rxtx_factor.")
    with db.transaction():
        if Flavor.select().where(Flavor.name == name).exists():
            raise Conflict(f"Flavor with name {name} already exists.")
        flavor_id = str(flavor_id) if flavor_id is not None else str(uuid.uuid4())
        if Flavor.select().where(Flavor.flavorid == flavor_id).exists():
            raise Conflict(f"Flavor with ID {flavor_id} already exists.")
        flavor = Flavor.create(
            flavorid=flavor_id, name=name, vcpus=_integer(body, "vcpus"),
            memory_mb=_integer(body, "ram"), root_gb=_integer(body, "disk"),
            ephemeral_gb=_integer(body, "OS-FLV-EXT-DATA:ephemeral"),
            swap=_integer(body, "swap"), rxtx_factor=rxtx,
            is_public=schemas.truthy(body.get("os-flavor-access:is_public", True)),
            description=body.get("description"))
    return respond({"flavor": views.flavor(flavor)})


@blueprint.put("/v2.1/flavors/<flavor_id>")
@validate(schemas.FLAVOR_UPDATE)
def update_flavor(flavor_id):
    if not views.at_least("2.55"):
        raise NotFound("The resource could not be found.")
    policy.enforce("flavor-manage:update")
    flavor = find_flavor(flavor_id)
    flavor.description = g.body["flavor"]["description"]
    flavor.save()
    return respond({"flavor": views.flavor(flavor)})


@blueprint.delete("/v2.1/flavors/<flavor_id>")
def delete_flavor(flavor_id):
    policy.enforce("flavor-manage:delete")
    flavor = find_flavor(flavor_id)
    with db.transaction():
        FlavorAccess.delete().where(FlavorAccess.flavor == flavor.id).execute()
        flavor.delete_instance()
    return respond(None, 202)


# Extra specs.

@blueprint.get("/v2.1/flavors/<flavor_id>/os-extra_specs")
def list_extra_specs(flavor_id):
    policy.enforce("flavor-extra-specs:index")
    return respond({"extra_specs": find_flavor(flavor_id).extra_specs or {}})


@blueprint.post("/v2.1/flavors/<flavor_id>/os-extra_specs")
@validate(schemas.EXTRA_SPECS)
def create_extra_specs(flavor_id):
    policy.enforce("flavor-extra-specs:manage")
    flavor = find_flavor(flavor_id)
    specs = {key: str(value) for key, value in g.body["extra_specs"].items()}
    flavor.extra_specs = {**(flavor.extra_specs or {}), **specs}
    flavor.save()
    return respond({"extra_specs": specs})


@blueprint.get("/v2.1/flavors/<flavor_id>/os-extra_specs/<key>")
def show_extra_spec(flavor_id, key):
    policy.enforce("flavor-extra-specs:index")
    specs = find_flavor(flavor_id).extra_specs or {}
    if key not in specs:
        raise NotFound(f"Flavor {flavor_id} has no extra specs with key {key}.")
    return respond({key: specs[key]})


@blueprint.put("/v2.1/flavors/<flavor_id>/os-extra_specs/<key>")
def update_extra_spec(flavor_id, key):
    policy.enforce("flavor-extra-specs:manage")
    body = json_body()
    if not isinstance(body, dict) or len(body) != 1:
        raise BadRequest("Request body contains too many items; give exactly one extra spec.")
    if key not in body:
        raise BadRequest("Request body and URI mismatch")
    check({"extra_specs": {key: body[key]}}, schemas.EXTRA_SPECS)
    flavor = find_flavor(flavor_id)
    flavor.extra_specs = {**(flavor.extra_specs or {}), key: str(body[key])}
    flavor.save()
    return respond({key: str(body[key])})


@blueprint.delete("/v2.1/flavors/<flavor_id>/os-extra_specs/<key>")
def delete_extra_spec(flavor_id, key):
    policy.enforce("flavor-extra-specs:manage")
    flavor = find_flavor(flavor_id)
    specs = dict(flavor.extra_specs or {})
    if key not in specs:
        raise NotFound(f"Flavor {flavor_id} has no extra specs with key {key}.")
    del specs[key]
    flavor.extra_specs = specs
    flavor.save()
    return respond(None, 200)


# Access lists of private flavors.

def _access(flavor):
    return {"flavor_access": [{"flavor_id": flavor.flavorid, "tenant_id": row.project_id}
                              for row in FlavorAccess.select().where(
                                  FlavorAccess.flavor == flavor.id)]}


@blueprint.get("/v2.1/flavors/<flavor_id>/os-flavor-access")
def list_flavor_access(flavor_id):
    policy.enforce("flavor-access:list")
    flavor = find_flavor(flavor_id)
    if flavor.is_public:
        raise NotFound("Access list not available for public flavors.")
    return respond(_access(flavor))


@blueprint.post("/v2.1/flavors/<flavor_id>/action")
@validate(schemas.FLAVOR_ACCESS)
def flavor_action(flavor_id):
    policy.enforce("flavor-access:manage")
    flavor = find_flavor(flavor_id)
    if "addTenantAccess" in g.body:
        project_id = g.body["addTenantAccess"]["tenant"]
        if flavor.is_public:
            raise Conflict("Can not add access to a public flavor.")
        try:
            with db.transaction():
                FlavorAccess.create(flavor=flavor.id, project_id=project_id)
        except peewee.IntegrityError:
            raise Conflict(f"Flavor access already exists for flavor {flavor_id} and project "
                           f"{project_id} combination.") from None
    else:
        project_id = g.body["removeTenantAccess"]["tenant"]
        removed = FlavorAccess.delete().where(FlavorAccess.flavor == flavor.id,
                                              FlavorAccess.project_id == project_id).execute()
        if not removed:
            raise NotFound(f"Flavor access not found for {flavor_id} / {project_id} "
                           "combination.")
    return respond(_access(flavor))
