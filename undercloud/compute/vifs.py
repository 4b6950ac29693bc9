"""What compute makes of an instance's VIFs (network_info, as the network server gives them):
the server's `addresses` in Nova's format, its NICs, and the guest's network_data.json."""
import ipaddress

from undercloud.compute.drivers.instance import Nic


def addresses(network_info: list[dict]) -> dict:
    """{network name: [{"addr", "version", "OS-EXT-IPS:type", "OS-EXT-IPS-MAC:mac_addr"}]}."""
    shown: dict[str, list] = {}
    for vif in network_info or []:
        entries = shown.setdefault(vif.get("network_name") or vif["network_id"], [])
        for fixed in vif.get("fixed_ips") or []:
            entries.append(_address(fixed["ip_address"], fixed["version"], "fixed", vif))
            for floating in fixed.get("floating_ips") or []:
                entries.append(_address(floating, ipaddress.ip_address(floating).version,
                                        "floating", vif))
    return shown


def _address(address: str, version: int, kind: str, vif: dict) -> dict:
    return {"addr": address, "version": version, "OS-EXT-IPS:type": kind,
            "OS-EXT-IPS-MAC:mac_addr": vif["mac_address"]}


def nics(network_info: list[dict]) -> list[Nic]:
    return [Nic(mac=vif["mac_address"], bridge=vif.get("bridge"), tap=vif.get("tap"),
                mtu=vif.get("mtu")) for vif in network_info or []]


def merged(old: list[dict], new: list[dict]) -> list[dict]:
    """The server's fresh VIFs in the order the instance had them (new ones last), keeping
    the bridge and tap the host's agent plugged and the tag the user gave."""
    before = {vif["port_id"]: (index, vif) for index, vif in enumerate(old or [])}
    result = []
    for vif in new or []:
        index, previous = before.get(vif["port_id"], (len(before), {}))
        plugged = {key: previous[key] for key in ("bridge", "tap", "mtu", "tag")
                   if previous.get(key)}
        result.append((index, {**vif, **plugged}))
    return [vif for _, vif in sorted(result, key=lambda item: item[0])]


def _network_type(fixed: dict) -> str:
    # Static addresses, as Nova writes them when it knows them; IPv6 names its address mode.
    if fixed["version"] == 6 and fixed.get("ipv6_address_mode"):
        return f"ipv6_{fixed['ipv6_address_mode']}"
    return f"ipv{fixed['version']}"


def _routes(fixed: dict, network: ipaddress.IPv4Network | ipaddress.IPv6Network) -> list[dict]:
    routes = []
    if fixed.get("gateway_ip"):
        anywhere = "0.0.0.0" if network.version == 4 else "::"
        routes.append({"network": anywhere, "netmask": anywhere, "gateway": fixed["gateway_ip"]})
    for route in fixed.get("host_routes") or []:
        destination = ipaddress.ip_network(route["destination"], strict=False)
        routes.append({"network": str(destination.network_address),
                       "netmask": str(destination.netmask), "gateway": route["nexthop"]})
    return routes


def network_data(network_info: list[dict]) -> dict:
    """OpenStack's network_data.json: links (one per VIF), networks (one per fixed IP) and
    the DNS services."""
    links, networks, dns = [], [], []
    for vif in network_info or []:
        link = vif.get("tap") or f"tap{vif['port_id'][:11]}"
        links.append({"id": link, "vif_id": vif["port_id"], "type": vif.get("vif_type", "bridge"),
                      "mtu": vif.get("mtu"), "ethernet_mac_address": vif["mac_address"]})
        for fixed in vif.get("fixed_ips") or []:
            network = ipaddress.ip_network(fixed["cidr"], strict=False)
            services = [{"type": "dns", "address": address}
                        for address in fixed.get("dns_nameservers") or []]
            networks.append({
                "id": f"network{len(networks)}", "link": link, "type": _network_type(fixed),
                "ip_address": fixed["ip_address"], "netmask": str(network.netmask),
                "routes": _routes(fixed, network), "network_id": vif["network_id"],
                "services": services})
            dns += [service for service in services if service not in dns]
    return {"links": links, "networks": networks, "services": dns}
