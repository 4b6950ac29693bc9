"""Volume: Cinder v3 block storage."""
