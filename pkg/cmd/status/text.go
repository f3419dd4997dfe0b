package status

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/neko-defense/nekoctl/pkg/provider"
)

// writeText renders the report: a line per region, the cluster and the
// load balancer, then every check.
func writeText(w io.Writer, rep *Report) error {
	verdict := "healthy"
	if !rep.Healthy {
		verdict = "NOT HEALTHY"
	}
	fmt.Fprintf(w, "Stack %s, checked %s: %s\n\n", rep.Stack, rep.CheckedAt.Format("2006-01-02 15:04:05 MST"), verdict)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "REGION\tPODS\tIMAGE\tCERTIFICATE\tORIGIN\tMONITORING\tPOOL")
	for _, r := range rep.Regions {
		name := r.Name
		if r.Primary {
			name += " (primary)"
		}
		if !r.Reachable {
			fmt.Fprintf(tw, "%s\tunreachable\t-\t-\t-\t-\t%s\n", name, checkText(r.Pool))
			continue
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", name, podsText(r.Pods), imageText(r.Image),
			certText(r.Certificate), checkText(r.Origin), monitoringText(r.Monitoring), checkText(r.Pool))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w)
	if a := rep.Atlas; a != nil {
		fmt.Fprintf(w, "Atlas cluster %s: %s\n", a.Cluster, atlasText(a))
	}
	if c := rep.Cloudflare; c != nil {
		fmt.Fprintf(w, "Cloudflare load balancer %s: %s\n", c.Hostname, lbText(c))
	}
	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "PROVIDER\tREGION\tRESOURCE\tSTATE\tDETAIL")
	for _, h := range rep.Checks {
		fmt.Fprintf(tw, "%s\t%s\t%s %s\t%s\t%s\n", h.Address.Provider, dash(h.Address.Region), h.Address.Kind,
			h.Address.Name, h.State, h.Detail)
	}
	return tw.Flush()
}

func podsText(p *provider.Pods) string {
	if p == nil {
		return "-"
	}
	s := fmt.Sprintf("%d/%d ready", p.Ready, p.Desired)
	if p.HPAMax > 0 {
		s += fmt.Sprintf(" (max %d)", p.HPAMax)
	}
	return s
}

// imageText shortens a digest to 12 hex digits and flags an image that is
// not the one this nekoctl deploys (a rollback, or another version's up).
func imageText(i *provider.Image) string {
	if i == nil {
		return "-"
	}
	s := shortDigest(i.Running)
	if !i.Matches {
		s += " (not " + shortDigest(i.Expected) + ")"
	}
	return s
}

func shortDigest(ref string) string {
	if name, digest, ok := strings.Cut(ref, "@sha256:"); ok && len(digest) > 12 {
		return name + "@sha256:" + digest[:12]
	}
	return ref
}

func certText(c *Check) string {
	if c == nil {
		return "-"
	}
	if c.Certificate == nil {
		return c.State
	}
	s := fmt.Sprintf("%s (%dd)", c.Certificate.NotAfter.Format("2006-01-02"), c.Certificate.DaysLeft)
	if !c.Healthy {
		s = c.State + " " + s
	}
	return s
}

func monitoringText(m *Monitoring) string {
	if m == nil {
		return "-"
	}
	var parts []string
	if m.Release != nil {
		parts = append(parts, m.Release.State)
	}
	if a := m.Alertmanager; a != nil {
		parts = append(parts, a.State)
	}
	return strings.Join(parts, ", ")
}

func checkText(c *Check) string {
	if c == nil {
		return "-"
	}
	if c.Pool != nil && c.Pool.Locations > 0 {
		return fmt.Sprintf("%s (%d/%d)", c.State, c.Pool.HealthyLocations, c.Pool.Locations)
	}
	return c.State
}

func atlasText(a *Atlas) string {
	if !a.Reachable {
		return "unreachable: " + a.Error
	}
	db := a.Database
	if db == nil {
		return a.State + " (" + a.Detail + ")"
	}
	parts := []string{a.State}
	if !a.Healthy {
		parts[0] += " (" + a.Detail + ")"
	}
	primary := db.PrimaryAtlasRegion
	if db.PrimaryRegion != "" {
		primary = db.PrimaryRegion + " (" + db.PrimaryAtlasRegion + ")"
	}
	parts = append(parts, "primary "+primary)
	switch {
	case !db.BackupEnabled:
		parts = append(parts, "backup off")
	case db.PITREnabled:
		parts = append(parts, fmt.Sprintf("backup on, PITR on (%d days)", db.RestoreWindowDays))
	default:
		parts = append(parts, "backup on, PITR off")
	}
	if db.LastSnapshot != nil {
		parts = append(parts, "last snapshot "+db.LastSnapshot.Format("2006-01-02 15:04 MST"))
	}
	return strings.Join(parts, "; ")
}

func lbText(c *Cloudflare) string {
	if !c.Reachable {
		return "unreachable: " + c.Error
	}
	lb := c.LoadBalancer
	if lb == nil {
		return c.State
	}
	return fmt.Sprintf("%s; default pools %s; fallback %s", c.State, strings.Join(lb.DefaultPools, ", "), lb.FallbackPool)
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
