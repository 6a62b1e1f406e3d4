package datasets_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"strconv"
	"strings"
	"testing"

	"gocloud.dev/blob/memblob"

	"synthos.dev/synthos/internal/testdata"
	"synthos.dev/synthos/shared/datasets"
	"synthos.dev/synthos/shared/errs"
	"synthos.dev/synthos/shared/objects"
	"synthos.dev/synthos/shared/table"
)

// rows returns a CSV of a header and n data rows.
func rows(n int) string {
	var b strings.Builder
	b.WriteString("age,sex,charges\n")
	for i := range n {
		b.WriteString(strings.Join([]string{itoa(18 + i%50), []string{"female", "male"}[i%2], itoa(1000 + 37*i)}, ","))
		b.WriteString("\n")
	}
	return b.String()
}

func itoa(i int) string { return strconv.Itoa(i) }

func TestValidateProbes(t *testing.T) {
	t.Parallel()
	png := append([]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), bytes.Repeat([]byte{0xff, 0x00, 0xd8, 0x10}, 200)...)
	big := strings.Repeat("x", table.DefaultMaxCellBytes+1)
	for _, tc := range []struct {
		name, format, data string
		code               errs.Code
		row                int
		column             string
		msg                []string // substrings of the message
	}{
		{"binary", "csv", string(png), errs.InvalidArgument, 0, "", []string{"binary"}},
		{"ragged", "csv", rows(12)[:len(rows(3))] + "19,male\n" + rows(12)[len(rows(3)):], errs.InvalidArgument, 4, "charges",
			[]string{"row 4", `column "charges"`, "2 cells, header has 3", "one cell per header column"}},
		{"header only", "csv", "age,sex,charges\n", errs.InvalidArgument, 0, "", []string{"a header but no data rows", "at least 10"}},
		{"one row", "csv", rows(1), errs.InvalidArgument, 0, "", []string{"1 data row", "at least 10"}},
		{"nine rows", "csv", rows(9), errs.InvalidArgument, 0, "", []string{"9 data rows", "at least 10"}},
		{"empty", "csv", "", errs.InvalidArgument, 0, "", []string{"empty or has no header"}},
		{"oversize cell", "csv", rows(3) + "30,\"" + big + "\",5\n", errs.TooLarge, 4, "sex", []string{"row 4", `column "sex"`, "over the 1 MiB limit", "up to 1 MiB"}},
		{"oversize unquoted run", "csv", rows(3) + "30," + big + big + big + big + big + big + big + ",5\n", errs.TooLarge, 4, "", []string{"row 4", "1 MiB"}},
		{"duplicate header", "csv", "a,a\n1,2\n", errs.InvalidArgument, 0, "a", []string{"unique, non-empty name"}},
		{"jsonl syntax", "jsonl", `{"a":1}` + "\n{not json\n", errs.InvalidArgument, 2, "", []string{"row 2", "not valid jsonl"}},
		{"nul bytes", "csv", "a,b\n" + strings.Repeat("1,x\x00y\n", 12), errs.InvalidArgument, 1, "b", []string{"NUL", "UTF-8"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f, _ := table.FormatOf("x." + tc.format)
			_, err := datasets.ValidateStream(context.Background(), strings.NewReader(tc.data), f)
			var ie *datasets.InvalidError
			if !errors.As(err, &ie) {
				t.Fatalf("err = %v (%T), want an *InvalidError", err, err)
			}
			if got := errs.CodeOf(err); got != tc.code {
				t.Errorf("code %v, want %v", got, tc.code)
			}
			if ie.Problem.Row != tc.row || ie.Problem.Column != tc.column {
				t.Errorf("at row %d column %q, want row %d column %q", ie.Problem.Row, ie.Problem.Column, tc.row, tc.column)
			}
			msg := errs.Message(err)
			t.Log(msg)
			if msg != ie.Problem.Message {
				t.Errorf("errs.Message %q differs from the problem's %q", msg, ie.Problem.Message)
			}
			for _, want := range tc.msg {
				if !strings.Contains(msg, want) {
					t.Errorf("message %q lacks %q", msg, want)
				}
			}
			for _, bad := range []string{"6356992", "1048576", "table:", "datasets.", "tenants/"} {
				if strings.Contains(msg, bad) {
					t.Errorf("message %q leaks %q", msg, bad)
				}
			}
		})
	}
}

func TestValidateObject(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := memblob.OpenBucket(nil)
	defer b.Close()
	put := func(key string, data []byte) {
		t.Helper()
		if err := objects.Put(ctx, b, key, func(w io.Writer) error { _, err := w.Write(data); return err }, nil); err != nil {
			t.Fatal(err)
		}
	}
	// insurance.csv: age, sex, bmi, children, smoker, region, charges.
	ins, err := os.ReadFile(testdata.Path(t, "insurance.csv"))
	if err != nil {
		t.Fatal(err)
	}
	put("ins.csv", ins)
	s, err := datasets.ValidateObject(ctx, b, "ins.csv", "csv", nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := int64(len(testdata.Table(t, "insurance.csv").Rows)); s.Rows != want {
		t.Errorf("rows %d, want %d", s.Rows, want)
	}
	kinds := map[string]string{}
	for _, c := range s.Columns {
		kinds[c.Name] = c.Kind
	}
	for col, want := range map[string]string{"age": "numeric", "sex": "categorical", "smoker": "boolean", "charges": "numeric"} {
		if kinds[col] != want {
			t.Errorf("column %s is %q, want %q (all: %v)", col, kinds[col], want, kinds)
		}
	}

	// The same table as Parquet, spooled and read back.
	tab := testdata.Table(t, "insurance.csv")
	var pq bytes.Buffer
	cols := make([]table.Column, len(tab.Columns))
	for i, c := range tab.Columns {
		cols[i] = table.Column{Name: c}
	}
	w, err := table.NewWriter(&pq, table.Parquet, cols)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range tab.Rows {
		if err := w.Write(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	put("ins.parquet", pq.Bytes())
	ps, err := datasets.ValidateObject(ctx, b, "ins.parquet", "parquet", nil)
	if err != nil {
		t.Fatal(err)
	}
	if ps.Rows != int64(len(tab.Rows)) || len(ps.Columns) != len(tab.Columns) {
		t.Errorf("parquet: %d rows %d columns, want %d and %d", ps.Rows, len(ps.Columns), len(tab.Rows), len(tab.Columns))
	}

	// Garbage named .parquet is invalid, not an internal error.
	put("junk.parquet", []byte("age,sex\n1,2\n"))
	_, err = datasets.ValidateObject(ctx, b, "junk.parquet", "parquet", nil)
	var ie *datasets.InvalidError
	if !errors.As(err, &ie) || !strings.Contains(ie.Problem.Message, "parquet") {
		t.Errorf("junk parquet: %v, want an *InvalidError about parquet", err)
	}

	// A missing object is not a table problem.
	if _, err := datasets.ValidateObject(ctx, b, "nothing.csv", "csv", nil); err == nil || errors.As(err, &ie) {
		t.Errorf("missing object: %v, want a plain error", err)
	}
}

// TestValidateMinRows: exactly MinRows rows pass.
func TestValidateMinRows(t *testing.T) {
	t.Parallel()
	s, err := datasets.ValidateStream(context.Background(), strings.NewReader(rows(datasets.MinRows)), table.CSV)
	if err != nil {
		t.Fatal(err)
	}
	if s.Rows != datasets.MinRows || len(s.Columns) != 3 || s.Columns[0].Name != "age" {
		t.Errorf("summary %+v", s)
	}
}

// TestValidateCountsMissing: blank cells and the default spellings of
// missing count, once trimmed; values that only contain them do not.
func TestValidateCountsMissing(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	b.WriteString("age,city,note\n")
	cells := [][3]string{
		{"34", "Paris", ""},      // note missing
		{"", " NA ", "none"},     // age and city missing; "none" is a value
		{"?", "Lyon", "null"},    // age and note missing
		{"41", "N/A", "NaNa"},    // city missing; "NaNa" is a value
		{"52", "Nice", "  "},     // note missing
		{"29", "Brest", "-"},     // note missing
		{"33", "Metz", "x"},      //
		{"38", "Lille", "y"},     //
		{"45", "Dijon", "z"},     //
		{"50", "Tours", "NULLS"}, // a value
	}
	for _, c := range cells {
		b.WriteString(c[0] + "," + c[1] + "," + c[2] + "\n")
	}
	s, err := datasets.ValidateStream(context.Background(), strings.NewReader(b.String()), table.CSV)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int64{"age": 2, "city": 2, "note": 4}
	for _, c := range s.Columns {
		if c.Missing != want[c.Name] {
			t.Errorf("column %s: %d missing, want %d", c.Name, c.Missing, want[c.Name])
		}
	}
}
