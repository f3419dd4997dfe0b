package recovery

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/neko-defense/nekoctl/internal/ctxtime"
	"github.com/neko-defense/nekoctl/pkg/event"
	"github.com/neko-defense/nekoctl/pkg/plan"
	"github.com/neko-defense/nekoctl/pkg/providers/cloudflare"
)

// Pools is the load balancer side of a region-loss drill.
type Pools interface {
	PoolStates(ctx context.Context) ([]cloudflare.PoolState, error)
	SetPoolEnabled(ctx context.Context, region string, enabled bool) error
}

// Database is the Atlas side: the failover test, which returns when the
// cluster is IDLE again.
type Database interface {
	RestartPrimaries(ctx context.Context) error
}

// Pods is the Kubernetes side of a pod-loss drill.
type Pods interface {
	DeleteAPIPod(ctx context.Context) (string, error)
	APIReadiness(ctx context.Context, except string) (ready, want int, err error)
}

// Drill runs drills: it injects a fault, measures until the stack has
// recovered, and undoes what it changed. It emits events and never prints.
type Drill struct {
	Now    func() time.Time
	Sleep  func(ctx context.Context, d time.Duration) error
	Events event.Sink
	// Poll is the pause between two looks at the stack (default 2s);
	// Timeout bounds the wait for recovery (default twice the objective).
	Poll, Timeout time.Duration
}

// Report is what a drill measured.
type Report struct {
	FormatVersion string    `json:"format_version"`
	Drill         string    `json:"drill"`
	Region        string    `json:"region"`
	Database      bool      `json:"database,omitempty"`
	Started       time.Time `json:"started"`
	// Fault is what the drill did.
	Fault string `json:"fault"`
	// Traffic and DB are when each side was healthy again, from the fault;
	// Recovery is the later of the two (the measured RTO).
	Traffic  time.Duration `json:"traffic_ns,omitempty"`
	DB       time.Duration `json:"database_ns,omitempty"`
	Recovery time.Duration `json:"recovery_ns"`
	// Restored says whether the fault was undone, and how long that took.
	Restored      bool          `json:"restored"`
	RestoredAfter time.Duration `json:"restored_ns,omitempty"`
	RestoreError  string        `json:"restore_error,omitempty"`
	Objective     Objective     `json:"objective"`
	Met           bool          `json:"met"`
	Objectives    []Objective   `json:"objectives"`
}

// FormatVersion of the drill report.
const FormatVersion = "1.0"

func (d *Drill) defaults() {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Sleep == nil {
		d.Sleep = ctxtime.Sleep
	}
	if d.Events == nil {
		d.Events = event.Discard
	}
	if d.Poll <= 0 {
		d.Poll = 2 * time.Second
	}
}

func (d *Drill) report(drill, region, scenario string) *Report {
	o := ObjectiveFor(scenario)
	if d.Timeout <= 0 {
		d.Timeout = 2 * o.RTO
	}
	return &Report{FormatVersion: FormatVersion, Drill: drill, Region: region, Started: d.Now(), Objective: o, Objectives: Objectives}
}

func (d *Drill) emit(addr plan.Address, msg string, elapsed time.Duration) {
	d.Events(event.Event{Time: d.Now(), Type: event.Progress, Address: addr, Message: msg, Elapsed: elapsed})
}

// CheckRegionLoss refuses a region-loss drill that would take the last
// healthy pool away, or whose pool is not there to disable.
func CheckRegionLoss(ctx context.Context, pools Pools, region string) ([]cloudflare.PoolState, error) {
	states, err := pools.PoolStates(ctx)
	if err != nil {
		return nil, err
	}
	found, others := false, 0
	for _, s := range states {
		switch {
		case s.Region == region && !s.Enabled:
			return states, fmt.Errorf("the pool of %s is already disabled: enable it (nekoctl up) before a drill", region)
		case s.Region == region:
			found = true
		case s.Enabled && s.Healthy:
			others++
		}
	}
	if !found {
		return states, fmt.Errorf("region %s has no pool of this stack: run 'nekoctl up' first", region)
	}
	if others == 0 {
		return states, fmt.Errorf("no other region's pool is enabled and healthy: the drill would take the API down")
	}
	return states, nil
}

// RegionLoss disables the region's pool (and with db starts Atlas's
// failover test), measures until every other enabled pool is healthy with
// the region's pool out of rotation and the cluster is IDLE again, then
// enables the pool again and waits for it to be healthy. The pool is
// enabled again whatever happens, an interrupt included.
func (d *Drill) RegionLoss(ctx context.Context, pools Pools, db Database, region string) (rep *Report, err error) {
	d.defaults()
	rep = d.report("region-loss", region, ScenarioRegion)
	rep.Database = db != nil
	addr := plan.Address{Provider: cloudflare.Name, Kind: cloudflare.KindPool, Name: region}
	rep.Fault = "disabled the load balancer pool of " + region
	if db != nil {
		rep.Fault += " and ran Atlas's primary failover test"
	}
	if err := pools.SetPoolEnabled(ctx, region, false); err != nil {
		return rep, err
	}
	start := d.Now()
	rep.Started = start
	d.emit(addr, "pool disabled: traffic must move to the other regions", 0)
	defer func() { err = errors.Join(err, d.enablePool(ctx, pools, region, rep)) }()

	wctx, cancel := context.WithTimeout(ctx, d.Timeout)
	defer cancel()
	dbDone := make(chan error, 1)
	if db != nil {
		go func() {
			err := db.RestartPrimaries(wctx)
			rep.DB = d.Now().Sub(start)
			dbDone <- err
		}()
	} else {
		close(dbDone)
	}
	err = d.until(wctx, addr, start, func() (bool, string, error) {
		states, err := pools.PoolStates(wctx)
		if err != nil {
			return false, "", err
		}
		return trafficRecovered(states, region)
	})
	rep.Traffic = d.Now().Sub(start)
	if derr := <-dbDone; derr != nil {
		err = errors.Join(err, fmt.Errorf("the failover test: %w", derr))
	}
	if err != nil {
		return rep, err
	}
	rep.Recovery = max(rep.Traffic, rep.DB)
	rep.Met = rep.Recovery <= rep.Objective.RTO
	return rep, nil
}

func trafficRecovered(states []cloudflare.PoolState, lost string) (bool, string, error) {
	healthy, serving := 0, 0
	for _, s := range states {
		if s.Region == lost {
			if s.Enabled {
				return false, "the pool of " + lost + " still takes traffic", nil
			}
			continue
		}
		if s.Enabled {
			serving++
			if s.Healthy {
				healthy++
			}
		}
	}
	if healthy == 0 || healthy < serving {
		return false, fmt.Sprintf("%d of %d serving pools healthy", healthy, serving), nil
	}
	return true, "", nil
}

// enablePool undoes the fault, also after an interrupt: a second context
// bounds it instead of the cancelled one.
func (d *Drill) enablePool(ctx context.Context, pools Pools, region string, rep *Report) error {
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), max(d.Timeout, time.Minute))
	defer cancel()
	addr := plan.Address{Provider: cloudflare.Name, Kind: cloudflare.KindPool, Name: region}
	start := d.Now()
	if err := pools.SetPoolEnabled(rctx, region, true); err != nil {
		rep.RestoreError = err.Error()
		return fmt.Errorf("the pool of %s is still DISABLED: %w; enable it with 'nekoctl up'", region, err)
	}
	err := d.until(rctx, addr, start, func() (bool, string, error) {
		states, err := pools.PoolStates(rctx)
		if err != nil {
			return false, "", err
		}
		for _, s := range states {
			if s.Region == region {
				return s.Enabled && s.Healthy, "enabled again, not healthy yet", nil
			}
		}
		return false, "", fmt.Errorf("the pool of %s is gone", region)
	})
	rep.Restored, rep.RestoredAfter = true, d.Now().Sub(start)
	if err != nil {
		rep.RestoreError = err.Error()
		return fmt.Errorf("the pool of %s is enabled again but not healthy: %w", region, err)
	}
	d.emit(addr, "pool enabled again and healthy", rep.RestoredAfter)
	return nil
}

// PodLoss deletes one API pod of the region and measures until as many
// pods as the Deployment wants are ready again, the deleted one excluded.
func (d *Drill) PodLoss(ctx context.Context, pods Pods, region string) (*Report, error) {
	d.defaults()
	rep := d.report("pod-loss", region, ScenarioPod)
	addr := plan.Address{Provider: "kubernetes", Region: region, Kind: "Pod"}
	name, err := pods.DeleteAPIPod(ctx)
	if err != nil {
		return rep, err
	}
	start := d.Now()
	rep.Started, rep.Fault = start, "deleted API pod "+name
	addr.Name = name
	d.emit(addr, "pod deleted: waiting for its replacement to be ready", 0)
	wctx, cancel := context.WithTimeout(ctx, d.Timeout)
	defer cancel()
	err = d.until(wctx, addr, start, func() (bool, string, error) {
		ready, want, err := pods.APIReadiness(wctx, name)
		if err != nil {
			return false, "", err
		}
		return ready >= want, fmt.Sprintf("%d/%d ready", ready, want), nil
	})
	rep.Recovery = d.Now().Sub(start)
	rep.Restored = err == nil // the ReplicaSet restores it; nothing for the drill to undo
	if err != nil {
		return rep, err
	}
	rep.Met = rep.Recovery <= rep.Objective.RTO
	return rep, nil
}

// until polls done until it reports true, reporting progress.
func (d *Drill) until(ctx context.Context, addr plan.Address, start time.Time, done func() (bool, string, error)) error {
	last := ""
	for {
		ok, state, err := done()
		if err != nil {
			// The recovery's time ran out during a look (a slow API):
			// that is the drill's verdict, not the look's error.
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				if last == "" {
					last = "no answer yet"
				}
				return fmt.Errorf("not recovered after %s (%s)", d.Now().Sub(start).Round(time.Second), last)
			}
			return err
		}
		if ok {
			return nil
		}
		if state != last {
			d.emit(addr, state, d.Now().Sub(start))
			last = state
		}
		if err := d.Sleep(ctx, d.Poll); err != nil {
			if errors.Is(err, context.DeadlineExceeded) {
				return fmt.Errorf("not recovered after %s (%s)", d.Now().Sub(start).Round(time.Second), state)
			}
			return err
		}
	}
}
