package profile

import (
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"strconv"
	"testing"

	"synthos.dev/synthos/internal/cputime"
)

// adultRows generates adult-shaped rows (15 columns: the census table's
// kinds, cardinalities and skews) on the fly from a seed, so a 10M-row
// input needs no file. The returned row is reused by the next call.
type adultRows struct {
	rng *rand.Rand
	row []string
}

var adultColumns = []string{"age", "workclass", "fnlwgt", "education", "education-num", "marital-status", "occupation",
	"relationship", "race", "sex", "capital-gain", "capital-loss", "hours-per-week", "native-country", "income"}

var (
	workclasses = []string{"Private", "Self-emp-not-inc", "Local-gov", "?", "State-gov", "Self-emp-inc", "Federal-gov", "Without-pay", "Never-worked"}
	educations  = []string{"HS-grad", "Some-college", "Bachelors", "Masters", "Assoc-voc", "11th", "Assoc-acdm", "10th", "7th-8th", "Prof-school", "9th", "12th", "Doctorate", "5th-6th", "1st-4th", "Preschool"}
	maritals    = []string{"Married-civ-spouse", "Never-married", "Divorced", "Separated", "Widowed", "Married-spouse-absent", "Married-AF-spouse"}
	occupations = []string{"Prof-specialty", "Craft-repair", "Exec-managerial", "Adm-clerical", "Sales", "Other-service", "Machine-op-inspct", "?", "Transport-moving", "Handlers-cleaners", "Farming-fishing", "Tech-support", "Protective-serv", "Priv-house-serv", "Armed-Forces"}
	relations_  = []string{"Husband", "Not-in-family", "Own-child", "Unmarried", "Wife", "Other-relative"}
	races       = []string{"White", "Black", "Asian-Pac-Islander", "Amer-Indian-Eskimo", "Other"}
	countries   = func() []string {
		c := []string{"United-States", "Mexico", "?", "Philippines", "Germany"}
		for i := len(c); i < 42; i++ {
			c = append(c, fmt.Sprintf("Country-%d", i))
		}
		return c
	}()
)

// skewed picks from vals, the first most often (about geometric).
func skewed(rng *rand.Rand, vals []string) string {
	return vals[min(int(rng.ExpFloat64()*1.2), len(vals)-1)]
}

func (a *adultRows) next() []string {
	r := a.rng
	if a.row == nil {
		a.row = make([]string, len(adultColumns))
	}
	edu := r.IntN(16)
	gain, loss := "0", "0"
	if r.IntN(12) == 0 {
		gain = strconv.Itoa(r.IntN(99_999) + 1)
	}
	if r.IntN(20) == 0 {
		loss = strconv.Itoa(r.IntN(4356) + 1)
	}
	income := "<=50K"
	if r.IntN(4) == 0 {
		income = ">50K"
	}
	a.row[0] = strconv.Itoa(17 + min(int(r.ExpFloat64()*15), 73))
	a.row[1] = skewed(r, workclasses)
	a.row[2] = strconv.Itoa(12_285 + r.IntN(1_472_420))
	a.row[3] = educations[edu]
	a.row[4] = strconv.Itoa(edu + 1)
	a.row[5] = skewed(r, maritals)
	a.row[6] = skewed(r, occupations)
	a.row[7] = skewed(r, relations_)
	a.row[8] = skewed(r, races)
	a.row[9] = []string{"Male", "Female"}[r.IntN(2)]
	a.row[10], a.row[11] = gain, loss
	a.row[12] = strconv.Itoa(1 + min(int(r.NormFloat64()*12+40), 98))
	a.row[13] = skewed(r, countries)
	a.row[14] = income
	return a.row
}

// heapInUse is the live heap after a full collection.
func heapInUse() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse
}

// streamPeak profiles n generated adult-shaped rows and returns the
// largest live heap seen (checked every checkEvery rows and after
// Profile) and the profile.
func streamPeak(tb testing.TB, n int) (uint64, *Profile) {
	tb.Helper()
	const checkEvery = 500_000
	base := heapInUse()
	s, err := NewStream(adultColumns, Options{Seed: 1})
	if err != nil {
		tb.Fatal(err)
	}
	gen := &adultRows{rng: rand.New(rand.NewPCG(2, 3))}
	var peak uint64
	for i := range n {
		if err := s.Add(gen.next()); err != nil {
			tb.Fatal(err)
		}
		if (i+1)%checkEvery == 0 {
			peak = max(peak, heapInUse()-base)
		}
	}
	p, err := s.Profile()
	if err != nil {
		tb.Fatal(err)
	}
	peak = max(peak, heapInUse()-base)
	runtime.KeepAlive(s)
	return peak, p
}

// TestStreamMemoryFlat profiles 1M and 10M adult-shaped rows generated on
// the fly and checks that the stream's peak live heap (runtime.MemStats
// HeapInuse after a collection, less the heap before it started) at 10M
// rows is within ±20% of that at 1M: profiling memory does not grow with
// the input. SYNTHOS_BIG=1 runs it (about a minute of CPU);
// SYNTHOS_BIG_PROFILE_ROWS=a,b sets other sizes.
func TestStreamMemoryFlat(t *testing.T) {
	if os.Getenv("SYNTHOS_BIG") != "1" {
		t.Skip("SYNTHOS_BIG=1 runs the profiling memory measurement")
	}
	sizes := []int{1_000_000, 10_000_000}
	if v := os.Getenv("SYNTHOS_BIG_PROFILE_ROWS"); v != "" {
		var a, b int
		if _, err := fmt.Sscanf(v, "%d,%d", &a, &b); err != nil || a <= 0 || b <= 0 {
			t.Fatalf("SYNTHOS_BIG_PROFILE_ROWS=%q: want two row counts, a,b", v)
		}
		sizes = []int{a, b}
	}
	peaks := make([]uint64, len(sizes))
	t.Logf("| input rows | peak live heap MiB | CPU s (process, cumulative) |")
	t.Logf("|---|---|---|")
	for i, n := range sizes {
		var p *Profile
		peaks[i], p = streamPeak(t, n)
		if p.Rows != n {
			t.Fatalf("profile of %d rows says %d", n, p.Rows)
		}
		t.Logf("| %d | %.1f | %.1f |", n, float64(peaks[i])/(1<<20), cputime.Process().Seconds())
	}
	if r := float64(peaks[1]) / float64(peaks[0]); r < 0.8 || r > 1.2 {
		t.Errorf("peak live heap %d rows / %d rows = %.2f, want within ±20%%", sizes[1], sizes[0], r)
	}
}

// BenchmarkStream is the stream's cost a row of an adult-shaped table,
// with its own reservoir and sharing its caller's sample (as package
// sample runs it).
func BenchmarkStream(b *testing.B) {
	for _, bb := range []struct {
		name string
		new  func([]string, Options) (*Stream, error)
	}{{"own-sample", NewStream}, {"shared-sample", NewSharedStream}} {
		b.Run(bb.name, func(b *testing.B) {
			s, err := bb.new(adultColumns, Options{Seed: 1})
			if err != nil {
				b.Fatal(err)
			}
			gen := &adultRows{rng: rand.New(rand.NewPCG(2, 3))}
			b.ReportAllocs()
			// The generator's own cost is measured apart and left out:
			// cpu-ns/op is the stream's CPU time a row (wall ns/op is
			// noisy on a loaded machine; CPU time is what a row costs
			// whatever the load).
			genCPU := cputime.Process().Seconds()
			warm := &adultRows{rng: rand.New(rand.NewPCG(4, 5))}
			for range 100_000 {
				warm.next()
			}
			genCPU = (cputime.Process().Seconds() - genCPU) / 100_000
			start := cputime.Process().Seconds()
			for b.Loop() {
				if err := s.Add(gen.next()); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(((cputime.Process().Seconds()-start)/float64(b.N)-genCPU)*1e9, "cpu-ns/op")
		})
	}
}
