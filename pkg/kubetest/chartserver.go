package kubetest

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	chart "helm.sh/helm/v4/pkg/chart/v2"
	"helm.sh/helm/v4/pkg/registry"
	repo "helm.sh/helm/v4/pkg/repo/v1"
	"sigs.k8s.io/yaml"
)

// ChartRepository serves charts as a Helm chart repository (index.yaml
// and the archives) over TLS, and counts the archives downloaded.
type ChartRepository struct {
	*httptest.Server
	mu        sync.Mutex
	charts    map[string]*MonitoringChart
	Downloads int
}

// ServeChartRepository starts a chart repository holding charts; Close it.
func ServeChartRepository(charts ...*MonitoringChart) (*ChartRepository, error) {
	r := &ChartRepository{charts: map[string]*MonitoringChart{}}
	r.Server = httptest.NewTLSServer(http.HandlerFunc(r.serve))
	idx := repo.NewIndexFile()
	for _, c := range charts {
		file := fmt.Sprintf("%s-%s.tgz", c.Name, c.Version)
		r.charts["/"+file] = c
		md := &chart.Metadata{APIVersion: "v2", Name: c.Name, Version: c.Version, AppVersion: "stand-in"}
		if err := idx.MustAdd(md, file, r.URL, "sha256:"+c.Digest); err != nil {
			r.Close()
			return nil, err
		}
	}
	idx.SortEntries()
	body, err := yaml.Marshal(idx)
	if err != nil {
		r.Close()
		return nil, err
	}
	r.charts["/index.yaml"] = &MonitoringChart{Archive: body}
	return r, nil
}

// Transport trusts the server's certificate.
func (r *ChartRepository) Transport() *http.Transport {
	return r.Client().Transport.(*http.Transport)
}

func (r *ChartRepository) serve(w http.ResponseWriter, req *http.Request) {
	c, ok := r.charts[req.URL.Path]
	if !ok || req.Method != http.MethodGet {
		http.NotFound(w, req)
		return
	}
	if strings.HasSuffix(req.URL.Path, ".tgz") {
		r.mu.Lock()
		r.Downloads++
		r.mu.Unlock()
	}
	_, _ = w.Write(c.Archive)
}

// OCIRegistry serves charts from an OCI image layout (index.json naming
// each manifest by its tag, content-addressed blobs) through the
// registry API's read endpoints, over TLS.
type OCIRegistry struct {
	*httptest.Server
	layout ociLayout
}

// ociLayout is an OCI image layout held in memory.
type ociLayout struct {
	index ociIndex
	blobs map[string][]byte
}

type ociDescriptor struct {
	MediaType   string            `json:"mediaType"`
	Digest      string            `json:"digest"`
	Size        int               `json:"size"`
	Annotations map[string]string `json:"annotations,omitempty"`
}

type ociIndex struct {
	SchemaVersion int             `json:"schemaVersion"`
	Manifests     []ociDescriptor `json:"manifests"`
}

const ociManifestType = "application/vnd.oci.image.manifest.v1+json"

func (l *ociLayout) add(mediaType string, data []byte) ociDescriptor {
	sum := sha256.Sum256(data)
	d := ociDescriptor{MediaType: mediaType, Digest: "sha256:" + hex.EncodeToString(sum[:]), Size: len(data)}
	l.blobs[d.Digest] = data
	return d
}

// ServeOCIRegistry starts a registry serving each chart as
// <host>/charts/<name>:<version>; Close it.
func ServeOCIRegistry(charts ...*MonitoringChart) (*OCIRegistry, error) {
	r := &OCIRegistry{layout: ociLayout{index: ociIndex{SchemaVersion: 2}, blobs: map[string][]byte{}}}
	for _, c := range charts {
		cfg, err := json.Marshal(map[string]string{"apiVersion": "v2", "name": c.Name, "version": c.Version})
		if err != nil {
			return nil, err
		}
		manifest, err := json.Marshal(map[string]any{
			"schemaVersion": 2, "mediaType": ociManifestType,
			"config": r.layout.add(registry.ConfigMediaType, cfg),
			"layers": []ociDescriptor{r.layout.add(registry.ChartLayerMediaType, c.Archive)},
		})
		if err != nil {
			return nil, err
		}
		d := r.layout.add(ociManifestType, manifest)
		d.Annotations = map[string]string{"org.opencontainers.image.ref.name": "charts/" + c.Name + ":" + c.Version}
		r.layout.index.Manifests = append(r.layout.index.Manifests, d)
	}
	r.Server = httptest.NewTLSServer(http.HandlerFunc(r.serve))
	return r, nil
}

// Reference is the oci:// repository the charts are under.
func (r *OCIRegistry) Reference() string {
	return "oci://" + strings.TrimPrefix(r.URL, "https://") + "/charts"
}

// Transport trusts the server's certificate.
func (r *OCIRegistry) Transport() *http.Transport {
	return r.Client().Transport.(*http.Transport)
}

func (r *OCIRegistry) serve(w http.ResponseWriter, req *http.Request) {
	if req.Method != http.MethodGet && req.Method != http.MethodHead {
		http.Error(w, "read-only registry", http.StatusMethodNotAllowed)
		return
	}
	p := strings.TrimPrefix(req.URL.Path, "/v2/")
	if p == "" || req.URL.Path == "/v2" {
		w.WriteHeader(http.StatusOK)
		return
	}
	var d ociDescriptor
	switch name, ref, ok := cutLast(p, "/manifests/"); {
	case ok:
		found := false
		for _, m := range r.layout.index.Manifests {
			if m.Digest == ref || m.Annotations["org.opencontainers.image.ref.name"] == name+":"+ref {
				d, found = m, true
			}
		}
		if !found {
			ociError(w, http.StatusNotFound, "MANIFEST_UNKNOWN")
			return
		}
	default:
		_, digest, ok := cutLast(p, "/blobs/")
		if _, present := r.layout.blobs[digest]; !ok || !present {
			ociError(w, http.StatusNotFound, "BLOB_UNKNOWN")
			return
		}
		d = ociDescriptor{MediaType: "application/octet-stream", Digest: digest, Size: len(r.layout.blobs[digest])}
	}
	data := r.layout.blobs[d.Digest]
	w.Header().Set("Content-Type", d.MediaType)
	w.Header().Set("Docker-Content-Digest", d.Digest)
	w.Header().Set("Content-Length", fmt.Sprint(len(data)))
	if req.Method == http.MethodGet {
		_, _ = bytes.NewReader(data).WriteTo(w)
	}
}

func cutLast(s, sep string) (string, string, bool) {
	i := strings.LastIndex(s, sep)
	if i < 0 {
		return "", "", false
	}
	return s[:i], s[i+len(sep):], true
}

func ociError(w http.ResponseWriter, status int, code string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"errors": []map[string]string{{"code": code, "message": strings.ToLower(code)}}})
}

// ServeMonitoringCharts builds the stand-in kube-prometheus-stack chart at
// each version and serves them all from a chart repository and from an OCI
// registry, both closed when the test ends.
func ServeMonitoringCharts(t testing.TB, versions ...string) (*ChartRepository, *OCIRegistry) {
	t.Helper()
	dir := t.TempDir()
	charts := make([]*MonitoringChart, 0, len(versions))
	for _, v := range versions {
		c, err := BuildMonitoringChart(dir, "kube-prometheus-stack", v)
		if err != nil {
			t.Fatal(err)
		}
		charts = append(charts, c)
	}
	repo, err := ServeChartRepository(charts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(repo.Close)
	oci, err := ServeOCIRegistry(charts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(oci.Close)
	return repo, oci
}
