"""Customer and staff notifications: message rows written with their cause, then dispatched."""
