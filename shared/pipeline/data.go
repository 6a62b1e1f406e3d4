package pipeline

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"slices"
	"strings"

	"gocloud.dev/blob"

	"synthos.dev/synthos/shared/datasets"
	"synthos.dev/synthos/shared/jobs"
	"synthos.dev/synthos/shared/objects"
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
func contentType(f table.Format) string {
	switch f {
	case table.JSONL:
		return "application/x-ndjson"
	case table.Parquet:
		return "application/vnd.apache.parquet"
	case table.TSV:
		return "text/tab-separated-values"
	}
	return "text/csv"
}

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
// Parquet keeps its footer at the end, so it is spooled to a temporary file
// first: memory stays bounded by the reader, not the object.
func readTable(ctx context.Context, b *blob.Bucket, key string, format table.Format, opts table.Options, limit int) (*table.Table, error) {
	r, err := b.NewReader(ctx, key, nil)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", key, err)
	}
	defer r.Close()
	var tr table.Reader
	if format == table.Parquet {
		f, err := os.CreateTemp("", "synthos-*.parquet")
		if err != nil {
			return nil, fmt.Errorf("read %s: spool: %w", key, err)
		}
		defer os.Remove(f.Name())
		defer f.Close()
		if _, err := io.Copy(f, r); err != nil {
			return nil, fmt.Errorf("read %s: %w", key, err)
		}
		st, err := f.Stat()
		if err != nil {
			return nil, fmt.Errorf("read %s: spool: %w", key, err)
		}
		if tr, err = table.OpenParquet(f, st.Size(), opts); err != nil {
			return nil, fmt.Errorf("read %s: %w", key, err)
		}
	} else if tr, err = table.OpenReader(r, format, opts); err != nil {
		return nil, fmt.Errorf("read %s: %w", key, err)
	}
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

// writeCSV stores t at key as plain RFC 4180 CSV. Unlike table's CSV
// writer it does not formula-escape: these objects are the pipeline's own
// inputs and must read back exactly.
func writeCSV(ctx context.Context, b *blob.Bucket, key string, t *table.Table) error {
	return objects.Put(ctx, b, key, func(w io.Writer) error {
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
		return cw.Error()
	}, &blob.WriterOptions{ContentType: "text/csv"})
}

// readCSV reads a table writeCSV stored.
func readCSV(ctx context.Context, b *blob.Bucket, key string) (*table.Table, error) {
	return readTable(ctx, b, key, table.CSV, table.Options{Delimiter: ',', MaxCellBytes: -1, MaxColumns: -1}, 0)
}

// countRows counts the data rows of the table at key, streaming, refusing
// more than max (table.ErrTooManyRows).
func countRows(ctx context.Context, b *blob.Bucket, ds *datasets.Dataset, max int) (int64, error) {
	f, err := datasetFormat(ds)
	if err != nil {
		return 0, err
	}
	key := ds.Key
	if f == table.Parquet {
		t, err := readTable(ctx, b, key, f, table.Options{MaxRows: max}, 0)
		if err != nil {
			return 0, err
		}
		return int64(len(t.Rows)), nil
	}
	r, err := b.NewReader(ctx, key, nil)
	if err != nil {
		return 0, fmt.Errorf("read %s: %w", key, err)
	}
	defer r.Close()
	tr, err := table.OpenReader(r, f, table.Options{MaxRows: max})
	if err != nil {
		return 0, err
	}
	var n int64
	for {
		if _, err := tr.Read(); err == io.EOF {
			return n, nil
		} else if err != nil {
			return 0, err
		}
		n++
	}
}
