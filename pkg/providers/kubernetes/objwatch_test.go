package kubernetes

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/neko-defense/nekoctl/pkg/kubetest"
	"github.com/neko-defense/nekoctl/pkg/provider"
)

// TestWaitForWatches: a wait watches its object from the state in hand,
// one request however long it takes; a watch the server ends early is
// resumed from where it was, an expired resourceVersion lists the object
// again, and only a server that refuses watches is polled.
func TestWaitForWatches(t *testing.T) {
	needCluster(t)
	t.Parallel()
	const region, ns = "eu-west", "objwatch"
	dropNamespace(t, region, ns)
	cs := env.Clientset(region)
	ctx := context.Background()
	if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	cmGVR := schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}
	const path = "/api/v1/namespaces/" + ns + "/configmaps"

	// run creates a ConfigMap (unless absent), marks it ready after delay,
	// and waits for its ready key to be want with a provider whose requests
	// go through log.
	run := func(t *testing.T, c waitCase) error {
		t.Helper()
		name, absent, delay, want, log := c.name, c.absent, c.delay, c.want, c.log
		if want == "" {
			want = "yes"
		}
		if log == nil {
			log = &requestLog{}
		}
		timeout := 20 * time.Second
		if c.timeout != 0 {
			timeout = c.timeout
		}
		var known *unstructured.Unstructured
		cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}}
		if !absent {
			made, err := cs.CoreV1().ConfigMaps(ns).Create(ctx, cm, metav1.CreateOptions{})
			if err != nil {
				t.Fatal(err)
			}
			obj, err := runtime.DefaultUnstructuredConverter.ToUnstructured(made)
			if err != nil {
				t.Fatal(err)
			}
			known = &unstructured.Unstructured{Object: obj}
		}
		marked := make(chan error, 1)
		go func() {
			time.Sleep(delay)
			var err error
			if absent {
				cm.Data = map[string]string{"ready": "yes"}
				_, err = cs.CoreV1().ConfigMaps(ns).Create(ctx, cm, metav1.CreateOptions{})
			} else {
				_, err = cs.CoreV1().ConfigMaps(ns).Patch(ctx, name, "application/merge-patch+json",
					[]byte(`{"data":{"ready":"yes"}}`), metav1.PatchOptions{})
			}
			marked <- err
		}()
		t.Cleanup(func() {
			if err := <-marked; err != nil {
				t.Errorf("marking %s ready: %v", name, err)
			}
		})
		cfg := log.wrap(env.RESTConfig(region))
		cfg.Timeout = c.requestTimeout
		p := New(isolatedStack(ns), region, cfg,
			Config{PollInterval: 100 * time.Millisecond, ProgressInterval: time.Hour, DiscoveryCacheDir: "-"})
		if err := p.clients(); err != nil {
			t.Fatal(err)
		}
		return p.waitFor(ctx, objectWait{gvr: cmGVR, namespace: ns, name: name, known: known, timeout: timeout,
			check: func(u *unstructured.Unstructured) (bool, error) {
				if u == nil {
					return false, nil
				}
				v, _, _ := unstructured.NestedString(u.Object, "data", "ready")
				return v == want, nil
			}})
	}
	firstWatch := func(change func(*http.Request) *http.Response) func(*http.Request) *http.Response {
		var n atomic.Int32
		return func(r *http.Request) *http.Response {
			if r.URL.Query().Get("watch") == "true" && n.Add(1) == 1 {
				return change(r)
			}
			return nil
		}
	}
	setQuery := func(r *http.Request, key, value string) {
		q := r.URL.Query()
		q.Set(key, value)
		r.URL.RawQuery = q.Encode()
	}

	// A resourceVersion the server no longer has: an etcd compaction ends
	// a running watch with an ERROR event, the watch cache refuses a new
	// one with a 410 answer.
	expired := `{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"Expired","code":410,` +
		`"message":"too old resource version: 1 (42)"}`
	answer := func(r *http.Request, code int, body string) *http.Response {
		return &http.Response{StatusCode: code, Request: r, Body: io.NopCloser(strings.NewReader(body)),
			Header: http.Header{"Content-Type": {"application/json"}}}
	}
	list, watches := "GET "+path, "GET "+path+" (watch)"
	for _, tc := range []struct {
		title     string
		wait      waitCase
		intercept func(*http.Request) *http.Response
		want      []string
	}{
		{"one watch from the state in hand", waitCase{name: "in-hand", delay: 300 * time.Millisecond}, nil,
			[]string{watches}},
		{"a watch outlives the client's request timeout", waitCase{name: "long", delay: 2 * time.Second, requestTimeout: time.Second}, nil,
			[]string{watches}},
		{"an absent object is listed, then watched", waitCase{name: "absent", absent: true, delay: 300 * time.Millisecond}, nil,
			[]string{list, watches}},
		{"a watch the server ends is resumed", waitCase{name: "resumed", delay: 2 * time.Second},
			firstWatch(func(r *http.Request) *http.Response { setQuery(r, "timeoutSeconds", "1"); return nil }),
			[]string{watches, watches}},
		{"an expired watch lists again", waitCase{name: "expired-event", delay: 500 * time.Millisecond},
			firstWatch(func(r *http.Request) *http.Response {
				return answer(r, http.StatusOK, `{"type":"ERROR","object":`+expired+"}\n")
			}),
			[]string{list, watches, watches}},
		{"a watch refused as expired lists again", waitCase{name: "expired-answer", delay: 500 * time.Millisecond},
			firstWatch(func(r *http.Request) *http.Response { return answer(r, http.StatusGone, expired) }),
			[]string{list, watches, watches}},
	} {
		t.Run(tc.title, func(t *testing.T) {
			t.Parallel()
			tc.wait.log = &requestLog{intercept: tc.intercept}
			if err := run(t, tc.wait); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, tc.wait.log.sorted()); diff != "" {
				t.Errorf("requests (-want +got):\n%s", diff)
			}
		})
	}
	t.Run("a server that refuses watches is polled", func(t *testing.T) {
		t.Parallel()
		log := &requestLog{intercept: func(r *http.Request) *http.Response {
			if r.URL.Query().Get("watch") != "true" {
				return nil
			}
			return answer(r, http.StatusForbidden, `{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"Forbidden",`+
				`"code":403,"message":"configmaps is forbidden: User \"ci\" cannot watch resource \"configmaps\""}`)
		}}
		if err := run(t, waitCase{name: "refused", delay: 500 * time.Millisecond, log: log}); err != nil {
			t.Fatal(err)
		}
		reqs := log.sorted()
		if n := log.count(func(r string) bool { return r == "GET "+path+"/refused" }); n < 2 || reqs[0] != "GET "+path+" (watch)" {
			t.Errorf("want one refused watch, then GETs until ready: %v", reqs)
		}
	})
	t.Run("times out", func(t *testing.T) {
		t.Parallel()
		start := time.Now()
		err := run(t, waitCase{name: "never", timeout: 500 * time.Millisecond, want: "never"})
		if err == nil || !errors.Is(err, errPollTimeout) {
			t.Fatalf("err = %v, want a timeout", err)
		}
		if took := time.Since(start); took < 500*time.Millisecond || took > 10*time.Second {
			t.Errorf("timed out after %s, want 500ms", took)
		}
	})
}

// waitCase is one wait of TestWaitForWatches: for ConfigMap name (absent:
// created only when marked) to be marked ready with want (default "yes")
// after delay, within timeout (default 20s), with the provider's requests
// going through log and requestTimeout as the client's request timeout.
type waitCase struct {
	name                           string
	absent                         bool
	delay, timeout, requestTimeout time.Duration
	want                           string
	log                            *requestLog
}

// TestPodFailureSeenWithoutWatch: a server that refuses to watch pods
// still has a slow rollout's image pull failure reported, its pods listed.
func TestPodFailureSeenWithoutWatch(t *testing.T) {
	needCluster(t)
	t.Parallel()
	const region, ns = "us-east", "pods-nowatch"
	st := isolatedStack(ns)
	dropNamespace(t, region, ns)
	env.Controller().SetRollout(region, "Deployment", ns, AppName, kubetest.Rollout{
		PodWaiting: "ImagePullBackOff", PodMessage: `Back-off pulling image "ghcr.io/neko-defense/nekoctl:v9.9.9"`})
	t.Cleanup(func() { env.Controller().SetRollout(region, "Deployment", ns, AppName, kubetest.Healthy) })
	podsPath := "/api/v1/namespaces/" + ns + "/pods"
	log := &requestLog{intercept: func(r *http.Request) *http.Response {
		if r.URL.Path != podsPath || r.URL.Query().Get("watch") != "true" {
			return nil
		}
		body := `{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"Forbidden","code":403,` +
			`"message":"pods is forbidden: User \"ci\" cannot watch resource \"pods\""}`
		return &http.Response{StatusCode: http.StatusForbidden, Request: r, Body: io.NopCloser(strings.NewReader(body)),
			Header: http.Header{"Content-Type": {"application/json"}}}
	}}
	p := New(st, region, log.wrap(env.RESTConfig(region)), Config{PollInterval: 100 * time.Millisecond,
		RolloutTimeout: 30 * time.Second, AddressTimeout: 10 * time.Second, DiscoveryCacheDir: "-"})
	out := upstream()
	err := tryApply(p, planRegion(t, p, out, provider.Options{}), out)
	if err == nil || !strings.Contains(err.Error(), "ImagePullBackOff") || !strings.Contains(err.Error(), "Back-off pulling image") {
		t.Fatalf("image pull failure with pods not watchable: err = %v", err)
	}
	if n := log.count(func(r string) bool { return r == "GET "+podsPath }); n == 0 {
		t.Errorf("the pods were never listed: %v", log.sorted())
	}
}
