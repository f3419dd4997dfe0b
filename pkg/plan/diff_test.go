package plan

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestDiffDocuments(t *testing.T) {
	tests := []struct {
		name          string
		before, after Document
		ignoreUnknown bool
		want          []Field
	}{
		{name: "equal", before: Document{"a": 1}, after: Document{"a": 1}},
		{name: "numbers of other types are equal", before: Document{"a": float64(60)}, after: Document{"a": int64(60)}},
		{name: "changed leaf", before: Document{"a": "x"}, after: Document{"a": "y"},
			want: []Field{{Path: "a", Before: "x", After: "y"}}},
		{name: "nested and sorted", before: Document{"b": Document{"y": 1, "x": 1}}, after: Document{"b": Document{"y": 2, "x": 2}},
			want: []Field{{Path: "b.x", Before: 1, After: 2}, {Path: "b.y", Before: 1, After: 2}}},
		{name: "list element", before: Document{"l": []any{"a", "b"}}, after: Document{"l": []any{"a", "c"}},
			want: []Field{{Path: "l[1]", Before: "b", After: "c"}}},
		{name: "list length", before: Document{"l": []any{"a"}}, after: Document{"l": []any{"a", "c"}},
			want: []Field{{Path: "l", Before: []any{"a"}, After: []any{"a", "c"}}}},
		{name: "added key", before: Document{}, after: Document{"n": true},
			want: []Field{{Path: "n", Before: nil, After: true}}},
		{name: "unknown matches live when ignored", before: Document{"uri": "x"}, after: Document{"uri": Unknown{From: "k"}}, ignoreUnknown: true},
		{name: "unknown differs when not ignored", before: Document{"uri": "x"}, after: Document{"uri": Unknown{From: "k"}},
			want: []Field{{Path: "uri", Before: "x", After: Unknown{From: "k"}}}},
		{name: "changing unknown always differs", before: Document{"uri": "x"}, after: Document{"uri": Unknown{From: "k", Changes: true}}, ignoreUnknown: true,
			want: []Field{{Path: "uri", Before: "x", After: Unknown{From: "k", Changes: true}}}},
		{name: "same secret", before: Document{"p": NewSensitive("a")}, after: Document{"p": NewSensitive("a")}},
		{name: "other secret", before: Document{"p": NewSensitive("a")}, after: Document{"p": NewSensitive("b")},
			want: []Field{{Path: "p", Before: NewSensitive("a"), After: NewSensitive("b")}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := DiffDocuments(tt.before, tt.after, tt.ignoreUnknown)
			if diff := cmp.Diff(tt.want, got, cmp.Comparer(func(a, b Sensitive) bool { return a.Equal(b) })); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestSensitiveIsMaskedEverywhere(t *testing.T) {
	s := NewSensitive("hunter2")
	b, err := json.Marshal(Document{"p": s})
	if err != nil {
		t.Fatal(err)
	}
	for _, out := range []string{string(b), fmt.Sprint(s), fmt.Sprintf("%v %+v %#v %s %q", s, s, s, s, s), fmt.Sprintf("%v", Document{"p": s})} {
		if contains(out, "hunter2") {
			t.Errorf("secret leaked: %s", out)
		}
	}
	if s.Reveal() != "hunter2" {
		t.Error("Reveal lost the value")
	}
}

func contains(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}
