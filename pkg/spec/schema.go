package spec

import (
	"encoding/json"
	"reflect"

	"github.com/invopop/jsonschema"
)

// SchemaID is the $id of the generated JSON Schema.
const SchemaID = "https://nekoctl.dev/schemas/stack-v1alpha1.json"

// Schema returns the JSON Schema of the spec, generated from the Go types so
// that it cannot drift from what Load accepts.
func Schema() ([]byte, error) {
	r := &jsonschema.Reflector{
		DoNotReference: true,
		Mapper: func(t reflect.Type) *jsonschema.Schema {
			if t == durationType {
				return &jsonschema.Schema{Type: "string", Pattern: `^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$|^[0-9]+d$`,
					Description: "a duration such as 60s, 10m, 4h or 30d"}
			}
			return nil
		},
	}
	s := r.Reflect(&Stack{})
	s.ID = SchemaID
	s.Title = "nekoctl stack"
	return json.MarshalIndent(s, "", "  ")
}
