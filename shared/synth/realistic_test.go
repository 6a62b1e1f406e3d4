package synth

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"strconv"
	"testing"
	"time"

	"synthos.dev/synthos/internal/cputime"
	"synthos.dev/synthos/shared/model"
	"synthos.dev/synthos/shared/profile"
	"synthos.dev/synthos/shared/table"
)

// This file makes two seeded tables of the kinds issue 11 (item 4) names, on
// which the tree model's discriminator AUC was far above chance: a table of
// trips with two timestamps and a table of continuous measurements from
// instruments of finite resolution. Neither is downloaded; both are drawn
// from generators written to have what such data has in the wild.

// tripsTable returns n trips of a bike and scooter share: a start time at
// whole seconds with daily and weekly rhythms; start and end stations with
// their coordinates (a docked classic bike reports its station's, an
// electric bike or scooter its GPS fix, six decimals either way); a
// distance of the route between them; an end time that distance later at
// the vehicle's speed; a fare of a base plus a per-km and a per-minute rate
// in cents, with a rush-hour surge; and a few categorical columns. Without
// withStations false, the station and coordinate columns are left out (the trips
// still run between stations).
func tripsTable(seed uint64, n int, withStations bool) *table.Table {
	// The stations are the same whatever the seed.
	srng := rand.New(rand.NewPCG(41, 42))
	type station struct {
		name     string
		lat, lng float64
		pop      float64
	}
	var stations []station
	popCum := []float64{}
	acc := 0.0
	for i := range 48 {
		r := 0.045 * math.Sqrt(srng.Float64()) // within about 5 km of the centre
		a := srng.Float64() * 2 * math.Pi
		st := station{name: fmt.Sprintf("Station %02d", i+1), lat: 41.8819 + r*math.Sin(a), lng: -87.6278 + 1.34*r*math.Cos(a), pop: math.Exp(srng.NormFloat64())}
		stations = append(stations, st)
		acc += st.pop
		popCum = append(popCum, acc)
	}
	rng := rand.New(rand.NewPCG(seed, 0x7269707321))
	base := time.Date(2023, 3, 1, 0, 0, 0, 0, time.UTC)
	days := 92
	// Hour-of-day weights: commuting peaks on weekdays, a midday hump on
	// weekends.
	weekday := []float64{1, .5, .3, .2, .3, 1, 3, 7, 9, 5, 4, 4.5, 5, 4.5, 4.5, 5.5, 7.5, 9.5, 7, 5, 4, 3, 2.5, 1.5}
	weekend := []float64{2, 1.5, 1, .5, .3, .3, .6, 1.2, 2.5, 4, 5.5, 6.5, 7, 7, 6.5, 6, 5.5, 5, 4.5, 4, 3.5, 3, 2.5, 2}
	cum := func(w []float64) []float64 {
		out := make([]float64, len(w))
		acc := 0.0
		for i, x := range w {
			acc += x
			out[i] = acc
		}
		return out
	}
	wdCum, weCum := cum(weekday), cum(weekend)
	vehicles := []string{"classic", "classic", "classic", "electric", "electric", "scooter"}
	payments := []string{"card", "card", "card", "app", "app", "cash"}
	km := func(a, b station) float64 {
		dy := (a.lat - b.lat) * 111.2
		dx := (a.lng - b.lng) * 111.2 * math.Cos(a.lat*math.Pi/180)
		return math.Hypot(dx, dy)
	}
	coord := func(v float64) string { return strconv.FormatFloat(v, 'f', 6, 64) }
	t := &table.Table{Columns: []string{"trip_id", "started_at", "ended_at", "vehicle", "member", "start_station", "start_lat", "start_lng",
		"end_station", "end_lat", "end_lng", "distance_km", "fare", "payment", "rating"}}
	for i := range n {
		var day int
		for {
			day = rng.IntN(days)
			wd := base.AddDate(0, 0, day).Weekday()
			// fewer trips on weekends and a rising season
			p := 0.7 + 0.3*float64(day)/float64(days)
			if wd == time.Saturday || wd == time.Sunday {
				p *= 0.75
			}
			if rng.Float64() < p {
				break
			}
		}
		d := base.AddDate(0, 0, day)
		c := wdCum
		wknd := d.Weekday() == time.Saturday || d.Weekday() == time.Sunday
		if wknd {
			c = weCum
		}
		hour := searchCum(c, rng.Float64()*c[len(c)-1])
		start := d.Add(time.Duration(hour)*time.Hour + time.Duration(rng.IntN(3600))*time.Second)
		veh := vehicles[rng.IntN(len(vehicles))]
		member := rng.Float64() < 0.62
		from := stations[searchCum(popCum, rng.Float64()*acc)]
		// The end station: popular ones and near ones are likelier; casual
		// riders often come back where they started.
		var to station
		if !member && rng.Float64() < 0.15 {
			to = from
		} else {
			for {
				to = stations[searchCum(popCum, rng.Float64()*acc)]
				if to != from && rng.Float64() < math.Exp(-km(from, to)/2.5) {
					break
				}
			}
		}
		route := 1.3 * km(from, to) * math.Exp(0.1*rng.NormFloat64())
		if to == from {
			route = 1 + 4*rng.Float64()
		}
		speed := map[string]float64{"classic": 13, "electric": 18, "scooter": 15}[veh] * math.Exp(0.2*rng.NormFloat64())
		durSec := route/speed*3600 + 30 + 60*rng.ExpFloat64()
		if !member && rng.Float64() < 0.2 { // a stop on the way
			durSec += 600 * rng.ExpFloat64()
		}
		end := start.Add(time.Duration(int64(durSec)) * time.Second)
		dist := math.Round(route*100) / 100
		perKm := map[string]float64{"classic": 0.85, "electric": 1.25, "scooter": 1.10}[veh]
		baseFare := 1.50
		if member {
			baseFare, perKm = 0, perKm*0.8
		}
		fare := baseFare + perKm*dist + 0.05*math.Floor(durSec/60)
		if !wknd && (hour == 8 || hour == 17 || hour == 18) {
			fare *= 1.25
		}
		fare = math.Round(fare*100) / 100
		pay := payments[rng.IntN(len(payments))]
		if member {
			pay = "app"
		}
		rating := ""
		if rng.Float64() < 0.35 {
			r := 5 - int(math.Abs(rng.NormFloat64())*1.2)
			rating = strconv.Itoa(max(1, r))
		}
		fix := func(st station) (float64, float64) {
			if veh == "classic" {
				return st.lat, st.lng
			}
			return st.lat + 0.0003*rng.NormFloat64(), st.lng + 0.0004*rng.NormFloat64()
		}
		slat, slng := fix(from)
		elat, elng := fix(to)
		t.Rows = append(t.Rows, []string{
			fmt.Sprintf("T%07d", 1000000+int(seed%7)*100000+i),
			start.Format("2006-01-02 15:04:05"),
			end.Format("2006-01-02 15:04:05"),
			veh,
			strconv.FormatBool(member),
			from.name, coord(slat), coord(slng),
			to.name, coord(elat), coord(elng),
			strconv.FormatFloat(dist, 'f', 2, 64),
			strconv.FormatFloat(fare, 'f', 2, 64),
			pay,
			rating,
		})
	}
	if !withStations {
		keep := []int{0, 1, 2, 3, 4, 11, 12, 13, 14}
		out := &table.Table{}
		for _, j := range keep {
			out.Columns = append(out.Columns, t.Columns[j])
		}
		for _, r := range t.Rows {
			nr := make([]string, len(keep))
			for i, j := range keep {
				nr[i] = r[j]
			}
			out.Rows = append(out.Rows, nr)
		}
		return out
	}
	return t
}

// sensorsTable returns n readings of indoor climate stations: correlated
// temperature, humidity, pressure, CO2, particulate and supply-voltage
// columns written with 0 to 4 decimals, each quantised by its instrument
// (0.1 °C, whole percent, 0.25 hPa, 5 ppm, a 12-bit ADC whose volts are
// written with four decimals), many tied values, a few outliers, and some
// readings repeated whole (a logger re-sending a record).
func sensorsTable(seed uint64, n int) *table.Table {
	rng := rand.New(rand.NewPCG(seed, 0x73656e73))
	stations := []string{"S01", "S02", "S03", "S04", "S05", "S06", "S07", "S08"}
	offset := []float64{0, 1.5, -1, 2.2, 0.4, -2, 1, 3}
	t := &table.Table{Columns: []string{"station", "room", "temp_c", "humidity_pct", "dew_point_c", "abs_humidity", "pressure_hpa", "co2_ppm", "pm25", "vbat", "status"}}
	rooms := []string{"office", "lab", "storage", "hall"}
	for len(t.Rows) < n {
		if len(t.Rows) > 0 && rng.Float64() < 0.02 { // a re-sent record
			t.Rows = append(t.Rows, append([]string(nil), t.Rows[rng.IntN(len(t.Rows))]...))
			continue
		}
		s := rng.IntN(len(stations))
		room := rooms[s%len(rooms)]
		hour := rng.Float64() * 24
		occupied := hour > 8 && hour < 18 && rng.Float64() < 0.8
		temp := 20.5 + offset[s] + 2.2*math.Sin((hour-9)/24*2*math.Pi) + 0.6*rng.NormFloat64()
		if room == "storage" {
			temp -= 3
		}
		hum := 48 - 1.8*(temp-21) + 4*rng.NormFloat64()
		press := 1013.2 + 6*math.Sin(float64(s)) + 3*rng.NormFloat64()
		co2 := 420 + 30*rng.ExpFloat64()
		if occupied {
			co2 += 350 + 150*rng.NormFloat64() + 8*(hum-48)
		}
		pm := math.Max(0, 4+3*rng.ExpFloat64()*math.Max(0.2, co2/700))
		if rng.Float64() < 0.003 { // a dust event
			pm += 80 + 100*rng.Float64()
		}
		volt := 3.6 - 0.012*(25-temp) - 0.3*rng.Float64()
		if rng.Float64() < 0.002 { // a brown-out reading
			volt = 2.1 + 0.2*rng.Float64()
		}
		status := "ok"
		switch {
		case volt < 3.35:
			status = "low_battery"
		case rng.Float64() < 0.01:
			status = "recalibrate"
		}
		adc := math.Round(volt / 3.3 * 4095 / 1.2) // a divider into a 12-bit ADC
		// Derived readings the station computes from its own rounded ones:
		// the dew point (Magnus) and the absolute humidity in g/m³.
		tr, hr := math.Round(temp*10)/10, math.Round(min(100, max(5, hum)))
		g := math.Log(hr/100) + 17.62*tr/(243.12+tr)
		dew := 243.12 * g / (17.62 - g)
		abs := 6.112 * math.Exp(17.67*tr/(tr+243.5)) * hr * 2.1674 / (273.15 + tr)
		t.Rows = append(t.Rows, []string{
			stations[s],
			room,
			strconv.FormatFloat(tr, 'f', 1, 64),
			strconv.Itoa(int(hr)),
			strconv.FormatFloat(math.Round(dew*10)/10, 'f', 1, 64),
			strconv.FormatFloat(math.Round(abs*100)/100, 'f', 2, 64),
			strconv.FormatFloat(math.Round(press*4)/4, 'f', 2, 64),
			strconv.Itoa(int(5 * math.Round(max(380, co2)/5))),
			strconv.FormatFloat(math.Round(pm*10)/10, 'f', 1, 64),
			strconv.FormatFloat(adc*3.3*1.2/4095, 'f', 4, 64),
			status,
		})
	}
	return t
}

// TestDiscriminatorRealistic fits the tree model, as the product does
// (model.Fit keeps the profile's relations), on the generated tables and
// checks, against a holdout drawn from the same generator, how well a
// discriminator tells the sample from real rows, with no more copying than
// the guards allow (DCR share at most 0.53, no more identical rows than
// the holdout has):
//
//   - trips: the official AUC lies in [0.45, 0.60]; given only distance and
//     fare it is at most 0.55 (0.576 before leaf lines); trip durations
//     keep the source's median within 15%.
//   - stations (the trips with station names and coordinates): the
//     official AUC lies in [0.45, 0.60] (0.703 before leaf groups and
//     lines, 0.642 before the tree drew the distance along the great-circle
//     distance of a discovered geodesic relation, geo.go); given only a
//     station's coordinates, a station and its longitude, or a vehicle and
//     a latitude it is at most 0.58 (0.71, 0.63, 0.645 before), and given
//     both points and the distance at most 0.62 (0.685 before geo.go).
//   - sensors: the official AUC lies in [0.45, 0.60], every pressure and
//     CO2 value lies on its column's steps and every battery voltage is one
//     the source recorded (before lattice.go, 889, 3,426 and 16,996 of
//     43,000 were not).
func TestDiscriminatorRealistic(t *testing.T) {
	if testing.Short() {
		t.Skip("fidelity run is long")
	}
	ctx := context.Background()
	for _, name := range []string{"trips", "stations", "sensors"} {
		t.Run(name, func(t *testing.T) {
			train, hold := realisticTables(name)
			p, err := profile.Infer(train, profile.Options{})
			if err != nil {
				t.Fatal(err)
			}
			m, err := model.Fit(ctx, train, p, model.Options{Kind: KindTree, Seed: 1})
			if err != nil {
				t.Fatal(err)
			}
			syn := sampleTable(t, m, int64(len(train.Rows)), 1)
			s := measure(t, train, hold, syn, p)
			t.Logf("%s: discriminator AUC %.4f, column shapes %.4f, column pair trends %.4f, DCR share %.4f, identical %.5f (holdout %.5f)",
				name, s.auc, s.shapes, s.pairs, s.dcrShare, s.identical, s.baseIdentical)
			lo, hi := 0.45, 0.60
			if s.auc < lo || s.auc > hi || s.dcrShare > 0.53 || s.identical > s.baseIdentical {
				t.Errorf("%s: AUC %.4f not in [%.2f, %.2f], or DCR share %.4f above 0.53, or copies", name, s.auc, lo, hi, s.dcrShare)
			}
			type subset struct {
				cols  []string
				limit float64
			}
			subsets := map[string][]subset{
				"trips": {{[]string{"distance_km", "fare"}, 0.55}},
				"stations": {{[]string{"start_lat", "start_lng"}, 0.58}, {[]string{"end_lat", "end_lng"}, 0.58}, {[]string{"start_station", "start_lng"}, 0.58},
					{[]string{"end_station", "end_lat"}, 0.58}, {[]string{"vehicle", "start_lat"}, 0.58}, {[]string{"vehicle", "end_lng"}, 0.58},
					{[]string{"start_lat", "start_lng", "end_lat", "end_lng", "distance_km"}, 0.62}},
			}[name]
			for _, sub := range subsets {
				a := featureAUC(t, hold, syn, p, sub.cols...)
				t.Logf("discriminator on %v: AUC %.4f", sub.cols, a)
				if a > sub.limit {
					t.Errorf("discriminator on %v: AUC %.4f, want at most %.2f", sub.cols, a, sub.limit)
				}
			}
			switch name {
			case "trips":
				real, got := medianDuration(t, hold), medianDuration(t, syn)
				t.Logf("median trip duration: real %.0f s, synthetic %.0f s", real, got)
				if math.Abs(got-real) > 0.15*real {
					t.Errorf("median trip duration %.0f s, real %.0f s", got, real)
				}
			case "sensors":
				for _, col := range []string{"pressure_hpa", "co2_ppm"} {
					step := map[string]float64{"pressure_hpa": 0.25, "co2_ppm": 5}[col]
					off := 0
					for _, r := range syn.Rows {
						v, _ := strconv.ParseFloat(r[syn.Col(col)], 64)
						if x := v / step; math.Abs(x-math.Round(x)) > 1e-9 {
							off++
						}
					}
					if off > 0 {
						t.Errorf("%s: %d of %d synthetic values off the source's steps of %v", col, off, len(syn.Rows), step)
					}
				}
				// The battery voltage comes from a 12-bit converter: its
				// values are no lattice of the written unit, but every
				// synthetic one must be a value the source recorded.
				seen := map[string]bool{}
				j := train.Col("vbat")
				for _, r := range train.Rows {
					seen[r[j]] = true
				}
				off := 0
				for _, r := range syn.Rows {
					if !seen[r[syn.Col("vbat")]] {
						off++
					}
				}
				if off > 0 {
					t.Errorf("vbat: %d of %d synthetic values the converter cannot produce", off, len(syn.Rows))
				}
			}
		})
	}
}

// medianDuration is the median of ended_at - started_at in seconds.
func medianDuration(tb testing.TB, t *table.Table) float64 {
	tb.Helper()
	a, b := t.Col("started_at"), t.Col("ended_at")
	var d []float64
	for _, r := range t.Rows {
		s, err1 := time.Parse("2006-01-02 15:04:05", r[a])
		e, err2 := time.Parse("2006-01-02 15:04:05", r[b])
		if err1 != nil || err2 != nil {
			tb.Fatalf("bad timestamps %q %q", r[a], r[b])
		}
		d = append(d, e.Sub(s).Seconds())
	}
	slices.Sort(d)
	return d[len(d)/2]
}

// BenchmarkSampleTreeStations samples the tree model of the generated
// trips with stations, whose coordinates, distances, fares and end times
// draw through leaf groups and lines, on one goroutine.
func BenchmarkSampleTreeStations(b *testing.B) {
	train, _ := realisticTables("stations")
	p, err := profile.Infer(train, profile.Options{})
	if err != nil {
		b.Fatal(err)
	}
	m, err := Fit(context.Background(), train, p, FitOptions{Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	w := &csvDiscard{}
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cputime.Process()
	if err := m.Sample(context.Background(), int64(b.N), 0, 1, 1, SampleOptions{}, w); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N)/(cputime.Process()-cpu0).Seconds(), "rows/cpu-s")
}

// TestLeafLinksSaveLoad checks that a tree whose leaves have lines and
// groups samples the same rows after Save and Load, and that Load refuses
// a file whose links point at a column visited later or of the wrong kind.
func TestLeafLinksSaveLoad(t *testing.T) {
	train, _ := realisticTables("stations")
	p, err := profile.Infer(train, profile.Options{})
	if err != nil {
		t.Fatal(err)
	}
	m, err := Fit(context.Background(), train, p, FitOptions{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	tr := m.(*Tree)
	lines, groups, derived := 0, 0, 0
	for _, lk := range tr.Links {
		for _, ln := range lk.Lines {
			lines += int(min(ln.N, 1))
			for j := range ln.N {
				if int(ln.Parent[j]) >= len(tr.Carts) {
					derived++
				}
			}
		}
		for _, g := range lk.GroupParent {
			if g >= 0 {
				groups++
			}
		}
	}
	if lines == 0 || groups == 0 || derived == 0 || len(tr.Geo) != 1 {
		t.Fatalf("%d leaves with lines, %d with groups, %d lines on %d derived distances: want some of each, one distance", lines, groups, derived, len(tr.Geo))
	}
	var buf bytes.Buffer
	if err := Save(&buf, m); err != nil {
		t.Fatal(err)
	}
	loaded, err := Load(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	a, b := sampleTable(t, m, 2000, 7), sampleTable(t, loaded, 2000, 7)
	if !reflect.DeepEqual(a.Rows, b.Rows) {
		t.Fatal("a loaded model samples other rows")
	}
	// A line on the column itself (visited at its own position), a group
	// on a number column, a derived distance on one column twice or on a
	// level column are refused.
	for _, mutate := range []func(*Tree){
		func(m *Tree) {
			for k := range m.Links {
				for l := range m.Links[k].Lines {
					if m.Links[k].Lines[l].N > 0 {
						m.Links[k].Lines[l].Parent[0] = int32(k)
						return
					}
				}
			}
		},
		func(m *Tree) {
			for k := range m.Links {
				for l, g := range m.Links[k].GroupParent {
					if g >= 0 {
						m.Links[k].GroupParent[l] = int32(m.Order[0]) // started_at, a datetime
						return
					}
				}
			}
		},
		func(m *Tree) { m.Geo[0].Coords[1] = m.Geo[0].Coords[0] },
		func(m *Tree) { m.Geo[0].Coords[2] = 2 }, // vehicle
	} {
		bad, err := Load(bytes.NewReader(buf.Bytes()))
		if err != nil {
			t.Fatal(err)
		}
		mutate(bad.(*Tree))
		var out bytes.Buffer
		if err := Save(&out, bad); err != nil {
			t.Fatal(err)
		}
		if _, err := Load(bytes.NewReader(out.Bytes())); !errors.Is(err, ErrFormat) {
			t.Errorf("Load of a model with a bad leaf link: %v, want ErrFormat", err)
		}
	}
}
