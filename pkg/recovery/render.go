package recovery

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// JSON writes the report as one indented document.
func (r *Report) JSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// Text writes the measurement and then the objectives table with the
// measured row filled in.
func (r *Report) Text(w io.Writer) error {
	fmt.Fprintf(w, "Drill %s, region %s\n", r.Drill, r.Region)
	fmt.Fprintf(w, "  fault:     %s\n", r.Fault)
	if r.Drill == "region-loss" {
		fmt.Fprintf(w, "  traffic:   served by the other regions' healthy pools after %s\n", short(r.Traffic))
		if r.Database {
			fmt.Fprintf(w, "  database:  IDLE again after the failover test, %s\n", short(r.DB))
		}
	}
	fmt.Fprintf(w, "  recovery:  %s against an RTO of %s for a %s failure: %s\n",
		short(r.Recovery), short(r.Objective.RTO), r.Objective.Scenario, verdict(r.Met))
	fmt.Fprintf(w, "  restored:  %s\n\n", r.restored())
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SCENARIO\tRTO\tRPO\tRECOVERY\tSOURCE\tMEASURED")
	for _, row := range r.rows() {
		fmt.Fprintln(tw, strings.Join(row, "\t"))
	}
	return tw.Flush()
}

// Markdown writes the same as Text as a Markdown section, for a ticket or
// a pull request.
func (r *Report) Markdown(w io.Writer) error {
	fmt.Fprintf(w, "### Drill `%s`, region `%s`\n\n", r.Drill, r.Region)
	fmt.Fprintf(w, "- Fault: %s\n", r.Fault)
	fmt.Fprintf(w, "- Recovery: **%s** against an RTO of %s (%s): **%s**\n", short(r.Recovery), short(r.Objective.RTO), r.Objective.Scenario, verdict(r.Met))
	fmt.Fprintf(w, "- Restored: %s\n\n", r.restored())
	fmt.Fprintln(w, "| Scenario | RTO | RPO | Recovery | Source | Measured |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|")
	for _, row := range r.rows() {
		fmt.Fprintf(w, "| %s |\n", strings.Join(row, " | "))
	}
	return nil
}

func (r *Report) rows() [][]string {
	var out [][]string
	for _, o := range r.Objectives {
		measured := ""
		if o.Scenario == r.Objective.Scenario {
			measured = short(r.Recovery) + " " + verdict(r.Met)
		}
		out = append(out, []string{o.Scenario, "< " + short(o.RTO), rpo(o.RPO), o.Recovery, o.Source, measured})
	}
	return out
}

func (r *Report) restored() string {
	switch {
	case r.RestoreError != "":
		return "NO: " + r.RestoreError
	case r.Drill == "pod-loss":
		return "the Deployment replaced the pod"
	case r.Restored:
		return "pool enabled again, healthy after " + short(r.RestoredAfter)
	}
	return "nothing was changed"
}

func verdict(met bool) string {
	if met {
		return "met"
	}
	return "MISSED"
}

func rpo(d time.Duration) string {
	if d == 0 {
		return "0"
	}
	return "< " + short(d)
}

// short prints a duration without noise: 850ms, 1.2s, 4m0s.
func short(d time.Duration) string {
	switch {
	case d < time.Second:
		return d.Round(time.Millisecond).String()
	case d < time.Minute:
		return d.Round(100 * time.Millisecond).String()
	}
	return d.Round(time.Second).String()
}
