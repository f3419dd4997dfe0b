package plan

import (
	"fmt"
	"strings"

	"github.com/neko-defense/nekoctl/pkg/plan"
	"github.com/neko-defense/nekoctl/pkg/planfile"
	"github.com/neko-defense/nekoctl/pkg/spec"
	"github.com/neko-defense/nekoctl/pkg/version"
)

// save writes the plan for `up FILE`. A plan whose read failed is not
// saved: it does not know what it would change.
func save(opts *PlanOptions, l *spec.Loaded, p *plan.Plan) error {
	if p.HasErrors() {
		return fmt.Errorf("no plan file was written: the plan has errors")
	}
	digest, err := planfile.SpecDigest(l.Stack)
	if err != nil {
		return err
	}
	saved := *p
	if opts.Output != "markdown" {
		saved.Diagnostics = append(SpecWarnings(l), p.Diagnostics...)
	}
	f := &planfile.File{
		NekoctlVersion: version.Version,
		Spec:           planfile.Spec{Path: opts.File, Digest: digest},
		Options:        planfile.NewOptions(opts.Provider),
		Plan:           &saved,
	}
	if opts.F.Now != nil {
		f.CreatedAt = opts.F.Now().UTC()
	}
	if err := planfile.WriteFile(opts.Out, f); err != nil {
		return err
	}
	fmt.Fprintf(opts.F.IOStreams.ErrOut, "\nSaved the plan to %s. Apply exactly this plan with: nekoctl up %s\n", opts.Out, opts.Out)
	return nil
}

// SpecWarnings are the spec's warnings as plan diagnostics, for renderings
// read away from the terminal (a saved plan, a pull-request comment).
func SpecWarnings(l *spec.Loaded) []plan.Diagnostic {
	var out []plan.Diagnostic
	for _, d := range l.Diagnostics {
		if d.Severity == spec.Warning {
			out = append(out, plan.Diagnostic{Severity: plan.SeverityWarning, Provider: "spec", Message: d.Path + ": " + d.Message})
		}
	}
	return out
}

// NormalizeOutFlag accepts Terraform's single-dash spelling `-out FILE` and
// `-out=FILE` as `--out`; flag parsing would otherwise read it as `-o ut`.
func NormalizeOutFlag(args []string) []string {
	out := make([]string, len(args))
	copy(out, args)
	for i, a := range out {
		if a == "--" {
			break
		}
		if a == "-out" || strings.HasPrefix(a, "-out=") {
			out[i] = "-" + a
		}
	}
	return out
}
