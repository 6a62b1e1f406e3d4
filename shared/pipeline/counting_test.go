package pipeline

import (
	"bytes"
	"testing"

	"synthos.dev/synthos/shared/table"
)

// TestCountingWriterEncoded checks that the counting writer passes the table
// writer's encoding through (so parallel samples encode on their workers)
// and counts rows handed over as bytes as it counts rows written one by one.
func TestCountingWriterEncoded(t *testing.T) {
	cols := []table.Column{{Name: "a"}, {Name: "b"}}
	rows := [][]string{{"1", "x"}, {"2", "y,z"}, {"3", ""}}
	for _, format := range []table.Format{table.CSV, table.TSV, table.JSONL} {
		t.Run(format.String(), func(t *testing.T) {
			var want bytes.Buffer
			tw, err := table.NewWriter(&want, format, cols)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range rows {
				if err := tw.Write(r); err != nil {
					t.Fatal(err)
				}
			}
			if err := tw.Close(); err != nil {
				t.Fatal(err)
			}

			var got bytes.Buffer
			tw, err = table.NewWriter(&got, format, cols)
			if err != nil {
				t.Fatal(err)
			}
			c := &countingWriter{RowWriter: tw}
			enc := c.RowEncoder()
			if enc == nil {
				t.Fatalf("%s: the counting writer hides the table writer's row encoder", format)
			}
			if err := c.Write(rows[0]); err != nil {
				t.Fatal(err)
			}
			var b []byte
			for i, r := range rows[1:] {
				if b, err = enc.AppendRow(b, r, i+2); err != nil {
					t.Fatal(err)
				}
			}
			if err := c.WriteEncoded(b, len(rows)-1); err != nil {
				t.Fatal(err)
			}
			if err := tw.Close(); err != nil {
				t.Fatal(err)
			}
			if c.n != int64(len(rows)) {
				t.Errorf("%s: counted %d rows, want %d", format, c.n, len(rows))
			}
			if !bytes.Equal(got.Bytes(), want.Bytes()) {
				t.Errorf("%s: encoded rows wrote %q, want %q", format, got.Bytes(), want.Bytes())
			}
		})
	}
	if (&countingWriter{RowWriter: &discardRows{}}).RowEncoder() != nil {
		t.Error("a writer without an encoding got a row encoder")
	}
}
