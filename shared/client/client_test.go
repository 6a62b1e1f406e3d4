package client

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"
	"unicode"

	"synthos.dev/synthos/shared/jobs"
)

// openAPIDoc reads the API's document, the generator's input.
func openAPIDoc(t *testing.T) map[string]any {
	t.Helper()
	b, err := os.ReadFile("../../functions/api/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	return doc
}

// TestEveryOperationHasAMethod walks every operation of openapi.json and
// checks that ClientWithResponses has the method oapi-codegen names after
// its operationId: a document changed without `go generate ./shared/client`
// fails here.
func TestEveryOperationHasAMethod(t *testing.T) {
	doc := openAPIDoc(t)
	typ := reflect.TypeOf(&ClientWithResponses{})
	seen := map[string]string{}
	n := 0
	for path, ops := range doc["paths"].(map[string]any) {
		for method, o := range ops.(map[string]any) {
			op, ok := o.(map[string]any)
			if !ok {
				continue // a path-level "parameters" list
			}
			id, _ := op["operationId"].(string)
			where := strings.ToUpper(method) + " " + path
			if id == "" {
				t.Errorf("%s has no operationId: clients cannot name it", where)
				continue
			}
			if prev, dup := seen[id]; dup {
				t.Errorf("operationId %s names both %s and %s", id, prev, where)
			}
			seen[id] = where
			n++
			r := []rune(id)
			r[0] = unicode.ToUpper(r[0])
			name := string(r)
			candidates := []string{name + "WithResponse", name + "WithBodyWithResponse"}
			found := false
			for _, c := range candidates {
				if _, ok := typ.MethodByName(c); ok {
					found = true
				}
			}
			if !found {
				t.Errorf("%s (operationId %s): the client has none of %v; run go generate ./shared/client", where, id, candidates)
			}
		}
	}
	if n == 0 {
		t.Fatal("openapi.json lists no operation")
	}
	t.Logf("%d operations, each with a client method", n)
}

// TestTerminalMatchesJobStates: the client's idea of a finished job is
// shared/jobs' for every state the document lists.
func TestTerminalMatchesJobStates(t *testing.T) {
	doc := openAPIDoc(t)
	enum := doc["components"].(map[string]any)["schemas"].(map[string]any)["Job"].(map[string]any)["properties"].(map[string]any)["state"].(map[string]any)["enum"].([]any)
	if len(enum) == 0 {
		t.Fatal("Job.state has no enum")
	}
	for _, s := range enum {
		st := s.(string)
		if got, want := Terminal(st), jobs.State(st).Terminal(); got != want {
			t.Errorf("Terminal(%q) = %v, shared/jobs says %v", st, got, want)
		}
	}
}

func TestCheck(t *testing.T) {
	for _, tc := range []struct {
		name     string
		status   int
		body     string
		ok       []int
		wantCode string
		wantMsg  string
	}{
		{"accepted status", 201, `{"id":"x"}`, []int{201}, "", ""},
		{"error envelope", 422, `{"error":{"code":"invalid_request","message":"rows must be positive","details":{"field":"rows"}}}`, []int{201}, "invalid_request", "rows must be positive"},
		{"not json", 502, `<html>bad gateway</html>`, []int{200}, "http_502", "<html>bad gateway</html>"},
		{"json without envelope", 500, `{"oops":1}`, []int{200}, "http_500", `{"oops":1}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := Check("POST /v1/jobs", tc.status, []byte(tc.body), tc.ok...)
			if tc.wantCode == "" {
				if err != nil {
					t.Fatalf("Check = %v, want nil", err)
				}
				return
			}
			var e *APIError
			if !errors.As(err, &e) {
				t.Fatalf("Check = %v (%T), want *APIError", err, err)
			}
			if e.Code != tc.wantCode || e.Message != tc.wantMsg || e.Status != tc.status || Code(fmt.Errorf("wrapped: %w", err)) != tc.wantCode {
				t.Errorf("Check = %+v, want code %s message %q", e, tc.wantCode, tc.wantMsg)
			}
		})
	}
}

func TestBackoff(t *testing.T) {
	var got []time.Duration
	for n := 1; n <= 6; n++ {
		got = append(got, backoff(n, 500*time.Millisecond, 5*time.Second))
	}
	// 0.5 s doubled each attempt: 0.5, 1, 2, 4, then the 5 s cap.
	want := []time.Duration{500 * time.Millisecond, time.Second, 2 * time.Second, 4 * time.Second, 5 * time.Second, 5 * time.Second}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("backoff = %v, want %v", got, want)
	}
	if !sort.SliceIsSorted(got, func(i, j int) bool { return got[i] < got[j] }) {
		t.Errorf("backoff decreases: %v", got)
	}
}

func TestNewRefusesBadArguments(t *testing.T) {
	for _, tc := range []struct{ server, key, want string }{
		{"127.0.0.1:8080", "sk_live_x", "http(s) URL"},
		{"ftp://host", "sk_live_x", "http(s) URL"},
		{"http://127.0.0.1:8080", "", "API key is required"},
	} {
		if _, err := New(tc.server, tc.key, Options{}); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("New(%q, %q) = %v, want an error containing %q", tc.server, tc.key, err, tc.want)
		}
	}
}
