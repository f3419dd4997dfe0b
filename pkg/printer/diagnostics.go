package printer

import (
	"encoding/json"
	"io"

	"github.com/neko-defense/nekoctl/pkg/plan"
	"github.com/neko-defense/nekoctl/pkg/spec"
)

// DiagnosticsText writes one line per diagnostic: file:line:column: severity: path: message.
func DiagnosticsText(w io.Writer, ds spec.Diagnostics, color bool) error {
	t := &textWriter{w: w, color: color}
	for _, d := range ds {
		line := d.String()
		if color {
			line = t.paint(severityColor(string(d.Severity)), line)
		}
		t.line("%s", line)
	}
	return t.err
}

// ValidationJSON is the machine result of `validate`; zone, when not nil,
// is what `validate --online` read of the Cloudflare zone.
func ValidationJSON(w io.Writer, file string, ds spec.Diagnostics, zone any) error {
	if ds == nil {
		ds = spec.Diagnostics{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(struct {
		FormatVersion string           `json:"format_version"`
		File          string           `json:"file"`
		Valid         bool             `json:"valid"`
		Diagnostics   spec.Diagnostics `json:"diagnostics"`
		Zone          any              `json:"zone,omitempty"`
	}{plan.FormatVersion, file, !ds.HasErrors(), ds, zone})
}
