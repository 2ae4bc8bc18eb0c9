"""Webhooks: the outbox's committed changes, signed (Standard Webhooks) and delivered over
HTTP to the endpoints staff registered, retried until acknowledged."""
