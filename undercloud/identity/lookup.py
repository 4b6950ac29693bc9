"""Finding identity rows or answering Keystone's 404, and the guards a row checks before it changes.

Keystone names the kind and the id: "Could not find user: 1234." Ids in URLs are
compared as given, so a name in the place of an id is simply not found.
"""
from undercloud.common.errors import Conflict, Forbidden, NotFound
from undercloud.identity.models import (CatalogService, Domain, Endpoint, Group, ImpliedRole,
                                        Project, Region, Role, User)


def _find(model, kind: str, row_id):
    row = model.get_or_none(model.id == row_id) if isinstance(row_id, str) and row_id else None
    if row is None:
        raise NotFound(f"Could not find {kind}: {row_id}.")
    return row


def get_domain(domain_id) -> Domain:
    return _find(Domain, "domain", domain_id)


def get_project(project_id) -> Project:
    return _find(Project, "project", project_id)


def get_user(user_id) -> User:
    return _find(User, "user", user_id)


def get_group(group_id) -> Group:
    return _find(Group, "group", group_id)


def get_role(role_id) -> Role:
    return _find(Role, "role", role_id)


def get_region(region_id) -> Region:
    return _find(Region, "region", region_id)


def get_service(service_id) -> CatalogService:
    return _find(CatalogService, "service", service_id)


def get_endpoint(endpoint_id) -> Endpoint:
    return _find(Endpoint, "endpoint", endpoint_id)


def get_implied_role(prior: Role, implied: Role) -> ImpliedRole:
    rule = ImpliedRole.get_or_none(ImpliedRole.prior_role == prior.id,
                                   ImpliedRole.implied_role == implied.id)
    if rule is None:
        raise NotFound(f"{prior.id} does not imply {implied.id}.")
    return rule


def duplicate(kind: str, name: str, domain_id: str | None = None) -> Conflict:
    """Keystone's 409 for a name already taken (in the domain, for users and groups)."""
    where = f" at domain ID {domain_id}" if domain_id else ""
    return Conflict(f"Conflict occurred attempting to store {kind} - "
                    f"Duplicate entry found with name {name}{where}.")


def _immutable(options) -> bool:
    return bool((options or {}).get("immutable"))


def check_update_allowed(kind: str, row_id: str, options, update: dict):
    """An immutable resource may only be updated to clear its immutable option, alone."""
    if not _immutable(options):
        return
    new_options = update.get("options") or {}
    if len(update) > 1 or "immutable" not in new_options \
            or new_options["immutable"] not in (False, None):
        raise Forbidden(f"Unable to update immutable {kind} resource: `{row_id}. "
                        f"Set resource option \"immutable\" to false first.")


def check_delete_allowed(kind: str, row_id: str, options):
    if _immutable(options):
        raise Forbidden(f"Unable to delete immutable {kind} resource: `{row_id}. "
                        f"Set resource option \"immutable\" to false first.")


def merge_options(current: dict, update: dict | None) -> dict:
    """Keystone's options update: a null value removes the option, anything else sets it."""
    merged = dict(current or {})
    for name, value in (update or {}).items():
        if value is None:
            merged.pop(name, None)
        else:
            merged[name] = value
    return merged
