// Package domain holds the types the API is made of: the values services
// return and the GraphQL schema binds (gqlgen.yml), the typed enums that stay
// typed from the GraphQL edge to the database, and the one cursor and page
// shape every list uses.
//
// It is a leaf: it imports only the standard library and apperr (the error
// codes, itself a leaf), and knows nothing of storage (no Bun, no struct tags of it) or of GraphQL. The store keeps its
// own row types and converts each to its domain type in one method next to
// the row (store.User.Domain and so on).
package domain
