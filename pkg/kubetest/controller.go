package kubetest

import (
	"context"
	"fmt"
	"sync"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
)

// Rollout is how the controller answers a Deployment or StatefulSet.
type Rollout struct {
	// Delay before the rollout completes (a slow rollout).
	Delay time.Duration
	// FailReason, when set, fails the rollout with this condition reason
	// (ProgressDeadlineExceeded, ...) and FailMessage.
	FailReason  string
	FailMessage string
	// PodWaiting, when set, keeps the rollout in progress and creates a pod
	// of the workload whose container waits with this reason
	// (ErrImagePull, ImagePullBackOff, CrashLoopBackOff) and PodMessage.
	PodWaiting string
	PodMessage string
	// Pods, for a Deployment, keeps its replicas as pods the way a
	// ReplicaSet does: a deleted pod is replaced, and a pod turns ready
	// PodReadyAfter after it was created; the status counts ready pods.
	Pods          bool
	PodReadyAfter time.Duration
	// Image, when set, limits the mode to pod templates that run this
	// image: any other image rolls out at once, as a bad release fails
	// while the previous one is healthy again after a rollback.
	Image string
}

// Healthy rolls out at once.
var Healthy = Rollout{}

// Controller plays the controllers a bare API server lacks: it reports
// Deployment and StatefulSet rollouts (healthy, slow or failed, per object),
// creates each namespace's default ServiceAccount, and finishes namespace
// deletion by deleting the namespace's objects and its finalizer. For the
// Gateway API it accepts HTTPRoutes (or not, per route) and reports Gateway
// addresses.
type Controller struct {
	env    *Env
	mu     sync.Mutex
	modes  map[string]Rollout   // region/kind/namespace/name
	seen   map[string]time.Time // first time a generation was seen
	pods   map[string]bool      // Deployments with a waiting pod
	gw     gatewayState         // Gateway API answers (gateway.go)
	active activity             // regions with recent changes (activity.go)
	cancel context.CancelFunc
	done   chan struct{}
}

func newController(e *Env) *Controller {
	return &Controller{env: e, modes: map[string]Rollout{}, seen: map[string]time.Time{}, pods: map[string]bool{}}
}

// SetRollout chooses how the named Deployment or StatefulSet rolls out
// from now on. kind is "Deployment" or "StatefulSet".
func (c *Controller) SetRollout(region, kind, namespace, name string, r Rollout) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.modes[region+"/"+kind+"/"+namespace+"/"+name] = r
	c.active.poke(region)
}

func (c *Controller) mode(region, kind, namespace, name string) Rollout {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.modes[region+"/"+kind+"/"+namespace+"/"+name]
}

// firstSeen returns when this generation of the object was first seen.
func (c *Controller) firstSeen(key string, gen int64) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	k := fmt.Sprintf("%s@%d", key, gen)
	t, ok := c.seen[k]
	if !ok {
		t = time.Now()
		c.seen[k] = t
	}
	return t
}

func (c *Controller) start() {
	ctx, cancel := context.WithCancel(context.Background())
	c.cancel, c.done = cancel, make(chan struct{})
	go func() {
		defer close(c.done)
		watches := c.watchRegions(ctx)
		defer watches.Wait()
		gw := c.gatewayLoop(ctx)
		defer func() { <-gw }()
		t := time.NewTicker(300 * time.Millisecond)
		defer t.Stop()
		for {
			for _, r := range c.env.Regions {
				if c.active.busy(r) {
					c.reconcile(ctx, r)
				}
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
}

func (c *Controller) stop() {
	if c.cancel != nil {
		c.cancel()
		<-c.done
	}
}

func (c *Controller) reconcile(ctx context.Context, region string) {
	cs := kubernetes.NewForConfigOrDie(c.env.quietConfig(region))
	if nss, err := cs.CoreV1().Namespaces().List(ctx, metav1.ListOptions{}); err == nil {
		for i := range nss.Items {
			c.namespace(ctx, region, cs, &nss.Items[i])
		}
	}
	if ds, err := cs.AppsV1().Deployments("").List(ctx, metav1.ListOptions{}); err == nil {
		for i := range ds.Items {
			c.deployment(ctx, region, cs, &ds.Items[i])
		}
	}
	if ss, err := cs.AppsV1().StatefulSets("").List(ctx, metav1.ListOptions{}); err == nil {
		for i := range ss.Items {
			c.statefulSet(ctx, region, cs, &ss.Items[i])
		}
	}
}

func (c *Controller) deployment(ctx context.Context, region string, cs kubernetes.Interface, d *appsv1.Deployment) {
	if d.DeletionTimestamp != nil {
		return
	}
	m := c.mode(region, "Deployment", d.Namespace, d.Name)
	if m.Image != "" && !usesImage(d.Spec.Template.Spec, m.Image) {
		m = Healthy
	}
	replicas := int32(1)
	if d.Spec.Replicas != nil {
		replicas = *d.Spec.Replicas
	}
	key := region + "/Deployment/" + d.Namespace + "/" + d.Name
	since := c.firstSeen(key+"/"+string(d.UID), d.Generation)
	now := metav1.Now()
	st := appsv1.DeploymentStatus{ObservedGeneration: d.Generation, Replicas: replicas}
	if m.PodWaiting == "" && c.hadPod(key, false) {
		// The rollout recovered: its waiting pod goes, as a ReplicaSet's would.
		err := cs.CoreV1().Pods(d.Namespace).Delete(ctx, d.Name+"-waiting", metav1.DeleteOptions{})
		if err != nil && !apierrors.IsNotFound(err) {
			c.hadPod(key, true)
		}
	}
	switch {
	case m.PodWaiting != "":
		c.hadPod(key, true)
		c.waitingPod(ctx, cs, d, m)
		st.UnavailableReplicas = replicas
		st.Conditions = []appsv1.DeploymentCondition{
			{Type: appsv1.DeploymentProgressing, Status: corev1.ConditionTrue, Reason: "ReplicaSetUpdated",
				Message: "rolling out", LastUpdateTime: now, LastTransitionTime: now},
		}
	case m.FailReason != "":
		st.UpdatedReplicas = 0
		st.UnavailableReplicas = replicas
		st.Conditions = []appsv1.DeploymentCondition{
			{Type: appsv1.DeploymentAvailable, Status: corev1.ConditionFalse, Reason: "MinimumReplicasUnavailable",
				Message: "Deployment does not have minimum availability.", LastUpdateTime: now, LastTransitionTime: now},
			{Type: appsv1.DeploymentProgressing, Status: corev1.ConditionFalse, Reason: m.FailReason,
				Message: m.FailMessage, LastUpdateTime: now, LastTransitionTime: now},
		}
	case time.Since(since) < m.Delay:
		st.UnavailableReplicas = replicas
		st.Conditions = []appsv1.DeploymentCondition{
			{Type: appsv1.DeploymentProgressing, Status: corev1.ConditionTrue, Reason: "ReplicaSetUpdated",
				Message: "rolling out", LastUpdateTime: now, LastTransitionTime: now},
		}
	case m.Pods:
		ready := c.replicaPods(ctx, cs, d, replicas, m.PodReadyAfter)
		st.UpdatedReplicas, st.ReadyReplicas, st.AvailableReplicas = replicas, ready, ready
		st.UnavailableReplicas = replicas - ready
		st.Conditions = podConditions(ready >= replicas, now)
	default:
		st.UpdatedReplicas, st.ReadyReplicas, st.AvailableReplicas = replicas, replicas, replicas
		st.Conditions = []appsv1.DeploymentCondition{
			{Type: appsv1.DeploymentAvailable, Status: corev1.ConditionTrue, Reason: "MinimumReplicasAvailable",
				Message: "Deployment has minimum availability.", LastUpdateTime: now, LastTransitionTime: now},
			{Type: appsv1.DeploymentProgressing, Status: corev1.ConditionTrue, Reason: "NewReplicaSetAvailable",
				Message: "ReplicaSet has successfully progressed.", LastUpdateTime: now, LastTransitionTime: now},
		}
	}
	if sameDeploymentStatus(d.Status, st) {
		return
	}
	d.Status = st
	_, _ = cs.AppsV1().Deployments(d.Namespace).UpdateStatus(ctx, d, metav1.UpdateOptions{})
}

func sameDeploymentStatus(a, b appsv1.DeploymentStatus) bool {
	if a.ObservedGeneration != b.ObservedGeneration || a.Replicas != b.Replicas ||
		a.UpdatedReplicas != b.UpdatedReplicas || a.AvailableReplicas != b.AvailableReplicas ||
		a.ReadyReplicas != b.ReadyReplicas || a.UnavailableReplicas != b.UnavailableReplicas ||
		len(a.Conditions) != len(b.Conditions) {
		return false
	}
	for i := range a.Conditions {
		if a.Conditions[i].Type != b.Conditions[i].Type || a.Conditions[i].Status != b.Conditions[i].Status ||
			a.Conditions[i].Reason != b.Conditions[i].Reason {
			return false
		}
	}
	return true
}

func (c *Controller) statefulSet(ctx context.Context, region string, cs kubernetes.Interface, s *appsv1.StatefulSet) {
	if s.DeletionTimestamp != nil {
		return
	}
	m := c.mode(region, "StatefulSet", s.Namespace, s.Name)
	replicas := int32(1)
	if s.Spec.Replicas != nil {
		replicas = *s.Spec.Replicas
	}
	key := region + "/StatefulSet/" + s.Namespace + "/" + s.Name
	since := c.firstSeen(key+"/"+string(s.UID), s.Generation)
	rev := fmt.Sprintf("%s-%d", s.Name, s.Generation)
	st := appsv1.StatefulSetStatus{ObservedGeneration: s.Generation, Replicas: replicas, UpdateRevision: rev}
	if m.FailReason == "" && time.Since(since) >= m.Delay {
		st.ReadyReplicas, st.CurrentReplicas, st.UpdatedReplicas, st.AvailableReplicas = replicas, replicas, replicas, replicas
		st.CurrentRevision = rev
	} else {
		st.CurrentRevision = s.Status.CurrentRevision
	}
	if s.Status.ObservedGeneration == st.ObservedGeneration && s.Status.ReadyReplicas == st.ReadyReplicas &&
		s.Status.CurrentRevision == st.CurrentRevision && s.Status.UpdateRevision == st.UpdateRevision &&
		s.Status.Replicas == st.Replicas {
		return
	}
	s.Status = st
	_, _ = cs.AppsV1().StatefulSets(s.Namespace).UpdateStatus(ctx, s, metav1.UpdateOptions{})
}

// namespace creates the default ServiceAccount and, for a terminating
// namespace, deletes what it holds and then the namespace itself.
func (c *Controller) namespace(ctx context.Context, region string, cs kubernetes.Interface, ns *corev1.Namespace) {
	if ns.DeletionTimestamp == nil {
		if ns.Status.Phase == corev1.NamespaceActive || ns.Status.Phase == "" {
			_, err := cs.CoreV1().ServiceAccounts(ns.Name).Get(ctx, "default", metav1.GetOptions{})
			if apierrors.IsNotFound(err) {
				sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "default", Namespace: ns.Name}}
				_, _ = cs.CoreV1().ServiceAccounts(ns.Name).Create(ctx, sa, metav1.CreateOptions{})
			}
		}
		return
	}
	dc := dynamic.NewForConfigOrDie(c.env.quietConfig(region))
	lists, err := cs.Discovery().ServerPreferredNamespacedResources()
	if err != nil && len(lists) == 0 {
		return
	}
	for _, l := range lists {
		gv, err := schema.ParseGroupVersion(l.GroupVersion)
		if err != nil {
			continue
		}
		for _, r := range l.APIResources {
			if !contains(r.Verbs, "deletecollection") {
				continue
			}
			gvr := gv.WithResource(r.Name)
			_ = dc.Resource(gvr).Namespace(ns.Name).DeleteCollection(ctx, metav1.DeleteOptions{}, metav1.ListOptions{})
		}
	}
	if len(ns.Spec.Finalizers) > 0 {
		ns.Spec.Finalizers = nil
		_, _ = cs.CoreV1().Namespaces().Finalize(ctx, ns, metav1.UpdateOptions{})
	}
}

// SetGatewayAddress records addr as the Gateway's status address, as a
// Gateway controller would.
func (e *Env) SetGatewayAddress(ctx context.Context, region, namespace, name, addr string) error {
	gvr := schema.GroupVersionResource{Group: "gateway.networking.k8s.io", Version: "v1", Resource: "gateways"}
	rc := e.Dynamic(region).Resource(gvr).Namespace(namespace)
	gw, err := rc.Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return err
	}
	typ := "IPAddress"
	if !isIP(addr) {
		typ = "Hostname"
	}
	_ = unstructured.SetNestedSlice(gw.Object, []any{map[string]any{"type": typ, "value": addr}}, "status", "addresses")
	_, err = rc.UpdateStatus(ctx, gw, metav1.UpdateOptions{})
	return err
}

// CreateGateway creates a namespace and a platform Gateway with an HTTP
// listener and an HTTPS listener on 443 for every host, and sets its
// status address.
func (e *Env) CreateGateway(ctx context.Context, region, namespace, name, addr string) error {
	cs := e.Clientset(region)
	_, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: namespace}}, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return err
	}
	gvr := schema.GroupVersionResource{Group: "gateway.networking.k8s.io", Version: "v1", Resource: "gateways"}
	gw := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "gateway.networking.k8s.io/v1", "kind": "Gateway",
		"metadata": map[string]any{"name": name, "namespace": namespace},
		"spec": map[string]any{
			"gatewayClassName": "test",
			"listeners": []any{
				map[string]any{"name": "http", "port": int64(80), "protocol": "HTTP",
					"allowedRoutes": map[string]any{"namespaces": map[string]any{"from": "All"}}},
				// HTTPS for every host with the origin certificate of the
				// default workload namespace, granted by nekoctl's ReferenceGrant.
				map[string]any{"name": "https", "port": int64(443), "protocol": "HTTPS",
					"tls": map[string]any{"mode": "Terminate", "certificateRefs": []any{map[string]any{
						"group": "", "kind": "Secret", "name": "neko-api-origin-tls", "namespace": "neko-defense"}}},
					"allowedRoutes": map[string]any{"namespaces": map[string]any{"from": "All"}}},
			},
		},
	}}
	_, err = e.Dynamic(region).Resource(gvr).Namespace(namespace).Create(ctx, gw, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return err
	}
	return e.SetGatewayAddress(ctx, region, namespace, name, addr)
}

// SetIngressAddress records addr as the Ingress's load-balancer address.
func (e *Env) SetIngressAddress(ctx context.Context, region, namespace, name, addr string) error {
	rc := e.Clientset(region).NetworkingV1().Ingresses(namespace)
	ing, err := rc.Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return err
	}
	lb := networkingIngress(addr)
	ing.Status.LoadBalancer.Ingress = lb
	_, err = rc.UpdateStatus(ctx, ing, metav1.UpdateOptions{})
	return err
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// waitingPod creates one pod of the Deployment whose containers wait with
// the rollout's reason, as the kubelet reports a failing image pull.
func (c *Controller) waitingPod(ctx context.Context, cs kubernetes.Interface, d *appsv1.Deployment, m Rollout) {
	name := d.Name + "-waiting"
	pod, err := cs.CoreV1().Pods(d.Namespace).Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		pod = &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: d.Namespace, Labels: d.Spec.Template.Labels},
			Spec: d.Spec.Template.Spec}
		if pod, err = cs.CoreV1().Pods(d.Namespace).Create(ctx, pod, metav1.CreateOptions{}); err != nil {
			return
		}
	} else if err != nil {
		return
	}
	if len(pod.Status.ContainerStatuses) > 0 {
		return
	}
	for _, ctr := range pod.Spec.Containers {
		pod.Status.ContainerStatuses = append(pod.Status.ContainerStatuses, corev1.ContainerStatus{
			Name: ctr.Name, Image: ctr.Image,
			State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: m.PodWaiting, Message: m.PodMessage}},
		})
	}
	pod.Status.Phase = corev1.PodPending
	_, _ = cs.CoreV1().Pods(d.Namespace).UpdateStatus(ctx, pod, metav1.UpdateOptions{})
}

// hadPod reports whether the Deployment had a waiting pod and records set.
func (c *Controller) hadPod(key string, set bool) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	had := c.pods[key]
	c.pods[key] = set
	return had
}

// usesImage reports whether any container of the pod spec runs image.
func usesImage(spec corev1.PodSpec, image string) bool {
	for _, c := range spec.Containers {
		if c.Image == image {
			return true
		}
	}
	return false
}
