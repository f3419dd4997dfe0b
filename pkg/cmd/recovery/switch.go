package recovery

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/neko-defense/nekoctl/pkg/cmdutil"
	"github.com/neko-defense/nekoctl/pkg/providers/atlas"
	"github.com/neko-defense/nekoctl/pkg/spec"
)

// switchRegions points every region's API at the target cluster and
// restarts its pods. A region that fails does not stop the others; every
// failure is reported.
func switchRegions(ctx context.Context, f *cmdutil.Factory, c *stackClients, regions []spec.Region, target string, done *[]string) error {
	host, err := c.atlas.ClusterHost(ctx, target)
	if err != nil {
		return err
	}
	var errs []error
	for _, r := range regions {
		err := func() error {
			kube, err := c.region(r.Name)
			if err != nil {
				return err
			}
			uri, err := kube.MongoURI(ctx)
			if err != nil {
				return err
			}
			next, err := atlas.Retarget(uri, host)
			if err != nil {
				return fmt.Errorf("region %s: %w", r.Name, err)
			}
			return kube.SwitchDatabase(ctx, next, f.Now())
		}()
		if err != nil {
			errs = append(errs, err)
			continue
		}
		*done = append(*done, r.Name)
		fmt.Fprintf(f.IOStreams.ErrOut, "region %s: now uses cluster %s; API pods restarting\n", r.Name, target)
	}
	if len(errs) > 0 {
		return fmt.Errorf("the restore finished, but %d region(s) could not be switched to %s:\n%w", len(errs), target, errors.Join(errs...))
	}
	return nil
}

// parsePointInTime reads --to: an RFC 3339 time or a duration ago.
func parsePointInTime(s string, now func() time.Time) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return time.Time{}, fmt.Errorf("%q is neither an RFC 3339 time (2026-11-29T18:00:00Z) nor a duration ago (90m)", s)
	}
	return now().Add(-d), nil
}
