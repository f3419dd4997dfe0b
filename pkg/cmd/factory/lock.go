package factory

import (
	"fmt"
	"os"
	"time"

	"k8s.io/client-go/kubernetes"

	"github.com/neko-defense/nekoctl/pkg/cmdutil"
	"github.com/neko-defense/nekoctl/pkg/lock"
	kube "github.com/neko-defense/nekoctl/pkg/providers/kubernetes"
	"github.com/neko-defense/nekoctl/pkg/spec"
)

// LockNamespace holds every stack's lock. kube-system exists before the
// first `up` and survives `down`, which deletes the workload namespace while
// the lock is held.
const LockNamespace = "kube-system"

// lockRequestTimeout bounds one request to the primary cluster, so that an
// unreachable cluster stops the run with that reason instead of hanging.
const lockRequestTimeout = 15 * time.Second

// leaseLocker places a stack's lock in a Lease named nekoctl-<stack> in the
// primary region's cluster, reached through its kubeconfig context.
func leaseLocker(f *cmdutil.Factory) cmdutil.LockerFunc {
	return func(st *spec.Stack, lease time.Duration) (lock.Locker, error) {
		primary := st.Spec.PrimaryRegion()
		if primary == nil {
			return nil, fmt.Errorf("the spec has no primary region")
		}
		cfg, err := kube.RESTConfig(f.Getenv("KUBECONFIG"), primary.KubeContext)
		if err != nil {
			return nil, fmt.Errorf("primary region %s, kubeconfig context %q: %w", primary.Name, primary.KubeContext, err)
		}
		cfg.Timeout = lockRequestTimeout
		cs, err := kubernetes.NewForConfig(cfg)
		if err != nil {
			return nil, fmt.Errorf("primary region %s: %w", primary.Name, err)
		}
		host, _ := os.Hostname()
		return lock.NewLease(lock.LeaseConfig{
			Client:    cs.CoordinationV1(),
			Namespace: LockNamespace,
			Name:      "nekoctl-" + st.Metadata.Name,
			Labels:    map[string]string{"app.kubernetes.io/managed-by": "nekoctl", "nekoctl.dev/stack": st.Metadata.Name},
			Identity:  lock.Identity(f.Getenv, host, os.Getpid()),
			Duration:  lease,
			Now:       f.Now,
		}), nil
	}
}
