package api

import (
	"bytes"
	"encoding/json"
	"mime"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// spec checks responses against the embedded OpenAPI document: the route
// and status must be documented, and a JSON body must validate against the
// schema the document gives for that route, status and content type.
type spec struct {
	doc      map[string]any
	compiler *jsonschema.Compiler

	mu      sync.Mutex
	schemas map[string]*jsonschema.Schema
	seen    map[string]bool // "METHOD template status"
}

const specURL = "file:///openapi.json"

func loadSpec(t *testing.T) *spec {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal(openAPI, &doc); err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	raw, err := jsonschema.UnmarshalJSON(bytes.NewReader(openAPI))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.AssertFormat()
	if err := c.AddResource(specURL, raw); err != nil {
		t.Fatal(err)
	}
	return &spec{doc: doc, compiler: c, schemas: map[string]*jsonschema.Schema{}, seen: map[string]bool{}}
}

// template returns the documented path matching p ("" if none), preferring
// literal segments over {params}.
func (s *spec) template(p string) string {
	p, _, _ = strings.Cut(p, "?")
	segs := strings.Split(p, "/")
	best, bestParams := "", 1<<30
	for tpl := range s.doc["paths"].(map[string]any) {
		ts := strings.Split(tpl, "/")
		if len(ts) != len(segs) {
			continue
		}
		params, ok := 0, true
		for i := range ts {
			_, custom, isCustom := strings.Cut(ts[i], "}:")
			switch {
			case strings.HasPrefix(ts[i], "{") && isCustom:
				// "{id}:predict": a custom method, more specific than "{id}".
				ok = ok && strings.HasSuffix(segs[i], ":"+custom) && len(segs[i]) > len(custom)+1
			case strings.HasPrefix(ts[i], "{"):
				params++
				ok = ok && segs[i] != ""
			case ts[i] != segs[i]:
				ok = false
			}
		}
		if ok && params < bestParams {
			best, bestParams = tpl, params
		}
	}
	return best
}

func pointerEscape(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
}

// check validates one response.
func (s *spec) check(t testing.TB, method, path string, r resp) {
	t.Helper()
	tpl := s.template(path)
	if tpl == "" {
		if r.status != http.StatusNotFound {
			t.Errorf("%s %s: undocumented path answered %d", method, path, r.status)
		}
		s.validate(t, method, path, "#/components/schemas/Error", r.body)
		return
	}
	ops := s.doc["paths"].(map[string]any)[tpl].(map[string]any)
	lm := strings.ToLower(method)
	if lm == "head" {
		lm = "get"
	}
	op, ok := ops[lm].(map[string]any)
	if !ok {
		if r.status != http.StatusMethodNotAllowed {
			t.Errorf("%s %s: undocumented method answered %d, want 405", method, path, r.status)
		}
		s.validate(t, method, path, "#/components/schemas/Error", r.body)
		return
	}
	status := http.StatusText(r.status)
	key := strconv.Itoa(r.status)
	resps := op["responses"].(map[string]any)
	rdoc, ok := resps[key].(map[string]any)
	if !ok {
		t.Errorf("%s %s (%s): status %d (%s) is not documented; body %s", method, path, tpl, r.status, status, r.body)
		return
	}
	loc := "#/paths/" + pointerEscape(tpl) + "/" + lm + "/responses/" + key
	if ref, ok := rdoc["$ref"].(string); ok {
		loc = ref
		rdoc = resolve(s.doc, ref)
	}
	s.mu.Lock()
	s.seen[strings.ToUpper(lm)+" "+tpl+" "+key] = true
	s.mu.Unlock()
	content, _ := rdoc["content"].(map[string]any)
	if len(content) == 0 {
		if len(r.body) != 0 {
			t.Errorf("%s %s: %d documented without a body, got %s", method, path, r.status, r.body)
		}
		return
	}
	mt, _, _ := mime.ParseMediaType(r.header.Get("Content-Type"))
	if _, ok := content[mt]; !ok {
		t.Errorf("%s %s: %d answered Content-Type %q, documented %v", method, path, r.status, mt, keys(content))
		return
	}
	if mt == "application/json" {
		s.validate(t, method, path, loc+"/content/"+pointerEscape(mt)+"/schema", r.body)
	}
}

func resolve(doc map[string]any, ref string) map[string]any {
	var cur any = doc
	for _, p := range strings.Split(strings.TrimPrefix(ref, "#/"), "/") {
		p = strings.ReplaceAll(strings.ReplaceAll(p, "~1", "/"), "~0", "~")
		cur = cur.(map[string]any)[p]
	}
	return cur.(map[string]any)
}

func keys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func (s *spec) validate(t testing.TB, method, path, loc string, body []byte) {
	t.Helper()
	s.mu.Lock()
	sch, ok := s.schemas[loc]
	if !ok {
		var err error
		sch, err = s.compiler.Compile(specURL + loc)
		if err != nil {
			s.mu.Unlock()
			t.Fatalf("compile %s: %v", loc, err)
		}
		s.schemas[loc] = sch
	}
	s.mu.Unlock()
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
	if err != nil {
		t.Errorf("%s %s: body is not JSON: %v: %s", method, path, err, body)
		return
	}
	if err := sch.Validate(v); err != nil {
		t.Errorf("%s %s: body does not match %s: %v\nbody: %s", method, path, loc, err, body)
	}
}

// operations lists every documented "METHOD template".
func (s *spec) operations() []string {
	var out []string
	for tpl, ops := range s.doc["paths"].(map[string]any) {
		for m := range ops.(map[string]any) {
			out = append(out, strings.ToUpper(m)+" "+tpl)
		}
	}
	sort.Strings(out)
	return out
}

// exercised reports whether some response of op was validated.
func (s *spec) exercised(op string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k := range s.seen {
		if strings.HasPrefix(k, op+" ") {
			return true
		}
	}
	return false
}
