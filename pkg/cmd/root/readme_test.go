package root_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/neko-defense/nekoctl/pkg/cmd/factory"
	"github.com/neko-defense/nekoctl/pkg/cmd/root"
)

// TestReadmeNamesEveryCommandAndFlag keeps the README's command reference
// true: every command is named there as `nekoctl <command>` and every flag
// of it as --flag.
func TestReadmeNamesEveryCommandAndFlag(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		for _, sub := range c.Commands() {
			if sub.Hidden || sub.Name() == "help" || sub.Name() == "completion" {
				continue
			}
			path := strings.TrimPrefix(sub.CommandPath(), c.Root().Name()+" ")
			if !strings.Contains(readme, "nekoctl "+path) {
				t.Errorf("README does not name the command `nekoctl %s`", path)
			}
			sub.LocalFlags().VisitAll(func(fl *pflag.Flag) {
				if fl.Hidden || fl.Name == "help" {
					return
				}
				if !strings.Contains(readme, "--"+fl.Name) {
					t.Errorf("README does not name the flag --%s of `nekoctl %s`", fl.Name, path)
				}
			})
			walk(sub)
		}
	}
	walk(root.NewCmdRoot(factory.New()))
}
