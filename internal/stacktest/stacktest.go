// Package stacktest starts the guide's whole stack's outside world on this
// machine for tests: the Cloudflare and Atlas emulators and one real
// kube-apiserver per region, with a spec pointing at them and the
// environment nekoctl reads its credentials from.
package stacktest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	atlasemu "github.com/neko-defense/nekoctl/pkg/emulator/atlas"
	cfemu "github.com/neko-defense/nekoctl/pkg/emulator/cloudflare"
	"github.com/neko-defense/nekoctl/pkg/kubetest"
)

// Regions are the guide's regions, us-east primary.
var Regions = []string{"us-east", "eu-west", "asia-pacific"}

// Zone is the guide's Cloudflare zone.
const Zone = "nekodefense.example"

// GatewayAddress is the public address of a region's Gateway.
func GatewayAddress(region string) string {
	for i, r := range Regions {
		if r == region {
			return fmt.Sprintf("198.51.100.%d", 10+i)
		}
	}
	panic("no region " + region)
}

// World is the stack's outside world.
type World struct {
	Kube  *kubetest.Env
	CF    *cfemu.Server
	Atlas *atlasemu.Server
	// Spec is the path of examples/global.yaml pointed at this world.
	Spec string
	// Env holds the credentials and endpoints nekoctl reads.
	Env map[string]string
}

// New starts a world; everything stops when the test ends. It skips under
// -short: three kube-apiservers are built from source on the first run.
func New(t *testing.T) *World {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: this journey needs three kube-apiservers, built from source on the first run")
	}
	ctx := context.Background()
	kube, err := kubetest.Start(ctx, kubetest.Options{}, Regions...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(kube.Stop)
	for _, r := range Regions {
		if err := kube.CreateGateway(ctx, r, "gateway-system", "public-gateway", GatewayAddress(r)); err != nil {
			t.Fatal(err)
		}
		if err := kube.InstallPrometheusOperatorCRDs(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	w := &World{Kube: kube, CF: cfemu.New(t), Atlas: atlasemu.New(atlasemu.Options{})}
	t.Cleanup(w.Atlas.Close)
	w.CF.AddZone(Zone, cfemu.Pro)
	w.Spec = filepath.Join(t.TempDir(), "nekoctl.yaml")
	w.WriteSpec(t, nil)
	w.Env = map[string]string{
		"CLOUDFLARE_API_TOKEN": w.CF.Token(), "CLOUDFLARE_BASE_URL": w.CF.URL(),
		"MONGODB_ATLAS_PUBLIC_API_KEY": atlasemu.DefaultPublicKey, "MONGODB_ATLAS_PRIVATE_API_KEY": atlasemu.DefaultPrivateKey,
		"KUBECONFIG": kube.Kubeconfig,
	}
	return w
}

// WriteSpec (re)writes the spec: the guide's examples/global.yaml pointed
// at this world, then edit's replacements (old, new pairs) applied.
func (w *World) WriteSpec(t *testing.T, edit *strings.Replacer) {
	t.Helper()
	src, err := os.ReadFile(filepath.Join(RepoRoot(), "examples", "global.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	spec := strings.NewReplacer(
		"orgID: 5f0123456789abcdef012345", "orgID: "+atlasemu.DefaultOrgID+"\n    baseURL: "+w.Atlas.URL(),
		"accountID: 0123456789abcdef0123456789abcdef", "accountID: "+cfemu.DefaultAccount,
		"kubeContext: neko-", "kubeContext: ",
		// The test clusters get the operator's CRDs by hand: no chart to fetch.
		"  monitoring:\n    alerting:", "  monitoring:\n    install: false\n    alerting:",
		// A test binary has no release version: it deploys only a named image.
		"  workload:\n", "  workload:\n    image: neko-defense/nekoctl:1.0.0@sha256:"+strings.Repeat("ab", 32)+"\n",
	).Replace(string(src))
	if edit != nil {
		spec = edit.Replace(spec)
	}
	if err := os.WriteFile(w.Spec, []byte(spec), 0o600); err != nil {
		t.Fatal(err)
	}
}

// RepoRoot is the module's root directory: the nearest directory above the
// test's working directory (its package directory) that holds go.mod. It
// does not rely on source file paths, which -trimpath builds rewrite.
func RepoRoot() string {
	dir, err := os.Getwd()
	if err != nil {
		panic(err)
	}
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d
		}
		if filepath.Dir(d) == d {
			panic("no go.mod above " + dir)
		}
	}
}
