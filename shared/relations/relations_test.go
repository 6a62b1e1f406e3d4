package relations

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"
)

func TestParseString(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in, want string
		kind     Kind
	}{
		{"start <= end", "start <= end", Order},
		{"end >= start", "start <= end", Order},
		{"place -> region", "place -> region", FD},
		{"total = net + tax", "total = net + tax", Sum},
		{"net = total - tax", "total = net + tax", Sum},
		{"amount = price * qty", "amount = price * qty", Product},
		{"bill = food + drinks + tip", "bill = food + drinks + tip", Sum},
		{"rate = km / hours", "rate = km / hours", Ratio},
		{" trip start  <=  trip-end ", "trip start <= trip-end", Order},
		{"length = end - start in minutes", "length = end - start in minutes", Elapsed},
		{"days = due - sent in days", "days = due - sent in days", Elapsed},
		{"net = total - tax in euros", "total = net + tax in euros", Sum},
		{"km >= geodesic(lat1, lng1, lat2, lng2) in km", "km >= geodesic(lat1, lng1, lat2, lng2) in km", Geodesic},
		{"len >= geodesic( a,b , c, d ) in mi", "len >= geodesic(a, b, c, d) in mi", Geodesic},
		{"x >= geodesic(a, b, c) in km", "geodesic(a, b, c) in km <= x", Order}, // three points: no geodesic
	} {
		r, err := Parse(tc.in)
		if err != nil {
			t.Fatalf("Parse(%q): %v", tc.in, err)
		}
		if r.Kind != tc.kind || r.String() != tc.want {
			t.Errorf("Parse(%q) = %s %q, want %s %q", tc.in, r.Kind, r, tc.kind, tc.want)
		}
	}
	for _, bad := range []string{"", "a<=b", "a <= ", "c = a", "c = a % b", "x => y", "c = a +  + b"} {
		if _, err := Parse(bad); !errors.Is(err, ErrRelation) {
			t.Errorf("Parse(%q): %v, want ErrRelation", bad, err)
		}
	}
}

// num and lev build columns.
func num(name string, dec int, v []float64) Column {
	return Column{Name: name, Kind: Number, Num: v, Decimals: dec}
}

func lev(name string, vals []string) Column {
	c := Column{Name: name, Kind: Level, Codes: make([]int32, len(vals))}
	idx := map[string]int32{}
	for i, v := range vals {
		if v == "" {
			c.Codes[i] = -1
			continue
		}
		k, ok := idx[v]
		if !ok {
			k = int32(len(c.Levels))
			idx[v] = k
			c.Levels = append(c.Levels, v)
		}
		c.Codes[i] = k
	}
	return c
}

func round(x float64, d int) float64 { p := math.Pow10(d); return math.Round(x*p) / p }

// known is a table whose relations are known: trips (start ≤ end), place →
// region, code ↔ label, total = net + tax, amount = price × qty,
// speed = km / hours, and columns that must relate to nothing: a key, an
// independent number, a nearly constant flag, and a weight whose range lies
// above every other number's (any pairing obeys "x ≤ weight").
func known(n int) []Column {
	rng := rand.New(rand.NewPCG(1, 2))
	cols := map[string][]float64{}
	levs := map[string][]string{}
	places := []string{"Leeds", "York", "Hull", "Bath", "Bristol", "Exeter"}
	for i := range n {
		start := 1.7e9 + float64(rng.IntN(30*86400))
		cols["start"] = append(cols["start"], start)
		cols["end"] = append(cols["end"], start+60*float64(5+rng.IntN(100)))
		net := round(10+rng.Float64()*490, 2)
		tax := round(net*0.2, 2)
		cols["net"] = append(cols["net"], net)
		cols["tax"] = append(cols["tax"], tax)
		cols["total"] = append(cols["total"], round(net+tax, 2))
		price, qty := round(1+rng.Float64()*20, 2), float64(1+rng.IntN(9))
		cols["price"] = append(cols["price"], price)
		cols["qty"] = append(cols["qty"], qty)
		cols["amount"] = append(cols["amount"], round(price*qty, 2))
		km, hours := round(1+rng.Float64()*300, 1), float64(1+rng.IntN(6))
		cols["km"] = append(cols["km"], km)
		cols["hours"] = append(cols["hours"], hours)
		cols["speed"] = append(cols["speed"], round(km/hours, 3))
		food, drinks, tip := round(5+rng.Float64()*60, 2), round(rng.Float64()*30, 2), float64(rng.IntN(8))
		cols["food"] = append(cols["food"], food)
		cols["drinks"] = append(cols["drinks"], drinks)
		cols["tip"] = append(cols["tip"], tip)
		cols["bill"] = append(cols["bill"], round(food+drinks+tip, 2))
		cols["noise"] = append(cols["noise"], rng.NormFloat64()*100)
		cols["weight"] = append(cols["weight"], 1e6+rng.Float64()*1e6)
		p := rng.IntN(len(places))
		levs["place"] = append(levs["place"], places[p])
		levs["region"] = append(levs["region"], []string{"North", "South"}[p%2])
		c := rng.IntN(5)
		levs["code"] = append(levs["code"], strconv.Itoa(c))
		levs["label"] = append(levs["label"], []string{"a", "b", "c", "d", "e"}[c])
		levs["key"] = append(levs["key"], fmt.Sprintf("K%d", i))
		flag := "y"
		if i == 7 {
			flag = "n"
		}
		levs["flag"] = append(levs["flag"], flag)
		levs["colour"] = append(levs["colour"], []string{"red", "blue", "green"}[rng.IntN(3)])
	}
	dec := map[string]int{"food": 2, "drinks": 2, "bill": 2, "net": 2, "tax": 2, "total": 2, "price": 2, "amount": 2, "km": 1, "speed": 3, "noise": 6, "weight": 6}
	var out []Column
	for _, name := range []string{"start", "end"} {
		out = append(out, Column{Name: name, Kind: Time, Num: cols[name]})
	}
	for _, name := range []string{"net", "tax", "total", "price", "qty", "amount", "km", "hours", "speed", "food", "drinks", "tip", "bill", "noise", "weight"} {
		out = append(out, num(name, dec[name], cols[name]))
	}
	for _, name := range []string{"place", "region", "code", "label", "key", "flag", "colour"} {
		out = append(out, lev(name, levs[name]))
	}
	return out
}

func TestDiscover(t *testing.T) {
	t.Parallel()
	cols := known(3000)
	var got []string
	for _, r := range Discover(cols, Options{}) {
		got = append(got, r.String())
		if r.Confidence < DefaultMinConfidence || r.Support != 3000 {
			t.Errorf("%s: confidence %v support %d", r, r.Confidence, r.Support)
		}
		if r.Kind == Order && r.Columns[0] == "start" {
			// Whole minutes from 5 to 104.
			if g := r.Gap; g == nil || g.Min != 300 || g.Max != 6240 || g.Median < 300 || g.Median > 6240 {
				t.Errorf("trip gap %+v", r.Gap)
			}
		}
	}
	want := []string{
		"start <= end",
		"tax <= net", "net <= total", "tax <= total",
		"place -> region", "code -> label", "label -> code",
		"price <= amount", "speed <= km", // qty and hours are at least 1
		// speed = km / hours within speed's rounding is also km = hours ×
		// speed within km's: the product is kept, the ratio left out.
		"total = net + tax", "amount = price * qty", "km = hours * speed",
		"food <= bill", // drinks and tips are small: "<= bill" follows from the ranges
		"bill = food + drinks + tip",
	}
	for _, w := range want {
		if !slices.Contains(got, w) {
			t.Errorf("missing %q", w)
		}
	}
	for _, g := range got {
		if !slices.Contains(want, g) {
			t.Errorf("unexpected %q", g)
		}
	}
}

func TestDiscoverConfidence(t *testing.T) {
	t.Parallel()
	// 2% of the trips end before they start: found at 0.95, not at 0.99.
	cols := known(2000)
	for r := 0; r < 40; r++ {
		cols[1].Num[r*50] = cols[0].Num[r*50] - 600
	}
	has := func(rels []Relation) bool {
		return slices.ContainsFunc(rels, func(r Relation) bool { return r.String() == "start <= end" })
	}
	if has(Discover(cols, Options{})) {
		t.Error("a 98% order found at 0.99")
	}
	if !has(Discover(cols, Options{MinConfidence: 0.95})) {
		t.Error("a 98% order not found at 0.95")
	}
	// Too few rows: nothing.
	if rels := Discover(known(MinSupport-1), Options{}); len(rels) != 0 {
		t.Errorf("%d relations on %d rows", len(rels), MinSupport-1)
	}
	// Columns of different lengths: nothing.
	cols = known(100)
	cols[0].Num = cols[0].Num[:50]
	if rels := Discover(cols, Options{}); rels != nil {
		t.Errorf("ragged columns: %v", rels)
	}
}

func TestMeasure(t *testing.T) {
	t.Parallel()
	real := known(1000)
	syn := known(1000)
	// Break 30 trips, 20 regions and 10 totals in the synthetic table; a
	// missing cell leaves a row out of the support.
	byName := func(name string) *Column {
		i := slices.IndexFunc(syn, func(c Column) bool { return c.Name == name })
		return &syn[i]
	}
	for r := 0; r < 30; r++ {
		byName("end").Num[r] = byName("start").Num[r] - 1
	}
	region := byName("region")
	for r := 0; r < 20; r++ {
		if region.Levels[region.Codes[r]] == "North" {
			region.Codes[r] = int32(slices.Index(region.Levels, "South"))
		} else {
			region.Codes[r] = int32(slices.Index(region.Levels, "North"))
		}
	}
	total := byName("total")
	for r := 0; r < 10; r++ {
		total.Num[r] += 0.01
	}
	total.Num[999] = math.NaN()
	// A region the real rows never hold is left out of the support.
	region.Levels = append(region.Levels, "Atlantis")
	region.Codes[500] = int32(len(region.Levels) - 1)
	for _, tc := range []struct {
		rel       string
		held, sup int
	}{
		{"start <= end", 970, 1000},
		{"place -> region", 979, 999},
		{"total = net + tax", 989, 999},
	} {
		r, _ := Parse(tc.rel)
		rs, ss, err := Measure(r, real, syn)
		if err != nil {
			t.Fatal(err)
		}
		if rs.Held != rs.Support || rs.Rate != 1 {
			t.Errorf("%s on real rows: %+v", r, rs)
		}
		if ss.Held != tc.held || ss.Support != tc.sup {
			t.Errorf("%s on synthetic rows: %+v, want %d of %d", r, ss, tc.held, tc.sup)
		}
	}
	for _, bad := range []string{"nope <= end", "start -> end", "place <= region"} {
		r, _ := Parse(bad)
		if _, _, err := Measure(r, real, syn); !errors.Is(err, ErrRelation) {
			t.Errorf("Measure(%s): %v", bad, err)
		}
	}
}

// BenchmarkDiscover50Kx40 discovers relations on a 50,000-row table of 40
// columns: 20 numeric, 10 datetime, 10 categorical, with a few relations.
func BenchmarkDiscover50Kx40(b *testing.B) {
	const n = 50_000
	rng := rand.New(rand.NewPCG(3, 4))
	var cols []Column
	for j := range 20 {
		v := make([]float64, n)
		for i := range v {
			v[i] = round(rng.Float64()*1000, 2)
		}
		cols = append(cols, num(fmt.Sprintf("n%d", j), 2, v))
	}
	for i := range n { // n2 = n0 + n1
		cols[2].Num[i] = round(cols[0].Num[i]+cols[1].Num[i], 2)
	}
	for j := range 10 {
		v := make([]float64, n)
		for i := range v {
			v[i] = 1.7e9 + float64(rng.IntN(1e7))
		}
		cols = append(cols, Column{Name: fmt.Sprintf("t%d", j), Kind: Time, Num: v})
	}
	for j := range 10 {
		v := make([]string, n)
		for i := range v {
			v[i] = strconv.Itoa(rng.IntN(5 + 5*j))
		}
		cols = append(cols, lev(fmt.Sprintf("c%d", j), v))
	}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if rels := Discover(cols, Options{}); len(rels) == 0 {
			b.Fatal("n2 = n0 + n1 not found")
		}
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "rows/s")
}

// TestDiscoverElapsed: a number that is the time between two datetimes, in
// the unit and rounding it is written with, is found once, in its unit;
// a number off by more than its rounding, or the time between other
// columns, is not.
func TestDiscoverElapsed(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(3, 4))
	n := 2000
	cols := map[string][]float64{}
	for range n {
		booked := 1.7e9 + float64(rng.IntN(30*86400))
		start := booked + 60*float64(rng.IntN(600))
		end := start + 60*float64(5+rng.IntN(100))
		cols["booked"] = append(cols["booked"], booked)
		cols["start"] = append(cols["start"], start)
		cols["end"] = append(cols["end"], end)
		cols["minutes"] = append(cols["minutes"], (end-start)/60)
		cols["hours"] = append(cols["hours"], round((end-start)/3600, 2))
		cols["lead_days"] = append(cols["lead_days"], round((start-booked)/86400, 3))
		cols["late"] = append(cols["late"], (end-start)/60+float64(1+rng.IntN(5)))
	}
	dec := map[string]int{"hours": 2, "lead_days": 3}
	var in []Column
	for _, name := range []string{"booked", "start", "end"} {
		in = append(in, Column{Name: name, Kind: Time, Num: cols[name]})
	}
	for _, name := range []string{"minutes", "hours", "lead_days", "late"} {
		in = append(in, num(name, dec[name], cols[name]))
	}
	var got []string
	for _, r := range Discover(in, Options{}) {
		if r.Kind == Elapsed {
			got = append(got, r.String())
			if r.Confidence < DefaultMinConfidence || r.Support != n {
				t.Errorf("%s: confidence %v support %d", r, r.Confidence, r.Support)
			}
		}
	}
	want := []string{
		"minutes = end - start in minutes",
		"hours = end - start in hours",
		"lead_days = start - booked in days",
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("elapsed relations %q, want %q", got, want)
	}
	// Measured on the same rows, each holds everywhere; with the end
	// moved, not.
	moved := slices.Clone(in)
	moved[2] = Column{Name: "end", Kind: Time, Num: slices.Clone(cols["end"])}
	for i := range moved[2].Num {
		moved[2].Num[i] += 3600
	}
	for _, w := range want {
		r, err := Parse(w)
		if err != nil {
			t.Fatal(err)
		}
		real, other, err := Measure(r, in, moved)
		if err != nil {
			t.Fatal(err)
		}
		if real.Rate != 1 {
			t.Errorf("%s holds in %.4f of its own rows", r, real.Rate)
		}
		if r.Columns[1] == "end" && other.Rate > 0.01 {
			t.Errorf("%s holds in %.4f of rows whose end moved an hour", r, other.Rate)
		}
	}
}

// journeys returns n trips between points of a city: start and end
// coordinates with six decimals (start latitude before longitude, end
// longitude before latitude), a route of 1.1 to 1.6 times the great-circle
// distance written in unit kilometres with two decimals, a fare, an integer
// rating and a distance paired with the points at random.
func journeys(n int, unit float64) []Column {
	rng := rand.New(rand.NewPCG(3, 4))
	v := map[string][]float64{}
	for range n {
		la1, lo1 := 53.8+0.05*rng.Float64(), -1.55+0.08*rng.Float64()
		la2, lo2 := 53.8+0.05*rng.Float64(), -1.55+0.08*rng.Float64()
		if rng.IntN(20) == 0 { // a round trip
			la2, lo2 = la1, lo1
		}
		route := (1.1 + 0.5*rng.Float64()) * GreatCircle(la1, lo1, la2, lo2)
		if la1 == la2 && lo1 == lo2 {
			route = 1 + 3*rng.Float64()
		}
		for name, x := range map[string]float64{"lat1": la1, "lng1": lo1, "lat2": la2, "lng2": lo2} {
			v[name] = append(v[name], round(x, 6))
		}
		v["dist"] = append(v["dist"], round(route/unit, 2))
		v["fare"] = append(v["fare"], round(2+0.9*route+3*rng.Float64(), 2))
		v["rating"] = append(v["rating"], float64(1+rng.IntN(5)))
		v["random"] = append(v["random"], round(10*rng.Float64(), 2))
	}
	dec := map[string]int{"lat1": 6, "lng1": 6, "lng2": 6, "lat2": 6, "dist": 2, "fare": 2, "random": 2}
	var out []Column
	for _, name := range []string{"rating", "lat1", "lng1", "dist", "lng2", "lat2", "fare", "random"} {
		out = append(out, num(name, dec[name], v[name]))
	}
	return out
}

// TestDiscoverGeodesic: a route's length is found as at least the
// great-circle distance between its points, in its own unit, once (not the
// fare, less tied to it; not a distance paired at random; not an integer
// rating taken for a coordinate), and measured.
func TestDiscoverGeodesic(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		unit float64
		want string
	}{
		{1, "dist >= geodesic(lat1, lng1, lat2, lng2) in km"},
		{1.609344, "dist >= geodesic(lat1, lng1, lat2, lng2) in mi"},
		{0.001, "dist >= geodesic(lat1, lng1, lat2, lng2) in m"},
	} {
		cols := journeys(2000, tc.unit)
		var got []string
		for _, r := range Discover(cols, Options{}) {
			if r.Kind != Geodesic {
				continue
			}
			got = append(got, r.String())
			if r.Confidence < DefaultMinConfidence || r.Ratio == nil || r.Ratio.Min < 1-1e-3 || r.Ratio.Median < 1.2 || r.Ratio.Median > 1.5 {
				t.Errorf("%s: confidence %v, ratio %+v", r, r.Confidence, r.Ratio)
			}
		}
		if !slices.Equal(got, []string{tc.want}) {
			t.Errorf("unit %v: geodesics %q, want %q", tc.unit, got, tc.want)
		}
		r, _ := Parse(tc.want)
		// Half the distances at a tenth of the great-circle one: measured
		// as broken.
		other := journeys(2000, tc.unit)
		for i := 0; i < 2000; i += 2 {
			other[3].Num[i] = round(other[3].Num[i]/10, 2)
		}
		rs, ss, err := Measure(r, cols, other)
		if err != nil {
			t.Fatal(err)
		}
		if rs.Rate < 0.999 || ss.Rate > 0.55 || ss.Rate < 0.45 {
			t.Errorf("%s: real %.4f, broken %.4f", r, rs.Rate, ss.Rate)
		}
	}
	// Points paired with distances at random: nothing.
	cols := journeys(2000, 1)
	rand.New(rand.NewPCG(5, 6)).Shuffle(2000, func(i, j int) { cols[3].Num[i], cols[3].Num[j] = cols[3].Num[j], cols[3].Num[i] })
	for _, r := range Discover(cols, Options{}) {
		if r.Kind == Geodesic && r.Columns[0] == "dist" {
			t.Errorf("shuffled distances: found %s", r)
		}
	}
}

func TestGreatCircle(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		lat1, lng1, lat2, lng2, km float64
	}{
		{0, 0, 0, 0, 0},
		{0, 0, 0, 1, 111.195},
		{51.5074, -0.1278, 48.8566, 2.3522, 343.56}, // London–Paris
		{0, 0, 0, 180, 20015.1},
	} {
		if got := GreatCircle(tc.lat1, tc.lng1, tc.lat2, tc.lng2); math.Abs(got-tc.km) > 0.01*max(1, tc.km)/10 {
			t.Errorf("GreatCircle(%v, %v, %v, %v) = %.3f, want %.3f", tc.lat1, tc.lng1, tc.lat2, tc.lng2, got, tc.km)
		}
	}
}

// BenchmarkGeodesicsScores: the geodesic search on 50,000 rows of 20
// scores in [-1, 1] written with four decimals, all of which look like
// coordinates (8 candidate points, 28 pairs read up to four ways), and 20
// other numbers: each candidate is screened on the first rows, so the
// search costs a few short passes, not one per candidate over every row.
func BenchmarkGeodesicsScores(b *testing.B) {
	const n = 50_000
	rng := rand.New(rand.NewPCG(5, 6))
	var cols []Column
	for j := range 40 {
		v := make([]float64, n)
		dec := 2
		for i := range v {
			if j < 20 {
				v[i], dec = round(2*rng.Float64()-1, 4), 4
			} else {
				v[i] = round(rng.Float64()*1000, 2)
			}
		}
		cols = append(cols, num(fmt.Sprintf("s%d", j), dec, v))
	}
	b.ResetTimer()
	for b.Loop() {
		if rels := geodesics(cols, n, DefaultMinConfidence); len(rels) != 0 {
			b.Fatalf("geodesics among random scores: %v", rels)
		}
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "rows/s")
}
