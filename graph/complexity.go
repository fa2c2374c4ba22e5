package graph

import (
	"context"
	"encoding/json"
	"strings"

	"github.com/99designs/gqlgen/graphql"
)

// UnpagedListSize is what a list field without a page size (first) is
// assumed to hold when an operation is priced: the lists the schema
// returns whole (connections, life clusters, traits, evidence …) are
// short.
const UnpagedListSize = 10

// pricedSchema prices every field of the schema by one rule, through
// gqlgen's complexity hook: a field costs 1 plus what its selection costs;
// a list field — or a field returning a connection — multiplies its
// selection's cost by the number of items it may return: its first
// argument (the schema's default when omitted) or UnpagedListSize for a
// list without one. A connection's edges are priced once, by the field
// returning the connection. Introspection keeps gqlgen's default (1 per
// field). A field added to the schema is priced without anyone touching
// this file.
type pricedSchema struct {
	graphql.ExecutableSchema
}

func (p pricedSchema) Complexity(ctx context.Context, typeName, field string, child int, args map[string]any) (int, bool) {
	n, ok := p.itemsOf(typeName, field, args)
	if !ok {
		return p.ExecutableSchema.Complexity(ctx, typeName, field, child, args)
	}
	return 1 + n*child, true
}

// itemsOf is how many items typeName.field may return, or ok=false for a
// field that is no list.
func (p pricedSchema) itemsOf(typeName, field string, args map[string]any) (int, bool) {
	if strings.HasPrefix(typeName, "__") {
		return 0, false
	}
	t := p.Schema().Types[typeName]
	if t == nil {
		return 0, false
	}
	def := t.Fields.ForName(field)
	if def == nil {
		return 0, false
	}
	first, hasFirst := args["first"]
	switch {
	case hasFirst:
		return pageSize(first), true
	case def.Type.Elem != nil && strings.HasSuffix(typeName, "Connection"):
		return 1, true
	case def.Type.Elem != nil:
		return UnpagedListSize, true
	}
	return 0, false
}

// pageSize reads a first argument (a literal is int64, a variable a
// json.Number); a missing or negative one counts as 1 (the resolver
// refuses it anyway).
func pageSize(v any) int {
	var n int64
	switch x := v.(type) {
	case int:
		n = int64(x)
	case int64:
		n = x
	case float64:
		n = int64(x)
	case json.Number:
		n, _ = x.Int64()
	case *int:
		if x != nil {
			n = int64(*x)
		}
	}
	const max = 1 << 20 // keeps the product from overflowing
	switch {
	case n < 1:
		return 1
	case n > max:
		return max
	}
	return int(n)
}
