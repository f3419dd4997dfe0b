package kubernetes

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"

	"github.com/neko-defense/nekoctl/pkg/event"
	"github.com/neko-defense/nekoctl/pkg/plan"
	"github.com/neko-defense/nekoctl/pkg/provider"
	"github.com/neko-defense/nekoctl/pkg/spec"
)

// isolatedStack is the test stack with its own name and namespace, so tests
// can run side by side in one cluster.
func isolatedStack(name string) *spec.Stack {
	st := testStack()
	st.Metadata.Name = name
	st.Spec.Workload.Namespace = name
	return st
}

// appliedStack applies the test stack, in namespace ns of its own, to a
// region whose namespace was dropped first, and returns the stack, the
// provider and the upstream values it applied with.
func appliedStack(t *testing.T, region, ns string) (*spec.Stack, *Provider, provider.Outputs) {
	t.Helper()
	st := isolatedStack(ns)
	dropNamespace(t, region, ns)
	p := newProvider(t, st, region, nil)
	out := upstream()
	applyAll(t, p, planRegion(t, p, out, provider.Options{}), out)
	return st, p, out
}

// upstream are the values the Atlas and Cloudflare providers publish.
func upstream() provider.Outputs {
	out := provider.NewOutputs()
	out.Set(provider.OutMongoURI, plan.NewSensitive("mongodb+srv://neko-api:s3cret@neko-global.abcde.mongodb.net/neko_defense"))
	out.Set(provider.OutDBPassword, plan.NewSensitive("s3cret"))
	out.Set(provider.OutOriginCert, plan.NewSensitive(originCert))
	out.Set(provider.OutOriginKey, plan.NewSensitive(originKey))
	return out
}

// originCert and originKey stand in for the Cloudflare Origin CA pair.
var originCert, originKey = selfSigned()

// originCertValidity is the Origin CA's shortest validity beyond the
// default renewal window (30 days), so that `status` finds it valid.
const originCertValidity = 90 * 24 * time.Hour

func selfSigned() (string, string) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	tpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "api.nekodefense.example"},
		DNSNames: []string{"api.nekodefense.example"}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(originCertValidity)}
	der, err := x509.CreateCertificate(rand.Reader, tpl, tpl, &key.PublicKey, key)
	if err != nil {
		panic(err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		panic(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})),
		string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}))
}

// counter counts API requests.
type counter struct{ n atomic.Int64 }

func (c *counter) wrap(cfg *rest.Config) *rest.Config {
	cfg.WrapTransport = func(rt http.RoundTripper) http.RoundTripper {
		return roundTripFunc(func(r *http.Request) (*http.Response, error) {
			c.n.Add(1)
			return rt.RoundTrip(r)
		})
	}
	return cfg
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// events records what a provider reports.
type events struct {
	mu  sync.Mutex
	all []event.Event
}

func (e *events) sink(ev event.Event) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.all = append(e.all, ev)
}

func (e *events) messages() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []string
	for _, ev := range e.all {
		out = append(out, string(ev.Type)+" "+ev.Address.Kind+" "+ev.Message)
	}
	return out
}

func newProvider(t *testing.T, st *spec.Stack, region string, ev *events) *Provider {
	t.Helper()
	cfg := Config{PollInterval: 100 * time.Millisecond, ProgressInterval: 200 * time.Millisecond, DiscoveryCacheDir: "-",
		RolloutTimeout: 30 * time.Second, AddressTimeout: 10 * time.Second}
	if ev != nil {
		cfg.Events = ev.sink
	}
	return New(st, region, env.RESTConfig(region), cfg)
}

// planRegion runs Read, Desired and Diff as the engine does.
func planRegion(t *testing.T, p *Provider, out provider.Outputs, opts provider.Options) []plan.Change {
	t.Helper()
	changes, err := tryPlan(p, out, opts)
	if err != nil {
		t.Fatalf("plan: %v", err)
	}
	return changes
}

func tryPlan(p *Provider, out provider.Outputs, opts provider.Options) ([]plan.Change, error) {
	ctx := context.Background()
	live, err := p.Read(ctx, out)
	if err != nil {
		return nil, err
	}
	desired, err := p.Desired(ctx, out)
	if err != nil {
		return nil, err
	}
	return p.Diff(ctx, desired, live, opts)
}

// applyAll follows a plan in dependency order: creates and updates after
// what they depend on, deletes of dependents before their dependencies.
func applyAll(t *testing.T, p *Provider, changes []plan.Change, out provider.Outputs) {
	t.Helper()
	if err := tryApply(p, changes, out); err != nil {
		t.Fatalf("apply: %v", err)
	}
}

func tryApply(p *Provider, changes []plan.Change, out provider.Outputs) error {
	ctx := context.Background()
	done := map[plan.Address]bool{}
	pending := map[plan.Address]plan.Change{}
	for _, c := range changes {
		if c.Action != plan.NoOp {
			pending[c.Address] = c
		}
	}
	ready := func(c plan.Change) bool {
		if c.Action == plan.Delete {
			for _, o := range pending {
				if o.Action != plan.Delete {
					continue
				}
				for _, d := range o.DependsOn {
					if d == c.Address {
						return false
					}
				}
			}
			return true
		}
		for _, d := range c.DependsOn {
			if _, waiting := pending[d]; waiting && !done[d] {
				return false
			}
		}
		return true
	}
	for len(pending) > 0 {
		progressed := false
		for _, c := range changes {
			if _, ok := pending[c.Address]; !ok || !ready(c) {
				continue
			}
			var err error
			if c.Action == plan.Delete {
				err = p.Delete(ctx, c)
			} else {
				err = p.Apply(ctx, c, out)
			}
			if err != nil {
				return err
			}
			delete(pending, c.Address)
			done[c.Address] = true
			progressed = true
		}
		if !progressed {
			return errCycle
		}
	}
	return nil
}

var errCycle = &cycleError{}

type cycleError struct{}

func (*cycleError) Error() string { return "changes wait on each other" }

// actions summarises a plan: "create Deployment ns/name".
func actions(changes []plan.Change, skipNoOp bool) []string {
	var out []string
	for _, c := range changes {
		if skipNoOp && c.Action == plan.NoOp {
			continue
		}
		out = append(out, string(c.Action)+" "+c.Address.Kind+" "+c.Address.Name)
	}
	return out
}

func countActions(changes []plan.Change) map[plan.Action]int {
	m := map[plan.Action]int{}
	for _, c := range changes {
		m[c.Action]++
	}
	return m
}

func contains(list []string, sub string) bool {
	for _, s := range list {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

// dropNamespace deletes a namespace when the test ends and waits until it
// is gone, so that tests can run again (-count) in the same clusters.
func dropNamespace(t *testing.T, region, name string) {
	t.Cleanup(func() {
		ctx := context.Background()
		ns := env.Clientset(region).CoreV1().Namespaces()
		_ = ns.Delete(ctx, name, metav1.DeleteOptions{})
		kubetestWait(t, func() bool {
			_, err := ns.Get(ctx, name, metav1.GetOptions{})
			return apierrors.IsNotFound(err)
		})
	})
}
