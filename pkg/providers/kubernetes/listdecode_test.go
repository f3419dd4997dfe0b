package kubernetes

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
)

// listFixtures are the recorded LIST answers BenchmarkDecodeList decodes:
// one per kind a plan of us-east lists, as a real API server sent them
// after an up (Secrets left out: their answer holds keys). Rewritten by
// TestListDecodeMatchesDynamicClient with -update.
const listFixtures = "testdata/lists"

// jsonDecoder is the dynamic client's decoder of JSON answers, in front of
// it, when ours, the single pass.
func jsonDecoder(t testing.TB, ours bool) runtime.Decoder {
	t.Helper()
	ns := dynamic.ConfigFor(&rest.Config{}).NegotiatedSerializer
	if ours {
		ns = newOnePassDecoding(ns)
	}
	for _, info := range ns.SupportedMediaTypes() {
		if info.MediaType == runtime.ContentTypeJSON {
			return info.Serializer
		}
	}
	t.Fatal("the dynamic client has no JSON serializer")
	return nil
}

// decodeBoth decodes one answer into a fresh want and got (both lists or
// both objects) as the dynamic client does and in one pass, and fails the
// test unless the results (or errors) are the same.
func decodeBoth(t *testing.T, name string, body []byte, want, got runtime.Object) {
	t.Helper()
	_, wantGVK, wantErr := jsonDecoder(t, false).Decode(body, nil, want)
	_, gotGVK, gotErr := jsonDecoder(t, true).Decode(body, nil, got)
	if (wantErr == nil) != (gotErr == nil) || wantErr != nil && wantErr.Error() != gotErr.Error() {
		t.Fatalf("%s: error %v, the dynamic client's %v", name, gotErr, wantErr)
	}
	if !reflect.DeepEqual(wantGVK, gotGVK) {
		t.Errorf("%s: kind %v, the dynamic client's %v", name, gotGVK, wantGVK)
	}
	if !reflect.DeepEqual(want, got) {
		t.Errorf("%s: decoded differently from the dynamic client (-dynamic +ours):\n%s", name, cmp.Diff(want, got))
	}
}

// TestListDecodeMatchesDynamicClient lists every kind a plan reads (and a
// few more) from a real API server holding an applied stack, both through
// the stock dynamic client and the provider's, and finds the same objects:
// decoded from the same bytes (each list whole and paged, and one object
// of each), deep-equal to the last field and type; over the wire, the same
// lists page by page.
func TestListDecodeMatchesDynamicClient(t *testing.T) {
	needCluster(t)
	t.Parallel()
	const region, ns = "us-east", "listdecode"
	_, p, _ := appliedStack(t, region, ns)

	targets, err := p.listTargets(&snapshot{})
	if err != nil {
		t.Fatal(err)
	}
	type listing struct {
		gvr       schema.GroupVersionResource
		namespace string
		planned   bool // one of the plan's LISTs
	}
	var lists []listing
	for _, tg := range targets {
		m, ok, err := p.mapping(tg.gvk.GroupKind(), tg.gvk.Version)
		if err != nil || !ok {
			t.Fatalf("mapping %s: %v (served: %v)", tg.gvk, err, ok)
		}
		lists = append(lists, listing{m.Resource, tg.namespace, true})
	}
	lists = append(lists,
		listing{gvr: nodeGVR, planned: true},
		listing{gvr: nsGVR},
		listing{gvr: schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}},
		listing{gvr: gatewayGVR, namespace: "gateway-system"},
	)

	cfg := env.RESTConfig(region)
	raw := env.Clientset(region).CoreV1().RESTClient()
	stock, ours := bothDynamicClients(t, cfg)
	ctx := context.Background()
	record := map[string][]byte{}
	for _, l := range lists {
		path := "/" + strings.Join(segments(l.gvr, l.namespace), "/")
		t.Run(strings.TrimPrefix(path, "/"), func(t *testing.T) {
			body, err := raw.Get().AbsPath(path).SetHeader("Accept", "application/json").DoRaw(ctx)
			if err != nil {
				t.Fatal(err)
			}
			var decoded unstructured.UnstructuredList
			decodeBoth(t, path, body, &unstructured.UnstructuredList{}, &decoded)
			if decoded.Items == nil {
				t.Fatalf("%s: no items", path)
			}
			// An object alone (a GET, as of an apply's answer).
			for _, u := range decoded.Items[:min(1, len(decoded.Items))] {
				body, err := raw.Get().AbsPath(path, u.GetName()).SetHeader("Accept", "application/json").DoRaw(ctx)
				if err != nil {
					t.Fatal(err)
				}
				decodeBoth(t, path+"/"+u.GetName(), body, &unstructured.Unstructured{}, &unstructured.Unstructured{})
			}
			if l.planned && l.gvr.Resource != "secrets" {
				record[l.gvr.Resource] = body
			}
			paged, err := raw.Get().AbsPath(path).Param("limit", "1").SetHeader("Accept", "application/json").DoRaw(ctx)
			if err != nil {
				t.Fatal(err)
			}
			decodeBoth(t, path+"?limit=1", paged, &unstructured.UnstructuredList{}, &unstructured.UnstructuredList{})

			// Over the wire: the whole list, then the same list in pages of
			// one, following the continue tokens.
			ri := func(c dynamic.Interface) dynamic.ResourceInterface {
				if l.namespace == "" {
					return c.Resource(l.gvr)
				}
				return c.Resource(l.gvr).Namespace(l.namespace)
			}
			want, err := ri(stock).List(ctx, metav1.ListOptions{})
			if err != nil {
				t.Fatal(err)
			}
			got, err := ri(ours).List(ctx, metav1.ListOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if w, g := identities(want.Items), identities(got.Items); !reflect.DeepEqual(w, g) {
				t.Errorf("listed %v, the dynamic client %v", g, w)
			}
			if want.GetKind() != got.GetKind() || want.GetAPIVersion() != got.GetAPIVersion() || got.GetResourceVersion() == "" {
				t.Errorf("list %s %s (resourceVersion %q), the dynamic client's %s %s",
					got.GetAPIVersion(), got.GetKind(), got.GetResourceVersion(), want.GetAPIVersion(), want.GetKind())
			}
			var pages []unstructured.Unstructured
			opts := metav1.ListOptions{Limit: 1}
			for n := 0; ; n++ {
				page, err := ri(ours).List(ctx, opts)
				if err != nil {
					t.Fatal(err)
				}
				pages = append(pages, page.Items...)
				if opts.Continue = page.GetContinue(); opts.Continue == "" {
					break
				}
				if n > len(want.Items) {
					t.Fatalf("more pages than objects: the continue token %q is not followed", opts.Continue)
				}
			}
			if w, g := identities(want.Items), identities(pages); !reflect.DeepEqual(w, g) {
				t.Errorf("listed in pages %v, the dynamic client at once %v", g, w)
			}
		})
	}
	if *update && !t.Failed() {
		if err := os.RemoveAll(listFixtures); err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(listFixtures, 0o755); err != nil {
			t.Fatal(err)
		}
		for name, body := range record {
			if err := os.WriteFile(filepath.Join(listFixtures, name+".json"), body, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// segments is the dynamic client's path of a LIST.
func segments(gvr schema.GroupVersionResource, namespace string) []string {
	s := []string{"apis", gvr.Group, gvr.Version}
	if gvr.Group == "" {
		s = []string{"api", gvr.Version}
	}
	if namespace != "" {
		s = append(s, "namespaces", namespace)
	}
	return append(s, gvr.Resource)
}

// identities are the kind, namespace and name of objects, sorted.
func identities(items []unstructured.Unstructured) []string {
	var out []string
	for _, u := range items {
		out = append(out, u.GetAPIVersion()+" "+u.GetKind()+" "+u.GetNamespace()+"/"+u.GetName())
	}
	sort.Strings(out)
	return out
}

// TestListDecodeErrors: what the API server answers instead of a list or
// an object comes out of the provider's client exactly as out of the
// dynamic client, for a LIST and a GET, so that apierrors.IsNotFound and
// IsForbidden keep working: Status bodies of refusals, a path the server
// does not serve at all, a body that is not JSON, and answers the single
// pass does not take (decoded by the dynamic client's own decoder).
func TestListDecodeErrors(t *testing.T) {
	needCluster(t)
	t.Parallel()
	const region = "eu-west"
	status := func(code int, reason metav1.StatusReason, msg string) string {
		return `{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"` + msg +
			`","reason":"` + string(reason) + `","details":{"kind":"configmaps"},"code":` + strconv.Itoa(code) + `}`
	}
	canned := map[string]struct {
		code        int
		contentType string
		body        string
	}{
		"forbidden": {http.StatusForbidden, "application/json", status(403, metav1.StatusReasonForbidden,
			`configmaps is forbidden: User \"someone\" cannot list resource \"configmaps\" in API group \"\" in the namespace \"forbidden\"`)},
		"gone":        {http.StatusNotFound, "application/json", status(404, metav1.StatusReasonNotFound, "the server could not find the requested resource")},
		"toomany":     {http.StatusTooManyRequests, "application/json", status(429, metav1.StatusReasonTooManyRequests, "too many requests")},
		"proxy":       {http.StatusBadGateway, "text/html", "<html><body>bad gateway</body></html>"},
		"notjson":     {http.StatusOK, "application/json", `{"kind":"ConfigMapList","items":[`},
		"scalaritems": {http.StatusOK, "application/json", `{"kind":"ConfigMapList","apiVersion":"v1","items":[1]}`},
		"itemsobject": {http.StatusOK, "application/json", `{"kind":"ConfigMapList","apiVersion":"v1","items":{}}`},
		"nokind":      {http.StatusOK, "application/json", `{"items":[{"metadata":{"name":"a"}}]}`},
		"nullitems":   {http.StatusOK, "application/json", `{"kind":"ConfigMapList","apiVersion":"v1","metadata":{"resourceVersion":"7"},"items":null}`},
		"status":      {http.StatusOK, "application/json", `{"kind":"Status","apiVersion":"v1","status":"Success"}`},
	}
	cfg := env.RESTConfig(region)
	cfg.WrapTransport = func(rt http.RoundTripper) http.RoundTripper {
		return roundTripFunc(func(r *http.Request) (*http.Response, error) {
			parts := strings.Split(r.URL.Path, "/")
			if len(parts) > 4 {
				if c, ok := canned[parts[4]]; ok {
					return &http.Response{StatusCode: c.code, Header: http.Header{"Content-Type": {c.contentType}},
						Body: io.NopCloser(bytes.NewReader([]byte(c.body))), Request: r}, nil
				}
			}
			return rt.RoundTrip(r)
		})
	}
	stock, ours := bothDynamicClients(t, cfg)
	ctx := context.Background()
	cms := schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}
	unserved := schema.GroupVersionResource{Group: "example.com", Version: "v1", Resource: "widgets"}
	cases := []struct {
		name string
		gvr  schema.GroupVersionResource
		ns   string
		is   func(error) bool
		// objectOK: as an object (GET), the body is a fine one.
		objectOK bool
	}{
		{"forbidden", cms, "forbidden", apierrors.IsForbidden, false},
		{"removed kind", cms, "gone", apierrors.IsNotFound, false},
		{"throttled", cms, "toomany", apierrors.IsTooManyRequests, false},
		{"proxy page", cms, "proxy", func(err error) bool { return err != nil }, false},
		{"unserved group", unserved, "default", apierrors.IsNotFound, false},
		{"truncated", cms, "notjson", func(err error) bool { return err != nil }, false},
		{"scalar items", cms, "scalaritems", func(err error) bool { return err != nil }, true},
		{"items not a list", cms, "itemsobject", func(err error) bool { return err != nil }, true},
		{"no kind", cms, "nokind", runtime.IsMissingKind, false},
		{"null items", cms, "nullitems", func(err error) bool { return err == nil }, false},
		{"status", cms, "status", func(err error) bool { return err == nil }, false},
	}
	type answer func(dynamic.Interface, schema.GroupVersionResource, string) (runtime.Object, error)
	list := func(c dynamic.Interface, gvr schema.GroupVersionResource, ns string) (runtime.Object, error) {
		return c.Resource(gvr).Namespace(ns).List(ctx, metav1.ListOptions{})
	}
	get := func(c dynamic.Interface, gvr schema.GroupVersionResource, ns string) (runtime.Object, error) {
		return c.Resource(gvr).Namespace(ns).Get(ctx, "neko-api", metav1.GetOptions{})
	}
	for _, c := range cases {
		for verb, send := range map[string]answer{"list": list, "get": get} {
			t.Run(c.name+"/"+verb, func(t *testing.T) {
				want, wantErr := send(stock, c.gvr, c.ns)
				got, gotErr := send(ours, c.gvr, c.ns)
				is := c.is
				if c.objectOK && verb == "get" {
					is = func(err error) bool { return err == nil }
				}
				if !is(wantErr) {
					t.Fatalf("the dynamic client: %v, not what the case is about", wantErr)
				}
				if !is(gotErr) {
					t.Errorf("error %v, the dynamic client's %v", gotErr, wantErr)
				}
				if (wantErr == nil) != (gotErr == nil) || wantErr != nil && wantErr.Error() != gotErr.Error() {
					t.Errorf("error %q, the dynamic client's %q", gotErr, wantErr)
				}
				if !reflect.DeepEqual(apierrors.ReasonForError(wantErr), apierrors.ReasonForError(gotErr)) {
					t.Errorf("reason %q, the dynamic client's %q", apierrors.ReasonForError(gotErr), apierrors.ReasonForError(wantErr))
				}
				if !reflect.DeepEqual(want, got) {
					t.Errorf("answer (-dynamic +ours):\n%s", cmp.Diff(want, got))
				}
			})
		}
	}
}

// BenchmarkDecodeList decodes the LIST answers of one region's plan (the
// recorded fixtures) as the dynamic client does and in one pass. Run with
// -short: it needs no API server.
func BenchmarkDecodeList(b *testing.B) {
	files, err := filepath.Glob(filepath.Join(listFixtures, "*.json"))
	if err != nil || len(files) == 0 {
		b.Fatalf("no fixtures in %s (%v): run TestListDecodeMatchesDynamicClient with -update", listFixtures, err)
	}
	var bodies [][]byte
	size := 0
	for _, f := range files {
		body, err := os.ReadFile(f)
		if err != nil {
			b.Fatal(err)
		}
		bodies = append(bodies, body)
		size += len(body)
	}
	for _, c := range []struct {
		name string
		ours bool
	}{{"dynamic", false}, {"single-pass", true}} {
		b.Run(c.name, func(b *testing.B) {
			dec := jsonDecoder(b, c.ours)
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for b.Loop() {
				for _, body := range bodies {
					var l unstructured.UnstructuredList
					if _, _, err := dec.Decode(body, nil, &l); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}

// bothDynamicClients are the stock dynamic client and the provider's, for
// the same server.
func bothDynamicClients(t *testing.T, cfg *rest.Config) (stock, ours dynamic.Interface) {
	t.Helper()
	hc, err := rest.HTTPClientFor(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if stock, err = dynamic.NewForConfig(cfg); err != nil {
		t.Fatal(err)
	}
	if ours, err = newDynamicClient(cfg, hc); err != nil {
		t.Fatal(err)
	}
	return stock, ours
}
