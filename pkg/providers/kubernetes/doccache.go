package kubernetes

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"io"
	"sync"

	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
)

// docCache keeps what each template file rendered from a set of values
// and what each rendered text decoded to. A plan renders a region's objects
// twice (their names, to list them before Read; their documents, to diff
// after it), and every region's values are the same but for a few (values
// from other providers are substituted after decoding, the region's name is
// a stand-in until then): a template runs once per distinct set of values,
// a text is decoded once. Running the templates and decoding YAML are most
// of rendering's CPU and allocation. One cache serves every region of a run
// (rendered is shared by all providers); a nil cache renders and decodes
// every time.
type docCache struct {
	mu    sync.Mutex
	docs  map[string]*decodedText
	files map[fileKey]*decodedText
}

// fileKey is a template file and the digest of the values it ran with.
type fileKey struct {
	name   string
	values [sha256.Size]byte
}

// valuesDigest identifies a set of template values by their JSON (every
// field of values is exported and reaches it: TestValuesDigestCoversEveryField).
func valuesDigest(v *values) ([sha256.Size]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return [sha256.Size]byte{}, err
	}
	return sha256.Sum256(b), nil
}

// render returns the non-empty documents template file name renders from v
// (whose digest is key), each a copy the caller may change.
func (c *docCache) render(name string, key [sha256.Size]byte, v *values) ([]map[string]any, error) {
	if c == nil {
		text, err := execute(name, v)
		if err != nil {
			return nil, err
		}
		return decodeYAML(text)
	}
	k := fileKey{name, key}
	c.mu.Lock()
	d, ok := c.files[k]
	if !ok {
		if c.files == nil || len(c.files) >= maxCachedTexts {
			c.files = map[fileKey]*decodedText{}
		}
		d = &decodedText{}
		c.files[k] = d
	}
	c.mu.Unlock()
	d.once.Do(func() {
		text, err := execute(name, v)
		if err != nil {
			d.err = err
			return
		}
		d.docs, d.err = c.shared(text)
	})
	if d.err != nil {
		return nil, d.err
	}
	return copyDocs(d.docs), nil
}

func execute(name string, v *values) ([]byte, error) {
	var buf bytes.Buffer
	if err := tmpl().ExecuteTemplate(&buf, name, v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
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

// shared returns the documents text decodes to, as the cache holds them:
// the caller copies them before changing any.
func (c *docCache) shared(text []byte) ([]map[string]any, error) {
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
	return d.docs, d.err
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
