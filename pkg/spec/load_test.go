package spec

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// Every file in testdata/invalid starts with "# want: LINE:COL PATH: MESSAGE"
// lines; each must match one reported error by position, path and message.
func TestInvalidSpecs(t *testing.T) {
	files, err := filepath.Glob("testdata/invalid/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 25 {
		t.Fatalf("only %d invalid specs in testdata", len(files))
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".yaml"), func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			wants := parseWants(t, string(data))
			l, err := Parse(file, data)
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("want a *ValidationError, got %v", err)
			}
			if l != nil && l.Stack != nil && len(ve.Diagnostics.Errors()) == 0 {
				t.Fatal("ValidationError without errors")
			}
			for _, w := range wants {
				if !hasDiagnostic(ve.Diagnostics.Errors(), w) {
					t.Errorf("missing error %d:%d %s: %s\ngot:\n%s", w.Pos.Line, w.Pos.Column, w.Path, w.Message, ve.Error())
				}
			}
			if !strings.Contains(ve.Error(), file+":") {
				t.Errorf("error text does not name the file %s:\n%s", file, ve.Error())
			}
		})
	}
}

func parseWants(t *testing.T, src string) []Diagnostic {
	t.Helper()
	var out []Diagnostic
	for _, line := range strings.Split(src, "\n") {
		rest, ok := strings.CutPrefix(line, "# want: ")
		if !ok {
			continue
		}
		loc, rest, _ := strings.Cut(rest, " ")
		path, msg, _ := strings.Cut(rest, ": ")
		l, c, _ := strings.Cut(loc, ":")
		ln, err1 := strconv.Atoi(l)
		col, err2 := strconv.Atoi(c)
		if err1 != nil || err2 != nil {
			t.Fatalf("bad want line %q", line)
		}
		out = append(out, Diagnostic{Pos: Pos{ln, col}, Path: path, Message: msg})
	}
	if len(out) == 0 {
		t.Fatal("no # want: lines")
	}
	return out
}

func hasDiagnostic(ds Diagnostics, w Diagnostic) bool {
	for _, d := range ds {
		if d.Pos == w.Pos && d.Path == w.Path && strings.HasPrefix(d.Message, w.Message) {
			return true
		}
	}
	return false
}

func TestExamplesAreValid(t *testing.T) {
	for _, file := range []string{"../../examples/global.yaml", "../../examples/single-region.yaml"} {
		t.Run(filepath.Base(file), func(t *testing.T) {
			l, err := Load(file)
			if err != nil {
				t.Fatal(err)
			}
			if n := len(l.Stack.Spec.Regions); n == 0 {
				t.Fatal("no regions")
			}
		})
	}
}

func TestOversizedFileIsRefused(t *testing.T) {
	data := []byte("apiVersion: nekoctl.dev/v1alpha1\n# " + strings.Repeat("x", MaxFileBytes) + "\n")
	_, err := Parse("big.yaml", data)
	if err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Fatalf("want a size error, got %v", err)
	}
}

func TestAllProblemsReportedTogether(t *testing.T) {
	src := strings.Join([]string{
		"apiVersion: nekoctl.dev/v1alpha1", "kind: Stack", "metadata: {name: neko}", "spec:",
		"  domain: nekodefense.example",
		"  cloudflare: {accountID: bad, plan: pro}",
		"  atlas: {orgID: bad, project: p, cluster: {name: c}}",
		"  regions:",
		"    - {name: a, primary: true, kubeContext: a, cloud: {provider: aws, region: x}, atlas: {region: NOPE}}",
	}, "\n")
	_, err := Parse("all.yaml", []byte(src))
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("want a ValidationError, got %v", err)
	}
	for _, want := range []string{"spec.cloudflare.accountID", "spec.atlas.orgID", "spec.regions[0].atlas.region", "spec.regions: Atlas needs 3, 5 or 7"} {
		if !strings.Contains(ve.Error(), want) {
			t.Errorf("missing %q in:\n%s", want, ve.Error())
		}
	}
}
