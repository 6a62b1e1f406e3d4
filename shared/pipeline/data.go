package pipeline

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"strings"

	"gocloud.dev/blob"

	"synthos.dev/synthos/shared/datasets"
	"synthos.dev/synthos/shared/jobs"
	"synthos.dev/synthos/shared/keyring"
	"synthos.dev/synthos/shared/objects"
	"synthos.dev/synthos/shared/sample"
	"synthos.dev/synthos/shared/table"
)

// outputFormat is the job's output format and file extension.
func outputFormat(req jobs.Request) (table.Format, string, error) {
	name := strings.ToLower(req.Format)
	switch name {
	case "":
		return table.CSV, "csv", nil
	case "csv":
		return table.CSV, name, nil
	case "jsonl":
		return table.JSONL, name, nil
	case "parquet":
		return table.Parquet, name, nil
	}
	return 0, "", permanent("output format %q: use csv, jsonl or parquet", req.Format)
}

// contentType is the MIME type objects of format f are stored with.
func contentType(f table.Format) string { return f.ContentType() }

// datasetFormat is the format a dataset is stored in.
func datasetFormat(ds *datasets.Dataset) (table.Format, error) {
	name := ds.Key
	if ds.Format != "" {
		name = "data." + ds.Format
	}
	f, err := table.FormatOf(name)
	if err != nil {
		return 0, permanent("dataset %s: %w", ds.ID, err)
	}
	return f, nil
}

// readTable reads the object at key in format. With limit > 0 at most limit
// rows are read and the rest ignored; opts.MaxRows makes more an error.
// Parquet is spooled to a temporary file first (see datasets.OpenObject):
// memory stays bounded by the reader, not the object.
func readTable(ctx context.Context, b *blob.Bucket, key string, format table.Format, opts table.Options, limit int, reveal datasets.Reveal) (*table.Table, error) {
	tr, closeObj, err := datasets.OpenObject(ctx, b, key, format, opts, reveal)
	if err != nil {
		return nil, err
	}
	defer closeObj()
	t := &table.Table{Columns: slices.Clone(tr.Columns())}
	for limit <= 0 || len(t.Rows) < limit {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		row, err := tr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", key, err)
		}
		t.Rows = append(t.Rows, slices.Clone(row))
	}
	return t, nil
}

// drawTable reads the object at key in format once and draws the training
// rows and the holdout from it (package sample).
func drawTable(ctx context.Context, b *blob.Bucket, key string, format table.Format, opts table.Options, reveal datasets.Reveal, o sample.Options) (*sample.Result, error) {
	tr, closeObj, err := datasets.OpenObject(ctx, b, key, format, opts, reveal)
	if err != nil {
		return nil, err
	}
	defer closeObj()
	res, err := sample.Draw(ctx, tr, o)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", key, err)
	}
	return res, nil
}

// split sets aside a seeded random share of t's rows, at most max, as the
// holdout; both parts keep the source order. Fewer than two rows leave no
// holdout.
func split(t *table.Table, seed uint64, share float64, max int) (train, holdout *table.Table) {
	n := len(t.Rows)
	h := min(int(float64(n)*share), max)
	if n < 2 {
		h = 0
	}
	rng := rand.New(rand.NewPCG(seed, 0x686f6c646f7574)) // "holdout"
	perm := rng.Perm(n)
	in := make([]bool, n)
	for _, i := range perm[:h] {
		in[i] = true
	}
	train = &table.Table{Columns: t.Columns, Rows: make([][]string, 0, n-h)}
	holdout = &table.Table{Columns: t.Columns, Rows: make([][]string, 0, h)}
	for i, row := range t.Rows {
		if in[i] {
			holdout.Rows = append(holdout.Rows, row)
		} else {
			train.Rows = append(train.Rows, row)
		}
	}
	return train, holdout
}

// writeCSV stores t at key as plain RFC 4180 CSV (encrypted for tenant
// when the tenant chose encryption at rest: these are real rows). Unlike
// table's CSV writer it does not formula-escape: these objects are the
// pipeline's own inputs and must read back exactly.
func writeCSV(ctx context.Context, b *blob.Bucket, key string, t *table.Table, ring *keyring.Keyring, tenant string) error {
	return objects.Put(ctx, b, key, func(ow io.Writer) error {
		w, err := ring.ObjectWriter(ctx, tenant, ow)
		if err != nil {
			return err
		}
		cw := csv.NewWriter(w)
		if err := cw.Write(t.Columns); err != nil {
			return err
		}
		for _, row := range t.Rows {
			if err := cw.Write(row); err != nil {
				return err
			}
		}
		cw.Flush()
		if err := cw.Error(); err != nil {
			return err
		}
		return w.Close()
	}, &blob.WriterOptions{ContentType: "text/csv"})
}

// readCSV reads a table writeCSV stored.
func readCSV(ctx context.Context, b *blob.Bucket, key string, reveal datasets.Reveal) (*table.Table, error) {
	return readTable(ctx, b, key, table.CSV, table.Options{Delimiter: ',', MaxCellBytes: -1, MaxColumns: -1}, 0, reveal)
}

// ring returns the tenants' keyring (nil when none is configured).
func (p *Pipeline) ring(ctx context.Context) (*keyring.Keyring, error) {
	k, err := p.env.Keyring(ctx)
	if err != nil {
		return nil, fmt.Errorf("encryption keys: %w", err)
	}
	return k, nil
}

// sealsOutputs reports whether tenant's job outputs are encrypted at rest
// (the tenant's option; keyring.Outputs applies it when writing).
func (p *Pipeline) sealsOutputs(ctx context.Context, tenant string) (bool, error) {
	ring, err := p.ring(ctx)
	if err != nil || ring == nil {
		return false, err
	}
	on, err := ring.EncryptData(ctx, tenant)
	if err != nil {
		return false, fmt.Errorf("encryption option of %s: %w", tenant, err)
	}
	return on, nil
}
