package helmrelease

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strings"

	chart "helm.sh/helm/v4/pkg/chart/v2"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
	"helm.sh/helm/v4/pkg/cli"
	"helm.sh/helm/v4/pkg/getter"
	"helm.sh/helm/v4/pkg/registry"
	repo "helm.sh/helm/v4/pkg/repo/v1"
)

// Source names a chart: a repository URL (https://...) or an OCI reference
// without the chart's name (oci://registry/path), the name and an exact
// version.
type Source struct {
	Repository, Name, Version string
	// Transport, when set, carries every request (a private CA, a proxy,
	// a test server's certificate).
	Transport *http.Transport
}

func (s Source) String() string {
	if s.oci() {
		return s.ociRef() + ":" + s.Version
	}
	return fmt.Sprintf("%s %s from %s", s.Name, s.Version, s.Repository)
}

func (s Source) oci() bool { return strings.HasPrefix(s.Repository, registry.OCIScheme+"://") }

func (s Source) ociRef() string { return strings.TrimSuffix(s.Repository, "/") + "/" + s.Name }

// Fetch downloads and loads the chart. Nothing is written to disk but
// Helm's transient copy of a repository index.
func Fetch(s Source) (*chart.Chart, error) {
	data, err := s.download()
	if err != nil {
		return nil, fmt.Errorf("chart %s: %w", s, err)
	}
	ch, err := loader.LoadArchive(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("chart %s: %w", s, err)
	}
	if ch.Metadata.Name != s.Name || ch.Metadata.Version != s.Version {
		return nil, fmt.Errorf("chart %s: the archive holds %s %s", s, ch.Metadata.Name, ch.Metadata.Version)
	}
	return ch, nil
}

func (s Source) download() ([]byte, error) {
	if s.oci() {
		opts := []registry.ClientOption{registry.ClientOptWriter(io.Discard)}
		if s.Transport != nil {
			opts = append(opts, registry.ClientOptHTTPClient(&http.Client{Transport: s.Transport}))
		}
		rc, err := registry.NewClient(opts...)
		if err != nil {
			return nil, err
		}
		ref := strings.TrimPrefix(s.ociRef(), registry.OCIScheme+"://") + ":" + s.Version
		res, err := rc.Pull(ref)
		if err != nil {
			return nil, err
		}
		return res.Chart.Data, nil
	}
	var gopts []getter.Option
	if s.Transport != nil {
		gopts = append(gopts, getter.WithTransport(s.Transport))
	}
	getters := getter.All(cli.New(), gopts...)
	ropts := []repo.FindChartInRepoURLOption{repo.WithChartVersion(s.Version)}
	url, err := repo.FindChartInRepoURL(s.Repository, s.Name, getters, ropts...)
	if err != nil {
		return nil, err
	}
	g, err := getters.ByScheme(schemeOf(url))
	if err != nil {
		return nil, err
	}
	buf, err := g.Get(url, gopts...)
	if err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func schemeOf(url string) string {
	scheme, _, _ := strings.Cut(url, "://")
	return scheme
}
