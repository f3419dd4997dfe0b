package spec

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// Limits that keep a hostile or mistaken file from exhausting memory.
const (
	MaxFileBytes = 1 << 20
	// maxNodes bounds the nodes visited with aliases expanded, so an alias
	// bomb is refused long before it could expand.
	maxNodes = 100_000
)

// Loaded is a parsed, defaulted and validated stack with its diagnostics
// (warnings included) and the file positions of its fields.
type Loaded struct {
	Stack       *Stack
	Diagnostics Diagnostics
	Positions   Positions
}

// Load reads, checks, defaults and validates a spec file. It returns a
// *ValidationError listing every problem when the spec has any error.
func Load(path string) (*Loaded, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reading spec: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxFileBytes+1))
	if err != nil {
		return nil, fmt.Errorf("reading spec %s: %w", path, err)
	}
	return Parse(path, data)
}

// Parse is Load for data already in memory; file names the source in diagnostics.
func Parse(file string, data []byte) (*Loaded, error) {
	fail := func(pos Pos, msg string) (*Loaded, error) {
		d := Diagnostics{{Severity: Error, File: file, Pos: pos, Message: msg}}
		return &Loaded{Diagnostics: d}, &ValidationError{Diagnostics: d}
	}
	if len(data) > MaxFileBytes {
		return fail(Pos{}, fmt.Sprintf("file is larger than %d bytes; a stack spec is a few kilobytes", MaxFileBytes))
	}
	// A file that is not a mapping at all gets one message, not one
	// "is required" per field of the stack.
	if bytes.IndexByte(data, 0) >= 0 || !utf8.Valid(data) {
		return fail(Pos{}, notAMapping("the file holds binary data"))
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return fail(Pos{}, notAMapping("the file is empty"))
		}
		return fail(yamlErrorPos(err), "invalid YAML: "+yamlErrorText(err))
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return fail(Pos{extra.Line, extra.Column}, "file holds more than one YAML document; put one stack in each file")
	}
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = root.Content[0]
	}
	if root.Kind != yaml.MappingNode {
		return fail(Pos{root.Line, root.Column}, notAMapping("found "+nodeKind(root)))
	}
	c := &converter{file: file, pos: Positions{}}
	value := c.convert(root, stackType, "")
	if c.nodes > maxNodes {
		return fail(Pos{root.Line, root.Column}, "YAML aliases expand beyond the size limit; write the values out")
	}
	raw, err := json.Marshal(value)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	st := &Stack{File: file}
	if err := json.Unmarshal(raw, st); err != nil {
		return fail(Pos{root.Line, root.Column}, err.Error())
	}
	structural := append(c.diags, asciiDomains(st, c.pos)...)
	st.ApplyDefaults()
	// Structural problems (unknown fields, wrong types) and rule violations
	// are reported together; a rule about a field that was already reported
	// as malformed would only repeat it.
	diags := structural
	for _, d := range Validate(st, c.pos) {
		if !coveredBy(d.Path, structural) {
			diags = append(diags, d)
		}
	}
	diags.sort()
	l := &Loaded{Stack: st, Diagnostics: diags, Positions: c.pos}
	if diags.HasErrors() {
		return l, &ValidationError{Diagnostics: diags}
	}
	return l, nil
}

func notAMapping(why string) string {
	return "not a YAML mapping: " + why + "; a stack spec is a YAML mapping that starts with apiVersion: " + APIVersion
}

func nodeKind(n *yaml.Node) string {
	switch {
	case n.Kind == yaml.SequenceNode:
		return "a list"
	case n.Kind == yaml.ScalarNode && n.Tag == "!!null":
		return "nothing (null)"
	case n.Kind == yaml.ScalarNode:
		return fmt.Sprintf("the single value %q", truncate(n.Value, 40))
	case n.Kind == yaml.AliasNode:
		return "an alias"
	}
	return "no mapping"
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

func coveredBy(path string, structural Diagnostics) bool {
	for _, d := range structural {
		if path == d.Path || strings.HasPrefix(path, d.Path+".") || strings.HasPrefix(path, d.Path+"[") {
			return true
		}
	}
	return false
}

func yamlErrorText(err error) string {
	var te *yaml.TypeError
	if errors.As(err, &te) && len(te.Errors) > 0 {
		return te.Errors[0]
	}
	return err.Error()
}

func yamlErrorPos(err error) Pos {
	var line int
	if _, scanErr := fmt.Sscanf(err.Error(), "yaml: line %d:", &line); scanErr == nil {
		return Pos{Line: line, Column: 1}
	}
	return Pos{}
}
