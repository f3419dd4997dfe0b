package printer

import (
	"encoding/json"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/neko-defense/nekoctl/pkg/plan"
)

// treeEncoder appends values as json.MarshalIndent(v, prefix, indent)
// would. It walks the generic trees a document is made of (maps, slices,
// strings, numbers, booleans) directly and hands any other value to
// encoding/json: documents are nearly all of a plan's JSON, and
// encoding/json spends most of its time on them in reflection and in a
// second pass that indents.
type treeEncoder struct {
	prefix, indent string
	// lines is a newline, the prefix and the indent repeated: a line at
	// depth d starts with its first 1+len(prefix)+d*len(indent) bytes.
	lines string
	// keys holds one scratch slice per depth for sorting a map's keys.
	keys [][]string
}

func newTreeEncoder(prefix, indent string) *treeEncoder {
	return &treeEncoder{prefix: prefix, indent: indent, lines: "\n" + prefix + strings.Repeat(indent, 16)}
}

// line is the start of a line at depth d.
func (e *treeEncoder) line(d int) string {
	n := 1 + len(e.prefix) + d*len(e.indent)
	for len(e.lines) < n {
		e.lines += strings.Repeat(e.indent, 16)
	}
	return e.lines[:n]
}

// tree appends v, whose own line is at depth d.
func (e *treeEncoder) tree(b []byte, v any, d int) ([]byte, error) {
	switch v := v.(type) {
	case nil:
		return append(b, "null"...), nil
	case string:
		return appendJSONString(b, v), nil
	case bool:
		return strconv.AppendBool(b, v), nil
	case int64:
		return strconv.AppendInt(b, v, 10), nil
	case int:
		return strconv.AppendInt(b, int64(v), 10), nil
	case float64:
		if math.IsInf(v, 0) || math.IsNaN(v) {
			break // encoding/json's error
		}
		return appendJSONFloat(b, v), nil
	case plan.Sensitive:
		return appendJSONString(b, plan.Mask), nil
	case map[string]any:
		if v == nil {
			return append(b, "null"...), nil
		}
		if len(v) == 0 {
			return append(b, "{}"...), nil
		}
		for len(e.keys) <= d {
			e.keys = append(e.keys, nil)
		}
		keys := e.keys[d][:0]
		for k := range v {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		e.keys[d] = keys
		b = append(b, '{')
		for i, k := range keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, e.line(d+1)...)
			b = appendJSONString(b, k)
			b = append(b, ':', ' ')
			var err error
			if b, err = e.tree(b, v[k], d+1); err != nil {
				return b, err
			}
		}
		return append(append(b, e.line(d)...), '}'), nil
	case []any:
		if v == nil {
			return append(b, "null"...), nil
		}
		if len(v) == 0 {
			return append(b, "[]"...), nil
		}
		b = append(b, '[')
		for i, x := range v {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, e.line(d+1)...)
			var err error
			if b, err = e.tree(b, x, d+1); err != nil {
				return b, err
			}
		}
		return append(append(b, e.line(d)...), ']'), nil
	}
	out, err := json.MarshalIndent(v, e.line(d)[1:], e.indent)
	return append(b, out...), err
}

// appendJSONFloat formats f as encoding/json does (like ES6: exponent
// form outside [1e-6, 1e21), with no zero padding of the exponent).
func appendJSONFloat(b []byte, f float64) []byte {
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}

const hexDigits = "0123456789abcdef"

// appendJSONString quotes s as encoding/json does with HTML escaping on
// (its default): <, > and & as \u00XX, U+2028 and U+2029 escaped, invalid
// UTF-8 as U+FFFD.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '\\', '"':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	return append(append(b, s[start:]...), '"')
}

// change appends one change at depth 0: its fields in jsonChange's order,
// empty ones left out as their omitempty tags say.
func (e *treeEncoder) change(b []byte, c jsonChange) ([]byte, error) {
	var err error
	first := true
	// field writes one field, or nothing when present is false (its
	// omitempty tag leaves it out).
	field := func(name string, v any, present bool) {
		if err != nil || !present {
			return
		}
		if !first {
			b = append(b, ',')
		}
		first = false
		b = append(b, e.line(1)...)
		b = appendJSONString(b, name)
		b = append(b, ':', ' ')
		b, err = e.tree(b, v, 1)
	}
	b = append(b, '{')
	field("address", c.Address, true)
	field("resource", c.Resource, true)
	field("action", string(c.Action), true)
	field("reason", c.Reason, c.Reason != "")
	field("id", c.ID, c.ID != "")
	field("before", c.Before, len(c.Before) > 0)
	field("after", c.After, len(c.After) > 0)
	field("fields", c.Fields, len(c.Fields) > 0)
	field("depends_on", c.DependsOn, len(c.DependsOn) > 0)
	field("produces", c.Produces, len(c.Produces) > 0)
	field("notes", c.Notes, len(c.Notes) > 0)
	field("fingerprint", c.Fingerprint, c.Fingerprint != "")
	field("conflict", c.Conflict, c.Conflict != "")
	field("pulled_in_by", c.PulledInBy, c.PulledInBy != nil)
	return append(append(b, e.line(0)...), '}'), err
}
