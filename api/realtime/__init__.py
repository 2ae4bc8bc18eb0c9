"""Committed events to live subscribers: outbox relay -> broadcaster -> per-instance hub."""
