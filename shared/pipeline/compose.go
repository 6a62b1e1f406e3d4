package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io"

	"cloud.google.com/go/storage"
	"gocloud.dev/blob"
	"gocloud.dev/gcerrors"

	"synthos.dev/synthos/shared/objects"
	"synthos.dev/synthos/shared/table"
)

// Composer concatenates objects of the data bucket into one, server-side.
type Composer interface {
	// Compose writes the concatenation of srcs, in order, to dst. dst
	// appears whole or not at all. scratch names the intermediate objects a
	// composer may need (level, index); it deletes them before returning.
	Compose(ctx context.Context, dst string, srcs []string, scratch func(level, i int) string, contentType string) error
}

// maxComposeSources is Cloud Storage's limit of sources per compose call.
const maxComposeSources = 32

// GCSComposer composes with Cloud Storage's compose operation, in a tree of
// calls of at most 32 sources each, so no byte of the parts passes through
// the function.
func GCSComposer(b *storage.BucketHandle) Composer { return gcsComposer{b} }

type gcsComposer struct{ b *storage.BucketHandle }

func (c gcsComposer) Compose(ctx context.Context, dst string, srcs []string, scratch func(level, i int) string, contentType string) error {
	if len(srcs) == 0 {
		return errors.New("pipeline: compose: no sources")
	}
	var temps []string
	defer func() {
		for _, t := range temps {
			// Best effort: a leftover intermediate is garbage under the
			// job's parts prefix, not a wrong output.
			_ = c.b.Object(t).Delete(context.WithoutCancel(ctx))
		}
	}()
	for level := 0; len(srcs) > maxComposeSources; level++ {
		var next []string
		for i := 0; i < len(srcs); i += maxComposeSources {
			name := scratch(level, i/maxComposeSources)
			if err := c.compose(ctx, name, srcs[i:min(i+maxComposeSources, len(srcs))], contentType); err != nil {
				return err
			}
			temps = append(temps, name)
			next = append(next, name)
		}
		srcs = next
	}
	return c.compose(ctx, dst, srcs, contentType)
}

func (c gcsComposer) compose(ctx context.Context, dst string, srcs []string, contentType string) error {
	handles := make([]*storage.ObjectHandle, len(srcs))
	for i, s := range srcs {
		handles[i] = c.b.Object(s)
	}
	comp := c.b.Object(dst).ComposerFrom(handles...)
	comp.ContentType = contentType
	if _, err := comp.Run(ctx); err != nil {
		return fmt.Errorf("pipeline: compose %d objects into %s: %w", len(srcs), dst, err)
	}
	return nil
}

// streamCompose concatenates srcs into dst through this process, for object
// stores without a compose operation. Memory is one copy buffer.
func streamCompose(ctx context.Context, b *blob.Bucket, dst string, srcs []string, contentType string) error {
	return objects.Put(ctx, b, dst, func(w io.Writer) error {
		for _, s := range srcs {
			if _, err := objects.CopyTo(ctx, b, s, w); err != nil {
				return err
			}
		}
		return nil
	}, &blob.WriterOptions{ContentType: contentType})
}

// convertParts streams JSON Lines parts through one table writer of the
// output format into dst: Parquet files cannot be concatenated, so sharded
// Parquet jobs sample JSON Lines parts (lossless for every column kind) and
// the last shard re-encodes them. Memory is one Parquet row group.
func convertParts(ctx context.Context, b *blob.Bucket, dst string, srcs []string, format table.Format, cols []table.Column, contentType string) error {
	return objects.Put(ctx, b, dst, func(w io.Writer) error {
		tw, err := table.NewWriter(w, format, cols)
		if err != nil {
			return err
		}
		for _, s := range srcs {
			if err := copyRows(ctx, b, s, tw); err != nil {
				_ = tw.Abort()
				return err
			}
		}
		return tw.Close()
	}, &blob.WriterOptions{ContentType: contentType})
}

// copyRows appends the rows of the JSON Lines object key to tw.
func copyRows(ctx context.Context, b *blob.Bucket, key string, tw table.Writer) error {
	r, err := b.NewReader(ctx, key, nil)
	if err != nil {
		return fmt.Errorf("read part %s: %w", key, err)
	}
	defer r.Close()
	if r.Size() == 0 {
		return nil // an empty shard
	}
	tr, err := table.OpenReader(r, table.JSONL, table.Options{MaxCellBytes: -1, MaxColumns: -1})
	if err != nil {
		return fmt.Errorf("read part %s: %w", key, err)
	}
	for {
		row, err := tr.Read()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read part %s: %w", key, err)
		}
		if err := tw.Write(row); err != nil {
			return err
		}
	}
}

// bucketCache opens upload buckets once per name.
type bucketCache struct {
	data     *blob.Bucket
	dataName string
	open     func(ctx context.Context, bucket string) (*blob.Bucket, error)
	opened   map[string]*blob.Bucket
	mu       chan struct{} // a one-slot semaphore: opening may block on the network
}

func newBucketCache(data *blob.Bucket, dataName string, open func(context.Context, string) (*blob.Bucket, error)) *bucketCache {
	return &bucketCache{data: data, dataName: dataName, open: open, opened: map[string]*blob.Bucket{}, mu: make(chan struct{}, 1)}
}

// get returns the bucket an upload event names.
func (c *bucketCache) get(ctx context.Context, name string) (*blob.Bucket, error) {
	if c.open != nil {
		return c.open(ctx, name)
	}
	// Outside Cloud Storage (the local runner) uploads land in the data
	// store itself, under uploads/.
	if c.dataName == "" || name == c.dataName {
		return c.data, nil
	}
	select {
	case c.mu <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-c.mu }()
	if b, ok := c.opened[name]; ok {
		return b, nil
	}
	b, err := objects.Open(ctx, "gs://"+name)
	if err != nil {
		return nil, err
	}
	c.opened[name] = b
	return b, nil
}

// notFound reports whether err is an object store "no such object".
func notFound(err error) bool { return gcerrors.Code(err) == gcerrors.NotFound }
