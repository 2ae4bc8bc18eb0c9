"""One async function per use case; each runs in one transaction."""
