package spec

import (
	"fmt"
	"maps"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

var (
	stackType    = reflect.TypeOf(Stack{})
	durationType = reflect.TypeOf(Duration{})
)

// converter walks the YAML tree against the Go types, so that unknown
// fields and wrong types are reported at their own line and column with
// their field path, all of them at once, and records every field's position.
type converter struct {
	file  string
	pos   Positions
	diags Diagnostics
	nodes int
}

// maxDiagnostics keeps a pathological file from producing endless output.
const maxDiagnostics = 200

func (c *converter) errorf(n *yaml.Node, path, format string, args ...any) {
	if len(c.diags) >= maxDiagnostics {
		return
	}
	c.diags = append(c.diags, Diagnostic{Severity: Error, File: c.file, Pos: Pos{n.Line, n.Column},
		Path: path, Message: fmt.Sprintf(format, args...)})
}

func (c *converter) convert(n *yaml.Node, t reflect.Type, path string) any {
	c.nodes++
	if c.nodes > maxNodes {
		return nil
	}
	if n.Kind == yaml.AliasNode {
		return c.convert(n.Alias, t, path)
	}
	if _, ok := c.pos[path]; !ok {
		c.pos[path] = Pos{n.Line, n.Column}
	}
	if n.Tag == "!!null" {
		return nil
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == durationType {
		if n.Kind != yaml.ScalarNode {
			c.errorf(n, path, "expected a duration such as 60s, 10m or 4h")
			return nil
		}
		if _, err := ParseDuration(n.Value); err != nil {
			c.errorf(n, path, "%v", err)
			return nil
		}
		return n.Value
	}
	switch t.Kind() {
	case reflect.Struct:
		return c.convertStruct(n, t, path)
	case reflect.Map:
		return c.convertMap(n, t, path)
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			c.errorf(n, path, "expected a list, found %s", describe(n))
			return nil
		}
		out := make([]any, 0, len(n.Content))
		for i, item := range n.Content {
			out = append(out, c.convert(item, t.Elem(), fmt.Sprintf("%s[%d]", path, i)))
		}
		return out
	}
	return c.convertScalar(n, t, path)
}

func (c *converter) convertStruct(n *yaml.Node, t reflect.Type, path string) any {
	if n.Kind != yaml.MappingNode {
		c.errorf(n, path, "expected a mapping of fields, found %s", describe(n))
		return nil
	}
	fields := jsonFields(t)
	out := map[string]any{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		key, val := n.Content[i], n.Content[i+1]
		p := joinPath(path, key.Value)
		ft, ok := fields[key.Value]
		if !ok {
			c.errorf(key, p, "unknown field %q%s", key.Value, suggest(key.Value, fields))
			continue
		}
		if _, dup := out[key.Value]; dup {
			c.errorf(key, p, "field %q is set twice", key.Value)
			continue
		}
		c.pos[p] = fieldPos(key, val)
		out[key.Value] = c.convert(val, ft, p)
	}
	return out
}

func (c *converter) convertMap(n *yaml.Node, t reflect.Type, path string) any {
	if n.Kind != yaml.MappingNode {
		c.errorf(n, path, "expected a mapping, found %s", describe(n))
		return nil
	}
	out := map[string]any{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		key, val := n.Content[i], n.Content[i+1]
		p := joinPath(path, key.Value)
		c.pos[p] = fieldPos(key, val)
		out[key.Value] = c.convert(val, t.Elem(), p)
	}
	return out
}

func (c *converter) convertScalar(n *yaml.Node, t reflect.Type, path string) any {
	if n.Kind != yaml.ScalarNode {
		c.errorf(n, path, "expected a %s, found %s", kindName(t), describe(n))
		return nil
	}
	switch t.Kind() {
	case reflect.String:
		// Bare 1.2 or 8.0 are numbers in YAML but mean the version string.
		return n.Value
	case reflect.Bool:
		if n.Tag != "!!bool" {
			c.errorf(n, path, "expected true or false, found %q", n.Value)
			return nil
		}
		return n.Value == "true"
	case reflect.Int, reflect.Int64, reflect.Int32:
		v, err := strconv.ParseInt(n.Value, 0, 64)
		if n.Tag != "!!int" || err != nil {
			c.errorf(n, path, "expected a whole number, found %q", n.Value)
			return nil
		}
		return v
	}
	c.errorf(n, path, "unsupported field type %s", t)
	return nil
}

// fieldPos points at a scalar's value, which is what a message about it
// concerns, and at the key of a mapping or list.
func fieldPos(key, val *yaml.Node) Pos {
	if val.Kind == yaml.ScalarNode && val.Line == key.Line {
		return Pos{val.Line, val.Column}
	}
	return Pos{key.Line, key.Column}
}

// jsonFields maps each json name of a struct to its field type.
func jsonFields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" || !f.IsExported() {
			continue
		}
		if name == "" && f.Anonymous && f.Type.Kind() == reflect.Struct {
			// An embedded struct's fields are the outer one's, as in encoding/json.
			maps.Copy(out, jsonFields(f.Type))
			continue
		}
		if name == "" {
			name = f.Name
		}
		out[name] = f.Type
	}
	return out
}

func kindName(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int64, reflect.Int32:
		return "whole number"
	}
	return "string"
}

func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	}
	return fmt.Sprintf("%q", n.Value)
}

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// suggest names the closest known field when the unknown one is a likely typo.
func suggest(name string, fields map[string]reflect.Type) string {
	best, bestD := "", 3
	names := make([]string, 0, len(fields))
	for k := range fields {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		if d := distance(strings.ToLower(name), strings.ToLower(k)); d < bestD {
			best, bestD = k, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

func distance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}
