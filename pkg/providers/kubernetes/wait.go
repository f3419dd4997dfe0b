package kubernetes

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/fluxcd/cli-utils/pkg/kstatus/status"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/neko-defense/nekoctl/internal/ctxtime"
	"github.com/neko-defense/nekoctl/pkg/event"
	"github.com/neko-defense/nekoctl/pkg/plan"
)

// waitRollout waits until a Deployment is available or a StatefulSet ready
// (kstatus Current), reporting progress, and fails with the reason when the
// rollout fails (progress deadline exceeded, replica failure, image pulls)
// or does not finish within the rollout timeout.
func (p *Provider) waitRollout(ctx context.Context, addr plan.Address, gvr schema.GroupVersionResource, applied *unstructured.Unstructured) error {
	start := p.opts.Now()
	lastReport := start
	p.emit(event.Progress, addr, "", "waiting for the rollout", start)
	var last string
	u := applied
	err := p.poll(ctx, p.opts.RolloutTimeout, func(attempt int) (bool, error) {
		if attempt > 0 {
			var err error
			if u, err = p.get(ctx, gvr, applied.GetNamespace(), applied.GetName()); err != nil {
				return false, fmt.Errorf("%s: reading rollout status: %s", addr, apiMessage(err))
			}
		}
		res, err := status.Compute(u)
		if err != nil {
			return false, fmt.Errorf("%s: computing rollout status: %w", addr, err)
		}
		observed, _, _ := unstructured.NestedInt64(u.Object, "status", "observedGeneration")
		stale := observed < u.GetGeneration()
		if reason := rolloutFailure(u, res); reason != "" && !stale {
			return false, fmt.Errorf("%s: rollout failed: %s", addr, reason)
		}
		if res.Status == status.CurrentStatus && !stale {
			p.snapshot().put(u)
			p.emit(event.Progress, addr, "", "rolled out", start)
			return true, nil
		}
		// Image pulls and crash loops show on the pods, and only after a
		// while: look at them once the quick looks are over.
		if attempt >= podCheckAfter && !stale {
			if reason := p.podFailure(ctx, u); reason != "" {
				return false, fmt.Errorf("%s: rollout failed: %s", addr, reason)
			}
		}
		last = res.Message
		if now := p.opts.Now(); now.Sub(lastReport) >= p.opts.ProgressInterval {
			p.emit(event.Progress, addr, "", "rolling out: "+last, start)
			lastReport = now
		}
		return false, nil
	})
	switch {
	case errors.Is(err, errPollTimeout):
		return fmt.Errorf("%s: rollout not finished after %s: %s", addr, p.opts.RolloutTimeout, last)
	case err != nil && ctx.Err() != nil:
		return fmt.Errorf("%s: waiting for the rollout: %w", addr, err)
	}
	return err
}

// podCheckAfter is the number of looks at a rollout before its pods are
// looked at too (about a second with the default PollInterval).
const podCheckAfter = 6

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

// podFailure looks at the workload's pods for failures that never reach the
// Deployment's conditions: image pulls and crash loops.
func (p *Provider) podFailure(ctx context.Context, u *unstructured.Unstructured) string {
	sel, _, _ := unstructured.NestedStringMap(u.Object, "spec", "selector", "matchLabels")
	if len(sel) == 0 {
		return ""
	}
	var parts []string
	for k, v := range sel {
		parts = append(parts, k+"="+v)
	}
	pods, err := p.dyn.Resource(schema.GroupVersionResource{Version: "v1", Resource: "pods"}).Namespace(u.GetNamespace()).
		List(ctx, metav1.ListOptions{LabelSelector: strings.Join(parts, ",")})
	if err != nil {
		return ""
	}
	for _, pod := range pods.Items {
		statuses, _, _ := unstructured.NestedSlice(pod.Object, "status", "containerStatuses")
		for _, cs := range statuses {
			m, _ := cs.(map[string]any)
			waiting, _, _ := unstructured.NestedMap(m, "state", "waiting")
			switch r := str(waiting["reason"]); r {
			case "ErrImagePull", "ImagePullBackOff", "InvalidImageName", "CrashLoopBackOff", "CreateContainerConfigError":
				return fmt.Sprintf("pod %s: %s: %s", pod.GetName(), r, str(waiting["message"]))
			}
		}
	}
	return ""
}

// waitAddress waits for the region's public address (spec override,
// Gateway or Ingress status).
func (p *Provider) waitAddress(ctx context.Context, addr plan.Address) (string, error) {
	start := p.opts.Now()
	lastReport := start
	var found string
	var lastErr error
	err := p.poll(ctx, p.opts.AddressTimeout, func(int) (bool, error) {
		found, lastErr = p.publicAddress(ctx)
		if lastErr == nil && found != "" {
			p.emit(event.Progress, addr, "", "public address "+found, start)
			return true, nil
		}
		if now := p.opts.Now(); now.Sub(lastReport) >= p.opts.ProgressInterval {
			p.emit(event.Progress, addr, "", "waiting for the public address", start)
			lastReport = now
		}
		return false, nil
	})
	if errors.Is(err, errPollTimeout) {
		what := fmt.Sprintf("Gateway %s/%s", p.st.Spec.Workload.Exposure.Gateway.Namespace, p.st.Spec.Workload.Exposure.Gateway.Name)
		if p.st.Spec.Workload.Exposure.Type == "ingress" {
			what = "Ingress " + p.st.Spec.Workload.Namespace + "/" + AppName
		}
		detail := "no address in its status"
		if lastErr != nil {
			detail = apiMessage(lastErr)
		}
		return "", fmt.Errorf("%s: no public address after %s: %s: %s; set regions[].ingressAddress to override",
			addr, p.opts.AddressTimeout, what, detail)
	}
	return found, err
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
// check pod runs as, from a controller shortly after: the check is made
// again, backing off, until it is there.
func (p *Provider) checkPodSecurityOnApply(ctx context.Context, doc map[string]any) error {
	var err error
	perr := p.poll(ctx, serviceAccountTimeout, func(int) (bool, error) {
		err = p.checkPodSecurity(ctx, doc)
		return !errors.Is(err, errNoDefaultServiceAccount), nil
	})
	if perr != nil && !errors.Is(perr, errPollTimeout) {
		return perr
	}
	return err
}
