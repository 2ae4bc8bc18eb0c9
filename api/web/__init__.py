"""Pages for people: (later) the order-status page and the logistics board."""
