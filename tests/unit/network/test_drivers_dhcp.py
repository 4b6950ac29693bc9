"""What dnsmasq is told for a network: its command line, hosts file and options file."""
import os

from undercloud.host import dnsmasq
from undercloud.network.drivers import dhcp

V4, V6 = "aaaa-v4", "bbbb-v6"


def subnet(subnet_id=V4, cidr="10.0.0.0/24", gateway="10.0.0.1", **overrides):
    values = {"id": subnet_id, "cidr": cidr, "ip_version": 6 if ":" in cidr else 4,
              "gateway_ip": gateway, "dns_nameservers": [], "host_routes": [],
              "ipv6_ra_mode": None, "ipv6_address_mode": None, "allocation_pools": [],
              "enable_dhcp": True}
    values.update(overrides)
    return values


def host(port_id, mac, ip, subnet_id=V4, hostname="", options=()):
    return {"port_id": port_id, "mac_address": mac, "ip_address": ip, "subnet_id": subnet_id,
            "hostname": hostname, "extra_dhcp_opts": list(options)}


def entry(subnets, hosts=(), mtu=1450):
    return {"network_id": "net-1", "bridge": "brqnet-1", "mtu": mtu, "dns_domain": "example",
            "port": {"id": "dhcp-port", "mac_address": "fa:16:3e:00:00:02", "tap": "tapdhcp",
                     "fixed_ips": []},
            "subnets": list(subnets), "hosts": list(hosts)}


def test_the_command_line_serves_static_leases_on_the_namespace_interface():
    command = dhcp.argv(entry([subnet()]), "/data/dhcp/net-1", "ns-dhcp", "openstacklocal")
    assert command == [
        "/usr/sbin/dnsmasq", "--conf-file=/dev/null", "--no-hosts", "--no-resolv", "--port=0",
        "--bind-interfaces", "--interface=ns-dhcp", "--pid-file=/data/dhcp/net-1/pid",
        "--dhcp-hostsfile=/data/dhcp/net-1/host", "--dhcp-optsfile=/data/dhcp/net-1/opts",
        "--dhcp-leasefile=/data/dhcp/net-1/leases", "--log-facility=/data/dhcp/net-1/dnsmasq.log",
        "--domain=example",
        "--dhcp-range=set:subnet-aaaa-v4,10.0.0.0,static,255.255.255.0,86400s",
        "--dhcp-authoritative", "--dhcp-option-force=option:mtu,1450",
        "--dhcp-lease-max=256"]


def test_ipv6_modes_and_router_advertisements():
    subnets = [subnet("stateful", "fd00:1::/64", None, ipv6_ra_mode="dhcpv6-stateful",
                      ipv6_address_mode="dhcpv6-stateful"),
               subnet("stateless", "fd00:2::/64", None, ipv6_ra_mode="dhcpv6-stateless",
                      ipv6_address_mode="dhcpv6-stateless"),
               subnet("slaac", "fd00:3::/64", None, ipv6_ra_mode="slaac",
                      ipv6_address_mode="slaac"),
               subnet("outside-ra", "fd00:4::/64", None, ipv6_address_mode="slaac"),
               subnet("off", "fd00:5::/64", None, enable_dhcp=False)]
    command = dhcp.argv(entry(subnets), "/d", "ns-x", "openstacklocal", user="root")
    assert [arg for arg in command if arg.startswith("--dhcp-range")] == [
        "--dhcp-range=set:subnet-stateful,fd00:1::,static,64,86400s",
        "--dhcp-range=set:subnet-stateless,fd00:2::,ra-stateless,64,86400s",
        "--dhcp-range=set:subnet-slaac,fd00:3::,ra-only,64,86400s"]
    assert "--enable-ra" in command and "--ra-param=ns-x,600,0" in command
    assert "--user=root" in command
    assert "--dhcp-authoritative" not in command


def test_hosts_name_each_port_address_with_its_tag_when_it_has_options():
    hosts = [host("p1", "fa:16:3e:00:00:11", "10.0.0.11", hostname="Web_1"),
             host("p2", "fa:16:3e:00:00:12", "10.0.0.12",
                  options=[{"opt_name": "bootfile-name", "opt_value": "pxelinux.0",
                            "ip_version": 4}]),
             host("p2", "fa:16:3e:00:00:12", "fd00:1::12", subnet_id="stateful"),
             host("p3", "fa:16:3e:00:00:13", "fd00:3::13", subnet_id="slaac")]
    subnets = [subnet(), subnet("stateful", "fd00:1::/64", None,
                                ipv6_address_mode="dhcpv6-stateful"),
               subnet("slaac", "fd00:3::/64", None, ipv6_address_mode="slaac")]
    assert dhcp.hosts_text(entry(subnets, hosts)) == (
        "fa:16:3e:00:00:11,web-1,10.0.0.11\n"
        "fa:16:3e:00:00:12,set:port-p2,host-10-0-0-12,10.0.0.12\n"
        "fa:16:3e:00:00:12,host-fd00-1--12,[fd00:1::12]\n")


def test_options_give_gateway_resolvers_routes_and_per_port_options():
    subnets = [subnet(dns_nameservers=["10.0.0.53", "fd00::53"], host_routes=[
                   {"destination": "192.168.0.0/16", "nexthop": "10.0.0.254"}]),
               subnet("other", "10.0.1.0/24", None),
               subnet("stateful", "fd00:1::/64", None, ipv6_address_mode="dhcpv6-stateful",
                      dns_nameservers=["fd00::53"])]
    hosts = [host("p1", "fa:16:3e:00:00:11", "10.0.0.11", options=[
        {"opt_name": "tftp-server", "opt_value": "10.0.0.9", "ip_version": 4},
        {"opt_name": "66", "opt_value": "10.0.0.9\nbad", "ip_version": 4},
        {"opt_name": "bootfile-url", "opt_value": "http://boot", "ip_version": 6}])]
    assert dhcp.opts_text(entry(subnets, hosts), ["8.8.8.8"]).splitlines() == [
        "tag:subnet-aaaa-v4,option:router,10.0.0.1",
        "tag:subnet-aaaa-v4,option:dns-server,10.0.0.53",
        "tag:subnet-aaaa-v4,option:classless-static-route,192.168.0.0/16,10.0.0.254,"
        "10.0.1.0/24,0.0.0.0,0.0.0.0/0,10.0.0.1",
        "tag:subnet-aaaa-v4,249,192.168.0.0/16,10.0.0.254,10.0.1.0/24,0.0.0.0,"
        "0.0.0.0/0,10.0.0.1",
        # No gateway: an empty router option; no DNS of its own: the configured default.
        "tag:subnet-other,option:router",
        "tag:subnet-other,option:dns-server,8.8.8.8",
        "tag:subnet-other,option:classless-static-route,10.0.0.0/24,0.0.0.0",
        "tag:subnet-other,249,10.0.0.0/24,0.0.0.0",
        "tag:subnet-stateful,option6:dns-server,[fd00::53]",
        "tag:port-p1,option:tftp-server,10.0.0.9",
        "tag:port-p1,66,10.0.0.9 bad",
        "tag:port-p1,option6:bootfile-url,http://boot"]


def test_a_single_subnet_without_host_routes_sends_no_route_option():
    assert dhcp.opts_text(entry([subnet()]), []) == "tag:subnet-aaaa-v4,option:router,10.0.0.1\n"


def test_dnsmasq_keeps_its_own_user_unless_a_folder_above_is_closed(tmp_path):
    open_folder = tmp_path / "open" / "dhcp"
    open_folder.mkdir(parents=True)
    for folder in (tmp_path, tmp_path / "open", open_folder):
        os.chmod(folder, 0o755)
    closed = tmp_path / "closed"
    closed.mkdir(mode=0o700)
    os.chmod(closed, 0o700)
    above = [p for p in tmp_path.parents if not os.stat(p).st_mode & 0o001]
    assert dnsmasq.user_for(str(open_folder)) == ("root" if above else None)
    assert dnsmasq.user_for(str(closed / "dhcp")) == "root"


def test_leases_no_host_line_gives_any_more_are_stale(tmp_path):
    (tmp_path / "leases").write_text(
        "1700000000 fa:16:3e:00:00:11 10.0.0.11 vm1 01:fa:16:3e:00:00:11\n"
        "1700000000 fa:16:3e:00:00:12 10.0.0.12 vm2 *\n"
        "duid 00:01:00:01\n"
        "1700000000 1234 fd00::12 vm2 00:01\n")
    hosts = "fa:16:3e:00:00:11,vm1,10.0.0.11\nfa:16:3e:00:00:99,set:port-p,vm9,10.0.0.12\n"
    assert dhcp.stale_leases(str(tmp_path), hosts) == [("10.0.0.12", "fa:16:3e:00:00:12")]


def test_a_release_names_the_client_its_address_and_the_server():
    packet = dhcp.release_packet("10.0.0.2", "10.0.0.12", "fa:16:3e:00:00:12")
    assert packet[:4] == bytes([1, 1, 6, 0])                       # BOOTREQUEST, Ethernet
    assert packet[12:16] == bytes([10, 0, 0, 12])                  # ciaddr
    assert packet[28:34] == bytes.fromhex("fa163e000012")          # chaddr
    assert packet[236:240] == bytes.fromhex("63825363")            # the magic cookie
    assert packet[240:] == bytes([53, 1, 7, 54, 4, 10, 0, 0, 2, 255])


def test_a_restart_forgets_stale_leases_first(tmp_path):
    (tmp_path / "leases").write_text(
        "1700000000 fa:16:3e:00:00:11 10.0.0.11 vm1 *\n"
        "1700000000 fa:16:3e:00:00:12 10.0.0.12 vm2 *\n")
    dhcp._forget_stale_leases(str(tmp_path), "fa:16:3e:00:00:11,vm1,10.0.0.11\n")
    assert (tmp_path / "leases").read_text() == "1700000000 fa:16:3e:00:00:11 10.0.0.11 vm1 *\n"
