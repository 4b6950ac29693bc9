"""Host plumbing more than one service (and the lab) needs, as Neutron's agent/linux/: the
libvirt daemons, Linux bridges, dnsmasq's files and processes, disk images and their cache,
config-drive ISOs. It knows no service."""
