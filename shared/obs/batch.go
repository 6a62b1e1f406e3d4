package obs

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// batcher is a span processor that exports ended spans in batches, like the
// SDK's BatchSpanProcessor, without its cost per span: that one sends every
// span over a channel to its worker goroutine, which wakes up once per span
// (about 0.7 µs of CPU per request in BenchmarkMiddleware). Here ending a
// span appends it to a slice under a mutex; the worker wakes when a batch is
// full or on the interval.
type batcher struct {
	exp      sdktrace.SpanExporter
	batch    int           // spans per export
	max      int           // spans held at most; more are dropped
	interval time.Duration // longest a span waits
	timeout  time.Duration // longest one export may take

	mu      sync.Mutex
	buf     []pending
	spare   []pending
	out     []sdktrace.ReadOnlySpan // the batch handed to the exporter (export lock)
	dropped atomic.Int64
	stopped atomic.Bool

	export sync.Mutex // one export at a time, in order
	kick   chan struct{}
	stop   chan struct{}
	done   chan struct{}
	once   sync.Once
}

// newBatcher starts a batcher exporting up to batch spans at a time,
// holding at most held, every interval at the latest (the SDK's defaults:
// 512, 2048, 5 s).
func newBatcher(exp sdktrace.SpanExporter, batch, held int, interval time.Duration) *batcher {
	b := &batcher{
		exp: exp, batch: batch, max: held, interval: interval, timeout: 30 * time.Second,
		kick: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{}),
	}
	go b.run()
	return b
}

func (b *batcher) OnStart(context.Context, sdktrace.ReadWriteSpan) {}

// pending is an ended span waiting for export: the SDK's snapshot, or one
// of our own spans, turned into one by the worker.
type pending struct {
	ro  sdktrace.ReadOnlySpan
	own *ownSpan
}

func (b *batcher) OnEnd(s sdktrace.ReadOnlySpan) {
	if !s.SpanContext().IsSampled() {
		return
	}
	b.push(pending{ro: s})
}

// push holds an ended span for export.
func (b *batcher) push(s pending) {
	if b.stopped.Load() {
		return
	}
	b.mu.Lock()
	if len(b.buf) >= b.max {
		b.mu.Unlock()
		b.dropped.Add(1) // the exporter is behind: shed rather than hold requests
		return
	}
	b.buf = append(b.buf, s)
	full := len(b.buf) >= b.batch
	b.mu.Unlock()
	if full {
		select {
		case b.kick <- struct{}{}:
		default: // a kick is pending
		}
	}
}

func (b *batcher) run() {
	defer close(b.done)
	t := time.NewTicker(b.interval)
	defer t.Stop()
	for {
		select {
		case <-b.stop:
			return
		case <-b.kick:
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), b.timeout)
		_ = b.flush(ctx) // the SDK's processor drops a failed batch too
		cancel()
	}
}

// flush exports every span held, a batch at a time.
func (b *batcher) flush(ctx context.Context) error {
	b.export.Lock()
	defer b.export.Unlock()
	var errs error
	for {
		b.mu.Lock()
		spans := b.buf
		b.buf, b.spare = b.spare[:0], nil
		b.mu.Unlock()
		if len(spans) == 0 {
			b.mu.Lock()
			b.spare = spans
			b.mu.Unlock()
			return errs
		}
		for i := 0; i < len(spans); i += b.batch {
			out := b.out[:0]
			for _, s := range spans[i:min(i+b.batch, len(spans))] {
				if s.own != nil {
					out = append(out, s.own.snapshot())
				} else {
					out = append(out, s.ro)
				}
			}
			if err := b.exp.ExportSpans(ctx, out); err != nil {
				errs = errors.Join(errs, err)
			}
			clear(out) // let the spans go
			b.out = out[:0]
		}
		clear(spans) // let the spans go
		b.mu.Lock()
		b.spare = spans[:0]
		b.mu.Unlock()
		if ctx.Err() != nil {
			return errors.Join(errs, ctx.Err())
		}
	}
}

func (b *batcher) ForceFlush(ctx context.Context) error {
	if b.stopped.Load() {
		return nil
	}
	return b.flush(ctx)
}

func (b *batcher) Shutdown(ctx context.Context) error {
	var err error
	b.once.Do(func() {
		b.stopped.Store(true)
		close(b.stop)
		<-b.done
		err = errors.Join(b.flush(ctx), b.exp.Shutdown(ctx))
	})
	return err
}
