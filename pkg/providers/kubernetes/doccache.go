package kubernetes

import (
	"bytes"
	"errors"
	"io"
	"sync"

	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
)

// docCache keeps what each rendered template file decoded to, by its text.
// A plan renders a region's objects twice (their names, to list them before
// Read; their documents, to diff after it) and most files render to the
// same text both times, since values from other providers are substituted
// after decoding; decoding YAML is most of rendering's CPU. A nil cache
// decodes every time.
type docCache struct {
	mu   sync.Mutex
	docs map[string][]map[string]any
}

// decode returns the non-empty documents of one rendered file, each a copy
// the caller may change.
func (c *docCache) decode(text []byte) ([]map[string]any, error) {
	if c != nil {
		c.mu.Lock()
		known, ok := c.docs[string(text)]
		c.mu.Unlock()
		if ok {
			return copyDocs(known), nil
		}
	}
	var out []map[string]any
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(text), 4096)
	for {
		var m map[string]any
		if err := dec.Decode(&m); err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			return nil, err
		}
		if len(m) > 0 {
			out = append(out, m)
		}
	}
	if c != nil {
		c.mu.Lock()
		if c.docs == nil {
			c.docs = map[string][]map[string]any{}
		}
		c.docs[string(text)] = copyDocs(out)
		c.mu.Unlock()
	}
	return out, nil
}

func copyDocs(docs []map[string]any) []map[string]any {
	out := make([]map[string]any, len(docs))
	for i, d := range docs {
		out[i] = copyValue(d).(map[string]any)
	}
	return out
}

// copyValue copies decoded JSON: maps and slices anew, scalars as they are.
func copyValue(v any) any {
	switch x := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = copyValue(e)
		}
		return m
	case []any:
		l := make([]any, len(x))
		for i, e := range x {
			l[i] = copyValue(e)
		}
		return l
	}
	return v
}
