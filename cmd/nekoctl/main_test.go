package main

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/neko-defense/nekoctl/pkg/cmd/factory"
	"github.com/neko-defense/nekoctl/pkg/cmd/root"
)

func TestMain(m *testing.M) {
	testscript.Main(removingBinary{m}, map[string]func(){
		"nekoctl": func() { os.Exit(root.Execute(context.Background(), factory.New(), os.Args[1:])) },
	})
}

// removingBinary runs the tests, then removes the nekoctl binary they built.
type removingBinary struct{ m *testing.M }

func (r removingBinary) Run() int {
	defer removeBinary()
	return r.m.Run()
}

// TestScripts runs the user journeys in testdata/script: each is a txtar
// file of commands and the files they read.
func TestScripts(t *testing.T) {
	examples, err := filepath.Abs("../../examples")
	if err != nil {
		t.Fatal(err)
	}
	testscript.Run(t, testscript.Params{
		Dir: "testdata/script",
		Setup: func(env *testscript.Env) error {
			env.Setenv("EXAMPLES", examples)
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			// exitcode N cmd args... runs cmd and asserts its exit status.
			"exitcode": func(ts *testscript.TestScript, neg bool, args []string) {
				if len(args) < 2 {
					ts.Fatalf("usage: exitcode N command [args...]")
				}
				want, err := strconv.Atoi(args[0])
				ts.Check(err)
				err = ts.Exec(args[1], args[2:]...)
				got := 0
				if err != nil {
					got = -1
					if ee, ok := err.(interface{ ExitCode() int }); ok {
						got = ee.ExitCode()
					}
				}
				if got != want {
					ts.Fatalf("exit code %d, want %d (%v)", got, want, err)
				}
			},
		},
	})
}
