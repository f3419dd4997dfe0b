package stacktest

import (
	"bytes"
	"time"

	"github.com/neko-defense/nekoctl/pkg/cmd/factory"
	"github.com/neko-defense/nekoctl/pkg/cmdutil"
	"github.com/neko-defense/nekoctl/pkg/iostreams"
	"github.com/neko-defense/nekoctl/pkg/providers/atlas"
	"github.com/neko-defense/nekoctl/pkg/providers/kubernetes"
)

// Factory wires the CLI to this world for a command run in the test's
// process, with short polls, and captures its output. Discovery stays in
// memory: a test's API servers listen on ports another run used before,
// whose documents a shared cache directory would still hold.
func (w *World) Factory() (f *cmdutil.Factory, out, errOut *bytes.Buffer) {
	f = factory.New()
	ios, _, out, errOut := iostreams.Test()
	f.IOStreams = ios
	f.Getenv = func(k string) string { return w.Env[k] }
	f.Providers = factory.ProvidersWith(f, factory.Tuning{
		Atlas: atlas.Config{PollInterval: 20 * time.Millisecond, Timeout: time.Minute},
		Kubernetes: kubernetes.Config{PollInterval: 50 * time.Millisecond, RolloutTimeout: time.Minute, AddressTimeout: time.Minute,
			DiscoveryCacheDir: "-"},
	})
	return f, out, errOut
}
