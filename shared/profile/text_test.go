package profile

import (
	"errors"
	"os"
	"strings"
	"testing"
)

func ExampleWriteText() {
	tab, err := readCSV(strings.NewReader(`id,age,workclass,smoker,email,joined
1, 39, State-gov,yes,ann@example.com,2024-01-05
2, 50, Self-emp,no,bob@example.org,2024-02-11
3, 38, Private,no,cy@example.net,2024-03-30
4, 53, ?,yes,di@example.com,2024-04-01
5, 28, Private,no,ed@example.com,
`))
	if err != nil {
		panic(err)
	}
	p, err := Infer(tab, Options{})
	if err != nil {
		panic(err)
	}
	if err := WriteText(os.Stdout, p); err != nil {
		panic(err)
	}
	// Output:
	// rows 5, columns 6
	//
	// COLUMN     KIND         CONF    MISSING  DISTINCT  DETAIL
	// id         id           100.0%  0.0%     5         "%d"
	// age        numeric      100.0%  0.0%     5         int 28..53
	// workclass  categorical  100.0%  20.0%    3         mode "Private"; missing as "?"
	// smoker     boolean      100.0%  0.0%     2         "yes"/"no"
	// email      pii/email    100.0%  0.0%     5         -
	// joined     datetime     100.0%  20.0%    4         "2006-01-02" 2024-01-05..2024-04-01; missing as ""
}

// failWriter fails every write.
type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestWriteTextError(t *testing.T) {
	t.Parallel()
	p := &Profile{Version: Version, Rows: 1, Columns: []Column{{Name: "a", Kind: Categorical}}}
	err := WriteText(failWriter{}, p)
	if err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Errorf("err = %v, want the writer's error", err)
	}
}

func TestWriteTextDetails(t *testing.T) {
	t.Parallel()
	p := &Profile{Version: Version, Rows: 100, Sampled: 10, Columns: []Column{
		{Name: "bmi", Kind: Numeric, Decimals: 2, Min: 15.5, Max: 53.13},
		{Name: "key", Kind: ID, IDFormat: "CUST-%06d"},
		{Name: "tab\tname", Kind: PII, PII: Phone},
	}}
	var b strings.Builder
	if err := WriteText(&b, p); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"kinds from 10 sampled rows", "2 dp 15.5..53.13", `"CUST-%06d"`, `"tab\tname"`, "pii/phone"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, b.String())
		}
	}
}
