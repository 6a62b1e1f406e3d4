package synth

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/brianvoe/gofakeit/v7"

	"synthos.dev/synthos/shared/pii"
	"synthos.dev/synthos/shared/profile"
	"synthos.dev/synthos/shared/table"
)

var kinds = []string{KindTree, KindCopula}

// fitAdult fits kind on adult.train with default options.
func fitAdult(t *testing.T, kind string) Model {
	t.Helper()
	train, _ := adult(t)
	m, err := Fit(context.Background(), train, adultProfile(), FitOptions{Kind: kind})
	if err != nil {
		t.Fatalf("Fit %s: %v", kind, err)
	}
	return m
}

// csvBytes samples shard i of k as CSV bytes.
func csvBytes(t *testing.T, m Model, n int64, shard, shards int, seed uint64, opts SampleOptions) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	if err := m.Sample(context.Background(), n, shard, shards, seed, opts, writerFunc(w.Write)); err != nil {
		t.Fatalf("Sample: %v", err)
	}
	w.Flush()
	return buf.Bytes()
}

type writerFunc func([]string) error

func (f writerFunc) Write(row []string) error { return f(row) }

func TestDeterministicAndShardable(t *testing.T) {
	for _, kind := range kinds {
		t.Run(kind, func(t *testing.T) {
			m := fitAdult(t, kind)
			const n = 2*BlockRows + 1234
			one := csvBytes(t, m, n, 0, 1, 42, SampleOptions{})
			if again := csvBytes(t, m, n, 0, 1, 42, SampleOptions{}); !bytes.Equal(one, again) {
				t.Fatal("same seed gave different bytes")
			}
			if other := csvBytes(t, m, n, 0, 1, 43, SampleOptions{}); bytes.Equal(one, other) {
				t.Fatal("different seeds gave the same bytes")
			}
			if got := bytes.Count(one, []byte("\n")); got != n {
				t.Fatalf("got %d rows, want %d", got, n)
			}
			for _, k := range []int{2, 3, 7} {
				var cat []byte
				for i := range k {
					cat = append(cat, csvBytes(t, m, n, i, k, 42, SampleOptions{})...)
				}
				if !bytes.Equal(one, cat) {
					t.Fatalf("%d shards concatenated differ from 1 shard", k)
				}
			}
		})
	}
}

// mixedTable builds a table with every column kind: keys, PII of each kind,
// free text, and modelled columns with missing values, decimals, dates and
// booleans. PII values come from gofakeit, the same generator sampling
// uses, so accidental copies are possible and the guard is exercised.
func mixedTable(n int) (*table.Table, *profile.Profile) {
	f := gofakeit.New(11)
	rng := rand.New(rand.NewPCG(3, 4))
	words := strings.Fields("alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu")
	t := &table.Table{Columns: []string{"id", "email", "phone", "name", "address", "ssn", "card", "iban", "ip", "url", "note",
		"amount", "joined", "score", "segment", "active"}}
	base := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range n {
		seg := []string{"retail", "pro", "enterprise"}[rng.IntN(3)]
		amount := "NA"
		if rng.Float64() >= 0.2 {
			mult := map[string]float64{"retail": 1, "pro": 5, "enterprise": 25}[seg]
			amount = strconv.FormatFloat(math.Round(rng.ExpFloat64()*100*mult*100)/100, 'f', 2, 64)
		}
		card := []byte(f.Numerify("4###############"))
		pii.LuhnFix(card)
		iban := []byte("DE00" + f.Numerify("##################"))
		pii.IBANFix(iban)
		var note []string
		for range 3 + rng.IntN(6) {
			note = append(note, words[rng.IntN(len(words))])
		}
		active := "no"
		if rng.IntN(3) > 0 {
			active = "yes"
		}
		t.Rows = append(t.Rows, []string{
			fmt.Sprintf("CUST-%06d", i+1), f.Email(), f.Numerify("(###) ###-####"), f.Name(), f.Address().Address,
			f.Numerify("###-##-####"), string(card), string(iban), f.IPv4Address(), f.URL(), strings.Join(note, " "),
			amount, base.AddDate(0, 0, rng.IntN(1500)).Format("2006-01-02"), strconv.Itoa(rng.IntN(101)), seg, active,
		})
	}
	p := &profile.Profile{Version: 1, Rows: n, Columns: []profile.Column{
		{Name: "id", Kind: profile.ID, IDFormat: "CUST-%06d"},
		{Name: "email", Kind: profile.PII, PII: profile.Email},
		{Name: "phone", Kind: profile.PII, PII: profile.Phone},
		{Name: "name", Kind: profile.PII, PII: profile.PersonName},
		{Name: "address", Kind: profile.PII, PII: profile.Address},
		{Name: "ssn", Kind: profile.PII, PII: profile.NationalID},
		{Name: "card", Kind: profile.PII, PII: profile.Card},
		{Name: "iban", Kind: profile.PII, PII: profile.IBAN},
		{Name: "ip", Kind: profile.PII, PII: profile.IP},
		{Name: "url", Kind: profile.PII, PII: profile.URL},
		{Name: "note", Kind: profile.Text},
		{Name: "amount", Kind: profile.Numeric, Decimals: 2, Min: 0, Max: 1e6, MissingTokens: []string{"NA"}},
		{Name: "joined", Kind: profile.Datetime, Format: "2006-01-02"},
		{Name: "score", Kind: profile.Numeric, Integer: true, Min: 0, Max: 100},
		{Name: "segment", Kind: profile.Categorical},
		{Name: "active", Kind: profile.Boolean, TrueToken: "yes", FalseToken: "no"},
	}}
	return t, p
}

func TestGeneratedAndModelledColumns(t *testing.T) {
	train, p := mixedTable(3000)
	for _, kind := range kinds {
		t.Run(kind, func(t *testing.T) {
			m, err := Fit(context.Background(), train, p, FitOptions{Kind: kind})
			if err != nil {
				t.Fatal(err)
			}
			const n = 20000
			var out collect
			if err := m.Sample(context.Background(), n, 0, 1, 5, SampleOptions{}, &out); err != nil {
				t.Fatal(err)
			}
			col := func(name string) int { return train.Col(name) }
			// PII, keys and long text never copied.
			for _, name := range []string{"id", "email", "phone", "name", "address", "ssn", "card", "iban", "ip", "url", "note"} {
				j := col(name)
				seen := map[string]bool{}
				for _, r := range train.Rows {
					seen[r[j]] = true
				}
				for _, r := range out.rows {
					if seen[r[j]] && (name != "note" || len(strings.Fields(r[j])) >= keepWords) {
						t.Fatalf("%s value %q copied from training", name, r[j])
					}
				}
			}
			ids := map[string]bool{}
			phoneShape := pii.ShapeOf(train.Rows[0][col("phone")], 0).String()
			for i, r := range out.rows {
				if ids[r[col("id")]] {
					t.Fatalf("duplicate key %q", r[col("id")])
				}
				ids[r[col("id")]] = true
				if want := fmt.Sprintf("CUST-%06d", 3001+i); r[col("id")] != want {
					t.Fatalf("key %q, want %q", r[col("id")], want)
				}
				if pii.ShapeOf(r[col("phone")], 0).String() != phoneShape {
					t.Fatalf("phone %q lost the shape of the source", r[col("phone")])
				}
				if !pii.IsCard(r[col("card")]) || len(r[col("card")]) != 16 {
					t.Fatalf("card %q not a Luhn-valid 16-digit number", r[col("card")])
				}
				if !pii.IsIBAN(r[col("iban")]) || !strings.HasPrefix(r[col("iban")], "DE") {
					t.Fatalf("IBAN %q invalid", r[col("iban")])
				}
				if !strings.Contains(r[col("email")], "@") {
					t.Fatalf("email %q", r[col("email")])
				}
				// Precision, bounds and formats kept.
				if a := r[col("amount")]; a != "NA" {
					v, err := strconv.ParseFloat(a, 64)
					if err != nil || v < 0 || v > 1e6 || len(a)-strings.IndexByte(a, '.') != 3 {
						t.Fatalf("amount %q: not a 2-decimal number in bounds", a)
					}
				}
				if s, err := strconv.Atoi(r[col("score")]); err != nil || s < 0 || s > 100 {
					t.Fatalf("score %q: not an integer in [0, 100]", r[col("score")])
				}
				if d, err := time.Parse("2006-01-02", r[col("joined")]); err != nil || d.Year() < 2020 || d.Year() > 2024 {
					t.Fatalf("joined %q: not a date in the source's range", r[col("joined")])
				}
				if a := r[col("active")]; a != "yes" && a != "no" {
					t.Fatalf("active %q: not a source token", a)
				}
			}
			// Missing rate reproduced.
			rate := func(rows [][]string) float64 {
				var k float64
				for _, r := range rows {
					if r[col("amount")] == "NA" {
						k++
					}
				}
				return k / float64(len(rows))
			}
			if got, want := rate(out.rows), rate(train.Rows); math.Abs(got-want) > 0.02 {
				t.Errorf("missing rate %.3f, training %.3f", got, want)
			}
		})
	}
}

func TestMissingRateAdult(t *testing.T) {
	train, _ := adult(t)
	for _, kind := range kinds {
		t.Run(kind, func(t *testing.T) {
			out := sampleTable(t, fitAdult(t, kind), 20000, 9)
			for _, name := range []string{"workclass", "occupation", "native-country"} {
				j := train.Col(name)
				rate := func(rows [][]string) float64 {
					var k float64
					for _, r := range rows {
						if r[j] == "?" {
							k++
						}
					}
					return k / float64(len(rows))
				}
				if got, want := rate(out.Rows), rate(train.Rows); math.Abs(got-want) > 0.01 {
					t.Errorf("%s missing rate %.4f, training %.4f", name, got, want)
				}
			}
		})
	}
}

func TestFixed(t *testing.T) {
	train, _ := adult(t)
	tests := []struct {
		name    string
		fixed   map[string]string
		wantErr error
	}{
		{name: "one level", fixed: map[string]string{"sex": "Female"}},
		{name: "two levels", fixed: map[string]string{"sex": "Female", "income": ">50K"}},
		{name: "number and level", fixed: map[string]string{"age": "40", "education": "Masters"}},
		{name: "missing token", fixed: map[string]string{"occupation": "?"}},
		{name: "unseen level", fixed: map[string]string{"sex": "Unknown"}, wantErr: ErrImpossible},
		{name: "number out of range", fixed: map[string]string{"age": "300"}, wantErr: ErrImpossible},
		{name: "not a number", fixed: map[string]string{"age": "old"}, wantErr: ErrImpossible},
		{name: "no such column", fixed: map[string]string{"colour": "red"}, wantErr: ErrInvalid},
	}
	for _, kind := range kinds {
		m := fitAdult(t, kind)
		for _, tc := range tests {
			t.Run(kind+"/"+tc.name, func(t *testing.T) {
				var out collect
				err := m.Sample(context.Background(), 3000, 0, 1, 1, SampleOptions{Fixed: tc.fixed}, &out)
				if tc.wantErr != nil {
					if !errors.Is(err, tc.wantErr) {
						t.Fatalf("err %v, want %v", err, tc.wantErr)
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				if len(out.rows) != 3000 {
					t.Fatalf("%d rows", len(out.rows))
				}
				for _, r := range out.rows {
					for name, v := range tc.fixed {
						if r[train.Col(name)] != v {
							t.Fatalf("row %v breaks %s=%s", r, name, v)
						}
					}
				}
			})
		}
	}
}

func TestFixedKeepsConditionalDistribution(t *testing.T) {
	// Conditioning must give the model's own conditional distribution: the
	// share of >50K among rows fixed to Female must match that among the
	// Female rows of an unconditional sample (sex is visited after income's
	// parents, so forcing it without reweighting would get this wrong). For
	// the tree it must also match training.
	train, _ := adult(t)
	js, ji := train.Col("sex"), train.Col("income")
	share := func(rows [][]string) float64 {
		var women, rich float64
		for _, r := range rows {
			if r[js] == "Female" {
				women++
				if r[ji] == ">50K" {
					rich++
				}
			}
		}
		return rich / women
	}
	for _, kind := range kinds {
		m := fitAdult(t, kind)
		var fixed collect
		if err := m.Sample(context.Background(), 20000, 0, 1, 3, SampleOptions{Fixed: map[string]string{"sex": "Female"}}, &fixed); err != nil {
			t.Fatal(err)
		}
		got := share(fixed.rows)
		if free := share(sampleTable(t, m, 60000, 4).Rows); math.Abs(got-free) > 0.015 {
			t.Errorf("%s: P(>50K | Female) fixed %.3f, filtered %.3f", kind, got, free)
		}
		if want := share(train.Rows); kind == KindTree && math.Abs(got-want) > 0.02 {
			t.Errorf("%s: P(>50K | Female) %.3f, training %.3f", kind, got, want)
		}
	}
}

func TestAccept(t *testing.T) {
	train, _ := adult(t)
	ja := train.Col("age")
	for _, kind := range kinds {
		m := fitAdult(t, kind)
		t.Run(kind+"/filter", func(t *testing.T) {
			var out collect
			accept := func(r []string) bool { a, err := strconv.Atoi(r[ja]); return err == nil && a >= 30 }
			if err := m.Sample(context.Background(), 2000, 0, 1, 1, SampleOptions{Accept: accept}, &out); err != nil {
				t.Fatal(err)
			}
			for _, r := range out.rows {
				if !accept(r) {
					t.Fatalf("row %v not accepted", r)
				}
			}
		})
		t.Run(kind+"/nothing", func(t *testing.T) {
			err := m.Sample(context.Background(), 10, 0, 1, 1, SampleOptions{Accept: func([]string) bool { return false }, MaxTriesPerRow: 50}, &collect{})
			if !errors.Is(err, ErrRejected) || !strings.Contains(err.Error(), "Accept 50") {
				t.Fatalf("err %v, want ErrRejected naming Accept", err)
			}
		})
	}
}

func TestNoTrainingRowReproduced(t *testing.T) {
	train, _ := adult(t)
	rows := map[string]bool{}
	for _, r := range train.Rows {
		rows[rowKey(r)] = true
	}
	for _, kind := range kinds {
		out := sampleTable(t, fitAdult(t, kind), 30000, 17)
		for _, r := range out.Rows {
			if rows[rowKey(r)] {
				t.Fatalf("%s reproduced training row %v", kind, r)
			}
		}
	}
}

func TestSaveLoad(t *testing.T) {
	for _, kind := range kinds {
		t.Run(kind, func(t *testing.T) {
			train, p := mixedTable(500)
			m, err := Fit(context.Background(), train, p, FitOptions{Kind: kind})
			if err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			if err := Save(&buf, m); err != nil {
				t.Fatal(err)
			}
			file := buf.Bytes()
			loaded, err := Load(bytes.NewReader(file))
			if err != nil {
				t.Fatal(err)
			}
			if loaded.Kind() != kind {
				t.Fatalf("kind %q", loaded.Kind())
			}
			opts := SampleOptions{Fixed: map[string]string{"segment": "pro"}}
			if a, b := csvBytes(t, m, 5000, 0, 1, 8, opts), csvBytes(t, loaded, 5000, 0, 1, 8, opts); !bytes.Equal(a, b) {
				t.Fatal("loaded model samples differently")
			}
			bad := func(mutate func([]byte) []byte) error {
				_, err := Load(bytes.NewReader(mutate(bytes.Clone(file))))
				return err
			}
			for name, mutate := range map[string]func([]byte) []byte{
				"version":   func(b []byte) []byte { b[len(magic)+3] = 99; return b },
				"magic":     func(b []byte) []byte { b[0] = 'X'; return b },
				"truncated": func(b []byte) []byte { return b[:len(b)/2] },
				"empty":     func([]byte) []byte { return nil },
			} {
				if err := bad(mutate); !errors.Is(err, ErrFormat) {
					t.Errorf("%s: err %v, want ErrFormat", name, err)
				}
			}
			if err := bad(func(b []byte) []byte { b[len(magic)+3] = 99; return b }); !strings.Contains(err.Error(), "version 99") {
				t.Errorf("version error %q does not name the version", err)
			}
		})
	}
}

func TestFitErrors(t *testing.T) {
	train, p := mixedTable(50)
	noCol := &profile.Profile{Columns: p.Columns[1:]}
	badKind := &profile.Profile{Columns: append([]profile.Column{{Name: "id", Kind: "blob"}}, p.Columns[1:]...)}
	noFormat := &profile.Profile{Columns: append([]profile.Column(nil), p.Columns...)}
	noFormat.Columns[12].Format = ""
	ragged := &table.Table{Columns: train.Columns, Rows: [][]string{{"a"}}}
	tests := []struct {
		name string
		t    *table.Table
		p    *profile.Profile
		opts FitOptions
	}{
		{"nil table", nil, p, FitOptions{}},
		{"no rows", &table.Table{Columns: train.Columns}, p, FitOptions{}},
		{"column not profiled", train, noCol, FitOptions{}},
		{"unknown column kind", train, badKind, FitOptions{}},
		{"datetime without format", train, noFormat, FitOptions{}},
		{"ragged row", ragged, p, FitOptions{}},
		{"unknown model", train, p, FitOptions{Kind: "gan"}},
		{"bad order", train, p, FitOptions{Order: []string{"email"}}},
		{"negative smoothing", train, p, FitOptions{Smoothing: -1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := Fit(context.Background(), tc.t, tc.p, tc.opts); !errors.Is(err, ErrInvalid) {
				t.Fatalf("err %v, want ErrInvalid", err)
			}
		})
	}
}

func TestSampleArgumentsAndProgress(t *testing.T) {
	train, p := mixedTable(300)
	m, err := Fit(context.Background(), train, p, FitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, args := range [][3]int{{-1, 0, 1}, {10, 1, 1}, {10, 0, 0}, {10, -1, 2}} {
		if err := m.Sample(context.Background(), int64(args[0]), args[1], args[2], 1, SampleOptions{}, &collect{}); !errors.Is(err, ErrInvalid) {
			t.Errorf("n=%d shard=%d shards=%d: err %v, want ErrInvalid", args[0], args[1], args[2], err)
		}
	}
	if err := m.Sample(context.Background(), 10, 0, 1, 1, SampleOptions{Fixed: map[string]string{"email": "a@b.c"}}, &collect{}); !errors.Is(err, ErrInvalid) {
		t.Errorf("fixing a PII column: err %v, want ErrInvalid", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := m.Sample(ctx, 10, 0, 1, 1, SampleOptions{}, &collect{}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: err %v", err)
	}
	var seen []int64
	n := int64(2*BlockRows + 7)
	if err := m.Sample(context.Background(), n, 0, 1, 1, SampleOptions{Progress: func(d int64) { seen = append(seen, d) }}, &collect{}); err != nil {
		t.Fatal(err)
	}
	if len(seen) != 3 || seen[2] != n {
		t.Errorf("progress %v, want 3 calls ending at %d", seen, n)
	}
	werr := errors.New("disk full")
	if err := m.Sample(context.Background(), 10, 0, 1, 1, SampleOptions{}, writerFunc(func([]string) error { return werr })); !errors.Is(err, werr) {
		t.Errorf("writer error: got %v", err)
	}
}
