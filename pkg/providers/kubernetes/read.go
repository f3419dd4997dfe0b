package kubernetes

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"net/http/httptrace"
	"sort"
	"sync"

	"golang.org/x/sync/errgroup"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/neko-defense/nekoctl/pkg/plan"
	"github.com/neko-defense/nekoctl/pkg/provider"
)

var nsGVR = schema.GroupVersionResource{Version: "v1", Resource: "namespaces"}

// AnnotationReleased marks a namespace that `down` kept because it holds
// objects nekoctl does not own; its value is the ApplySet id, so that a
// later `up` of the same stack takes the namespace back.
const AnnotationReleased = "nekoctl.dev/released-from"

// objKey identifies a live object.
type objKey struct {
	gk              schema.GroupKind
	namespace, name string
}

func keyOf(u *unstructured.Unstructured) objKey {
	return objKey{u.GroupVersionKind().GroupKind(), u.GetNamespace(), u.GetName()}
}

func docKey(doc plan.Document) objKey {
	gvk := schema.FromAPIVersionAndKind(str(doc["apiVersion"]), kindOf(doc))
	return objKey{gvk.GroupKind(), namespaceOf(doc), nameOf(doc)}
}

// snapshot is what one Read learned about the region: every object of the
// kinds read, owned or not, so that Diff compares against it and Apply
// needs no second look. Apply keeps it current with what it wrote.
type snapshot struct {
	mu      sync.Mutex
	ns      *unstructured.Unstructured // the workload namespace; nil when absent or terminating
	objects map[objKey]*unstructured.Unstructured
	// address is the region's public address as read (empty when none);
	// addressErr why it could not be read.
	address    string
	addressErr error
	// listed are the kinds listed whole in a namespace, named the objects
	// read by name (nil: absent), kept apart from objects, which are the
	// stack's and its namespace's: where the snapshot holds the whole
	// answer to a later read (see liveReads).
	listed map[kindIn]bool
	named  map[objKey]*unstructured.Unstructured
	// podNetwork are the pod ranges the Nodes allocate (nil when unknown).
	podNetwork []string
	// desired are the identities of the objects the spec declares, as
	// rendered for this read (rendering is most of a plan's CPU).
	desired []identity
	// release is the monitoring release as read (nil: none, or not
	// installed by nekoctl).
	release *provider.Resource
}

// kindIn is a kind in a namespace.
type kindIn struct {
	gk        schema.GroupKind
	namespace string
}

// markListed records a kind listed whole in a namespace.
func (s *snapshot) markListed(gk schema.GroupKind, ns string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.listed == nil {
		s.listed = map[kindIn]bool{}
	}
	s.listed[kindIn{gk, ns}] = true
}

// markRead records the answer to a read by name: the object, or absent.
func (s *snapshot) markRead(k objKey, u *unstructured.Unstructured) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.named == nil {
		s.named = map[objKey]*unstructured.Unstructured{}
	}
	s.named[k] = u
}

func (s *snapshot) get(k objKey) (*unstructured.Unstructured, bool) {
	if s == nil {
		return nil, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.objects[k]
	return u, ok
}

func (s *snapshot) put(u *unstructured.Unstructured) {
	if s == nil || u == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.objects[keyOf(u)] = u
}

func (s *snapshot) drop(k objKey) {
	if s == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.objects, k)
}

func (p *Provider) snapshot() *snapshot {
	p.snapMu.Lock()
	defer p.snapMu.Unlock()
	return p.snap
}

// Read returns the live objects of this stack in the region: the workload
// namespace and every object labelled part of the stack's ApplySet, each
// with its resourceVersion (or content digest) as fingerprint; an object with the identity of
// a desired one but without the stack's labels, as Unowned; and, on the
// namespace, the objects of other owners in it (Foreign). It sends one
// LIST per kind and namespace the spec can produce (and per kind the
// inventory records), all at once, and publishes the region's public
// address, the database password held in the Atlas Secret and the origin
// certificate and key held in the TLS Secret.
func (p *Provider) Read(ctx context.Context, out provider.Outputs) ([]provider.Resource, error) {
	if err := p.clients(); err != nil {
		return nil, err
	}
	snap, err := p.read(ctx)
	if err != nil {
		return nil, p.readError(err)
	}
	p.snapMu.Lock()
	p.snap = snap
	p.snapMu.Unlock()
	p.inv.load(snap.objects[p.parentObjKey()])
	res, err := p.resources(snap)
	if err != nil {
		return nil, p.wrap(err)
	}
	if snap.release != nil {
		res = append(res, *snap.release)
	}
	if out != nil {
		p.publish(res, snap, out)
	}
	return res, nil
}

func (p *Provider) publish(res []provider.Resource, snap *snapshot, out provider.Outputs) {
	out.Set(readKey(p.region), true)
	ns := p.st.Spec.Workload.Namespace
	for _, r := range res {
		if r.Address.Kind == "Deployment" && r.Address.Name == ns+"/"+AppName && !r.Unowned {
			out.Set(deployedKey(p.region), true)
		}
		if r.Address.Kind != "Secret" || r.Unowned {
			continue
		}
		data, _ := r.Doc["data"].(map[string]any)
		switch r.Address.Name {
		case ns + "/" + atlasSecret:
			publishSecret(out, provider.OutDBPassword, data["MONGODB_PASSWORD"])
		case ns + "/" + authSecret:
			for _, k := range []string{keyJWTKeys, keyAdminPassword, keyLegacyJWT} {
				publishSecret(out, foundKey(p.region, k), data[k])
			}
		case ns + "/" + tlsSecret:
			// The origin key lives only here; Cloudflare keeps the
			// certificate when the key it was issued for comes back.
			publishSecret(out, provider.OutOriginCert, data["tls.crt"])
			publishSecret(out, provider.OutOriginKey, data["tls.key"])
		}
	}
	if snap.address != "" {
		out.Set(fmt.Sprintf(provider.OutIngressAddress, p.region), snap.address)
	}
	if len(snap.podNetwork) > 0 {
		out.Set(fmt.Sprintf(outPodNetwork, p.region), snap.podNetwork)
	}
}

// publishSecret hands a non-empty secret value found in a live Secret to
// the other providers.
func publishSecret(out provider.Outputs, key string, v any) {
	if s, ok := v.(plan.Sensitive); ok && s.Reveal() != "" {
		out.Set(key, s)
	}
}

func (p *Provider) readError(err error) error {
	if isUnreachable(err) {
		return p.wrap(fmt.Errorf("API server unreachable: %w", err))
	}
	return p.wrap(err)
}

// onConnection returns ctx with a trace that closes dialing once the
// request is opening a connection (or has one, or has failed to get one),
// and connected once it has a connection to send on (or has failed to get
// one).
func onConnection(ctx context.Context, dialing, connected chan struct{}) context.Context {
	var onceDialing, onceConnected sync.Once
	dialed := func() { onceDialing.Do(func() { close(dialing) }) }
	done := func() { dialed(); onceConnected.Do(func() { close(connected) }) }
	context.AfterFunc(ctx, done)
	return httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
		GotConn:      func(httptrace.GotConnInfo) { done() },
		ConnectStart: func(_, _ string) { dialed() },
		ConnectDone: func(_, _ string, err error) {
			if err != nil {
				done()
			}
		},
		TLSHandshakeDone: func(_ tls.ConnectionState, err error) {
			if err != nil {
				done()
			}
		},
	})
}

// namespaceRead is the GET of the workload namespace: the request that
// opens the connection to the API server, which every other request of a
// read then shares.
type namespaceRead struct {
	// dialing closes once the connection is being opened (or the request
	// has one, or has failed); connected once it is open (or has failed);
	// done once the answer is in ns (nil: no such namespace) or err.
	dialing, connected, done chan struct{}
	ns                       *unstructured.Unstructured
	err                      error
}

// startNamespaceRead sends the namespace's GET and returns once its
// connection is being opened: on a busy machine (every provider and region
// starting at once) the request's goroutine would otherwise wait for a
// core while the caller renders, and the first round trip would start
// only after the rendering.
func (p *Provider) startNamespaceRead(ctx context.Context) *namespaceRead {
	r := &namespaceRead{dialing: make(chan struct{}), connected: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(r.done)
		u, err := p.dyn.Resource(nsGVR).Get(onConnection(ctx, r.dialing, r.connected), p.st.Spec.Workload.Namespace, metav1.GetOptions{})
		if !apierrors.IsNotFound(err) {
			r.ns, r.err = u, err
		}
	}()
	select {
	case <-r.dialing:
	case <-r.done:
	}
	return r
}

// Connect starts the namespace's GET, which the next Read continues from
// (provider.Connector).
func (p *Provider) Connect(ctx context.Context) {
	if p.clients() != nil {
		return // Read reports it
	}
	r := p.startNamespaceRead(ctx)
	p.snapMu.Lock()
	p.connecting = r
	p.snapMu.Unlock()
}

// takeNamespaceRead returns the GET Connect started, once.
func (p *Provider) takeNamespaceRead() *namespaceRead {
	p.snapMu.Lock()
	defer p.snapMu.Unlock()
	r := p.connecting
	p.connecting = nil
	return r
}

// listTarget is one LIST: a kind in a namespace.
type listTarget struct {
	gvk       schema.GroupVersionKind
	namespace string
}

// read sends, at once, the GET of the namespace, the GET of the Gateway or
// Ingress that gives the public address, the LIST of the monitoring
// release's Secrets, and one LIST per kind and namespace of the desired
// objects; then one LIST per kind the inventory
// records beyond those (only after the spec dropped a kind).
func (p *Provider) read(ctx context.Context) (*snapshot, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	snap := &snapshot{objects: map[objKey]*unstructured.Unstructured{}}
	ns := p.st.Spec.Workload.Namespace
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(p.opts.MaxInFlight)
	first := p.takeNamespaceRead()
	if first == nil {
		first = p.startNamespaceRead(gctx)
	}
	g.Go(func() error {
		select {
		case <-first.done:
		case <-gctx.Done():
			return gctx.Err()
		}
		if first.err != nil {
			return first.err
		}
		if u := first.ns; u != nil {
			if u.GetDeletionTimestamp() == nil { // a terminating namespace takes no new objects
				snap.ns = u
			}
			snap.put(u)
		}
		return nil
	})
	// While that first request connects (TCP and TLS, two round trips
	// away), the spec's objects are rendered for their identities and the
	// kinds to list are mapped (discovery read from its disk cache): the
	// CPU a read needs is spent waiting for the network, not before it.
	targets, err := p.listTargets(snap)
	if err != nil {
		cancel()
		_ = g.Wait()
		return nil, err
	}
	seen := map[listTarget]bool{}
	for _, t := range targets {
		seen[t] = true
	}
	// The other requests wait for the namespace's to have a connection:
	// sent at once to a server not yet connected, each would open a TCP
	// and TLS connection of its own, all at the same time and all but one
	// in vain, where HTTP/2 carries every request on the first.
	select {
	case <-first.connected:
	case <-gctx.Done():
	}
	addressFromList := p.st.Spec.Workload.Exposure.Type == "ingress" && p.addressOverride() == ""
	if !addressFromList {
		g.Go(func() error {
			snap.address, snap.addressErr = p.readAddress(gctx, snap)
			return nil
		})
	}
	if len(p.st.Spec.Workload.Exposure.TrustedProxyCIDRs) == 0 {
		g.Go(func() error {
			snap.podNetwork = p.podNetwork(gctx)
			return nil
		})
	}
	// The release's Secrets are listed with the objects, not after them:
	// one round trip for the whole read.
	g.Go(func() (err error) {
		snap.release, err = p.readRelease()
		return err
	})
	p.listAll(gctx, g, snap, targets)
	if err := g.Wait(); err != nil {
		return nil, err
	}
	if addressFromList {
		// The Ingress was listed with the others.
		snap.addressErr = apierrors.NewNotFound(schema.GroupResource{Group: "networking.k8s.io", Resource: "ingresses"}, AppName)
		if u, ok := snap.objects[objKey{schema.GroupKind{Group: "networking.k8s.io", Kind: "Ingress"}, ns, AppName}]; ok {
			snap.address, snap.addressErr = ingressAddress(u), nil
		}
	}
	var more []listTarget
	for _, gk := range parentKinds(snap.objects[p.parentObjKey()]) {
		t := listTarget{gvk: gk.WithVersion(""), namespace: ns}
		if gk.Kind == "Namespace" || listedKind(seen, gk, ns) {
			continue
		}
		seen[t] = true
		more = append(more, t)
	}
	if len(more) > 0 {
		g, gctx := errgroup.WithContext(ctx)
		g.SetLimit(p.opts.MaxInFlight)
		p.listAll(gctx, g, snap, more)
		if err := g.Wait(); err != nil {
			return nil, err
		}
	}
	return snap, nil
}

// listTargets renders the region's objects into snap.desired and returns
// one LIST per kind and namespace they are in (the ConfigMaps always: the
// inventory is one), each kind mapped once so that discovery is loaded.
func (p *Provider) listTargets(snap *snapshot) ([]listTarget, error) {
	desired, err := p.identities()
	if err != nil {
		return nil, err
	}
	snap.desired = desired
	ns := p.st.Spec.Workload.Namespace
	targets := []listTarget{{gvk: schema.GroupVersionKind{Version: "v1", Kind: "ConfigMap"}, namespace: ns}}
	seen := map[listTarget]bool{targets[0]: true}
	for _, d := range desired {
		t := listTarget{gvk: d.gvk, namespace: d.key.namespace}
		if t.namespace == "" || seen[t] {
			continue
		}
		seen[t] = true
		targets = append(targets, t)
	}
	// Every kind is mapped now, so that each group's discovery is read
	// from its disk cache while the connection opens, not between the
	// LISTs sent once it is open. Errors and unknown kinds come back where
	// the lists map them again.
	for _, t := range targets {
		_, _, _ = p.mapping(t.gvk.GroupKind(), t.gvk.Version)
	}
	return targets, nil
}

func listedKind(seen map[listTarget]bool, gk schema.GroupKind, ns string) bool {
	for t := range seen {
		if t.gvk.GroupKind() == gk && t.namespace == ns {
			return true
		}
	}
	return false
}

// listAll lists every target on g into snap; kinds the cluster does not
// serve are skipped (Diff notes them).
func (p *Provider) listAll(ctx context.Context, g *errgroup.Group, snap *snapshot, targets []listTarget) {
	for _, t := range targets {
		g.Go(func() error {
			m, ok, err := p.mapping(t.gvk.GroupKind(), t.gvk.Version)
			if err != nil || !ok {
				return err
			}
			l, err := p.dyn.Resource(m.Resource).Namespace(t.namespace).List(ctx, metav1.ListOptions{})
			if apierrors.IsNotFound(err) {
				// The cached discovery named a resource the server no longer
				// serves (a CRD removed since): refresh it and ask again.
				if m, ok, err = p.remap(t.gvk); err != nil || !ok {
					return err
				}
				l, err = p.dyn.Resource(m.Resource).Namespace(t.namespace).List(ctx, metav1.ListOptions{})
			}
			if err != nil {
				return fmt.Errorf("listing %s in %s: %w", gkString(t.gvk.GroupKind()), t.namespace, err)
			}
			for i := range l.Items {
				snap.put(&l.Items[i])
			}
			snap.markListed(t.gvk.GroupKind(), t.namespace)
			return nil
		})
	}
}

// identity is a desired object's key and version.
type identity struct {
	key objKey
	gvk schema.GroupVersionKind
}

// identities are the objects the spec declares in this region (rendered
// without values from other providers: names never depend on them).
func (p *Provider) identities() ([]identity, error) {
	docs, err := objects(p.st, p.region, provider.NewOutputs(), keyPolicy{}, nil, rendered)
	if err != nil {
		return nil, err
	}
	out := make([]identity, 0, len(docs))
	for _, d := range docs {
		out = append(out, identity{key: docKey(d), gvk: schema.FromAPIVersionAndKind(str(d["apiVersion"]), kindOf(d))})
	}
	return out, nil
}

// resources turns a snapshot into live resources: owned objects, unowned
// objects in the place of desired ones, and the namespace with the objects
// of other owners it holds.
func (p *Provider) resources(snap *snapshot) ([]provider.Resource, error) {
	want := map[objKey]bool{}
	for _, d := range snap.desired {
		want[d.key] = true
	}
	var res []provider.Resource
	var foreign []string
	parent := p.parentObjKey()
	nsIndex := -1
	for _, k := range p.sortedObjects(snap) {
		u := snap.objects[k]
		if u.GetDeletionTimestamp() != nil || k == parent {
			continue
		}
		r := p.resource(u)
		switch {
		case p.owned(u) || (k.gk.Kind == "Namespace" && p.released(u)):
		case want[k]:
			r.Unowned = true
		default:
			if u.GetNamespace() == p.st.Spec.Workload.Namespace && !ownedByController(u) && !systemObject(u) {
				foreign = append(foreign, u.GetKind()+" "+u.GetName())
			}
			continue
		}
		if k.gk.Kind == "Namespace" && k.name == p.st.Spec.Workload.Namespace {
			nsIndex = len(res)
		}
		res = append(res, r)
	}
	if nsIndex >= 0 {
		res[nsIndex].Foreign = foreign
	}
	return res, nil
}

// sortedObjects orders a snapshot's keys by kind, namespace and name.
func (p *Provider) sortedObjects(snap *snapshot) []objKey {
	keys := make([]objKey, 0, len(snap.objects))
	for k := range snap.objects {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		a, b := keys[i], keys[j]
		if a.gk != b.gk {
			return gkString(a.gk) < gkString(b.gk)
		}
		return a.namespace+"/"+a.name < b.namespace+"/"+b.name
	})
	return keys
}

func (p *Provider) resource(u *unstructured.Unstructured) provider.Resource {
	doc := liveDoc(u)
	return provider.Resource{
		Address:     p.address(u.GetKind(), u.GetNamespace(), u.GetName()),
		ID:          string(u.GetUID()),
		Doc:         doc,
		Fingerprint: docFingerprint(u, doc),
	}
}

// fingerprint is the live version a saved plan is checked against: the
// resourceVersion, except for objects with a status, which controllers keep
// rewriting (a Deployment's ready replicas and the replica count its
// autoscaler sets, a Gateway's addresses) with no change to anything a plan
// concerns. Those get a digest of the live document the plan compares.
func fingerprint(u *unstructured.Unstructured) string { return docFingerprint(u, liveDoc(u)) }

// docFingerprint is fingerprint with u's live document already made.
func docFingerprint(u *unstructured.Unstructured, doc plan.Document) string {
	if _, ok := u.Object["status"]; !ok {
		return u.GetResourceVersion()
	}
	b, err := json.Marshal(doc)
	if err != nil {
		return u.GetResourceVersion()
	}
	return fmt.Sprintf("sha256:%x", sha256.Sum256(b))[:19]
}

// released reports a namespace this stack released when `down` kept it.
func (p *Provider) released(u *unstructured.Unstructured) bool {
	return u.GetAnnotations()[AnnotationReleased] == ApplySetID(p.st) && u.GetLabels()[LabelPartOf] == ""
}

// ownedByController reports objects a controller made and will remove
// with their owner (a Deployment's pods, a StatefulSet's revisions).
func ownedByController(u *unstructured.Unstructured) bool { return len(u.GetOwnerReferences()) > 0 }

// addressOverride is the spec's public address of the region, if any.
func (p *Provider) addressOverride() string {
	if r := p.st.Spec.Region(p.region); r != nil {
		return r.IngressAddress
	}
	return ""
}

// publicAddress is the region's address for the Cloudflare pool: the
// spec's override, else the Gateway's first status address, else the
// Ingress's load-balancer address. Empty when not (yet) reported.
func (p *Provider) publicAddress(ctx context.Context) (string, error) {
	return p.readAddress(ctx, nil)
}

// readAddress is publicAddress that also keeps the Gateway or Ingress it
// read in snap (when not nil), for the plan's exposure checks.
func (p *Provider) readAddress(ctx context.Context, snap *snapshot) (string, error) {
	if a := p.addressOverride(); a != "" {
		return a, nil
	}
	e := p.st.Spec.Workload.Exposure
	if e.Type == "ingress" {
		u, err := p.readNamed(ctx, snap, ingressGVR, "Ingress", p.st.Spec.Workload.Namespace, AppName)
		if err != nil {
			return "", err
		}
		return ingressAddress(u), nil
	}
	u, err := p.readNamed(ctx, snap, gatewayGVR, "Gateway", e.Gateway.Namespace, e.Gateway.Name)
	if err != nil {
		return "", err
	}
	addrs, _, _ := unstructured.NestedSlice(u.Object, "status", "addresses")
	for _, a := range addrs {
		m, _ := a.(map[string]any)
		if v, _ := m["value"].(string); v != "" {
			return v, nil
		}
	}
	return "", nil
}

func ingressAddress(u *unstructured.Unstructured) string {
	lbs, _, _ := unstructured.NestedSlice(u.Object, "status", "loadBalancer", "ingress")
	for _, lb := range lbs {
		m, _ := lb.(map[string]any)
		if ip, _ := m["ip"].(string); ip != "" {
			return ip
		}
		if h, _ := m["hostname"].(string); h != "" {
			return h
		}
	}
	return ""
}
