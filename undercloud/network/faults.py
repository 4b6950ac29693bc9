"""Neutron's named errors: the NeutronError type and message clients and tempest match on."""
from undercloud.common import errors


def not_found(kind: str, resource_id: str) -> errors.NotFound:
    """e.g. not_found("Network", id): 404 NetworkNotFound "Network <id> could not be found."."""
    name = "".join(word[0].upper() + word[1:] for word in kind.split())
    return errors.NotFound(f"{kind} {resource_id} could not be found.", type=f"{name}NotFound")


def invalid_input(message: str) -> errors.BadRequest:
    return errors.BadRequest(f"Invalid input for operation: {message}", type="InvalidInput")


def bad_request(resource: str, message: str) -> errors.BadRequest:
    return errors.BadRequest(f"Bad {resource} request: {message}.", type="BadRequest")


def conflict(kind: str, message: str) -> errors.Conflict:
    return errors.Conflict(message, type=kind)


def policy_not_authorized(action: str) -> errors.Forbidden:
    return errors.Forbidden(f"({'rule:' + action}) is disallowed by policy.",
                            type="PolicyNotAuthorized")


def network_in_use(network_id: str) -> errors.Conflict:
    return conflict("NetworkInUse", f"Unable to complete operation on network {network_id}. "
                                    "There are one or more ports still in use on the network.")


def subnet_in_use(subnet_id: str, reason: str = "One or more ports have an IP allocation "
                                                "from this subnet.") -> errors.Conflict:
    return conflict("SubnetInUse", f"Unable to complete operation on subnet {subnet_id}: "
                                   f"{reason}")


def over_quota(resources: list[str]) -> errors.Conflict:
    return conflict("OverQuota", f"Quota exceeded for resources: {sorted(resources)}.")


def security_group_not_found(group_id: str) -> errors.NotFound:
    return errors.NotFound(f"Security group {group_id} does not exist",
                           type="SecurityGroupNotFound")
