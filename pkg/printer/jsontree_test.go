package printer

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"github.com/neko-defense/nekoctl/pkg/plan"
)

// trickyStrings are the strings encoding/json escapes in every way it has.
var trickyStrings = []string{
	"", "plain", `quote " and backslash \`, "<script>&</script>", "tab\tnew\nline\rcr",
	"\b\f\x00\x01\x1f\x7f", "caf\u00e9 \u4e16\u754c \U0001f431", "line\u2028para\u2029end",
	"bad \xff utf8 \xe2\x82", "\xed\xa0\x80 surrogate", "sk-" + strings.Repeat("x", 40),
}

var trickyNumbers = []any{
	0.0, -0.0, 1.0, -1.5, 1e-6, 9.99e-7, 1e-7, 1e20, 1e21, 123456789012345678901234.0, 0.1, 1.0 / 3,
	math.MaxFloat64, math.SmallestNonzeroFloat64, 3.0, int64(0), int64(-42), int64(math.MaxInt64), 7,
}

// TestTreeIsEncodingJSONs: the tree encoder gives encoding/json's bytes for
// every kind of value a document holds, at every depth and prefix.
func TestTreeIsEncodingJSONs(t *testing.T) {
	var values []any
	for _, s := range trickyStrings {
		values = append(values, s)
	}
	values = append(values, trickyNumbers...)
	values = append(values, nil, true, false, map[string]any{}, map[string]any(nil), []any{}, []any(nil),
		plan.NewSensitive("hunter2"), plan.Unknown{From: "atlas/mongodb_uri", Changes: true},
		map[string]string{"b": "<", "a": "x"}, []string{"one", "two"}, struct {
			A int `json:"a"`
		}{1},
		map[string]any{"z": 1.5, "a": []any{map[string]any{}, []any{}, nil, "s"}, "<k>": map[string]any{"n": nil}, "é": int64(3)})
	rng := rand.New(rand.NewPCG(1, 2))
	for range 300 {
		values = append(values, randomTree(rng, 4))
	}
	for i, v := range values {
		for _, prefix := range []string{"", "    "} {
			want, wantErr := json.MarshalIndent(v, prefix, "  ")
			got, err := newTreeEncoder(prefix, "  ").tree([]byte("kept"), v, 0)
			if (err != nil) != (wantErr != nil) {
				t.Fatalf("value %d: error %v, encoding/json's %v", i, err, wantErr)
			}
			if wantErr == nil && string(got) != "kept"+string(want) {
				t.Fatalf("value %d (%#v), prefix %q:\n%s\nencoding/json:\n%s", i, v, prefix, got[4:], want)
			}
		}
	}
	for _, bad := range []any{math.NaN(), math.Inf(1), map[string]any{"a": math.Inf(-1)}} {
		if _, err := newTreeEncoder("", "  ").tree(nil, bad, 0); err == nil {
			t.Errorf("%v: no error (encoding/json refuses it)", bad)
		}
	}
}

// TestChangeCoversEveryField: a change with every field of plan.Change
// set (filled by reflection, so a field added later is covered too)
// encodes as encoding/json encodes it, and so does one with none set.
func TestChangeCoversEveryField(t *testing.T) {
	var full plan.Change
	v := reflect.ValueOf(&full).Elem()
	for i := range v.NumField() {
		f := v.Field(i)
		switch f.Kind() {
		case reflect.String:
			f.SetString("x<" + v.Type().Field(i).Name)
		case reflect.Map:
			f.Set(reflect.ValueOf(plan.Document{"spec": map[string]any{"n": int64(i)}}))
		case reflect.Slice:
			s := reflect.MakeSlice(f.Type(), 1, 1)
			switch s.Index(0).Kind() {
			case reflect.String:
				s.Index(0).SetString("item")
			case reflect.Struct:
				s.Index(0).Field(0).SetString("first")
			}
			f.Set(s)
		case reflect.Pointer:
			f.Set(reflect.New(f.Type().Elem()))
		case reflect.Struct:
			f.Field(0).SetString("first")
		default:
			t.Fatalf("plan.Change.%s: a %s field this test cannot fill", v.Type().Field(i).Name, f.Kind())
		}
	}
	full.Fields = []plan.Field{{Path: "spec.n", Before: int64(1), After: plan.NewSensitive("s")}}
	for name, c := range map[string]plan.Change{"full": full, "empty": {}} {
		jc := jsonChange{Address: c.Address.String(), Resource: c.Address, Change: c}
		want, err := json.MarshalIndent(jc, "    ", "  ")
		if err != nil {
			t.Fatal(err)
		}
		got, err := newTreeEncoder("    ", "  ").change(nil, jc)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s change:\n%s\nencoding/json:\n%s", name, got, want)
		}
	}
}

func randomTree(rng *rand.Rand, depth int) any {
	n := rng.IntN(9)
	if depth == 0 {
		n = rng.IntN(4)
	}
	switch n {
	case 0:
		return trickyStrings[rng.IntN(len(trickyStrings))]
	case 1:
		return trickyNumbers[rng.IntN(len(trickyNumbers))]
	case 2:
		return rng.IntN(2) == 0
	case 3:
		return nil
	case 4, 5, 6:
		m := map[string]any{}
		for range rng.IntN(5) {
			m[fmt.Sprint(trickyStrings[rng.IntN(len(trickyStrings))], rng.IntN(3))] = randomTree(rng, depth-1)
		}
		return m
	default:
		s := make([]any, rng.IntN(4))
		for i := range s {
			s[i] = randomTree(rng, depth-1)
		}
		return s
	}
}

// BenchmarkPlanJSON encodes the changes of a thirty-region plan whose
// documents are Kubernetes-sized.
func BenchmarkPlanJSON(b *testing.B) {
	rng := rand.New(rand.NewPCG(3, 4))
	p := &plan.Plan{Stack: "s"}
	for r := range 30 {
		for i := range 30 {
			doc := plan.Document{}
			for k := range 12 {
				doc[fmt.Sprintf("field%02d", k)] = randomTree(rng, 3)
			}
			p.Changes = append(p.Changes, plan.Change{Action: plan.NoOp, Before: doc, After: doc,
				Address: plan.Address{Provider: "kubernetes", Region: fmt.Sprintf("r%02d", r), Kind: "ConfigMap", Name: fmt.Sprint(i)}})
		}
	}
	var out bytes.Buffer
	for b.Loop() {
		out.Reset()
		if err := PlanJSON(&out, p); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(out.Len())/1e6, "MB/plan")
}
