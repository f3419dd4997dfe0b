// Package helmrelease installs, upgrades, reads and uninstalls one Helm
// release with the Helm SDK, against a cluster given as a rest.Config (no
// kubeconfig file, no helm binary). Charts come from a chart repository
// URL or an OCI registry and are kept in memory; nothing is printed.
package helmrelease

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"helm.sh/helm/v4/pkg/action"
	chart "helm.sh/helm/v4/pkg/chart/v2"
	"helm.sh/helm/v4/pkg/kube"
	"helm.sh/helm/v4/pkg/release/common"
	release "helm.sh/helm/v4/pkg/release/v1"
	"helm.sh/helm/v4/pkg/storage/driver"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// Release is what nekoctl needs to know of a live release.
type Release struct {
	Name, Namespace string
	Chart, Version  string
	// Values are the values the release was installed with (not the
	// chart's defaults).
	Values   map[string]any
	Labels   map[string]string
	Status   string
	Revision int
	Updated  time.Time
}

// Pending reports a release an interrupted operation left behind.
func (r *Release) Pending() bool {
	switch common.Status(r.Status) {
	case common.StatusPendingInstall, common.StatusPendingUpgrade, common.StatusPendingRollback, common.StatusUninstalling:
		return true
	}
	return false
}

// Deployed reports a release whose last operation succeeded.
func (r *Release) Deployed() bool { return common.Status(r.Status) == common.StatusDeployed }

// Client works on the releases of one namespace of one cluster.
type Client struct {
	cfg       *action.Configuration
	namespace string
	// Timeout bounds an install, upgrade or uninstall (default 10m).
	Timeout time.Duration
}

// New returns a client for the releases in namespace, stored as Secrets
// there as the helm command stores them.
func New(rc *rest.Config, namespace string) (*Client, error) {
	cfg := action.NewConfiguration(action.ConfigurationSetLogger(slog.DiscardHandler))
	if err := cfg.Init(&restGetter{cfg: rc, namespace: namespace}, namespace, "secret"); err != nil {
		return nil, err
	}
	return &Client{cfg: cfg, namespace: namespace, Timeout: 10 * time.Minute}, nil
}

// Get returns the release's latest revision, or nil when there is none.
func (c *Client) Get(name string) (*Release, error) {
	r, err := c.cfg.Releases.Last(name)
	if errors.Is(err, driver.ErrReleaseNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading release %s/%s: %w", c.namespace, name, err)
	}
	rel, ok := r.(*release.Release)
	if !ok {
		return nil, fmt.Errorf("release %s/%s: unsupported release format %T", c.namespace, name, r)
	}
	return fromRelease(rel), nil
}

func fromRelease(rel *release.Release) *Release {
	out := &Release{Name: rel.Name, Namespace: rel.Namespace, Values: rel.Config, Labels: rel.Labels, Revision: rel.Version}
	if rel.Chart != nil && rel.Chart.Metadata != nil {
		out.Chart, out.Version = rel.Chart.Metadata.Name, rel.Chart.Metadata.Version
	}
	if rel.Info != nil {
		out.Status = string(rel.Info.Status)
		out.Updated = rel.Info.LastDeployed
	}
	if out.Values == nil {
		out.Values = map[string]any{}
	}
	return out
}

// Install installs the chart as release name with values and labels (the
// ownership marker, kept on the release's storage). CRDs in the chart's
// crds/ directory are created first and waited for; workloads are not
// waited for.
func (c *Client) Install(ctx context.Context, name string, ch *chart.Chart, values map[string]any, labels map[string]string) (*Release, error) {
	in := action.NewInstall(c.cfg)
	in.ReleaseName, in.Namespace = name, c.namespace
	in.CreateNamespace = true
	in.Labels = labels
	in.Timeout = c.Timeout
	in.WaitStrategy = kube.HookOnlyStrategy
	in.Description = "installed by nekoctl"
	r, err := in.RunWithContext(ctx, ch, values)
	if err != nil {
		return nil, fmt.Errorf("helm install %s/%s: %w", c.namespace, name, err)
	}
	return c.result(r)
}

// Upgrade moves the release to the chart and exactly these values (values
// of earlier revisions are not reused) and sets labels on it.
func (c *Client) Upgrade(ctx context.Context, name string, ch *chart.Chart, values map[string]any, labels map[string]string) (*Release, error) {
	up := action.NewUpgrade(c.cfg)
	up.Namespace = c.namespace
	up.Labels = labels
	up.Timeout = c.Timeout
	up.WaitStrategy = kube.HookOnlyStrategy
	up.ResetValues = true
	up.MaxHistory = 10
	up.Description = "upgraded by nekoctl"
	r, err := up.RunWithContext(ctx, name, ch, values)
	if err != nil {
		return nil, fmt.Errorf("helm upgrade %s/%s: %w", c.namespace, name, err)
	}
	return c.result(r)
}

// Uninstall removes the release and the objects it made (Helm keeps the
// CRDs, and with them any custom resources of other owners).
func (c *Client) Uninstall(name string) error {
	un := action.NewUninstall(c.cfg)
	un.Timeout = c.Timeout
	un.WaitStrategy = kube.HookOnlyStrategy
	un.IgnoreNotFound = true
	if _, err := un.Run(name); err != nil {
		return fmt.Errorf("helm uninstall %s/%s: %w", c.namespace, name, err)
	}
	return nil
}

// MarkFailed records an operation an interruption left pending as failed,
// so that the next upgrade may proceed (Helm refuses to work on a release
// with an operation in progress).
func (c *Client) MarkFailed(name string) error {
	r, err := c.cfg.Releases.Last(name)
	if err != nil {
		return err
	}
	rel, ok := r.(*release.Release)
	if !ok {
		return fmt.Errorf("release %s/%s: unsupported release format %T", c.namespace, name, r)
	}
	rel.SetStatus(common.StatusFailed, "interrupted; marked failed by nekoctl")
	return c.cfg.Releases.Update(rel)
}

func (c *Client) result(r any) (*Release, error) {
	rel, ok := r.(*release.Release)
	if !ok {
		return nil, fmt.Errorf("unsupported release format %T", r)
	}
	return fromRelease(rel), nil
}

// restGetter hands Helm the cluster nekoctl already connects to.
type restGetter struct {
	cfg       *rest.Config
	namespace string
}

func (g *restGetter) ToRESTConfig() (*rest.Config, error) { return rest.CopyConfig(g.cfg), nil }

func (g *restGetter) ToDiscoveryClient() (discovery.CachedDiscoveryInterface, error) {
	dc, err := discovery.NewDiscoveryClientForConfig(rest.CopyConfig(g.cfg))
	if err != nil {
		return nil, err
	}
	return memory.NewMemCacheClient(dc), nil
}

func (g *restGetter) ToRESTMapper() (meta.RESTMapper, error) {
	dc, err := g.ToDiscoveryClient()
	if err != nil {
		return nil, err
	}
	return restmapper.NewShortcutExpander(restmapper.NewDeferredDiscoveryRESTMapper(dc), dc, nil), nil
}

func (g *restGetter) ToRawKubeConfigLoader() clientcmd.ClientConfig {
	return clientcmd.NewDefaultClientConfig(*clientcmdapi.NewConfig(),
		&clientcmd.ConfigOverrides{Context: clientcmdapi.Context{Namespace: g.namespace}})
}
