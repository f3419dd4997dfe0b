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
	"github.com/neko-defense/nekoctl/pkg/iostreams"
	"github.com/neko-defense/nekoctl/pkg/version"
)

// up from a source build refuses to deploy the moving default image, with
// credentials in place and before any request is sent.
func TestUpRefusesTheMovingDefaultImageBeforeContactingAnything(t *testing.T) {
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
	f := factory.New()
	ios, _, out, _ := iostreams.Test()
	f.IOStreams = ios
	f.Getenv = func(k string) string { return env[k] }
	o := &ApplyOptions{F: f, Yes: true}
	o.File, o.Output, o.Parallelism = "../../../examples/global.yaml", "text", 4
	err := applyRun(context.Background(), o)
	if err == nil || !strings.Contains(err.Error(), "set spec.workload.image") {
		t.Fatalf("want the moving default image refused, got %v", err)
	}
	if n := requests.Load(); n != 0 || out.Len() != 0 {
		t.Errorf("%d request(s) sent and %q printed before the refusal", n, out.String())
	}
}
