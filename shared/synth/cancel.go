package synth

import "context"

// CheckEvery is how many candidate rows a sampler draws between two checks
// of its context. Rows are checked, not only blocks, because a block of
// BlockRows rows can take up to BlockRows × MaxTriesPerRow candidates when
// conditions or rules reject most of them (seconds, not milliseconds); at
// about a million candidates per second a check every 1,024 stops sampling
// within a few milliseconds of cancellation, for a cost below the noise of
// a benchmark (BenchmarkSampleCancelCheck).
const CheckEvery = 1024

// CancelCheck tells a sampling loop, cheaply, when its context is done: Tick
// is called once per candidate row and looks at the context every
// CheckEvery calls. A context that can never be canceled
// (context.Background) is never looked at. The zero value never reports.
type CancelCheck struct {
	ctx  context.Context
	done <-chan struct{}
	n    uint32
}

// NewCancelCheck returns a CancelCheck of ctx.
func NewCancelCheck(ctx context.Context) CancelCheck {
	return CancelCheck{ctx: ctx, done: ctx.Done()}
}

// Tick counts one candidate row and, every CheckEvery calls, returns the
// context's error if it is done.
func (c *CancelCheck) Tick() error {
	if c.done == nil {
		return nil
	}
	c.n++
	if c.n%CheckEvery != 0 {
		return nil
	}
	select {
	case <-c.done:
		return c.ctx.Err()
	default:
		return nil
	}
}
