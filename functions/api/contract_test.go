package api

import (
	"encoding/json"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"testing"

	"synthos.dev/synthos/shared/apikeys"
)

// The OpenAPI document is the API's one source of truth: clients are
// generated from it (shared/client, clients/). These tests fail when the
// server and the document disagree: a route without an operation or an
// operation without a route, a documented request field the server refuses
// as unknown, an undocumented field the server accepts where the document
// forbids extra fields, or a documented required field the server does not
// require. (spec_test.go holds responses to the document.)

// customMethod matches the ":predict" of "/v1/models/{id}:predict": the
// server routes such custom methods through the one route of "{id}".
var customMethod = regexp.MustCompile(`(\{[a-z]+\}):[a-z]+$`)

// documentedRoutes lists every documented operation as the server's
// route pattern it is served by ("POST /v1/models/{id}").
func documentedRoutes(s *spec) map[string][]string {
	out := map[string][]string{}
	for _, op := range s.operations() {
		method, path, _ := strings.Cut(op, " ")
		route := method + " " + customMethod.ReplaceAllString(path, "$1")
		out[route] = append(out[route], op)
	}
	return out
}

func TestRoutesMatchOpenAPI(t *testing.T) {
	s := loadSpec(t)
	// The route table, plus the unauthenticated routes routes() adds.
	served := map[string]bool{"GET /healthz": true, "GET /readyz": true, "GET /v1/openapi.json": true}
	for _, rt := range (&server{}).table() {
		r := rt.method + " " + rt.path
		if served[r] {
			t.Errorf("the route table names %s twice", r)
		}
		served[r] = true
	}
	documented := documentedRoutes(s)
	for r := range served {
		if _, ok := documented[r]; !ok {
			t.Errorf("%s is served but openapi.json has no operation for it: document it (clients are generated from the document)", r)
		}
	}
	for r, ops := range documented {
		if !served[r] {
			t.Errorf("openapi.json documents %v but the server has no route %s", ops, r)
		}
	}
	if len(served) < 10 {
		t.Fatalf("only %d routes found: the route table was not read", len(served))
	}
}

// sampler builds request bodies from the document's schemas.
type sampler struct {
	doc map[string]any
	// fields are values by property name where a made-up one cannot do:
	// ids of resources that exist, a file name with a format's extension.
	fields map[string]any
}

func (g sampler) resolve(sch map[string]any) map[string]any {
	for depth := 0; depth < 10; depth++ {
		ref, ok := sch["$ref"].(string)
		if !ok {
			return sch
		}
		sch = resolve(g.doc, ref)
	}
	return sch
}

// value is a valid-looking value of sch: its example, default, first enum
// value or const, else one made from its type and bounds. full also fills
// optional properties.
func (g sampler) value(sch map[string]any, full bool, depth int) any {
	sch = g.resolve(sch)
	if ex, ok := sch["examples"].([]any); ok && len(ex) > 0 {
		return ex[0]
	}
	for _, k := range []string{"example", "default", "const"} {
		if v, ok := sch[k]; ok {
			return v
		}
	}
	if e, ok := sch["enum"].([]any); ok && len(e) > 0 {
		return e[0]
	}
	for _, k := range []string{"oneOf", "anyOf", "allOf"} {
		if alts, ok := sch[k].([]any); ok && len(alts) > 0 {
			return g.value(alts[0].(map[string]any), full, depth)
		}
	}
	typ, _ := sch["type"].(string)
	if ts, ok := sch["type"].([]any); ok && len(ts) > 0 {
		typ, _ = ts[0].(string)
	}
	num := func(def float64) float64 {
		// The smallest valid value is the least likely to meet another
		// limit (a plan's rows per job); 1 where the range allows it.
		lo, hasLo := sch["minimum"].(float64)
		hi, hasHi := sch["maximum"].(float64)
		if x, ok := sch["exclusiveMinimum"].(float64); ok {
			lo, hasLo = x+min(1, (hi-x)/2), true
		}
		switch {
		case hasLo && lo < 1 && (!hasHi || hi >= 1):
			return 1
		case hasLo:
			return lo
		case hasHi:
			return min(def, hi)
		}
		return def
	}
	switch typ {
	case "object":
		if depth > 4 {
			return map[string]any{}
		}
		return g.object(sch, full, depth+1)
	case "array":
		items, _ := sch["items"].(map[string]any)
		if items == nil || depth > 4 {
			return []any{}
		}
		return []any{g.value(items, full, depth+1)}
	case "integer":
		return int(num(1))
	case "number":
		return num(0.5)
	case "boolean":
		return false
	case "string":
		switch sch["format"] {
		case "uri":
			return "https://example.com/synthos-hook"
		case "date-time":
			return "2026-01-02T03:04:05Z"
		case "email":
			return "qa@example.com"
		}
		return "sample"
	}
	return "sample"
}

func (g sampler) object(sch map[string]any, full bool, depth int) map[string]any {
	out := map[string]any{}
	props, _ := sch["properties"].(map[string]any)
	val := func(name string, p map[string]any) any {
		if v, ok := g.fields[name]; ok {
			return v
		}
		return g.value(p, full, depth)
	}
	for _, r := range required(sch) {
		if p, ok := props[r].(map[string]any); ok {
			out[r] = val(r, p)
		}
	}
	if full {
		for name, p := range props {
			if _, ok := out[name]; !ok {
				out[name] = val(name, p.(map[string]any))
			}
		}
	}
	return out
}

// required lists the fields sch requires. A schema whose alternatives
// (anyOf, oneOf) each require their own fields, such as a job over a
// dataset or over a saved spec, is taken in its first alternative.
func required(sch map[string]any) []string {
	var out []string
	for _, r := range asSlice(sch["required"]) {
		out = append(out, r.(string))
	}
	for _, key := range []string{"anyOf", "oneOf"} {
		if alts := asSlice(sch[key]); len(alts) > 0 {
			first, _ := alts[0].(map[string]any)
			for _, r := range asSlice(first["required"]) {
				out = append(out, r.(string))
			}
			break
		}
	}
	sort.Strings(out)
	return out
}

func asSlice(v any) []any { s, _ := v.([]any); return s }

// TestRequestBodiesMatchOpenAPI sends bodies built from each documented
// JSON request schema through the server's real decoding and validation.
func TestRequestBodiesMatchOpenAPI(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	f.spec = loadSpec(t)
	admin := f.key("contract", apikeys.Read, apikeys.Write, apikeys.Admin)
	ds := f.upload(admin)
	job := f.createJob(admin, ds)
	g := sampler{doc: f.spec.doc, fields: map[string]any{"dataset": ds, "job": job, "name": "table.csv"}}
	ids := map[string]string{"datasets": ds, "jobs": job}

	// Operations whose minimal documented body the server accepts, so the
	// required-field check must have run for them.
	mustCheck := []string{"createJob", "setPrivacyBudget", "createKey", "beginUpload", "putIPRules"}
	checked := map[string]bool{}

	for tpl, ops := range f.spec.doc["paths"].(map[string]any) {
		for method, o := range ops.(map[string]any) {
			op, _ := o.(map[string]any)
			rb, _ := op["requestBody"].(map[string]any)
			content, _ := rb["content"].(map[string]any)
			media, _ := content["application/json"].(map[string]any)
			if media == nil {
				continue
			}
			id, _ := op["operationId"].(string)
			sch := g.resolve(media["schema"].(map[string]any))
			path := fillPath(tpl, ids)
			send := func(body any) resp {
				b, err := json.Marshal(body)
				if err != nil {
					t.Fatal(err)
				}
				return f.do(req{method: strings.ToUpper(method), path: path, key: admin, body: b,
					header: map[string]string{"Content-Type": "application/json"}})
			}
			t.Run(id, func(t *testing.T) {
				if typ, _ := sch["type"].(string); typ != "object" {
					t.Skipf("%s's body is a %q, not an object: nothing to check field by field", id, typ)
				}
				// Every documented property is a field the server decodes.
				full := g.object(sch, true, 0)
				if r := send(full); unknownField(r) != "" {
					t.Errorf("%s %s: the server refuses the documented field %q: %s", method, tpl, unknownField(r), r.body)
				}
				// Where the document forbids other fields, so does the server.
				if ap, ok := sch["additionalProperties"].(bool); ok && !ap {
					extra := g.object(sch, false, 0)
					extra["zz_undocumented"] = 1
					if r := send(extra); r.status < 400 {
						t.Errorf("%s %s: the document forbids undocumented fields but the server answered %d to one: %s", method, tpl, r.status, r.body)
					}
				}
				// A documented required field is required by the server.
				minimal := g.object(sch, false, 0)
				r := send(minimal)
				if r.status >= 300 {
					t.Logf("the minimal body %v answered %d %s", minimal, r.status, r.body)
					return // the sample needs more than the schema says (a real resource, a reachable URL): nothing to compare
				}
				for _, field := range required(sch) {
					without := g.object(sch, false, 0)
					delete(without, field)
					if r := send(without); r.status < 400 {
						t.Errorf("%s %s: %q is required by the document, but the server answered %d without it: %s", method, tpl, field, r.status, r.body)
					}
				}
				checked[id] = true
			})
		}
	}
	for _, id := range mustCheck {
		if !checked[id] {
			t.Errorf("the required-field check did not run for %s: its minimal documented body was refused", id)
		}
	}
	t.Logf("required fields compared for %d operations: %v", len(checked), keysOf(checked))
}

func keysOf(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// fillPath puts real ids in a path template where it can ("{id}" after
// /datasets/ or /jobs/), and a well-formed unknown id elsewhere.
func fillPath(tpl string, ids map[string]string) string {
	segs := strings.Split(tpl, "/")
	for i, s := range segs {
		if !strings.HasPrefix(s, "{") {
			continue
		}
		param, custom, _ := strings.Cut(s, ":")
		v := "x_unknown"
		if i > 0 {
			if id, ok := ids[segs[i-1]]; ok {
				v = id
			}
		}
		_ = param
		if custom != "" {
			v += ":" + custom
		}
		segs[i] = v
	}
	return strings.Join(segs, "/")
}

// unknownField returns the field a 400 calls unknown ("" otherwise): the
// plain decoder's "json: unknown field", or the job request parser's "is not
// a known field" naming it in details.field.
func unknownField(r resp) string {
	if r.status != http.StatusBadRequest {
		return ""
	}
	var env struct {
		Error struct {
			Message string         `json:"message"`
			Details map[string]any `json:"details"`
		} `json:"error"`
	}
	if json.Unmarshal(r.body, &env) != nil {
		return ""
	}
	if m := regexp.MustCompile(`unknown field "([^"]+)"`).FindStringSubmatch(env.Error.Message); m != nil {
		return m[1]
	}
	if strings.Contains(env.Error.Message, "is not a known field") {
		f, _ := env.Error.Details["field"].(string)
		return f + " (" + env.Error.Message + ")"
	}
	return ""
}
