package semantic

import (
	"encoding/json"
	"testing"
)

func TestReportView(t *testing.T) {
	t.Parallel()
	schema := []byte(`{"type":"object","properties":{
	  "quality":{"type":"object","properties":{"overall":{},"columns":{"type":"array","items":{"type":"object","properties":{"name":{},"shape":{},"top":{}}}}}},
	  "gate":{"type":"object","properties":{"status":{"enum":["pass","fail"]},"passed":{}}},
	  "notes":{"type":"array"}}}`)
	tests := []struct {
		name, report, want string
	}{
		{"scores and column names stay",
			`{"quality":{"overall":0.91,"columns":[{"name":"age","shape":0.95}]},"gate":{"status":"pass","passed":true}}`,
			`{"gate":{"passed":true,"status":"pass"},"quality":{"columns":[{"name":"age","shape":0.95}],"overall":0.91}}`},
		{"a category label in a summary goes",
			`{"quality":{"columns":[{"name":"race","shape":0.8,"top":["White","Black"]}]}}`,
			`{"quality":{"columns":[{"name":"race","shape":0.8,"top":[]}]}}`},
		{"free text and unknown keys go, with their numbers",
			`{"notes":["column email leaked jane@example.com"],"leaks":{"jane@example.com":3},"Private":0.4}`,
			`{"notes":[]}`},
		{"a key that is a column name stays", `{"quality":{"overall":{"age":0.5,"Bachelors":0.1}}}`, `{"quality":{"overall":{"age":0.5}}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := ReportView([]byte(tt.report), schema, []string{"age", "race"})
			if err != nil {
				t.Fatal(err)
			}
			var g, w any
			if err := json.Unmarshal(got, &g); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal([]byte(tt.want), &w); err != nil {
				t.Fatal(err)
			}
			gb, _ := json.Marshal(g)
			wb, _ := json.Marshal(w)
			if string(gb) != string(wb) {
				t.Errorf("view %s, want %s", gb, wb)
			}
		})
	}
	if _, err := ReportView([]byte(`{`), schema, nil); err == nil {
		t.Error("a report that is not JSON was accepted")
	}
}
