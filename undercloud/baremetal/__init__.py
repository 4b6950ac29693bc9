"""Bare metal: Ironic v1 (nodes, ports, power, provisioning)."""
