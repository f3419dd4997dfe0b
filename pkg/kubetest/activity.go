package kubetest

import (
	"context"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/dynamic"
)

// settle is how long the controller keeps reconciling a region after the
// last change it saw there: long enough for every timed answer (a slow
// rollout's Delay, a pod's PodReadyAfter) that tests ask for, a few
// seconds at most.
const settle = 10 * time.Second

// watched are the kinds whose changes wake a region's reconciling: what the
// controller answers (namespaces, workloads, pods, Gateway API objects).
var watched = []schema.GroupVersionResource{
	{Version: "v1", Resource: "namespaces"},
	{Version: "v1", Resource: "pods"},
	{Group: "apps", Version: "v1", Resource: "deployments"},
	{Group: "apps", Version: "v1", Resource: "statefulsets"},
	gatewayGVR,
	httpRouteGVR,
}

// activity records, per region, until when the controller's loops keep
// reconciling it. Real controllers are driven by watches and cost nothing
// while a cluster is quiet; polling every region every 300 ms would instead
// take most of a small machine's CPU with thirty API servers (and every
// request lands in the audit log), starving the process a test or the
// benchmark measures. A region wakes on any watched change and on any new
// answer a test chooses, and goes quiet settle after the last one.
type activity struct {
	mu    sync.Mutex
	until map[string]time.Time
}

func (a *activity) poke(region string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.until == nil {
		a.until = map[string]time.Time{}
	}
	a.until[region] = time.Now().Add(settle)
}

func (a *activity) busy(region string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return time.Now().Before(a.until[region])
}

// quiet reports whether no region is being reconciled.
func (a *activity) quiet() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	now := time.Now()
	for _, until := range a.until {
		if now.Before(until) {
			return false
		}
	}
	return true
}

// WaitQuiet returns once no region has changed for the settle time (or ctx
// ends). A benchmark waits for it before a run it measures: real clusters'
// controllers run on machines of their own, not on the CPU of the process
// measured.
func (c *Controller) WaitQuiet(ctx context.Context) error {
	for !c.active.quiet() {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	return nil
}

// watchRegions wakes each region on changes until ctx ends; the returned
// WaitGroup is done when every watch has stopped.
func (c *Controller) watchRegions(ctx context.Context) *sync.WaitGroup {
	var wg sync.WaitGroup
	for _, r := range c.env.Regions {
		c.active.poke(r)
		dc := dynamic.NewForConfigOrDie(c.env.quietConfig(r))
		for _, gvr := range watched {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c.watchKind(ctx, dc, r, gvr)
			}()
		}
	}
	return &wg
}

// watchKind follows one kind in a region, resuming from the last version
// seen. A kind that is not served yet (Gateway API CRDs installed later) is
// asked for again every second without waking the region.
func (c *Controller) watchKind(ctx context.Context, dc dynamic.Interface, region string, gvr schema.GroupVersionResource) {
	rv := ""
	for ctx.Err() == nil {
		w, err := dc.Resource(gvr).Watch(ctx, metav1.ListOptions{ResourceVersion: rv, AllowWatchBookmarks: true})
		if err != nil {
			if apierrors.IsGone(err) || apierrors.IsResourceExpired(err) {
				rv = ""
			}
			select {
			case <-ctx.Done():
			case <-time.After(time.Second):
			}
			continue
		}
		for ev := range w.ResultChan() {
			switch ev.Type {
			case watch.Error:
				rv = "" // expired: start over, which lists every object again
				c.active.poke(region)
			case watch.Bookmark:
				if u, ok := ev.Object.(*unstructured.Unstructured); ok {
					rv = u.GetResourceVersion()
				}
			default:
				if u, ok := ev.Object.(*unstructured.Unstructured); ok {
					rv = u.GetResourceVersion()
				}
				c.active.poke(region)
			}
		}
		w.Stop()
	}
}
