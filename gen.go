package main

// gqlgen reads gqlgen.yml and schema.graphqls at the repository root and
// rewrites graph/generated and graph/model; resolvers are hand-written.
//go:generate go run github.com/99designs/gqlgen generate
