package report

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"html"
	"regexp"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"synthos.dev/synthos/shared/gate"
	"synthos.dev/synthos/shared/privacy"
	"synthos.dev/synthos/shared/quality"
	"synthos.dev/synthos/shared/table"
)

// TestBuildAdult checks the report of unseen real rows against Adult: every
// score must sit near its ideal, so the gate passes and every verdict is
// good.
func TestBuildAdult(t *testing.T) {
	t.Parallel()
	r := builtAdult(t)
	if r.Version != Version || r.Quality == nil || r.Privacy == nil || r.Gate == nil {
		t.Fatalf("incomplete report: version %d, quality %v, privacy %v, gate %v", r.Version, r.Quality != nil, r.Privacy != nil, r.Gate != nil)
	}
	if !r.Gate.Pass {
		t.Errorf("gate failed on unseen real rows: %+v", r.Gate.Failures())
	}
	if got, want := len(r.Gate.Reasons), len(gate.Metrics); got != want {
		t.Errorf("gate has %d reasons, want one per metric (%d)", got, want)
	}
	if r.Inputs.Train.Rows != 19537 || r.Inputs.Holdout == nil || r.Inputs.Holdout.Rows != 6512 || r.Inputs.Synthetic.Rows != 6512 {
		t.Errorf("inputs = %+v", r.Inputs)
	}
	if s := r.Privacy.DCR.CloserToTrainShare; s < 0.45 || s > 0.55 {
		t.Errorf("DCR share of unseen rows = %.3f, want near 0.5", s)
	}
	if r.Quality.Efficacy == nil {
		t.Errorf("ML efficacy missing; notes %q", r.Quality.Notes)
	}
	want := map[string]string{"fidelity": "Faithful", "realism": "Realistic", "distance": "Safe", "membership": "Membership hidden"}
	for _, v := range r.Verdicts {
		if v.Level != LevelGood {
			t.Errorf("verdict %s is %s: %s", v.Aspect, v.Level, v)
		}
		if w, ok := want[v.Aspect]; ok {
			if v.Title != w {
				t.Errorf("verdict %s title = %q, want %q", v.Aspect, v.Title, w)
			}
			delete(want, v.Aspect)
		}
	}
	if len(want) > 0 {
		t.Errorf("verdicts missing: %v", want)
	}
}

// TestBuildNoHoldout: without a holdout there is no privacy report, and the
// gate fails the required privacy metrics instead of passing them.
func TestBuildNoHoldout(t *testing.T) {
	t.Parallel()
	in := adultInputs(t)
	in.Holdout = nil
	in.Quality.DiscriminatorRows = -1
	r, err := Build(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	if r.Privacy != nil || r.Inputs.Holdout != nil {
		t.Errorf("privacy evaluated without a holdout")
	}
	if r.Gate.Pass {
		t.Errorf("gate passed without privacy metrics")
	}
	failed := map[string]bool{}
	for _, f := range r.Gate.Failures() {
		failed[f.Metric] = true
		if f.Value != nil {
			t.Errorf("missing metric %s has a value", f.Metric)
		}
	}
	for _, m := range []string{gate.DiscriminatorAUC, gate.DCRShare, gate.IdenticalShare, gate.MembershipAUC, gate.PIILeakedCells} {
		if !failed[m] {
			t.Errorf("metric %s not failed as missing; failures %v", m, failed)
		}
	}
	var html bytes.Buffer
	if err := WriteHTML(&html, r); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(html.String(), `data-gate="fail"`) || !strings.Contains(html.String(), "no holdout table was given") {
		t.Errorf("HTML does not show the failed gate and the missing privacy section")
	}
}

func TestBuildErrors(t *testing.T) {
	t.Parallel()
	base := adultInputs(t)
	bad := gate.Default()
	bad.MaxDCRShare = 0.2
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name   string
		ctx    context.Context
		change func(in *Inputs)
		want   error
	}{
		{"nil train", context.Background(), func(in *Inputs) { in.Train = nil }, ErrInput},
		{"nil synthetic", context.Background(), func(in *Inputs) { in.Synthetic = nil }, ErrInput},
		{"invalid thresholds", context.Background(), func(in *Inputs) { in.Thresholds = &bad }, gate.ErrThresholds},
		{"unknown sensitive column", context.Background(), func(in *Inputs) { in.Sensitive = []string{"salary"} }, privacy.ErrInput},
		{"unknown target", context.Background(), func(in *Inputs) { in.Target = "salary" }, quality.ErrTarget},
		{"synthetic lacks a column", context.Background(), func(in *Inputs) {
			in.Synthetic = &table.Table{Columns: in.Synthetic.Columns[1:], Rows: [][]string{in.Synthetic.Rows[0][1:]}}
		}, nil},
		{"cancelled", cancelled, func(*Inputs) {}, context.Canceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := base
			tt.change(&in)
			_, err := Build(tt.ctx, in)
			if err == nil {
				t.Fatal("Build succeeded")
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("error %v, want %v", err, tt.want)
			}
		})
	}
}

// TestJSONSchema validates a real report against the embedded schema, and
// checks that the schema rejects reports that lack or corrupt what
// consumers read.
func TestJSONSchema(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	if err := WriteJSON(&buf, builtAdult(t)); err != nil {
		t.Fatal(err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(Schema()))
	if err != nil {
		t.Fatalf("schema is not JSON: %v", err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	if err := c.AddResource("report.schema.json", doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile("report.schema.json")
	if err != nil {
		t.Fatalf("compile schema: %v", err)
	}
	tests := []struct {
		name   string
		mutate func(m map[string]any)
		valid  bool
	}{
		{"as written", func(map[string]any) {}, true},
		{"without privacy", func(m map[string]any) { m["privacy"] = nil }, true},
		{"without quality (no real row meets the conditions)", func(m map[string]any) { m["quality"] = nil }, true},
		{"with conditions", func(m map[string]any) { m["inputs"].(map[string]any)["conditions"] = map[string]any{"sex": "Female"} }, true},
		{"no gate", func(m map[string]any) { delete(m, "gate") }, false},
		{"no quality", func(m map[string]any) { delete(m, "quality") }, false},
		{"future version", func(m map[string]any) { m["version"] = 2 }, false},
		{"bad created_at", func(m map[string]any) { m["created_at"] = "yesterday" }, false},
		{"score above 1", func(m map[string]any) { m["quality"].(map[string]any)["column_shapes"] = 1.5 }, false},
		{"unknown gate status", func(m map[string]any) {
			m["gate"].(map[string]any)["reasons"].([]any)[0].(map[string]any)["status"] = "maybe"
		}, false},
		{"privacy without DCR", func(m map[string]any) { delete(m["privacy"].(map[string]any), "dcr") }, false},
		{"no verdicts", func(m map[string]any) { m["verdicts"] = []any{} }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var m map[string]any
			if err := json.Unmarshal(buf.Bytes(), &m); err != nil {
				t.Fatal(err)
			}
			tt.mutate(m)
			err := sch.Validate(m)
			if tt.valid && err != nil {
				t.Errorf("valid report rejected: %v", err)
			}
			if !tt.valid && err == nil {
				t.Errorf("invalid report accepted")
			}
		})
	}
}

// TestHTMLSelfContained: the page references nothing outside itself, has a
// chart per column, and its CSP admits exactly its script.
func TestHTMLSelfContained(t *testing.T) {
	t.Parallel()
	r := builtAdult(t)
	var buf bytes.Buffer
	if err := WriteHTML(&buf, r); err != nil {
		t.Fatal(err)
	}
	page := buf.String()
	unescaped := html.UnescapeString(page)
	for _, bad := range []string{"http://", "https://", "//fonts.", "@import", "url(", "<link rel=\"stylesheet\"", "<script src", "<iframe", "<img"} {
		if strings.Contains(page, bad) {
			i := strings.Index(page, bad)
			t.Errorf("page contains %q: …%s…", bad, page[max(0, i-60):min(len(page), i+60)])
		}
	}
	for _, c := range r.Quality.Columns {
		if !strings.Contains(page, `data-chart="column:`+c.Name+`"`) {
			t.Errorf("no chart for column %s", c.Name)
		}
	}
	if len(r.Quality.Relations) == 0 {
		t.Error("adult's relations (education ↔ education-num, integer-valued columns) are not reported")
	}
	for _, rr := range r.Quality.Relations {
		// Unseen real rows keep every relation of the real rows.
		row := `<tr data-relation="` + html.EscapeString(rr.Relation) + `"><td><span class="chip pass">kept`
		if !strings.Contains(page, row) {
			t.Errorf("no kept row for relation %s (%+v)", rr.Relation, rr)
		}
	}
	for _, want := range []string{`data-chart="heatmap"`, `data-chart="distance:dcr"`, `data-chart="scale:dcr-share"`, `data-gate="pass"`, "Faithful", "Content-Security-Policy", "default-src 'none'"} {
		if !strings.Contains(unescaped, want) {
			t.Errorf("page lacks %s", want)
		}
	}
	if !strings.Contains(page, "<script>"+pageScript+"</script>") {
		t.Errorf("the page script was altered by escaping, so its CSP hash no longer matches")
	}
	if n := len(regexp.MustCompile(`<script`).FindAllString(page, -1)); n != 1 {
		t.Errorf("page has %d scripts, want 1", n)
	}
}

func TestWriteNil(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	if err := WriteJSON(&buf, nil); !errors.Is(err, ErrInput) {
		t.Errorf("WriteJSON(nil) = %v", err)
	}
	if err := WriteHTML(&buf, nil); !errors.Is(err, ErrInput) {
		t.Errorf("WriteHTML(nil) = %v", err)
	}
	// A report with nothing in it still renders, as a failed gate.
	buf.Reset()
	if err := WriteHTML(&buf, &Report{Version: Version}); err != nil {
		t.Fatalf("WriteHTML(empty report): %v", err)
	}
	if !strings.Contains(buf.String(), `data-gate="fail"`) {
		t.Errorf("an empty report does not show a failed gate")
	}
}

func TestGrade(t *testing.T) {
	t.Parallel()
	tests := []struct {
		x, good, limit float64
		higher         bool
		want           Level
	}{
		{0.95, 0.9, 0.85, true, LevelGood},
		{0.9, 0.9, 0.85, true, LevelGood},
		{0.87, 0.9, 0.85, true, LevelFair},
		{0.80, 0.9, 0.85, true, LevelPoor},
		{0.55, 0.6, 0.75, false, LevelGood},
		{0.70, 0.6, 0.75, false, LevelFair},
		{0.80, 0.6, 0.75, false, LevelPoor},
		{nan(), 0.6, 0.75, false, LevelPoor},
	}
	for _, tt := range tests {
		if got := grade(tt.x, tt.good, tt.limit, tt.higher); got != tt.want {
			t.Errorf("grade(%v, %v, %v, %v) = %s, want %s", tt.x, tt.good, tt.limit, tt.higher, got, tt.want)
		}
	}
}

func nan() float64 { var z float64; return z / z }

// BenchmarkBuildAdult times the whole evaluation at the platform's target
// size: 26,049 training, 6,512 holdout and 26,049 synthetic rows (the
// training rows with every column shuffled independently), default options.
func BenchmarkBuildAdult(b *testing.B) {
	train := loadCSV(b, "adult.train.csv")
	holdout := loadCSV(b, "adult.holdout.csv")
	in := Inputs{Train: train, Holdout: holdout, Synthetic: shuffledColumns(train, 3), Target: "income",
		Sensitive: []string{"income"}, Quasi: []string{"age", "sex", "race", "education"}, Seed: 1}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Build(context.Background(), in); err != nil {
			b.Fatal(err)
		}
	}
}
