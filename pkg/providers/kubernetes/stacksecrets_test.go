package kubernetes

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/neko-defense/nekoctl/pkg/engine"
	"github.com/neko-defense/nekoctl/pkg/provider"
	"github.com/neko-defense/nekoctl/pkg/spec"
	"github.com/neko-defense/nekoctl/pkg/workload/auth"
	"github.com/neko-defense/nekoctl/pkg/workload/config"
)

// secretsEngine is one run of the real engine over the three regions at
// clock now.
func secretsEngine(st *spec.Stack, now time.Time, rotate bool) *engine.Engine {
	cfg := Config{PollInterval: 100 * time.Millisecond, RolloutTimeout: 30 * time.Second, AddressTimeout: 10 * time.Second,
		DiscoveryCacheDir: "-", Now: func() time.Time { return now }, RotateJWTKey: rotate}
	providers := []provider.Provider{&seed{}}
	for _, r := range regions {
		providers = append(providers, New(st, r, env.RESTConfig(r), cfg))
	}
	return &engine.Engine{Providers: providers, Parallelism: 8}
}

func upAt(t *testing.T, st *spec.Stack, now time.Time, rotate bool) []string {
	t.Helper()
	ctx := context.Background()
	e := secretsEngine(st, now, rotate)
	pl := e.Plan(ctx, st.Metadata.Name, provider.Options{RotateJWTKey: rotate})
	if pl.Plan.HasErrors() {
		t.Fatalf("plan: %+v", pl.Plan.Diagnostics)
	}
	var notes []string
	for _, c := range pl.Plan.Changes {
		notes = append(notes, c.Notes...)
	}
	if _, err := e.Apply(ctx, pl); err != nil {
		t.Fatalf("up: %v", err)
	}
	return notes
}

// server is a region's token issuer, configured as its API pods are: from
// its ConfigMap and Secrets through the workload's own configuration loader.
func server(t *testing.T, st *spec.Stack, region string, now time.Time) (*auth.Issuer, map[string]string) {
	t.Helper()
	ctx := context.Background()
	cs := env.Clientset(region)
	ns := st.Spec.Workload.Namespace
	vars := map[string]string{}
	cm, err := cs.CoreV1().ConfigMaps(ns).Get(ctx, AppName+"-config", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range cm.Data {
		vars[k] = v
	}
	for _, name := range []string{atlasSecret, authSecret} {
		s, err := cs.CoreV1().Secrets(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range s.Data {
			vars[k] = string(v)
		}
	}
	cfg, err := config.Load(func(k string) string { return vars[k] })
	if err != nil {
		t.Fatalf("%s: the workload refuses its configuration: %v", region, err)
	}
	users := map[string]auth.Account{}
	for name, u := range cfg.Users {
		users[name] = auth.Account{Password: u.Password, Role: u.Role}
	}
	return auth.NewIssuer(auth.KeySet(cfg.JWTKeys), cfg.JWTTTL, users, func() time.Time { return now }), vars
}

func keyIDs(t *testing.T, vars map[string]string) (string, int) {
	t.Helper()
	var ks keySet
	if err := json.Unmarshal([]byte(vars[keyJWTKeys]), &ks); err != nil {
		t.Fatal(err)
	}
	return ks.Current, len(ks.Keys)
}

// TestOneSetOfSecretsPerStack: every region gets the same key set and
// admin password, so a token issued by one region's server is accepted by
// another's; a region that lost its Secret gets the stack's back, not new
// values; a rotation keeps the old tokens valid until they expire, and a
// run after one token lifetime retires the old key.
func TestOneSetOfSecretsPerStack(t *testing.T) {
	needCluster(t)
	t.Parallel()
	const ns = "shared-secrets"
	st := isolatedStack(ns)
	for _, r := range regions {
		dropNamespace(t, r, ns)
	}
	t0 := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	upAt(t, st, t0, false)

	usEast, usVars := server(t, st, "us-east", t0)
	euWest, euVars := server(t, st, "eu-west", t0)
	apac, apVars := server(t, st, "asia-pacific", t0)
	if usVars[keyJWTKeys] != euVars[keyJWTKeys] || usVars[keyJWTKeys] != apVars[keyJWTKeys] ||
		usVars[keyAdminPassword] != euVars[keyAdminPassword] || usVars[keyAdminPassword] != apVars[keyAdminPassword] {
		t.Fatal("the regions hold different JWT keys or admin passwords")
	}
	if _, ok := usVars[keyLegacyJWT]; ok {
		t.Error("the auth Secret still holds the per-region JWT_SECRET")
	}
	token, _, _, err := usEast.Login("admin", usVars[keyAdminPassword])
	if err != nil {
		t.Fatal(err)
	}
	for name, other := range map[string]*auth.Issuer{"eu-west": euWest, "asia-pacific": apac} {
		if _, err := other.Verify(token); err != nil {
			t.Errorf("%s refuses a token us-east issued: %v", name, err)
		}
	}

	// eu-west loses its Secret: it gets the stack's values back.
	if err := env.Clientset("eu-west").CoreV1().Secrets(ns).Delete(context.Background(), authSecret, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	upAt(t, st, t0.Add(time.Minute), false)
	if _, vars := server(t, st, "eu-west", t0); vars[keyJWTKeys] != usVars[keyJWTKeys] || vars[keyAdminPassword] != usVars[keyAdminPassword] {
		t.Error("a region that lost its Secret got new values instead of the stack's")
	}

	// Rotation: a new current key, the old one still verifying.
	t1 := t0.Add(10 * time.Minute)
	notes := upAt(t, st, t1, true)
	if !strings.Contains(strings.Join(notes, "\n"), "--rotate-jwt-key: a new signing key becomes current") {
		t.Errorf("the rotation plan does not say so: %q", notes)
	}
	rotatedUS, rVars := server(t, st, "us-east", t1)
	rotatedEU, reVars := server(t, st, "eu-west", t1)
	if cur, n := keyIDs(t, rVars); cur != t1.Format(keyIDLayout) || n != 2 || rVars[keyJWTKeys] != reVars[keyJWTKeys] {
		t.Fatalf("after the rotation: current %s, %d keys, regions agree: %v", cur, n, rVars[keyJWTKeys] == reVars[keyJWTKeys])
	}
	if _, err := rotatedEU.Verify(token); err != nil {
		t.Errorf("a token signed before the rotation is refused: %v", err)
	}
	fresh, _, _, err := rotatedEU.Login("admin", rVars[keyAdminPassword])
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rotatedUS.Verify(fresh); err != nil {
		t.Errorf("a token signed with the new key is refused elsewhere: %v", err)
	}

	// A run one token lifetime after the rotation retires the old key.
	t2 := t1.Add(time.Hour + time.Minute)
	notes = upAt(t, st, t2, false)
	if !strings.Contains(strings.Join(notes, "\n"), "retired") {
		t.Errorf("the plan does not say the old key retires: %q", notes)
	}
	later, lVars := server(t, st, "asia-pacific", t2)
	if cur, n := keyIDs(t, lVars); cur != t1.Format(keyIDLayout) || n != 1 {
		t.Errorf("after the grace period: current %s, %d keys", cur, n)
	}
	if _, err := later.Verify(fresh); err == nil {
		t.Error("a token older than its lifetime still verifies")
	}
	if again := secretsEngine(st, t2, false).Plan(context.Background(), ns, provider.Options{}); again.Plan.HasChanges() {
		t.Errorf("the plan after retiring has changes: %v", actions(again.Plan.Changes, true))
	}
}
