"""The scheduler: which host an instance goes to (filters, then weighers), and the atomic
claims that reserve its resources there."""
