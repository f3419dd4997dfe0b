package kubernetes

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
	"sync"
	"text/template"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/neko-defense/nekoctl/pkg/monitoring"
	"github.com/neko-defense/nekoctl/pkg/plan"
	"github.com/neko-defense/nekoctl/pkg/provider"
	"github.com/neko-defense/nekoctl/pkg/spec"
	"github.com/neko-defense/nekoctl/templates"
)

var funcs = template.FuncMap{
	"q": func(v any) (string, error) {
		b, err := json.Marshal(fmt.Sprint(v))
		return string(b), err
	},
}

// tmpl parses the templates, part of the binary, on first use rather than
// when the program starts: every command paid for it (about 1.3 ms), and a
// plan first renders while its connections open.
var tmpl = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("").Funcs(funcs).ParseFS(templates.FS, "kubernetes/*.yaml"))
})

// objects renders a region's objects as plan documents: Secret data values
// are plain text wrapped in plan.Sensitive (or plan.Unknown when another
// provider or apply supplies them).
func objects(st *spec.Stack, region string, out provider.Outputs, kp keyPolicy, rs ReceiverSecrets, cache *docCache) ([]plan.Document, error) {
	v, sl, err := buildValues(st, region, out, kp)
	if err != nil {
		return nil, err
	}
	if v.Alerting, err = buildAlerting(st, sl, rs); err != nil {
		return nil, err
	}
	// The templates see a stand-in for the region's name, put back after
	// decoding: most files then render to the same text in every region,
	// and a plan of thirty regions decodes them once, not thirty times.
	// The name only ever appears inside quoted strings (a label value, the
	// dashboard's and the alerts' JSON), where the stand-in parses alike.
	v.Region = regionToken
	target := monitoring.Target{Namespace: v.Namespace, App: AppName, Redis: RedisName, Region: regionToken, Stack: st.Metadata.Name}
	if v.Dashboard, v.PrometheusRuleGroups, err = monitoringJSON(target); err != nil {
		return nil, err
	}

	files, err := fs.Glob(templates.FS, "kubernetes/*.yaml")
	if err != nil {
		return nil, err
	}
	sort.Strings(files)
	key, err := valuesDigest(v)
	if err != nil {
		return nil, err
	}
	var docs []plan.Document
	for _, f := range files {
		name := path.Base(f)
		if strings.HasPrefix(name, "_") {
			continue
		}
		decoded, err := cache.render(name, key, v)
		if err != nil {
			return nil, fmt.Errorf("template %s: %w", name, err)
		}
		for _, m := range decoded {
			doc := fill(m, region, sl).(map[string]any)
			if kind, _ := doc["kind"].(string); kind == "Secret" && !v.TLS && nameOf(doc) == tlsSecret {
				continue
			}
			docs = append(docs, doc)
		}
	}
	return docs, nil
}

// monitoringJSON is the dashboard and the alert rule groups of a target,
// built once per target and run: every region's are the same but for the
// region's name, which is a stand-in here.
func monitoringJSON(t monitoring.Target) (dashboard, groups string, err error) {
	monitoringMu.Lock()
	defer monitoringMu.Unlock()
	if m, ok := monitoringBuilt[t]; ok {
		return m[0], m[1], nil
	}
	dash, err := monitoring.Dashboard(t)
	if err != nil {
		return "", "", err
	}
	g, err := json.Marshal(monitoring.RuleGroups(t))
	if err != nil {
		return "", "", err
	}
	if len(monitoringBuilt) >= maxCachedTexts {
		clear(monitoringBuilt)
	}
	monitoringBuilt[t] = [2]string{string(dash), string(g)}
	return string(dash), string(g), nil
}

var (
	monitoringMu    sync.Mutex
	monitoringBuilt = map[monitoring.Target][2]string{}
)

// fill puts, in place, the region's name where its stand-in is (keys and
// strings) and their plan values where slot tokens are.
func fill(v any, region string, sl slots) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if strings.Contains(k, regionToken) {
				delete(x, k)
				k = strings.ReplaceAll(k, regionToken, region)
			}
			x[k] = fill(e, region, sl)
		}
		return x
	case []any:
		for i, e := range x {
			x[i] = fill(e, region, sl)
		}
		return x
	case string:
		x = strings.ReplaceAll(x, regionToken, region)
		if r, ok := sl[x]; ok {
			return r
		}
		return x
	}
	return v
}

// resolver supplies the value of an Unknown leaf at path.
type resolver func(path []string, v plan.Unknown) (any, error)

// toObject converts a plan document into an object for the API server:
// Secret data is base64-encoded, Sensitive values are revealed and Unknown
// values are asked of resolve.
func toObject(doc plan.Document, resolve resolver) (*unstructured.Unstructured, error) {
	out, err := convert(nil, doc, resolve)
	if err != nil {
		return nil, err
	}
	u := &unstructured.Unstructured{Object: out.(map[string]any)}
	if u.GetKind() == "Secret" {
		data, _, _ := unstructured.NestedMap(u.Object, "data")
		for k, val := range data {
			s, _ := val.(string)
			data[k] = base64.StdEncoding.EncodeToString([]byte(s))
		}
		if data != nil {
			_ = unstructured.SetNestedMap(u.Object, data, "data")
		}
	}
	return u, nil
}

func convert(p []string, v any, resolve resolver) (any, error) {
	switch x := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			c, err := convert(append(p[:len(p):len(p)], k), e, resolve)
			if err != nil {
				return nil, err
			}
			m[k] = c
		}
		return m, nil
	case []any:
		s := make([]any, len(x))
		for i, e := range x {
			c, err := convert(append(p[:len(p):len(p)], fmt.Sprint(i)), e, resolve)
			if err != nil {
				return nil, err
			}
			s[i] = c
		}
		return s, nil
	case plan.Sensitive:
		return x.Reveal(), nil
	case plan.Unknown:
		r, err := resolve(p, x)
		if err != nil {
			return nil, err
		}
		if s, ok := r.(plan.Sensitive); ok {
			return s.Reveal(), nil
		}
		return r, nil
	}
	return v, nil
}

// lookup finds the value at path in a document (list indexes as numbers).
func lookup(doc any, path []string) (any, bool) {
	cur := doc
	for _, seg := range path {
		switch x := cur.(type) {
		case map[string]any:
			v, ok := x[seg]
			if !ok {
				return nil, false
			}
			cur = v
		case []any:
			var i int
			if _, err := fmt.Sscan(seg, &i); err != nil || i < 0 || i >= len(x) {
				return nil, false
			}
			cur = x[i]
		default:
			return nil, false
		}
	}
	return cur, true
}

// pathString renders a path as plan field paths do: a.b[0].c.
func pathString(path []string) string {
	var b strings.Builder
	for _, seg := range path {
		if _, err := strconv.Atoi(seg); err == nil {
			b.WriteString("[" + seg + "]")
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(seg)
	}
	return b.String()
}

// Render returns a region's objects as multi-document YAML, as nekoctl
// would apply them. Secret values that other providers supply (the Atlas
// connection string and password, the origin certificate) are taken from
// out when known and left empty otherwise; generated secrets (JWT key,
// admin and Redis passwords) are always left empty: apply generates them
// once per region. out may be nil.
func Render(st *spec.Stack, region string, out provider.Outputs) ([]byte, error) {
	docs, err := objects(st, region, out, keyPolicy{Now: time.Now()}, nil, nil)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	fmt.Fprintf(&buf, "# nekoctl: Kubernetes objects of stack %s, region %s.\n", st.Metadata.Name, region)
	fmt.Fprintf(&buf, "# Secret values known only at apply time are left empty.\n")
	for _, d := range docs {
		u, err := toObject(d, func([]string, plan.Unknown) (any, error) { return "", nil })
		if err != nil {
			return nil, err
		}
		b, err := yaml.Marshal(u.Object)
		if err != nil {
			return nil, err
		}
		buf.WriteString("---\n")
		buf.Write(b)
	}
	return buf.Bytes(), nil
}

func nameOf(doc plan.Document) string {
	md, _ := doc["metadata"].(map[string]any)
	n, _ := md["name"].(string)
	return n
}

func namespaceOf(doc plan.Document) string {
	md, _ := doc["metadata"].(map[string]any)
	n, _ := md["namespace"].(string)
	return n
}

func kindOf(doc plan.Document) string {
	k, _ := doc["kind"].(string)
	return k
}
