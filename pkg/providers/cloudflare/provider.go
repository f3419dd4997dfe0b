// Package cloudflare is nekoctl's Cloudflare provider: DNS records, zone
// settings, cache/WAF/rate-limiting rules, the health monitor, one origin
// pool per region, the geo-steered load balancer and the Origin CA
// certificate of one stack.
//
// Ownership: every object it creates carries the stack's marker (DNS
// comment, monitor/pool/load balancer description, rule ref prefix), and
// only marked objects are read, changed or deleted. Zone settings carry no
// metadata; they are compared with the spec and never reset by `down`.
package cloudflare

import (
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/neko-defense/nekoctl/pkg/event"
	"github.com/neko-defense/nekoctl/pkg/plan"
	"github.com/neko-defense/nekoctl/pkg/provider"
	"github.com/neko-defense/nekoctl/pkg/spec"
)

// Name is the plan address provider.
const Name = "cloudflare"

// Resource kinds.
const (
	KindDNSRecord   = "dns_record"
	KindZoneSetting = "zone_setting"
	KindRule        = "ruleset_rule"
	KindMonitor     = "monitor"
	KindPool        = "pool"
	KindLB          = "load_balancer"
	KindOriginCert  = "origin_certificate"
)

// monitorName is the address name of the stack's one health monitor.
const monitorName = "health"

// Config holds the provider's outside world.
type Config struct {
	// Now is the clock used for certificate renewal (default time.Now).
	Now func() time.Time
	// Events receives progress reports (default: discarded).
	Events event.Sink
	// Parallelism caps this provider's API calls in flight (default 32:
	// a plan's reads, 21 with every zone setting owned, go out in one
	// round, well inside the shared token bucket's burst of 60 and the 200
	// requests per second Cloudflare allows an address).
	Parallelism int
	// CacheDir is where the zone's id is remembered between runs (see
	// zonecache.go); "" remembers nothing. Endpoint is the API's base URL,
	// part of what names a remembered id.
	CacheDir, Endpoint string
}

// Provider implements provider.Provider for one stack's Cloudflare zone.
type Provider struct {
	st  *spec.Stack
	cf  *spec.Cloudflare
	api api
	cfg Config

	mu    sync.Mutex
	state liveState
	// dupsMu guards liveState.dups while Read's steps fill it.
	dupsMu sync.Mutex
	zone   zoneFacts
	// phaseMu serialises read-merge-write of each ruleset phase.
	phaseMu map[string]*sync.Mutex
	// inKey/inCert are the origin key and certificate handed in through the
	// outputs store (read back from the TLS Secret), if any.
	inKey, inCert string
}

// liveState is what Read learned that Diff and Apply need: ids and facts
// that are not part of any document.
type liveState struct {
	read      bool
	zoneID    string
	plan      string
	monitorID string
	poolIDs   map[string]string // region -> pool id
	editable  map[string]bool   // zone setting -> editable
	// certs are the Origin CA certificates for the stack's hostnames; cert
	// is the one the stack keeps (see chooseCert).
	certs    []liveCert
	cert     *liveCert
	certKeep int
	// certIssue is why a new certificate must be issued over the kept one.
	certIssue string
	// dups gives the reason for every extra copy of an owned object that
	// runs which overlapped created (address "name#id"); Read's steps add
	// to it at once, through addDup.
	dups map[plan.Address]string
	// adoptExtra lists the records made by hand that share the name of an
	// adopted record and go with its adoption; shadowed are the records
	// made by hand at the load-balanced hostname (see unownedRecords).
	adoptExtra map[plan.Address][]obj
	shadowed   []obj
	// foreign counts what others own, for plan-tier limits.
	foreignRules map[string]int
	foreignPools int
}

type liveCert struct {
	id        string
	pem       string
	expiresOn time.Time
	doc       plan.Document
}

// New builds the provider for a defaulted, validated stack. client may be
// nil: Desired then works offline and every other call fails.
func New(st *spec.Stack, client *Client, cfg Config) *Provider {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Events == nil {
		cfg.Events = event.Discard
	}
	if cfg.Parallelism < 1 {
		cfg.Parallelism = 32
	}
	p := &Provider{st: st, cf: &st.Spec.Cloudflare, cfg: cfg, phaseMu: map[string]*sync.Mutex{}}
	if client != nil {
		p.api = restAPI{c: client, sem: make(chan struct{}, cfg.Parallelism), notify: func(msg string) {
			p.cfg.Events(event.Event{Time: p.cfg.Now(), Type: event.Progress, Message: "cloudflare: " + msg})
		}}
	}
	for _, ph := range phases {
		p.phaseMu[ph] = &sync.Mutex{}
	}
	return p
}

var (
	_ provider.Provider = (*Provider)(nil)
	_ provider.Statuser = (*Provider)(nil)
)

// Name implements provider.Provider.
func (p *Provider) Name() string { return Name }

// Region implements provider.Provider: the provider is global.
func (p *Provider) Region() string { return "" }

func (p *Provider) online() error {
	if p.api == nil {
		return fmt.Errorf("no client (offline); set %s", EnvAPIToken)
	}
	return nil
}

// Marker is the ownership marker of a stack: the DNS record comment and the
// monitor, pool and load balancer description.
func Marker(stack string) string { return "managed by nekoctl; stack=" + stack }

// RefPrefix starts the ref of every ruleset rule the stack owns. Stack names
// have no underscore, so one stack's prefix never matches another's.
func RefPrefix(stack string) string { return "nekoctl_" + stack + "_" }

// PoolName is the name of a region's origin pool (letters, digits, - and _).
func PoolName(stack, region string) string { return "nekoctl_" + stack + "_" + region }

func (p *Provider) addDup(st *liveState, a plan.Address, reason string) {
	p.dupsMu.Lock()
	defer p.dupsMu.Unlock()
	st.dups[a] = reason
}

func (p *Provider) marker() string    { return Marker(p.st.Metadata.Name) }
func (p *Provider) refPrefix() string { return RefPrefix(p.st.Metadata.Name) }

func (p *Provider) zoneAddr(kind, name string) plan.Address {
	return plan.Address{Provider: Name, Scope: "zone/" + p.cf.Zone, Kind: kind, Name: name}
}

func (p *Provider) accountAddr(kind, name string) plan.Address {
	return plan.Address{Provider: Name, Scope: "account/" + p.cf.AccountID, Kind: kind, Name: name}
}

// lbHost is the load-balanced hostname; the others are CNAMEs to it.
func (p *Provider) lbHost() string {
	f := p.st.Spec.FQDNs()
	if len(f) == 0 {
		return p.cf.Zone
	}
	return f[0]
}

func (p *Provider) lbEnabled() bool { return spec.On(p.cf.LoadBalancer.Enabled) }

// effectivePlan is the live plan tier when read, else the spec's.
func (p *Provider) effectivePlan() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.state.plan != "" {
		return p.state.plan
	}
	return strings.ToLower(p.cf.Plan)
}

func (p *Provider) emit(t event.Type, addr plan.Address, msg string) {
	p.cfg.Events(event.Event{Time: p.cfg.Now(), Type: t, Address: addr, Message: msg})
}
