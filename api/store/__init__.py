"""Persistence: Tortoise models, the database config, transactions and migrations."""
