"""Ansible plugins the deployer enables for its own runs (callback/)."""
