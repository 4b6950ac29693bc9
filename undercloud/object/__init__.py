"""Object: Swift v1 object storage."""
