// Package kubernetes is the provider for one region's Kubernetes cluster:
// desired objects from the embedded templates, diff by server-side dry-run
// apply under the field manager "nekoctl", server-side apply in dependency
// order, rollout waits with kstatus, and an ApplySet-style inventory that
// lets `up` prune and `down` delete only what this stack owns.
package kubernetes

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sync"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/disk"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"k8s.io/klog/v2"

	"github.com/neko-defense/nekoctl/pkg/event"
	"github.com/neko-defense/nekoctl/pkg/helmrelease"
	"github.com/neko-defense/nekoctl/pkg/plan"
	"github.com/neko-defense/nekoctl/pkg/provider"
	"github.com/neko-defense/nekoctl/pkg/spec"
	"github.com/neko-defense/nekoctl/pkg/version"
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
	// PollInterval is the longest pause between two looks of a wait
	// (default 2s); waits start at a fiftieth of it and back off.
	PollInterval time.Duration
	// ProgressInterval is how often a wait reports progress (default 10s).
	ProgressInterval time.Duration
	// DiscoveryCacheDir holds the API servers' discovery documents between
	// runs, as kubectl's cache does (default: the user's cache directory;
	// "-" keeps them in memory only).
	DiscoveryCacheDir string
	// MaxInFlight caps the requests one region sends at once (default 16).
	MaxInFlight int
	// RotateJWTKey makes a new JWT signing key current; the previous keys
	// verify for one token lifetime (`up --rotate-jwt-key`).
	RotateJWTKey bool
	// ChartTransport, when set, carries the monitoring chart's download (a
	// private CA or proxy for a mirror; tests trust their own server).
	ChartTransport *http.Transport
	// ReceiverSecrets are the alert receivers' secrets, read from the
	// environment (ReadReceiverSecrets); a receiver without one renders
	// its value as known only at apply time.
	ReceiverSecrets ReceiverSecrets
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
	// watches is dyn without the request timeout, which would cut a watch
	// (and make it start over) every 30 s; same connection.
	watches dynamic.Interface
	mapper  *groupMapper

	// snap is what the last Read learned, reused by Diff and Apply.
	snapMu sync.Mutex
	snap   *snapshot
	// connecting is the namespace read Connect started for the next Read.
	connecting *namespaceRead
	// inv is the inventory's state, written at most once per run.
	inv inventory
	// skipped are the monitoring objects the last Diff skipped.
	skipped skippedMonitoring

	// helm is the Helm SDK client of the monitoring namespace.
	helmOnce sync.Once
	helm     *helmrelease.Client
	helmErr  error

	// mutate, when set, changes desired documents (tests inject a
	// template that Pod Security must refuse).
	mutate func([]plan.Document)
}

var (
	_ provider.Provider  = (*Provider)(nil)
	_ provider.Connector = (*Provider)(nil)
)
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
	if opts.MaxInFlight == 0 {
		opts.MaxInFlight = 16
	}
	return &Provider{st: st, region: region, cfg: cfg, opts: opts}
}

func (p *Provider) Name() string   { return Name }
func (p *Provider) Region() string { return p.region }

// quietLibraries silences client-go's own logging (klog prints throttling
// notices). The provider reports through events and never prints.
var quietLibraries sync.Once

// Client-side rate limits: client-go's defaults (5/s, burst 10) throttle a
// region's plan of a few dozen objects for seconds. Together with
// Config.MaxInFlight (16 requests at once) this stays well inside what API
// Priority and Fairness grants the lowest default priority level of a
// default API server (global-default: about 49 of 600 seats).
const (
	clientQPS   = 50
	clientBurst = 100
)

// discoveryTTL is how long discovery read from disk is trusted, as kubectl
// does; a kind it does not know refreshes it at once.
const discoveryTTL = 6 * time.Hour

// clients builds the API clients on first use: one HTTP client (one
// HTTP/2 connection) for every request, and discovery cached on disk and
// refreshed when a kind is not found (CRDs installed meanwhile).
func (p *Provider) clients() error {
	quietLibraries.Do(func() {
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
		if cfg.UserAgent == "" { // names nekoctl in the API server's audit log
			cfg.UserAgent = "nekoctl/" + version.Version
		}
		// API server warnings become events: the provider never prints.
		cfg.WarningHandler = warningSink{p}
		hc, err := rest.HTTPClientFor(cfg)
		if err != nil {
			p.initErr = p.wrap(err)
			return
		}
		dc, err := p.discovery(cfg, hc)
		if err != nil {
			p.initErr = p.wrap(err)
			return
		}
		p.mapper = newGroupMapper(dc)
		if p.dyn, err = newDynamicClient(cfg, hc); err != nil {
			p.initErr = p.wrap(err)
			return
		}
		long, lcfg := *hc, rest.CopyConfig(cfg)
		long.Timeout, lcfg.Timeout = 0, 0
		if p.watches, err = newDynamicClient(lcfg, &long); err != nil {
			p.initErr = p.wrap(err)
		}
	})
	return p.initErr
}

// discovery is cached on disk like kubectl's (one directory per server), or
// in memory when there is no cache directory.
func (p *Provider) discovery(cfg *rest.Config, hc *http.Client) (discovery.CachedDiscoveryInterface, error) {
	dir := p.opts.DiscoveryCacheDir
	if dir == "" {
		if base, err := os.UserCacheDir(); err == nil {
			dir = filepath.Join(base, "nekoctl", "kube")
		}
	}
	if dir != "" && dir != "-" {
		host := unsafeFileChars.ReplaceAllString(cfg.Host, "_")
		dc, err := disk.NewCachedDiscoveryClientForConfig(cfg, filepath.Join(dir, "discovery", host), filepath.Join(dir, "http"), discoveryTTL)
		if err == nil {
			return dc, nil
		}
	}
	dc, err := discovery.NewDiscoveryClientForConfigAndClient(cfg, hc)
	if err != nil {
		return nil, err
	}
	return memory.NewMemCacheClient(dc), nil
}

var unsafeFileChars = regexp.MustCompile(`[^\w.-]`)

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
