package apply

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/neko-defense/nekoctl/pkg/cmdutil"
	"github.com/neko-defense/nekoctl/pkg/engine"
	"github.com/neko-defense/nekoctl/pkg/plan"
	"github.com/neko-defense/nekoctl/pkg/printer"
	"github.com/neko-defense/nekoctl/pkg/provider"
)

// slowProvider takes a while per change and tells when one has started.
type slowProvider struct {
	took    time.Duration
	started chan string
	made    atomic.Int32
}

func (p *slowProvider) Name() string   { return "kubernetes" }
func (p *slowProvider) Region() string { return "us-east" }
func (p *slowProvider) Desired(context.Context, provider.Outputs) ([]provider.Resource, error) {
	return nil, nil
}
func (p *slowProvider) Read(context.Context, provider.Outputs) ([]provider.Resource, error) {
	return nil, nil
}
func (p *slowProvider) Diff(context.Context, []provider.Resource, []provider.Resource, provider.Options) ([]plan.Change, error) {
	return nil, nil
}
func (p *slowProvider) Delete(context.Context, plan.Change) error { return nil }
func (p *slowProvider) Apply(ctx context.Context, c plan.Change, _ provider.Outputs) error {
	p.started <- c.Address.Name
	select {
	case <-time.After(p.took):
		p.made.Add(1)
		return nil
	case <-ctx.Done():
		return fmt.Errorf("API server unreachable: %w", ctx.Err())
	}
}

// chain is a plan of n creates, each waiting for the one before.
func chain(n int) *engine.Planned {
	p := &plan.Plan{Stack: "neko"}
	var prev *plan.Address
	for i := range n {
		a := plan.Address{Provider: "kubernetes", Scope: "region/us-east", Region: "us-east", Kind: "ConfigMap", Name: fmt.Sprintf("c%d", i)}
		c := plan.Change{Address: a, Action: plan.Create}
		if prev != nil {
			c.DependsOn = []plan.Address{*prev}
		}
		p.Changes = append(p.Changes, c)
		prev = &a
	}
	return &engine.Planned{Plan: p, Outputs: provider.NewOutputs()}
}

type jsonEvent struct {
	Type     string `json:"type"`
	Resource string `json:"resource"`
	Message  string `json:"message"`
	Error    string `json:"error"`
}

func decodeEvents(t *testing.T, b []byte) []jsonEvent {
	t.Helper()
	var out []jsonEvent
	dec := json.NewDecoder(bytes.NewReader(b))
	for dec.More() {
		var e jsonEvent
		if err := dec.Decode(&e); err != nil {
			t.Fatalf("not a JSON event stream: %v\n%s", err, b)
		}
		out = append(out, e)
	}
	return out
}

// TestFirstInterruptLetsTheChangeInFlightFinish: with JSON events, the
// first signal is announced, the change in flight is made, the others are
// reported interrupted (never failed), and the error maps to exit 130.
func TestFirstInterruptLetsTheChangeInFlightFinish(t *testing.T) {
	sigs := make(chan os.Signal, 2)
	ctx, _ := cmdutil.WatchInterrupts(context.Background(), sigs)
	var stream bytes.Buffer
	pr := &slowProvider{took: 200 * time.Millisecond, started: make(chan string, 10)}
	eng := &engine.Engine{Providers: []provider.Provider{pr}, Events: printer.EventJSON(&stream), Parallelism: 4}
	go func() {
		<-pr.started
		sigs <- os.Interrupt
	}()
	res, err := applyInterruptibly(ctx, eng, chain(4))
	var summary bytes.Buffer
	summarize(&summary, eng, res, true)
	if cmdutil.ExitCode(err) != cmdutil.ExitInterrupted {
		t.Fatalf("err = %v, exit %d", err, cmdutil.ExitCode(err))
	}
	if pr.made.Load() != 1 || len(res.Interrupted()) != 3 || len(res.Failed()) != 0 {
		t.Errorf("made %d, interrupted %d, failed %d; want 1, 3, 0", pr.made.Load(), len(res.Interrupted()), len(res.Failed()))
	}
	if summary.Len() != 0 {
		t.Errorf("text among the JSON events: %q", summary.String())
	}
	counts := map[string]int{}
	var run []string
	for _, e := range decodeEvents(t, stream.Bytes()) {
		counts[e.Type]++
		if e.Resource == "" {
			run = append(run, e.Message)
		}
	}
	if counts["succeeded"] != 1 || counts["interrupted"] != 3+2 || counts["failed"] != 0 {
		t.Errorf("events by type = %v", counts)
	}
	want := []string{
		"starting no more changes, letting those in flight finish (interrupt again to abort them)",
		"1 change(s) made, 3 not made (interrupted), 0 failed, 0 skipped; the next run makes what was not made",
	}
	if strings.Join(run, "\n") != strings.Join(want, "\n") {
		t.Errorf("run events = %q", run)
	}
}

// TestSecondInterruptCutsTheCallInFlight: the change in flight is cut
// short and reported interrupted, not as the error its call returned.
func TestSecondInterruptCutsTheCallInFlight(t *testing.T) {
	sigs := make(chan os.Signal, 2)
	ctx, intr := cmdutil.WatchInterrupts(context.Background(), sigs)
	pr := &slowProvider{took: time.Hour, started: make(chan string, 10)}
	var lines bytes.Buffer
	eng := &engine.Engine{Providers: []provider.Provider{pr}, Events: printer.EventLines(&lines, false), Parallelism: 4}
	go func() {
		<-pr.started
		sigs <- os.Interrupt
		<-intr.Stopped()
		sigs <- os.Interrupt
	}()
	start := time.Now()
	res, err := applyInterruptibly(ctx, eng, chain(3))
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("the abort took %s", took)
	}
	if !errors.Is(err, cmdutil.ErrInterrupted) || len(res.Interrupted()) != 3 {
		t.Fatalf("err = %v, interrupted %d", err, len(res.Interrupted()))
	}
	var summary bytes.Buffer
	summarize(&summary, eng, res, false)
	out := lines.String() + summary.String()
	for _, want := range []string{`ConfigMap["c0"]: interrupted: cut short in flight`, "Interrupted: 0 change(s) made, 3 not made",
		"Not made (the next run makes them):\n  * create kubernetes[region/us-east].ConfigMap[\"c0\"]"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "unreachable") || strings.Contains(out, "context canceled") {
		t.Errorf("the cut call is reported as a failure:\n%s", out)
	}
}
