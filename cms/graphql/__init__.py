"""The GraphQL API: types, loaders, queries and the schema that joins them."""
