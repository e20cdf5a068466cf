//go:build !linux

package load

import "os/exec"

// KillWithParent does nothing outside Linux: children there must be killed
// through Worker.Kill.
func KillWithParent(cmd *exec.Cmd) {}
