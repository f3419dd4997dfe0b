package spec

import "slices"

// Plan tiers in ascending order.
var planTiers = []string{"free", "pro", "business", "enterprise"}

// PlanAtLeast reports whether plan is the tier min or above.
func PlanAtLeast(plan, min string) bool {
	return slices.Index(planTiers, plan) >= slices.Index(planTiers, min)
}

// Cloudflare's allowed rate-limit periods and mitigation timeouts, in
// seconds, and the per-plan caps on them and on rule counts.
var (
	RateLimitValues = []int{10, 15, 20, 30, 40, 45, 60, 90, 120, 180, 240, 300, 480, 600, 900, 1200, 1800, 2400, 3600, 65535, 86400}

	RateLimitMaxPeriod  = map[string]int{"free": 10, "pro": 60, "business": 600, "enterprise": 3600}
	RateLimitMaxTimeout = map[string]int{"free": 10, "pro": 3600, "business": 86400, "enterprise": 86400}
	RateLimitMaxRules   = map[string]int{"free": 1, "pro": 2, "business": 5, "enterprise": 100}
	CacheRuleMaxRules   = map[string]int{"free": 10, "pro": 25, "business": 50, "enterprise": 300}

	// BrowserCacheTTLValues are the values the browser_cache_ttl setting takes.
	BrowserCacheTTLValues = []int{0, 30, 60, 120, 300, 1200, 1800, 3600, 7200, 10800, 14400, 18000, 28800, 43200,
		57600, 72000, 86400, 172800, 259200, 345600, 432000, 691200, 1382400, 2073600, 2678400, 5356800, 16070400, 31536000}

	OriginCertValidityDays = []int{7, 30, 90, 365, 730, 1095, 5475}

	// GeoRegions are Cloudflare's load-balancing regions.
	GeoRegions = []string{"WNAM", "ENAM", "WEU", "EEU", "NSAM", "SSAM", "OC", "ME", "NAF", "SAF", "SAS", "SEAS", "NEAS"}

	// ManagedRulesetIDs are the managed WAF rulesets the spec can name.
	ManagedRulesetIDs = map[string]string{
		"cloudflare-managed": "efb7b8c949ac4650a09736fc376e9aee",
		"owasp":              "4814384a9e5d4991b9815dcfc25d2f1f",
		"free-managed":       "77454fe2d30c4220b5701f6fdfb893ba",
	}

	// OWASPScoreThresholds are the threat scores behind the OWASP Core
	// Ruleset's named thresholds.
	OWASPScoreThresholds = map[string]int{"low": 60, "medium": 40, "high": 25}
)

// OWASPAnomalyRuleID is the OWASP Core Ruleset's last rule (949110, "Inbound
// Anomaly Score Exceeded"): its override carries the score threshold and
// the action.
const OWASPAnomalyRuleID = "6179ae15870a4bb7b2d480d4843b323c"

// Per-zone quotas the service enforces: DNS records per zone (Free zones
// created after 2024-09-01 hold 200; paid plans 3,500 unless raised by
// Cloudflare) and the DNS record comment, which carries the ownership marker.
var (
	DNSRecordLimit = map[string]int{"free": 200, "pro": 3500, "business": 3500, "enterprise": 3500}
	CommentLimit   = map[string]int{"free": 100, "pro": 500, "business": 500, "enterprise": 500}
)

// MaxNameLength is the longest DNS name (RFC 1035), dots included.
const MaxNameLength = 253

// MarkerPrefix starts the ownership marker written into DNS record comments
// and descriptions; the stack name follows it.
const MarkerPrefix = "managed by nekoctl; stack="

// MaxLoadBalancerPools is the pool cap below Enterprise.
const MaxLoadBalancerPools = 20
