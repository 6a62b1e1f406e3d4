package privacy

import (
	"math"
	"testing"

	"synthos.dev/synthos/shared/profile"
)

// mixedProfile describes the columns of the hand-computed distance tests.
func mixedProfile() *profile.Profile {
	return &profile.Profile{Version: 1, Columns: []profile.Column{
		{Name: "num", Kind: profile.Numeric},
		{Name: "day", Kind: profile.Datetime, Format: "2006-01-02"},
		{Name: "color", Kind: profile.Categorical, MissingTokens: []string{"?"}},
		{Name: "flag", Kind: profile.Boolean, TrueToken: "yes", FalseToken: "no"},
		{Name: "id", Kind: profile.ID},
	}}
}

// TestDistance checks the Gower distance on hand-computed pairs. The train
// range is 10 for num and 10 days for day; id is not modelled, so every
// distance is a sum over four columns divided by 4.
func TestDistance(t *testing.T) {
	t.Parallel()
	train := tbl("num,day,color,flag,id",
		"0,2024-01-01,red,yes,A1",
		"10,2024-01-11,blue,no,A2",
		",2024-01-06,?,YES,A3", // num and color missing; YES is yes
	)
	holdout := tbl("id,num,day,color,flag", "H,5,2024-01-01,red,no") // column order differs
	synth := tbl("num,day,color,flag,id",
		"20,2024-01-01,red,yes,Z", // 2 ranges away: capped at 1
		"5,2024-01-01,green,yes,Z",
		"abc, 2024-01-06 ,?,yes,Z", // unparseable number counts as missing
	)
	e, err := encode(train, holdout, synth, mixedProfile())
	if err != nil {
		t.Fatal(err)
	}
	if got := e.s.names(); len(got) != 4 || got[0] != "num" || got[3] != "flag" {
		t.Fatalf("modelled columns %v, want num day color flag", got)
	}
	if e.invalid["num"] != 1 {
		t.Errorf("invalid synthetic num cells = %d, want 1", e.invalid["num"])
	}
	tests := []struct {
		name string
		a    *matrix
		i    int
		b    *matrix
		j    int
		want float64
	}{
		{"self", e.train, 0, e.train, 0, 0},
		{"all differ", e.train, 0, e.train, 1, 1},
		{"missing vs present, half range, bool case", e.train, 0, e.train, 2, (1 + 0.5 + 1 + 0) / 4},
		{"missing vs missing", e.train, 2, e.synth, 2, (0 + 0 + 0 + 0) / 4},
		{"beyond range capped", e.synth, 0, e.train, 0, 1.0 / 4},
		{"new category", e.synth, 1, e.train, 0, (0.5 + 1) / 4},
		{"across tables, reordered columns", e.holdout, 0, e.train, 0, (0.5 + 1) / 4},
		{"symmetric", e.train, 0, e.holdout, 0, (0.5 + 1) / 4},
	}
	w := float64(e.s.width())
	for _, tt := range tests {
		if got := float64(tt.a.dist(tt.i, tt.b, tt.j)) / w; math.Abs(got-tt.want) > 1e-6 {
			t.Errorf("%s: distance %v, want %v", tt.name, got, tt.want)
		}
	}
	if !e.train.equal(2, e.train, 2) || e.train.equal(0, e.holdout, 0) {
		t.Error("equal: wrong answer on a row with missing cells or on different rows")
	}
}

// TestProject checks that a projection keeps the chosen columns and hashes
// equal rows alike.
func TestProject(t *testing.T) {
	t.Parallel()
	m := &matrix{n: 2, nNum: 2, nCat: 2,
		num: []float32{0.5, 1, 0.5, 0}, cat: []int32{3, 1, 3, 2}}
	m.rehash()
	if m.hash[0] == m.hash[1] {
		t.Fatal("different rows hash alike")
	}
	p := m.project([]int{0}, []int{0})
	if p.nNum != 1 || p.nCat != 1 || p.hash[0] != p.hash[1] || !p.equal(0, p, 1) {
		t.Errorf("projection on the shared columns: %+v", p)
	}
}

// TestDatetimeDefaultLayout checks that a datetime column without a format
// is read as RFC 3339, far outside the years time.UnixNano can hold.
func TestDatetimeDefaultLayout(t *testing.T) {
	t.Parallel()
	p := &profile.Profile{Version: 1, Columns: []profile.Column{{Name: "at", Kind: profile.Datetime}}}
	tb := column("at", "1500-01-01T00:00:00Z", "2500-01-01T00:00:00Z", "2000-01-01T00:00:00Z")
	e, err := encode(tb, tb, tb, p)
	if err != nil {
		t.Fatal(err)
	}
	if d := e.train.dist(0, e.train, 1); d != 1 {
		t.Errorf("distance across the whole range = %v, want 1", d)
	}
	if d := e.train.dist(0, e.train, 2); !(d > 0.49 && d < 0.51) {
		t.Errorf("distance to the middle = %v, want about 0.5", d)
	}
	if len(e.invalid) != 0 {
		t.Errorf("invalid cells %v, want none", e.invalid)
	}
}
