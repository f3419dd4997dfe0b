package validate

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/neko-defense/nekoctl/pkg/cmd/factory"
	"github.com/neko-defense/nekoctl/pkg/cmdutil"
	cfemu "github.com/neko-defense/nekoctl/pkg/emulator/cloudflare"
	"github.com/neko-defense/nekoctl/pkg/iostreams"
	"github.com/neko-defense/nekoctl/pkg/providers/cloudflare"
)

const zoneName = "nekodefense.example"

// validate runs `validate --online` on the guide's stack (whose account is
// the emulator's) against emu.
func validate(t *testing.T, emu *cfemu.Server, output string) (string, string, error) {
	t.Helper()
	f := factory.New()
	ios, _, out, errOut := iostreams.Test()
	f.IOStreams = ios
	f.Getenv = func(k string) string {
		return map[string]string{cloudflare.EnvAPIToken: emu.Token(), cloudflare.EnvBaseURL: emu.URL()}[k]
	}
	opts := &ValidateOptions{F: f, File: "../../../examples/global.yaml", Output: output, Online: true}
	err := validateRun(context.Background(), opts)
	return out.String(), errOut.String(), err
}

// TestValidateOnlineReportsTheZone: the zone's plan tier, status, name
// servers and account, in text and JSON, from one read and no write.
func TestValidateOnlineReportsTheZone(t *testing.T) {
	emu := cfemu.New(t)
	emu.AddZone(zoneName, cfemu.Pro)
	out, stderr, err := validate(t, emu, "text")
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	want := "zone nekodefense.example: Pro Website plan (pro), status active, name servers ada.ns.cloudflare.com, bob.ns.cloudflare.com, account " +
		cfemu.DefaultAccount + " (Emulated account)\n"
	if !strings.HasPrefix(out, want) || !strings.Contains(out, `valid stack "neko-defense"`) {
		t.Errorf("output:\n%s\nwant it to start with:\n%s", out, want)
	}
	if diff := cmp.Diff(map[string]int{"GET /client/v4/zones": 1}, emu.Calls()); diff != "" {
		t.Errorf("calls (-want +got):\n%s", diff)
	}

	out, _, err = validate(t, emu, "json")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Valid bool
		Zone  cloudflare.ZoneInfo
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	wantZone := cloudflare.ZoneInfo{Name: zoneName, ID: emu.ZoneID(zoneName), Status: "active", Plan: "pro", PlanName: "Pro Website",
		NameServers: []string{"ada.ns.cloudflare.com", "bob.ns.cloudflare.com"}, AccountID: cfemu.DefaultAccount, AccountName: "Emulated account"}
	if diff := cmp.Diff(wantZone, doc.Zone); diff != "" || !doc.Valid {
		t.Errorf("valid %v, zone (-want +got):\n%s", doc.Valid, diff)
	}
}

// TestValidateOnlineRefusesAZoneThatCannotServe: a pending zone names the
// name servers to set, another account's zone names both accounts, a
// missing zone says so, each as an error of spec.cloudflare.zone; a zone
// on another plan than the spec's is a warning.
func TestValidateOnlineRefusesAZoneThatCannotServe(t *testing.T) {
	const other = "fedcba9876543210fedcba9876543210"
	for _, tc := range []struct {
		name  string
		setup func(*cfemu.Server)
		want  []string
	}{
		{"pending", func(s *cfemu.Server) { s.AddZone(zoneName, cfemu.Pro); s.SetZoneStatus(zoneName, "pending") },
			[]string{"error: spec.cloudflare.zone: zone nekodefense.example is pending", "name servers ada.ns.cloudflare.com, bob.ns.cloudflare.com"}},
		{"another account", func(s *cfemu.Server) { s.AddZone(zoneName, cfemu.Pro); s.MoveZoneToAccount(zoneName, other) },
			[]string{"error: spec.cloudflare.zone: zone nekodefense.example belongs to account " + other + ", not to spec.cloudflare.accountID " + cfemu.DefaultAccount}},
		{"missing", func(s *cfemu.Server) { s.AddZone("elsewhere.example", cfemu.Pro) },
			[]string{"error: spec.cloudflare.zone: zone nekodefense.example not found"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			emu := cfemu.New(t)
			tc.setup(emu)
			out, stderr, err := validate(t, emu, "text")
			if !errors.Is(err, cmdutil.ErrSilent) {
				t.Fatalf("err = %v\n%s%s", err, out, stderr)
			}
			for _, w := range tc.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, stderr)
				}
			}
			if strings.Contains(out, "valid stack") {
				t.Errorf("called valid:\n%s", out)
			}
			out, _, err = validate(t, emu, "json")
			if !errors.Is(err, cmdutil.ErrSilent) || !strings.Contains(out, `"valid": false`) {
				t.Errorf("json: err %v\n%s", err, out)
			}
		})
	}
	t.Run("another plan", func(t *testing.T) {
		emu := cfemu.New(t)
		emu.AddZone(zoneName, cfemu.Business)
		out, stderr, err := validate(t, emu, "text")
		if err != nil || !strings.Contains(stderr, "warning: spec.cloudflare.plan: the spec says pro, the zone is on the business plan") ||
			!strings.Contains(out, "valid stack") {
			t.Errorf("err %v\nstdout:\n%s\nstderr:\n%s", err, out, stderr)
		}
	})
}
