"""The deployer's callback plugin (stackbox_events); ansible loads it by path."""
