// Package factory assembles the real outside world for the CLI: IO streams,
// clock, environment, and the provider clients built lazily from them.
package factory

import (
	"os"
	"os/signal"
	"syscall"
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
//   - MonitoringCRDs: Getenv (KUBECONFIG) and the region's kubeconfig context;
//   - Signals: the process's SIGINT and SIGTERM;
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
	f.MonitoringCRDs = monitoringCRDs(f)
	f.RenderManifests = renderManifests
	f.Signals = processSignals
	return f
}

// processSignals delivers SIGINT and SIGTERM instead of letting them end the
// process, until stop.
func processSignals() (<-chan os.Signal, func()) {
	c := make(chan os.Signal, 2)
	signal.Notify(c, os.Interrupt, syscall.SIGTERM)
	return c, func() { signal.Stop(c) }
}
