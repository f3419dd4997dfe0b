package spec

import (
	"errors"
	"strings"
	"testing"
)

// A file that is no mapping at all gets one error, not a cascade of
// "is required".
func TestNotAMappingIsOneError(t *testing.T) {
	for name, data := range map[string][]byte{
		"empty":        {},
		"comment only": []byte("# nothing here\n"),
		"binary":       {0x7f, 'E', 'L', 'F', 2, 1, 1, 0, 0, 0},
		"latin-1":      []byte("apiVersion: caf\xe9\n"),
		"null":         []byte("~\n"),
		"scalar":       []byte("hello\n"),
		"list":         []byte("- a\n- b\n"),
	} {
		t.Run(name, func(t *testing.T) {
			_, err := Parse("x.yaml", data)
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("want a ValidationError, got %v", err)
			}
			errs := ve.Diagnostics.Errors()
			if len(errs) != 1 || !strings.HasPrefix(errs[0].Message, "not a YAML mapping: ") {
				t.Fatalf("want one \"not a YAML mapping\" error, got:\n%s", ve.Error())
			}
		})
	}
}

// An internationalized domain is used in its punycode form, and the zone
// defaults to it.
func TestIDNDomainBecomesPunycode(t *testing.T) {
	src := strings.Replace(string(regionSpec("{name: us, primary: true, kubeContext: a, cloud: {provider: aws, region: us-east-1}, atlas: {region: US_EAST_1, electableNodes: 3}}")),
		"domain: nekodefense.example", "domain: bücher.example", 1)
	l, err := Parse("idn.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if d, z := l.Stack.Spec.Domain, l.Stack.Spec.Cloudflare.Zone; d != "xn--bcher-kva.example" || z != d {
		t.Fatalf("domain %q, zone %q", d, z)
	}
	found := false
	for _, d := range l.Diagnostics {
		found = found || (d.Severity == Info && d.Path == "spec.domain" && strings.Contains(d.Message, "xn--bcher-kva.example"))
	}
	if !found {
		t.Fatalf("the conversion is not reported: %v", l.Diagnostics)
	}
}
