package model_test

import (
	"bytes"
	"context"
	"errors"
	"math"
	"slices"
	"strings"
	"testing"

	"synthos.dev/synthos/internal/testdata"
	"synthos.dev/synthos/shared/dp"
	"synthos.dev/synthos/shared/model"
	"synthos.dev/synthos/shared/profile"
	"synthos.dev/synthos/shared/relations"
	"synthos.dev/synthos/shared/synth"
)

// TestRelationsAdult: adult's education ↔ education-num holds in every
// real row; the issue measured the copula keeping it in 26.8% of rows. Every
// model must keep it (tree and dp in 99% of rows, copula 95%; dp on the
// rows whose real dependent value its private release can write: see
// promised), and its integer-valued columns must stay integer-valued.
func TestRelationsAdult(t *testing.T) {
	t.Parallel()
	tb := testdata.Table(t, "adult.train.csv")
	p, err := profile.Infer(tb, profile.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var found []string
	for _, r := range p.Relations {
		found = append(found, r.String())
	}
	if !slices.Contains(found, "education -> education-num") || !slices.Contains(found, "education-num -> education") {
		t.Fatalf("adult's relations %q lack education ↔ education-num", found)
	}
	real := profile.RelationColumns(tb.Rows, p)
	for _, kind := range model.Kinds() {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			m, err := model.Fit(context.Background(), tb, p, model.Options{Kind: kind, Seed: 1, Epsilon: 1, Delta: 1e-9})
			if err != nil {
				t.Fatal(err)
			}
			out := sample(t, m, 5000, 0, 1, 9, model.SampleOptions{})
			syn := profile.RelationColumns(out, p)
			want := 0.99
			if kind == synth.KindCopula {
				want = 0.95
			}
			var emitted []relations.Column
			if kind == dp.KindDP {
				emitted = profile.RelationColumns(sample(t, model.Unwrap(m), 20000, 0, 1, 2, model.SampleOptions{}), p)
			}
			for _, r := range p.Relations {
				syn := syn
				if r.Kind == relations.FD && emitted != nil {
					kept, n := promised(t, r, real, emitted, syn, out)
					syn = profile.RelationColumns(kept, p)
					t.Logf("%s: %d of %d rows left out, their real dependent outside the private model's values", r, n-len(kept), n)
				}
				rs, ss, err := relations.Measure(r, real, syn)
				if err != nil {
					t.Fatal(err)
				}
				t.Logf("%s: real %.4f, synthetic %.4f", r, rs.Rate, ss.Rate)
				if rs.Rate >= 0.99 && ss.Rate < want {
					t.Errorf("%s: real %.4f, synthetic %.4f, want ≥ %v", r, rs.Rate, ss.Rate, want)
				}
			}
			for j, c := range p.Columns {
				if c.Kind != profile.Numeric || !c.Integer {
					continue
				}
				for _, v := range syn[j].Num {
					if !math.IsNaN(v) && v != math.Trunc(v) {
						t.Fatalf("%s is integer-valued in the source, synthetic value %v", c.Name, v)
					}
				}
			}
		})
	}
}

// promised returns the synthetic rows out whose determinant value of the
// dependency r has its real dependent (the value ref pairs it with most)
// among the values the private model writes, as its own unrepaired sample
// emitted shows them (syn holds out's columns); it also returns len(out). A dp model learns its
// numeric range from noisy counts: at epsilon 1 education-num's range can
// start at 4 (Preschool, 1st-4th and 5th-6th, 1, 2 and 3, hold 1.7% of the
// rows), while 5th-6th is released as a category. No repair can write its
// 3, a value the release did not show, so those rows test the privacy
// release, not the repair, and are left out (the column's shape score
// counts them); every other row must keep the dependency.
func promised(t *testing.T, r relations.Relation, ref, emitted, syn []relations.Column, out [][]string) ([][]string, int) {
	t.Helper()
	col := func(cols []relations.Column, name string) *relations.Column {
		for j := range cols {
			if cols[j].Name == name {
				return &cols[j]
			}
		}
		t.Fatalf("%s: no column %q", r, name)
		return nil
	}
	dom := relations.Dominant(col(ref, r.Columns[0]), col(ref, r.Columns[1]))
	written := map[string]bool{}
	y := col(emitted, r.Columns[1])
	for _, c := range y.Codes {
		if c >= 0 {
			written[y.Levels[c]] = true
		}
	}
	x := col(syn, r.Columns[0]) // row i of syn is out[i]
	var kept [][]string
	for i, row := range out {
		if c := x.Codes[i]; c >= 0 {
			if want, ok := dom[x.Levels[c]]; ok && !written[want] {
				continue
			}
		}
		kept = append(kept, row)
	}
	return kept, len(out)
}

// TestRelationsDeclared: a relation added in the schema is kept even when
// the rows do not obey it, and a dropped one is not enforced.
func TestRelationsDeclared(t *testing.T) {
	t.Parallel()
	tb := allKinds(1500)
	p, err := profile.Infer(tb, profile.Options{})
	if err != nil {
		t.Fatal(err)
	}
	s, err := profile.ParseSchema([]byte(`{"relations": {"drop": ["place -> region"], "add": ["age <= visits", "amount = age + visits + tax"]}}`))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Apply(p); err != nil {
		t.Fatal(err)
	}
	m := fitKind(t, synth.KindTree, tb, p)
	kept := model.Relations(m)
	if !slices.Contains(kept, "age <= visits") || !slices.Contains(kept, "amount = age + visits + tax") || slices.Contains(kept, "place -> region") {
		t.Fatalf("enforced relations %q", kept)
	}
	out := sample(t, m, 2000, 0, 1, 4, model.SampleOptions{})
	real, syn := profile.RelationColumns(tb.Rows, p), profile.RelationColumns(out, p)
	// Few real rows obey them (ages 18–77, visits 0–39); all synthetic
	// ones do.
	for _, decl := range []string{"age <= visits", "amount = age + visits + tax"} {
		r, _ := relations.Parse(decl)
		rs, ss, err := relations.Measure(r, real, syn)
		if err != nil {
			t.Fatal(err)
		}
		if rs.Rate > 0.5 || ss.Rate != 1 {
			t.Errorf("declared %s: real %.3f, synthetic %.3f", decl, rs.Rate, ss.Rate)
		}
	}
}

// TestRelationsFile: a model file keeps its relations, and a corrupt
// relations section fails to load with ErrFormat.
func TestRelationsFile(t *testing.T) {
	t.Parallel()
	tb := allKinds(800)
	p, _ := profile.Infer(tb, profile.Options{})
	m := fitKind(t, dp.KindDP, tb, p)
	if _, ok := model.Unwrap(m).(*dp.Model); !ok {
		t.Fatalf("Unwrap gives %T", model.Unwrap(m))
	}
	var buf bytes.Buffer
	if err := model.Save(&buf, m); err != nil {
		t.Fatal(err)
	}
	file := buf.Bytes()
	if !bytes.HasPrefix(file, []byte("SYNTHOS-RELATIONS\n")) {
		t.Fatal("no relations section")
	}
	m2, err := model.Load(bytes.NewReader(file))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(model.Relations(m2), model.Relations(m)) || len(model.Relations(m)) == 0 {
		t.Fatalf("relations %q after load, %q before", model.Relations(m2), model.Relations(m))
	}
	for name, bad := range map[string][]byte{
		"truncated header":    file[:20],
		"huge length":         append([]byte("SYNTHOS-RELATIONS\n\xff\xff\xff\xff"), file[22:]...),
		"bad json":            append([]byte("SYNTHOS-RELATIONS\n\x00\x00\x00\x02{x"), file[22:]...),
		"column out of range": []byte(strings.Replace(string(file), `"target":`, `"target":9`, 1)),
	} {
		if _, err := model.Load(bytes.NewReader(bad)); !errors.Is(err, model.ErrFormat) {
			t.Errorf("%s: %v, want ErrFormat", name, err)
		}
	}
}

// BenchmarkSampleRelations samples adult with the tree model, keeping its
// relations (education ↔ education-num) or not (the driver's model alone).
func BenchmarkSampleRelations(b *testing.B) {
	tb := testdata.Table(b, "adult.train.csv")
	p, err := profile.Infer(tb, profile.Options{})
	if err != nil {
		b.Fatal(err)
	}
	m, err := model.Fit(context.Background(), tb, p, model.Options{Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	const n = 40_000
	for _, tc := range []struct {
		name string
		m    model.Model
	}{{"kept", m}, {"driver", model.Unwrap(m)}} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := tc.m.Sample(context.Background(), n, 0, 1, 7, model.SampleOptions{}, discard{}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}

type discard struct{}

func (discard) Write([]string) error { return nil }

// TestRelationsConditions: a condition on a determinant carries to its
// dependent; a condition on a relation's target wins over the relation.
func TestRelationsConditions(t *testing.T) {
	t.Parallel()
	tb := allKinds(1500)
	p, _ := profile.Infer(tb, profile.Options{})
	place, region := slices.Index(tb.Columns, "place"), slices.Index(tb.Columns, "region")
	want := map[string]string{}
	for _, r := range tb.Rows {
		want[r[place]] = r[region]
	}
	for _, kind := range []string{synth.KindTree, synth.KindCopula} {
		m := fitKind(t, kind, tb, p)
		for _, r := range sample(t, m, 500, 0, 1, 3, model.SampleOptions{Fixed: map[string]string{"place": "Leeds"}}) {
			if r[place] != "Leeds" || r[region] != want["Leeds"] {
				t.Fatalf("%s: place=Leeds fixed, row has %s in %s (want %s)", kind, r[place], r[region], want["Leeds"])
			}
		}
		for _, r := range sample(t, m, 500, 0, 1, 3, model.SampleOptions{Fixed: map[string]string{"region": "West"}}) {
			if r[region] != "West" {
				t.Fatalf("%s: region=West fixed, row has %s", kind, r[region])
			}
		}
	}
}

// TestRelationsParallel: sampling a model that keeps relations on several
// workers writes the rows one Sample call writes.
func TestRelationsParallel(t *testing.T) {
	t.Parallel()
	tb := allKinds(1500)
	p, _ := profile.Infer(tb, profile.Options{})
	m := fitKind(t, synth.KindTree, tb, p)
	if len(model.Relations(m)) == 0 {
		t.Fatal("no relations kept")
	}
	const n = 40_000 // ten blocks: several tasks
	want := sample(t, m, n, 0, 1, 8, model.SampleOptions{})
	var got rows
	if err := synth.SampleParallel(context.Background(), m, n, 0, 1, 8, model.SampleOptions{}, &got, 3); err != nil {
		t.Fatal(err)
	}
	if !slices.EqualFunc(want, got.out, slices.Equal) {
		t.Fatal("parallel sample differs from the one-call sample")
	}
}
