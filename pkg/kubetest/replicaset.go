package kubetest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/kubernetes"
)

// createdAnnotation records when the harness created a pod: the
// creationTimestamp has whole seconds only, too coarse for a readiness delay.
const createdAnnotation = "kubetest.nekoctl.dev/created"

// replicaPods plays the Deployment's ReplicaSet and the kubelet: it keeps
// replicas pods of the template (creating one for each that was deleted),
// marks a pod Running and Ready readyAfter after its creation, and returns
// how many are ready. Pods are never bound to a node, so a delete removes
// them at once, as a kubelet confirming the termination would.
func (c *Controller) replicaPods(ctx context.Context, cs kubernetes.Interface, d *appsv1.Deployment, replicas int32, readyAfter time.Duration) int32 {
	sel := labels.SelectorFromSet(d.Spec.Selector.MatchLabels).String()
	pods, err := cs.CoreV1().Pods(d.Namespace).List(ctx, metav1.ListOptions{LabelSelector: sel})
	if err != nil {
		return 0
	}
	var live, ready int32
	for i := range pods.Items {
		pod := &pods.Items[i]
		if pod.DeletionTimestamp != nil {
			continue
		}
		live++
		if podReady(pod) {
			ready++
			continue
		}
		if created, err := time.Parse(time.RFC3339Nano, pod.Annotations[createdAnnotation]); err == nil && time.Since(created) < readyAfter {
			continue
		}
		now := metav1.Now()
		pod.Status.Phase = corev1.PodRunning
		pod.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: now}}
		pod.Status.ContainerStatuses = nil
		for _, ctr := range pod.Spec.Containers {
			pod.Status.ContainerStatuses = append(pod.Status.ContainerStatuses, corev1.ContainerStatus{
				Name: ctr.Name, Image: ctr.Image, Ready: true,
				State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: now}}})
		}
		if _, err := cs.CoreV1().Pods(d.Namespace).UpdateStatus(ctx, pod, metav1.UpdateOptions{}); err == nil {
			ready++
		}
	}
	for ; live < replicas; live++ {
		pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{
			Name: fmt.Sprintf("%s-%05x", d.Name, rand.IntN(1<<20)), Namespace: d.Namespace, Labels: d.Spec.Template.Labels,
			Annotations: map[string]string{createdAnnotation: time.Now().Format(time.RFC3339Nano)}},
			Spec: d.Spec.Template.Spec}
		_, _ = cs.CoreV1().Pods(d.Namespace).Create(ctx, pod, metav1.CreateOptions{})
	}
	return ready
}

func podReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// podConditions are a Deployment's conditions with or without all of its
// replicas available (maxUnavailable 0).
func podConditions(available bool, now metav1.Time) []appsv1.DeploymentCondition {
	avail := appsv1.DeploymentCondition{Type: appsv1.DeploymentAvailable, Status: corev1.ConditionTrue,
		Reason: "MinimumReplicasAvailable", Message: "Deployment has minimum availability.", LastUpdateTime: now, LastTransitionTime: now}
	if !available {
		avail.Status, avail.Reason, avail.Message = corev1.ConditionFalse, "MinimumReplicasUnavailable", "Deployment does not have minimum availability."
	}
	return []appsv1.DeploymentCondition{avail,
		{Type: appsv1.DeploymentProgressing, Status: corev1.ConditionTrue, Reason: "NewReplicaSetAvailable",
			Message: "ReplicaSet has successfully progressed.", LastUpdateTime: now, LastTransitionTime: now}}
}
