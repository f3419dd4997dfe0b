package apply

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/neko-defense/nekoctl/pkg/cmd/factory"
	"github.com/neko-defense/nekoctl/pkg/cmd/plan"
	"github.com/neko-defense/nekoctl/pkg/iostreams"
	"github.com/neko-defense/nekoctl/pkg/version"
)

// A source build's default image is the moving "latest" tag: plan and up
// refuse it with credentials in place, before any request is sent.
func TestPlanAndUpRefuseTheMovingDefaultImageBeforeContactingAnything(t *testing.T) {
	if version.ImagePinned() {
		t.Skip("this test binary carries a release version")
	}
	var requests atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		http.Error(w, "not expected", http.StatusTeapot)
	}))
	defer srv.Close()
	env := map[string]string{
		"CLOUDFLARE_API_TOKEN": "token", "CLOUDFLARE_BASE_URL": srv.URL,
		"MONGODB_ATLAS_PUBLIC_API_KEY": "public", "MONGODB_ATLAS_PRIVATE_API_KEY": "private",
		"KUBECONFIG": filepath.Join(t.TempDir(), "none"),
	}
	const file = "../../../examples/global.yaml"
	for _, cmd := range []string{"plan", "up"} {
		t.Run(cmd, func(t *testing.T) {
			f := factory.New()
			ios, _, out, _ := iostreams.Test()
			f.IOStreams = ios
			f.Getenv = func(k string) string { return env[k] }
			var err error
			if cmd == "plan" {
				c := plan.NewCmdPlan(f, nil)
				c.SilenceErrors, c.SilenceUsage = true, true
				c.SetArgs([]string{"-f", file})
				err = c.ExecuteContext(context.Background())
			} else {
				o := &ApplyOptions{F: f, Yes: true}
				o.File, o.Output, o.Parallelism = file, "text", 4
				err = applyRun(context.Background(), o)
			}
			if err == nil || !strings.Contains(err.Error(), "set spec.workload.image") || !strings.Contains(err.Error(), "neko-defense/nekoctl:latest") {
				t.Fatalf("want the moving default image refused, got %v", err)
			}
			if n := requests.Load(); n != 0 || out.Len() != 0 {
				t.Errorf("%d request(s) sent and %q printed before the refusal", n, out.String())
			}
		})
	}
}
