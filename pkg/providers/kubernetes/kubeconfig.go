package kubernetes

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// RESTConfig loads the client configuration of one kubeconfig context.
// kubeconfigPath is a file or a list of files as in $KUBECONFIG; empty
// means the usual rules ($KUBECONFIG, then ~/.kube/config).
func RESTConfig(kubeconfigPath, context string) (*rest.Config, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	switch {
	case kubeconfigPath == "":
	case strings.ContainsRune(kubeconfigPath, os.PathListSeparator):
		rules.Precedence = filepath.SplitList(kubeconfigPath)
	default:
		rules.ExplicitPath = kubeconfigPath
	}
	cfg, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules,
		&clientcmd.ConfigOverrides{CurrentContext: context}).ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("loading kubeconfig: %w", err)
	}
	return cfg, nil
}
