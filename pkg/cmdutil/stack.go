package cmdutil

import (
	"errors"

	"github.com/neko-defense/nekoctl/pkg/printer"
	"github.com/neko-defense/nekoctl/pkg/spec"
)

// DefaultSpecFile is read when -f is not given.
const DefaultSpecFile = "nekoctl.yaml"

// LoadStack loads and validates the spec. Diagnostics (warnings too) go to
// standard error; on errors nothing remote has been touched.
func (f *Factory) LoadStack(path string) (*spec.Loaded, error) {
	l, err := spec.Load(path)
	var ve *spec.ValidationError
	if err != nil && !errors.As(err, &ve) {
		return nil, err
	}
	if l != nil {
		var shown spec.Diagnostics
		for _, d := range l.Diagnostics {
			if d.Severity != spec.Info {
				shown = append(shown, d)
			}
		}
		_ = printer.DiagnosticsText(f.IOStreams.ErrOut, shown, f.IOStreams.ErrColorEnabled())
	}
	return l, err
}
