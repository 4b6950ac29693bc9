"""Image's routes, one module per resource, each with its own blueprint."""
