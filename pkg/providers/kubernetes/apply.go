package kubernetes

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/neko-defense/nekoctl/pkg/event"
	"github.com/neko-defense/nekoctl/pkg/plan"
	"github.com/neko-defense/nekoctl/pkg/provider"
)

var zeroTime time.Time

// Apply server-side applies one planned create, update, replace or
// adoption, releases a kept namespace, or deletes. It starts from what the
// plan's Read saw (no second look at the object) and sends one apply per
// object; the inventory is written once per region, before the first
// object. Unknown values are resolved from out (values other providers
// produced) or, for generated secrets, kept from the live Secret or
// generated once. A Deployment or StatefulSet is checked against Pod
// Security first and waited for afterwards; a route publishes the region's
// public address.
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
	if c.Conflict != "" {
		// The command refuses such a plan; never take an object over
		// without --adopt should one reach here.
		return fmt.Errorf("%s: not applied: %s", c.Address, c.Conflict)
	}
	if c.Address.Kind == ReleaseKind {
		switch c.Action {
		case plan.NoOp:
			return nil
		case plan.Delete:
			return p.uninstallRelease(ctx, c)
		}
		return p.applyRelease(ctx, c)
	}
	switch c.Action {
	case plan.NoOp:
		return nil
	case plan.Delete:
		return p.delete(ctx, c)
	case plan.Keep:
		return p.keep(ctx, c)
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
	existing, err := p.current(ctx, c, m.Resource)
	if err != nil {
		return err
	}
	if existing != nil && !p.owned(existing) && c.Action != plan.Adopt && !(gvk.Kind == "Namespace" && p.released(existing)) {
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
	} else if existing != nil && p.released(existing) {
		// Taking back a namespace this stack released: the marker goes.
		ann := obj.GetAnnotations()
		if ann == nil {
			ann = map[string]string{}
		}
		delete(ann, AnnotationReleased)
		obj.SetAnnotations(ann)
	}
	if gvk.Kind == "Deployment" || gvk.Kind == "StatefulSet" {
		if err := p.checkPodSecurityOnApply(ctx, c.After); err != nil {
			return fmt.Errorf("%s: not applied: %w", c.Address, err)
		}
	}
	if gvk.Kind == "Deployment" && c.Action != plan.Create {
		if err := p.recordRevision(ctx, existing); err != nil {
			return fmt.Errorf("%s: not applied: %w", c.Address, err)
		}
	}
	if c.Action == plan.Replace && existing != nil {
		if err := p.deleteAndWait(ctx, existing, m.Resource); err != nil {
			return fmt.Errorf("%s: replacing: %w", c.Address, err)
		}
	}
	// A create does not force: an object someone made since the plan fails
	// with a conflict instead of being taken over.
	applied, err := p.serverSideApply(ctx, m.Resource, obj, c.Action != plan.Create, false)
	if err != nil {
		return fmt.Errorf("%s: apply failed: %s", c.Address, apiMessage(err))
	}
	p.snapshot().put(applied)
	switch gvk.Kind {
	case "Namespace":
		if err := p.ensureParent(ctx, schema.GroupKind{}); err != nil {
			return fmt.Errorf("%s: creating the inventory: %w", c.Address, err)
		}
	case "Deployment", "StatefulSet":
		return p.waitRollout(ctx, c.Address, m.Resource, applied)
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

// current is the live object a change starts from: what Read saw in this
// run, or, without a Read (a plan made elsewhere), one GET.
func (p *Provider) current(ctx context.Context, c plan.Change, gvr schema.GroupVersionResource) (*unstructured.Unstructured, error) {
	doc := c.After
	if doc == nil {
		doc = c.Before
	}
	snap := p.snapshot()
	if snap != nil {
		if u, ok := snap.get(docKey(doc)); ok {
			return u, nil
		}
		if c.Action == plan.Create {
			return nil, nil
		}
	}
	u, err := p.get(ctx, gvr, namespaceOf(doc), nameOf(doc))
	switch {
	case apierrors.IsNotFound(err):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("%s: reading: %w", c.Address, err)
	}
	return u, nil
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
		if strings.HasPrefix(u.From, StackSecretKey("")) {
			if !p.isPrimary() && primaryInRun(p.st, out) {
				return nil, fmt.Errorf("%s: %s needs the stack's shared %s, which the primary region's Secret settles (apply it first)",
					addr, pathString(path), strings.TrimPrefix(u.From, StackSecretKey("")))
			}
			v, err := p.generateShared(u.From, out)
			if err != nil {
				return nil, err
			}
			if out != nil {
				out.Set(u.From, v)
			}
			return v, nil
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
	p.snapshot().drop(keyOf(u))
	err = p.waitFor(ctx, objectWait{gvr: gvr, namespace: u.GetNamespace(), name: u.GetName(), known: u, timeout: p.opts.RolloutTimeout,
		check: func(u *unstructured.Unstructured) (bool, error) { return u == nil, nil }})
	if errors.Is(err, errPollTimeout) {
		return fmt.Errorf("still present after %s", p.opts.RolloutTimeout)
	}
	return err
}

// Delete removes one owned object, exactly the one planned (its UID is a
// precondition). The namespace is deleted only when it holds nothing of
// other owners; otherwise it is released and kept. Objects not owned are
// refused.
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
	if c.Address.Kind == ReleaseKind {
		return p.uninstallRelease(ctx, c)
	}
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
	u, err := p.current(ctx, plan.Change{Address: c.Address, Action: plan.Delete, Before: doc}, m.Resource)
	if err != nil || u == nil {
		return err
	}
	if !p.owned(u) && !(gvk.Kind == "Namespace" && p.released(u)) {
		return p.foreignError(c.Address)
	}
	if gvk.Kind == "Namespace" {
		return p.deleteNamespace(ctx, c, u)
	}
	return p.deleteObject(ctx, c.Address, m.Resource, u)
}

func (p *Provider) deleteObject(ctx context.Context, addr plan.Address, gvr schema.GroupVersionResource, u *unstructured.Unstructured) error {
	policy := metav1.DeletePropagationBackground
	uid := u.GetUID()
	opts := metav1.DeleteOptions{PropagationPolicy: &policy, Preconditions: &metav1.Preconditions{UID: &uid}}
	ri := p.dyn.Resource(gvr)
	var err error
	if ns := u.GetNamespace(); ns != "" {
		err = ri.Namespace(ns).Delete(ctx, u.GetName(), opts)
	} else {
		err = ri.Delete(ctx, u.GetName(), opts)
	}
	switch {
	case apierrors.IsNotFound(err):
	case apierrors.IsConflict(err):
		return fmt.Errorf("%s: not deleted: it was replaced since the plan read it (%s)", addr, apiMessage(err))
	case err != nil:
		return fmt.Errorf("%s: delete failed: %s", addr, apiMessage(err))
	}
	p.snapshot().drop(keyOf(u))
	return nil
}

// deleteNamespace deletes what is left of the stack in the namespace, the
// inventory, then the namespace; should objects of other owners have
// appeared since the plan, the namespace is released and kept instead.
func (p *Provider) deleteNamespace(ctx context.Context, c plan.Change, ns *unstructured.Unstructured) error {
	members, foreign, err := p.namespaceContents(ctx)
	if err != nil {
		return err
	}
	if err := p.deleteMembers(ctx, c.Address, members); err != nil {
		return err
	}
	if len(foreign) > 0 {
		if err := p.release(ctx, c.Address, ns); err != nil {
			return err
		}
		p.emit(event.Warning, c.Address, plan.Keep, provider.KeepReason(foreign)+"; it was released, not deleted", zeroTime)
		return nil
	}
	return p.deleteObject(ctx, c.Address, nsGVR, ns)
}

// keep releases a namespace the plan keeps: what is left of the stack in it
// and the inventory go; the namespace stays, without nekoctl's labels and
// marked released, so that a later `up` of this stack takes it back.
func (p *Provider) keep(ctx context.Context, c plan.Change) error {
	if c.Address.Kind != "Namespace" {
		return fmt.Errorf("%s: only a namespace can be kept", c.Address)
	}
	u, err := p.current(ctx, c, nsGVR)
	if err != nil || u == nil {
		return err
	}
	members, _, err := p.namespaceContents(ctx)
	if err != nil {
		return err
	}
	if err := p.deleteMembers(ctx, c.Address, members); err != nil {
		return err
	}
	return p.release(ctx, c.Address, u)
}

func (p *Provider) deleteMembers(ctx context.Context, addr plan.Address, members []*unstructured.Unstructured) error {
	for _, mem := range members {
		m, ok, err := p.mapping(mem.GroupVersionKind().GroupKind(), mem.GroupVersionKind().Version)
		if err != nil || !ok {
			return err
		}
		if err := p.deleteObject(ctx, p.address(mem.GetKind(), mem.GetNamespace(), mem.GetName()), m.Resource, mem); err != nil {
			return fmt.Errorf("%s: %w", addr, err)
		}
	}
	k := p.parentKey()
	err := p.dyn.Resource(configMapGVR).Namespace(k.Namespace).Delete(ctx, k.Name, metav1.DeleteOptions{})
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("%s: deleting the inventory: %s", addr, apiMessage(err))
	}
	p.inv.load(nil)
	return nil
}

// release applies the namespace with only the released marker: server-side
// apply drops every field the "nekoctl" manager owned and no longer sets
// (its labels); other managers' fields stay.
func (p *Provider) release(ctx context.Context, addr plan.Address, ns *unstructured.Unstructured) error {
	obj := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1", "kind": "Namespace",
		"metadata": map[string]any{"name": ns.GetName(), "annotations": map[string]any{AnnotationReleased: ApplySetID(p.st)}},
	}}
	applied, err := p.serverSideApply(ctx, nsGVR, obj, true, false)
	if err != nil {
		return fmt.Errorf("%s: releasing: %s", addr, apiMessage(err))
	}
	p.snapshot().put(applied)
	return nil
}

// secretsDigest identifies the current values of the Secrets the API pods
// read, without revealing them, from what this run read and applied.
func (p *Provider) secretsDigest(ctx context.Context) (string, error) {
	h := sha256.New()
	ns := p.st.Spec.Workload.Namespace
	snap := p.snapshot()
	for _, name := range []string{atlasSecret, authSecret, RedisName} {
		u, ok := snap.get(objKey{schema.GroupKind{Kind: "Secret"}, ns, name})
		if snap == nil {
			var err error
			u, err = p.get(ctx, schema.GroupVersionResource{Version: "v1", Resource: "secrets"}, ns, name)
			if err != nil && !apierrors.IsNotFound(err) {
				return "", fmt.Errorf("reading Secret %s/%s: %s", ns, name, apiMessage(err))
			}
			ok = err == nil
		}
		if !ok {
			continue
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
