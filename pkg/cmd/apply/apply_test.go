package apply

import (
	"context"
	"os"
	"path/filepath"

	"strings"
	"sync"
	"testing"
	"time"

	"github.com/neko-defense/nekoctl/pkg/cmdutil"
	"github.com/neko-defense/nekoctl/pkg/event"
	"github.com/neko-defense/nekoctl/pkg/iostreams"
	"github.com/neko-defense/nekoctl/pkg/lock"
	"github.com/neko-defense/nekoctl/pkg/plan"
	"github.com/neko-defense/nekoctl/pkg/provider"
	"github.com/neko-defense/nekoctl/pkg/spec"
)

// fakeProvider holds its remote state in memory: these tests are about the
// command's steps around the engine (lock, conflicts, interrupts), which no
// remote API is needed for.
type fakeProvider struct {
	region  string
	desired []provider.Resource
	live    []provider.Resource
	// started is told each change as it starts; hold, when set, keeps every
	// change in flight until it is closed.
	started chan plan.Address
	hold    chan struct{}
	log     *journal
}

type journal struct {
	mu  sync.Mutex
	ops []string
}

func (j *journal) add(s string) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.ops = append(j.ops, s)
}

func (j *journal) list() []string {
	j.mu.Lock()
	defer j.mu.Unlock()
	return append([]string(nil), j.ops...)
}

func (p *fakeProvider) Name() string   { return "kubernetes" }
func (p *fakeProvider) Region() string { return p.region }
func (p *fakeProvider) Desired(context.Context, provider.Outputs) ([]provider.Resource, error) {
	p.log.add("desired")
	return p.desired, nil
}
func (p *fakeProvider) Read(context.Context, provider.Outputs) ([]provider.Resource, error) {
	p.log.add("read")
	return p.live, nil
}
func (p *fakeProvider) Diff(_ context.Context, d, l []provider.Resource, o provider.Options) ([]plan.Change, error) {
	return provider.DiffResources(d, l, o), nil
}
func (p *fakeProvider) Apply(ctx context.Context, c plan.Change, _ provider.Outputs) error {
	return p.do(ctx, "apply", c)
}
func (p *fakeProvider) Delete(ctx context.Context, c plan.Change) error {
	return p.do(ctx, "delete", c)
}

func (p *fakeProvider) do(ctx context.Context, op string, c plan.Change) error {
	if p.started != nil {
		p.started <- c.Address
	}
	if p.hold != nil {
		select {
		case <-p.hold:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	p.log.add(op + " " + c.Address.Name)
	return nil
}

func res(name string, deps ...string) provider.Resource {
	r := provider.Resource{Address: addr(name), Doc: plan.Document{"name": name}}
	for _, d := range deps {
		r.DependsOn = append(r.DependsOn, addr(d))
	}
	return r
}

func addr(name string) plan.Address {
	return plan.Address{Provider: "kubernetes", Scope: "region/us-east", Region: "us-east", Kind: "ConfigMap", Name: name}
}

// fakeLocker records what the command asks of the lock.
type fakeLocker struct {
	log    *journal
	heldBy *lock.Holder
}

func (l *fakeLocker) Acquire(_ context.Context, wait time.Duration) (lock.Held, error) {
	if l.heldBy != nil {
		return nil, &lock.HeldError{Holder: *l.heldBy, Lock: l.Describe()}
	}
	l.log.add("lock")
	return fakeHeld{l.log}, nil
}
func (l *fakeLocker) Holder(context.Context) (*lock.Holder, error) { return l.heldBy, nil }
func (l *fakeLocker) Break(context.Context) error                  { l.heldBy = nil; return nil }
func (l *fakeLocker) Describe() string                             { return "kube-system/nekoctl-neko-single" }

type fakeHeld struct{ log *journal }

func (fakeHeld) Lost() <-chan struct{} { return nil }
func (h fakeHeld) Release(context.Context) error {
	h.log.add("unlock")
	return nil
}

type fakeWorld struct {
	f        *cmdutil.Factory
	provider *fakeProvider
	locker   *fakeLocker
	log      *journal
	spec     string
}

func newFakeWorld(t *testing.T, desired, live []provider.Resource) *fakeWorld {
	log := &journal{}
	w := &fakeWorld{log: log, spec: fakeSpec(t), provider: &fakeProvider{region: "us-east", desired: desired, live: live, log: log},
		locker: &fakeLocker{log: log}}
	ios, _, _, _ := iostreams.Test()
	w.f = &cmdutil.Factory{IOStreams: ios, Now: time.Now, Getenv: func(string) string { return "" },
		Providers: func(context.Context, *spec.Stack, provider.Options, event.Sink) ([]provider.Provider, error) {
			return []provider.Provider{w.provider}, nil
		},
		Locker: func(*spec.Stack, time.Duration) (lock.Locker, error) { return w.locker, nil },
	}
	return w
}

// fakeSpec is the single-region example with an immutable image, which a
// build without a release version needs to deploy.
func fakeSpec(t *testing.T) string {
	t.Helper()
	src, err := os.ReadFile("../../../examples/single-region.yaml")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "nekoctl.yaml")
	spec := string(src) + "  workload:\n    image: neko-defense/nekoctl:1.0.0@sha256:" + strings.Repeat("ab", 32) + "\n"
	if err := os.WriteFile(path, []byte(spec), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func (w *fakeWorld) up(ctx context.Context, mutate func(*ApplyOptions)) (string, error) {
	ios, _, out, errOut := iostreams.Test()
	w.f.IOStreams = ios
	o := &ApplyOptions{F: w.f, Yes: true}
	o.File, o.Output, o.Parallelism = w.spec, "text", 4
	o.Lock.Enabled = true
	if mutate != nil {
		mutate(o)
	}
	err := applyRun(ctx, o)
	return out.String() + errOut.String(), err
}

func TestUpHoldsTheLockAroundPlanAndApply(t *testing.T) {
	w := newFakeWorld(t, []provider.Resource{res("a"), res("b", "a")}, nil)
	out, err := w.up(context.Background(), nil)
	if err != nil {
		t.Fatalf("up: %v\n%s", err, out)
	}
	got := strings.Join(w.log.list(), ", ")
	if want := "lock, read, desired, apply a, apply b, unlock"; got != want {
		t.Errorf("steps = %s\nwant    %s", got, want)
	}
}

func TestUpRefusesWhenAnotherRunHoldsTheLock(t *testing.T) {
	w := newFakeWorld(t, []provider.Resource{res("a")}, nil)
	since := time.Date(2026, 11, 29, 17, 0, 0, 0, time.UTC)
	w.locker.heldBy = &lock.Holder{Identity: "ci@runner pid 9 (GitHub Actions, job 42, neko/api) #abcdef", Since: since}
	out, err := w.up(context.Background(), nil)
	if err == nil || !strings.Contains(err.Error(), "ci@runner pid 9 (GitHub Actions, job 42, neko/api)") ||
		!strings.Contains(err.Error(), "2026-11-29T17:00:00Z") || !strings.Contains(err.Error(), "--lock=false") {
		t.Fatalf("want a refusal naming the holder, since when and the break-glass flag, got %v\n%s", err, out)
	}
	if ops := w.log.list(); len(ops) != 0 {
		t.Errorf("a refused run touched the providers: %v", ops)
	}
}

func TestUpWithoutTheLockSaysSo(t *testing.T) {
	w := newFakeWorld(t, []provider.Resource{res("a")}, nil)
	out, err := w.up(context.Background(), func(o *ApplyOptions) { o.Lock.Enabled = false })
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "without the stack lock (--lock=false, break-glass use)") {
		t.Errorf("--lock=false not said:\n%s", out)
	}
	for _, op := range w.log.list() {
		if op == "lock" {
			t.Error("--lock=false took the lock")
		}
	}
}

func TestUpStopsAtThePlanNamingEveryConflict(t *testing.T) {
	unowned := func(name string) provider.Resource {
		r := res(name)
		r.Doc = plan.Document{"name": name, "hand": "made"}
		r.ID, r.Unowned = name, true
		return r
	}
	desired := []provider.Resource{res("a"), res("b"), res("c")}
	live := []provider.Resource{unowned("a"), unowned("b")}

	w := newFakeWorld(t, desired, live)
	out, err := w.up(context.Background(), nil)
	if err == nil {
		t.Fatalf("up applied a plan with conflicts:\n%s", out)
	}
	for _, want := range []string{`ConfigMap["a"]`, `ConfigMap["b"]`, "--adopt", "nothing was applied"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("refusal lacks %q: %v", want, err)
		}
	}
	for _, op := range w.log.list() {
		if strings.HasPrefix(op, "apply") {
			t.Errorf("applied before refusing: %v", w.log.list())
		}
	}

	w = newFakeWorld(t, desired, live)
	out, err = w.up(context.Background(), func(o *ApplyOptions) { o.Provider.Adopt = true })
	if err != nil {
		t.Fatalf("up --adopt: %v\n%s", err, out)
	}
	if !strings.Contains(out, "<= ") {
		t.Errorf("the plan does not show the adoptions:\n%s", out)
	}
	if got := strings.Join(w.log.list(), ","); !strings.Contains(got, "apply a") || !strings.Contains(got, "apply b") {
		t.Errorf("adopted objects not applied: %s", got)
	}
}
