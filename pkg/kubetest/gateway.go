package kubetest

import (
	"context"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
)

// GatewayControllerName is the controller the harness reports route status as.
const GatewayControllerName = "kubetest.nekoctl.dev/gateway-controller"

var (
	gatewayGVR   = schema.GroupVersionResource{Group: "gateway.networking.k8s.io", Version: "v1", Resource: "gateways"}
	httpRouteGVR = schema.GroupVersionResource{Group: "gateway.networking.k8s.io", Version: "v1", Resource: "httproutes"}
)

// RouteStatus is how the controller answers an HTTPRoute: the zero value
// accepts it with every reference resolved, as a working Gateway does.
type RouteStatus struct {
	// NotAccepted, when set, is the reason of Accepted=False
	// (NotAllowedByListeners, NoMatchingListenerHostname, ...).
	NotAccepted string
	// Unresolved, when set, is the reason of ResolvedRefs=False
	// (BackendNotFound, RefNotPermitted, ...).
	Unresolved string
	Message    string
}

// gatewayState holds the Controller's Gateway API answers.
type gatewayState struct {
	routes map[string]RouteStatus // region/namespace/name
	addrs  map[string]string      // region/namespace/name
}

// SetRouteStatus chooses how the named HTTPRoute is answered from now on.
func (c *Controller) SetRouteStatus(region, namespace, name string, s RouteStatus) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gw.routes == nil {
		c.gw.routes = map[string]RouteStatus{}
	}
	c.gw.routes[region+"/"+namespace+"/"+name] = s
	c.active.poke(region)
}

// AssignGatewayAddress makes the controller report addr as the named
// Gateway's address once it exists, as a Gateway controller provisioning a
// load balancer would.
func (c *Controller) AssignGatewayAddress(region, namespace, name, addr string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gw.addrs == nil {
		c.gw.addrs = map[string]string{}
	}
	c.gw.addrs[region+"/"+namespace+"/"+name] = addr
	c.active.poke(region)
}

func (c *Controller) routeStatus(key string) RouteStatus {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gw.routes[key]
}

func (c *Controller) gatewayAddr(key string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gw.addrs[key]
}

// gatewayLoop answers the Gateway API in every region on its own ticker, so
// that it never delays the namespaces' default ServiceAccounts; the
// returned channel closes when ctx ends and the loop has stopped.
func (c *Controller) gatewayLoop(ctx context.Context) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(300 * time.Millisecond)
		defer t.Stop()
		for {
			for _, r := range c.env.Regions {
				if c.active.busy(r) {
					c.gatewayAPI(ctx, r)
				}
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	return done
}

// gatewayAPI reports Gateway addresses and HTTPRoute status in a region.
func (c *Controller) gatewayAPI(ctx context.Context, region string) {
	dc := dynamic.NewForConfigOrDie(c.env.quietConfig(region))
	if gws, err := dc.Resource(gatewayGVR).List(ctx, metav1.ListOptions{}); err == nil {
		for i := range gws.Items {
			gw := &gws.Items[i]
			addr := c.gatewayAddr(region + "/" + gw.GetNamespace() + "/" + gw.GetName())
			if addrs, _, _ := unstructured.NestedSlice(gw.Object, "status", "addresses"); addr == "" || len(addrs) > 0 {
				continue
			}
			_ = c.env.SetGatewayAddress(ctx, region, gw.GetNamespace(), gw.GetName(), addr)
		}
	}
	routes, err := dc.Resource(httpRouteGVR).List(ctx, metav1.ListOptions{})
	if err != nil {
		return
	}
	for i := range routes.Items {
		r := &routes.Items[i]
		if r.GetDeletionTimestamp() != nil {
			continue
		}
		want := routeParents(r, c.routeStatus(region+"/"+r.GetNamespace()+"/"+r.GetName()))
		have, _, _ := unstructured.NestedSlice(r.Object, "status", "parents")
		if sameParents(have, want) {
			continue
		}
		_ = unstructured.SetNestedSlice(r.Object, want, "status", "parents")
		_, _ = dc.Resource(httpRouteGVR).Namespace(r.GetNamespace()).UpdateStatus(ctx, r, metav1.UpdateOptions{})
	}
}

// routeParents is the status of every parent the route names.
func routeParents(r *unstructured.Unstructured, s RouteStatus) []any {
	refs, _, _ := unstructured.NestedSlice(r.Object, "spec", "parentRefs")
	now := time.Now().UTC().Format(time.RFC3339)
	cond := func(typ, failReason, okReason string) map[string]any {
		m := map[string]any{"type": typ, "status": "True", "reason": okReason, "message": "",
			"observedGeneration": r.GetGeneration(), "lastTransitionTime": now}
		if failReason != "" {
			m["status"], m["reason"], m["message"] = "False", failReason, s.Message
		}
		return m
	}
	var out []any
	for _, ref := range refs {
		out = append(out, map[string]any{
			"parentRef":      ref,
			"controllerName": GatewayControllerName,
			"conditions": []any{
				cond("Accepted", s.NotAccepted, "Accepted"),
				cond("ResolvedRefs", s.Unresolved, "ResolvedRefs"),
			},
		})
	}
	return out
}

// sameParents compares what the controller decides: each parent's
// conditions' type, status, reason and generation.
func sameParents(a, b []any) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		ca, _, _ := unstructured.NestedSlice(a[i].(map[string]any), "conditions")
		cb, _, _ := unstructured.NestedSlice(b[i].(map[string]any), "conditions")
		if len(ca) != len(cb) {
			return false
		}
		for j := range ca {
			x, y := ca[j].(map[string]any), cb[j].(map[string]any)
			for _, k := range []string{"type", "status", "reason", "observedGeneration"} {
				if !sameScalar(x[k], y[k]) {
					return false
				}
			}
		}
	}
	return true
}

// sameScalar compares JSON scalars, numbers whatever their Go type.
func sameScalar(a, b any) bool {
	na, aNum := toInt(a)
	nb, bNum := toInt(b)
	if aNum || bNum {
		return aNum && bNum && na == nb
	}
	return a == b
}

func toInt(v any) (int64, bool) {
	switch n := v.(type) {
	case int64:
		return n, true
	case int:
		return int64(n), true
	case float64:
		return int64(n), true
	}
	return 0, false
}
