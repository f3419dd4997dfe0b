// Package factory assembles the real outside world for the CLI: IO streams,
// clock, environment, and the provider clients built lazily from them.
package factory

import (
	"os"
	"time"

	"github.com/neko-defense/nekoctl/pkg/cmdutil"
	"github.com/neko-defense/nekoctl/pkg/iostreams"
)

// New returns the production factory. What each piece depends on:
//   - IOStreams: the process's stdin/stdout/stderr and whether they are terminals;
//   - Now: the system clock;
//   - Getenv: the process environment (credentials, endpoints, KUBECONFIG);
//   - Providers: Getenv for Cloudflare and Atlas credentials, kubeconfig
//     contexts for Kubernetes; clients are built only when a command plans;
//   - Locker: Getenv (KUBECONFIG, user and CI job variables) and the primary
//     region's kubeconfig context;
//   - CloudflareZone: Getenv for the Cloudflare token and endpoint;
//   - RenderManifests: the embedded templates only.
func New() *cmdutil.Factory {
	f := &cmdutil.Factory{
		IOStreams: iostreams.System(),
		Now:       time.Now,
		Getenv:    os.Getenv,
	}
	f.Providers = ProvidersWith(f, Tuning{})
	f.Locker = leaseLocker(f)
	f.CloudflareZone = cloudflareZone(f)
	f.RenderManifests = renderManifests
	return f
}
