"""Promises kept on schedule: the sweeps that run beside the dispatcher."""
