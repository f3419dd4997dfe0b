package plan

import (
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strconv"
)

// Field is one field-level difference. Path uses dots and [i]:
// "spec.template.spec.containers[0].image".
type Field struct {
	Path   string `json:"path"`
	Before any    `json:"before"`
	After  any    `json:"after"`
}

// DiffDocuments lists the fields that differ between two documents. Keys are
// visited in sorted order so results are stable. An Unknown on the desired
// side always differs unless ignoreUnknown is set, in which case it is taken
// to match whatever is live (unless it says it Changes).
func DiffDocuments(before, after Document, ignoreUnknown bool) []Field {
	var out []Field
	diffValue("", any(before), any(after), ignoreUnknown, &out)
	return out
}

func diffValue(path string, b, a any, ignoreUnknown bool, out *[]Field) {
	if u, ok := a.(Unknown); ok && ignoreUnknown && b != nil && !u.Changes {
		return
	}
	switch av := a.(type) {
	case Document:
		bv, ok := b.(Document)
		if !ok {
			break
		}
		keys := map[string]bool{}
		for k := range av {
			keys[k] = true
		}
		for k := range bv {
			keys[k] = true
		}
		sorted := make([]string, 0, len(keys))
		for k := range keys {
			sorted = append(sorted, k)
		}
		sort.Strings(sorted)
		for _, k := range sorted {
			diffValue(join(path, k), bv[k], av[k], ignoreUnknown, out)
		}
		return
	case []any:
		bv, ok := b.([]any)
		if !ok || len(bv) != len(av) {
			break
		}
		for i := range av {
			diffValue(path+"["+strconv.Itoa(i)+"]", bv[i], av[i], ignoreUnknown, out)
		}
		return
	}
	if !Equal(b, a) {
		*out = append(*out, Field{Path: path, Before: b, After: a})
	}
}

// Equal compares leaves: numbers by value whatever their Go type, secrets by
// content, everything else deeply.
func Equal(a, b any) bool {
	if fa, ok := Number(a); ok {
		fb, ok := Number(b)
		return ok && fa == fb
	}
	if sa, ok := a.(Sensitive); ok {
		sb, ok := b.(Sensitive)
		return ok && sa.Equal(sb)
	}
	return reflect.DeepEqual(a, b)
}

// Number is a number's value whatever its Go type (decoded JSON, YAML or
// Go literals), and false for anything else.
func Number(v any) (float64, bool) {
	switch n := v.(type) {
	case int:
		return float64(n), true
	case int32:
		return float64(n), true
	case int64:
		return float64(n), true
	case float32:
		return float64(n), true
	case float64:
		return n, true
	case json.Number:
		f, err := n.Float64()
		return f, err == nil
	}
	return 0, false
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return fmt.Sprintf("%s.%s", path, key)
}
