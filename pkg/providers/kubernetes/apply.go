package kubernetes

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/fluxcd/pkg/ssa"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/neko-defense/nekoctl/internal/ctxtime"
	"github.com/neko-defense/nekoctl/pkg/event"
	"github.com/neko-defense/nekoctl/pkg/plan"
	"github.com/neko-defense/nekoctl/pkg/provider"
)

var zeroTime time.Time

func ssaApplyOptions() ssa.ApplyOptions {
	o := ssa.DefaultApplyOptions()
	o.Force = false
	return o
}

// Apply server-side applies one planned create, update or replace. Unknown
// values are resolved from out (values other providers produced) or, for
// generated secrets, kept from the live Secret or generated once. A
// Deployment or StatefulSet is checked against Pod Security first and
// waited for afterwards; a route publishes the region's public address.
func (p *Provider) Apply(ctx context.Context, c plan.Change, out provider.Outputs) error {
	if err := p.clients(); err != nil {
		return err
	}
	if err := p.apply(ctx, c, out); err != nil {
		return p.readError(err)
	}
	return nil
}

func (p *Provider) apply(ctx context.Context, c plan.Change, out provider.Outputs) error {
	switch c.Action {
	case plan.NoOp:
		return nil
	case plan.Delete:
		return p.delete(ctx, c)
	}
	if c.After == nil {
		return fmt.Errorf("%s: nothing to apply", c.Address)
	}
	gvk := schema.FromAPIVersionAndKind(str(c.After["apiVersion"]), kindOf(c.After))
	m, ok, err := p.mapping(gvk.GroupKind(), gvk.Version)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("%s: the cluster does not serve %s %s", c.Address, gvk.GroupVersion(), gvk.Kind)
	}
	existing, err := p.get(ctx, m.Resource, namespaceOf(c.After), nameOf(c.After))
	switch {
	case apierrors.IsNotFound(err):
		existing = nil
	case err != nil:
		return fmt.Errorf("%s: reading: %w", c.Address, err)
	case !p.owned(existing):
		return p.foreignError(c.Address)
	}
	obj, err := toObject(c.After, p.resolveUnknown(ctx, c.Address, existing, out))
	if err != nil {
		return err
	}
	if gvk.Kind != "Namespace" {
		if err := p.ensureParent(ctx, gvk.GroupKind()); err != nil {
			return fmt.Errorf("%s: recording it in the inventory: %w", c.Address, err)
		}
	}
	if gvk.Kind == "Deployment" || gvk.Kind == "StatefulSet" {
		if err := p.checkPodSecurity(ctx, c.After); err != nil {
			return fmt.Errorf("%s: not applied: %w", c.Address, err)
		}
	}
	if c.Action == plan.Replace && existing != nil {
		if err := p.deleteAndWait(ctx, existing, m.Resource); err != nil {
			return fmt.Errorf("%s: replacing: %w", c.Address, err)
		}
	}
	if _, err := p.manager.Apply(ctx, obj, ssaApplyOptions()); err != nil {
		return fmt.Errorf("%s: apply failed: %s", c.Address, apiMessage(err))
	}
	switch gvk.Kind {
	case "Namespace":
		if err := p.ensureParent(ctx, schema.GroupKind{}); err != nil {
			return fmt.Errorf("%s: creating the inventory: %w", c.Address, err)
		}
	case "Deployment", "StatefulSet":
		return p.waitRollout(ctx, c.Address, m.Resource, obj)
	case "HTTPRoute", "Ingress":
		addr, err := p.waitAddress(ctx, c.Address)
		if err != nil {
			return err
		}
		if out != nil {
			out.Set(fmt.Sprintf(provider.OutIngressAddress, p.region), addr)
		}
	}
	return nil
}

// resolveUnknown supplies values unknown at plan time.
func (p *Provider) resolveUnknown(ctx context.Context, addr plan.Address, existing *unstructured.Unstructured, out provider.Outputs) resolver {
	var live plan.Document
	if existing != nil {
		live = liveDoc(existing)
	}
	return func(path []string, u plan.Unknown) (any, error) {
		if u.From == digestKey(p.region) {
			return p.secretsDigest(ctx)
		}
		if out != nil {
			if v, ok := out.Get(u.From); ok {
				if _, still := v.(plan.Unknown); !still {
					return v, nil
				}
			}
		}
		if u.Changes {
			return nil, fmt.Errorf("%s: %s needs the new value of %s, which is not known yet (apply the change that produces it first)",
				addr, pathString(path), u.From)
		}
		if v, ok := lookup(live, path); ok {
			return v, nil
		}
		if strings.HasPrefix(u.From, "kubernetes/"+p.region+"/generated/") {
			b := make([]byte, 32)
			if _, err := rand.Read(b); err != nil {
				return nil, err
			}
			v := plan.NewSensitive(base64.RawURLEncoding.EncodeToString(b))
			if out != nil {
				out.Set(u.From, v)
			}
			return v, nil
		}
		return nil, fmt.Errorf("%s: %s needs %s, which is not known yet (apply the provider that produces it first)",
			addr, pathString(path), u.From)
	}
}

func (p *Provider) deleteAndWait(ctx context.Context, u *unstructured.Unstructured, gvr schema.GroupVersionResource) error {
	policy := metav1.DeletePropagationBackground
	err := p.dyn.Resource(gvr).Namespace(u.GetNamespace()).Delete(ctx, u.GetName(), metav1.DeleteOptions{PropagationPolicy: &policy})
	if err != nil && !apierrors.IsNotFound(err) {
		return err
	}
	deadline := p.opts.Now().Add(p.opts.RolloutTimeout)
	for p.opts.Now().Before(deadline) {
		_, err := p.get(ctx, gvr, u.GetNamespace(), u.GetName())
		if apierrors.IsNotFound(err) {
			return nil
		}
		if err := ctxtime.Sleep(ctx, p.opts.PollInterval); err != nil {
			return err
		}
	}
	return fmt.Errorf("still present after %s", p.opts.RolloutTimeout)
}

// Delete removes one owned object. The namespace is deleted only when it
// holds nothing of other owners; otherwise it is released: nekoctl's labels
// are removed and the namespace stays. Objects not owned are refused.
func (p *Provider) Delete(ctx context.Context, c plan.Change) error {
	if err := p.clients(); err != nil {
		return err
	}
	if err := p.delete(ctx, c); err != nil {
		return p.readError(err)
	}
	return nil
}

func (p *Provider) delete(ctx context.Context, c plan.Change) error {
	doc := c.Before
	if doc == nil {
		doc = c.After
	}
	gvk := schema.FromAPIVersionAndKind(str(doc["apiVersion"]), kindOf(doc))
	m, ok, err := p.mapping(gvk.GroupKind(), gvk.Version)
	if err != nil {
		return err
	}
	if !ok {
		return nil
	}
	u, err := p.get(ctx, m.Resource, namespaceOf(doc), nameOf(doc))
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("%s: reading: %w", c.Address, err)
	}
	if !p.owned(u) {
		return p.foreignError(c.Address)
	}
	if gvk.Kind == "Namespace" {
		return p.deleteNamespace(ctx, c.Address, u)
	}
	if _, err := p.manager.Delete(ctx, u, ssa.DeleteOptions{
		PropagationPolicy: metav1.DeletePropagationBackground,
		Inclusions:        map[string]string{LabelPartOf: ApplySetID(p.st)},
	}); err != nil {
		return fmt.Errorf("%s: delete failed: %s", c.Address, apiMessage(err))
	}
	return nil
}

func (p *Provider) deleteNamespace(ctx context.Context, addr plan.Address, ns *unstructured.Unstructured) error {
	foreign, err := p.foreignInNamespace(ctx)
	if err != nil {
		return err
	}
	// Members first, in case the engine did not delete them already.
	members, err := p.listMembers(ctx, nil)
	if err != nil {
		return err
	}
	for _, mem := range members {
		if _, err := p.manager.Delete(ctx, mem, ssa.DeleteOptions{PropagationPolicy: metav1.DeletePropagationBackground,
			Inclusions: map[string]string{LabelPartOf: ApplySetID(p.st)}}); err != nil {
			return fmt.Errorf("%s: deleting %s %s: %s", addr, mem.GetKind(), mem.GetName(), apiMessage(err))
		}
	}
	k := p.parentKey()
	err = p.dyn.Resource(schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}).Namespace(k.Namespace).
		Delete(ctx, k.Name, metav1.DeleteOptions{})
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("%s: deleting the inventory: %s", addr, apiMessage(err))
	}
	if len(foreign) == 0 {
		if err := p.dyn.Resource(nsGVR).Delete(ctx, ns.GetName(), metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("%s: delete failed: %s", addr, apiMessage(err))
		}
		return nil
	}
	// Release: applying the namespace with no fields drops every field the
	// "nekoctl" manager owned (its labels); other managers' fields stay.
	release := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]any{"name": ns.GetName()},
	}}
	if _, err := p.manager.Apply(ctx, release, ssaApplyOptions()); err != nil {
		return fmt.Errorf("%s: releasing: %s", addr, apiMessage(err))
	}
	p.emit(event.Warning, addr, plan.Delete,
		fmt.Sprintf("kept the namespace: it holds objects nekoctl does not own (%s); removed nekoctl's labels", strings.Join(foreign, ", ")), zeroTime)
	return nil
}

// secretsDigest identifies the current values of the Secrets the API pods
// read, without revealing them.
func (p *Provider) secretsDigest(ctx context.Context) (string, error) {
	h := sha256.New()
	ns := p.st.Spec.Workload.Namespace
	for _, name := range []string{atlasSecret, authSecret, RedisName} {
		u, err := p.get(ctx, schema.GroupVersionResource{Version: "v1", Resource: "secrets"}, ns, name)
		if apierrors.IsNotFound(err) {
			continue
		}
		if err != nil {
			return "", fmt.Errorf("reading Secret %s/%s: %s", ns, name, apiMessage(err))
		}
		data, _, _ := unstructured.NestedStringMap(u.Object, "data")
		keys := make([]string, 0, len(data))
		for k := range data {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			fmt.Fprintf(h, "%s/%s=%s\n", name, k, data[k])
		}
	}
	return hex.EncodeToString(h.Sum(nil))[:16], nil
}
