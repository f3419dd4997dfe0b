package kubetest

import (
	"context"
	"flag"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/clientcmd"
)

// The repository's `go test ./... -update` passes -update to every package;
// this one has no golden files.
var _ = flag.Bool("update", false, "rewrite golden files (none in this package)")

func TestEnv(t *testing.T) {
	if testing.Short() {
		t.Skip("skipped under -short: starts etcd and two kube-apiservers (and builds them on first use)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	e, err := Start(ctx, Options{Log: testWriter{t}, Audit: true}, "one", "two")
	if err != nil {
		t.Fatal(err)
	}
	defer e.Stop()

	cfg, err := clientcmd.LoadFromFile(e.Kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Contexts) != 2 {
		t.Fatalf("kubeconfig contexts = %d, want 2", len(cfg.Contexts))
	}
	for _, r := range e.Regions {
		rc, err := clientcmd.NewNonInteractiveClientConfig(*cfg, r, nil, nil).ClientConfig()
		if err != nil {
			t.Fatal(err)
		}
		if rc.Host != e.RESTConfig(r).Host {
			t.Errorf("context %s host %s, want %s", r, rc.Host, e.RESTConfig(r).Host)
		}
	}

	// Regions are separate: a namespace in one is absent from the other.
	one, two := e.Clientset("one"), e.Clientset("two")
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "app"}}
	if _, err := one.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := two.CoreV1().Namespaces().Get(ctx, "app", metav1.GetOptions{}); err == nil {
		t.Error("namespace created in region one is visible in region two")
	}

	// The Gateway API CRDs are served.
	if err := e.CreateGateway(ctx, "two", "gateway-system", "public-gateway", "203.0.113.7"); err != nil {
		t.Fatal(err)
	}

	// The controller reports a healthy rollout, then a failed one.
	labels := map[string]string{"app": "x"}
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "x", Namespace: "app"},
		Spec: appsv1.DeploymentSpec{
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "busybox"}}}},
		},
	}
	if _, err := one.AppsV1().Deployments("app").Create(ctx, d, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool {
		got, err := one.AppsV1().Deployments("app").Get(ctx, "x", metav1.GetOptions{})
		return err == nil && got.Status.AvailableReplicas == 1 && got.Status.ObservedGeneration == got.Generation
	})
	e.Controller().SetRollout("one", "Deployment", "app", "x", Rollout{FailReason: "ProgressDeadlineExceeded", FailMessage: "timed out"})
	waitFor(t, func() bool {
		got, err := one.AppsV1().Deployments("app").Get(ctx, "x", metav1.GetOptions{})
		if err != nil {
			return false
		}
		for _, c := range got.Status.Conditions {
			if c.Reason == "ProgressDeadlineExceeded" {
				return true
			}
		}
		return false
	})

	// Deleting a namespace completes: the controller finalizes it.
	if err := one.CoreV1().Namespaces().Delete(ctx, "app", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool {
		_, err := one.CoreV1().Namespaces().Get(ctx, "app", metav1.GetOptions{})
		return err != nil
	})

	// Once nothing changes, the controller goes quiet: no request at all.
	quiet, stop := context.WithTimeout(ctx, 2*settle)
	defer stop()
	if err := e.Controller().WaitQuiet(quiet); err != nil {
		t.Fatalf("controller not quiet %s after the last change: %v", 2*settle, err)
	}
	_, mark, err := e.AuditEvents("one", "", 0)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second)
	evs, _, err := e.AuditEvents("one", "", mark)
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range evs {
		if !strings.HasPrefix(ev.UserAgent, "kube-apiserver/") {
			t.Errorf("quiet controller sent %s %s (%s)", ev.Verb, ev.RequestURI, ev.UserAgent)
		}
	}
	// A change wakes the region: the new namespace gets its default ServiceAccount.
	if _, err := one.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "later"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool {
		_, err := one.CoreV1().ServiceAccounts("later").Get(ctx, "default", metav1.GetOptions{})
		return err == nil
	})
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if cond() {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatal("condition not met after 20s")
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(string(p))
	return len(p), nil
}
