"""Image: Glance v2 (images, data, sharing, stores)."""
