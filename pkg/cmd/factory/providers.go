package factory

import (
	"context"
	"fmt"

	"github.com/neko-defense/nekoctl/pkg/cmdutil"
	"github.com/neko-defense/nekoctl/pkg/event"
	"github.com/neko-defense/nekoctl/pkg/provider"
	"github.com/neko-defense/nekoctl/pkg/spec"
)

func providers(f *cmdutil.Factory) cmdutil.ProvidersFunc {
	return func(ctx context.Context, st *spec.Stack, opts provider.Options, events event.Sink) ([]provider.Provider, error) {
		return nil, fmt.Errorf("providers are not wired into this build yet")
	}
}

func renderManifests(st *spec.Stack, region string) ([]byte, error) {
	return nil, fmt.Errorf("rendering is not wired into this build yet")
}
