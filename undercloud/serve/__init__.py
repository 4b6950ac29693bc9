"""`stackbox serve`: prepare the data dir, start and supervise the undercloud's processes."""
