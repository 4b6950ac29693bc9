"""The network data plane's drivers: what the agent uses to make the kernel match host_state.

- dataplane.py: one reconcile pass over a host_state, and the teardown of everything ours.
- bridges.py: L2 (bridges, VXLAN with unicast peers, VLAN sub-interfaces, veths to namespaces).
- namespaces.py: network namespaces, and running work inside one from a thread.
- dhcp.py: one dnsmasq per network; routers.py: router namespaces with NAT and routes.
- firewall.py: security groups on guest taps (iptables); iptables.py runs the restore tools.
- metadata_proxy.py: the guests' 169.254.169.254 proxy in every router namespace.
- ledger.py: the record of what we made, so we only ever remove our own things.
"""
