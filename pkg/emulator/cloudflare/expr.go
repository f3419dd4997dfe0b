package cfemu

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"unicode"
)

// The Rules language (wirefilter): what the Rulesets API parses before it
// accepts a rule. The emulator checks syntax, field and function names, and
// operand types, and reports the fields the expression uses so the caller can
// refuse those the zone's plan or the phase does not allow. It does not
// evaluate expressions: no emulated request ever runs through a rule.

// exprType is the type of a value in an expression.
type exprType int

const (
	tBool exprType = iota
	tInt
	tBytes
	tIP
	tArrayBytes
	tMapArrayBytes
	tArrayBool
	tArrayInt
)

func (t exprType) String() string {
	return [...]string{"Bool", "Int", "Bytes", "Ip", "Array<Bytes>", "Map<Array<Bytes>>", "Array<Bool>", "Array<Int>"}[t]
}

// maxExpressionLength is the Rulesets API's limit on one rule's expression.
const maxExpressionLength = 4096

// exprError is a parse or type error at a byte offset, reported the way the
// service does: "Filter parsing error (1:col): reason".
type exprError struct {
	pos    int
	reason string
}

func (e *exprError) Error() string {
	return fmt.Sprintf("Filter parsing error (1:%d): %s", e.pos+1, e.reason)
}

// parsedExpr is what a successful parse tells the caller.
type parsedExpr struct {
	fields    []string // every field referenced, in order of appearance
	functions []string
	operators []string
}

type token struct {
	kind string // ident, string, int, ip, punct, list
	text string
	pos  int
}

func lexExpr(src string) ([]token, error) {
	var out []token
	i := 0
	for i < len(src) {
		c := src[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '"':
			s, n, err := lexString(src, i)
			if err != nil {
				return nil, err
			}
			out = append(out, token{"string", s, i})
			i += n
		case c == 'r' && i+1 < len(src) && (src[i+1] == '"' || src[i+1] == '#'):
			s, n, err := lexRawString(src, i)
			if err != nil {
				return nil, err
			}
			out = append(out, token{"string", s, i})
			i += n
		case c == '$':
			j := i + 1
			for j < len(src) && (isIdentByte(src[j])) {
				j++
			}
			if j == i+1 {
				return nil, &exprError{i, "expected a list name after $"}
			}
			out = append(out, token{"list", src[i+1 : j], i})
			i = j
		case isDigit(c) || (c == ':' && i+1 < len(src) && src[i+1] == ':'):
			j := i
			for j < len(src) && (isHexDigit(src[j]) || src[j] == '.' || src[j] == ':' || src[j] == '/') {
				j++
			}
			word := src[i:j]
			if n, err := strconv.ParseInt(word, 10, 64); err == nil {
				out = append(out, token{"int", strconv.FormatInt(n, 10), i})
			} else if _, err := netip.ParsePrefix(word); err == nil {
				out = append(out, token{"ip", word, i})
			} else if _, err := netip.ParseAddr(word); err == nil {
				out = append(out, token{"ip", word, i})
			} else if strings.Contains(word, "..") {
				out = append(out, token{"range", word, i})
			} else {
				return nil, &exprError{i, fmt.Sprintf("%q is neither a number nor an IP address", word)}
			}
			i = j
		case isIdentStart(c):
			j := i
			for j < len(src) && (isIdentByte(src[j]) || src[j] == '.') {
				j++
			}
			word := src[i:j]
			// An IPv6 address can begin with letters (fe80::1): take it whole.
			if j < len(src) && src[j] == ':' {
				k := j
				for k < len(src) && (isHexDigit(src[k]) || src[k] == ':' || src[k] == '.' || src[k] == '/') {
					k++
				}
				if _, err := netip.ParsePrefix(src[i:k]); err == nil {
					out = append(out, token{"ip", src[i:k], i})
					i = k
					continue
				}
				if _, err := netip.ParseAddr(src[i:k]); err == nil {
					out = append(out, token{"ip", src[i:k], i})
					i = k
					continue
				}
			}
			out = append(out, token{"ident", word, i})
			i = j
		default:
			for _, p := range []string{"==", "!=", "<=", ">=", "&&", "||", "^^", "[*]", "(", ")", "{", "}", "[", "]", ",", "<", ">", "!", "~"} {
				if strings.HasPrefix(src[i:], p) {
					out = append(out, token{"punct", p, i})
					i += len(p)
					goto next
				}
			}
			return nil, &exprError{i, fmt.Sprintf("unexpected character %q", c)}
		next:
		}
	}
	return out, nil
}

func lexString(src string, start int) (string, int, error) {
	var b strings.Builder
	for i := start + 1; i < len(src); i++ {
		switch src[i] {
		case '"':
			return b.String(), i - start + 1, nil
		case '\\':
			if i+1 >= len(src) {
				return "", 0, &exprError{i, "unterminated escape"}
			}
			i++
			switch src[i] {
			case '"', '\\':
				b.WriteByte(src[i])
			case 'x':
				if i+2 >= len(src) {
					return "", 0, &exprError{i, "invalid \\x escape"}
				}
				v, err := strconv.ParseUint(src[i+1:i+3], 16, 8)
				if err != nil {
					return "", 0, &exprError{i, "invalid \\x escape"}
				}
				b.WriteByte(byte(v))
				i += 2
			default:
				return "", 0, &exprError{i, fmt.Sprintf("invalid character escape \\%c", src[i])}
			}
		default:
			b.WriteByte(src[i])
		}
	}
	return "", 0, &exprError{start, "unterminated string: missing closing quote"}
}

// lexRawString reads r"..." or r#"..."# (any number of #).
func lexRawString(src string, start int) (string, int, error) {
	i := start + 1
	hashes := 0
	for i < len(src) && src[i] == '#' {
		hashes++
		i++
	}
	if i >= len(src) || src[i] != '"' {
		return "", 0, &exprError{start, "a raw string starts with r\" or r#\""}
	}
	end := "\"" + strings.Repeat("#", hashes)
	j := strings.Index(src[i+1:], end)
	if j < 0 {
		return "", 0, &exprError{start, "unterminated raw string"}
	}
	return src[i+1 : i+1+j], i + 1 + j + len(end) - start, nil
}

func isDigit(c byte) bool        { return c >= '0' && c <= '9' }
func isHexDigit(c byte) bool     { return isDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') }
func isIdentStart(c byte) bool   { return c == '_' || unicode.IsLetter(rune(c)) }
func isIdentByte(c byte) bool    { return isIdentStart(c) || isDigit(c) }
func isLogical(w string) bool    { return w == "and" || w == "or" || w == "xor" || w == "not" }
func isComparison(w string) bool { _, ok := comparisonOps[w]; return ok }

// comparisonOps maps every spelling to the operator's canonical name.
var comparisonOps = map[string]string{
	"eq": "eq", "==": "eq", "ne": "ne", "!=": "ne",
	"lt": "lt", "<": "lt", "le": "le", "<=": "le", "gt": "gt", ">": "gt", "ge": "ge", ">=": "ge",
	"contains": "contains", "matches": "matches", "~": "matches", "in": "in",
	"wildcard": "wildcard", "strict": "wildcard",
}

// operandTypes says which left-hand types each operator accepts.
var operandTypes = map[string][]exprType{
	"eq": {tInt, tBytes, tIP, tBool}, "ne": {tInt, tBytes, tIP, tBool},
	"lt": {tInt, tBytes}, "le": {tInt, tBytes}, "gt": {tInt, tBytes}, "ge": {tInt, tBytes},
	"contains": {tBytes}, "matches": {tBytes}, "wildcard": {tBytes},
	"in": {tInt, tBytes, tIP},
}

type exprParser struct {
	toks []token
	i    int
	end  int
	out  parsedExpr
}

// parseExpr parses a rule expression and checks names and operand types.
func parseExpr(src string) (*parsedExpr, error) {
	if len(src) > maxExpressionLength {
		return nil, &exprError{0, fmt.Sprintf("the expression is %d characters long; the limit is %d", len(src), maxExpressionLength)}
	}
	toks, err := lexExpr(src)
	if err != nil {
		return nil, err
	}
	if len(toks) == 0 {
		return nil, &exprError{0, "empty expression"}
	}
	p := &exprParser{toks: toks, end: len(src)}
	t, err := p.logical(0)
	if err != nil {
		return nil, err
	}
	if p.i < len(p.toks) {
		return nil, p.errf("unexpected %q after a complete expression", p.peek().text)
	}
	if t != tBool {
		return nil, &exprError{0, fmt.Sprintf("the expression is of type %s; a rule needs a Bool", t)}
	}
	return &p.out, nil
}

func (p *exprParser) peek() token {
	if p.i < len(p.toks) {
		return p.toks[p.i]
	}
	return token{kind: "eof", pos: p.end}
}

func (p *exprParser) errf(format string, args ...any) error {
	return &exprError{p.peek().pos, fmt.Sprintf(format, args...)}
}

func (p *exprParser) accept(texts ...string) (string, bool) {
	t := p.peek()
	if t.kind != "ident" && t.kind != "punct" {
		return "", false
	}
	for _, s := range texts {
		if t.text == s {
			p.i++
			return s, true
		}
	}
	return "", false
}

func (p *exprParser) expect(text string) error {
	if _, ok := p.accept(text); !ok {
		return p.errf("expected %q, found %q", text, p.peek().text)
	}
	return nil
}

// logical parses or/xor/and chains; level 0 is or, 1 xor, 2 and.
func (p *exprParser) logical(level int) (exprType, error) {
	ops := [][]string{{"or", "||"}, {"xor", "^^"}, {"and", "&&"}}
	next := func() (exprType, error) {
		if level == 2 {
			return p.unary()
		}
		return p.logical(level + 1)
	}
	t, err := next()
	if err != nil {
		return t, err
	}
	for {
		start := p.peek()
		op, ok := p.accept(ops[level]...)
		if !ok {
			return t, nil
		}
		if t != tBool {
			return t, &exprError{start.pos, fmt.Sprintf("%q needs Bool operands, found %s", op, t)}
		}
		r, err := next()
		if err != nil {
			return r, err
		}
		if r != tBool {
			return r, &exprError{start.pos, fmt.Sprintf("%q needs Bool operands, found %s", op, r)}
		}
		p.out.operators = append(p.out.operators, op)
	}
}

func (p *exprParser) unary() (exprType, error) {
	start := p.peek()
	if _, ok := p.accept("not", "!"); ok {
		t, err := p.unary()
		if err == nil && t != tBool {
			return t, &exprError{start.pos, fmt.Sprintf("not needs a Bool, found %s", t)}
		}
		return tBool, err
	}
	if _, ok := p.accept("("); ok {
		t, err := p.logical(0)
		if err != nil {
			return t, err
		}
		return t, p.expect(")")
	}
	return p.comparison()
}

func (p *exprParser) comparison() (exprType, error) {
	start := p.peek()
	lhs, err := p.value()
	if err != nil {
		return lhs, err
	}
	t := p.peek()
	if (t.kind != "ident" && t.kind != "punct") || !isComparison(t.text) {
		return lhs, nil
	}
	p.i++
	op := comparisonOps[t.text]
	if t.text == "strict" {
		if _, ok := p.accept("wildcard"); !ok {
			return lhs, p.errf("expected wildcard after strict")
		}
	}
	elem := lhs
	switch lhs {
	case tArrayBytes:
		elem = tBytes // an array compared directly matches any element
	case tArrayInt:
		elem = tInt
	}
	if !containsType(operandTypes[op], elem) {
		return lhs, &exprError{start.pos, fmt.Sprintf("operator %s cannot be applied to a %s", op, lhs)}
	}
	p.out.operators = append(p.out.operators, op)
	if op == "in" {
		return tBool, p.set(elem)
	}
	rhs := p.peek()
	p.i++
	switch {
	case rhs.kind == "string" && elem == tBytes:
	case rhs.kind == "int" && elem == tInt:
	case rhs.kind == "ip" && elem == tIP && !strings.Contains(rhs.text, "/"):
	case rhs.kind == "ident" && (rhs.text == "true" || rhs.text == "false") && elem == tBool:
	default:
		return tBool, &exprError{rhs.pos, fmt.Sprintf("expected a %s value after %s, found %q", elem, op, rhs.text)}
	}
	return tBool, nil
}

// set parses {a b c}, a range set of ints, or a $list.
func (p *exprParser) set(elem exprType) error {
	if t := p.peek(); t.kind == "list" {
		p.i++
		if elem != tIP {
			return &exprError{t.pos, "a $list can only be matched by an IP field"}
		}
		return nil
	}
	if err := p.expect("{"); err != nil {
		return err
	}
	n := 0
	for {
		t := p.peek()
		if t.kind == "punct" && t.text == "}" {
			p.i++
			if n == 0 {
				return &exprError{t.pos, "an empty set"}
			}
			return nil
		}
		ok := (t.kind == "string" && elem == tBytes) || ((t.kind == "int" || t.kind == "range") && elem == tInt) || (t.kind == "ip" && elem == tIP)
		if !ok {
			return &exprError{t.pos, fmt.Sprintf("expected a %s in the set, found %q", elem, t.text)}
		}
		p.i++
		n++
	}
}

// value parses a field reference (with map/array access) or a function call.
func (p *exprParser) value() (exprType, error) {
	t := p.peek()
	if t.kind != "ident" || isLogical(t.text) || isComparison(t.text) {
		if t.kind == "eof" {
			return tBool, p.errf("unexpected end of the expression")
		}
		return tBool, p.errf("expected a field or function, found %q", t.text)
	}
	p.i++
	if t.text == "true" || t.text == "false" {
		return tBool, nil
	}
	var ty exprType
	if _, ok := p.accept("("); ok {
		fn, known := exprFunctions[t.text]
		if !known {
			return tBool, &exprError{t.pos, fmt.Sprintf("unknown function %q", t.text)}
		}
		p.out.functions = append(p.out.functions, t.text)
		var args []exprType
		if _, ok := p.accept(")"); !ok {
			for {
				a, err := p.argument()
				if err != nil {
					return a, err
				}
				args = append(args, a)
				if _, ok := p.accept(","); ok {
					continue
				}
				if err := p.expect(")"); err != nil {
					return tBool, err
				}
				break
			}
		}
		r, err := fn(args)
		if err != nil {
			return tBool, &exprError{t.pos, t.text + ": " + err.Error()}
		}
		ty = r
	} else {
		f, known := exprFields[t.text]
		if !known {
			return tBool, &exprError{t.pos, fmt.Sprintf("unknown identifier %q", t.text)}
		}
		p.out.fields = append(p.out.fields, t.text)
		ty = f.typ
	}
	return p.access(ty)
}

// argument is a function argument: a value, a literal, or a nested call.
func (p *exprParser) argument() (exprType, error) {
	t := p.peek()
	switch t.kind {
	case "string":
		p.i++
		return tBytes, nil
	case "int":
		p.i++
		return tInt, nil
	case "ip":
		p.i++
		return tIP, nil
	}
	return p.comparison()
}

func (p *exprParser) access(ty exprType) (exprType, error) {
	for {
		if _, ok := p.accept("[*]"); ok {
			switch ty {
			case tArrayBytes:
				ty = tBytes
			case tMapArrayBytes:
				ty = tArrayBytes
			default:
				return ty, p.errf("[*] needs an array or a map, found %s", ty)
			}
			continue
		}
		start := p.peek()
		if _, ok := p.accept("["); !ok {
			return ty, nil
		}
		key := p.peek()
		p.i++
		switch {
		case ty == tMapArrayBytes && key.kind == "string":
			ty = tArrayBytes
		case (ty == tArrayBytes || ty == tArrayInt || ty == tArrayBool) && key.kind == "int":
			ty = map[exprType]exprType{tArrayBytes: tBytes, tArrayInt: tInt, tArrayBool: tBool}[ty]
		default:
			return ty, &exprError{start.pos, fmt.Sprintf("cannot index a %s with %q", ty, key.text)}
		}
		if err := p.expect("]"); err != nil {
			return ty, err
		}
	}
}

func containsType(ts []exprType, t exprType) bool {
	for _, x := range ts {
		if x == t {
			return true
		}
	}
	return false
}
