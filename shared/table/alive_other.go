//go:build !unix

package table

// alive cannot probe processes here: every process is taken as alive, so
// only temporary files without a process id are removed, by age.
func alive(pid int) bool { return true }
