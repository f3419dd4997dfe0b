package spec

import (
	"fmt"

	"golang.org/x/net/idna"
)

// asciiDomains turns an internationalized spec.domain or
// spec.cloudflare.zone (bücher.example) into the punycode form DNS and the
// Cloudflare API use (xn--bcher-kva.example), saying so, or refuses a name
// IDNA does not allow, with its punycode form as the hint. It runs before
// defaults, so that the zone defaults to the converted domain.
func asciiDomains(st *Stack, pos Positions) Diagnostics {
	var out Diagnostics
	for _, f := range []struct {
		path string
		v    *string
	}{{"spec.domain", &st.Spec.Domain}, {"spec.cloudflare.zone", &st.Spec.Cloudflare.Zone}} {
		name := *f.v
		if isASCII(name) {
			continue
		}
		d := Diagnostic{File: st.File, Pos: pos.Of(f.path), Path: f.path}
		ascii, err := idna.Registration.ToASCII(name)
		if err != nil {
			d.Severity = Error
			d.Message = fmt.Sprintf("%q is not a valid internationalized domain name: %v", name, err)
			if p, perr := idna.Punycode.ToASCII(name); perr == nil {
				d.Message += fmt.Sprintf(" (its punycode form would be %s)", p)
			}
		} else {
			d.Severity = Info
			d.Message = fmt.Sprintf("%q is used in its punycode form %s, as DNS and Cloudflare write it", name, ascii)
			*f.v = ascii
		}
		out = append(out, d)
	}
	return out
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}
