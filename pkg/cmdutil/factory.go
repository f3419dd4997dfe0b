// Package cmdutil holds what every command shares: the factory that wires
// the outside world, typed flag errors and the exit-code mapping.
package cmdutil

import (
	"context"
	"os"

	"github.com/neko-defense/nekoctl/pkg/event"
	"github.com/neko-defense/nekoctl/pkg/provider"
	"github.com/neko-defense/nekoctl/pkg/providers/cloudflare"
	"github.com/neko-defense/nekoctl/pkg/providers/kubernetes"
	"github.com/neko-defense/nekoctl/pkg/spec"
	"time"

	"github.com/neko-defense/nekoctl/pkg/iostreams"
)

// Factory wires the outside world. Commands never construct clients
// themselves; tests replace any field.
type Factory struct {
	IOStreams *iostreams.IOStreams
	// Now is the clock (certificate renewal, waits, events).
	Now func() time.Time
	// Getenv reads credentials and endpoints (CLOUDFLARE_API_TOKEN, ...).
	Getenv func(string) string
	// Providers builds the providers of a validated stack; see factory.Providers.
	Providers ProvidersFunc
	// Locker returns a stack's lock (a Lease in the primary region's cluster).
	Locker LockerFunc
	// CloudflareZone reads a stack's Cloudflare zone (`validate --online`).
	CloudflareZone func(ctx context.Context, st *spec.Stack) (cloudflare.ZoneInfo, error)
	// MonitoringCRDs reads what a region's cluster lacks of the Prometheus
	// Operator's CRDs for the stack's monitoring objects (`validate --online`).
	MonitoringCRDs func(ctx context.Context, st *spec.Stack, region string) (kubernetes.MissingCRDs, error)
	// Signals delivers SIGINT and SIGTERM until its stop function is called
	// (see Interrupts); nil watches no signal.
	Signals func() (signals <-chan os.Signal, stop func())
	// RenderManifests renders one region's Kubernetes objects as YAML.
	RenderManifests func(st *spec.Stack, region string) ([]byte, error)
}

// ProvidersFunc builds one provider per remote system (Kubernetes: one per
// region) for a validated stack. With opts.Offline the providers get no
// clients and may only compute desired state.
// Providers report progress of long operations to events.
type ProvidersFunc func(ctx context.Context, st *spec.Stack, opts provider.Options, events event.Sink) ([]provider.Provider, error)
