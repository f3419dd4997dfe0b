// Command nekoctl provisions the Neko Defense API's global stack and serves the API.
package main

import (
	"context"
	"os"

	"github.com/neko-defense/nekoctl/internal/gcpolicy"
	"github.com/neko-defense/nekoctl/pkg/cmd/factory"
	"github.com/neko-defense/nekoctl/pkg/cmd/root"
)

func main() {
	gcpolicy.Start()
	stopProfiles := startProfiles()
	code := root.Execute(context.Background(), factory.New(), os.Args[1:])
	stopProfiles()
	os.Exit(code)
}
