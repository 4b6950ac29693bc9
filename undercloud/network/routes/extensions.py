"""/v2.0/extensions: the Neutron API extensions this server really implements."""
from flask import Blueprint

from undercloud.common.errors import NotFound
from undercloud.network import views

blueprint = Blueprint("extensions", __name__)

UPDATED = "2024-01-01T00:00:00Z"
# (alias, name, description); add an extension here only once it works end to end.
EXTENSIONS = [
    ("agent", "agent", "The agent management extension."),
    ("allowed-address-pairs", "Allowed Address Pairs", "Provides allowed address pairs"),
    ("availability_zone", "Availability Zone", "The availability zone extension."),
    ("binding", "Port Binding", "Expose port bindings of a virtual port to external "
                                "application"),
    ("default-subnetpools", "Default Subnetpools", "Provides ability to mark and use a "
                                                   "subnetpool as the default."),
    ("external-net", "Neutron external network", "Adds external network attribute to "
                                                 "network resource."),
    ("ext-gw-mode", "Neutron L3 Configurable external gateway mode",
     "Extension of the router abstraction for specifying whether SNAT should occur on the "
     "external gateway"),
    ("extra_dhcp_opt", "Neutron Extra DHCP options", "Extra options configuration for DHCP. "
                                                     "For example PXE boot options to DHCP "
                                                     "clients can be specified (e.g. tftp-"
                                                     "server, server-ip-address, bootfile-name)"),
    ("extraroute", "Neutron Extra Route", "Extra routes configuration for L3 router"),
    ("filter-validation", "Filter parameters validation", "Provides validation on filter "
                                                          "parameters."),
    ("ip-substring-filtering", "IP address substring filtering", "Provides IP address "
                                                                 "substring filtering when "
                                                                 "listing ports"),
    ("net-mtu", "Network MTU", "Provides MTU attribute for a network resource."),
    ("network_availability_zone", "Network Availability Zone", "Availability zone support "
                                                               "for network."),
    ("pagination", "Pagination support", "Extension that indicates that pagination is "
                                         "enabled."),
    ("port-security", "Port Security", "Provides port security"),
    ("port-security-groups-filtering", "Port filtering on security groups",
     "Provides security groups filtering when listing ports"),
    ("project-id", "project_id field enabled", "Extension that indicates that project_id "
                                               "field is enabled."),
    ("provider", "Provider Network", "Expose mapping of virtual networks to physical "
                                     "networks"),
    ("quotas", "Quota management support", "Expose functions for quotas management per "
                                           "project"),
    ("quota_details", "Quota details management support", "Expose functions for quotas "
                                                          "usage statistics per project"),
    ("router", "Neutron L3 Router", "Router abstraction for basic L3 forwarding between L2 "
                                    "Neutron networks and access to external networks via a "
                                    "NAT gateway."),
    ("router_availability_zone", "Router Availability Zone", "Availability zone support for "
                                                             "router."),
    ("security-group", "security-group", "The security groups extension."),
    ("sorting", "Sorting support", "Extension that indicates that sorting is enabled."),
    ("standard-attr-description", "standard-attr-description", "Extension to add "
                                                               "descriptions to standard "
                                                               "attributes"),
    ("standard-attr-revisions", "Resource revision numbers", "This extension will display "
                                                             "the revision number of neutron "
                                                             "resources."),
    ("standard-attr-tag", "Tag support for resources with standard attribute: subnet, "
                          "trunk, network_segment_range, router, network, policy, "
                          "subnetpool, port, security_group, floatingip",
     "Enables to set tag on resources with standard attribute."),
    ("standard-attr-timestamp", "Resource timestamps", "Adds created_at and updated_at "
                                                       "fields to all Neutron resources "
                                                       "that have Neutron standard "
                                                       "attributes."),
    ("subnet-external-network", "Subnet External Network", "Informs if the subnet is "
                                                           "associated to an external "
                                                           "network."),
    ("subnet-service-types", "Subnet service types", "Provides ability to set the subnet "
                                                     "service_types field"),
    ("subnet_allocation", "Subnet Allocation", "Enables allocation of subnets from a subnet "
                                               "pool"),
    ("tag", "Tag support", "Enables to set tag on resources."),
    ("tag-creation", "Tag support for resources during creation",
     "Enables to set tag on resources during creation."),
    ("tag-ext", "Tag support for resources: subnet, subnetpool, port, router",
     "Extends tag support to more L2 and L3 resources."),
]


def _document(alias: str, name: str, description: str) -> dict:
    return {"alias": alias, "name": name, "description": description, "updated": UPDATED,
            "links": []}


def aliases() -> set[str]:
    return {alias for alias, _, _ in EXTENSIONS}


@blueprint.get("/v2.0/extensions")
def list_extensions():
    fields = views.requested_fields()
    return views.respond({"extensions": [views.only(_document(*extension), fields)
                                         for extension in sorted(EXTENSIONS)]})


@blueprint.get("/v2.0/extensions/<alias>")
def show_extension(alias):
    for extension in EXTENSIONS:
        if extension[0] == alias:
            return views.show("extension", _document(*extension))
    raise NotFound(f"Extension with alias {alias} does not exist",
                   type="HTTPNotFound")
