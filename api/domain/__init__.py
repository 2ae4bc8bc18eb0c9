"""Pure rules of the back-order service: no I/O, no ORM, no GraphQL, no clock reads."""
