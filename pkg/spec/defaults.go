package spec

import (
	"strings"
	"time"

	"github.com/neko-defense/nekoctl/pkg/version"
)

// Defaults the deployment guide fixes. Exported so templates, providers and
// the README's spec reference share one source.
const (
	DefaultNamespace     = "neko-defense"
	DefaultPlan          = "pro"
	DefaultClusterTier   = "M10"
	DefaultMongoVersion  = "8.0"
	DefaultDatabase      = "neko_defense"
	DefaultDBUser        = "neko-api"
	DefaultAtlasBaseURL  = "https://cloud.mongodb.com"
	DefaultRedisImage    = "redis:7.4-alpine"
	DefaultMinReplicas   = 3
	DefaultMaxReplicas   = 10
	DefaultCPUTarget     = 70
	DefaultMemoryTarget  = 80
	DefaultPITRWindow    = 7
	DefaultGatewayName   = "public-gateway"
	DefaultGatewayNS     = "gateway-system"
	DefaultIngressClass  = "nginx"
	DefaultIngressCtrlNS = "ingress-nginx"
	// The listeners of a Gateway nekoctl creates.
	OwnedGatewayHTTPSListener = "https"
	OwnedGatewayHTTPListener  = "http"
)

// ApplyDefaults fills every field the user left out. It is idempotent and
// runs before validation, so validation sees the effective stack.
func (st *Stack) ApplyDefaults() {
	s := &st.Spec
	if s.Hostnames == nil {
		s.Hostnames = []string{"api", "www.api"}
	}
	s.Cloudflare.applyDefaults(s)
	s.Atlas.applyDefaults()
	for i := range s.Regions {
		s.Regions[i].applyDefaults(i)
	}
	s.Workload.applyDefaults()
	s.Monitoring.Alerting.applyDefaults()
	s.Monitoring.applyDefaults()
	s.Rollout.applyDefaults(s)
}

func (c *Cloudflare) applyDefaults(s *Spec) {
	setStr(&c.Zone, s.Domain)
	setStr(&c.Plan, DefaultPlan)
	setStr(&c.SSL.Mode, "strict")
	setStr(&c.SSL.MinTLSVersion, "1.2")
	setBool(&c.SSL.AlwaysUseHTTPS, true)
	setBool(&c.SSL.AutomaticHTTPSRewrites, true)
	setBool(&c.SSL.AuthenticatedOriginPulls, true)
	setStr(&c.Caching.Level, "standard")
	setDur(&c.Caching.BrowserTTL, 4*time.Hour)
	setBool(&c.Caching.AlwaysOnline, true)
	setBool(&c.Speed.RocketLoader, false)
	setBool(&c.Speed.EarlyHints, true)
	if c.CacheRules == nil {
		c.CacheRules = []CacheRule{
			{Name: "graphql-bypass", Path: "/graphql*", Cache: false},
			{Name: "static-assets", Path: "/static/*", Cache: true, EdgeTTL: Dur(30 * 24 * time.Hour)},
		}
	}
	if c.WAF.ManagedRulesets == nil {
		c.WAF.ManagedRulesets = []string{"cloudflare-managed", "owasp"}
	}
	if c.RateLimits == nil {
		c.RateLimits = []RateLimit{{Name: "graphql", Path: "/graphql", Requests: 100,
			Period: Duration{time.Minute}, MitigationTimeout: Duration{10 * time.Minute}}}
	}
	for i := range c.RateLimits {
		setStr(&c.RateLimits[i].Action, "block")
	}
	lb := &c.LoadBalancer
	setBool(&lb.Enabled, true)
	setStr(&lb.Steering, "geo")
	setStr(&lb.SessionAffinity, "none")
	if p := s.PrimaryRegion(); p != nil {
		setStr(&lb.FallbackRegion, p.Name)
	}
	setStr(&lb.Monitor.Path, "/health")
	setDur(&lb.Monitor.Interval, 60*time.Second)
	setDur(&lb.Monitor.Timeout, 5*time.Second)
	if lb.Monitor.Retries == nil {
		lb.Monitor.Retries = Int(2)
	}
	setStr(&lb.Monitor.ExpectedCodes, "200")
	if lb.Monitor.Port == 0 {
		lb.Monitor.Port = 443
	}
	setBool(&c.OriginCert.Enabled, true)
	setStr(&c.OriginCert.Type, "origin-ecc")
	if c.OriginCert.ValidityDays == 0 {
		c.OriginCert.ValidityDays = 5475
	}
	setDur(&c.OriginCert.RenewBefore, 30*24*time.Hour)
}

func (a *Atlas) applyDefaults() {
	setStr(&a.BaseURL, DefaultAtlasBaseURL)
	setStr(&a.Cluster.Tier, DefaultClusterTier)
	setStr(&a.Cluster.MongoVersion, DefaultMongoVersion)
	setBool(&a.Cluster.TerminationProtection, true)
	setBool(&a.Cluster.Protected, true)
	setBool(&a.Backup.Enabled, true)
	if a.Backup.PITRWindowDays == nil {
		a.Backup.PITRWindowDays = Int(DefaultPITRWindow)
	}
	setStr(&a.Database, DefaultDatabase)
	setStr(&a.User, DefaultDBUser)
}

func (r *Region) applyDefaults(int) {
	setStr(&r.Atlas.Provider, strings.ToUpper(r.Cloud.Provider))
	if r.Atlas.ElectableNodes == nil {
		r.Atlas.ElectableNodes = Int(1)
	}
	setInt(&r.Replicas.Min, DefaultMinReplicas)
	setInt(&r.Replicas.Max, DefaultMaxReplicas)
	setInt(&r.Autoscaling.CPU, DefaultCPUTarget)
	setInt(&r.Autoscaling.Memory, DefaultMemoryTarget)
	setStr(&r.Resources.Requests.CPU, "250m")
	setStr(&r.Resources.Requests.Memory, "256Mi")
	setStr(&r.Resources.Limits.CPU, "1")
	setStr(&r.Resources.Limits.Memory, "512Mi")
}

func (w *Workload) applyDefaults() {
	setStr(&w.Image, version.Image())
	setStr(&w.Namespace, DefaultNamespace)
	setBool(&w.Redis.Enabled, true)
	setStr(&w.Redis.Image, DefaultRedisImage)
	setStr(&w.Redis.Memory, "256Mi")
	setStr(&w.Redis.Storage, "1Gi")
	m := &w.Monitoring
	setBool(&m.Enabled, true)
	setBool(&m.ServiceMonitor, true)
	setBool(&m.Alerts, true)
	setBool(&m.Dashboards, true)
	setDur(&m.ScrapeInterval, 30*time.Second)
	setStr(&w.Exposure.Type, "gateway")
	setStr(&w.Exposure.Gateway.Name, DefaultGatewayName)
	setBool(&w.Exposure.Gateway.Create, false)
	if *w.Exposure.Gateway.Create {
		// An owned Gateway lives beside the route and the certificate, so
		// no grant is needed and the inventory finds it.
		setStr(&w.Exposure.Gateway.Namespace, w.Namespace)
	}
	setStr(&w.Exposure.Gateway.Namespace, DefaultGatewayNS)
	setStr(&w.Exposure.Ingress.ClassName, DefaultIngressClass)
	setStr(&w.Exposure.Ingress.ControllerNamespace, DefaultIngressCtrlNS)
}

// AtlasPriorities returns each region's election priority: the spec's, or
// 7, 6, 5... in region order with the primary first; 0 for regions without
// electable nodes.
func (s *Spec) AtlasPriorities() map[string]int {
	out := map[string]int{}
	next := 7
	order := make([]*Region, 0, len(s.Regions))
	if p := s.PrimaryRegion(); p != nil {
		order = append(order, p)
	}
	for i := range s.Regions {
		if r := &s.Regions[i]; r != s.PrimaryRegion() {
			order = append(order, r)
		}
	}
	for _, r := range order {
		switch {
		case r.Atlas.ElectableNodes == nil || *r.Atlas.ElectableNodes == 0:
			out[r.Name] = 0
		case r.Atlas.Priority != 0:
			out[r.Name] = r.Atlas.Priority
		default:
			out[r.Name] = next
			next--
		}
	}
	return out
}

func setStr(p *string, v string) {
	if *p == "" {
		*p = v
	}
}

func setInt(p *int, v int) {
	if *p == 0 {
		*p = v
	}
}

func setBool(p **bool, v bool) {
	if *p == nil {
		*p = &v
	}
}

func setDur(p **Duration, v time.Duration) {
	if *p == nil {
		*p = &Duration{v}
	}
}
