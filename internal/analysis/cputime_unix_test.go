//go:build unix

package analysis

import (
	"syscall"
	"time"
)

// processCPU is the CPU time this process has used (user + system, every
// thread): on a shared machine a benchmark's wall time says more about the
// neighbours than about the code.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
