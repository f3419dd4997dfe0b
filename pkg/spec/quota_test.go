package spec

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
)

// TestZoneQuotas: what the zone's plan bounds is refused before anything
// remote, with the numbers.
func TestZoneQuotas(t *testing.T) {
	src, err := os.ReadFile("../../examples/global.yaml")
	if err != nil {
		t.Fatal(err)
	}
	many := make([]string, 201)
	for i := range many {
		many[i] = fmt.Sprintf("h%d", i)
	}
	long := strings.Repeat("a", 60) + "." + strings.Repeat("b", 60) + "." + strings.Repeat("c", 60) + "." + strings.Repeat("d", 60)
	tests := []struct {
		name     string
		from, to string
		want     string
	}{
		{"201 hostnames on free", "hostnames: [api, www.api]", "hostnames: [" + strings.Join(many, ", ") + "]",
			"spec.hostnames: 201 hostnames need 201 DNS records, and a zone on the free plan holds at most 200 records"},
		{"a name past 253 characters", "hostnames: [api, www.api]", "hostnames: [api, " + long + "]",
			"spec.hostnames[1]: " + long + ".nekodefense.example is 263 characters long; a DNS name holds at most 253"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			y := strings.Replace(string(src), tt.from, tt.to, 1)
			y = strings.Replace(y, "plan: pro", "plan: free", 1)
			_, err := Parse("quota.yaml", []byte(y))
			var ve *ValidationError
			if !errors.As(err, &ve) || !strings.Contains(ve.Error(), tt.want) {
				t.Errorf("want %q, got:\n%v", tt.want, err)
			}
		})
	}
	y := strings.Replace(string(src), "plan: pro", "plan: business", 1)
	y = strings.Replace(y, "hostnames: [api, www.api]", "hostnames: ["+strings.Join(many, ", ")+"]", 1)
	if _, err := Parse("quota.yaml", []byte(y)); err != nil && strings.Contains(err.Error(), "DNS records") {
		t.Errorf("201 hostnames refused on business: %v", err)
	}
}
