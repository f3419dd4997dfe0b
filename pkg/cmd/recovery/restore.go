package recovery

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/MakeNowJust/heredoc"
	"github.com/spf13/cobra"

	"github.com/neko-defense/nekoctl/pkg/cmdutil"
	"github.com/neko-defense/nekoctl/pkg/plan"
	"github.com/neko-defense/nekoctl/pkg/providers/atlas"
)

// RestoreOptions holds the command's dependencies and flags.
type RestoreOptions struct {
	F        *cmdutil.Factory
	File     string
	Output   string
	To       string
	Snapshot string
	Target   string
	Switch   bool
	Guard    cmdutil.GuardOptions
}

// NewCmdRestore builds `restore`; runF replaces the run function in tests.
func NewCmdRestore(f *cmdutil.Factory, runF func(*RestoreOptions) error) *cobra.Command {
	opts := &RestoreOptions{F: f}
	cmd := &cobra.Command{
		Use:   "restore (--to TIME | --snapshot ID) [--target-cluster NAME] [--switch]",
		Short: "Restore the Atlas cluster from a backup snapshot or to a point in time",
		Long: heredoc.Doc(`
			Start an Atlas restore job of the stack's cluster, from a backup snapshot
			(--snapshot ID) or to a point in time within the restore window (--to, an
			RFC 3339 time or a duration ago such as 90m), onto the stack's own cluster
			or onto another existing cluster of the project (--target-cluster). The
			restore overwrites the target's data. The plan is shown first; the job
			runs after confirmation, under the stack's lock, and the command waits
			for it with progress.

			A restore onto another cluster leaves the regions on the stack's
			cluster; the command then says how to point them at the restored one.
			--switch does it: in every region it writes the target's connection
			string (same user, password, database and options) into the Secret
			neko-api-atlas and restarts the API's pods. The next 'nekoctl up' puts
			back the spec's cluster: to stay on the restored one, name it in
			spec.atlas.cluster.name.

			'down --force' keeps the cluster's snapshots unless --delete-backups is
			given, so a restore onto a new cluster is possible after a teardown.
		`),
		Example: heredoc.Doc(`
			$ nekoctl restore -f nekoctl.yaml --to 2026-11-29T18:00:00Z
			$ nekoctl restore -f nekoctl.yaml --to 2h --target-cluster neko-restored --switch --yes
			$ nekoctl restore -f nekoctl.yaml --snapshot 6740b2... -o json
		`),
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if err := cmdutil.CheckOutput(opts.Output); err != nil {
				return err
			}
			if (opts.To == "") == (opts.Snapshot == "") {
				return cmdutil.FlagErrorf("give either --to TIME or --snapshot ID")
			}
			if runF != nil {
				return runF(opts)
			}
			return restoreRun(c.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&opts.File, "file", "f", cmdutil.DefaultSpecFile, "spec file")
	fl.StringVarP(&opts.Output, "output", "o", "text", "output format: text or json")
	fl.StringVar(&opts.To, "to", "", "the point in time to restore to: RFC 3339, or a duration ago (90m)")
	fl.StringVar(&opts.Snapshot, "snapshot", "", "the id of the backup snapshot to restore")
	fl.StringVar(&opts.Target, "target-cluster", "", "restore onto this existing cluster of the project (default: the stack's cluster)")
	fl.BoolVar(&opts.Switch, "switch", false, "point every region's API at the restored cluster and restart its pods")
	cmdutil.AddGuardFlags(cmd, &opts.Guard, "restore")
	return cmd
}

// restoreResult is the -o json document.
type restoreResult struct {
	FormatVersion string   `json:"format_version"`
	Cluster       string   `json:"cluster"`
	Target        string   `json:"target_cluster"`
	Snapshot      string   `json:"snapshot,omitempty"`
	PointInTime   string   `json:"point_in_time,omitempty"`
	JobID         string   `json:"job_id"`
	Switched      []string `json:"switched_regions"`
}

func restoreRun(ctx context.Context, opts *RestoreOptions) error {
	f := opts.F
	l, err := f.LoadStack(opts.File)
	if err != nil {
		return err
	}
	st := l.Stack
	r := atlas.Restore{SnapshotID: opts.Snapshot, TargetCluster: opts.Target}
	if opts.To != "" {
		if r.At, err = parsePointInTime(opts.To, f.Now); err != nil {
			return cmdutil.FlagErrorf("--to: %v", err)
		}
	}
	res := restoreResult{FormatVersion: plan.FormatVersion, Cluster: st.Spec.Atlas.Cluster.Name, Target: opts.Target,
		Snapshot: opts.Snapshot, Switched: []string{}}
	if res.Target == "" {
		res.Target = res.Cluster
	}
	if !r.At.IsZero() {
		res.PointInTime = r.At.UTC().Format(time.RFC3339)
	}
	events := f.EventSink(opts.Output)
	clients, err := buildClients(ctx, f, st, events)
	if err != nil {
		return err
	}
	w := f.IOStreams.Out
	if opts.Output == "json" {
		w = f.IOStreams.ErrOut
	}
	show := func(ctx context.Context) (bool, error) {
		if _, err := clients.atlas.ClusterHost(ctx, res.Target); err != nil {
			return false, fmt.Errorf("the restore target: %w", err)
		}
		from := "snapshot " + res.Snapshot
		if res.PointInTime != "" {
			from = "the point in time " + res.PointInTime
		}
		fmt.Fprintf(w, "Restore Atlas cluster %s from %s onto cluster %s (project %s).\n", res.Cluster, from, res.Target, st.Spec.Atlas.Project)
		fmt.Fprintf(w, "  Every database on %s is replaced by the restored data.\n", res.Target)
		if opts.Switch {
			for _, reg := range st.Spec.Regions {
				fmt.Fprintf(w, "  then region %s: point Secret neko-api-atlas at %s and restart Deployment neko-api\n", reg.Name, res.Target)
			}
		}
		return true, nil
	}
	run := func(ctx context.Context) error {
		if res.JobID, err = clients.atlas.StartRestore(ctx, r); err != nil {
			return err
		}
		fmt.Fprintf(f.IOStreams.ErrOut, "Restore job %s started; waiting for Atlas to finish it.\n", res.JobID)
		if err := clients.atlas.WaitRestore(ctx, res.JobID); err != nil {
			return err
		}
		if opts.Switch {
			if err := switchRegions(ctx, f, clients, st.Spec.Regions, res.Target, &res.Switched); err != nil {
				return err
			}
		}
		return nil
	}
	if err := f.Guarded(ctx, st, opts.Guard, "Start this restore?", show, run); err != nil {
		return err
	}
	if opts.Output == "json" {
		enc := json.NewEncoder(f.IOStreams.Out)
		enc.SetIndent("", "  ")
		return enc.Encode(res)
	}
	fmt.Fprintf(w, "\nRestore job %s finished: cluster %s holds the restored data.\n", res.JobID, res.Target)
	switch {
	case len(res.Switched) > 0:
		fmt.Fprintf(w, "Every region's API now uses %s. The next 'nekoctl up' puts back %s unless spec.atlas.cluster.name names %s.\n",
			res.Target, res.Cluster, res.Target)
	case res.Target != res.Cluster:
		fmt.Fprintf(w, "The regions still use %s. To serve from %s: run this command again with --switch, "+
			"or set spec.atlas.cluster.name: %s and run 'nekoctl up' (with --adopt when nekoctl did not create it).\n", res.Cluster, res.Target, res.Target)
	}
	return nil
}
