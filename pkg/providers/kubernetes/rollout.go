package kubernetes

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/fluxcd/cli-utils/pkg/kstatus/status"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"

	"github.com/neko-defense/nekoctl/pkg/event"
	"github.com/neko-defense/nekoctl/pkg/plan"
	"github.com/neko-defense/nekoctl/pkg/provider"
)

var _ provider.RollBacker = (*Provider)(nil)

// AnnotationPreviousRevision holds, on the API Deployment, the revision
// (image and pod template) it ran, healthy, before nekoctl last changed it.
// It is written by its own field manager, so that nekoctl's applies never
// remove it and diffs never see it.
const AnnotationPreviousRevision = "nekoctl.dev/previous-revision"

// rolloutManager is the field manager of the recorded revision and of
// rollbacks; the next `up` takes the template back with a forced apply.
const rolloutManager = "nekoctl-rollout"

var deploymentGVR = schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}

// ErrNoRevision: there is nothing to roll back to.
var ErrNoRevision = provider.ErrNoRevision

// revision is what the annotation records.
type revision struct {
	Image    string         `json:"image"`
	Template map[string]any `json:"template"`
}

// recordRevision stores the live Deployment's revision before it changes,
// when it is healthy (rolled out, its generation observed): a failed
// revision is never recorded as the one to go back to.
func (p *Provider) recordRevision(ctx context.Context, live *unstructured.Unstructured) error {
	if live == nil || !healthy(live) {
		return nil
	}
	tpl, ok, _ := unstructured.NestedMap(live.Object, "spec", "template")
	if !ok {
		return nil
	}
	rev, err := json.Marshal(revision{Image: templateImage(tpl), Template: tpl})
	if err != nil {
		return err
	}
	if live.GetAnnotations()[AnnotationPreviousRevision] == string(rev) {
		return nil
	}
	obj := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "apps/v1", "kind": "Deployment",
		"metadata": map[string]any{"name": live.GetName(), "namespace": live.GetNamespace(),
			"annotations": map[string]any{AnnotationPreviousRevision: string(rev)}},
	}}
	body, err := json.Marshal(obj.Object)
	if err != nil {
		return err
	}
	force := true
	_, err = p.dyn.Resource(deploymentGVR).Namespace(live.GetNamespace()).Patch(ctx, live.GetName(), types.ApplyPatchType, body,
		metav1.PatchOptions{FieldManager: rolloutManager, Force: &force})
	if err != nil {
		return fmt.Errorf("recording the running revision: %s", apiMessage(err))
	}
	return nil
}

// healthy reports a workload whose current generation rolled out.
func healthy(u *unstructured.Unstructured) bool {
	res, err := status.Compute(u)
	if err != nil {
		return false
	}
	observed, _, _ := unstructured.NestedInt64(u.Object, "status", "observedGeneration")
	return res.Status == status.CurrentStatus && observed >= u.GetGeneration()
}

func templateImage(tpl map[string]any) string {
	ctrs, _, _ := unstructured.NestedSlice(tpl, "spec", "containers")
	for _, c := range ctrs {
		if m, ok := c.(map[string]any); ok {
			return str(m["image"])
		}
	}
	return ""
}

// RolloutHealthy: the region answers its health path through the public
// address when that is reachable from here (provider.RollBacker); the
// rollout itself was already waited for.
func (p *Provider) RolloutHealthy(ctx context.Context) error {
	if err := p.clients(); err != nil {
		return err
	}
	h := p.probeHealth(ctx)
	if !h.Healthy {
		return fmt.Errorf("region %s: the origin does not serve %s: %s", p.region, h.Address.Name, h.Detail)
	}
	p.emit(event.Progress, h.Address, "", "probe "+h.Detail, zeroTime)
	return nil
}

// PlanRollback compares the live API Deployment's pod template with the
// recorded revision (provider.RollBacker).
func (p *Provider) PlanRollback(ctx context.Context) (plan.Change, error) {
	addr := p.address("Deployment", p.st.Spec.Workload.Namespace, AppName)
	c := plan.Change{Address: addr, Action: plan.NoOp}
	if err := p.clients(); err != nil {
		return c, err
	}
	live, err := p.get(ctx, deploymentGVR, p.st.Spec.Workload.Namespace, AppName)
	if apierrors.IsNotFound(err) {
		return c, p.wrap(fmt.Errorf("%s: not found: %w", addr, ErrNoRevision))
	}
	if err != nil {
		return c, p.readError(err)
	}
	raw := live.GetAnnotations()[AnnotationPreviousRevision]
	if raw == "" {
		return c, p.wrap(fmt.Errorf("%s: %w", addr, ErrNoRevision))
	}
	var rec revision
	if err := json.Unmarshal([]byte(raw), &rec); err != nil || rec.Template == nil {
		return c, p.wrap(fmt.Errorf("%s: the recorded revision cannot be read", addr))
	}
	cur, _, _ := unstructured.NestedMap(live.Object, "spec", "template")
	c.ID, c.Fingerprint = string(live.GetUID()), live.GetResourceVersion()
	c.Before = plan.Document{"spec": map[string]any{"template": cur}}
	c.After = plan.Document{"spec": map[string]any{"template": rec.Template}}
	// Compared field by field: the record went through JSON, so its
	// numbers are no longer the live object's integer types.
	if c.Fields = plan.DiffDocuments(c.Before, c.After, false); len(c.Fields) == 0 {
		c.Reason = "already runs the recorded revision (" + rec.Image + ")"
		return c, nil
	}
	c.Action = plan.Update
	c.Reason = "roll back to the revision recorded before the last change (" + rec.Image + ")"
	return c, nil
}

// RollBack puts the recorded pod template back, provided the Deployment
// is still the version planned against, and waits for the rollout
// (provider.RollBacker).
func (p *Provider) RollBack(ctx context.Context, c plan.Change) error {
	if c.Action == plan.NoOp {
		return nil
	}
	if err := p.clients(); err != nil {
		return err
	}
	tpl, _ := c.After["spec"].(map[string]any)["template"]
	patch, err := json.Marshal([]map[string]any{
		{"op": "test", "path": "/metadata/resourceVersion", "value": c.Fingerprint},
		{"op": "replace", "path": "/spec/template", "value": tpl},
	})
	if err != nil {
		return err
	}
	ns := p.st.Spec.Workload.Namespace
	applied, err := p.dyn.Resource(deploymentGVR).Namespace(ns).Patch(ctx, AppName, types.JSONPatchType, patch,
		metav1.PatchOptions{FieldManager: rolloutManager})
	switch {
	case apierrors.IsInvalid(err) || apierrors.IsConflict(err) || apierrors.IsBadRequest(err):
		return p.wrap(fmt.Errorf("%s: not rolled back: it changed since the rollback was planned (%s)", c.Address, apiMessage(err)))
	case err != nil:
		return p.readError(fmt.Errorf("%s: rollback failed: %s", c.Address, apiMessage(err)))
	}
	p.snapshot().put(applied)
	return p.waitRollout(ctx, c.Address, deploymentGVR, applied)
}
