//go:build !unix

package clv

import "time"

// cpuTime returns 0 where the process CPU time is not read (cpu-ns/op is
// then 0).
func cpuTime() time.Duration { return 0 }
