package design

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"synthos.dev/synthos/shared/llm"
	"synthos.dev/synthos/shared/profile"
	"synthos.dev/synthos/shared/rules"
	"synthos.dev/synthos/shared/state/statetest"
	"synthos.dev/synthos/shared/table"
)

// countingModel is a fake model provider: it answers the design task with
// a fixed spec and counts every call it receives, whatever the task.
type countingModel struct {
	mu    sync.Mutex
	calls map[llm.Task]int
	spec  string
}

func (m *countingModel) Name() string { return "fake-model" }

func (m *countingModel) Generate(_ context.Context, req llm.Request) (llm.Response, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.calls == nil {
		m.calls = map[llm.Task]int{}
	}
	m.calls[req.Task]++
	if req.Task != llm.TaskDesign {
		return llm.Response{}, errors.New("unexpected task " + string(req.Task))
	}
	return llm.Response{Text: "Here is the spec:\n```json\n" + m.spec + "\n```", Usage: llm.Usage{InputTokens: 3000, OutputTokens: 2500}}, nil
}

func (m *countingModel) total() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for _, c := range m.calls {
		n += c
	}
	return n
}

// TestOneModelCallPerDesign is the target: with a model provider,
// designing a spec is exactly one model call and sampling its rows none.
func TestOneModelCallPerDesign(t *testing.T) {
	t.Parallel()
	pack, err := Pack("healthcare", PackOptions{Rows: 500, Features: []string{"readmissions"}})
	if err != nil {
		t.Fatal(err)
	}
	for i := range pack.Tables { // no text columns: rows need no model at all
		pack.Tables[i].Columns = withoutText(pack.Tables[i].Columns)
	}
	b, _ := json.Marshal(pack)
	model := &countingModel{spec: string(b)}
	rt := &llm.Router{Routes: []*llm.Route{{Provider: &llm.Client{Provider: model, Default: "claude-sonnet-4-5"}, DefaultQuality: 0.9}}}
	s, res, err := Design(context.Background(), rt, "tenant-1", "hospital encounters with readmissions", 20000)
	if err != nil {
		t.Fatal(err)
	}
	if model.total() != 1 || res.Repaired {
		t.Fatalf("%d model calls (repaired %v), want exactly 1", model.total(), res.Repaired)
	}
	if s.MainTable().Rows != 20000 {
		t.Errorf("main table %d rows, want 20000", s.MainTable().Rows)
	}
	mem := newMem()
	if _, err := Generate(context.Background(), s, Options{Seed: 2, Open: mem.open}); err != nil {
		t.Fatal(err)
	}
	if model.total() != 1 {
		t.Fatalf("sampling made %d model calls, want none", model.total()-1)
	}
	if len(mem.rows["encounters"]) != 20000 {
		t.Errorf("%d encounters", len(mem.rows["encounters"]))
	}
}

func withoutText(cols []Column) []Column {
	out := cols[:0]
	for _, c := range cols {
		if c.Kind != KindText {
			out = append(out, c)
		}
	}
	return out
}

func TestDesignRepairsABadAnswer(t *testing.T) {
	t.Parallel()
	good, _ := Pack("saas", PackOptions{Rows: 100})
	b, _ := json.Marshal(good)
	n := 0
	p := &scripted{answer: func(req llm.Request) string {
		n++
		if n == 1 {
			// compiles against the schema but the rules cannot hold
			var m map[string]any
			_ = json.Unmarshal(b, &m)
			tbl(m, 0)["rules"] = []any{map[string]any{"type": "range", "column": "employees", "min": 500000}}
			out, _ := json.Marshal(m)
			return string(out)
		}
		if !strings.Contains(req.Prompt, "rejected") {
			t.Error("repair prompt does not say why")
		}
		return string(b)
	}}
	rt := &llm.Router{Routes: []*llm.Route{{Provider: p}}}
	_, res, err := Design(context.Background(), rt, "t", "saas accounts", 0)
	if err != nil || !res.Repaired || n != 2 {
		t.Fatalf("err %v repaired %v calls %d", err, res.Repaired, n)
	}
}

type scripted struct{ answer func(llm.Request) string }

func (s *scripted) Name() string { return "scripted" }
func (s *scripted) Generate(_ context.Context, req llm.Request) (llm.Response, error) {
	return llm.Response{Text: s.answer(req)}, nil
}

func TestOfflineDesign(t *testing.T) {
	t.Parallel()
	rt := &llm.Router{Routes: []*llm.Route{{Provider: &llm.Offline{Handlers: map[llm.Task]func(context.Context, llm.Request) (string, error){llm.TaskDesign: OfflineDesign}}}}}
	s, res, err := Design(context.Background(), rt, "t", "10,000 e-commerce orders from EU customers, with returns", 0)
	if err != nil {
		t.Fatal(err)
	}
	if res.Provider != llm.OfflineName || s.Domain != "retail" || s.MainTable().Rows != 10000 || s.MainTable().Column("return_reason") == nil {
		t.Fatalf("offline design %s domain %s rows %d", res.Provider, s.Domain, s.MainTable().Rows)
	}
	if res.Score < 0.9 {
		t.Errorf("pack score %.2f: packs should say a lot (tables, rules, correlations, refs)", res.Score)
	}
}

func TestStoreVersions(t *testing.T) {
	t.Parallel()
	for name, open := range statetest.Drivers() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			st := &Store{State: open(t)}
			ctx := context.Background()
			tenant := "tenant-store-" + name
			s1, _ := Pack("hr", PackOptions{Rows: 100})
			s2, _ := Pack("hr", PackOptions{Rows: 200, Features: []string{"attrition"}})
			v1, err := st.Save(ctx, tenant, "workforce", "designed", s1)
			if err != nil {
				t.Fatal(err)
			}
			v2, err := st.Save(ctx, tenant, "workforce", "hand", s2)
			if err != nil {
				t.Fatal(err)
			}
			if v1.Version != 1 || v2.Version != 2 {
				t.Fatalf("versions %d %d", v1.Version, v2.Version)
			}
			_, latest, err := st.Get(ctx, tenant, "workforce", 0)
			if err != nil || latest.MainTable().Rows != 200 {
				t.Fatalf("latest: %v rows %v", err, latest)
			}
			_, first, err := st.Get(ctx, tenant, "workforce", 1)
			if err != nil || first.MainTable().Rows != 100 {
				t.Fatalf("v1: %v", err)
			}
			if _, _, err := st.Get(ctx, "other-tenant", "workforce", 0); !errors.Is(err, ErrNotFound) {
				t.Errorf("another tenant reads it: %v", err)
			}
			heads, err := st.List(ctx, tenant)
			if err != nil || len(heads) != 1 || heads[0].Latest != 2 {
				t.Errorf("list %+v %v", heads, err)
			}
			vs, err := st.Versions(ctx, tenant, "workforce")
			if err != nil || len(vs) != 2 || vs[1].Source != "hand" {
				t.Errorf("versions %+v %v", vs, err)
			}
			bad := *s1
			bad.Version = 9
			if _, err := st.Save(ctx, tenant, "workforce", "hand", &bad); !errors.Is(err, ErrInvalid) {
				t.Errorf("invalid spec saved: %v", err)
			}
		})
	}
}

// TestFromProfile derives a spec from the adult dataset, samples it and
// checks its rules on every row and that correlations were found.
func TestFromProfile(t *testing.T) {
	t.Parallel()
	path := filepath.Join("../../../shared/datasets", "adult.csv")
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("dataset %s missing (tests need the shared datasets beside the repo): %v", path, err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	tb := &table.Table{Columns: recs[0], Rows: recs[1:5001]}
	p, err := profile.Infer(tb, profile.Options{})
	if err != nil {
		t.Fatal(err)
	}
	s, err := FromProfile("adult", tb, p)
	if err != nil {
		t.Fatal(err)
	}
	main := s.MainTable()
	if len(main.Correlations) == 0 || len(main.Rules) == 0 {
		t.Errorf("derived spec has %d correlations and %d rules", len(main.Correlations), len(main.Rules))
	}
	// The derived spec round-trips through the schema and samples.
	b, _ := json.Marshal(s)
	if _, err := Parse(b); err != nil {
		t.Fatal(err)
	}
	mem := newMem()
	if _, err := Generate(context.Background(), s, Options{Seed: 4, Open: mem.open}); err != nil {
		t.Fatal(err)
	}
	set, err := rules.Compile(&rules.File{Rules: main.Rules}, nil, profileOf(main))
	if err != nil {
		t.Fatal(err)
	}
	for i, row := range mem.rows[main.Name] {
		if err := set.Check(row); err != nil {
			t.Fatalf("row %d: %v", i, err)
		}
	}
}
