// Package config reads the API server's settings from environment
// variables, the way the Kubernetes Deployment passes them. Every problem is
// reported at once, by variable name, and secret values never appear in
// errors or in String().
package config

import (
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Environment variable names. The Kubernetes templates set exactly these.
const (
	EnvListenAddr        = "LISTEN_ADDR"
	EnvMongoURI          = "MONGODB_URI" // secret
	EnvMongoDatabase     = "MONGODB_DATABASE"
	EnvRedisAddr         = "REDIS_ADDR"
	EnvRedisPassword     = "REDIS_PASSWORD" // secret
	EnvRedisDB           = "REDIS_DB"
	EnvJWTSecret         = "JWT_SECRET" // secret
	EnvJWTTTL            = "JWT_TTL"
	EnvAdminUsername     = "ADMIN_USERNAME"
	EnvAdminPassword     = "ADMIN_PASSWORD" // secret
	EnvViewerUsername    = "VIEWER_USERNAME"
	EnvViewerPassword    = "VIEWER_PASSWORD" // secret
	EnvRateLimit         = "RATE_LIMIT_PER_MINUTE"
	EnvTrustedProxies    = "TRUSTED_PROXY_CIDRS"
	EnvCORSOrigins       = "CORS_ORIGINS"
	EnvCacheTTLs         = "CACHE_TTLS"
	EnvMaxBodyBytes      = "MAX_BODY_BYTES"
	EnvMaxDepth          = "GRAPHQL_MAX_DEPTH"
	EnvMaxComplexity     = "GRAPHQL_MAX_COMPLEXITY"
	EnvIntrospection     = "GRAPHQL_INTROSPECTION"
	EnvRequestTimeout    = "GRAPHQL_REQUEST_TIMEOUT"
	EnvShutdownDrain     = "SHUTDOWN_DRAIN_DELAY"
	EnvShutdownTimeout   = "SHUTDOWN_TIMEOUT"
	EnvMongoTimeout      = "MONGODB_TIMEOUT"
	EnvBreakerOpenPeriod = "BREAKER_OPEN_TIMEOUT"
	EnvLogLevel          = "LOG_LEVEL"
	// EnvOriginCertFile is the PEM file of the origin certificate the API
	// is served with (mounted from the origin TLS Secret); its expiry is
	// exported as a metric.
	EnvOriginCertFile = "ORIGIN_CERT_FILE"
)

// minSecretBytes is the shortest accepted JWT secret: HS256 keys shorter
// than the hash output weaken the signature.
const minSecretBytes = 32

// MaxRequestTimeout is the longest GRAPHQL_REQUEST_TIMEOUT: the server
// stops writing a response after 30 s.
const MaxRequestTimeout = 25 * time.Second

// Config is the server's whole configuration.
type Config struct {
	ListenAddr    string
	MongoURI      string
	MongoDatabase string
	// RedisAddr empty means no Redis: in-process rate limiting, no cache.
	RedisAddr     string
	RedisPassword string
	RedisDB       int

	JWTKeys KeySet
	JWTTTL  time.Duration
	// Users maps user names to their password and role.
	Users map[string]User

	RateLimitPerMinute int
	TrustedProxies     []netip.Prefix
	CORSOrigins        []string
	// CacheTTLs maps a query class (a top-level Query field) to its TTL; 0
	// turns caching off for that class.
	CacheTTLs map[string]time.Duration

	MaxBodyBytes  int64
	MaxDepth      int
	MaxComplexity int
	Introspection bool
	// RequestTimeout bounds the work of one GraphQL request.
	RequestTimeout     time.Duration
	ShutdownDrainDelay time.Duration
	ShutdownTimeout    time.Duration
	MongoTimeout       time.Duration
	BreakerOpenTimeout time.Duration
	LogLevel           string
	// OriginCertFile, when set, is watched for the certificate expiry gauge.
	OriginCertFile string
}

// User is an account that can log in.
type User struct {
	Password string
	Role     string // VIEWER or ADMIN
}

// DefaultCacheTTLs are the TTLs per query class unless CACHE_TTLS overrides
// them. `me` is per user, so it is never cached.
func DefaultCacheTTLs() map[string]time.Duration {
	return map[string]time.Duration{
		"threatActor":            5 * time.Minute,
		"threatActors":           time.Minute,
		"threatCountsByCategory": time.Minute,
		"honeypotTriggers":       10 * time.Second,
		"honeypotStats":          30 * time.Second,
		"me":                     0,
	}
}

// Load reads the configuration through getenv (os.Getenv in production).
func Load(getenv func(string) string) (*Config, error) {
	r := reader{getenv: getenv}
	c := &Config{
		ListenAddr:         r.str(EnvListenAddr, ":8080"),
		MongoURI:           r.required(EnvMongoURI),
		MongoDatabase:      r.str(EnvMongoDatabase, "nekodefense"),
		RedisAddr:          r.str(EnvRedisAddr, ""),
		RedisPassword:      r.str(EnvRedisPassword, ""),
		RedisDB:            r.intIn(EnvRedisDB, 0, 0, 15),
		JWTKeys:            r.jwtKeys(),
		JWTTTL:             r.duration(EnvJWTTTL, time.Hour),
		RateLimitPerMinute: r.intIn(EnvRateLimit, 1000, 1, 1_000_000_000),
		TrustedProxies:     r.prefixes(EnvTrustedProxies),
		CORSOrigins:        r.origins(EnvCORSOrigins),
		CacheTTLs:          r.cacheTTLs(EnvCacheTTLs),
		MaxBodyBytes:       int64(r.intIn(EnvMaxBodyBytes, 1<<20, 1024, 64<<20)),
		MaxDepth:           r.intIn(EnvMaxDepth, 10, 2, 100),
		MaxComplexity:      r.intIn(EnvMaxComplexity, 1000, 10, 1_000_000),
		Introspection:      r.boolean(EnvIntrospection, false),
		RequestTimeout:     r.duration(EnvRequestTimeout, 10*time.Second),
		ShutdownDrainDelay: r.duration(EnvShutdownDrain, 5*time.Second),
		ShutdownTimeout:    r.duration(EnvShutdownTimeout, 20*time.Second),
		MongoTimeout:       r.duration(EnvMongoTimeout, 5*time.Second),
		BreakerOpenTimeout: r.duration(EnvBreakerOpenPeriod, 10*time.Second),
		LogLevel:           r.oneOf(EnvLogLevel, "info", "debug", "info", "warn", "error"),
		OriginCertFile:     r.str(EnvOriginCertFile, ""),
		Users:              map[string]User{},
	}
	r.checkMongoURI(c.MongoURI)
	if c.RequestTimeout <= 0 || c.RequestTimeout > MaxRequestTimeout {
		r.fail(EnvRequestTimeout, fmt.Sprintf("must be positive and at most %s (the server's write timeout leaves room to answer)", MaxRequestTimeout))
	}
	if c.JWTTTL <= 0 {
		r.fail(EnvJWTTTL, "must be positive")
	}
	r.user(c, EnvAdminUsername, EnvAdminPassword, "ADMIN", true)
	r.user(c, EnvViewerUsername, EnvViewerPassword, "VIEWER", false)
	if err := errors.Join(r.errs...); err != nil {
		return nil, fmt.Errorf("invalid configuration:\n%w", err)
	}
	return c, nil
}

// LoadMongo reads only the database settings, for commands such as the
// seed loader that need nothing else.
func LoadMongo(getenv func(string) string) (*Config, error) {
	r := reader{getenv: getenv}
	c := &Config{
		MongoURI:      r.required(EnvMongoURI),
		MongoDatabase: r.str(EnvMongoDatabase, "nekodefense"),
		MongoTimeout:  r.duration(EnvMongoTimeout, 5*time.Second),
	}
	r.checkMongoURI(c.MongoURI)
	if err := errors.Join(r.errs...); err != nil {
		return nil, fmt.Errorf("invalid configuration:\n%w", err)
	}
	return c, nil
}

func (r *reader) checkMongoURI(uri string) {
	if uri == "" {
		return
	}
	if u, err := url.Parse(uri); err != nil || (u.Scheme != "mongodb" && u.Scheme != "mongodb+srv") {
		// The value may hold a password: name the variable, never the value.
		r.fail(EnvMongoURI, "must be a mongodb:// or mongodb+srv:// URI")
	}
}

// String describes the configuration for the start-up log, without secrets.
func (c *Config) String() string {
	redis := c.RedisAddr
	if redis == "" {
		redis = "(none: in-process rate limiting, no cache)"
	}
	return fmt.Sprintf("listen=%s mongodb=(set) database=%s redis=%s rateLimit=%d/min trustedProxies=%d corsOrigins=%v maxDepth=%d maxComplexity=%d jwtKeys=%d jwtCurrentKey=%q",
		c.ListenAddr, c.MongoDatabase, redis, c.RateLimitPerMinute, len(c.TrustedProxies), c.CORSOrigins, c.MaxDepth, c.MaxComplexity, len(c.JWTKeys.Keys), c.JWTKeys.Current)
}

type reader struct {
	getenv func(string) string
	errs   []error
}

func (r *reader) fail(name, msg string) { r.errs = append(r.errs, fmt.Errorf("  %s %s", name, msg)) }

func (r *reader) str(name, def string) string {
	if v := strings.TrimSpace(r.getenv(name)); v != "" {
		return v
	}
	return def
}

func (r *reader) required(name string) string {
	v := strings.TrimSpace(r.getenv(name))
	if v == "" {
		r.fail(name, "is required")
	}
	return v
}

func (r *reader) intIn(name string, def, lo, hi int) int {
	v := r.str(name, "")
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		r.fail(name, fmt.Sprintf("must be an integer from %d to %d, got %q", lo, hi, v))
		return def
	}
	return n
}

func (r *reader) duration(name string, def time.Duration) time.Duration {
	v := r.str(name, "")
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		r.fail(name, fmt.Sprintf("must be a duration such as 30s or 5m, got %q", v))
		return def
	}
	return d
}

func (r *reader) boolean(name string, def bool) bool {
	v := r.str(name, "")
	if v == "" {
		return def
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		r.fail(name, fmt.Sprintf("must be true or false, got %q", v))
		return def
	}
	return b
}

func (r *reader) oneOf(name, def string, allowed ...string) string {
	v := strings.ToLower(r.str(name, def))
	for _, a := range allowed {
		if v == a {
			return v
		}
	}
	r.fail(name, fmt.Sprintf("must be one of %s, got %q", strings.Join(allowed, ", "), v))
	return def
}

func (r *reader) list(name string) []string {
	var out []string
	for _, p := range strings.Split(r.getenv(name), ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// prefixes reads CIDRs; a bare address stands for itself alone. A prefix
// of every address is refused: trusting it would let any client name its
// own address in CF-Connecting-IP and escape its rate limit.
func (r *reader) prefixes(name string) []netip.Prefix {
	var out []netip.Prefix
	for _, s := range r.list(name) {
		p, err := netip.ParsePrefix(s)
		if a, aerr := netip.ParseAddr(s); err != nil && aerr == nil {
			p, err = a.Unmap().Prefix(a.Unmap().BitLen())
		}
		switch {
		case err != nil:
			r.fail(name, fmt.Sprintf("has an invalid CIDR %q", s))
			continue
		case p.Bits() == 0:
			r.fail(name, fmt.Sprintf("must not trust every address (%q): name the proxies' ranges", s))
			continue
		}
		out = append(out, p.Masked())
	}
	return out
}

func (r *reader) origins(name string) []string {
	var out []string
	for _, s := range r.list(name) {
		u, err := url.Parse(s)
		if s != "*" && (err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.Path != "") {
			r.fail(name, fmt.Sprintf("has an invalid origin %q (want scheme://host[:port] or *)", s))
			continue
		}
		out = append(out, s)
	}
	return out
}

// cacheTTLs parses "class=ttl,class=ttl" over the defaults.
func (r *reader) cacheTTLs(name string) map[string]time.Duration {
	ttls := DefaultCacheTTLs()
	for _, kv := range r.list(name) {
		k, v, ok := strings.Cut(kv, "=")
		d, err := time.ParseDuration(strings.TrimSpace(v))
		_, known := ttls[strings.TrimSpace(k)]
		if !ok || err != nil || d < 0 || !known {
			r.fail(name, fmt.Sprintf("has an invalid entry %q (want class=duration; classes: threatActor, threatActors, threatCountsByCategory, honeypotTriggers, honeypotStats, me)", kv))
			continue
		}
		ttls[strings.TrimSpace(k)] = d
	}
	return ttls
}

func (r *reader) user(c *Config, userVar, passVar, role string, required bool) {
	name, pass := strings.TrimSpace(r.getenv(userVar)), r.getenv(passVar)
	if name == "" && pass == "" && !required {
		return
	}
	if name == "" {
		r.fail(userVar, "is required")
	}
	if pass == "" {
		r.fail(passVar, "is required")
	} else if len(pass) < 12 {
		r.fail(passVar, "must be at least 12 characters long")
	}
	if name != "" && pass != "" {
		if _, dup := c.Users[name]; dup {
			r.fail(userVar, "must differ from the other user names")
		}
		c.Users[name] = User{Password: pass, Role: role}
	}
}
