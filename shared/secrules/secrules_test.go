package secrules

import (
	"context"
	"fmt"
	"net/http"
	"testing"

	"synthos.dev/synthos/shared/errs"
	"synthos.dev/synthos/shared/ratelimit"
	"synthos.dev/synthos/shared/ratelimit/redistest"
)

func engine(t *testing.T, rules []Rule, counter ratelimit.Limiter) *Engine {
	t.Helper()
	if counter == nil {
		counter = ratelimit.NewMemory(nil)
	}
	e, err := New(rules, counter)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// fire sends n events and returns the index (1-based) of the first that
// matched, 0 if none.
func fire(t *testing.T, e *Engine, n int, ev func(i int) Event) (first int, last Outcome) {
	t.Helper()
	for i := 1; i <= n; i++ {
		out, err := e.Evaluate(context.Background(), ev(i))
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Matches) > 0 && first == 0 {
			first = i
		}
		last = out
	}
	return first, last
}

func TestCredentialStuffing(t *testing.T) {
	e := engine(t, DefaultRules(), nil)
	// 30 failures an hour from one address are tolerated, the 31st bans.
	first, out := fire(t, e, 31, func(i int) Event {
		return Event{On: OnAuthFailure, Method: "GET", Path: "/v1/jobs", IP: "203.0.113.9", Key: fmt.Sprintf("digest-%d", i)}
	})
	if first != 31 || !out.Ban || out.Matches[0].RuleID != "credential-stuffing" {
		t.Fatalf("first match at %d, outcome %+v", first, out)
	}
	// Another address is counted on its own.
	if first, _ := fire(t, e, 30, func(int) Event { return Event{On: OnAuthFailure, IP: "203.0.113.10"} }); first != 0 {
		t.Fatalf("neighbour matched at %d", first)
	}
}

func TestEnumeration(t *testing.T) {
	e := engine(t, DefaultRules(), nil)
	ev := func(status int, path string) func(int) Event {
		return func(i int) Event {
			return Event{On: OnResponse, Method: "GET", Path: fmt.Sprintf(path, i), Status: status, IP: "198.51.100.4", Key: "key_a", Tenant: "t1"}
		}
	}
	// 200s and list 404s do not count.
	if first, _ := fire(t, e, 100, ev(200, "/v1/jobs/job_%d")); first != 0 {
		t.Fatalf("200s matched at %d", first)
	}
	if first, _ := fire(t, e, 100, ev(404, "/v1/nothing/%d")); first != 0 {
		t.Fatalf("other paths matched at %d", first)
	}
	first, out := fire(t, e, 31, ev(404, "/v1/datasets/ds_%d"))
	if first != 31 || !out.Ban {
		t.Fatalf("enumeration matched at %d: %+v", first, out)
	}
}

func TestDPBurst(t *testing.T) {
	e := engine(t, DefaultRules(), nil)
	job := func(model, dataset, tenant string) Event {
		return Event{On: OnRequest, Method: "POST", Path: "/v1/jobs", Tenant: tenant, IP: "203.0.113.1", Key: "k",
			Header: http.Header{"User-Agent": {"sdk/1"}},
			Body:   []byte(fmt.Sprintf(`{"dataset":%q,"model":%q,"epsilon":1}`, dataset, model))}
	}
	if !e.NeedsBody("POST", "/v1/jobs") || e.NeedsBody("GET", "/v1/jobs") {
		t.Fatal("NeedsBody")
	}
	// Tree jobs are never counted.
	if first, _ := fire(t, e, 20, func(int) Event { return job("tree", "ds_1", "t1") }); first != 0 {
		t.Fatalf("tree jobs matched at %d", first)
	}
	// Five dp jobs at one dataset pass, the sixth is blocked; another
	// dataset and another tenant have their own counts.
	first, out := fire(t, e, 6, func(int) Event { return job("dp", "ds_1", "t1") })
	if first != 6 || !out.Block || out.Ban {
		t.Fatalf("dp burst matched at %d: %+v", first, out)
	}
	if first, _ := fire(t, e, 5, func(int) Event { return job("dp", "ds_2", "t1") }); first != 0 {
		t.Fatalf("other dataset matched at %d", first)
	}
	if first, _ := fire(t, e, 5, func(int) Event { return job("dp", "ds_1", "t2") }); first != 0 {
		t.Fatalf("other tenant matched at %d", first)
	}
}

func TestScoreHeaderAndLog(t *testing.T) {
	rules, err := Parse([]byte(`{"rules":[
	  {"id":"bare","on":"request","methods":["post"],"path":"^/v1/","headers":{"user-agent":"^$"},"action":"score","score":3},
	  {"id":"nested","on":"request","path":"^/v1/jobs$","json":{"rules.0.type":"^format$","rows":"^1000000$"},"action":"log"},
	  {"id":"beta","on":"request","headers":{"X-Client":"beta"},"action":"block"}
	]}`))
	if err != nil {
		t.Fatal(err)
	}
	e := engine(t, rules, nil)
	out, _ := e.Evaluate(context.Background(), Event{On: OnRequest, Method: "POST", Path: "/v1/jobs", Header: http.Header{},
		Body: []byte(`{"rows":1000000,"rules":[{"type":"format"}]}`)})
	if out.Score != 3 || out.Block || len(out.Matches) != 2 || out.Matches[1].RuleID != "nested" {
		t.Fatalf("%+v", out)
	}
	out, _ = e.Evaluate(context.Background(), Event{On: OnRequest, Method: "GET", Path: "/x", Header: http.Header{"X-Client": {"beta-7"}}})
	if !out.Block || out.Ban {
		t.Fatalf("%+v", out)
	}
	// Not JSON: no JSON rule matches, no error.
	out, err = e.Evaluate(context.Background(), Event{On: OnRequest, Method: "GET", Path: "/v1/jobs", Body: []byte("<xml/>"), Header: http.Header{"User-Agent": {"x"}}})
	if err != nil || len(out.Matches) != 0 {
		t.Fatalf("%+v %v", out, err)
	}
}

func TestInvalidRules(t *testing.T) {
	bad := []string{
		`[{"id":"","on":"request","action":"log"}]`,
		`[{"id":"a","on":"sometime","action":"log"}]`,
		`[{"id":"a","on":"request","action":"explode"}]`,
		`[{"id":"a","on":"response","action":"block"}]`,
		`[{"id":"a","on":"request","status":[404],"action":"log"}]`,
		`[{"id":"a","on":"request","path":"(","action":"log"}]`,
		`[{"id":"a","on":"request","action":"score"}]`,
		`[{"id":"a","on":"request","action":"log","rate":{"count":0,"window":"1m","by":["ip"]}}]`,
		`[{"id":"a","on":"request","action":"log","rate":{"count":1,"window":"1m","by":["moon"]}}]`,
		`[{"id":"a","on":"request","action":"log"},{"id":"a","on":"request","action":"log"}]`,
		`[{"id":"a","on":"request","action":"log","typo":1}]`,
		`[{"id":"a","on":"request","action":"log","rate":{"count":1,"window":"soon","by":["ip"]}}]`,
	}
	for _, b := range bad {
		rules, err := Parse([]byte(b))
		if err == nil {
			_, err = New(rules, ratelimit.NewMemory(nil))
		}
		if err == nil || errs.CodeOf(err) != errs.InvalidArgument {
			t.Errorf("%s: %v", b, err)
		}
	}
	if _, err := New(DefaultRules(), ratelimit.NewMemory(nil)); err != nil {
		t.Fatalf("defaults: %v", err)
	}
}

// Rates kept in Redis are shared by instances: two engines over one Redis
// count together.
func TestRedisCounter(t *testing.T) {
	c, prefix := redistest.Client(t)
	a := engine(t, DefaultRules(), ratelimit.NewRedis(c, prefix))
	b := engine(t, DefaultRules(), ratelimit.NewRedis(c, prefix))
	ev := Event{On: OnAuthFailure, IP: "192.0.2.1"}
	for i := range 30 {
		e := a
		if i%2 == 1 {
			e = b
		}
		if out, err := e.Evaluate(context.Background(), ev); err != nil || len(out.Matches) > 0 {
			t.Fatalf("event %d: %+v %v", i, out, err)
		}
	}
	out, err := b.Evaluate(context.Background(), ev)
	if err != nil || !out.Ban {
		t.Fatalf("31st across instances: %+v %v", out, err)
	}
}
