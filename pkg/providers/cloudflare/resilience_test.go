package cloudflare

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"github.com/neko-defense/nekoctl/internal/ctxtime"
	"github.com/neko-defense/nekoctl/internal/httpretry"
	cfemu "github.com/neko-defense/nekoctl/pkg/emulator/cloudflare"
	"github.com/neko-defense/nekoctl/pkg/plan"
	"github.com/neko-defense/nekoctl/pkg/provider"
	"github.com/neko-defense/nekoctl/pkg/spec"
)

// assertNoDuplicates checks the zone holds exactly one of each owned object.
func assertNoDuplicates(t *testing.T, e *testEnv) {
	t.Helper()
	if n := len(e.emu.Records(testZone)); n != 1 {
		t.Errorf("DNS records = %d, want 1", n)
	}
	if n := len(e.emu.Monitors()); n != 1 {
		t.Errorf("monitors = %d, want 1", n)
	}
	if n := len(e.emu.Pools()); n != 3 {
		t.Errorf("pools = %d, want 3", n)
	}
	if n := len(e.emu.LoadBalancers(testZone)); n != 1 {
		t.Errorf("load balancers = %d, want 1", n)
	}
	if n := e.emu.CertificateCount(); n != 1 {
		t.Errorf("certificates = %d, want 1", n)
	}
	for ph, want := range map[string]int{phaseCache: 2, phaseWAF: 2, phaseRateLimit: 1} {
		if n := len(e.emu.PhaseRules(testZone, ph)); n != want {
			t.Errorf("%s rules = %d, want %d", ph, n, want)
		}
	}
}

func TestUpConvergesUnderErrorsAndRateLimits(t *testing.T) {
	e := newEnv(t, cfemu.Pro, cfemu.WithSeed(7))
	e.emu.SetFaults(cfemu.Faults{ErrorRate: 0.10, RetryAfter: 2})
	e.emu.RateLimitNext(5)
	p, changes, out := e.mustPlan(provider.Options{})
	e.emu.RateLimitNext(4)
	e.emu.FailNext(2)
	if err := e.apply(p, changes, out); err != nil {
		t.Fatalf("apply: %v", err)
	}
	e.emu.RateLimitNext(3)
	_, next, _ := e.mustPlan(provider.Options{})
	if got := pending(next); len(got) != 0 {
		t.Errorf("plan after a faulty up is not empty: %v", got)
	}
	e.emu.SetFaults(cfemu.Faults{})
	assertNoDuplicates(t, e)
	// Every 429 was waited out for at least its Retry-After.
	var long int
	for _, d := range e.sleeps {
		if d >= 2*time.Second {
			long++
		}
	}
	if long < 12 {
		t.Errorf("%d waits honoured Retry-After, want at least 12 (one per 429)", long)
	}
}

func TestLostCreateResponsesAreReconciled(t *testing.T) {
	e := newEnv(t, cfemu.Pro)
	for _, frag := range []string{"/dns_records", "/monitors", "/pools", "/load_balancers", "/certificates"} {
		e.emu.LoseResponses("POST", frag, 1)
	}
	e.run(provider.Options{})
	assertNoDuplicates(t, e)
	_, next, _ := e.mustPlan(provider.Options{})
	if got := pending(next); len(got) != 0 {
		t.Errorf("plan after lost responses is not empty: %v", got)
	}
	// The key published belongs to the certificate that was adopted.
	key := e.secret[provider.OutOriginKey].(plan.Sensitive).Reveal()
	cert := e.secret[provider.OutOriginCert].(plan.Sensitive).Reveal()
	if !keyMatches(key, cert) {
		t.Error("adopted certificate does not match the key")
	}
}

func TestLostRulesetWriteIsRetried(t *testing.T) {
	e := newEnv(t, cfemu.Pro)
	e.emu.LoseResponses("PUT", "/rulesets/", 2)
	e.emu.LoseResponses("PATCH", "/settings/", 1)
	e.run(provider.Options{})
	assertNoDuplicates(t, e)
}

func TestOriginCertificateRenewal(t *testing.T) {
	e := newEnv(t, cfemu.Pro)
	e.st.Spec.Cloudflare.OriginCert.ValidityDays = 90
	e.run(provider.Options{})
	oldKey := e.secret[provider.OutOriginKey].(plan.Sensitive)

	e.now = e.now.Add(50 * 24 * time.Hour)
	_, changes, _ := e.mustPlan(provider.Options{})
	if got := pending(changes); len(got) != 0 {
		t.Fatalf("40 days before expiry: %v", got)
	}
	e.now = e.now.Add(11 * 24 * time.Hour)
	changes = e.run(provider.Options{})
	var cert plan.Change
	for _, c := range changes {
		if c.Address.Kind == KindOriginCert {
			cert = c
		}
	}
	if cert.Action != plan.Replace || !strings.Contains(cert.Reason, "within the renewal window of 30d") {
		t.Errorf("certificate change = %s (%s), want replace for renewal", cert.Action, cert.Reason)
	}
	if n := e.emu.CertificateCount(); n != 1 {
		t.Errorf("certificates = %d, want 1 (old one revoked)", n)
	}
	if newKey := e.secret[provider.OutOriginKey].(plan.Sensitive); newKey.Equal(oldKey) {
		t.Error("renewal reused the old key")
	}
}

func TestOriginCertificateWithoutItsKeyIsReissued(t *testing.T) {
	e := newEnv(t, cfemu.Pro)
	e.run(provider.Options{})
	e.secret = map[string]any{} // the TLS Secret could not be read back
	_, changes, _ := e.mustPlan(provider.Options{})
	want := []string{`replace cloudflare[zone/nekodefense.example].origin_certificate["api.nekodefense.example"]`}
	if got := pending(changes); len(got) != 1 || got[0] != want[0] {
		t.Fatalf("changes = %v, want %v", got, want)
	}
	for _, c := range changes {
		if c.Action == plan.Replace && !strings.Contains(c.Reason, "private key is not available") {
			t.Errorf("reason = %q", c.Reason)
		}
	}
}

func TestFreeZoneWithFittingSpec(t *testing.T) {
	e := newEnv(t, cfemu.Free)
	c := &e.st.Spec.Cloudflare
	c.WAF.ManagedRulesets = []string{"free-managed"}
	c.RateLimits[0].Period = spec.Duration{Duration: 10 * time.Second}
	c.RateLimits[0].MitigationTimeout = spec.Duration{Duration: 10 * time.Second}
	e.run(provider.Options{})
	rl := e.emu.PhaseRules(testZone, phaseRateLimit)
	if len(rl) != 1 || rl[0].Expression != `http.request.uri.path eq "/graphql"` {
		t.Errorf("free rate limit rules = %+v", rl)
	}
	_, next, _ := e.mustPlan(provider.Options{})
	if got := pending(next); len(got) != 0 {
		t.Errorf("second plan on free: %v", got)
	}
}

func TestNewClientNeedsToken(t *testing.T) {
	_, err := NewClient(func(string) string { return "" }, nil, nil)
	if err == nil || !strings.Contains(err.Error(), EnvAPIToken) {
		t.Errorf("err = %v", err)
	}
}

func TestWrongTokenIsReported(t *testing.T) {
	emu := cfemu.New(t)
	emu.AddZone(testZone, cfemu.Pro)
	c, err := NewClient(func(k string) string {
		return map[string]string{EnvAPIToken: "not-the-token", EnvBaseURL: emu.URL()}[k]
	}, nil, rate.NewLimiter(rate.Inf, 1))
	if err != nil {
		t.Fatal(err)
	}
	_, err = New(globalStack(), c, Config{}).Read(context.Background(), nil)
	if err == nil || !strings.Contains(err.Error(), "10000: Authentication error") {
		t.Errorf("err = %v", err)
	}
	if strings.Contains(err.Error(), "not-the-token") {
		t.Error("error shows the token")
	}
}

// countingTransport counts requests that reach the network.
type countingTransport struct{ n atomic.Int32 }

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return http.DefaultTransport.RoundTrip(r)
}

func TestEveryAttemptWaitsOnTheSharedBucket(t *testing.T) {
	emu := cfemu.New(t)
	emu.AddZone(testZone, cfemu.Pro)
	emu.FailNext(3)
	lim := rate.NewLimiter(rate.Every(time.Hour), 4) // four tokens, no refill during the test
	ct := &countingTransport{}
	getenv := func(k string) string {
		return map[string]string{EnvAPIToken: emu.Token(), EnvBaseURL: emu.URL()}[k]
	}
	noSleep := RetryPolicy{Sleep: func(context.Context, time.Duration) error { return nil }}
	c1, _ := NewClient(getenv, &http.Client{Transport: ct}, lim, WithRetryPolicy(noSleep))
	p := New(globalStack(), c1, Config{})
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	// The zone lookup takes 3 failed attempts and 1 success: the bucket is empty.
	if _, _, err := p.lookupZone(ctx); err != nil {
		t.Fatalf("lookup: %v", err)
	}
	if got := ct.n.Load(); got != 4 {
		t.Errorf("attempts = %d, want 4", got)
	}
	// A second client of the same run shares the bucket and must wait.
	c2, _ := NewClient(getenv, &http.Client{Transport: ct}, lim, WithRetryPolicy(noSleep))
	_, err := New(globalStack(), c2, Config{}).Read(ctx, nil)
	if err == nil || !errors.Is(err, context.DeadlineExceeded) && !strings.Contains(err.Error(), "rate") {
		t.Errorf("second client was not held back by the shared bucket: %v", err)
	}
}

func TestDefaultLimiterFitsTheBudget(t *testing.T) {
	l := NewLimiter()
	worst := float64(l.Burst()) + float64(l.Limit())*BudgetWindow.Seconds()
	if worst > BudgetRequests {
		t.Errorf("burst plus five minutes of refill = %.0f requests, above %d", worst, BudgetRequests)
	}
}

func TestBackoffGrowsAndHonoursRetryAfter(t *testing.T) {
	p := withDefaults(RetryPolicy{BaseDelay: 100 * time.Millisecond, MaxDelay: time.Second, Jitter: func() float64 { return 0.5 }})
	var prev time.Duration
	for a := 1; a <= 6; a++ {
		d := p.Backoff(a)
		if d < prev || d > time.Second {
			t.Errorf("attempt %d: %s after %s", a, d, prev)
		}
		prev = d
	}
	res := &http.Response{Header: http.Header{"Retry-After": {"7"}}}
	if d, ok := httpretry.RetryAfter(res); !ok || d != 7*time.Second {
		t.Errorf("Retry-After = %s %v", d, ok)
	}
}

func TestClientTimeoutBoundsEachAttemptNotTheWaits(t *testing.T) {
	emu := cfemu.New(t)
	emu.AddZone(testZone, cfemu.Pro)
	emu.RateLimitNext(2)
	slow := RetryPolicy{Sleep: func(ctx context.Context, d time.Duration) error {
		return ctxtime.Sleep(ctx, 150*time.Millisecond) // longer than the client's timeout
	}}
	c, _ := NewClient(func(k string) string {
		return map[string]string{EnvAPIToken: emu.Token(), EnvBaseURL: emu.URL()}[k]
	}, &http.Client{Timeout: 100 * time.Millisecond}, rate.NewLimiter(rate.Inf, 1), WithRetryPolicy(slow))
	if _, _, err := New(globalStack(), c, Config{}).lookupZone(context.Background()); err != nil {
		t.Errorf("lookup across two waits longer than the timeout: %v", err)
	}
}

// TestTheBucketKeepsARunInsideTheBudget runs up and a plan against an
// emulator whose budget is 40 requests a second, with a bucket sized for it:
// the service never has to refuse a request.
func TestTheBucketKeepsARunInsideTheBudget(t *testing.T) {
	emu := cfemu.New(t, cfemu.WithBudget(40, time.Second))
	emu.AddZone(testZone, cfemu.Pro)
	e := &testEnv{t: t, emu: emu, st: globalStack(), now: time.Now(), secret: map[string]any{}}
	lim := NewBudgetLimiter(40, time.Second, 10)
	getenv := func(k string) string {
		return map[string]string{EnvAPIToken: emu.Token(), EnvBaseURL: emu.URL()}[k]
	}
	for range 2 {
		c, err := NewClient(getenv, nil, lim)
		if err != nil {
			t.Fatal(err)
		}
		p := New(e.st, c, Config{})
		ctx := context.Background()
		out := e.outputs()
		live, err := p.Read(ctx, out)
		if err != nil {
			t.Fatal(err)
		}
		desired, _ := p.Desired(ctx, out)
		changes, err := p.Diff(ctx, desired, live, provider.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if err := e.apply(p, changes, out); err != nil {
			t.Fatal(err)
		}
	}
	if n := emu.BudgetRefusals(); n != 0 {
		t.Errorf("the service refused %d requests over its budget", n)
	}
	if n := emu.TotalCalls(); n < 50 {
		t.Errorf("only %d calls; the test should exceed one window's budget", n)
	}
}
