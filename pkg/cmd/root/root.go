// Package root assembles the nekoctl command tree and maps errors to exit codes.
package root

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/MakeNowJust/heredoc"
	"github.com/spf13/cobra"

	"github.com/neko-defense/nekoctl/pkg/cmd/apply"
	costcmd "github.com/neko-defense/nekoctl/pkg/cmd/cost"
	"github.com/neko-defense/nekoctl/pkg/cmd/output"
	"github.com/neko-defense/nekoctl/pkg/cmd/plan"
	"github.com/neko-defense/nekoctl/pkg/cmd/recovery"
	"github.com/neko-defense/nekoctl/pkg/cmd/render"
	"github.com/neko-defense/nekoctl/pkg/cmd/rollback"
	"github.com/neko-defense/nekoctl/pkg/cmd/schema"
	"github.com/neko-defense/nekoctl/pkg/cmd/serve"
	"github.com/neko-defense/nekoctl/pkg/cmd/show"
	"github.com/neko-defense/nekoctl/pkg/cmd/status"
	"github.com/neko-defense/nekoctl/pkg/cmd/unlock"
	"github.com/neko-defense/nekoctl/pkg/cmd/validate"
	versioncmd "github.com/neko-defense/nekoctl/pkg/cmd/version"
	"github.com/neko-defense/nekoctl/pkg/cmdutil"
	"github.com/neko-defense/nekoctl/pkg/version"
)

// NewCmdRoot builds the whole command tree around one factory.
func NewCmdRoot(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "nekoctl <command>",
		Short: "Provision the Neko Defense API's global stack from one spec",
		Long: heredoc.Doc(`
			nekoctl turns one declarative spec (nekoctl.yaml) into a global API
			stack: Cloudflare DNS, TLS, WAF, rate limiting and geo load balancing;
			a multi-region MongoDB Atlas cluster; and the Neko Defense API in a
			Kubernetes cluster per region. It also is that API ('nekoctl serve').
		`),
		Example: heredoc.Doc(`
			$ nekoctl validate -f examples/global.yaml
			$ nekoctl plan -f examples/global.yaml --offline
			$ nekoctl up -f nekoctl.yaml
			$ nekoctl status -f nekoctl.yaml
			$ nekoctl down -f nekoctl.yaml
		`),
		Version:       version.Version,
		SilenceErrors: true,
		SilenceUsage:  true,
	}
	cmd.SetOut(f.IOStreams.Out)
	cmd.SetErr(f.IOStreams.ErrOut)
	cmd.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return &cmdutil.FlagError{Err: err}
	})
	cmd.AddCommand(
		validate.NewCmdValidate(f, nil),
		plan.NewCmdPlan(f, nil),
		apply.NewCmdUp(f, nil),
		apply.NewCmdDown(f, nil),
		status.NewCmdStatus(f, nil),
		costcmd.NewCmdCost(f, nil),
		unlock.NewCmdUnlock(f, nil),
		recovery.NewCmdFailover(f, nil),
		recovery.NewCmdDrill(f, nil),
		recovery.NewCmdRestore(f, nil),
		rollback.NewCmdRollback(f, nil),
		render.NewCmdRender(f, nil),
		schema.NewCmdSchema(f, nil),
		versioncmd.NewCmdVersion(f, nil),
		show.NewCmdShow(f, nil),
		output.NewCmdOutput(f, nil),
		serve.NewCmdServe(f, nil),
	)
	cmd.InitDefaultCompletionCmd()
	if c, _, err := cmd.Find([]string{"completion"}); err == nil && c != cmd {
		c.Example = heredoc.Doc(`
			$ source <(nekoctl completion bash)
			$ nekoctl completion zsh > "${fpath[1]}/_nekoctl"
			$ nekoctl completion fish > ~/.config/fish/completions/nekoctl.fish
		`)
	}
	return cmd
}

// Execute runs the CLI with args and returns the process exit code. Every
// error is printed once here; the code comes from cmdutil.ExitCode.
func Execute(ctx context.Context, f *cmdutil.Factory, args []string) int {
	cmd := NewCmdRoot(f)
	cmd.SetArgs(plan.NormalizeOutFlag(args))
	var intr *cmdutil.Interrupts
	if f.Signals != nil {
		signals, stop := f.Signals()
		defer stop()
		ctx, intr = cmdutil.WatchInterrupts(ctx, signals)
	}
	c, err, ok := executeUntilAborted(ctx, cmd, intr)
	if !ok {
		fmt.Fprintln(f.IOStreams.ErrOut, "Aborted: calls in flight were cut short; a lock held expires on its own.")
		return cmdutil.ExitInterrupted
	}
	if err == nil {
		// Finished all the same (a server shut down gracefully, an apply
		// with nothing left to start).
		return cmdutil.ExitOK
	}
	if intr.Interrupted() {
		return interrupted(f, err)
	}
	var flagErr *cmdutil.FlagError
	switch {
	case cmdutil.IsReported(err):
	case errors.As(err, &flagErr):
		fmt.Fprintf(f.IOStreams.ErrOut, "Error: %v\n\n%s", err, c.UsageString())
	default:
		fmt.Fprintf(f.IOStreams.ErrOut, "Error: %v\n", err)
	}
	return cmdutil.ExitCode(err)
}

// interrupted ends a run that a signal stopped short: ExitInterrupted,
// with the command's own account of it, or else the error its cancelled
// context caused, named as an interruption.
func interrupted(f *cmdutil.Factory, err error) int {
	switch {
	case errors.Is(err, cmdutil.ErrSilent):
	case errors.Is(err, cmdutil.ErrInterrupted), errors.Is(err, cmdutil.ErrAborted):
		fmt.Fprintf(f.IOStreams.ErrOut, "Error: %v\n", err)
	case cmdutil.IsReported(err):
		fmt.Fprintln(f.IOStreams.ErrOut, "Interrupted.")
	default:
		fmt.Fprintf(f.IOStreams.ErrOut, "Error: interrupted: %v\n", err)
	}
	return cmdutil.ExitInterrupted
}

// abortGrace is how long a second interrupt waits for the command to return
// once its contexts are cancelled, before the process ends regardless.
const abortGrace = 3 * time.Second

// executeUntilAborted runs the command; ok is false when a second
// interrupt came and the command did not return within abortGrace.
func executeUntilAborted(ctx context.Context, cmd *cobra.Command, intr *cmdutil.Interrupts) (c *cobra.Command, err error, ok bool) {
	type result struct {
		c   *cobra.Command
		err error
	}
	done := make(chan result, 1)
	go func() {
		c, err := cmd.ExecuteContextC(ctx)
		done <- result{c, err}
	}()
	select {
	case r := <-done:
		return r.c, r.err, true
	case <-intr.Aborted():
	}
	select {
	case r := <-done:
		return r.c, r.err, true
	case <-time.After(abortGrace):
		return nil, nil, false
	}
}
