package kubernetes

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata")

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	p := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(p, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", p, diff)
	}
}

func TestRenderGolden(t *testing.T) {
	st := testStack()
	for _, r := range st.Spec.Regions {
		t.Run(r.Name, func(t *testing.T) {
			out, err := Render(st, r.Name, nil)
			if err != nil {
				t.Fatal(err)
			}
			golden(t, "render-"+r.Name+".yaml", out)
		})
	}
	t.Run("ingress", func(t *testing.T) {
		st := testStack()
		st.Spec.Workload.Exposure.Type = "ingress"
		st.Spec.Workload.Redis.Enabled = new(bool)
		st.Spec.Workload.Monitoring.Enabled = new(bool)
		st.Spec.Cloudflare.OriginCert.Enabled = new(bool)
		out, err := Render(st, "eu-west", nil)
		if err != nil {
			t.Fatal(err)
		}
		golden(t, "render-ingress-eu-west.yaml", out)
	})
}

func jsonMarshal(v any) (string, error) {
	b, err := json.Marshal(v)
	return string(b), err
}
