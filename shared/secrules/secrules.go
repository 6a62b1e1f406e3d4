// Package secrules is Synthos' own declarative rules engine for abuse the
// Core Rule Set cannot see, because it needs to know who called and what
// happened: many failed keys from one address, many 404s from one key (ids
// being enumerated), bursts of differentially private jobs at one dataset.
//
// A rule matches events of one kind (a request before its handler, a
// response with its status, a failed authentication) by method, path,
// headers and JSON body fields, optionally only once they occur faster than
// a rate (counted per ip, key, tenant or a JSON field with GCRA, in Redis
// when configured), and then logs, scores, blocks or bans the address.
// Rules are JSON, so an operator can add or tune them without a release
// (SYNTHOS_SECURITY_RULES_FILE); DefaultRules are used otherwise.
package secrules

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"synthos.dev/synthos/shared/errs"
	"synthos.dev/synthos/shared/ratelimit"
)

// On is the kind of event a rule watches.
type On string

// Event kinds.
const (
	OnRequest     On = "request"      // before the handler; may block
	OnResponse    On = "response"     // after the handler, with its status
	OnAuthFailure On = "auth_failure" // a request with a missing or wrong key
)

// Action is what a matching rule does.
type Action string

// Actions.
const (
	Log   Action = "log"   // record a security event only
	Score Action = "score" // add Score to the request's score (blocked at the threshold)
	Block Action = "block" // refuse the request (403)
	Ban   Action = "ban"   // refuse it and ban the address (exponential)
)

// Rule is one declarative rule.
type Rule struct {
	ID          string `json:"id"`
	Description string `json:"description,omitempty"`
	On          On     `json:"on"`
	// Methods restricts the HTTP methods (any when empty).
	Methods []string `json:"methods,omitempty"`
	// Path is a regular expression on the URL path (any when empty).
	Path string `json:"path,omitempty"`
	// Status restricts response statuses (response rules only).
	Status []int `json:"status,omitempty"`
	// Headers maps header names to regular expressions their value must
	// match; a missing header is the empty string.
	Headers map[string]string `json:"headers,omitempty"`
	// JSON maps dotted paths into the JSON request body ("model",
	// "rules.0.type") to regular expressions on their value.
	JSON map[string]string `json:"json,omitempty"`
	// Rate, when set, fires the rule only on events beyond Count per Window
	// (GCRA: Count at once, then one per Window/Count) for the same By.
	Rate   *Rate  `json:"rate,omitempty"`
	Action Action `json:"action"`
	// Score is added by a score action.
	Score int `json:"score,omitempty"`
}

// Rate is a rule's rate condition.
type Rate struct {
	Count  int      `json:"count"`
	Window Duration `json:"window"`
	// By lists what the count is kept per: "ip", "key", "tenant",
	// "path", or "json:<dotted path>".
	By []string `json:"by"`
}

// Duration is a time.Duration written as "1m" in JSON.
type Duration time.Duration

// UnmarshalJSON reads "90s", "10m".
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf(`a duration is a string such as "1m": %w`, err)
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// MarshalJSON writes "1m0s".
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// DefaultRules are the built-in rules.
func DefaultRules() []Rule {
	return []Rule{
		// The edge bans fast guessing on its own (SYNTHOS_AUTH_FAILURES_PER_MINUTE);
		// this rule catches stuffing slow enough to stay under it.
		{ID: "credential-stuffing", Description: "many failed API keys from one address within an hour (slow key guessing or stuffing)",
			On: OnAuthFailure, Rate: &Rate{Count: 30, Window: Duration(time.Hour), By: []string{"ip"}}, Action: Ban},
		{ID: "id-enumeration", Description: "many 404s on other ids from one key: enumerating another tenant's resources",
			On: OnResponse, Methods: []string{"GET", "DELETE", "PATCH", "PUT", "POST"}, Path: `^/v1/(datasets|jobs|webhooks|keys)/[^/]+`,
			Status: []int{404}, Rate: &Rate{Count: 30, Window: Duration(time.Minute), By: []string{"key"}}, Action: Ban},
		{ID: "dp-burst", Description: "a burst of differentially private jobs aimed at one dataset (averaging noise away)",
			On: OnRequest, Methods: []string{"POST"}, Path: `^/v1/jobs$`, JSON: map[string]string{"model": `^dp$`},
			Rate: &Rate{Count: 5, Window: Duration(10 * time.Minute), By: []string{"tenant", "json:dataset"}}, Action: Block},
		{ID: "missing-user-agent-write", Description: "writes without a User-Agent (scripted abuse is often bare)",
			On: OnRequest, Methods: []string{"POST", "PUT", "PATCH", "DELETE"}, Path: `^/v1/`, Headers: map[string]string{"User-Agent": `^$`},
			Action: Score, Score: 2},
	}
}

// Parse reads rules from JSON: {"rules":[...]} or a bare array.
func Parse(b []byte) ([]Rule, error) {
	b = bytes.TrimSpace(b)
	var rules []Rule
	dec := func(v any) error {
		d := json.NewDecoder(bytes.NewReader(b))
		d.DisallowUnknownFields()
		return d.Decode(v)
	}
	if len(b) > 0 && b[0] == '[' {
		if err := dec(&rules); err != nil {
			return nil, errs.Errorf(errs.InvalidArgument, "secrules: %w", err)
		}
	} else {
		var f struct {
			Rules []Rule `json:"rules"`
		}
		if err := dec(&f); err != nil {
			return nil, errs.Errorf(errs.InvalidArgument, "secrules: %w (want {\"rules\":[...]})", err)
		}
		rules = f.Rules
	}
	return rules, nil
}

type compiled struct {
	Rule
	path    *regexp.Regexp
	headers map[string]*regexp.Regexp
	json    map[string]*regexp.Regexp
	limit   ratelimit.Limit
}

// Engine evaluates rules; safe for concurrent use.
type Engine struct {
	rules   []compiled
	counter ratelimit.Limiter
}

// New compiles rules; counter keeps the rates (ratelimit.NewMemory or
// NewRedis).
func New(rules []Rule, counter ratelimit.Limiter) (*Engine, error) {
	e := &Engine{counter: counter}
	seen := map[string]bool{}
	for i, r := range rules {
		c, err := compile(r)
		if err != nil {
			return nil, errs.Errorf(errs.InvalidArgument, "secrules: rule %d (%q): %w", i, r.ID, err)
		}
		if seen[r.ID] {
			return nil, errs.Errorf(errs.InvalidArgument, "secrules: rule id %q used twice", r.ID)
		}
		seen[r.ID] = true
		e.rules = append(e.rules, c)
	}
	return e, nil
}

func compile(r Rule) (compiled, error) {
	c := compiled{Rule: r, headers: map[string]*regexp.Regexp{}, json: map[string]*regexp.Regexp{}}
	if r.ID == "" {
		return c, fmt.Errorf("no id")
	}
	switch r.On {
	case OnRequest, OnResponse, OnAuthFailure:
	default:
		return c, fmt.Errorf("on %q: want request, response or auth_failure", r.On)
	}
	switch r.Action {
	case Log, Ban:
	case Score:
		if r.Score <= 0 {
			return c, fmt.Errorf("a score action needs a positive score")
		}
	case Block:
		if r.On == OnResponse {
			return c, fmt.Errorf("a response rule cannot block (the answer is sent): use ban")
		}
	default:
		return c, fmt.Errorf("action %q: want log, score, block or ban", r.Action)
	}
	if len(r.Status) > 0 && r.On != OnResponse {
		return c, fmt.Errorf("status applies to response rules only")
	}
	var err error
	if r.Path != "" {
		if c.path, err = regexp.Compile(r.Path); err != nil {
			return c, fmt.Errorf("path: %w", err)
		}
	}
	for h, re := range r.Headers {
		if c.headers[http.CanonicalHeaderKey(h)], err = regexp.Compile(re); err != nil {
			return c, fmt.Errorf("header %s: %w", h, err)
		}
	}
	for p, re := range r.JSON {
		if c.json[p], err = regexp.Compile(re); err != nil {
			return c, fmt.Errorf("json %s: %w", p, err)
		}
	}
	if r.Rate != nil {
		if r.Rate.Count < 1 || r.Rate.Window <= 0 || len(r.Rate.By) == 0 {
			return c, fmt.Errorf("rate needs a count ≥ 1, a window and at least one by")
		}
		for _, b := range r.Rate.By {
			if !slices.Contains([]string{"ip", "key", "tenant", "path"}, b) && !strings.HasPrefix(b, "json:") {
				return c, fmt.Errorf("rate by %q: want ip, key, tenant, path or json:<field>", b)
			}
		}
		c.limit = ratelimit.Limit{Rate: r.Rate.Count, Period: time.Duration(r.Rate.Window), Burst: r.Rate.Count}
	}
	c.Methods = make([]string, len(r.Methods))
	for i, m := range r.Methods {
		c.Methods[i] = strings.ToUpper(m)
	}
	return c, nil
}

// Event is one thing that happened.
type Event struct {
	On     On
	Method string
	Path   string
	Status int
	Header http.Header
	// Body is the JSON request body, when NeedsBody asked for it.
	Body []byte
	IP   string
	Key  string // key id, or a digest of the presented key on auth failures
	// Tenant is empty before authentication.
	Tenant string
}

// NeedsBody reports whether a request rule reads the JSON body of a
// request with this method and path (so the body is read only then).
func (e *Engine) NeedsBody(method, path string) bool {
	for _, r := range e.rules {
		if r.On == OnRequest && len(r.json) > 0 && r.matchesRoute(method, path) {
			return true
		}
	}
	return false
}

func (r *compiled) matchesRoute(method, path string) bool {
	if len(r.Methods) > 0 && !slices.Contains(r.Methods, method) {
		return false
	}
	return r.path == nil || r.path.MatchString(path)
}

// Match is one rule that fired.
type Match struct {
	RuleID      string
	Description string
	Action      Action
	Score       int
}

// Outcome is what the rules decided about an event.
type Outcome struct {
	Matches []Match
	Score   int
	Block   bool // a block or ban rule fired
	Ban     bool // a ban rule fired
}

// Evaluate runs the rules of ev's kind. An error from the rate counter is
// returned with the matches found so far; callers fail open on it (a
// broken Redis must not take the API down) and log it.
func (e *Engine) Evaluate(ctx context.Context, ev Event) (Outcome, error) {
	var out Outcome
	var body map[string]any
	bodyRead := false
	for i := range e.rules {
		r := &e.rules[i]
		if r.On != ev.On || !r.matchesRoute(ev.Method, ev.Path) {
			continue
		}
		if len(r.Status) > 0 && !slices.Contains(r.Status, ev.Status) {
			continue
		}
		ok := true
		for h, re := range r.headers {
			if !re.MatchString(ev.Header.Get(h)) {
				ok = false
				break
			}
		}
		if !ok {
			continue
		}
		if len(r.json) > 0 {
			if !bodyRead {
				bodyRead = true
				_ = json.Unmarshal(ev.Body, &body) // not JSON: no field matches
			}
			for p, re := range r.json {
				v, found := lookup(body, p)
				if !found || !re.MatchString(v) {
					ok = false
					break
				}
			}
			if !ok {
				continue
			}
		}
		if r.Rate != nil {
			key := r.ID
			for _, b := range r.Rate.By {
				key += "|" + subject(ev, b, body)
			}
			res, err := e.counter.Allow(ctx, "secrules:"+key, r.limit)
			if err != nil {
				return out, fmt.Errorf("secrules: rate of %s: %w", r.ID, err)
			}
			if res.Allowed {
				continue // under the rate: not (yet) suspicious
			}
		}
		out.Matches = append(out.Matches, Match{RuleID: r.ID, Description: r.Description, Action: r.Action, Score: r.Score})
		switch r.Action {
		case Score:
			out.Score += r.Score
		case Block:
			out.Block = true
		case Ban:
			out.Block, out.Ban = true, true
		}
	}
	return out, nil
}

func subject(ev Event, by string, body map[string]any) string {
	switch by {
	case "ip":
		return ev.IP
	case "key":
		return ev.Key
	case "tenant":
		return ev.Tenant
	case "path":
		return ev.Path
	}
	v, _ := lookup(body, strings.TrimPrefix(by, "json:"))
	return v
}

// lookup follows a dotted path ("rules.0.type") into decoded JSON and
// returns a scalar's text.
func lookup(v any, path string) (string, bool) {
	for part := range strings.SplitSeq(path, ".") {
		switch x := v.(type) {
		case map[string]any:
			var ok bool
			if v, ok = x[part]; !ok {
				return "", false
			}
		case []any:
			i, err := strconv.Atoi(part)
			if err != nil || i < 0 || i >= len(x) {
				return "", false
			}
			v = x[i]
		default:
			return "", false
		}
	}
	switch x := v.(type) {
	case string:
		return x, true
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), true
	case bool:
		return strconv.FormatBool(x), true
	case nil:
		return "", true
	}
	return "", false
}
