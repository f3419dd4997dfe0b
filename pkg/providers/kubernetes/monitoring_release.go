package kubernetes

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/neko-defense/nekoctl/pkg/helmrelease"
	"github.com/neko-defense/nekoctl/pkg/plan"
	"github.com/neko-defense/nekoctl/pkg/provider"
)

// ReleaseKind is the plan kind of the monitoring stack's Helm release.
const ReleaseKind = "HelmRelease"

var secretGVR = schema.GroupVersionResource{Version: "v1", Resource: "secrets"}

func (p *Provider) releaseAddress() plan.Address {
	m := p.st.Spec.Monitoring
	return p.address(ReleaseKind, m.Namespace, m.Release)
}

// withRelease adds the monitoring release to the desired resources when
// nekoctl installs it; the objects that need its CRDs depend on it.
func (p *Provider) withRelease(out []provider.Resource) []provider.Resource {
	m := p.st.Spec.Monitoring
	if !m.Installs() {
		return out
	}
	addr := p.releaseAddress()
	for i := range out {
		if out[i].Address.Kind == "ServiceMonitor" || out[i].Address.Kind == "PrometheusRule" || out[i].Address.Kind == "AlertmanagerConfig" {
			out[i].DependsOn = append(out[i].DependsOn, addr)
		}
	}
	return append(out, provider.Resource{Address: addr, Doc: releaseDoc(p.st), Notes: []string{
		fmt.Sprintf("chart %s from %s", m.Chart.Name, m.Chart.Repository),
		fmt.Sprintf("Grafana's admin password is generated once into Secret %s/%s", m.Namespace, grafanaAdminSecret(p.st)),
	}})
}

// helmClient is the Helm SDK client of the monitoring namespace.
func (p *Provider) helmClient() (*helmrelease.Client, error) {
	p.helmOnce.Do(func() {
		p.helm, p.helmErr = helmrelease.New(p.cfg, p.st.Spec.Monitoring.Namespace)
	})
	return p.helm, p.helmErr
}

// readRelease reads the monitoring release (one LIST of the namespace's
// release Secrets) when nekoctl installs it, as an owned resource when it
// carries the stack's label and as Unowned otherwise.
func (p *Provider) readRelease() (*provider.Resource, error) {
	if !p.st.Spec.Monitoring.Installs() {
		return nil, nil
	}
	hc, err := p.helmClient()
	if err != nil {
		return nil, err
	}
	rel, err := hc.Get(p.st.Spec.Monitoring.Release)
	if err != nil || rel == nil {
		return nil, err
	}
	r := &provider.Resource{
		Address:     p.releaseAddress(),
		ID:          fmt.Sprintf("%s/%s", rel.Namespace, rel.Name),
		Doc:         plan.Document{"chart": rel.Chart, "version": rel.Version, "values": rel.Values},
		Fingerprint: fmt.Sprint(rel.Revision),
		Unowned:     rel.Labels[LabelStack] != p.st.Metadata.Name,
	}
	if !rel.Deployed() {
		r.Notes = append(r.Notes, fmt.Sprintf("revision %d is %s", rel.Revision, rel.Status))
	}
	return r, nil
}

// diffRelease plans the release: a create, an upgrade when the chart
// version or the values differ (the fields say which) or the last
// operation did not succeed, an adoption of a release nekoctl did not
// install, or nothing.
func (p *Provider) diffRelease(d, l provider.Resource, exists bool, opts provider.Options) plan.Change {
	c := plan.Change{Address: d.Address, After: d.Doc, DependsOn: d.DependsOn, Notes: d.Notes}
	if !exists {
		c.Action = plan.Create
		return c
	}
	c.ID, c.Before, c.Fingerprint = l.ID, l.Doc, l.Fingerprint
	c.Fields = plan.DiffDocuments(l.Doc, d.Doc, true)
	c.Notes = append(c.Notes, l.Notes...)
	switch {
	case l.Unowned:
		c.Action = plan.Adopt
		if !opts.Adopt {
			c.Conflict = "release exists without this stack's label (installed by hand or another tool); pass --adopt to upgrade and keep it, or set spec.monitoring.install: false to use it as it is"
		}
	case len(c.Fields) > 0 || len(l.Notes) > 0:
		c.Action = plan.Update
	default:
		c.Action = plan.NoOp
	}
	return c
}

// applyRelease installs or upgrades the release exactly as planned: the
// namespace and Grafana's admin Secret first (the password generated only
// when the Secret is missing), then the chart with the planned values.
// A release an interrupted run left pending is marked failed and upgraded.
// Discovery is refreshed afterwards, so that the objects of the CRDs the
// chart brought can be applied next.
func (p *Provider) applyRelease(ctx context.Context, c plan.Change) error {
	m := p.st.Spec.Monitoring
	values, _ := c.After["values"].(map[string]any)
	version, _ := c.After["version"].(string)
	if values == nil || version == "" {
		return fmt.Errorf("%s: the planned release has no chart version or values", c.Address)
	}
	hc, err := p.helmClient()
	if err != nil {
		return err
	}
	if err := p.ensureNamespace(ctx, m.Namespace); err != nil {
		return fmt.Errorf("%s: %w", c.Address, err)
	}
	if err := p.ensureGrafanaAdmin(ctx); err != nil {
		return fmt.Errorf("%s: %w", c.Address, err)
	}
	ch, err := helmrelease.Fetch(helmrelease.Source{Repository: m.Chart.Repository, Name: m.Chart.Name, Version: version,
		Transport: p.opts.ChartTransport})
	if err != nil {
		return fmt.Errorf("%s: %w", c.Address, err)
	}
	live, err := hc.Get(m.Release)
	if err != nil {
		return fmt.Errorf("%s: %w", c.Address, err)
	}
	labels := map[string]string{LabelStack: p.st.Metadata.Name, LabelRegion: p.region, LabelManagedBy: FieldManager}
	switch {
	case live == nil:
		_, err = hc.Install(ctx, m.Release, ch, values, labels)
	case live.Labels[LabelStack] != p.st.Metadata.Name && c.Action != plan.Adopt:
		return p.foreignError(c.Address)
	default:
		if live.Pending() {
			if err := hc.MarkFailed(m.Release); err != nil {
				return fmt.Errorf("%s: clearing the interrupted revision: %w", c.Address, err)
			}
		}
		_, err = hc.Upgrade(ctx, m.Release, ch, values, labels)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", c.Address, err)
	}
	p.mapper.Reset()
	return nil
}

// uninstallRelease removes the release and Grafana's admin Secret, only
// when nekoctl installed them; the namespace and the CRDs stay.
func (p *Provider) uninstallRelease(ctx context.Context, c plan.Change) error {
	m := p.st.Spec.Monitoring
	hc, err := p.helmClient()
	if err != nil {
		return err
	}
	live, err := hc.Get(m.Release)
	if err != nil {
		return fmt.Errorf("%s: %w", c.Address, err)
	}
	if live != nil {
		if live.Labels[LabelStack] != p.st.Metadata.Name {
			return p.foreignError(c.Address)
		}
		if err := hc.Uninstall(m.Release); err != nil {
			return fmt.Errorf("%s: %w", c.Address, err)
		}
	}
	s, err := p.dyn.Resource(secretGVR).Namespace(m.Namespace).Get(ctx, grafanaAdminSecret(p.st), metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		return nil
	case err != nil:
		return fmt.Errorf("%s: reading Grafana's admin Secret: %s", c.Address, apiMessage(err))
	case s.GetLabels()[LabelStack] != p.st.Metadata.Name:
		return nil
	}
	return p.deleteObject(ctx, p.address("Secret", m.Namespace, s.GetName()), secretGVR, s)
}

func (p *Provider) ensureNamespace(ctx context.Context, name string) error {
	_, err := p.dyn.Resource(nsGVR).Get(ctx, name, metav1.GetOptions{})
	if !apierrors.IsNotFound(err) {
		return err
	}
	ns := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "Namespace",
		"metadata": map[string]any{"name": name}}}
	_, err = p.dyn.Resource(nsGVR).Create(ctx, ns, metav1.CreateOptions{FieldManager: FieldManager})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("creating namespace %s: %s", name, apiMessage(err))
	}
	return nil
}

// ensureGrafanaAdmin creates Grafana's admin Secret with a random password
// unless it exists: the password is kept across runs and never shown.
func (p *Provider) ensureGrafanaAdmin(ctx context.Context) error {
	ns, name := p.st.Spec.Monitoring.Namespace, grafanaAdminSecret(p.st)
	_, err := p.dyn.Resource(secretGVR).Namespace(ns).Get(ctx, name, metav1.GetOptions{})
	if !apierrors.IsNotFound(err) {
		return err
	}
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		return err
	}
	s := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
		"metadata": map[string]any{"name": name, "namespace": ns, "labels": map[string]any{
			LabelManagedBy: FieldManager, LabelStack: p.st.Metadata.Name, LabelRegion: p.region}},
		"stringData": map[string]any{grafanaAdminUserKey: "admin", grafanaAdminPasswordKey: base64.RawURLEncoding.EncodeToString(b)},
	}}
	_, err = p.dyn.Resource(secretGVR).Namespace(ns).Create(ctx, s, metav1.CreateOptions{FieldManager: FieldManager})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("creating Grafana's admin Secret %s/%s: %s", ns, name, apiMessage(err))
	}
	return nil
}
