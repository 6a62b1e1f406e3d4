package audit

import (
	"context"
	"errors"
	"fmt"
	"io"

	"gocloud.dev/blob"
	"golang.org/x/mod/sumdb/note"

	"synthos.dev/synthos/shared/objects"
	"synthos.dev/synthos/shared/state"
)

// CollExports remembers, per log, how far bundles were archived.
const CollExports = "audit_exports"

type exportMark struct {
	Log string `json:"log"`
	To  int64  `json:"to"`
}

// BundleKey is where the bundle of log's [from, to) is archived: names
// sort in log order, and a bundle is never rewritten (the archive bucket's
// retention lock would refuse it anyway).
func BundleKey(log string, from, to uint64) string {
	return fmt.Sprintf("audit/%s/%012d-%012d.jsonl", log, from, to)
}

// Archive writes the next bundle of log to bucket if at least min records
// were appended since the last one (min <= 1: any new record), and returns
// the key written ("" if none was due). Concurrent archivers may write the
// same bundle: its content is a function of the tree and the (stored)
// checkpoint, and an existing object is left alone.
func (l *Log) Archive(ctx context.Context, bucket *blob.Bucket, log string, min int64, signer note.Signer) (string, error) {
	h, err := l.head(ctx, log)
	if err != nil {
		return "", err
	}
	var m exportMark
	if err := l.store.Get(ctx, CollExports, log, &m); err != nil && !errors.Is(err, state.ErrNotFound) {
		return "", fmt.Errorf("audit.Archive %s: %w", log, err)
	}
	if h.Seq-m.To < max(min, 1) {
		return "", nil
	}
	from, to := uint64(m.To), uint64(h.Seq)
	key := BundleKey(log, from, to)
	exists, err := objects.Exists(ctx, bucket, key)
	if err != nil {
		return "", fmt.Errorf("audit.Archive %s: %w", log, err)
	}
	if !exists {
		err := objects.Put(ctx, bucket, key, func(w io.Writer) error {
			return l.Export(ctx, log, from, to, signer, w)
		}, &blob.WriterOptions{ContentType: "application/jsonl"})
		if err != nil {
			return "", fmt.Errorf("audit.Archive %s: %w", log, err)
		}
	}
	err = l.store.RunTransaction(ctx, func(ctx context.Context, tx state.Tx) error {
		var cur exportMark
		if err := tx.Get(CollExports, log, &cur); err != nil && !errors.Is(err, state.ErrNotFound) {
			return err
		}
		if cur.To >= int64(to) {
			return nil
		}
		return tx.Set(CollExports, log, exportMark{Log: log, To: int64(to)})
	})
	if err != nil {
		return "", fmt.Errorf("audit.Archive %s: mark %d: %w", log, to, err)
	}
	return key, nil
}
