package model

import (
	"bytes"
	"os"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
)

// Every value of every schema enum reads into a domain constant and writes
// back as itself, and nothing else reads: the bindings of enums.go and the
// schema cannot drift apart.
func TestEnumsRoundTripTheSchema(t *testing.T) {
	src, err := os.ReadFile("../../schema.graphqls")
	if err != nil {
		t.Fatal(err)
	}
	schema, gerr := gqlparser.LoadSchema(&ast.Source{Name: "schema.graphqls", Input: string(src)})
	if gerr != nil {
		t.Fatal(gerr)
	}
	codecs := map[string]func(string) (graphql.Marshaler, error){
		"Platform":         roundTrip(UnmarshalPlatform, MarshalPlatform),
		"ConnectionStatus": roundTrip(UnmarshalConnectionStatus, MarshalConnectionStatus),
		"CronStatus":       roundTrip(UnmarshalCronStatus, MarshalCronStatus),
		"CronTrigger":      roundTrip(UnmarshalCronTrigger, MarshalCronTrigger),
		"LifeCluster":      roundTrip(UnmarshalLifeCluster, MarshalLifeCluster),
		"Audience":         roundTrip(UnmarshalAudience, MarshalAudience),
		"Role":             roundTrip(UnmarshalRole, MarshalRole),
		"Scope":            roundTrip(UnmarshalScope, MarshalScope),
		"TimeZoneSource":   roundTrip(UnmarshalTimeZoneSource, MarshalTimeZoneSource),
		"TwinRole":         roundTrip(UnmarshalTwinRole, MarshalTwinRole),
		"DataExportStatus": roundTrip(UnmarshalDataExportStatus, MarshalDataExportStatus),
		"TwinAccessKind":   roundTrip(UnmarshalTwinAccessKind, MarshalTwinAccessKind),
		"InsightSource":    roundTrip(UnmarshalInsightSource, MarshalInsightSource),
	}
	for name, def := range schema.Types {
		if def.Kind != ast.Enum || def.BuiltIn {
			continue
		}
		codec, ok := codecs[name]
		if !ok {
			t.Errorf("enum %s has no binding in enums.go", name)
			continue
		}
		for _, v := range def.EnumValues {
			m, err := codec(v.Name)
			if err != nil {
				t.Errorf("%s.%s: %v", name, v.Name, err)
				continue
			}
			var b bytes.Buffer
			m.MarshalGQL(&b)
			if b.String() != `"`+v.Name+`"` {
				t.Errorf("%s.%s writes back as %s", name, v.Name, b.String())
			}
		}
		if _, err := codec(def.EnumValues[0].Name + "X"); err == nil {
			t.Errorf("%s reads a value outside the enum", name)
		}
		if _, err := codec("spotify"); err == nil {
			t.Errorf("%s reads a lowercase value", name)
		}
	}
}

func roundTrip[T ~string](read func(any) (T, error), write func(T) graphql.Marshaler) func(string) (graphql.Marshaler, error) {
	return func(s string) (graphql.Marshaler, error) {
		v, err := read(s)
		if err != nil {
			return nil, err
		}
		return write(v), nil
	}
}
