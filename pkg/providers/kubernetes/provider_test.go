package kubernetes

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/neko-defense/nekoctl/internal/ctxtime"
	"github.com/neko-defense/nekoctl/pkg/kubetest"
	"github.com/neko-defense/nekoctl/pkg/plan"
	"github.com/neko-defense/nekoctl/pkg/provider"
	"github.com/neko-defense/nekoctl/pkg/spec"
)

// TestLifecycle: apply from empty, no perpetual diff, one field changed is
// one update, a removed object is pruned, foreign objects survive up and
// down, and down releases a namespace that holds foreign objects.
func TestLifecycle(t *testing.T) {
	needCluster(t)
	t.Parallel()
	ctx := context.Background()
	const region = "us-east"
	st := isolatedStack("life")
	dropNamespace(t, region, "life")
	out := upstream()
	p := newProvider(t, st, region, nil)

	first := planRegion(t, p, out, provider.Options{})
	n := countActions(first)
	if n[plan.Create] < 15 || n[plan.Update]+n[plan.Delete]+n[plan.Replace] != 0 {
		t.Fatalf("first plan: want only creates, got %v:\n%s", n, strings.Join(actions(first, false), "\n"))
	}
	applyAll(t, p, first, out)
	if got, _ := out.Get(fmt.Sprintf(provider.OutIngressAddress, region)); got != gatewayAddress[region] {
		t.Errorf("published address = %v, want %s", got, gatewayAddress[region])
	}
	cs := env.Clientset(region)
	if _, err := env.Dynamic(region).Resource(schema.GroupVersionResource{Group: "monitoring.coreos.com", Version: "v1", Resource: "servicemonitors"}).
		Namespace("life").Get(ctx, AppName, metav1.GetOptions{}); err != nil {
		t.Errorf("ServiceMonitor not applied where the CRD exists: %v", err)
	}
	auth, err := cs.CoreV1().Secrets("life").Get(ctx, authSecret, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// The stack's JWT key set and admin password, generated once.
	if len(auth.Data["JWT_KEYS"]) < 32 || len(auth.Data["ADMIN_PASSWORD"]) < 32 {
		t.Errorf("generated JWT_KEYS has %d bytes and ADMIN_PASSWORD %d, want at least 32", len(auth.Data["JWT_KEYS"]), len(auth.Data["ADMIN_PASSWORD"]))
	}

	// A fresh provider and output store (a new `nekoctl plan` run) sees no changes.
	calls := &counter{}
	p2 := New(st, region, calls.wrap(env.RESTConfig(region)), Config{DiscoveryCacheDir: "-"})
	again := planRegion(t, p2, upstream(), provider.Options{})
	if got := actions(again, true); len(got) != 0 {
		t.Fatalf("plan after up is not empty:\n%s\nfields: %v", strings.Join(got, "\n"), fieldsOf(again))
	}
	t.Logf("plan of %d objects after up: %d API requests", len(again), calls.n.Load())

	// Before Atlas has published the connection string in a run, the
	// Secret that already holds it is not a change either.
	if got := actions(planRegion(t, p2, provider.NewOutputs(), provider.Options{}), true); len(got) != 0 {
		t.Fatalf("plan without upstream values is not empty: %v", got)
	}

	// A rotated connection string is one update of the Atlas Secret, masked.
	rotated := upstream()
	rotated.Set(provider.OutMongoURI, plan.NewSensitive("mongodb+srv://neko-api:n3w-pass@neko-global.abcde.mongodb.net/neko_defense"))
	rot := planRegion(t, p, rotated, provider.Options{})
	if got := actions(rot, true); len(got) != 2 || got[0] != "update Secret life/"+atlasSecret || got[1] != "update Deployment life/neko-api" {
		t.Fatalf("after rotating the URI (the Secret, then the pods roll): %v", got)
	}
	before, _ := cs.AppsV1().Deployments("life").Get(ctx, AppName, metav1.GetOptions{})
	for _, c := range rot {
		b, _ := jsonMarshal(c)
		if strings.Contains(b, "s3cret") || strings.Contains(b, "n3w-pass") {
			t.Errorf("plan change reveals a secret: %s", b)
		}
	}
	applyAll(t, p, rot, rotated)
	out = rotated
	after, _ := cs.AppsV1().Deployments("life").Get(ctx, AppName, metav1.GetOptions{})
	if a, b := after.Spec.Template.Annotations["nekoctl.dev/secrets-digest"], before.Spec.Template.Annotations["nekoctl.dev/secrets-digest"]; a == b || a == "" {
		t.Errorf("pods not rolled after the Secret changed: digest %q → %q", b, a)
	}
	if got := actions(planRegion(t, p, rotated, provider.Options{}), true); len(got) != 0 {
		t.Fatalf("plan after the rotation is not empty: %v", got)
	}

	// A password the Atlas provider is about to rotate: the Secret is
	// planned as changing, and applied only with the new value.
	rotating := upstream()
	for _, k := range []string{provider.OutMongoURI, provider.OutDBPassword} {
		rotating.Set(k, plan.Unknown{From: k, Changes: true})
	}
	pending := planRegion(t, p, rotating, provider.Options{})
	if got := actions(pending, true); len(got) != 2 || got[0] != "update Secret life/"+atlasSecret {
		t.Fatalf("with a rotation pending: %v", got)
	}
	if err := tryApply(p, pending, rotating); err == nil || !strings.Contains(err.Error(), "not known yet") {
		t.Errorf("apply before the new password is known: %v", err)
	}
	rotating.Set(provider.OutMongoURI, plan.NewSensitive("mongodb+srv://neko-api:r0tated@neko-global.abcde.mongodb.net/neko_defense"))
	rotating.Set(provider.OutDBPassword, plan.NewSensitive("r0tated"))
	applyAll(t, p, pending, rotating)
	out = rotating
	if got := actions(planRegion(t, p, out, provider.Options{}), true); len(got) != 0 {
		t.Fatalf("plan after the password rotation is not empty: %v", got)
	}

	// Generated secrets are kept across applies.
	auth2, _ := cs.CoreV1().Secrets("life").Get(ctx, authSecret, metav1.GetOptions{})
	if string(auth2.Data["JWT_SECRET"]) != string(auth.Data["JWT_SECRET"]) {
		t.Error("JWT_SECRET changed without a change in the spec")
	}

	// One field changed: one update with that field.
	st.Spec.Regions[0].Replicas.Max = 12
	one := planRegion(t, p, out, provider.Options{})
	got := actions(one, true)
	if len(got) != 1 || got[0] != "update HorizontalPodAutoscaler life/neko-api" {
		t.Fatalf("after raising max replicas: %v", got)
	}
	if f := fieldsOf(one); len(f) != 1 || f[0] != "spec.maxReplicas: 10 → 12" {
		t.Errorf("fields = %v, want [spec.maxReplicas: 10 → 12]", f)
	}
	applyAll(t, p, one, out)
	if got := actions(planRegion(t, p, out, provider.Options{}), true); len(got) != 0 {
		t.Fatalf("plan after the update is not empty: %v", got)
	}

	// A field that cannot change in place: a replace, with the reason.
	st.Spec.Workload.Redis.Storage = "2Gi"
	repl := planRegion(t, p, out, provider.Options{})
	if got := actions(repl, true); len(got) != 1 || got[0] != "replace StatefulSet life/"+RedisName {
		t.Fatalf("after growing Redis storage: %v", got)
	}
	for _, c := range repl {
		if c.Action == plan.Replace && !strings.Contains(c.Reason, "cannot change in place") {
			t.Errorf("replace reason = %q", c.Reason)
		}
	}
	applyAll(t, p, repl, out)
	if got := actions(planRegion(t, p, out, provider.Options{}), true); len(got) != 0 {
		t.Fatalf("plan after the replace is not empty: %v", got)
	}

	// An object removed from the spec is pruned.
	st.Spec.Workload.Monitoring.Dashboards = new(bool)
	pruned := planRegion(t, p, out, provider.Options{})
	if got := actions(pruned, true); len(got) != 1 || got[0] != "delete ConfigMap life/neko-api-dashboard" {
		t.Fatalf("after turning dashboards off: %v", got)
	}
	applyAll(t, p, pruned, out)
	if _, err := cs.CoreV1().ConfigMaps("life").Get(ctx, AppName+"-dashboard", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("dashboard ConfigMap still there: %v", err)
	}

	// Foreign objects in the same namespace: never planned, never touched.
	foreign := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "someone-elses", Namespace: "life",
		Labels: map[string]string{"app.kubernetes.io/managed-by": "helm"}}, Data: map[string]string{"k": "v"}}
	if _, err := cs.CoreV1().ConfigMaps("life").Create(ctx, foreign, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if got := actions(planRegion(t, p, out, provider.Options{}), true); len(got) != 0 {
		t.Fatalf("a foreign object changed the plan: %v", got)
	}

	// down: everything owned goes; the namespace is kept for the foreign
	// object (planned as keep, with the reason), without nekoctl's labels.
	down := planRegion(t, p, out, provider.Options{Destroy: true})
	if n := countActions(down); n[plan.Delete] != len(down)-1 || n[plan.Keep] != 1 {
		t.Fatalf("down plan: %v", actions(down, false))
	}
	for _, c := range down {
		if c.Action == plan.Keep && (c.Address.Kind != "Namespace" || !strings.Contains(c.Reason, "holds objects nekoctl does not own (ConfigMap someone-elses)")) {
			t.Errorf("kept %s: reason %q", c.Address, c.Reason)
		}
	}
	applyAll(t, p, down, out)
	if _, err := cs.CoreV1().ConfigMaps("life").Get(ctx, "someone-elses", metav1.GetOptions{}); err != nil {
		t.Errorf("foreign ConfigMap did not survive down: %v", err)
	}
	ns, err := cs.CoreV1().Namespaces().Get(ctx, "life", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("namespace with a foreign object was deleted: %v", err)
	}
	if ns.Labels[LabelPartOf] != "" || ns.Labels[LabelStack] != "" {
		t.Errorf("kept namespace still carries nekoctl labels: %v", ns.Labels)
	}
	assertNothingOwned(t, region, "life")
	if got := actions(planRegion(t, p, out, provider.Options{Destroy: true}), true); len(got) != 0 {
		t.Errorf("second down plans changes: %v", got)
	}

	// up takes back the namespace it released: no conflict, the namespace
	// is updated (labels back, marker gone) and the rest created.
	back := planRegion(t, p, out, provider.Options{})
	for _, c := range back {
		if c.Conflict != "" || c.Action == plan.Adopt {
			t.Errorf("re-adopting the released namespace: %s %s conflict %q", c.Action, c.Address, c.Conflict)
		}
		if c.Address.Kind == "Namespace" && c.Action != plan.Update {
			t.Errorf("released namespace planned as %s", c.Action)
		}
	}
	applyAll(t, p, back, out)
	ns, _ = cs.CoreV1().Namespaces().Get(ctx, "life", metav1.GetOptions{})
	if ns.Labels[LabelPartOf] != ApplySetID(st) || ns.Annotations[AnnotationReleased] != "" {
		t.Errorf("namespace not taken back: labels %v annotations %v", ns.Labels, ns.Annotations)
	}
	if got := actions(planRegion(t, p, out, provider.Options{}), true); len(got) != 0 {
		t.Errorf("plan after taking the namespace back is not empty: %v", got)
	}
}

// TestDownLeavesNothing: up then down in a region without the Prometheus
// Operator; monitoring objects are skipped with a note.
func TestDownLeavesNothing(t *testing.T) {
	needCluster(t)
	t.Parallel()
	ctx := context.Background()
	const region = "eu-west"
	st := isolatedStack("gone")
	dropNamespace(t, region, "gone")
	out := upstream()
	p := newProvider(t, st, region, nil)
	up := planRegion(t, p, out, provider.Options{})
	if !contains(notesOf(up), "skipped: the cluster does not serve monitoring.coreos.com/v1/ServiceMonitor") {
		t.Errorf("no note about the missing Prometheus Operator CRDs: %v", notesOf(up))
	}
	applyAll(t, p, up, out)
	if got := actions(planRegion(t, p, out, provider.Options{}), true); len(got) != 0 {
		t.Fatalf("plan after up is not empty: %v", got)
	}
	down := planRegion(t, p, out, provider.Options{Destroy: true})
	applyAll(t, p, down, out)
	assertNothingOwned(t, region, "gone")

	// A route to a Gateway that does not exist is planned with a warning.
	st.Spec.Workload.Exposure.Gateway.Name = "missing"
	if notes := notesOf(planRegion(t, p, out, provider.Options{})); !contains(notes, "Gateway gateway-system/missing does not exist") {
		t.Errorf("no note about the missing Gateway: %v", notes)
	}
	kubetestWait(t, func() bool {
		_, err := env.Clientset(region).CoreV1().Namespaces().Get(ctx, "gone", metav1.GetOptions{})
		return apierrors.IsNotFound(err)
	})
}

// TestForeignObjectWithOurName: an object nekoctl would create but that
// someone else owns is planned as an adoption with a conflict and left
// alone; down never touches it.
func TestForeignObjectWithOurName(t *testing.T) {
	needCluster(t)
	t.Parallel()
	ctx := context.Background()
	const region = "eu-west"
	cs := env.Clientset(region)
	dropNamespace(t, region, "clash")
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "clash", Labels: map[string]string{"team": "other"}}}
	if _, err := cs.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	p := newProvider(t, isolatedStack("clash"), region, nil)
	changes := planRegion(t, p, upstream(), provider.Options{})
	var conflicts []plan.Change
	for _, c := range changes {
		if c.Conflict != "" {
			conflicts = append(conflicts, c)
		}
	}
	if len(conflicts) != 1 || conflicts[0].Address.Kind != "Namespace" || conflicts[0].Action != plan.Adopt ||
		conflicts[0].Conflict != provider.ConflictUnowned || conflicts[0].Fingerprint == "" {
		t.Fatalf("plan over a foreign namespace: conflicts %+v", conflicts)
	}
	if !contains(fieldsOf(conflicts), "metadata.labels."+LabelPartOf) {
		t.Errorf("the conflict does not show what adopting changes: %v", fieldsOf(conflicts))
	}
	got, _ := cs.CoreV1().Namespaces().Get(ctx, "clash", metav1.GetOptions{})
	if got.Labels["team"] != "other" || got.Labels[LabelPartOf] != "" {
		t.Errorf("foreign namespace was modified: %v", got.Labels)
	}
	// down never deletes it either.
	if down, err := tryPlan(p, upstream(), provider.Options{Destroy: true}); err != nil || len(actions(down, true)) != 0 {
		t.Errorf("down over a foreign namespace: %v %v", actions(down, true), err)
	}
}

// TestFailedRollout: a rollout that fails is reported with its reason; a
// slow one reports progress and succeeds.
func TestFailedRollout(t *testing.T) {
	needCluster(t)
	t.Parallel()
	const region = "asia-pacific"
	st := isolatedStack("rollout")
	dropNamespace(t, region, "rollout")
	out := upstream()
	ev := &events{}
	p := newProvider(t, st, region, ev)
	env.Controller().SetRollout(region, "StatefulSet", "rollout", RedisName, kubetest.Rollout{Delay: 1500e6})
	env.Controller().SetRollout(region, "Deployment", "rollout", AppName, kubetest.Rollout{
		FailReason:  "ProgressDeadlineExceeded",
		FailMessage: `ReplicaSet "neko-api-5d4f" has timed out progressing.`,
	})
	err := tryApply(p, planRegion(t, p, out, provider.Options{}), out)
	if err == nil {
		t.Fatal("apply succeeded with a failing rollout")
	}
	for _, want := range []string{"Deployment", "rollout/neko-api", "rollout failed", "ProgressDeadlineExceeded", "has timed out progressing"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
	msgs := ev.messages()
	if !contains(msgs, "StatefulSet rolling out") || !contains(msgs, "StatefulSet rolled out") {
		t.Errorf("slow StatefulSet rollout reported no progress: %v", msgs)
	}
	// An image that cannot be pulled shows on the pods, not in the
	// Deployment's conditions: it is reported with the kubelet's reason.
	env.Controller().SetRollout(region, "Deployment", "rollout", AppName, kubetest.Rollout{
		PodWaiting: "ImagePullBackOff",
		PodMessage: `Back-off pulling image "ghcr.io/neko-defense/nekoctl:v9.9.9"`,
	})
	st.Spec.Workload.Image = "ghcr.io/neko-defense/nekoctl:v9.9.9"
	err = tryApply(p, planRegion(t, p, out, provider.Options{}), out)
	if err == nil || !strings.Contains(err.Error(), "ImagePullBackOff") || !strings.Contains(err.Error(), "Back-off pulling image") {
		t.Errorf("image pull failure: err = %v", err)
	}
	env.Controller().SetRollout(region, "Deployment", "rollout", AppName, kubetest.Healthy)
	kubetestWait(t, func() bool {
		_, err := env.Clientset(region).CoreV1().Pods("rollout").Get(context.Background(), AppName+"-waiting", metav1.GetOptions{})
		return apierrors.IsNotFound(err)
	})

	// A rollout that does not finish in time fails with what it waits for.
	env.Controller().SetRollout(region, "StatefulSet", "rollout", RedisName, kubetest.Rollout{Delay: time.Hour})
	st.Spec.Workload.Redis.Memory = "384Mi"
	impatient := New(st, region, env.RESTConfig(region), Config{PollInterval: 100 * time.Millisecond, RolloutTimeout: time.Second})
	err = tryApply(impatient, planRegion(t, impatient, out, provider.Options{}), out)
	if err == nil || !strings.Contains(err.Error(), "StatefulSet") || !strings.Contains(err.Error(), "rollout not finished after 1s") {
		t.Errorf("rollout timeout: err = %v", err)
	}
	env.Controller().SetRollout(region, "StatefulSet", "rollout", RedisName, kubetest.Healthy)

	// Once the controller recovers, the same plan applies cleanly.
	st.Spec.Workload.Image = "ghcr.io/neko-defense/nekoctl:v1.0.1"
	applyAll(t, p, planRegion(t, p, out, provider.Options{}), out)
	applyAll(t, p, planRegion(t, p, out, provider.Options{Destroy: true}), out)
	assertNothingOwned(t, region, "rollout")
}

// TestPodSecurityViolation: plan refuses a pod template that the
// namespace's restricted level would reject.
func TestPodSecurityViolation(t *testing.T) {
	needCluster(t)
	t.Parallel()
	const region = "asia-pacific"
	_, p, out := appliedStack(t, region, "psa")

	p.mutate = func(docs []plan.Document) {
		for _, d := range docs {
			if kindOf(d) != "Deployment" {
				continue
			}
			c, _ := lookup(d, []string{"spec", "template", "spec", "containers", "0"})
			sc := c.(map[string]any)["securityContext"].(map[string]any)
			sc["allowPrivilegeEscalation"] = true
			sc["runAsUser"] = int64(0)
		}
	}
	_, err := tryPlan(p, out, provider.Options{})
	if err == nil {
		t.Fatal("plan accepted a pod template that violates restricted")
	}
	for _, want := range []string{"Pod Security", "Deployment psa/neko-api", "violates PodSecurity", "allowPrivilegeEscalation"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
	p.mutate = nil
	applyAll(t, p, planRegion(t, p, out, provider.Options{Destroy: true}), out)
}

// TestPodSecurityCheckWaitsForTheDefaultServiceAccount: the check pod runs
// as the namespace's default ServiceAccount, which a controller creates a
// moment after the namespace; an apply right after the namespace's waits
// for it instead of failing.
func TestPodSecurityCheckWaitsForTheDefaultServiceAccount(t *testing.T) {
	needCluster(t)
	t.Parallel()
	const region = "eu-west"
	st := isolatedStack("fresh-sa")
	dropNamespace(t, region, "fresh-sa")
	out := upstream()
	p := newProvider(t, st, region, nil)
	// Everything but the workloads and what waits for them first.
	changes := planRegion(t, p, out, provider.Options{})
	later := map[plan.Address]bool{}
	for grew := true; grew; {
		grew = false
		for _, c := range changes {
			if later[c.Address] {
				continue
			}
			k := c.Address.Kind
			if k == "Deployment" || k == "StatefulSet" || slices.ContainsFunc(c.DependsOn, func(a plan.Address) bool { return later[a] }) {
				later[c.Address], grew = true, true
			}
		}
	}
	var first, rest []plan.Change
	for _, c := range changes {
		if later[c.Address] {
			rest = append(rest, c)
		} else {
			first = append(first, c)
		}
	}
	if len(rest) == 0 {
		t.Fatal("the plan has no workload")
	}
	applyAll(t, p, first, out)
	// As if the controller had not got to the new namespace yet (it makes
	// the account again a few hundred milliseconds later).
	ctx := context.Background()
	sas := env.Clientset(region).CoreV1().ServiceAccounts("fresh-sa")
	kubetestWait(t, func() bool { return sas.Delete(ctx, "default", metav1.DeleteOptions{}) == nil })
	applyAll(t, p, rest, out)
	applyAll(t, p, planRegion(t, p, out, provider.Options{Destroy: true}), out)
}

// TestUnreachableRegion: a region whose API server does not answer fails
// alone, with a message naming it; another region still plans.
func TestUnreachableRegion(t *testing.T) {
	needCluster(t)
	t.Parallel()
	st := isolatedStack("unreachable")
	bad := New(st, "eu-west", env.UnreachableConfig(), Config{})
	_, err := bad.Read(context.Background(), provider.NewOutputs())
	if err == nil {
		t.Fatal("Read of an unreachable region succeeded")
	}
	for _, want := range []string{"region eu-west", "context eu-west", "API server unreachable"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
	good := newProvider(t, st, "us-east", nil)
	if _, err := tryPlan(good, upstream(), provider.Options{}); err != nil {
		t.Errorf("a reachable region failed to plan: %v", err)
	}
}

func fieldsOf(changes []plan.Change) []string {
	var out []string
	for _, c := range changes {
		for _, f := range c.Fields {
			out = append(out, fmt.Sprintf("%s: %v → %v", f.Path, f.Before, f.After))
		}
	}
	return out
}

func notesOf(changes []plan.Change) []string {
	var out []string
	for _, c := range changes {
		out = append(out, c.Notes...)
	}
	return out
}

// assertNothingOwned lists every kind the templates use and fails on any
// object still labelled part of the stack's inventory.
func assertNothingOwned(t *testing.T, region, stack string) {
	t.Helper()
	ctx := context.Background()
	sel := metav1.ListOptions{LabelSelector: LabelPartOf + "=" + ApplySetID(isolatedStack(stack))}
	dc := env.Dynamic(region)
	gvrs := []schema.GroupVersionResource{
		{Version: "v1", Resource: "namespaces"}, {Version: "v1", Resource: "configmaps"}, {Version: "v1", Resource: "secrets"},
		{Version: "v1", Resource: "services"}, {Version: "v1", Resource: "serviceaccounts"},
		{Group: "apps", Version: "v1", Resource: "deployments"}, {Group: "apps", Version: "v1", Resource: "statefulsets"},
		{Group: "autoscaling", Version: "v2", Resource: "horizontalpodautoscalers"},
		{Group: "policy", Version: "v1", Resource: "poddisruptionbudgets"},
		{Group: "networking.k8s.io", Version: "v1", Resource: "networkpolicies"},
		{Group: "networking.k8s.io", Version: "v1", Resource: "ingresses"},
		{Group: "gateway.networking.k8s.io", Version: "v1", Resource: "httproutes"},
		{Group: "gateway.networking.k8s.io", Version: "v1", Resource: "referencegrants"},
	}
	for _, gvr := range gvrs {
		l, err := dc.Resource(gvr).List(ctx, sel)
		if err != nil {
			t.Fatalf("listing %s: %v", gvr.Resource, err)
		}
		for _, u := range l.Items {
			if u.GetDeletionTimestamp() == nil {
				t.Errorf("still owned after down: %s %s/%s", u.GetKind(), u.GetNamespace(), u.GetName())
			}
		}
	}
	l, _ := dc.Resource(schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}).Namespace(stack).
		List(ctx, metav1.ListOptions{LabelSelector: LabelApplySetID})
	for _, u := range l.Items {
		if u.GetDeletionTimestamp() == nil {
			t.Errorf("inventory left behind: %s", u.GetName())
		}
	}
}

func kubetestWait(t *testing.T, cond func() bool) {
	t.Helper()
	for i := 0; i < 200; i++ {
		if cond() {
			return
		}
		if err := ctxtime.Sleep(context.Background(), 100*time.Millisecond); err != nil {
			t.Fatal(err)
		}
	}
	t.Fatal("condition not met after 20s")
}

// TestIngressExposure: with exposure.type ingress the region's address is
// the Ingress's load-balancer address; a spec override wins.
func TestIngressExposure(t *testing.T) {
	needCluster(t)
	t.Parallel()
	ctx := context.Background()
	const region = "asia-pacific"
	st := isolatedStack("ingress")
	dropNamespace(t, region, "ingress")
	st.Spec.Workload.Exposure.Type = "ingress"
	out := upstream()
	p := newProvider(t, st, region, nil)
	changes := planRegion(t, p, out, provider.Options{})
	if !contains(actions(changes, true), "create Ingress ingress/neko-api") || contains(actions(changes, true), "HTTPRoute") {
		t.Fatalf("ingress plan: %v", actions(changes, true))
	}
	done := make(chan struct{})
	go func() { // the ingress controller
		defer close(done)
		for i := 0; i < 100; i++ {
			if env.SetIngressAddress(ctx, region, "ingress", AppName, "198.51.100.77") == nil {
				return
			}
			_ = ctxtime.Sleep(ctx, 100*time.Millisecond)
		}
	}()
	applyAll(t, p, changes, out)
	<-done
	key := fmt.Sprintf(provider.OutIngressAddress, region)
	if got, _ := out.Get(key); got != "198.51.100.77" {
		t.Errorf("published address = %v, want 198.51.100.77", got)
	}
	st.Spec.Regions[2].IngressAddress = "192.0.2.1"
	fresh := provider.NewOutputs()
	if _, err := p.Read(ctx, fresh); err != nil {
		t.Fatal(err)
	}
	if got, _ := fresh.Get(key); got != "192.0.2.1" {
		t.Errorf("address with override = %v, want 192.0.2.1", got)
	}
	health, err := p.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !healthLine(health, "IngressClass", "Failing", "does not exist") {
		t.Errorf("status without the IngressClass: %+v", health)
	}
	class := &networkingv1.IngressClass{ObjectMeta: metav1.ObjectMeta{Name: "nginx"},
		Spec: networkingv1.IngressClassSpec{Controller: "k8s.io/ingress-nginx"}}
	if _, err := env.Clientset(region).NetworkingV1().IngressClasses().Create(ctx, class, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	if health, err = p.Status(ctx); err != nil {
		t.Fatal(err)
	}
	for _, h := range health {
		if !h.Healthy {
			t.Errorf("status: %s %s %s", h.Address, h.State, h.Detail)
		}
	}
	if !healthLine(health, "Ingress", "OK", "TLS with the origin certificate for api.nekodefense.example, www.api.nekodefense.example") {
		t.Errorf("status lacks the Ingress TLS check: %+v", health)
	}
	applyAll(t, p, planRegion(t, p, out, provider.Options{Destroy: true}), out)
	assertNothingOwned(t, region, "ingress")
}

// TestAPIErrorsNameObjectAndField: what the API server refuses is reported
// at plan time with the object and the field.
func TestAPIErrorsNameObjectAndField(t *testing.T) {
	needCluster(t)
	t.Parallel()
	const region = "eu-west"
	st, p, out := appliedStack(t, region, "invalid")
	st.Spec.Regions[1].Replicas = spec.Replicas{Min: 5, Max: 2}
	_, err := tryPlan(p, out, provider.Options{})
	if err == nil {
		t.Fatal("plan accepted maxReplicas below minReplicas")
	}
	for _, want := range []string{"HorizontalPodAutoscaler", "invalid/neko-api", "spec.maxReplicas"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
	st.Spec.Regions[1].Replicas = spec.Replicas{Min: 3, Max: 10}
	applyAll(t, p, planRegion(t, p, out, provider.Options{Destroy: true}), out)
}
