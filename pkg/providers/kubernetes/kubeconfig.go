package kubernetes

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// RESTConfig loads the client configuration of one kubeconfig context.
// kubeconfigPath is a file or a list of files as in $KUBECONFIG; empty
// means the usual rules ($KUBECONFIG, then ~/.kube/config).
func RESTConfig(kubeconfigPath, context string) (*rest.Config, error) {
	return LoadKubeconfig(kubeconfigPath).RESTConfig(context)
}

// Kubeconfig is the kubeconfig files read once, for the contexts of every
// region: a kubeconfig naming thirty clusters costs a parse, not thirty.
type Kubeconfig struct {
	rules *clientcmd.ClientConfigLoadingRules
	cfg   *clientcmdapi.Config
	err   error
}

// LoadKubeconfig reads the kubeconfig (see RESTConfig). An error comes back
// from every RESTConfig of it.
func LoadKubeconfig(kubeconfigPath string) *Kubeconfig {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	switch {
	case kubeconfigPath == "":
	case strings.ContainsRune(kubeconfigPath, os.PathListSeparator):
		rules.Precedence = filepath.SplitList(kubeconfigPath)
	default:
		rules.ExplicitPath = kubeconfigPath
	}
	cfg, err := rules.Load()
	return &Kubeconfig{rules: rules, cfg: cfg, err: err}
}

// RESTConfig is the client configuration of one context.
func (k *Kubeconfig) RESTConfig(context string) (*rest.Config, error) {
	if k.err != nil {
		return nil, fmt.Errorf("loading kubeconfig: %w", k.err)
	}
	overrides := &clientcmd.ConfigOverrides{CurrentContext: context}
	var cc clientcmd.ClientConfig = clientcmd.NewNonInteractiveClientConfig(*k.cfg, "", overrides, k.rules)
	if len(k.cfg.Contexts) == 0 {
		// No kubeconfig at all: the deferred loader also tries the
		// in-cluster configuration.
		cc = clientcmd.NewNonInteractiveDeferredLoadingClientConfig(k.rules, overrides)
	}
	cfg, err := cc.ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("loading kubeconfig: %w", err)
	}
	return cfg, nil
}
