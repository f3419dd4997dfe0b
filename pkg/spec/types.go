// Package spec holds the declarative description of one nekoctl stack: the
// types users write in nekoctl.yaml, their defaults, and their validation.
package spec

// APIVersion and Kind identify the spec format so that it can evolve.
const (
	APIVersion = "nekoctl.dev/v1alpha1"
	Kind       = "Stack"
)

// Stack is the whole file.
type Stack struct {
	APIVersion string   `json:"apiVersion" jsonschema:"enum=nekoctl.dev/v1alpha1"`
	Kind       string   `json:"kind" jsonschema:"enum=Stack"`
	Metadata   Metadata `json:"metadata"`
	Spec       Spec     `json:"spec"`

	// File is the path the stack was read from; positions refer to it.
	File string `json:"-"`
}

// Metadata names the stack. The name is the ownership marker put on every
// remote object, so two stacks can share a zone, project or cluster.
type Metadata struct {
	Name string `json:"name" jsonschema:"pattern=^[a-z0-9]([a-z0-9-]*[a-z0-9])?$,maxLength=40"`
}

// Spec is the desired global stack.
type Spec struct {
	// Domain is the Cloudflare zone's apex, e.g. nekodefense.example.
	Domain string `json:"domain"`
	// Hostnames are labels under Domain that serve the API. The first is
	// load-balanced; the others are proxied CNAMEs to it.
	Hostnames  []string   `json:"hostnames,omitempty"`
	Cloudflare Cloudflare `json:"cloudflare"`
	Atlas      Atlas      `json:"atlas"`
	Regions    []Region   `json:"regions"`
	Workload   Workload   `json:"workload,omitempty"`
	// Monitoring is how the stack is watched and who is paged.
	Monitoring StackMonitoring `json:"monitoring,omitempty"`
	// Rollout stages workload changes region by region.
	Rollout Rollout `json:"rollout,omitempty"`
}

// Cloudflare configures the zone, its edge rules and load balancing.
type Cloudflare struct {
	AccountID string `json:"accountID"`
	// Zone defaults to the domain.
	Zone string `json:"zone,omitempty"`
	// Plan is the zone's plan tier. Online commands read it from the API;
	// offline ones trust this value.
	Plan         string       `json:"plan,omitempty" jsonschema:"enum=free,enum=pro,enum=business,enum=enterprise"`
	SSL          SSL          `json:"ssl,omitempty"`
	Caching      Caching      `json:"caching,omitempty"`
	Speed        Speed        `json:"speed,omitempty"`
	CacheRules   []CacheRule  `json:"cacheRules,omitempty"`
	WAF          WAF          `json:"waf,omitempty"`
	RateLimits   []RateLimit  `json:"rateLimits,omitempty"`
	LoadBalancer LoadBalancer `json:"loadBalancer,omitempty"`
	OriginCert   OriginCert   `json:"originCertificate,omitempty"`
}

// SSL holds the zone's SSL/TLS settings.
type SSL struct {
	Mode                   string `json:"mode,omitempty" jsonschema:"enum=off,enum=flexible,enum=full,enum=strict"`
	MinTLSVersion          string `json:"minTLSVersion,omitempty" jsonschema:"enum=1.0,enum=1.1,enum=1.2,enum=1.3"`
	AlwaysUseHTTPS         *bool  `json:"alwaysUseHTTPS,omitempty"`
	AutomaticHTTPSRewrites *bool  `json:"automaticHTTPSRewrites,omitempty"`
	// AuthenticatedOriginPulls: origins accept only clients holding
	// Cloudflare's origin-pull certificate (default true).
	AuthenticatedOriginPulls *bool `json:"authenticatedOriginPulls,omitempty"`
}

// Caching holds the zone's cache settings in the dashboard's words.
type Caching struct {
	// Level: basic (no query string), simplified (ignore query string) or
	// standard (the dashboard's default, "aggressive" in the API).
	Level        string    `json:"level,omitempty" jsonschema:"enum=basic,enum=simplified,enum=standard"`
	BrowserTTL   *Duration `json:"browserTTL,omitempty"`
	AlwaysOnline *bool     `json:"alwaysOnline,omitempty"`
}

// Speed holds the zone's speed settings, including two the guide names that
// Cloudflare has retired (Brotli, Auto Minify): they are accepted and warned about.
type Speed struct {
	RocketLoader *bool `json:"rocketLoader,omitempty"`
	EarlyHints   *bool `json:"earlyHints,omitempty"`
	Brotli       *bool `json:"brotli,omitempty"`
	AutoMinify   *bool `json:"autoMinify,omitempty"`
}

// CacheRule is one rule of the zone's cache-settings phase.
type CacheRule struct {
	Name string `json:"name" jsonschema:"pattern=^[a-z0-9][a-z0-9-]*$"`
	// Path is a URI path pattern; a trailing * matches any suffix.
	Path  string `json:"path"`
	Cache bool   `json:"cache"`
	// EdgeTTL overrides the origin's cache TTL at the edge when Cache is true.
	EdgeTTL    *Duration `json:"edgeTTL,omitempty"`
	BrowserTTL *Duration `json:"browserTTL,omitempty"`
}

// WAF selects managed rulesets to deploy in the zone.
type WAF struct {
	// ManagedRulesets: cloudflare-managed, owasp (both need Pro or higher),
	// or free-managed.
	ManagedRulesets []string `json:"managedRulesets,omitempty" jsonschema:"enum=cloudflare-managed,enum=owasp,enum=free-managed"`
	// OWASP tunes the OWASP Core Ruleset; unset fields keep Cloudflare's
	// defaults.
	OWASP *OWASP `json:"owasp,omitempty"`
}

// OWASP are the overrides the OWASP Core Ruleset takes: how aggressive its
// rules are, how high a request's threat score must be, and what happens then.
type OWASP struct {
	// ParanoiaLevel enables the rules of levels 1 up to this one (1-4).
	ParanoiaLevel int `json:"paranoiaLevel,omitempty" jsonschema:"minimum=1,maximum=4"`
	// ScoreThreshold: low (60 and higher), medium (40), high (25).
	ScoreThreshold string `json:"scoreThreshold,omitempty" jsonschema:"enum=low,enum=medium,enum=high"`
	// Action taken when the threat score reaches the threshold; log needs
	// Enterprise.
	Action string `json:"action,omitempty" jsonschema:"enum=block,enum=managed_challenge,enum=challenge,enum=js_challenge,enum=log"`
}

// RateLimit is one rule of the zone's rate-limiting phase.
type RateLimit struct {
	Name              string   `json:"name" jsonschema:"pattern=^[a-z0-9][a-z0-9-]*$"`
	Path              string   `json:"path"`
	Requests          int      `json:"requests"`
	Period            Duration `json:"period"`
	Action            string   `json:"action,omitempty" jsonschema:"enum=block,enum=challenge,enum=managed_challenge,enum=js_challenge,enum=log"`
	MitigationTimeout Duration `json:"mitigationTimeout,omitempty"`
}

// LoadBalancer configures the monitor, the per-region pools and the
// geo-steered load balancer on the first hostname.
type LoadBalancer struct {
	Enabled *bool `json:"enabled,omitempty"`
	// Steering: geo (default), dynamic_latency, random, off.
	Steering string `json:"steering,omitempty" jsonschema:"enum=geo,enum=off,enum=random,enum=dynamic_latency,enum=proximity,enum=least_outstanding_requests,enum=least_connections"`
	// FallbackRegion names the region whose pool serves when all others fail.
	FallbackRegion  string  `json:"fallbackRegion,omitempty"`
	Monitor         Monitor `json:"monitor,omitempty"`
	SessionAffinity string  `json:"sessionAffinity,omitempty" jsonschema:"enum=none,enum=cookie,enum=ip_cookie,enum=header"`
}

// Monitor is the load balancer's health check.
type Monitor struct {
	Path          string    `json:"path,omitempty"`
	Interval      *Duration `json:"interval,omitempty"`
	Timeout       *Duration `json:"timeout,omitempty"`
	Retries       *int      `json:"retries,omitempty"`
	ExpectedCodes string    `json:"expectedCodes,omitempty"`
	Port          int       `json:"port,omitempty"`
}

// OriginCert is the Cloudflare Origin CA certificate that origins present so
// the zone can use SSL Full (strict).
type OriginCert struct {
	Enabled *bool `json:"enabled,omitempty"`
	// Type: origin-ecc (default) or origin-rsa.
	Type string `json:"type,omitempty" jsonschema:"enum=origin-ecc,enum=origin-rsa"`
	// ValidityDays: 7, 30, 90, 365, 730, 1095 or 5475.
	ValidityDays int `json:"validityDays,omitempty"`
	// RenewBefore: renew when the certificate expires within this window.
	RenewBefore *Duration `json:"renewBefore,omitempty"`
}

// Atlas configures the MongoDB Atlas project and its one cluster.
type Atlas struct {
	// BaseURL of the Atlas Administration API; Atlas for Government and tests use another.
	BaseURL string  `json:"baseURL,omitempty"`
	OrgID   string  `json:"orgID"`
	Project string  `json:"project"`
	Cluster Cluster `json:"cluster"`
	Backup  Backup  `json:"backup,omitempty"`
	// Database is the application's database name.
	Database string `json:"database,omitempty"`
	// User is the application's database user name.
	User string `json:"user,omitempty"`
}

// Cluster is the multi-region replica set.
type Cluster struct {
	Name         string `json:"name" jsonschema:"pattern=^[a-zA-Z0-9][a-zA-Z0-9-]*$"`
	Tier         string `json:"tier,omitempty"`
	MongoVersion string `json:"mongoDBVersion,omitempty"`
	// TerminationProtection is Atlas's own delete guard.
	TerminationProtection *bool `json:"terminationProtection,omitempty"`
	// Protected makes `down` refuse to delete the cluster without --force.
	Protected *bool `json:"protected,omitempty"`
	// Autoscaling lets Atlas change the tier and disk between MinTier and MaxTier.
	Autoscaling *Autoscaling `json:"autoscaling,omitempty"`
	DiskSizeGB  int          `json:"diskSizeGB,omitempty"`
}

// Autoscaling is the cluster's compute and disk autoscaling.
type Autoscaling struct {
	Compute bool   `json:"compute,omitempty"`
	Disk    bool   `json:"disk,omitempty"`
	MinTier string `json:"minTier,omitempty"`
	MaxTier string `json:"maxTier,omitempty"`
}

// Backup is the cluster's cloud backup and point-in-time recovery.
type Backup struct {
	Enabled *bool `json:"enabled,omitempty"`
	// PITRWindowDays is the point-in-time restore window; 0 turns PITR off.
	PITRWindowDays *int `json:"pitrWindowDays,omitempty"`
}

// Region is one serving region: a Kubernetes cluster, an Atlas region and
// the Cloudflare geo regions it serves.
type Region struct {
	Name    string `json:"name" jsonschema:"pattern=^[a-z0-9]([a-z0-9-]*[a-z0-9])?$"`
	Primary bool   `json:"primary,omitempty"`
	Cloud   Cloud  `json:"cloud"`
	// KubeContext is the kubeconfig context of this region's cluster.
	KubeContext string      `json:"kubeContext"`
	Atlas       RegionAtlas `json:"atlas"`
	// GeoRegions are the Cloudflare regions this region's pool serves first.
	GeoRegions  []string   `json:"geoRegions,omitempty" jsonschema:"enum=WNAM,enum=ENAM,enum=WEU,enum=EEU,enum=NSAM,enum=SSAM,enum=OC,enum=ME,enum=NAF,enum=SAF,enum=SAS,enum=SEAS,enum=NEAS"`
	Replicas    Replicas   `json:"replicas,omitempty"`
	Autoscaling HPATargets `json:"autoscaling,omitempty"`
	Resources   Resources  `json:"resources,omitempty"`
	// EgressCIDRs are the addresses this region reaches Atlas from.
	EgressCIDRs []string `json:"egressCIDRs,omitempty"`
	// IngressAddress overrides the public address read from the cluster's
	// Gateway or Ingress status; the Cloudflare pool's origin uses it.
	IngressAddress string `json:"ingressAddress,omitempty"`
}

// Cloud names where the region's Kubernetes cluster runs.
type Cloud struct {
	Provider string `json:"provider" jsonschema:"enum=aws,enum=gcp,enum=azure"`
	Region   string `json:"region"`
}

// RegionAtlas places cluster nodes in this region.
type RegionAtlas struct {
	// Region is Atlas's region name, e.g. US_EAST_1.
	Region string `json:"region"`
	// Provider defaults to the region's cloud provider (AWS, GCP, AZURE).
	Provider       string `json:"provider,omitempty" jsonschema:"enum=AWS,enum=GCP,enum=AZURE"`
	ElectableNodes *int   `json:"electableNodes,omitempty"`
	ReadOnlyNodes  int    `json:"readOnlyNodes,omitempty"`
	// Priority is derived from the region order when zero.
	Priority int `json:"priority,omitempty"`
}

// Replicas bounds the API Deployment's horizontal autoscaler.
type Replicas struct {
	Min int `json:"min,omitempty"`
	Max int `json:"max,omitempty"`
}

// HPATargets are average utilization targets in percent.
type HPATargets struct {
	CPU    int `json:"cpu,omitempty"`
	Memory int `json:"memory,omitempty"`
}

// Resources are the API container's requests and limits.
type Resources struct {
	Requests ResourceList `json:"requests,omitempty"`
	Limits   ResourceList `json:"limits,omitempty"`
}

// ResourceList holds Kubernetes quantities.
type ResourceList struct {
	CPU    string `json:"cpu,omitempty"`
	Memory string `json:"memory,omitempty"`
}

// Workload configures what runs in every region.
type Workload struct {
	// Image defaults to the image that matches this nekoctl's version.
	Image     string            `json:"image,omitempty"`
	Namespace string            `json:"namespace,omitempty"`
	Env       map[string]string `json:"env,omitempty"`
	// Secrets are environment variables taken from existing Kubernetes Secrets.
	Secrets    []SecretRef `json:"secrets,omitempty"`
	Redis      Redis       `json:"redis,omitempty"`
	Monitoring Monitoring  `json:"monitoring,omitempty"`
	Exposure   Exposure    `json:"exposure,omitempty"`
	// CORSOrigins are the browser origins allowed to call the API.
	CORSOrigins []string `json:"corsOrigins,omitempty"`
}

// SecretRef maps an environment variable to a key of a Secret that the
// user manages in each region's namespace.
type SecretRef struct {
	Env    string `json:"env"`
	Secret string `json:"secret"`
	Key    string `json:"key"`
}

// Redis is the per-region cache and rate-limit store.
type Redis struct {
	Enabled *bool  `json:"enabled,omitempty"`
	Image   string `json:"image,omitempty"`
	Memory  string `json:"memory,omitempty"`
	Storage string `json:"storage,omitempty"`
}

// Monitoring deploys scraping, dashboards and alerts.
type Monitoring struct {
	Enabled *bool `json:"enabled,omitempty"`
	// ServiceMonitor and PrometheusRule need the Prometheus Operator CRDs.
	ServiceMonitor *bool `json:"serviceMonitor,omitempty"`
	Alerts         *bool `json:"alerts,omitempty"`
	Dashboards     *bool `json:"dashboards,omitempty"`
	// ScrapeInterval for the ServiceMonitor.
	ScrapeInterval *Duration `json:"scrapeInterval,omitempty"`
}

// Exposure publishes the API Service: a Gateway API HTTPRoute (default) or an Ingress.
type Exposure struct {
	Type    string         `json:"type,omitempty" jsonschema:"enum=gateway,enum=ingress"`
	Gateway GatewayRef     `json:"gateway,omitempty"`
	Ingress IngressOptions `json:"ingress,omitempty"`
	// TrustedProxyCIDRs are the addresses the Gateway's or Ingress
	// controller's pods reach the API from: only their CF-Connecting-IP and
	// X-Forwarded-For headers are believed. Default: the pod ranges of the
	// cluster's Nodes, or the private ranges when those cannot be read.
	TrustedProxyCIDRs []string `json:"trustedProxyCIDRs,omitempty"`
}

// GatewayRef names the Gateway the HTTPRoute attaches to.
type GatewayRef struct {
	Name        string `json:"name,omitempty"`
	Namespace   string `json:"namespace,omitempty"`
	SectionName string `json:"sectionName,omitempty"`
	// Create makes nekoctl create and own the Gateway, in the workload
	// namespace: HTTPS on 443 with the origin certificate, HTTP on 80
	// redirecting to HTTPS.
	Create *bool `json:"create,omitempty"`
	// ClassName is the owned Gateway's GatewayClass (required with create).
	ClassName string `json:"gatewayClassName,omitempty"`
}

// IngressOptions configures the Ingress when exposure.type is ingress.
type IngressOptions struct {
	ClassName string `json:"className,omitempty"`
	// Namespace of the ingress controller, allowed through the NetworkPolicy.
	ControllerNamespace string `json:"controllerNamespace,omitempty"`
}
