"""Identity's defaults, made on every start and changed only where they are missing or stale.

Like `keystone-manage bootstrap`: the Default domain, the admin, member,
reader and service roles (admin implies member implies reader), the admin
project, the admin user with the generated password and the admin role on
that project and on the system, the region, and a catalog entry with public,
internal and admin endpoints for every enabled service. The entries it made for
services no longer enabled (or not built yet) go, so the catalog lists only what
answers; entries an admin made are never touched.
"""
import logging

from undercloud import db
from undercloud import services as registry
from undercloud.common import secrets
from undercloud.identity import passwords
from undercloud.identity.models import (
    DEFAULT_DOMAIN_ID,
    CatalogService,
    Domain,
    Endpoint,
    ImpliedRole,
    Project,
    Region,
    Role,
    RoleAssignment,
    User,
)

LOG = logging.getLogger(__name__)

ADMIN = "admin"
ROLES = ("admin", "member", "reader", "service")
IMPLIES = (("admin", "member"), ("member", "reader"))
INTERFACES = ("public", "internal", "admin")
# The names OpenStack users know each service type by, as Keystone catalogs show them.
CATALOG_NAMES = {"identity": "keystone", "compute": "nova", "image": "glance",
                 "network": "neutron", "block-storage": "cinder", "object-store": "swift",
                 "orchestration": "heat", "metric": "gnocchi", "baremetal": "ironic"}


def endpoint_url(config, service) -> str:
    """Where clients reach a service, with Keystone's $(project_id)s template if it needs one."""
    return config.endpoint(service.name) + service.version_path.replace("%(", "$(")


def bootstrap(config):
    with db.transaction():
        _domain_and_roles()
    admin = User.get_or_none(User.name == ADMIN, User.domain == DEFAULT_DOMAIN_ID)
    hashed = None if admin else passwords.hash_password(config, secrets.admin_password(config))
    with db.transaction():
        project = _admin_project()
        admin = _admin_user(config, hashed)
        _grant(RoleAssignment.USER_PROJECT, admin.id, project.id)
        _grant(RoleAssignment.USER_SYSTEM, admin.id, "system")
        _catalog(config)


def _domain_and_roles():
    if not Domain.get_or_none(Domain.id == DEFAULT_DOMAIN_ID):
        Domain.create(id=DEFAULT_DOMAIN_ID, name="Default", description="The default domain")
        LOG.info("created the Default domain")
    roles = {}
    for name in ROLES:
        role = Role.get_or_none(Role.name == name, Role.domain_id.is_null())
        if role is None:
            role = Role.create(name=name)
            LOG.info("created the %s role", name)
        roles[name] = role
    for prior, implied in IMPLIES:
        if not ImpliedRole.get_or_none(ImpliedRole.prior_role == roles[prior].id,
                                       ImpliedRole.implied_role == roles[implied].id):
            ImpliedRole.create(prior_role=roles[prior].id, implied_role=roles[implied].id)


def _admin_project() -> Project:
    project = Project.get_or_none(Project.name == ADMIN, Project.domain == DEFAULT_DOMAIN_ID)
    if project is None:
        project = Project.create(name=ADMIN, domain=DEFAULT_DOMAIN_ID,
                                 description="Bootstrap project for initializing the cloud.")
        LOG.info("created the admin project")
    return project


def _admin_user(config, hashed: str | None) -> User:
    admin = User.get_or_none(User.name == ADMIN, User.domain == DEFAULT_DOMAIN_ID)
    if admin is not None:
        return admin  # its password may have been changed on purpose: keep it
    admin = User.create(name=ADMIN, domain=DEFAULT_DOMAIN_ID)
    passwords.store_password(config, admin, hashed)
    LOG.info("created the admin user")
    return admin


def _grant(kind: str, user_id: str, target_id: str):
    role = Role.get(Role.name == ADMIN, Role.domain_id.is_null())
    if not RoleAssignment.get_or_none(RoleAssignment.type == kind,
                                      RoleAssignment.actor_id == user_id,
                                      RoleAssignment.target_id == target_id,
                                      RoleAssignment.role == role.id,
                                      RoleAssignment.inherited == False):  # noqa: E712
        RoleAssignment.create(type=kind, actor_id=user_id, target_id=target_id, role=role.id)


def _description(service) -> str:
    # Marks the entries bootstrap made, so it removes only its own.
    return f"Stackbox {service.name} service"


def _catalog(config):
    region = config["region"]
    if not Region.get_or_none(Region.id == region):
        Region.create(id=region, description="")
    enabled = registry.enabled(config["services"])
    _remove_gone(enabled)
    for service in enabled:
        if service.catalog_type is None:
            continue  # e.g. the metadata API: guests reach it, clients never look it up
        entry = (CatalogService.select().where(CatalogService.type == service.catalog_type)
                 .order_by(CatalogService.created_at).first())
        if entry is None:
            entry = CatalogService.create(type=service.catalog_type,
                                          name=CATALOG_NAMES.get(service.catalog_type,
                                                                 service.name),
                                          description=_description(service))
            LOG.info("added the %s service to the catalog", service.catalog_type)
        url = endpoint_url(config, service)
        for interface in INTERFACES:
            endpoint = Endpoint.get_or_none(Endpoint.service == entry.id,
                                            Endpoint.interface == interface,
                                            Endpoint.region_id == region)
            if endpoint is None:
                Endpoint.create(service=entry.id, interface=interface, url=url,
                                region_id=region)
            elif endpoint.url != url:
                LOG.info("moving the %s %s endpoint from %s to %s", service.catalog_type,
                         interface, endpoint.url, url)
                endpoint.url = url
                endpoint.save()


def _remove_gone(enabled):
    """Drop the entries bootstrap made for services that are not enabled or not built."""
    for service in registry.SERVICES.values():
        if service in enabled or service.catalog_type is None:
            continue
        for entry in CatalogService.select().where(
                CatalogService.type == service.catalog_type,
                CatalogService.description == _description(service)):
            Endpoint.delete().where(Endpoint.service == entry.id).execute()
            entry.delete_instance()
            LOG.info("removed the %s service from the catalog: %s", service.catalog_type,
                     "not built yet" if service.planned else "not enabled")
