package kubernetes

import (
	"context"
	"errors"
	"io"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/tools/cache"
	watchtools "k8s.io/client-go/tools/watch"
)

// objectWait is a wait for one object to reach a state.
type objectWait struct {
	gvr             schema.GroupVersionResource
	namespace, name string
	// known is the object's state in hand (an apply's answer): the watch
	// starts from its resourceVersion, so the wait costs one request. Nil:
	// one LIST by name reads the state first.
	known   *unstructured.Unstructured
	timeout time.Duration
	// check judges a state of the object (nil: it does not exist): true
	// ends the wait, an error fails it.
	check func(u *unstructured.Unstructured) (bool, error)
	// idle, when set, runs every ProgressInterval while the wait goes on.
	idle func()
}

// waitFor judges the object's known state, then watches it from that
// resourceVersion and judges every change, until check is satisfied or
// fails, or the timeout passes (errPollTimeout). A watch the server ends
// early resumes from the last resourceVersion seen (client-go's
// RetryWatcher); one whose resourceVersion expired (410 Gone) lists the
// object again and watches on from there. Only a server that refuses to
// watch the resource makes it poll instead.
func (p *Provider) waitFor(ctx context.Context, w objectWait) error {
	start := p.opts.Now()
	wctx, cancel := context.WithTimeoutCause(ctx, w.timeout, errPollTimeout)
	defer cancel()
	err := p.watchUntil(wctx, w)
	var refused *watchRefusedError
	switch {
	case err == nil:
		return nil
	case ctx.Err() != nil:
		return err
	case errors.Is(context.Cause(wctx), errPollTimeout):
		return errPollTimeout
	case errors.As(err, &refused):
		return p.pollFor(ctx, w, w.timeout-p.opts.Now().Sub(start))
	}
	return err
}

// watchRefusedError: the API server does not let nekoctl watch the
// resource (RBAC without the watch verb, an API that serves no watches).
type watchRefusedError struct{ err error }

func (e *watchRefusedError) Error() string { return "watch refused: " + apiMessage(e.err) }
func (e *watchRefusedError) Unwrap() error { return e.err }

// errResourceVersionGone: the watch's resourceVersion is too old to resume
// from; the object is listed again.
var errResourceVersionGone = errors.New("resource version too old")

func (p *Provider) watchUntil(ctx context.Context, w objectWait) error {
	var ticks <-chan time.Time
	if w.idle != nil {
		t := time.NewTicker(p.opts.ProgressInterval)
		defer t.Stop()
		ticks = t.C
	}
	u, rv := w.known, ""
	if u != nil {
		rv = u.GetResourceVersion()
	}
	for {
		if rv == "" {
			var err error
			if u, rv, err = p.listByName(ctx, w); err != nil {
				return classifyWatchError(err)
			}
		}
		if done, err := w.check(u); done || err != nil {
			return err
		}
		err := p.watchFrom(ctx, w, rv, ticks)
		if !errors.Is(err, errResourceVersionGone) {
			return err
		}
		rv = ""
	}
}

// listByName reads the object with a LIST by name: unlike a GET, its
// answer carries a resourceVersion to watch from when the object is absent.
func (p *Provider) listByName(ctx context.Context, w objectWait) (*unstructured.Unstructured, string, error) {
	l, err := p.resourceIn(w.gvr, w.namespace).List(ctx, metav1.ListOptions{FieldSelector: nameSelector(w.name)})
	if err != nil {
		return nil, "", err
	}
	if len(l.Items) == 0 {
		return nil, l.GetResourceVersion(), nil
	}
	return &l.Items[0], l.GetResourceVersion(), nil
}

// watchFrom watches the object from rv, judging every change, until the
// wait ends; errResourceVersionGone when rv expired.
func (p *Provider) watchFrom(ctx context.Context, w objectWait, rv string, ticks <-chan time.Time) error {
	wctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	lw := &cache.ListWatch{WatchFuncWithContext: func(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) {
		o.FieldSelector = nameSelector(w.name)
		wi, err := p.watchIn(w.gvr, w.namespace).Watch(ctx, o)
		if err != nil && !retryable(err) {
			// RetryWatcher would retry these for ever: the wait ends
			// with the error instead (io.EOF stops the watcher quietly).
			cancel(classifyWatchError(err))
			return nil, io.EOF
		}
		return wi, err
	}}
	rw, err := watchtools.NewRetryWatcherWithContext(wctx, rv, lw)
	if err != nil {
		return err
	}
	defer func() { rw.Stop(); <-rw.Done() }()
	for {
		select {
		case <-ticks:
			w.idle()
			continue
		case ev, ok := <-rw.ResultChan():
			if !ok {
				if err := context.Cause(wctx); err != nil && ctx.Err() == nil {
					return err
				}
				return context.Cause(ctx)
			}
			var u *unstructured.Unstructured
			switch ev.Type {
			case watch.Error:
				return classifyWatchError(apierrors.FromObject(ev.Object))
			case watch.Added, watch.Modified:
				u, _ = ev.Object.(*unstructured.Unstructured)
			}
			if done, err := w.check(u); done || err != nil {
				return err
			}
		}
	}
}

// pollFor is the wait for a server that refuses watches: a GET each look.
func (p *Provider) pollFor(ctx context.Context, w objectWait, timeout time.Duration) error {
	lastIdle := p.opts.Now()
	return p.poll(ctx, timeout, func(int) (bool, error) {
		u, err := p.resourceIn(w.gvr, w.namespace).Get(ctx, w.name, metav1.GetOptions{})
		switch {
		case apierrors.IsNotFound(err):
			u = nil
		case err != nil:
			return false, err
		}
		if done, err := w.check(u); done || err != nil {
			return done, err
		}
		if now := p.opts.Now(); w.idle != nil && now.Sub(lastIdle) >= p.opts.ProgressInterval {
			w.idle()
			lastIdle = now
		}
		return false, nil
	})
}

func (p *Provider) resourceIn(gvr schema.GroupVersionResource, namespace string) dynamic.ResourceInterface {
	if namespace == "" {
		return p.dyn.Resource(gvr)
	}
	return p.dyn.Resource(gvr).Namespace(namespace)
}

// watchIn is resourceIn for watches, which may last as long as the wait.
func (p *Provider) watchIn(gvr schema.GroupVersionResource, namespace string) dynamic.ResourceInterface {
	if namespace == "" {
		return p.watches.Resource(gvr)
	}
	return p.watches.Resource(gvr).Namespace(namespace)
}

func nameSelector(name string) string {
	return fields.OneTermEqualSelector("metadata.name", name).String()
}

// retryable errors of a watch request are worth the RetryWatcher's retry:
// the server was busy, timed out or went away for a moment.
func retryable(err error) bool {
	var st apierrors.APIStatus
	if !errors.As(err, &st) {
		return true
	}
	return apierrors.IsTimeout(err) || apierrors.IsServerTimeout(err) || apierrors.IsTooManyRequests(err) ||
		apierrors.IsInternalError(err) || apierrors.IsServiceUnavailable(err) || apierrors.IsUnexpectedServerError(err)
}

func classifyWatchError(err error) error {
	switch {
	case apierrors.IsGone(err) || apierrors.IsResourceExpired(err):
		return errResourceVersionGone
	case apierrors.IsForbidden(err) || apierrors.ReasonForError(err) == metav1.StatusReasonMethodNotAllowed:
		return &watchRefusedError{err}
	}
	return err
}
