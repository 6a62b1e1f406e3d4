package api

import (
	"encoding/json"
	"strings"
	"testing"

	"synthos.dev/synthos/shared/jobs"
)

// TestJobViewRows: a job shows how many dataset rows its model saw of how
// many it read once it has read them, and nothing before.
func TestJobViewRows(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		seen, read int64
		want       []string
		absent     []string
	}{
		{"sampled", 262_144, 5_000_000, []string{`"rows_seen":262144`, `"rows_total":5000000`}, nil},
		{"whole", 26_049, 32_561, []string{`"rows_seen":26049`, `"rows_total":32561`}, nil},
		{"not read yet", 0, 0, nil, []string{"rows_seen", "rows_total"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b, err := json.Marshal(JobView(&jobs.Job{ID: "j1", State: jobs.Sampling, RowsSeen: tt.seen, RowsTotal: tt.read}))
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range tt.want {
				if !strings.Contains(string(b), w) {
					t.Errorf("%s lacks %s", b, w)
				}
			}
			for _, a := range tt.absent {
				if strings.Contains(string(b), a) {
					t.Errorf("%s has %s", b, a)
				}
			}
		})
	}
}
