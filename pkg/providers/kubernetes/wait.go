package kubernetes

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/fluxcd/cli-utils/pkg/kstatus/status"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/tools/cache"
	watchtools "k8s.io/client-go/tools/watch"

	"github.com/neko-defense/nekoctl/internal/ctxtime"
	"github.com/neko-defense/nekoctl/pkg/event"
	"github.com/neko-defense/nekoctl/pkg/plan"
)

// waitRollout waits until a Deployment is available or a StatefulSet ready
// (kstatus Current), reporting progress, and fails with the reason when the
// rollout fails (progress deadline exceeded, replica failure, image pulls)
// or does not finish within the rollout timeout. It watches the workload
// from the apply's answer, so a rollout costs one request however long it
// takes; the pods are watched too once it takes a while.
func (p *Provider) waitRollout(ctx context.Context, addr plan.Address, gvr schema.GroupVersionResource, applied *unstructured.Unstructured) error {
	start := p.opts.Now()
	p.emit(event.Progress, addr, "", "waiting for the rollout", start)
	var last string
	var judged error // what check concluded, as opposed to a failed read
	judge := func(err error) (bool, error) { judged = err; return false, err }
	ctx, fail := context.WithCancelCause(ctx)
	defer fail(nil)
	pods := p.watchPodsLater(ctx, fail, addr, applied)
	defer pods()
	err := p.waitFor(ctx, objectWait{
		gvr: gvr, namespace: applied.GetNamespace(), name: applied.GetName(), known: applied, timeout: p.opts.RolloutTimeout,
		check: func(u *unstructured.Unstructured) (bool, error) {
			if u == nil {
				return judge(fmt.Errorf("%s: deleted while rolling out", addr))
			}
			res, err := status.Compute(u)
			if err != nil {
				return judge(fmt.Errorf("%s: computing rollout status: %w", addr, err))
			}
			observed, _, _ := unstructured.NestedInt64(u.Object, "status", "observedGeneration")
			stale := observed < u.GetGeneration()
			if reason := rolloutFailure(u, res); reason != "" && !stale {
				return judge(fmt.Errorf("%s: rollout failed: %s", addr, reason))
			}
			if res.Status == status.CurrentStatus && !stale {
				p.snapshot().put(u)
				p.emit(event.Progress, addr, "", "rolled out", start)
				return true, nil
			}
			last = res.Message
			return false, nil
		},
		idle: func() { p.emit(event.Progress, addr, "", "rolling out: "+last, start) },
	})
	var failed *podFailureError
	switch {
	case errors.As(context.Cause(ctx), &failed):
		return failed
	case errors.Is(err, errPollTimeout):
		return fmt.Errorf("%s: rollout not finished after %s: %s", addr, p.opts.RolloutTimeout, last)
	case err != nil && ctx.Err() != nil:
		return fmt.Errorf("%s: waiting for the rollout: %w", addr, err)
	case err != nil && err != judged:
		return fmt.Errorf("%s: reading rollout status: %s", addr, apiMessage(err))
	}
	return err
}

// podCheckDelay is how long a rollout runs before its pods are watched
// too: image pulls and crash loops show there, and only after a while.
const podCheckDelay = time.Second

// podFailureError is a rollout failed on its pods.
type podFailureError struct{ msg string }

func (e *podFailureError) Error() string { return e.msg }

// watchPodsLater watches the workload's pods once the rollout has taken
// podCheckDelay, and fails the rollout (fail) when one of them cannot
// start: an image pull or a crash loop never reaches the Deployment's
// conditions. The returned func stops it.
func (p *Provider) watchPodsLater(ctx context.Context, fail context.CancelCauseFunc, addr plan.Address, u *unstructured.Unstructured) (stop func()) {
	sel, _, _ := unstructured.NestedStringMap(u.Object, "spec", "selector", "matchLabels")
	if len(sel) == 0 {
		return func() {}
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		select {
		case <-ctx.Done():
			return
		case <-time.After(podCheckDelay):
		}
		selector := labels.SelectorFromSet(sel).String()
		rc := p.dyn.Resource(podGVR).Namespace(u.GetNamespace())
		judge := func(pod *unstructured.Unstructured) bool {
			if reason := podFailure(pod); reason != "" {
				fail(&podFailureError{fmt.Sprintf("%s: rollout failed: %s", addr, reason)})
				return true
			}
			return false
		}
		// A server that refuses to watch pods ends the watch: they are
		// listed instead, backing off like the other polls.
		watchCtx, refused := context.WithCancelCause(ctx)
		lw := &cache.ListWatch{
			ListWithContextFunc: func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
				o.LabelSelector = selector
				return rc.List(ctx, o)
			},
			WatchFuncWithContext: func(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) {
				o.LabelSelector = selector
				wi, err := p.watchIn(podGVR, u.GetNamespace()).Watch(ctx, o)
				var r *watchRefusedError
				if errors.As(classifyWatchError(err), &r) {
					refused(r)
				}
				return wi, err
			},
		}
		_, _ = watchtools.UntilWithSync(watchCtx, lw, &unstructured.Unstructured{}, nil, func(ev watch.Event) (bool, error) {
			pod, ok := ev.Object.(*unstructured.Unstructured)
			return ok && ev.Type != watch.Deleted && judge(pod), nil
		})
		var r *watchRefusedError
		if ctx.Err() != nil || !errors.As(context.Cause(watchCtx), &r) {
			return
		}
		_ = p.poll(ctx, p.opts.RolloutTimeout, func(int) (bool, error) {
			pods, err := rc.List(ctx, metav1.ListOptions{LabelSelector: selector})
			if err != nil {
				return false, nil
			}
			return slices.ContainsFunc(pods.Items, func(pod unstructured.Unstructured) bool { return judge(&pod) }), nil
		})
	}()
	return func() { cancel(); <-done }
}

var podGVR = schema.GroupVersionResource{Version: "v1", Resource: "pods"}

var errPollTimeout = errors.New("timed out")

// poll calls check until it reports done or fails, or timeout passes
// (errPollTimeout). The first look is immediate; the pauses start at a
// fiftieth of PollInterval and grow by half each time up to PollInterval,
// so that a fast backend is seen at once and a slow one is not flooded.
func (p *Provider) poll(ctx context.Context, timeout time.Duration, check func(attempt int) (bool, error)) error {
	deadline := p.opts.Now().Add(timeout)
	pause := p.opts.PollInterval / 50
	for attempt := 0; ; attempt++ {
		done, err := check(attempt)
		if done || err != nil {
			return err
		}
		if p.opts.Now().After(deadline) {
			return errPollTimeout
		}
		if err := ctxtime.Sleep(ctx, pause); err != nil {
			return err
		}
		pause = min(pause*3/2, p.opts.PollInterval)
	}
}

// rolloutFailure explains a failed rollout from the object's conditions.
func rolloutFailure(u *unstructured.Unstructured, res *status.Result) string {
	conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
	for _, c := range conds {
		m, _ := c.(map[string]any)
		typ, st, reason, msg := str(m["type"]), str(m["status"]), str(m["reason"]), str(m["message"])
		switch {
		case typ == "Progressing" && st == "False",
			typ == "ReplicaFailure" && st == "True":
			return strings.TrimSpace(fmt.Sprintf("%s: %s", reason, msg))
		}
	}
	if res.Status == status.FailedStatus {
		return res.Message
	}
	return ""
}

// podFailure explains a pod that cannot start: failures that never reach
// the Deployment's conditions, image pulls and crash loops.
func podFailure(pod *unstructured.Unstructured) string {
	statuses, _, _ := unstructured.NestedSlice(pod.Object, "status", "containerStatuses")
	for _, cs := range statuses {
		m, _ := cs.(map[string]any)
		waiting, _, _ := unstructured.NestedMap(m, "state", "waiting")
		switch r := str(waiting["reason"]); r {
		case "ErrImagePull", "ImagePullBackOff", "InvalidImageName", "CrashLoopBackOff", "CreateContainerConfigError":
			return fmt.Sprintf("pod %s: %s: %s", pod.GetName(), r, str(waiting["message"]))
		}
	}
	return ""
}

// waitAddress waits for the region's public address (spec override,
// Gateway or Ingress status), watching the Gateway or Ingress: one LIST
// when the address is there, one watch more when it comes later.
func (p *Provider) waitAddress(ctx context.Context, addr plan.Address) (string, error) {
	if a := p.addressOverride(); a != "" {
		return a, nil
	}
	start := p.opts.Now()
	e := p.st.Spec.Workload.Exposure
	w := objectWait{gvr: gatewayGVR, namespace: e.Gateway.Namespace, name: e.Gateway.Name, timeout: p.opts.AddressTimeout,
		idle: func() { p.emit(event.Progress, addr, "", "waiting for the public address", start) }}
	what := fmt.Sprintf("Gateway %s/%s", w.namespace, w.name)
	if e.Type == "ingress" {
		w.gvr, w.namespace, w.name = ingressGVR, p.st.Spec.Workload.Namespace, AppName
		what = "Ingress " + w.namespace + "/" + w.name
	}
	var found string
	detail := "no address in its status"
	w.check = func(u *unstructured.Unstructured) (bool, error) {
		switch {
		case u == nil:
			detail = "not found"
		case e.Type == "ingress":
			found = ingressAddress(u)
		default:
			found = gatewayStatusAddress(u)
		}
		return found != "", nil
	}
	err := p.waitFor(ctx, w)
	switch {
	case errors.Is(err, errPollTimeout):
		return "", fmt.Errorf("%s: no public address after %s: %s: %s; set regions[].ingressAddress to override",
			addr, p.opts.AddressTimeout, what, detail)
	case err != nil:
		return "", fmt.Errorf("%s: waiting for the public address: %s: %s", addr, what, apiMessage(err))
	}
	p.emit(event.Progress, addr, "", "public address "+found, start)
	return found, nil
}

// gatewayStatusAddress is the Gateway's first status address.
func gatewayStatusAddress(u *unstructured.Unstructured) string {
	addrs, _, _ := unstructured.NestedSlice(u.Object, "status", "addresses")
	for _, a := range addrs {
		m, _ := a.(map[string]any)
		if v, _ := m["value"].(string); v != "" {
			return v
		}
	}
	return ""
}

// checkPodSecurity dry-run creates a Pod from a Deployment's or
// StatefulSet's template in its namespace: Pod Security admission checks
// pods, not their controllers, so this is how a violation shows before
// anything rolls out.
func (p *Provider) checkPodSecurity(ctx context.Context, doc map[string]any) error {
	obj, err := toObject(doc, func([]string, plan.Unknown) (any, error) { return "", nil })
	if err != nil {
		return err
	}
	tpl, _, _ := unstructured.NestedMap(obj.Object, "spec", "template")
	podSpec, _, _ := unstructured.NestedMap(tpl, "spec")
	if podSpec == nil {
		return nil
	}
	// The check pod runs as the namespace's default service account, which
	// exists before nekoctl's own; PSA does not look at it.
	podSpec["serviceAccountName"] = "default"
	claims, _, _ := unstructured.NestedSlice(obj.Object, "spec", "volumeClaimTemplates")
	vols, _, _ := unstructured.NestedSlice(podSpec, "volumes")
	for _, c := range claims {
		name, _, _ := unstructured.NestedString(c.(map[string]any), "metadata", "name")
		vols = append(vols, map[string]any{"name": name, "emptyDir": map[string]any{}})
	}
	if len(vols) > 0 {
		podSpec["volumes"] = vols
	}
	labels, _, _ := unstructured.NestedMap(tpl, "metadata", "labels")
	pod := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1", "kind": "Pod",
		"metadata": map[string]any{
			"name": obj.GetName() + "-pod-security-check", "namespace": obj.GetNamespace(), "labels": labels,
		},
		"spec": podSpec,
	}}
	_, err = p.dyn.Resource(schema.GroupVersionResource{Version: "v1", Resource: "pods"}).Namespace(obj.GetNamespace()).
		Create(ctx, pod, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}, FieldManager: FieldManager})
	if err != nil {
		err = fmt.Errorf("%s %s/%s: a pod from its template is refused: %s", obj.GetKind(), obj.GetNamespace(), obj.GetName(), apiMessage(err))
		if strings.Contains(err.Error(), `serviceaccount "default" not found`) {
			err = fmt.Errorf("%w: %w", errNoDefaultServiceAccount, err)
		}
		return err
	}
	return nil
}

// errNoDefaultServiceAccount: the check pod's namespace has no default
// ServiceAccount yet.
var errNoDefaultServiceAccount = errors.New("the namespace has no default ServiceAccount yet")

// serviceAccountTimeout bounds the wait for a new namespace's default
// ServiceAccount.
const serviceAccountTimeout = time.Minute

// checkPodSecurityOnApply runs checkPodSecurity right before an apply. A
// namespace created a moment ago gets its default ServiceAccount, which the
// check pod runs as, from a controller shortly after: the check waits for
// it (a watch) and is made again.
func (p *Provider) checkPodSecurityOnApply(ctx context.Context, doc map[string]any) error {
	err := p.checkPodSecurity(ctx, doc)
	if !errors.Is(err, errNoDefaultServiceAccount) {
		return err
	}
	werr := p.waitFor(ctx, objectWait{gvr: serviceAccountGVR, namespace: namespaceOf(doc), name: "default", timeout: serviceAccountTimeout,
		check: func(u *unstructured.Unstructured) (bool, error) { return u != nil, nil }})
	switch {
	case errors.Is(werr, errPollTimeout):
		return err
	case werr != nil:
		return werr
	}
	return p.checkPodSecurity(ctx, doc)
}

var serviceAccountGVR = schema.GroupVersionResource{Version: "v1", Resource: "serviceaccounts"}
