"""The GraphQL API: types, queries, mutations, loaders, and the mapping of domain errors."""
