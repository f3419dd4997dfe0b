// Package recovery implements the recovery commands: `failover` moves the
// primary to another region, `drill` rehearses a region or pod loss and
// measures the recovery, `restore` restores the Atlas cluster from a backup.
package recovery

import (
	"context"
	"fmt"

	"github.com/neko-defense/nekoctl/pkg/cmdutil"
	"github.com/neko-defense/nekoctl/pkg/engine"
	"github.com/neko-defense/nekoctl/pkg/event"
	"github.com/neko-defense/nekoctl/pkg/provider"
	"github.com/neko-defense/nekoctl/pkg/providers/atlas"
	"github.com/neko-defense/nekoctl/pkg/providers/cloudflare"
	"github.com/neko-defense/nekoctl/pkg/providers/kubernetes"
	"github.com/neko-defense/nekoctl/pkg/spec"
)

// stackClients are the providers of one stack, by kind, built through the
// factory like every other command's.
type stackClients struct {
	atlas *atlas.Provider
	cf    *cloudflare.Provider
	kube  map[string]*kubernetes.Provider
}

func buildClients(ctx context.Context, f *cmdutil.Factory, st *spec.Stack, events event.Sink) (*stackClients, error) {
	if f.Providers == nil {
		return nil, fmt.Errorf("no providers are configured")
	}
	ps, err := f.Providers(ctx, st, provider.Options{}, events)
	if err != nil {
		return nil, err
	}
	c := &stackClients{kube: map[string]*kubernetes.Provider{}}
	for _, p := range ps {
		switch p := p.(type) {
		case *atlas.Provider:
			c.atlas = p
		case *cloudflare.Provider:
			c.cf = p
		case *kubernetes.Provider:
			c.kube[p.Region()] = p
		}
	}
	if c.atlas == nil || c.cf == nil {
		return nil, fmt.Errorf("the Atlas and Cloudflare providers are needed")
	}
	return c, nil
}

// region returns the Kubernetes provider of a region, or why there is none.
func (c *stackClients) region(name string) (*kubernetes.Provider, error) {
	if p := c.kube[name]; p != nil {
		return p, nil
	}
	return nil, fmt.Errorf("region %s: its cluster cannot be reached (check its kubeContext)", name)
}

// engineOver is an engine over the Atlas and Cloudflare providers only.
func (c *stackClients) engineOver(f *cmdutil.Factory, events event.Sink) *engine.Engine {
	return &engine.Engine{Providers: []provider.Provider{c.atlas, c.cf}, Events: events, Now: f.Now, Parallelism: 2}
}
