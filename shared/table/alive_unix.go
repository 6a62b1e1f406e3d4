//go:build unix

package table

import (
	"errors"
	"syscall"
)

// alive reports whether process pid exists (signal 0 probes without
// sending; EPERM means it exists but is another user's).
func alive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
