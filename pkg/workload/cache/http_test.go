package cache

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/99designs/gqlgen/graphql"
)

// hitResponse must write what gqlgen's POST transport writes for a hit.
func TestHitResponseIsGqlgens(t *testing.T) {
	for _, data := range []string{
		`{"a":1}`,
		`{"a": [1, 2], "b": {"c": "d"}}`,
		`{"name":"<script>&amp;</script>"}`,
		"{\"sep\":\"a\u2028b\u2029c\"}",
		`null`,
	} {
		got, err := hitResponse([]byte(data))
		if err != nil {
			t.Fatalf("%s: %v", data, err)
		}
		want, _ := json.Marshal(&graphql.Response{Data: []byte(data), Extensions: map[string]any{"cache": "HIT"}})
		if !bytes.Equal(got, want) {
			t.Errorf("%s:\n got %s\nwant %s", data, got, want)
		}
	}
	if _, err := hitResponse([]byte(`{"a":`)); err == nil {
		t.Error("invalid JSON: no error")
	}
}

// The hit memo answers from the data it is given, never from older data.
func TestHitMemoFollowsData(t *testing.T) {
	e := &Extension{}
	for _, data := range []string{`{"a":1}`, `{"a":1}`, `{"a":2}`, `{"a":1}`} {
		got, err := e.hit("k", []byte(data))
		want, _ := hitResponse([]byte(data))
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("%s: got %s, %v", data, got, err)
		}
	}
}
