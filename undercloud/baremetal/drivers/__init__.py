"""Bare metal's back ends: IPMI power and management, and the provisioning network (bridge,
dnsmasq, the HTTP server, iPXE scripts, deploy images)."""
