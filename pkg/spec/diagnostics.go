package spec

import (
	"fmt"
	"sort"
	"strings"
)

// Severity of a Diagnostic.
type Severity string

const (
	Error   Severity = "error"
	Warning Severity = "warning"
	Info    Severity = "info"
)

// Pos is a position in the spec file, 1-based.
type Pos struct {
	Line   int `json:"line"`
	Column int `json:"column"`
}

// Diagnostic is one finding about the spec, naming the field by its path
// ("spec.regions[1].atlas.region") and its position in the file.
type Diagnostic struct {
	Severity Severity `json:"severity"`
	File     string   `json:"file"`
	Pos      Pos      `json:"position"`
	Path     string   `json:"path"`
	Message  string   `json:"message"`
}

func (d Diagnostic) String() string {
	loc := d.File
	if d.Pos.Line > 0 {
		loc = fmt.Sprintf("%s:%d:%d", d.File, d.Pos.Line, d.Pos.Column)
	}
	if d.Path == "" {
		return fmt.Sprintf("%s: %s: %s", loc, d.Severity, d.Message)
	}
	return fmt.Sprintf("%s: %s: %s: %s", loc, d.Severity, d.Path, d.Message)
}

// Diagnostics are all findings of one load, errors and warnings together.
type Diagnostics []Diagnostic

// Errors returns only the errors.
func (ds Diagnostics) Errors() Diagnostics { return ds.only(Error) }

// Warnings returns only the warnings.
func (ds Diagnostics) Warnings() Diagnostics { return ds.only(Warning) }

func (ds Diagnostics) only(s Severity) Diagnostics {
	var out Diagnostics
	for _, d := range ds {
		if d.Severity == s {
			out = append(out, d)
		}
	}
	return out
}

// HasErrors reports whether the spec is unusable.
func (ds Diagnostics) HasErrors() bool { return len(ds.Errors()) > 0 }

func (ds Diagnostics) sort() {
	sort.SliceStable(ds, func(i, j int) bool {
		if ds[i].Pos.Line != ds[j].Pos.Line {
			return ds[i].Pos.Line < ds[j].Pos.Line
		}
		return ds[i].Pos.Column < ds[j].Pos.Column
	})
}

// ValidationError is returned when the spec has errors; it carries every
// diagnostic so that all problems are reported together.
type ValidationError struct {
	Diagnostics Diagnostics
}

func (e *ValidationError) Error() string {
	errs := e.Diagnostics.Errors()
	lines := make([]string, 0, len(errs)+1)
	lines = append(lines, fmt.Sprintf("spec has %d error(s):", len(errs)))
	for _, d := range errs {
		lines = append(lines, "  "+d.String())
	}
	return strings.Join(lines, "\n")
}
