package kubetest

import (
	"os/exec"
	"syscall"
)

// dieWithParent makes the kernel stop a server when the test binary dies
// without running Stop (a panic, a timeout, a signal).
func dieWithParent(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
