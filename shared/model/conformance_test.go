package model_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"synthos.dev/synthos/shared/dp"
	"synthos.dev/synthos/shared/model"
	"synthos.dev/synthos/shared/pii"
	"synthos.dev/synthos/shared/profile"
	"synthos.dev/synthos/shared/relations"
	"synthos.dev/synthos/shared/synth"
	"synthos.dev/synthos/shared/table"
)

type rows struct{ out [][]string }

func (r *rows) Write(row []string) error {
	r.out = append(r.out, append([]string(nil), row...))
	return nil
}

// allKinds is a table with every column kind, key format and PII kind the
// profile knows, some with missing cells and some complete.
func allKinds(n int) *table.Table {
	rng := rand.New(rand.NewPCG(21, 22))
	tok := func(alpha string, k int) string {
		b := make([]byte, k)
		for i := range b {
			b[i] = alpha[rng.IntN(len(alpha))]
		}
		return string(b)
	}
	t := &table.Table{Columns: []string{
		"cust_id", "uuid", "session", "trace", "api_key",
		"age", "amount", "score", "visits", "signup", "plan", "active",
		"email", "phone", "ssn", "card", "iban", "ip", "url", "note",
		"start", "end", "place", "region", "net", "tax", "total",
	}}
	places := strings.Fields("Leeds York Hull Bath Bristol Exeter Oxford Reading Derby Lincoln Durham Carlisle")
	base := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)
	words := strings.Fields("alpha beta gamma delta epsilon zeta eta theta iota kappa")
	for i := range n {
		u := pii.AppendUUID(nil, rng)
		card := []byte(fmt.Sprintf("4%03d %04d %04d %04d", rng.IntN(1000), rng.IntN(10000), rng.IntN(10000), rng.IntN(10000)))
		pii.LuhnFix(card)
		iban := []byte(fmt.Sprintf("DE00%018d", rng.Int64N(1e18)))
		pii.IBANFix(iban)
		plan := []string{"free", "pro", "team", "free"}[rng.IntN(4)]
		age := 18 + rng.IntN(60)
		score := ""
		if rng.IntN(10) > 0 { // 10% missing
			score = strconv.FormatFloat(float64(rng.IntN(1000))/10, 'f', 1, 64)
		}
		visits := strconv.Itoa(rng.IntN(40)) + ".0" // integer-valued, written N.0
		note := ""
		for k := range 4 + rng.IntN(4) {
			if k > 0 {
				note += " "
			}
			note += words[rng.IntN(len(words))]
		}
		// A trip (whole minutes, 5 to 108 long), a place and its region,
		// and a total that is the sum of its parts: relations to keep.
		start := base.Add(time.Duration(rng.IntN(30*24*60)) * time.Minute)
		end := start.Add(time.Duration(5+int(103*rng.Float64()*rng.Float64())) * time.Minute)
		pl := rng.IntN(len(places))
		net := 10 + rng.Float64()*490
		tax := math.Round(net*20) / 100
		t.Rows = append(t.Rows, []string{
			fmt.Sprintf("C-%06d", i+1),
			string(u),
			tok("0123456789abcdef", 16),
			tok("0123456789ABCDEF", 12),
			tok("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", 20),
			strconv.Itoa(age),
			fmt.Sprintf("%.2f", 5+float64(age)*3.5+rng.Float64()*40),
			score,
			visits,
			base.Add(time.Duration(rng.IntN(90*24*3600)) * time.Second).Format("2006-01-02 15:04:05"),
			plan,
			[]string{"true", "false"}[rng.IntN(2)],
			fmt.Sprintf("user%d@example.com", i),
			fmt.Sprintf("(%03d) %03d-%04d", 200+rng.IntN(700), 200+rng.IntN(700), rng.IntN(10000)),
			fmt.Sprintf("%03d-%02d-%04d", 100+rng.IntN(700), 10+rng.IntN(89), 1000+rng.IntN(9000)),
			string(card),
			string(iban),
			fmt.Sprintf("10.%d.%d.%d", rng.IntN(256), rng.IntN(256), rng.IntN(256)),
			fmt.Sprintf("https://example.com/p/%d", i),
			note,
			start.Format("2006-01-02 15:04"), end.Format("2006-01-02 15:04"),
			places[pl], []string{"North", "South", "East", "West"}[pl%4],
			fmt.Sprintf("%.2f", net), fmt.Sprintf("%.2f", tax), fmt.Sprintf("%.2f", math.Round(net*100)/100+tax),
		})
	}
	return t
}

// formats are what every model must write in each column.
var formats = map[string]*regexp.Regexp{
	"cust_id": regexp.MustCompile(`^C-[0-9]{6}$`),
	"uuid":    regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`),
	"session": regexp.MustCompile(`^[0-9a-f]{16}$`),
	"trace":   regexp.MustCompile(`^[0-9A-F]{12}$`),
	"api_key": regexp.MustCompile(`^[0-9A-Za-z]{20}$`),
	"age":     regexp.MustCompile(`^[0-9]+$`),
	"amount":  regexp.MustCompile(`^[0-9]+\.[0-9]{2}$`),
	"score":   regexp.MustCompile(`^([0-9]+\.[0-9])?$`),
	"visits":  regexp.MustCompile(`^[0-9]+\.0$`),
	"signup":  regexp.MustCompile(`^20[0-9]{2}-[01][0-9]-[0-3][0-9] [0-2][0-9]:[0-5][0-9]:[0-5][0-9]$`),
	"plan":    regexp.MustCompile(`^(free|pro|team)$`),
	"active":  regexp.MustCompile(`^(true|false)$`),
	"email":   regexp.MustCompile(`^[^@ ]+@[^@ ]+\.[a-z]+$`),
	"phone":   regexp.MustCompile(`^\([0-9]{3}\) [0-9]{3}-[0-9]{4}$`),
	"ssn":     regexp.MustCompile(`^[0-9]{3}-[0-9]{2}-[0-9]{4}$`),
	"card":    regexp.MustCompile(`^[0-9]{4} [0-9]{4} [0-9]{4} [0-9]{4}$`),
	"iban":    regexp.MustCompile(`^DE[0-9]{20}$`),
	"ip":      regexp.MustCompile(`^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$`),
	"url":     regexp.MustCompile(`^https?://`),
	"note":    regexp.MustCompile(`^\S+( \S+)*$`),
	"start":   regexp.MustCompile(`^20[0-9]{2}-[01][0-9]-[0-3][0-9] [0-2][0-9]:[0-5][0-9]$`),
	"end":     regexp.MustCompile(`^20[0-9]{2}-[01][0-9]-[0-3][0-9] [0-2][0-9]:[0-5][0-9]$`),
	"place":   regexp.MustCompile(`^[A-Z][a-z]+$`),
	"region":  regexp.MustCompile(`^(North|South|East|West)$`),
	"net":     regexp.MustCompile(`^[0-9]+\.[0-9]{2}$`),
	"tax":     regexp.MustCompile(`^[0-9]+\.[0-9]{2}$`),
	"total":   regexp.MustCompile(`^[0-9]+\.[0-9]{2}$`),
}

// checks are the validity rules beyond the layout.
var checks = map[string]func(string) bool{
	"card": pii.IsCard,
	"iban": pii.IsIBAN,
	"ssn":  func(s string) bool { return pii.IsSSN(s, false) },
	"ip":   pii.IsIP,
}

func fitKind(t *testing.T, kind string, tb *table.Table, p *profile.Profile) model.Model {
	t.Helper()
	m, err := model.Fit(context.Background(), tb, p, model.Options{Kind: kind, Seed: 3, Epsilon: 3})
	if err != nil {
		t.Fatalf("fit %s: %v", kind, err)
	}
	if m.Kind() != kind {
		t.Fatalf("fitted kind %s, want %s", m.Kind(), kind)
	}
	return m
}

func sample(t *testing.T, m model.Model, n int64, shard, shards int, seed uint64, opts model.SampleOptions) [][]string {
	t.Helper()
	var r rows
	if err := m.Sample(context.Background(), n, shard, shards, seed, opts, &r); err != nil {
		t.Fatalf("%s sample: %v", m.Kind(), err)
	}
	return r.out
}

// TestConformance holds every registered model to the same contract.
func TestConformance(t *testing.T) {
	t.Parallel()
	tb := allKinds(1500)
	p, err := profile.Infer(tb, profile.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"cust_id", "uuid", "session", "trace", "api_key"} {
		if c := p.Col(name); c.Kind != profile.ID {
			t.Fatalf("profile: %s is %s, want id", name, c.Kind)
		}
	}
	var found []string
	for _, r := range p.Relations {
		found = append(found, r.String())
	}
	for _, want := range []string{"start <= end", "place -> region", "total = net + tax"} {
		if !slices.Contains(found, want) {
			t.Fatalf("relation %q not discovered; found %q", want, found)
		}
	}
	kinds := model.Kinds()
	if !slices.Equal(kinds, []string{"tree", "copula", "dp"}) {
		t.Fatalf("registered kinds %v", kinds)
	}
	for _, kind := range kinds {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			m := fitKind(t, kind, tb, p)
			cols := m.Columns()
			if len(cols) != len(tb.Columns) {
				t.Fatalf("%d output columns, want %d", len(cols), len(tb.Columns))
			}
			for j, c := range cols {
				if c.Name != tb.Columns[j] {
					t.Fatalf("column %d is %q, want %q", j, c.Name, tb.Columns[j])
				}
			}
			const n = 3000
			out := sample(t, m, n, 0, 1, 17, model.SampleOptions{})
			if len(out) != n {
				t.Fatalf("%d rows, want %d", len(out), n)
			}
			t.Run("missing values only where the source has them", func(t *testing.T) {
				for j, name := range tb.Columns {
					if p.Col(name).Missing > 0 {
						continue
					}
					for _, r := range out {
						if r[j] == "" {
							t.Fatalf("%s: a missing cell in a column the source has complete", name)
						}
					}
				}
			})
			t.Run("formats", func(t *testing.T) {
				for j, name := range tb.Columns {
					keys := map[string]bool{}
					for _, r := range out {
						v := r[j]
						if v == "" && p.Col(name).Missing > 0 {
							continue // missingness is checked above
						}
						if kind == dp.KindDP && v == dp.DefaultOtherLabel {
							continue // known: dp's unreleased-category bin (issue 11 deliverable 2, branch h11dp)
						}
						if !formats[name].MatchString(v) {
							t.Fatalf("%s: %q not in the source's format %s", name, v, formats[name])
						}
						if f := checks[name]; f != nil && !f(v) {
							t.Fatalf("%s: %q fails its check", name, v)
						}
						if p.Col(name).Kind == profile.ID {
							if keys[v] {
								t.Fatalf("%s: key %q repeated", name, v)
							}
							keys[v] = true
						}
					}
				}
			})
			t.Run("relations kept", func(t *testing.T) {
				// The target of issue 11: a relation holding in ≥ 99% of
				// real rows holds in ≥ 99% of tree and dp rows, 95% of
				// copula rows.
				want := 0.99
				if kind == synth.KindCopula {
					want = 0.95
				}
				real, syn := profile.RelationColumns(tb.Rows, p), profile.RelationColumns(out, p)
				for _, r := range p.Relations {
					rs, ss, err := relations.Measure(r, real, syn)
					if err != nil {
						t.Fatal(err)
					}
					t.Logf("%s: real %.4f, synthetic %.4f", r, rs.Rate, ss.Rate)
					if rs.Rate >= 0.99 && ss.Rate < want {
						t.Errorf("%s holds in %.4f of real rows but %.4f of synthetic rows, want ≥ %v", r, rs.Rate, ss.Rate, want)
					}
				}
				// Trips keep their length, not just their sign: real ones
				// last 5 to 108 minutes. dp measures the gap's histogram
				// under its budget (buckets of up to 2^(1/2) whose range
				// noise may widen by one), so it is held to the range
				// widened by that much, in all but 2% of rows.
				lo, hi, allowed := 5*time.Minute, 108*time.Minute, 0
				if kind == dp.KindDP {
					lo, hi, allowed = 3*time.Minute, 153*time.Minute, len(out)/50
				}
				s, e := slices.Index(tb.Columns, "start"), slices.Index(tb.Columns, "end")
				long := 0
				for _, r := range out {
					a, _ := time.Parse("2006-01-02 15:04", r[s])
					b, _ := time.Parse("2006-01-02 15:04", r[e])
					if d := b.Sub(a); d < lo || d > hi {
						long++
					}
				}
				if long > allowed {
					t.Errorf("%d of %d trips outside the lengths %v–%v", long, len(out), lo, hi)
				}
			})
			t.Run("determinism and shards", func(t *testing.T) {
				again := sample(t, m, n, 0, 1, 17, model.SampleOptions{})
				if !slices.EqualFunc(out, again, slices.Equal) {
					t.Fatal("same seed, different rows")
				}
				var joined [][]string
				for s := range 3 {
					joined = append(joined, sample(t, m, n, s, 3, 17, model.SampleOptions{})...)
				}
				if !slices.EqualFunc(out, joined, slices.Equal) {
					t.Fatal("3 shards concatenated differ from 1 shard")
				}
				other := sample(t, m, 200, 0, 1, 18, model.SampleOptions{})
				if slices.EqualFunc(out[:200], other, slices.Equal) {
					t.Fatal("another seed, same rows")
				}
			})
			t.Run("conditions and rules", func(t *testing.T) {
				plan, age := slices.Index(tb.Columns, "plan"), slices.Index(tb.Columns, "age")
				opts := model.SampleOptions{
					Fixed: map[string]string{"plan": "pro"},
					Accept: func(r []string) bool {
						a, err := strconv.Atoi(r[age])
						return err == nil && a >= 30
					},
				}
				for _, r := range sample(t, m, 500, 0, 1, 5, opts) {
					if r[plan] != "pro" {
						t.Fatalf("fixed plan=pro, got %q", r[plan])
					}
					if a, _ := strconv.Atoi(r[age]); a < 30 {
						t.Fatalf("rule age >= 30, got %q", r[age])
					}
				}
			})
			t.Run("save and load", func(t *testing.T) {
				var buf bytes.Buffer
				if err := model.Save(&buf, m); err != nil {
					t.Fatal(err)
				}
				m2, err := model.Load(&buf)
				if err != nil {
					t.Fatal(err)
				}
				if m2.Kind() != kind {
					t.Fatalf("loaded kind %s", m2.Kind())
				}
				if !slices.EqualFunc(out[:500], sample(t, m2, 500, 0, 1, 17, model.SampleOptions{}), slices.Equal) {
					t.Fatal("loaded model samples differently")
				}
			})
		})
	}
}

func TestRegistryErrors(t *testing.T) {
	t.Parallel()
	tb := allKinds(100)
	p, _ := profile.Infer(tb, profile.Options{})
	if _, err := model.Fit(context.Background(), tb, p, model.Options{Kind: "gan"}); !errors.Is(err, model.ErrKind) {
		t.Errorf("unknown kind: %v", err)
	}
	if _, err := model.Fit(context.Background(), tb, p, model.Options{Kind: dp.KindDP}); err == nil {
		t.Error("dp without a budget must fail")
	}
	if _, err := model.Load(strings.NewReader("not a model")); !errors.Is(err, model.ErrKind) {
		t.Errorf("junk file: %v", err)
	}
	var buf bytes.Buffer
	m, err := model.Fit(context.Background(), tb, p, model.Options{})
	if err != nil || m.Kind() != synth.KindTree {
		t.Fatalf("default kind: %v %v", m, err)
	}
	_ = model.Save(&buf, m)
	if _, err := model.Load(bytes.NewReader(buf.Bytes()[:buf.Len()/2])); err == nil {
		t.Error("a truncated file loads")
	}
}

func TestFitWithReservedRhoWins(t *testing.T) {
	t.Parallel()
	tb := allKinds(300)
	p, _ := profile.Infer(tb, profile.Options{})
	m, err := model.Fit(context.Background(), tb, p, model.Options{Kind: dp.KindDP, Epsilon: 5, Rho: 0.02, Seed: 1})
	if err != nil {
		t.Fatalf("epsilon and a reserved rho together: %v", err)
	}
	if got := model.Unwrap(m).(*dp.Model).Report.Rho; got > 0.02+1e-12 {
		t.Errorf("spent rho %v, more than the reserved 0.02", got)
	}
}
