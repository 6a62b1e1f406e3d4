package modeltest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gocloud.dev/blob/memblob"

	"synthos.dev/synthos/shared/ensemble"
	"synthos.dev/synthos/shared/modeleval"
	"synthos.dev/synthos/shared/table"
)

const data = "../../../../shared/datasets"

func file(path string) Table {
	return Table{Name: filepath.Base(path), Read: func() (*table.Table, error) {
		r, err := table.Open(path, table.Options{})
		if err != nil {
			return nil, err
		}
		defer r.Close()
		return table.ReadAll(r)
	}}
}

func insurance(t *testing.T) modeleval.Inputs {
	t.Helper()
	f, err := os.Open("../../ensemble/testdata/xgb_insurance_regression.json")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m, err := ensemble.Parse(f, "")
	if err != nil {
		t.Fatal(err)
	}
	return modeleval.Inputs{Model: m, ModelName: "charges.json", Target: "charges",
		Categories: map[string][]string{"sex": {"female", "male"}, "smoker": {"no", "yes"}, "region": {"northeast", "northwest", "southeast", "southwest"}}}
}

// TestRun: the tables are read and named as given; a training table turns
// TSTR vs TRTR on; one that cannot be read fails the test unless it is
// optional, when the test goes on without it; an unreadable holdout or
// synthetic table always fails it.
func TestRun(t *testing.T) {
	t.Parallel()
	hold, syn, train := file(filepath.Join(data, "insurance.holdout.csv")), file(filepath.Join(data, "insurance.train.csv")), file(filepath.Join(data, "insurance.train.csv"))
	gone := Table{Name: "gone.csv", Read: func() (*table.Table, error) { return nil, errors.New("object gone") }}
	tests := []struct {
		name     string
		tables   Tables
		wantErr  string
		wantTSTR bool
	}{
		{"holdout and synthetic", Tables{Holdout: hold, Synthetic: syn}, "", false},
		{"with training rows", Tables{Holdout: hold, Synthetic: syn, Train: train}, "", true},
		{"training rows optional and gone", Tables{Holdout: hold, Synthetic: syn, Train: gone, TrainOptional: true}, "", false},
		{"training rows required and gone", Tables{Holdout: hold, Synthetic: syn, Train: gone}, "train: object gone", false},
		{"holdout gone", Tables{Holdout: gone, Synthetic: syn}, "holdout: object gone", false},
		{"synthetic gone", Tables{Holdout: hold, Synthetic: gone}, "synthetic: object gone", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r, err := Run(context.Background(), insurance(t), tt.tables)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if r.Holdout != tt.tables.Holdout.Name || r.Synthetic != tt.tables.Synthetic.Name || r.Target != "charges" || len(r.Metrics) != 2 {
				t.Errorf("report names %q %q, target %q, metrics %+v", r.Holdout, r.Synthetic, r.Target, r.Metrics)
			}
			if (r.TSTR != nil) != tt.wantTSTR {
				t.Errorf("TSTR %+v, want it: %v", r.TSTR, tt.wantTSTR)
			}
		})
	}
}

func TestTarget(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		in   []string
		want string
	}{{nil, ""}, {[]string{"", ""}, ""}, {[]string{"a", "b"}, "a"}, {[]string{"", "b", "c"}, "b"}} {
		if got := Target(tt.in...); got != tt.want {
			t.Errorf("Target(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestStoreAndSummary: the stored JSON reads back as the report, the HTML
// is the report's page, and the summary names the verdict and metrics.
func TestStoreAndSummary(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r, err := Run(ctx, insurance(t), Tables{Holdout: file(filepath.Join(data, "insurance.holdout.csv")), Synthetic: file(filepath.Join(data, "insurance.train.csv"))})
	if err != nil {
		t.Fatal(err)
	}
	b := memblob.OpenBucket(nil)
	if err := Store(ctx, b, "t/test.json", "t/test.html", r); err != nil {
		t.Fatal(err)
	}
	j, err := b.ReadAll(ctx, "t/test.json")
	if err != nil {
		t.Fatal(err)
	}
	var back modeleval.Report
	if err := json.Unmarshal(j, &back); err != nil || back.Verdict.Level != r.Verdict.Level || back.Target != "charges" {
		t.Errorf("stored JSON %s: %v", j, err)
	}
	h, err := b.ReadAll(ctx, "t/test.html")
	if err != nil || !bytes.Contains(h, []byte("<html")) || !bytes.Contains(h, []byte("charges")) {
		t.Errorf("stored HTML %d bytes: %v", len(h), err)
	}
	for _, key := range []string{"t/test.json", "t/test.html"} {
		attrs, err := b.Attributes(ctx, key)
		if err != nil || attrs.ContentType == "" {
			t.Errorf("%s: content type %v, %v", key, attrs, err)
		}
	}
	var sum bytes.Buffer
	Summary(&sum, r)
	for _, want := range []string{r.Verdict.Title, "rmse", "r2", "predictions similarity"} {
		if !strings.Contains(sum.String(), want) {
			t.Errorf("summary %q lacks %q", sum.String(), want)
		}
	}
}
