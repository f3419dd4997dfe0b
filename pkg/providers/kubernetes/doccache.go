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
// Read; their documents, to diff after it), and every region's files render
// to the same text but for a few (values from other providers are
// substituted after decoding, the region's name is a stand-in until then);
// decoding YAML is most of rendering's CPU and allocation. One cache serves
// every region of a run (rendered is shared by all providers); a nil cache
// decodes every time.
type docCache struct {
	mu   sync.Mutex
	docs map[string]*decodedText
}

// decodedText is one text's documents, decoded once: the regions of a run
// render at the same moment, and those that ask for a text being decoded
// wait for it rather than decode it too.
type decodedText struct {
	once sync.Once
	docs []map[string]any
	err  error
}

// rendered is the cache the providers share. It holds at most
// maxCachedTexts texts: a run needs a few dozen, a long-lived process
// (the tests) would otherwise keep every text it ever rendered.
var rendered = &docCache{}

const maxCachedTexts = 512

// decode returns the non-empty documents of one rendered file, each a copy
// the caller may change.
func (c *docCache) decode(text []byte) ([]map[string]any, error) {
	if c == nil {
		return decodeYAML(text)
	}
	c.mu.Lock()
	d, ok := c.docs[string(text)]
	if !ok {
		if c.docs == nil || len(c.docs) >= maxCachedTexts {
			c.docs = map[string]*decodedText{}
		}
		d = &decodedText{}
		c.docs[string(text)] = d
	}
	c.mu.Unlock()
	d.once.Do(func() { d.docs, d.err = decodeYAML(text) })
	if d.err != nil {
		return nil, d.err
	}
	return copyDocs(d.docs), nil
}

func decodeYAML(text []byte) ([]map[string]any, error) {
	var out []map[string]any
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(text), 4096)
	for {
		var m map[string]any
		if err := dec.Decode(&m); err != nil {
			if errors.Is(err, io.EOF) {
				return out, nil
			}
			return nil, err
		}
		if len(m) > 0 {
			out = append(out, m)
		}
	}
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

// regionToken stands for the region's name in rendered text. It cannot be
// a name (names are DNS labels) and needs no quoting in YAML or JSON.
const regionToken = "@@nekoctl:region@@"
