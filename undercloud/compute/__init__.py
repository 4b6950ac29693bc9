"""Compute: Nova v2.1 (flavors, keypairs, servers), scheduler and libvirt driver."""
