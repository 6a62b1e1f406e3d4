package pipeline

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"testing"

	"cloud.google.com/go/storage"
	"google.golang.org/api/iterator"

	"synthos.dev/synthos/shared/jobs"
	"synthos.dev/synthos/shared/objects/objectstest"
	"synthos.dev/synthos/shared/rules"
	"synthos.dev/synthos/shared/synth"
	"synthos.dev/synthos/shared/table"
)

func numbered(n int) *table.Table {
	t := &table.Table{Columns: []string{"i"}}
	for i := range n {
		t.Rows = append(t.Rows, []string{fmt.Sprint(i)})
	}
	return t
}

func TestSplit(t *testing.T) {
	t.Parallel()
	tests := []struct {
		rows         int
		share        float64
		max          int
		wantHoldout  int
		wantTraining int
	}{
		{rows: 100, share: 0.2, max: 1000, wantHoldout: 20, wantTraining: 80},
		{rows: 100, share: 0.2, max: 5, wantHoldout: 5, wantTraining: 95},
		{rows: 1, share: 0.5, max: 10, wantHoldout: 0, wantTraining: 1},
		{rows: 7, share: 0, max: 10, wantHoldout: 0, wantTraining: 7},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%d_%v_%d", tt.rows, tt.share, tt.max), func(t *testing.T) {
			src := numbered(tt.rows)
			train, hold := split(src, 9, tt.share, tt.max)
			if len(hold.Rows) != tt.wantHoldout || len(train.Rows) != tt.wantTraining {
				t.Fatalf("split %d rows into %d train, %d holdout; want %d, %d", tt.rows, len(train.Rows), len(hold.Rows), tt.wantTraining, tt.wantHoldout)
			}
			var all []int
			for _, r := range append(slices.Clone(train.Rows), hold.Rows...) {
				var i int
				fmt.Sscan(r[0], &i)
				all = append(all, i)
			}
			slices.Sort(all)
			if len(slices.Compact(all)) != tt.rows {
				t.Errorf("train and holdout overlap or lose rows: %v", all)
			}
			train2, hold2 := split(src, 9, tt.share, tt.max)
			if !slices.EqualFunc(hold.Rows, hold2.Rows, slices.Equal) || !slices.EqualFunc(train.Rows, train2.Rows, slices.Equal) {
				t.Error("the same seed split differently")
			}
		})
	}
}

func TestSkipWriter(t *testing.T) {
	t.Parallel()
	tests := []struct {
		skip   int64
		chunks []string
		want   string
	}{
		{0, []string{"ab", "cd"}, "abcd"},
		{3, []string{"ab", "cd", "ef"}, "def"},
		{2, []string{"ab", "cd"}, "cd"},
		{5, []string{"ab"}, ""},
	}
	for _, tt := range tests {
		var buf bytes.Buffer
		w := &skipWriter{w: &buf, skip: tt.skip}
		for _, c := range tt.chunks {
			if n, err := w.Write([]byte(c)); n != len(c) || err != nil {
				t.Fatalf("Write(%q) = %d, %v", c, n, err)
			}
		}
		if buf.String() != tt.want {
			t.Errorf("skip %d of %q = %q, want %q", tt.skip, tt.chunks, buf.String(), tt.want)
		}
	}
}

// TestCSVPartsConcatenate: parts after the first drop exactly the header
// the table writer emits, so concatenated parts are one CSV.
func TestCSVPartsConcatenate(t *testing.T) {
	t.Parallel()
	cols := []table.Column{{Name: "=a", Kind: table.String}, {Name: "b,c", Kind: table.Int}}
	hdr, err := header(table.CSV, cols)
	if err != nil {
		t.Fatal(err)
	}
	var whole, parts bytes.Buffer
	ww, _ := table.NewWriter(&whole, table.CSV, cols)
	for i, rows := range [][][]string{{{"x", "1"}}, {{"y", "2"}, {"z", "3"}}} {
		skip := int64(0)
		if i > 0 {
			skip = int64(len(hdr))
		}
		pw, _ := table.NewWriter(&skipWriter{w: &parts, skip: skip}, table.CSV, cols)
		for _, r := range rows {
			_ = ww.Write(r)
			_ = pw.Write(r)
		}
		if err := pw.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if err := ww.Close(); err != nil {
		t.Fatal(err)
	}
	if parts.String() != whole.String() {
		t.Errorf("parts %q, whole %q", parts.String(), whole.String())
	}
}

func TestUploadPath(t *testing.T) {
	t.Parallel()
	tests := []struct {
		key, tenant, name string
		ok                bool
	}{
		{"uploads/acme/data.csv", "acme", "data.csv", true},
		{"uploads/acme/dir/my file.csv", "acme", "my_file.csv", true},
		{"uploads/acme/", "", "", false},
		{"uploads//x.csv", "", "", false},
		{"uploads/ac me/x.csv", "", "", false},
		{"tenants/acme/datasets/x.csv", "", "", false},
		{"uploads/acme", "", "", false},
	}
	for _, tt := range tests {
		tenant, name, ok := uploadPath(tt.key)
		if tenant != tt.tenant || name != tt.name || ok != tt.ok {
			t.Errorf("uploadPath(%q) = %q, %q, %v; want %q, %q, %v", tt.key, tenant, name, ok, tt.tenant, tt.name, tt.ok)
		}
	}
}

func TestPermanent(t *testing.T) {
	t.Parallel()
	tests := []struct {
		err  error
		want bool
	}{
		{fmt.Errorf("read: %w", table.ErrRagged), true},
		{fmt.Errorf("fit: %w", synth.ErrInvalid), true},
		{fmt.Errorf("rules: %w", rules.ErrImpossible), true},
		{permanent("unknown model %q", "gan"), true},
		{context.Canceled, false},
		{errors.New("connection reset"), false},
		{fmt.Errorf("%w: x", jobs.ErrTransition), false},
	}
	for _, tt := range tests {
		if got := Permanent(tt.err); got != tt.want {
			t.Errorf("Permanent(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
}

// TestGCSComposeTree composes 70 parts (three compose calls of at most 32,
// then one of their results) on fake-gcs-server through the real client,
// and leaves no intermediate object behind.
func TestGCSComposeTree(t *testing.T) {
	t.Parallel()
	_, client := objectstest.FakeGCS(t)
	b := client.Bucket("compose-test")
	if err := b.Create(t.Context(), "p", nil); err != nil {
		t.Fatal(err)
	}
	var srcs []string
	var want bytes.Buffer
	for i := range 70 {
		name := fmt.Sprintf("parts/part-%05d", i)
		w := b.Object(name).NewWriter(t.Context())
		line := fmt.Sprintf("row %d\n", i)
		want.WriteString(line)
		if _, err := io.WriteString(w, line); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		srcs = append(srcs, name)
	}
	scratch := func(level, i int) string { return fmt.Sprintf("parts/tmp-%d-%d", level, i) }
	if err := GCSComposer(b).Compose(t.Context(), "output.csv", srcs, scratch, "text/csv"); err != nil {
		t.Fatalf("Compose: %v", err)
	}
	r, err := b.Object("output.csv").NewReader(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(r)
	r.Close()
	if err != nil || !bytes.Equal(got, want.Bytes()) {
		t.Errorf("composed %q (%v), want %q", got, err, want.String())
	}
	it := b.Objects(t.Context(), &storage.Query{Prefix: "parts/tmp-"})
	if attrs, err := it.Next(); err != iterator.Done {
		t.Errorf("intermediate left behind: %v %v", attrs, err)
	}
}
