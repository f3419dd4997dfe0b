package kubernetes

import (
	"fmt"
	"iter"
	"reflect"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/neko-defense/nekoctl/pkg/plan"
	"github.com/neko-defense/nekoctl/pkg/provider"
)

// TestDocCache: a region rendered again through the cache gives the same
// documents as without it, runs no template and decodes no file twice, and
// hands out copies, so that a change to one render's documents reaches no
// other.
func TestDocCache(t *testing.T) {
	st := testStack()
	region := st.Spec.Regions[0].Name
	render := func(c *docCache) []plan.Document {
		t.Helper()
		docs, err := objects(st, region, provider.NewOutputs(), keyPolicy{}, nil, c)
		if err != nil {
			t.Fatal(err)
		}
		return docs
	}
	want := render(nil)
	var c docCache
	first := render(&c)
	files, runs := len(c.docs), len(c.files)
	if files == 0 || runs == 0 {
		t.Fatal("nothing was cached")
	}
	first[0]["kind"] = "Changed"
	second := render(&c)
	if diff := cmp.Diff(want, second); diff != "" {
		t.Errorf("second render through the cache (-want +got):\n%s", diff)
	}
	if len(c.docs) != files {
		t.Errorf("the second render decoded %d more files, want none", len(c.docs)-files)
	}
	if len(c.files) != runs {
		t.Errorf("the second render ran %d more templates, want none", len(c.files)-runs)
	}
}

// TestDocCacheAcrossRegions: every region's documents come out of the
// shared cache exactly as rendered alone, with the region's own name
// everywhere it appears (labels, the dashboard, the alerts), and the
// regions after the first run no template and decode no file again: the
// cost of a plan's rendering does not grow with its regions (only a
// region's own settings, such as its replicas, run the templates again and
// give it a file of its own).
func TestDocCacheAcrossRegions(t *testing.T) {
	st := testStack()
	var c docCache
	var texts, runs int
	for i, r := range st.Spec.Regions {
		want, err := objects(st, r.Name, provider.NewOutputs(), keyPolicy{}, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		got, err := objects(st, r.Name, provider.NewOutputs(), keyPolicy{}, nil, &c)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s through the shared cache (-alone +shared):\n%s", r.Name, diff)
		}
		for _, d := range got {
			if labels, _ := d["metadata"].(map[string]any)["labels"].(map[string]any); labels != nil && labels[LabelRegion] != nil && labels[LabelRegion] != r.Name {
				t.Errorf("%s %s: region label %v", r.Name, nameOf(d), labels[LabelRegion])
			}
		}
		if strings.Contains(fmt.Sprint(got), regionToken) {
			t.Errorf("%s: the region's stand-in survived rendering", r.Name)
		}
		switch {
		case i == 0:
			texts, runs = len(c.docs), len(c.files)
		case cmp.Equal(r.Replicas, st.Spec.Regions[0].Replicas) && cmp.Equal(r.Resources, st.Spec.Regions[0].Resources):
			if len(c.docs) != texts {
				t.Errorf("%s decoded %d files the first region had decoded already", r.Name, len(c.docs)-texts)
			}
			if len(c.files) != runs {
				t.Errorf("%s ran %d templates the first region had run already", r.Name, len(c.files)-runs)
			}
		default: // its own replicas: every template runs, its HorizontalPodAutoscaler's file alone is new
			if len(c.docs) != texts+1 {
				t.Errorf("%s decoded %d files, want only its HorizontalPodAutoscaler's", r.Name, len(c.docs)-texts)
			}
			if len(c.files) <= runs {
				t.Errorf("%s, with replicas of its own, ran no template", r.Name)
			}
			texts, runs = len(c.docs), len(c.files)
		}
	}
}

// TestValuesDigestCoversEveryField: changing any field of the template
// values, at any depth, changes their digest, so that a cached render is
// never reused for values it was not run with (a field added later that
// JSON would leave out fails here).
func TestValuesDigestCoversEveryField(t *testing.T) {
	filled := func() values { // the same values every call, none of them zero, nothing shared
		var v values
		n := 0
		fillValue(reflect.ValueOf(&v).Elem(), &n)
		return v
	}
	base := filled()
	want, err := valuesDigest(&base)
	if err != nil {
		t.Fatal(err)
	}
	paths := 0
	for path, change := range leafChanges(reflect.TypeOf(base)) {
		v := filled()
		change(reflect.ValueOf(&v).Elem())
		got, err := valuesDigest(&v)
		if err != nil {
			t.Fatal(err)
		}
		if got == want {
			t.Errorf("changing %s left the digest as it was", path)
		}
		paths++
	}
	if paths < 40 {
		t.Errorf("only %d fields were changed: the walk missed some", paths)
	}
}

// fillValue sets every field to a distinct value that is not the zero one.
func fillValue(v reflect.Value, n *int) {
	*n++
	switch v.Kind() {
	case reflect.Struct:
		for i := range v.NumField() {
			fillValue(v.Field(i), n)
		}
	case reflect.String:
		v.SetString(fmt.Sprintf("s%d", *n))
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int64, reflect.Int32:
		v.SetInt(int64(*n))
	case reflect.Slice:
		s := reflect.MakeSlice(v.Type(), 1, 1)
		fillValue(s.Index(0), n)
		v.Set(s)
	case reflect.Pointer:
		p := reflect.New(v.Type().Elem())
		fillValue(p.Elem(), n)
		v.Set(p)
	default:
		panic("fillValue: a field of kind " + v.Kind().String())
	}
}

// leafChanges yields, for every leaf field under t (through structs,
// the first element of slices and pointers), its path and a change to it.
func leafChanges(t reflect.Type) iter.Seq2[string, func(reflect.Value)] {
	return func(yield func(string, func(reflect.Value)) bool) {
		var walk func(t reflect.Type, path string, get func(reflect.Value) reflect.Value) bool
		walk = func(t reflect.Type, path string, get func(reflect.Value) reflect.Value) bool {
			switch t.Kind() {
			case reflect.Struct:
				for i := range t.NumField() {
					f := t.Field(i)
					if !walk(f.Type, path+"."+f.Name, func(v reflect.Value) reflect.Value { return get(v).Field(i) }) {
						return false
					}
				}
				return true
			case reflect.Slice:
				return walk(t.Elem(), path+"[0]", func(v reflect.Value) reflect.Value { return get(v).Index(0) })
			case reflect.Pointer:
				return walk(t.Elem(), "*"+path, func(v reflect.Value) reflect.Value { return get(v).Elem() })
			}
			return yield(path, func(v reflect.Value) {
				f := get(v)
				switch f.Kind() {
				case reflect.String:
					f.SetString(f.String() + "x")
				case reflect.Bool:
					f.SetBool(!f.Bool())
				default:
					f.SetInt(f.Int() + 1000)
				}
			})
		}
		walk(t, "values", func(v reflect.Value) reflect.Value { return v })
	}
}
