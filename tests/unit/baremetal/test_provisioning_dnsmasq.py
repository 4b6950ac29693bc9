"""What the provisioning network's dnsmasq is told: its command line, and the hosts and
options files that say which MACs are known nodes and which iPXE script each one gets."""
import ipaddress

from undercloud.baremetal.drivers import dnsmasq
from undercloud.network.drivers.dhcp import Paths

BASE = "http://192.168.24.1:8088"
BOOTS = {"52:54:00:00:00:02": {"node": "node-b", "mode": "disk"},
         "52:54:00:00:00:01": {"node": "node-a", "mode": "deploy"}}


def command(**overrides):
    arguments = dict(paths=Paths("/data/baremetal/dnsmasq"), interface="br-ctlplane",
                     address=ipaddress.IPv4Interface("192.168.24.1/24"),
                     dhcp_range=["192.168.24.5", "192.168.24.24"],
                     inspection_range=["192.168.24.100", "192.168.24.120"],
                     tftp_root="/data/baremetal/tftp", log_file="/data/logs/bm-dnsmasq.log")
    arguments.update(overrides)
    return dnsmasq.argv(**arguments)


def test_dnsmasq_serves_dhcp_tftp_and_router_advertisements_on_the_bridge_alone():
    assert command() == [
        "/usr/sbin/dnsmasq", "--conf-file=/dev/null", "--no-hosts", "--no-resolv", "--port=0",
        "--bind-interfaces", "--interface=br-ctlplane",
        "--pid-file=/data/baremetal/dnsmasq/pid",
        "--dhcp-hostsfile=/data/baremetal/dnsmasq/host",
        "--dhcp-optsfile=/data/baremetal/dnsmasq/opts",
        "--dhcp-leasefile=/data/baremetal/dnsmasq/leases",
        "--log-facility=/data/logs/bm-dnsmasq.log", "--log-dhcp", "--dhcp-authoritative",
        "--no-ping", "--dhcp-ignore-clid",
        "--dhcp-range=tag:known,set:nodes,192.168.24.5,192.168.24.24,255.255.255.0,10m",
        "--dhcp-range=tag:!known,set:inspection,192.168.24.100,192.168.24.120,"
        "255.255.255.0,10m",
        "--dhcp-option=option:router",
        "--dhcp-match=set:ipxe,175", "--dhcp-userclass=set:ipxe,iPXE",
        "--dhcp-match=set:uefi,option:client-arch,7",
        "--dhcp-match=set:uefi,option:client-arch,9",
        "--dhcp-boot=tag:!ipxe,tag:uefi,ipxe.efi", "--dhcp-boot=tag:!ipxe,undionly.kpxe",
        "--enable-tftp", "--tftp-root=/data/baremetal/tftp",
        "--enable-ra", "--ra-param=br-ctlplane,60,0",
        "--dhcp-range=::,constructor:br-ctlplane,ra-only,64"]


def test_without_router_advertisements_or_as_another_user():
    args = command(router_advertisements=False, user="root")
    assert "--enable-ra" not in args
    assert not [arg for arg in args if "ra-" in arg or "::" in arg]
    assert args[-1] == "--user=root"


def test_no_option_gives_nodes_a_default_route_or_a_resolver():
    args = command()
    assert "--dhcp-option=option:router" in args     # empty: no gateway
    assert not [arg for arg in args if "dns-server" in arg or arg.startswith("--server")]
    assert "--port=0" in args


def test_each_prepared_mac_is_a_known_host_with_its_own_tag():
    assert dnsmasq.hosts_text(BOOTS) == ("52:54:00:00:00:01,set:mac-525400000001\n"
                                         "52:54:00:00:00:02,set:mac-525400000002\n")
    assert dnsmasq.hosts_text({}) == ""


def test_ipxe_gets_each_known_macs_script_and_unknown_macs_the_default_one():
    assert dnsmasq.opts_text(BOOTS, BASE) == (
        f"tag:ipxe,tag:!known,option:bootfile-name,{BASE}/ipxe/default.ipxe\n"
        f"tag:ipxe,tag:mac-525400000001,option:bootfile-name,"
        f"{BASE}/ipxe/52-54-00-00-00-01.ipxe\n"
        f"tag:ipxe,tag:mac-525400000002,option:bootfile-name,"
        f"{BASE}/ipxe/52-54-00-00-00-02.ipxe\n")
