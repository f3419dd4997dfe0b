package factory

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/neko-defense/nekoctl/internal/idcache"
	"github.com/neko-defense/nekoctl/pkg/cmdutil"
	"github.com/neko-defense/nekoctl/pkg/event"
	"github.com/neko-defense/nekoctl/pkg/plan"
	"github.com/neko-defense/nekoctl/pkg/provider"
	"github.com/neko-defense/nekoctl/pkg/providers/atlas"
	"github.com/neko-defense/nekoctl/pkg/providers/cloudflare"
	"github.com/neko-defense/nekoctl/pkg/providers/kubernetes"
	"github.com/neko-defense/nekoctl/pkg/spec"

	"k8s.io/client-go/rest"
)

// httpTimeout bounds one API request; long operations poll instead.
const httpTimeout = 60 * time.Second

// Tuning overrides provider settings (poll intervals, timeouts); the CLI
// uses the zero value, tests shorten the waits. Now and Events are always
// the factory's and the run's.
type Tuning struct {
	Cloudflare cloudflare.Config
	Atlas      atlas.Config
	Kubernetes kubernetes.Config
}

// ProvidersWith builds Cloudflare, Atlas and one Kubernetes provider per
// region. Missing credentials fail the command before anything remote is
// touched; a region whose kubeconfig context cannot be loaded fails only
// that region.
func ProvidersWith(f *cmdutil.Factory, t Tuning) cmdutil.ProvidersFunc {
	return func(ctx context.Context, st *spec.Stack, opts provider.Options, events event.Sink) ([]provider.Provider, error) {
		hc := &http.Client{Timeout: httpTimeout, Transport: apiTransport()}
		var cfClient *cloudflare.Client
		var errs []error
		if !opts.Offline {
			var err error
			if cfClient, err = cloudflare.NewClient(f.Getenv, hc, cloudflare.NewLimiter()); err != nil {
				errs = append(errs, err)
			}
		}
		t.Cloudflare.Now, t.Cloudflare.Events = f.Now, events
		t.Cloudflare.CacheDir, t.Cloudflare.Endpoint = idcache.Dir(t.Cloudflare.CacheDir, "cloudflare"), cloudflare.Endpoint(f.Getenv)
		t.Atlas.Now, t.Atlas.Events = f.Now, events
		t.Kubernetes.Now, t.Kubernetes.Events = f.Now, events
		t.Kubernetes.RotateJWTKey = opts.RotateJWTKey
		// Read now, needed only where a plan renders the receivers' Secret
		// (a missing one fails that plan, not status or an offline plan).
		t.Kubernetes.ReceiverSecrets = kubernetes.ReadReceiverSecrets(st, f.Getenv)
		atl, err := atlas.Build(ctx, st, opts, f.Getenv, hc, t.Atlas)
		if err != nil {
			errs = append(errs, err)
		}
		if len(errs) > 0 {
			return nil, errors.Join(errs...)
		}
		// Order matters while planning: see engine.Plan.
		out := []provider.Provider{atl, cloudflare.New(st, cfClient, t.Cloudflare)}
		var kubeconfig *kubernetes.Kubeconfig
		if !opts.Offline {
			kubeconfig = kubernetes.LoadKubeconfig(f.Getenv("KUBECONFIG"))
		}
		for _, r := range st.Spec.Regions {
			var cfg *rest.Config
			if !opts.Offline {
				c, err := kubeconfig.RESTConfig(r.KubeContext)
				if err != nil {
					out = append(out, unavailable{name: "kubernetes", region: r.Name,
						err: fmt.Errorf("kubeconfig context %q: %w", r.KubeContext, err)})
					continue
				}
				cfg = c
			}
			out = append(out, kubernetes.New(st, r.Name, cfg, t.Kubernetes))
		}
		return out, nil
	}
}

// apiTransport carries the Cloudflare and Atlas requests of one run. It keeps
// an idle connection for every request a provider has in flight (Go's
// default keeps two per host), so that a round of reads after the first
// does not connect again to an endpoint that speaks HTTP/1.1.
func apiTransport() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = 32
	return t
}

// cloudflareZone reads a stack's zone with a client of its own.
func cloudflareZone(f *cmdutil.Factory) func(context.Context, *spec.Stack) (cloudflare.ZoneInfo, error) {
	return func(ctx context.Context, st *spec.Stack) (cloudflare.ZoneInfo, error) {
		c, err := cloudflare.NewClient(f.Getenv, &http.Client{Timeout: httpTimeout}, cloudflare.NewLimiter())
		if err != nil {
			return cloudflare.ZoneInfo{}, err
		}
		return cloudflare.New(st, c, cloudflare.Config{Now: f.Now}).Zone(ctx)
	}
}

// monitoringCRDs reads a region's discovery with a client of its own.
func monitoringCRDs(f *cmdutil.Factory) func(context.Context, *spec.Stack, string) (kubernetes.MissingCRDs, error) {
	return func(ctx context.Context, st *spec.Stack, region string) (kubernetes.MissingCRDs, error) {
		r := st.Spec.Region(region)
		if r == nil {
			return kubernetes.MissingCRDs{}, fmt.Errorf("no region %s", region)
		}
		cfg, err := kubernetes.LoadKubeconfig(f.Getenv("KUBECONFIG")).RESTConfig(r.KubeContext)
		if err != nil {
			return kubernetes.MissingCRDs{}, fmt.Errorf("region %s: kubeconfig context %q: %w", region, r.KubeContext, err)
		}
		// Discovery from the server itself: a cached document would still
		// list CRDs removed since.
		return kubernetes.New(st, region, cfg, kubernetes.Config{Now: f.Now, DiscoveryCacheDir: "-"}).MonitoringCRDs(ctx)
	}
}

func renderManifests(st *spec.Stack, region string) ([]byte, error) {
	return kubernetes.Render(st, region, provider.NewOutputs())
}

// unavailable stands in for a provider that could not be built, so that the
// engine reports it as that provider's failure while the others plan.
type unavailable struct {
	name, region string
	err          error
}

func (u unavailable) Name() string   { return u.name }
func (u unavailable) Region() string { return u.region }
func (u unavailable) Desired(context.Context, provider.Outputs) ([]provider.Resource, error) {
	return nil, u.err
}
func (u unavailable) Read(context.Context, provider.Outputs) ([]provider.Resource, error) {
	return nil, u.err
}
func (u unavailable) Diff(context.Context, []provider.Resource, []provider.Resource, provider.Options) ([]plan.Change, error) {
	return nil, u.err
}
func (u unavailable) Apply(context.Context, plan.Change, provider.Outputs) error { return u.err }
func (u unavailable) Delete(context.Context, plan.Change) error                  { return u.err }

// Status reports why the provider could not be built, so that `status`
// shows the region as unreachable.
func (u unavailable) Status(context.Context) ([]provider.Health, error) { return nil, u.err }
