package kubernetes

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/neko-defense/nekoctl/pkg/plan"
	"github.com/neko-defense/nekoctl/pkg/provider"
	"github.com/neko-defense/nekoctl/pkg/spec"
)

// Object names and label keys shared by the templates and the provider.
const (
	AppName      = "neko-api"
	RedisName    = "neko-redis"
	FieldManager = "nekoctl"

	LabelManagedBy = "app.kubernetes.io/managed-by"
	LabelStack     = "nekoctl.dev/stack"
	LabelRegion    = "nekoctl.dev/region"
	// LabelPartOf and LabelApplySetID follow the ApplySet convention
	// (KEP-3659): members carry part-of=<id>, the parent carries id=<id>.
	LabelPartOf               = "applyset.kubernetes.io/part-of"
	LabelApplySetID           = "applyset.kubernetes.io/id"
	AnnotationApplySetTooling = "applyset.kubernetes.io/tooling"
	AnnotationGroupKinds      = "applyset.kubernetes.io/contains-group-kinds"
)

// Secret names; the TLS Secret holds the Cloudflare origin certificate.
const (
	atlasSecret = AppName + "-atlas"
	authSecret  = AppName + "-auth"
	tlsSecret   = AppName + "-origin-tls"
	// originPullName holds Cloudflare's origin-pull CA: a ConfigMap for the
	// Gateway, a Secret for the Ingress controller.
	originPullName = AppName + "-origin-pull-ca"
)

// originCertDir is where the API pods mount the origin certificate (only
// tls.crt of the TLS Secret: the key stays out of the API's pods).
const originCertDir = "/etc/neko/origin"

// values is what the templates see.
type values struct {
	Stack, Region, Namespace, App string
	ApplySetID                    string
	Image                         string
	ImagePullPolicy               string
	TLSSecret                     string
	OriginCertDir                 string
	TLS                           bool
	Config                        []kv
	SecretEnv                     []spec.SecretRef
	Resources                     spec.Resources
	Replicas                      spec.Replicas
	Targets                       spec.HPATargets
	Hostnames                     []string
	Redis                         redisValues
	Monitoring                    monitoringValues
	Exposure                      exposureValues
	Secrets                       secretValues
	// Dashboard (JSON) and PrometheusRuleGroups (JSON) come from pkg/monitoring.
	Dashboard, PrometheusRuleGroups string
	// Alerting is the Alertmanager routing of spec.monitoring.alerting.
	Alerting alertingValues
	// ConfigChecksum changes the pod template when the ConfigMap changes,
	// so that a configuration change rolls the pods.
	ConfigChecksum string
}

type kv struct{ Name, Value string }

type redisValues struct {
	Enabled                        bool
	Name, Image, Memory, MaxMemory string
	Storage                        string
}

type monitoringValues struct {
	Enabled, ServiceMonitor, Alerts, Dashboards bool
	Namespace, ScrapeInterval                   string
	// SelectorLabels go on every object Prometheus or Alertmanager selects
	// (see SelectorLabels); DashboardLabel on the dashboard ConfigMap.
	SelectorLabels                 []kv
	DashboardLabel, DashboardValue string
}

type exposureValues struct {
	Type                string
	Gateway             spec.GatewayRef
	IngressClass        string
	ControllerNamespace string
	// OwnedGateway: nekoctl creates the Gateway with Listeners (one HTTPS
	// listener per hostname) and HTTPListener, which only redirects.
	OwnedGateway bool
	Listeners    []listener
	HTTPListener string
	// OriginPull: the origin requires Cloudflare's origin-pull client
	// certificate, whose CA is in ConfigMap (Gateway) or Secret (Ingress)
	// OriginPullName.
	OriginPull         bool
	OriginPullName     string
	OriginPullCA       string
	OriginPullSecretCA string
}

// listener is one HTTPS listener of an owned Gateway.
type listener struct{ Name, Hostname string }

// secretValues hold placeholder tokens; after the YAML is parsed each token
// is replaced by the plan value it stands for (plan.Sensitive or plan.Unknown).
type secretValues struct {
	MongoURI, DBPassword, JWTKeys, AdminPassword, RedisPassword, OriginCert, OriginKey string
	// Digest of the Secrets the API pods read, computed at apply time: when
	// one of them changes the pods roll and pick up the new values.
	Digest string
}

// digestKey names the apply-time digest of the API's Secrets.
func digestKey(region string) string { return "kubernetes/" + region + "/secrets-digest" }

// ApplySetID is the id of a region's inventory, computed as KEP-3659
// prescribes from the parent object's name, namespace, kind and group.
func ApplySetID(st *spec.Stack) string {
	ns := st.Spec.Workload.Namespace
	sum := sha256.Sum256([]byte(inventoryName(st) + "." + ns + ".ConfigMap."))
	return "applyset-" + base64.RawURLEncoding.EncodeToString(sum[:])
}

func inventoryName(st *spec.Stack) string { return "nekoctl-" + st.Metadata.Name + "-inventory" }

// GeneratedKey is the output key under which a generated secret value is
// resolved at apply time: kept from the live Secret, or new.
func GeneratedKey(region, secret, key string) string {
	return fmt.Sprintf("kubernetes/%s/generated/%s/%s", region, secret, key)
}

// slots pairs placeholder tokens with plan values.
type slots map[string]any

func (s slots) add(name string, v any) string {
	tok := "@@nekoctl:" + name + "@@"
	s[tok] = v
	return tok
}

// sensitiveOrUnknown turns an output into a plan leaf value.
func sensitiveOrUnknown(out provider.Outputs, key string) any {
	if out == nil {
		return plan.Unknown{From: key}
	}
	switch v := out.Value(key).(type) {
	case plan.Sensitive, plan.Unknown:
		return v
	case string:
		return plan.NewSensitive(v)
	case []byte:
		return plan.NewSensitive(string(v))
	default:
		return plan.Unknown{From: key}
	}
}

func buildValues(st *spec.Stack, region string, out provider.Outputs, kp keyPolicy) (*values, slots, error) {
	r := st.Spec.Region(region)
	if r == nil {
		return nil, nil, fmt.Errorf("region %q is not in the spec", region)
	}
	w := st.Spec.Workload
	sl := slots{}
	v := &values{
		Stack: st.Metadata.Name, Region: region, Namespace: w.Namespace, App: AppName,
		ApplySetID: ApplySetID(st), Image: w.Image, ImagePullPolicy: spec.ImagePullPolicy(w.Image), TLSSecret: tlsSecret,
		OriginCertDir: originCertDir,
		TLS:           spec.On(st.Spec.Cloudflare.OriginCert.Enabled),
		SecretEnv:     w.Secrets, Resources: r.Resources, Replicas: r.Replicas, Targets: r.Autoscaling,
		Hostnames: st.Spec.FQDNs(),
	}
	redisOn := spec.On(w.Redis.Enabled)
	v.Redis = redisValues{Enabled: redisOn, Name: RedisName, Image: w.Redis.Image, Memory: w.Redis.Memory,
		MaxMemory: redisMaxMemory(w.Redis.Memory), Storage: w.Redis.Storage}
	m := w.Monitoring
	v.Monitoring = monitoringValues{Enabled: spec.On(m.Enabled), ServiceMonitor: spec.On(m.ServiceMonitor),
		Alerts: spec.On(m.Alerts), Dashboards: spec.On(m.Dashboards), Namespace: st.Spec.Monitoring.Namespace,
		SelectorLabels: sortedKV(SelectorLabels(st)), DashboardLabel: spec.GrafanaDashboardLabel, DashboardValue: spec.GrafanaDashboardLabelValue}
	if m.ScrapeInterval != nil {
		v.Monitoring.ScrapeInterval = fmt.Sprintf("%ds", int(m.ScrapeInterval.Seconds()))
	}
	e := w.Exposure
	v.Exposure = exposureValues{Type: e.Type, Gateway: e.Gateway, IngressClass: e.Ingress.ClassName,
		ControllerNamespace: e.Gateway.Namespace}
	if e.Type == "ingress" {
		v.Exposure.ControllerNamespace = e.Ingress.ControllerNamespace
	}
	if v.TLS && spec.On(st.Spec.Cloudflare.SSL.AuthenticatedOriginPulls) {
		v.Exposure.OriginPull, v.Exposure.OriginPullName = true, originPullName
		v.Exposure.OriginPullCA = cloudflareOriginPullCA
		// Secret data is compared as sensitive: the (public) CA goes the same way.
		v.Exposure.OriginPullSecretCA = sl.add("origin-pull-ca", plan.NewSensitive(cloudflareOriginPullCA))
	}
	if e.Type == "gateway" && spec.On(e.Gateway.Create) {
		v.Exposure.OwnedGateway, v.Exposure.HTTPListener = true, spec.OwnedGatewayHTTPListener
		v.Exposure.Listeners = httpsListeners(st)
	}

	cfg := map[string]string{
		"LISTEN_ADDR":         ":8080",
		"MONGODB_DATABASE":    st.Spec.Atlas.Database,
		"ADMIN_USERNAME":      "admin",
		"CORS_ORIGINS":        strings.Join(corsOrigins(st), ","),
		"TRUSTED_PROXY_CIDRS": trustedProxies(e.TrustedProxyCIDRs, podNetworkOf(out, region)),
		"LOG_LEVEL":           "info",
		// A live heap of a few megabytes makes the default GOGC collect every
		// few tens of milliseconds under load; a higher GOGC with a memory
		// limit below the container's keeps throughput up and memory bounded.
		"GOGC":       GOGC,
		"GOMEMLIMIT": goMemLimit(r.Resources.Limits.Memory),
	}
	if redisOn {
		cfg["REDIS_ADDR"] = RedisName + ":6379"
	}
	if v.TLS {
		// The API exports the certificate's expiry (the expiring alert).
		cfg["ORIGIN_CERT_FILE"] = originCertDir + "/tls.crt"
	}
	for k, val := range w.Env {
		cfg[k] = val
	}
	for k, val := range cfg {
		v.Config = append(v.Config, kv{k, val})
	}
	sort.Slice(v.Config, func(i, j int) bool { return v.Config[i].Name < v.Config[j].Name })
	h := sha256.New()
	for _, c := range v.Config {
		fmt.Fprintf(h, "%s=%s\n", c.Name, c.Value)
	}
	v.ConfigChecksum = fmt.Sprintf("%x", h.Sum(nil))[:16]

	jwtKeys, admin, _ := sharedValues(st, out, kp)
	v.Secrets = secretValues{
		MongoURI:      sl.add("mongo-uri", sensitiveOrUnknown(out, provider.OutMongoURI)),
		DBPassword:    sl.add("db-password", sensitiveOrUnknown(out, provider.OutDBPassword)),
		JWTKeys:       sl.add("jwt-keys", jwtKeys),
		AdminPassword: sl.add("admin", admin),
		RedisPassword: sl.add("redis", plan.Unknown{From: GeneratedKey(region, RedisName, "REDIS_PASSWORD")}),
		OriginCert:    sl.add("origin-cert", sensitiveOrUnknown(out, provider.OutOriginCert)),
		OriginKey:     sl.add("origin-key", sensitiveOrUnknown(out, provider.OutOriginKey)),
		Digest:        sl.add("secrets-digest", plan.Unknown{From: digestKey(region)}),
	}
	return v, sl, nil
}

// httpsListeners names one listener per API hostname: "https" for the
// first (the load-balanced one), "https-<label>" for the others.
func httpsListeners(st *spec.Stack) []listener {
	fqdns := st.Spec.FQDNs()
	out := make([]listener, 0, len(fqdns))
	for i, h := range fqdns {
		name := spec.OwnedGatewayHTTPSListener
		if i > 0 {
			label := strings.TrimSuffix(h, "."+st.Spec.Domain)
			if label == h {
				label = "apex"
			}
			name += "-" + strings.ReplaceAll(label, ".", "-")
		}
		out = append(out, listener{Name: name, Hostname: h})
	}
	return out
}

// corsOrigins are the spec's, or the API hostnames over HTTPS.
func corsOrigins(st *spec.Stack) []string {
	if len(st.Spec.Workload.CORSOrigins) > 0 {
		return st.Spec.Workload.CORSOrigins
	}
	var out []string
	for _, h := range st.Spec.FQDNs() {
		out = append(out, "https://"+h)
	}
	return out
}

// redisMaxMemory leaves Redis a quarter of its container memory for
// overhead: "256Mi" gives "192mb".
// GOGC is the API container's garbage-collector target (see buildValues).
const GOGC = "400"

// goMemLimit is 90% of the container's memory limit in bytes: the Go
// runtime collects harder near it, leaving room for non-heap memory.
func goMemLimit(limit string) string {
	q, err := resource.ParseQuantity(limit)
	if err != nil || q.Value() <= 0 {
		return "off"
	}
	return strconv.FormatInt(q.Value()/10*9, 10)
}

func redisMaxMemory(limit string) string {
	var n int
	var unit string
	if _, err := fmt.Sscanf(limit, "%d%s", &n, &unit); err != nil || n <= 0 {
		return "0"
	}
	switch unit {
	case "Gi", "G":
		n *= 1024
	case "Mi", "M":
	default:
		return "0"
	}
	return fmt.Sprintf("%dmb", n*3/4)
}
