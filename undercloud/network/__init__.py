"""Network: Neutron v2.0 with a real data plane."""
