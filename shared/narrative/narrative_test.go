package narrative

import (
	"context"
	"errors"
	"strings"
	"testing"

	"synthos.dev/synthos/shared/llm"
)

const report = `{"version":1,"quality":{"overall":0.87654321,"column_shapes":0.912,"column_pair_trends":0.84,
 "columns":[{"name":"age","shape":0.95},{"name":"charges","shape":0.71}]},
 "privacy":{"dcr":{"closer_to_train_share":0.52}},"notes":["trained on 1,338 rows"]}`

func TestGrounded(t *testing.T) {
	t.Parallel()
	nums, err := Numbers([]byte(report))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		text string
		bad  string
	}{
		{"Overall 0.88, shapes 0.912 and trends 84% on 1,338 rows.", ""},
		{"Overall 0.8765 fidelity.", ""},
		// at one decimal 0.9 is within 0.05 of 0.912: grounded
		{"Overall 0.9 fidelity.", ""},
		{"Fidelity rose by 12% to 0.95.", "12"},
		{"Charges fell to 0.70.", "0.70"},
	}
	for _, tc := range tests {
		if got := strings.Join(Grounded(tc.text, nums), ","); got != tc.bad {
			t.Errorf("Grounded(%q) = %q, want %q", tc.text, got, tc.bad)
		}
	}
}

type scripted struct {
	n       int
	answers []string
}

func (s *scripted) Name() string { return "s" }
func (s *scripted) Generate(_ context.Context, _ llm.Request) (llm.Response, error) {
	a := s.answers[min(s.n, len(s.answers)-1)]
	s.n++
	return llm.Response{Text: a}, nil
}

func TestNarrate(t *testing.T) {
	t.Parallel()
	// Offline: a template quoting the report's own numbers passes the check.
	off := &llm.Offline{Handlers: map[llm.Task]func(context.Context, llm.Request) (string, error){llm.TaskNarrative: OfflineNarrative}}
	text, _, err := Narrate(context.Background(), &llm.Router{Routes: []*llm.Route{{Provider: off}}}, "t", []byte(report))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"0.8765", "charges", "0.52"} {
		if !strings.Contains(text, want) {
			t.Errorf("offline narrative %q lacks %q", text, want)
		}
	}
	// A model that invents a number is repaired once, then refused.
	liar := &scripted{answers: []string{"Fidelity is 0.99.", "Fidelity is 0.97."}}
	_, _, err = Narrate(context.Background(), &llm.Router{Routes: []*llm.Route{{Provider: liar}}}, "t", []byte(report))
	if !errors.Is(err, llm.ErrUnavailable) || !strings.Contains(err.Error(), "not in the report") || liar.n != 2 {
		t.Errorf("invented numbers: %v after %d calls", err, liar.n)
	}
	fixer := &scripted{answers: []string{"Fidelity is 0.99.", "Fidelity is 0.88; charges lag at 0.71."}}
	text, res, err := Narrate(context.Background(), &llm.Router{Routes: []*llm.Route{{Provider: fixer}}}, "t", []byte(report))
	if err != nil || !res.Repaired || !strings.Contains(text, "0.71") {
		t.Errorf("repair: %q %v", text, err)
	}
}
