// Package kubernetes is the provider for one region's Kubernetes cluster:
// desired objects from the embedded templates, diff by server-side dry-run
// apply under the field manager "nekoctl", server-side apply in dependency
// order, rollout waits with kstatus, and an ApplySet-style inventory that
// lets `up` prune and `down` delete only what this stack owns.
package kubernetes

import (
	"github.com/go-logr/logr"
	"k8s.io/klog/v2"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	"fmt"
	"sync"
	"time"

	"github.com/fluxcd/pkg/ssa"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/neko-defense/nekoctl/pkg/event"
	"github.com/neko-defense/nekoctl/pkg/plan"
	"github.com/neko-defense/nekoctl/pkg/provider"
	"github.com/neko-defense/nekoctl/pkg/spec"
)

// Name is the plan address provider of every Kubernetes resource.
const Name = "kubernetes"

// Config tunes a region's provider. The zero value is usable.
type Config struct {
	// Events receives progress (rollout waits); nil discards.
	Events event.Sink
	// Now is the clock for events; nil means time.Now.
	Now func() time.Time
	// RolloutTimeout bounds the wait for one Deployment or StatefulSet
	// (default 10m).
	RolloutTimeout time.Duration
	// AddressTimeout bounds the wait for the Gateway or Ingress to report
	// the region's public address (default 5m).
	AddressTimeout time.Duration
	// PollInterval is how often waits look at the cluster (default 2s).
	PollInterval time.Duration
	// ProgressInterval is how often a wait reports progress (default 10s).
	ProgressInterval time.Duration
}

// Provider manages one region's objects.
type Provider struct {
	st     *spec.Stack
	region string
	cfg    *rest.Config
	opts   Config

	once    sync.Once
	initErr error
	dyn     dynamic.Interface
	mapper  meta.RESTMapper
	manager *ssa.ResourceManager
	kube    client.Client
	// invMu serialises inventory updates: the engine may apply several
	// changes of a region at once.
	invMu sync.Mutex

	// mutate, when set, changes desired documents (tests inject a
	// template that Pod Security must refuse).
	mutate func([]plan.Document)
}

var _ provider.Provider = (*Provider)(nil)
var _ provider.Statuser = (*Provider)(nil)

// New returns the provider of one region. cfg may be nil for offline
// planning: Desired works without a cluster, every other call fails.
func New(st *spec.Stack, region string, cfg *rest.Config, opts Config) *Provider {
	if opts.Events == nil {
		opts.Events = event.Discard
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.RolloutTimeout == 0 {
		opts.RolloutTimeout = 10 * time.Minute
	}
	if opts.AddressTimeout == 0 {
		opts.AddressTimeout = 5 * time.Minute
	}
	if opts.PollInterval == 0 {
		opts.PollInterval = 2 * time.Second
	}
	if opts.ProgressInterval == 0 {
		opts.ProgressInterval = 10 * time.Second
	}
	return &Provider{st: st, region: region, cfg: cfg, opts: opts}
}

func (p *Provider) Name() string   { return Name }
func (p *Provider) Region() string { return p.region }

// quietLibraries silences the client libraries' own logging: without a
// logger controller-runtime (used by the server-side apply manager) prints a
// stack trace after 30 seconds, and client-go's klog prints throttling
// notices. The provider reports through events and never prints.
var quietLibraries sync.Once

// Client-side rate limits: client-go's defaults (5/s, burst 10) throttle a
// region's plan of a few dozen objects for seconds.
const (
	clientQPS   = 50
	clientBurst = 100
)

// clients builds the API clients on first use. Discovery is cached for the
// provider's lifetime and reset when a kind is not found (CRDs installed
// meanwhile).
func (p *Provider) clients() error {
	quietLibraries.Do(func() {
		ctrllog.SetLogger(logr.Discard())
		klog.SetLogger(logr.Discard())
	})
	p.once.Do(func() {
		if p.cfg == nil {
			p.initErr = fmt.Errorf("region %s: no cluster configured (offline)", p.region)
			return
		}
		cfg := rest.CopyConfig(p.cfg)
		if cfg.Timeout == 0 {
			cfg.Timeout = 30 * time.Second
		}
		if cfg.QPS == 0 {
			cfg.QPS, cfg.Burst = clientQPS, clientBurst
		}
		// API server warnings become events: the provider never prints.
		cfg.WarningHandler = warningSink{p}
		dc, err := discovery.NewDiscoveryClientForConfig(cfg)
		if err != nil {
			p.initErr = p.wrap(err)
			return
		}
		p.mapper = restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(dc))
		if p.dyn, err = dynamic.NewForConfig(cfg); err != nil {
			p.initErr = p.wrap(err)
			return
		}
		if p.kube, err = client.New(cfg, client.Options{Mapper: p.mapper}); err != nil {
			p.initErr = p.wrap(err)
			return
		}
		p.manager = ssa.NewResourceManager(p.kube, nil, ssa.Owner{Field: FieldManager, Group: "nekoctl.dev"})
	})
	return p.initErr
}

func (p *Provider) wrap(err error) error {
	return fmt.Errorf("region %s (context %s): %w", p.region, p.context(), err)
}

func (p *Provider) context() string {
	if r := p.st.Spec.Region(p.region); r != nil {
		return r.KubeContext
	}
	return ""
}

func (p *Provider) emit(typ event.Type, addr plan.Address, action plan.Action, msg string, started time.Time) {
	e := event.Event{Time: p.opts.Now(), Type: typ, Address: addr, Action: action, Message: msg}
	if !started.IsZero() {
		e.Elapsed = p.opts.Now().Sub(started)
	}
	p.opts.Events(e)
}

// warningSink turns API server warnings into events.
type warningSink struct{ p *Provider }

func (w warningSink) HandleWarningHeader(_ int, _ string, text string) {
	w.p.emit(event.Warning, plan.Address{Provider: Name, Scope: "region/" + w.p.region, Region: w.p.region},
		"", "API server warning: "+text, zeroTime)
}
