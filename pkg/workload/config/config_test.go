package config

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func valid() map[string]string {
	return map[string]string{
		EnvMongoURI:      "mongodb+srv://app:pw@cluster.example/",
		EnvJWTSecret:     strings.Repeat("s", 32),
		EnvAdminUsername: "admin",
		EnvAdminPassword: "admin-password-123",
	}
}

func TestLoadDefaults(t *testing.T) {
	c, err := Load(env(valid()))
	if err != nil {
		t.Fatal(err)
	}
	if c.ListenAddr != ":8080" || c.RateLimitPerMinute != 1000 || c.RedisAddr != "" || c.MongoDatabase != "nekodefense" || len(c.TrustedProxies) != 0 {
		t.Errorf("defaults: %+v", c)
	}
	if diff := cmp.Diff(map[string]User{"admin": {Password: "admin-password-123", Role: "ADMIN"}}, c.Users); diff != "" {
		t.Errorf("users (-want +got):\n%s", diff)
	}
	if strings.Contains(c.String(), "pw@") || strings.Contains(c.String(), "admin-password") {
		t.Errorf("String() shows a secret: %s", c)
	}
}

func TestLoadOverrides(t *testing.T) {
	e := valid()
	e[EnvTrustedProxies] = "173.245.48.0/20, 2400:cb00::/32,10.244.1.17"
	e[EnvCORSOrigins] = "https://app.example,http://localhost:3000"
	e[EnvCacheTTLs] = "honeypotStats=5s,threatActors=0s"
	e[EnvRateLimit] = "60"
	e[EnvViewerUsername], e[EnvViewerPassword] = "viewer", "viewer-password-1"
	c, err := Load(env(e))
	if err != nil {
		t.Fatal(err)
	}
	want := []netip.Prefix{netip.MustParsePrefix("173.245.48.0/20"), netip.MustParsePrefix("2400:cb00::/32"), netip.MustParsePrefix("10.244.1.17/32")}
	if diff := cmp.Diff(want, c.TrustedProxies, cmp.Comparer(func(a, b netip.Prefix) bool { return a == b })); diff != "" {
		t.Errorf("trusted proxies (-want +got):\n%s", diff)
	}
	if c.CacheTTLs["honeypotStats"] != 5*time.Second || c.CacheTTLs["threatActors"] != 0 || c.CacheTTLs["threatActor"] != 5*time.Minute {
		t.Errorf("cache TTLs: %v", c.CacheTTLs)
	}
	if c.RateLimitPerMinute != 60 || len(c.Users) != 2 || len(c.CORSOrigins) != 2 {
		t.Errorf("config: %+v", c)
	}
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name string
		set  map[string]string
		want []string
	}{
		{"nothing set", map[string]string{EnvMongoURI: "", EnvJWTSecret: "", EnvAdminUsername: "", EnvAdminPassword: ""},
			[]string{"MONGODB_URI is required", "JWT_SECRET is required", "ADMIN_USERNAME is required", "ADMIN_PASSWORD is required"}},
		{"bad values", map[string]string{
			EnvMongoURI: "http://x", EnvJWTSecret: "short", EnvAdminPassword: "short", EnvRateLimit: "lots",
			EnvTrustedProxies: "10.0.0.0/33", EnvCORSOrigins: "app.example", EnvShutdownDrain: "soon", EnvLogLevel: "loud",
		}, []string{
			"MONGODB_URI must be a mongodb://", "JWT_SECRET must be at least 32 bytes", "ADMIN_PASSWORD must be at least 12",
			"RATE_LIMIT_PER_MINUTE must be an integer", `TRUSTED_PROXY_CIDRS has an invalid CIDR "10.0.0.0/33"`,
			`CORS_ORIGINS has an invalid origin "app.example"`, "SHUTDOWN_DRAIN_DELAY must be a duration", "LOG_LEVEL must be one of",
		}},
		{"viewer without password", map[string]string{EnvViewerUsername: "viewer"}, []string{"VIEWER_PASSWORD is required"}},
		{"same user twice", map[string]string{EnvViewerUsername: "admin", EnvViewerPassword: "another-password"}, []string{"VIEWER_USERNAME must differ"}},
		{"request timeout beyond the write timeout", map[string]string{EnvRequestTimeout: "1m"}, []string{"GRAPHQL_REQUEST_TIMEOUT must be positive and at most 25s"}},
		{"trusting every address", map[string]string{EnvTrustedProxies: "10.0.0.0/8,0.0.0.0/0, ::/0"}, []string{
			`TRUSTED_PROXY_CIDRS must not trust every address ("0.0.0.0/0")`, `TRUSTED_PROXY_CIDRS must not trust every address ("::/0")`,
		}},
		{"unknown cache class", map[string]string{EnvCacheTTLs: "everything=1m"}, []string{`CACHE_TTLS has an invalid entry "everything=1m"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { wantLoadError(t, tt.set, tt.want, "pw@", "http://x") })
	}
}

// wantLoadError loads the valid settings changed by set and checks that the
// error names each of want and quotes none of secrets.
func wantLoadError(t *testing.T, set map[string]string, want []string, secrets ...string) {
	t.Helper()
	e := valid()
	for k, v := range set {
		e[k] = v
	}
	_, err := Load(env(e))
	if err == nil {
		t.Fatal("no error")
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error lacks %q:\n%v", w, err)
		}
	}
	for _, secret := range secrets {
		if strings.Contains(err.Error(), secret) {
			t.Errorf("error shows a secret value %q", secret)
		}
	}
}
