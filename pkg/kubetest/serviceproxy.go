package kubetest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// ServeService makes h answer as the pod behind the region's Service
// namespace/name on its port portName, for what a command reaches through
// the API server's service proxy (services/NAME:PORT/proxy/...). A bare API
// server has no pods, so the test plays every part: h listens on this
// machine's first non-loopback IPv4 address (the API server proxies only
// to endpoints outside the loopback range, and only to an address a pod
// of the namespace reports), a Pod reports that address, and a Service
// without a selector and an EndpointSlice point at that Pod. The server
// stops when the returned function is called; the objects stay.
func (e *Env) ServeService(ctx context.Context, region, namespace, name, portName string, h http.Handler) (stop func(), err error) {
	ip, err := hostIPv4()
	if err != nil {
		return nil, err
	}
	l, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
	if err != nil {
		return nil, fmt.Errorf("kubetest: listening on %s: %w", ip, err)
	}
	srv := httptest.NewUnstartedServer(h)
	srv.Listener.Close()
	srv.Listener = l
	srv.Start()
	defer func() {
		if err != nil {
			srv.Close()
		}
	}()
	port := int32(l.Addr().(*net.TCPAddr).Port)
	cs := e.Clientset(region)
	create := func(err error) error {
		if apierrors.IsAlreadyExists(err) {
			return nil
		}
		return err
	}
	if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: namespace}},
		metav1.CreateOptions{}); create(err) != nil {
		return nil, err
	}
	// The ServiceAccount admission plugin wants the namespace's default
	// account before the pod, which the Controller may not have made yet.
	if _, err := cs.CoreV1().ServiceAccounts(namespace).Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "default"}},
		metav1.CreateOptions{}); create(err) != nil {
		return nil, err
	}
	podName := name + "-0"
	pod, err := cs.CoreV1().Pods(namespace).Create(ctx, &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: podName, Labels: map[string]string{"app": name}},
		Spec: corev1.PodSpec{AutomountServiceAccountToken: ptr(false),
			Containers: []corev1.Container{{Name: name, Image: "stand-in",
				Ports: []corev1.ContainerPort{{Name: portName, ContainerPort: port}}}}},
	}, metav1.CreateOptions{})
	if err != nil {
		return nil, fmt.Errorf("kubetest: pod %s/%s: %w", namespace, podName, err)
	}
	pod.Status.Phase, pod.Status.PodIP, pod.Status.PodIPs = corev1.PodRunning, ip, []corev1.PodIP{{IP: ip}}
	pod.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}
	if _, err := cs.CoreV1().Pods(namespace).UpdateStatus(ctx, pod, metav1.UpdateOptions{}); err != nil {
		return nil, fmt.Errorf("kubetest: pod %s/%s status: %w", namespace, podName, err)
	}
	if _, err := cs.CoreV1().Services(namespace).Create(ctx, &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec:       corev1.ServiceSpec{ClusterIP: corev1.ClusterIPNone, Ports: []corev1.ServicePort{{Name: portName, Port: port}}},
	}, metav1.CreateOptions{}); err != nil {
		return nil, fmt.Errorf("kubetest: service %s/%s: %w", namespace, name, err)
	}
	if _, err := cs.DiscoveryV1().EndpointSlices(namespace).Create(ctx, &discoveryv1.EndpointSlice{
		ObjectMeta:  metav1.ObjectMeta{Name: name, Labels: map[string]string{discoveryv1.LabelServiceName: name}},
		AddressType: discoveryv1.AddressTypeIPv4,
		Endpoints: []discoveryv1.Endpoint{{Addresses: []string{ip}, Conditions: discoveryv1.EndpointConditions{Ready: ptr(true)},
			TargetRef: &corev1.ObjectReference{Kind: "Pod", Namespace: namespace, Name: podName, UID: pod.UID}}},
		Ports: []discoveryv1.EndpointPort{{Name: ptr(portName), Port: ptr(port)}},
	}, metav1.CreateOptions{}); err != nil {
		return nil, fmt.Errorf("kubetest: endpoint slice %s/%s: %w", namespace, name, err)
	}
	return srv.Close, nil
}

// hostIPv4 is this machine's first IPv4 address outside the loopback and
// link-local ranges.
func hostIPv4() (string, error) {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return "", err
	}
	for _, a := range addrs {
		n, ok := a.(*net.IPNet)
		if !ok {
			continue
		}
		if ip := n.IP.To4(); ip != nil && !ip.IsLoopback() && !ip.IsLinkLocalUnicast() {
			return ip.String(), nil
		}
	}
	return "", errors.New("kubetest: no IPv4 address outside the loopback range: the API server's service proxy cannot reach a server on this machine")
}
