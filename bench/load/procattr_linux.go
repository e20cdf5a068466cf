package load

import (
	"os/exec"
	"syscall"
)

// KillWithParent asks the kernel to kill cmd's process when this one dies,
// so that a crashed or killed benchmark leaves no server or client behind.
// (Strictly it fires when the starting thread exits; Go does not end its
// threads while the process runs, except ones locked by LockOSThread.)
func KillWithParent(cmd *exec.Cmd) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
}
