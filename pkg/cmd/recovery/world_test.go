package recovery

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/neko-defense/nekoctl/pkg/cmd/apply"
	"github.com/neko-defense/nekoctl/pkg/cmd/factory"
	"github.com/neko-defense/nekoctl/pkg/cmdutil"
	atlasemu "github.com/neko-defense/nekoctl/pkg/emulator/atlas"
	cfemu "github.com/neko-defense/nekoctl/pkg/emulator/cloudflare"
	"github.com/neko-defense/nekoctl/pkg/iostreams"
	"github.com/neko-defense/nekoctl/pkg/kubetest"
	"github.com/neko-defense/nekoctl/pkg/providers/atlas"
	"github.com/neko-defense/nekoctl/pkg/providers/kubernetes"
)

var regions = []string{"us-east", "eu-west", "asia-pacific"}

// world is the guide's stack, brought up once: the two service emulators
// and one real kube-apiserver per region.
type world struct {
	kube  *kubetest.Env
	cf    *cfemu.Server
	atlas *atlasemu.Server
	spec  string
	env   map[string]string
}

func newWorld(t *testing.T) *world {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: the recovery journey needs three kube-apiservers, built from source on the first run")
	}
	ctx := context.Background()
	kube, err := kubetest.Start(ctx, kubetest.Options{}, regions...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(kube.Stop)
	for i, r := range regions {
		if err := kube.CreateGateway(ctx, r, "gateway-system", "public-gateway", fmt.Sprintf("198.51.100.%d", 10+i)); err != nil {
			t.Fatal(err)
		}
		if err := kube.InstallPrometheusOperatorCRDs(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	for _, r := range regions {
		// The API's pods exist and are replaced when deleted, as a ReplicaSet's are.
		kube.Controller().SetRollout(r, "Deployment", "neko-defense", kubernetes.AppName,
			kubetest.Rollout{Pods: true, PodReadyAfter: 300 * time.Millisecond})
	}
	w := &world{kube: kube, cf: cfemu.New(t), atlas: atlasemu.New(atlasemu.Options{})}
	t.Cleanup(w.atlas.Close)
	w.cf.AddZone("nekodefense.example", cfemu.Pro)
	src, err := os.ReadFile("../../../examples/global.yaml")
	if err != nil {
		t.Fatal(err)
	}
	spec := strings.NewReplacer(
		"orgID: 5f0123456789abcdef012345", "orgID: "+atlasemu.DefaultOrgID+"\n    baseURL: "+w.atlas.URL(),
		"accountID: 0123456789abcdef0123456789abcdef", "accountID: "+cfemu.DefaultAccount,
		"kubeContext: neko-", "kubeContext: ",
		"  workload:\n", "  workload:\n    image: neko-defense/nekoctl:1.0.0@sha256:"+strings.Repeat("ab", 32)+"\n",
	).Replace(string(src))
	w.spec = filepath.Join(t.TempDir(), "nekoctl.yaml")
	if err := os.WriteFile(w.spec, []byte(spec), 0o600); err != nil {
		t.Fatal(err)
	}
	w.env = map[string]string{
		"CLOUDFLARE_API_TOKEN": w.cf.Token(), "CLOUDFLARE_BASE_URL": w.cf.URL(),
		"MONGODB_ATLAS_PUBLIC_API_KEY": atlasemu.DefaultPublicKey, "MONGODB_ATLAS_PRIVATE_API_KEY": atlasemu.DefaultPrivateKey,
		"KUBECONFIG": kube.Kubeconfig,
	}
	return w
}

// factory wires the CLI to this world, with short polls, and captures its output.
func (w *world) factory() (f *cmdutil.Factory, out, errOut *bytes.Buffer) {
	f = factory.New()
	ios, _, out, errOut := iostreams.Test()
	f.IOStreams = ios
	f.Getenv = func(k string) string { return w.env[k] }
	f.Providers = factory.ProvidersWith(f, factory.Tuning{
		Atlas:      atlas.Config{PollInterval: 20 * time.Millisecond, Timeout: time.Minute},
		Kubernetes: kubernetes.Config{PollInterval: 50 * time.Millisecond, RolloutTimeout: time.Minute, AddressTimeout: time.Minute},
	})
	return f, out, errOut
}

// cli runs one command line against this world; stdout and stderr are
// returned apart, so that -o json can be decoded.
func (w *world) cli(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	f, out, errOut := w.factory()
	root := &cobra.Command{Use: "nekoctl", SilenceErrors: true, SilenceUsage: true}
	root.AddCommand(apply.NewCmdUp(f, nil), NewCmdFailover(f, nil), NewCmdDrill(f, nil), NewCmdRestore(f, nil))
	root.SetArgs(append(args, "-f", w.spec))
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	err = root.ExecuteContext(ctx)
	return out.String(), errOut.String(), err
}

func (w *world) up(t *testing.T) {
	t.Helper()
	out, errOut, err := w.cli(t, "up", "--yes")
	if err != nil {
		t.Fatalf("up: %v\n%s%s", err, out, errOut)
	}
}

func (w *world) projectID(t *testing.T) string {
	t.Helper()
	gid, ok := w.atlas.ProjectID("neko-defense")
	if !ok {
		t.Fatal("no Atlas project")
	}
	return gid
}
