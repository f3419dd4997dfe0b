package kubernetes

import (
	"context"
	"fmt"
	"sort"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	k8s "k8s.io/client-go/kubernetes"
)

// recoveryFieldManager names the recovery commands' writes in
// managedFields, apart from `up`'s.
const recoveryFieldManager = "nekoctl-recovery"

// typed returns a typed client for the recovery commands' few requests.
func (p *Provider) typed() (k8s.Interface, error) {
	if p.cfg == nil {
		return nil, fmt.Errorf("region %s: no cluster configured (offline)", p.region)
	}
	return k8s.NewForConfig(p.cfg)
}

// apiSelector selects the API Deployment's pods.
func (p *Provider) apiSelector() string {
	return labels.SelectorFromSet(labels.Set{
		"app.kubernetes.io/name": AppName, "app.kubernetes.io/instance": p.st.Metadata.Name}).String()
}

// DeleteAPIPod deletes one ready pod of the API Deployment (the first by
// name) and returns its name: a pod-loss drill's fault.
func (p *Provider) DeleteAPIPod(ctx context.Context) (string, error) {
	cs, err := p.typed()
	if err != nil {
		return "", err
	}
	ns := p.st.Spec.Workload.Namespace
	pods, err := cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: p.apiSelector()})
	if err != nil {
		return "", fmt.Errorf("region %s: listing the API pods: %w", p.region, err)
	}
	var ready []string
	for i := range pods.Items {
		if pods.Items[i].DeletionTimestamp == nil && isReady(&pods.Items[i]) {
			ready = append(ready, pods.Items[i].Name)
		}
	}
	if len(ready) == 0 {
		return "", fmt.Errorf("region %s: no ready API pod to delete", p.region)
	}
	sort.Strings(ready)
	if err := cs.CoreV1().Pods(ns).Delete(ctx, ready[0], metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
		return "", fmt.Errorf("region %s: deleting pod %s: %w", p.region, ready[0], err)
	}
	return ready[0], nil
}

// APIReadiness reports how many API pods other than except are ready (not
// terminating) and how many the Deployment wants.
func (p *Provider) APIReadiness(ctx context.Context, except string) (ready, want int, err error) {
	cs, err := p.typed()
	if err != nil {
		return 0, 0, err
	}
	ns := p.st.Spec.Workload.Namespace
	d, err := cs.AppsV1().Deployments(ns).Get(ctx, AppName, metav1.GetOptions{})
	if err != nil {
		return 0, 0, fmt.Errorf("region %s: reading the API Deployment: %w", p.region, err)
	}
	want = 1
	if d.Spec.Replicas != nil {
		want = int(*d.Spec.Replicas)
	}
	pods, err := cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: p.apiSelector()})
	if err != nil {
		return 0, 0, fmt.Errorf("region %s: listing the API pods: %w", p.region, err)
	}
	for i := range pods.Items {
		pod := &pods.Items[i]
		if pod.Name != except && pod.DeletionTimestamp == nil && isReady(pod) {
			ready++
		}
	}
	return ready, want, nil
}

func isReady(pod *corev1.Pod) bool {
	for _, c := range pod.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// MongoURI returns the connection string the region's API uses now.
func (p *Provider) MongoURI(ctx context.Context) (string, error) {
	cs, err := p.typed()
	if err != nil {
		return "", err
	}
	s, err := cs.CoreV1().Secrets(p.st.Spec.Workload.Namespace).Get(ctx, atlasSecret, metav1.GetOptions{})
	if err != nil {
		return "", fmt.Errorf("region %s: reading Secret %s: %w", p.region, atlasSecret, err)
	}
	return string(s.Data["MONGODB_URI"]), nil
}

// SwitchDatabase points the region's API at another connection string: it
// writes MONGODB_URI into the Secret and restarts the API's pods the way
// `kubectl rollout restart` does, so that they connect anew.
func (p *Provider) SwitchDatabase(ctx context.Context, uri string, at time.Time) error {
	cs, err := p.typed()
	if err != nil {
		return err
	}
	ns := p.st.Spec.Workload.Namespace
	secretPatch := fmt.Sprintf(`{"stringData":{"MONGODB_URI":%q}}`, uri)
	if _, err := cs.CoreV1().Secrets(ns).Patch(ctx, atlasSecret, types.StrategicMergePatchType, []byte(secretPatch),
		metav1.PatchOptions{FieldManager: recoveryFieldManager}); err != nil {
		return fmt.Errorf("region %s: updating Secret %s: %w", p.region, atlasSecret, err)
	}
	restart := fmt.Sprintf(`{"spec":{"template":{"metadata":{"annotations":{"kubectl.kubernetes.io/restartedAt":%q}}}}}`,
		at.UTC().Format(time.RFC3339))
	if _, err := cs.AppsV1().Deployments(ns).Patch(ctx, AppName, types.StrategicMergePatchType, []byte(restart),
		metav1.PatchOptions{FieldManager: recoveryFieldManager}); err != nil {
		return fmt.Errorf("region %s: restarting Deployment %s: %w", p.region, AppName, err)
	}
	return nil
}
