// Command kubetest-build builds (or finds in the cache) the kube-apiserver
// and etcd that the Kubernetes tests run, and prints their directory. CI
// runs it before `go test` so that no test spends its timeout on the build.
package main

import (
	"fmt"
	"os"

	"github.com/neko-defense/nekoctl/pkg/kubetest"
)

func main() {
	b, err := kubetest.EnsureBinaries(os.Stderr)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println(b.Dir)
}
