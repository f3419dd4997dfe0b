package lock

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/go-logr/logr"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	coordinationv1 "k8s.io/client-go/kubernetes/typed/coordination/v1"
	"k8s.io/client-go/tools/leaderelection"
	"k8s.io/client-go/tools/leaderelection/resourcelock"
	"k8s.io/klog/v2"
)

// DefaultLeaseDuration is how long a killed holder's lock outlives it.
const DefaultLeaseDuration = 15 * time.Second

// LeaseConfig places a stack's lock in a coordination.k8s.io/v1 Lease.
type LeaseConfig struct {
	Client          coordinationv1.LeasesGetter
	Namespace, Name string
	Labels          map[string]string
	// Identity names this run (see Identity); it must differ between runs.
	Identity string
	// Duration is how long the lease lasts without renewal.
	Duration time.Duration
	Now      func() time.Time
}

// Lease is a Locker on a Kubernetes Lease, using client-go's resource lock
// and leader election: the record is the one every Kubernetes controller
// writes (holder, acquire and renew times, duration, transitions).
//
// Taking the lock is checked against the record's renew time rather than
// leader election's "observed for a whole lease duration", so that a second
// run can refuse at once naming the holder, and a run after a killed holder
// proceeds as soon as that holder's lease has expired. Once taken, leader
// election renews the lease and releases it on Release.
type Lease struct{ cfg LeaseConfig }

// NewLease returns the Locker of one Lease.
func NewLease(cfg LeaseConfig) *Lease {
	if cfg.Duration <= 0 {
		cfg.Duration = DefaultLeaseDuration
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Lease{cfg: cfg}
}

func (l *Lease) Describe() string { return l.cfg.Namespace + "/" + l.cfg.Name }

func (l *Lease) resourceLock() *resourcelock.LeaseLock {
	return &resourcelock.LeaseLock{
		LeaseMeta:  metav1.ObjectMeta{Namespace: l.cfg.Namespace, Name: l.cfg.Name},
		Client:     l.cfg.Client,
		LockConfig: resourcelock.ResourceLockConfig{Identity: l.cfg.Identity},
		Labels:     l.cfg.Labels,
	}
}

// retryPeriod is how often a waiting run looks again and a holder renews.
func (l *Lease) retryPeriod() time.Duration { return l.cfg.Duration / 6 }

func (l *Lease) Acquire(ctx context.Context, wait time.Duration) (Held, error) {
	rl := l.resourceLock()
	start := l.cfg.Now()
	for {
		other, err := l.take(ctx, rl)
		if err != nil {
			return nil, err
		}
		if other == nil {
			break
		}
		waited := l.cfg.Now().Sub(start)
		if waited >= wait {
			return nil, &HeldError{Holder: *other, Lock: l.Describe(), Waited: waited}
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(min(l.retryPeriod(), wait-waited)):
		}
	}
	return l.keep(ctx, rl)
}

// take writes this run into the lease when nobody holds it or the holder's
// lease expired, and returns the live holder otherwise. The resource
// version makes two runs racing for it see one winner.
func (l *Lease) take(ctx context.Context, rl *resourcelock.LeaseLock) (*Holder, error) {
	for attempt := 0; ; attempt++ {
		now := metav1.NewTime(l.cfg.Now())
		mine := resourcelock.LeaderElectionRecord{HolderIdentity: l.cfg.Identity,
			LeaseDurationSeconds: max(1, int(l.cfg.Duration/time.Second)), AcquireTime: now, RenewTime: now}
		rec, _, err := rl.Get(ctx)
		switch {
		case apierrors.IsNotFound(err):
			err = rl.Create(ctx, mine)
		case err != nil:
			return nil, fmt.Errorf("reading the lock %s: %w", l.Describe(), err)
		default:
			if h := holderOf(rec); h.Identity != l.cfg.Identity && !h.Expired(now.Time) {
				return &h, nil
			}
			mine.LeaderTransitions = rec.LeaderTransitions + 1
			err = rl.Update(ctx, mine)
		}
		if err == nil {
			return nil, nil
		}
		if (apierrors.IsAlreadyExists(err) || apierrors.IsConflict(err)) && attempt < 3 {
			continue // another run wrote first: look at what it wrote
		}
		return nil, fmt.Errorf("taking the lock %s: %w", l.Describe(), err)
	}
}

func holderOf(rec *resourcelock.LeaderElectionRecord) Holder {
	return Holder{Identity: rec.HolderIdentity, Since: rec.AcquireTime.Time, Renewed: rec.RenewTime.Time,
		Duration: time.Duration(rec.LeaseDurationSeconds) * time.Second}
}

// keep hands the taken lease to leader election, which finds this run's
// identity in it, renews it and releases it when cancelled.
//
// The lease take wrote is this run's for a whole lease duration, so the run
// goes on at once: leader election's first renewal (a GET and an update,
// two more round trips to the primary cluster) happens while the run reads.
// Should it not succeed within the renew deadline, the lock counts as lost,
// as when any later renewal fails.
func (l *Lease) keep(ctx context.Context, rl *resourcelock.LeaseLock) (Held, error) {
	h := &heldLease{lost: make(chan struct{}), done: make(chan struct{}), started: make(chan struct{})}
	renewDeadline := l.cfg.Duration * 2 / 3
	le, err := leaderelection.NewLeaderElector(leaderelection.LeaderElectionConfig{
		Lock:            rl,
		Name:            l.Describe(),
		LeaseDuration:   l.cfg.Duration,
		RenewDeadline:   renewDeadline,
		RetryPeriod:     l.retryPeriod(),
		ReleaseOnCancel: true,
		Callbacks: leaderelection.LeaderCallbacks{
			OnStartedLeading: func(context.Context) { close(h.started) },
			OnStoppedLeading: func() {},
		},
	})
	if err != nil {
		return nil, err
	}
	// The lease outlives the run's context: it is released by Release, or
	// expires on its own when the process dies.
	runCtx, cancel := context.WithCancel(klog.NewContext(context.WithoutCancel(ctx), logr.Discard()))
	h.cancel = cancel
	go func() {
		defer close(h.done)
		le.Run(runCtx)
		if runCtx.Err() == nil {
			h.loseOnce.Do(func() { close(h.lost) })
		}
	}()
	go func() {
		t := time.NewTimer(renewDeadline)
		defer t.Stop()
		select {
		case <-h.started:
		case <-h.done:
		case <-t.C:
			h.loseOnce.Do(func() { close(h.lost) })
			cancel()
		}
	}()
	return h, nil
}

type heldLease struct {
	cancel context.CancelFunc
	// started closes when leader election renewed the lease for the first
	// time; done when it stopped.
	started, lost, done chan struct{}
	loseOnce            sync.Once
}

func (h *heldLease) Lost() <-chan struct{} { return h.lost }

// Release lets leader election's first renewal finish, if it is still under
// way, so that leader election knows the lease is this run's and releases
// it; then it stops leader election, which releases the lease.
func (h *heldLease) Release(ctx context.Context) error {
	select {
	case <-h.started:
	case <-h.done:
	case <-ctx.Done():
	}
	h.cancel()
	select {
	case <-h.done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("releasing the lock: %w (it expires on its own)", ctx.Err())
	}
}

func (l *Lease) Holder(ctx context.Context) (*Holder, error) {
	rec, _, err := l.resourceLock().Get(ctx)
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading the lock %s: %w", l.Describe(), err)
	}
	if rec.HolderIdentity == "" {
		return nil, nil
	}
	h := holderOf(rec)
	return &h, nil
}

// Break clears the holder the way leader election releases a lease, so the
// next run takes it at once. A live holder renewing meanwhile is retried: it
// then finds the lease released and takes it again, so only a stale lock
// stays broken.
func (l *Lease) Break(ctx context.Context) error {
	rl := l.resourceLock()
	for attempt := 0; ; attempt++ {
		rec, _, err := rl.Get(ctx)
		if apierrors.IsNotFound(err) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("reading the lock %s: %w", l.Describe(), err)
		}
		now := metav1.NewTime(l.cfg.Now())
		err = rl.Update(ctx, resourcelock.LeaderElectionRecord{LeaderTransitions: rec.LeaderTransitions,
			LeaseDurationSeconds: 1, AcquireTime: now, RenewTime: now})
		if !apierrors.IsConflict(err) || attempt == 3 {
			return err
		}
	}
}
