//go:build !unix

package ensemble

import "time"

func cpuTime() time.Duration { return 0 }
