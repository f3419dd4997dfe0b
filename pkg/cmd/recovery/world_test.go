package recovery

import (
	"context"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/neko-defense/nekoctl/internal/stacktest"
	"github.com/neko-defense/nekoctl/pkg/cmd/apply"
	"github.com/neko-defense/nekoctl/pkg/kubetest"
	"github.com/neko-defense/nekoctl/pkg/providers/kubernetes"
)

var regions = stacktest.Regions

// world is the guide's stack, brought up once: the two service emulators
// and one real kube-apiserver per region, whose API pods exist.
type world struct{ *stacktest.World }

func newWorld(t *testing.T) *world {
	t.Helper()
	s := stacktest.New(t)
	for _, r := range regions {
		// The API's pods exist and are replaced when deleted, as a ReplicaSet's are.
		s.Kube.Controller().SetRollout(r, "Deployment", "neko-defense", kubernetes.AppName,
			kubetest.Rollout{Pods: true, PodReadyAfter: 300 * time.Millisecond})
	}
	return &world{s}
}

// cli runs one command line against this world; stdout and stderr are
// returned apart, so that -o json can be decoded.
func (w *world) cli(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	f, out, errOut := w.Factory()
	root := &cobra.Command{Use: "nekoctl", SilenceErrors: true, SilenceUsage: true}
	root.AddCommand(apply.NewCmdUp(f, nil), NewCmdFailover(f, nil), NewCmdDrill(f, nil), NewCmdRestore(f, nil))
	root.SetArgs(append(args, "-f", w.Spec))
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	err = root.ExecuteContext(ctx)
	return out.String(), errOut.String(), err
}

func (w *world) up(t *testing.T) {
	t.Helper()
	out, errOut, err := w.cli(t, "up", "--yes")
	if err != nil {
		t.Fatalf("up: %v\n%s%s", err, out, errOut)
	}
}

func (w *world) projectID(t *testing.T) string {
	t.Helper()
	gid, ok := w.Atlas.ProjectID("neko-defense")
	if !ok {
		t.Fatal("no Atlas project")
	}
	return gid
}
