// Package terraform_test checks the Terraform configuration against the code
// without Terraform: it parses every .tf file with the HCL library and reads
// literal values, local values and references, so that a function, topic,
// subscription or environment variable the code needs cannot be missing from
// the deployment unnoticed.
package terraform_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/zclconf/go-cty/cty"

	"synthos.dev/synthos/functions/registry"
	"synthos.dev/synthos/shared/config"
	"synthos.dev/synthos/shared/llm"
	"synthos.dev/synthos/shared/topics"
)

// module is the parsed configuration of this directory.
type module struct {
	locals    map[string]hclsyntax.Expression
	resources map[string]map[string]*resource // type -> name -> resource
	data      map[string]bool                 // "TYPE.NAME" of data sources
	variables map[string]bool
	defaults  map[string]hclsyntax.Expression // variable name -> its default, when it has one
	blocks    []*hclsyntax.Block              // every top-level block, for reference checks
}

type resource struct {
	file string
	body *hclsyntax.Body
}

func (r *resource) at() string { return r.file }

// load parses every .tf file; any diagnostic fails the test.
func load(t *testing.T) *module {
	t.Helper()
	paths, err := filepath.Glob("*.tf")
	if err != nil || len(paths) == 0 {
		t.Fatalf("no .tf files found (%v)", err)
	}
	m := &module{locals: map[string]hclsyntax.Expression{}, resources: map[string]map[string]*resource{},
		data: map[string]bool{}, variables: map[string]bool{}, defaults: map[string]hclsyntax.Expression{}}
	p := hclparse.NewParser()
	for _, path := range paths {
		f, diags := p.ParseHCLFile(path)
		if diags.HasErrors() {
			t.Fatalf("%s does not parse:\n%s", path, diags.Error())
		}
		for _, b := range f.Body.(*hclsyntax.Body).Blocks {
			m.blocks = append(m.blocks, b)
			switch b.Type {
			case "variable":
				if m.variables[b.Labels[0]] {
					t.Fatalf("%s: variable %s is declared twice", path, b.Labels[0])
				}
				m.variables[b.Labels[0]] = true
				if a, ok := b.Body.Attributes["default"]; ok {
					m.defaults[b.Labels[0]] = a.Expr
				}
			case "data":
				key := b.Labels[0] + "." + b.Labels[1]
				if m.data[key] {
					t.Fatalf("%s: data.%s is declared twice", path, key)
				}
				m.data[key] = true
			case "locals":
				for name, a := range b.Body.Attributes {
					if _, dup := m.locals[name]; dup {
						t.Fatalf("%s: local.%s is defined twice", path, name)
					}
					m.locals[name] = a.Expr
				}
			case "resource":
				typ, name := b.Labels[0], b.Labels[1]
				if m.resources[typ] == nil {
					m.resources[typ] = map[string]*resource{}
				}
				if prev, dup := m.resources[typ][name]; dup {
					t.Fatalf("%s.%s is defined in both %s and %s", typ, name, prev.file, path)
				}
				m.resources[typ][name] = &resource{file: path, body: b.Body}
			}
		}
	}
	return m
}

// attr returns the expression of a nested attribute, following block names:
// attr(body, "service_config", "environment_variables").
func attr(body *hclsyntax.Body, path ...string) hclsyntax.Expression {
	for _, blk := range path[:len(path)-1] {
		next := block(body, blk)
		if next == nil {
			return nil
		}
		body = next
	}
	if a, ok := body.Attributes[path[len(path)-1]]; ok {
		return a.Expr
	}
	return nil
}

// block returns the first nested block of a type, or nil.
func block(body *hclsyntax.Body, typ string) *hclsyntax.Body {
	for _, b := range body.Blocks {
		if b.Type == typ {
			return b.Body
		}
	}
	return nil
}

// literal evaluates an expression that needs no variables.
func literal(e hclsyntax.Expression) (cty.Value, bool) {
	if e == nil {
		return cty.NilVal, false
	}
	v, diags := e.Value(nil)
	if diags.HasErrors() || !v.IsWhollyKnown() || v.IsNull() {
		return cty.NilVal, false
	}
	return v, true
}

// str resolves an expression to a literal string, through local values.
func (m *module) str(e hclsyntax.Expression) (string, bool) {
	if tr, ok := e.(*hclsyntax.ScopeTraversalExpr); ok && tr.Traversal.RootName() == "local" && len(tr.Traversal) == 2 {
		if name, ok := tr.Traversal[1].(hcl.TraverseAttr); ok && m.locals[name.Name] != nil {
			return m.str(m.locals[name.Name])
		}
	}
	v, ok := literal(e)
	if !ok || v.Type() != cty.String {
		return "", false
	}
	return v.AsString(), true
}

// prefix returns the literal start of a string or template expression:
// "gs://" for "gs://${google_storage_bucket.x.name}".
func (m *module) prefix(e hclsyntax.Expression) string {
	if s, ok := m.str(e); ok {
		return s
	}
	if tmpl, ok := e.(*hclsyntax.TemplateExpr); ok && len(tmpl.Parts) > 0 {
		if s, ok := m.str(tmpl.Parts[0]); ok {
			return s
		}
	}
	return ""
}

// ref renders a reference such as google_pubsub_topic.topic["job-events"].id
// in that form, or "" when e is not a plain reference.
func ref(e hclsyntax.Expression) string {
	if e == nil {
		return ""
	}
	tr, diags := hcl.AbsTraversalForExpr(e)
	if diags.HasErrors() {
		return ""
	}
	var b strings.Builder
	for _, step := range tr {
		switch s := step.(type) {
		case hcl.TraverseRoot:
			b.WriteString(s.Name)
		case hcl.TraverseAttr:
			b.WriteString("." + s.Name)
		case hcl.TraverseIndex:
			if s.Key.Type() == cty.String {
				fmt.Fprintf(&b, "[%q]", s.Key.AsString())
			} else {
				fmt.Fprintf(&b, "[%s]", s.Key.AsBigFloat().String())
			}
		}
	}
	return b.String()
}

// stringList resolves a local holding a list of literal strings.
func (m *module) stringList(t *testing.T, local string) []string {
	t.Helper()
	e := m.locals[local]
	v, ok := literal(e)
	if !ok || !(v.Type().IsTupleType() || v.Type().IsListType()) {
		t.Fatalf("local.%s is not a literal list", local)
	}
	var out []string
	for it := v.ElementIterator(); it.Next(); {
		_, ev := it.Element()
		out = append(out, ev.AsString())
	}
	return out
}

// env resolves a function's environment_variables: object literals, local
// values and merge() of those, later arguments overriding earlier ones.
func (m *module) env(e hclsyntax.Expression) (map[string]hclsyntax.Expression, error) {
	switch e := e.(type) {
	case *hclsyntax.ObjectConsExpr:
		out := map[string]hclsyntax.Expression{}
		for _, item := range e.Items {
			k, diags := item.KeyExpr.Value(nil)
			if diags.HasErrors() || k.Type() != cty.String {
				return nil, fmt.Errorf("environment variable name at %s is not literal", item.KeyExpr.Range())
			}
			out[k.AsString()] = item.ValueExpr
		}
		return out, nil
	case *hclsyntax.ScopeTraversalExpr:
		if e.Traversal.RootName() == "local" && len(e.Traversal) == 2 {
			if a, ok := e.Traversal[1].(hcl.TraverseAttr); ok && m.locals[a.Name] != nil {
				return m.env(m.locals[a.Name])
			}
		}
	case *hclsyntax.FunctionCallExpr:
		if e.Name == "merge" {
			out := map[string]hclsyntax.Expression{}
			for _, arg := range e.Args {
				part, err := m.env(arg)
				if err != nil {
					return nil, err
				}
				for k, v := range part {
					out[k] = v
				}
			}
			return out, nil
		}
	}
	return nil, fmt.Errorf("cannot read environment_variables at %s: use an object, a local or merge() of those", e.Range())
}

// functionsFor returns the names of the google_cloudfunctions2_function whose
// entry_point is entry.
func (m *module) functionsFor(entry string) []string {
	var out []string
	for name, r := range m.resources["google_cloudfunctions2_function"] {
		if s, ok := m.str(attr(r.body, "build_config", "entry_point")); ok && s == entry {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}

func TestFilesParseAndAreFormatted(t *testing.T) {
	paths, _ := filepath.Glob("*.tf")
	for _, path := range paths {
		src, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if _, diags := hclsyntax.ParseConfig(src, path, hcl.InitialPos); diags.HasErrors() {
			t.Errorf("%s: %s", path, diags.Error())
			continue
		}
		if formatted := hclwrite.Format(src); !bytes.Equal(formatted, src) {
			t.Errorf("%s is not formatted as terraform fmt would; reformat it", path)
		}
	}
}

func TestEveryEntryPointIsDeployed(t *testing.T) {
	m := load(t)
	entries := registry.All()
	known := map[string]bool{}
	accounts := map[string]string{}
	for _, e := range entries {
		known[e.Name] = true
		fns := m.functionsFor(e.Name)
		if len(fns) != 1 {
			t.Errorf("entry point %q: want exactly one google_cloudfunctions2_function with entry_point = %q, found %v", e.Name, e.Name, fns)
			continue
		}
		name := fns[0]
		fn := m.resources["google_cloudfunctions2_function"][name]
		where := fmt.Sprintf("google_cloudfunctions2_function.%s (%s, entry point %s)", name, fn.at(), e.Name)

		if rt, _ := m.str(attr(fn.body, "build_config", "runtime")); !strings.HasPrefix(rt, "go") {
			t.Errorf("%s: runtime %q is not a Go runtime", where, rt)
		}
		src := block(block(fn.body, "build_config"), "source")
		if src == nil || block(src, "storage_source") == nil ||
			!strings.HasPrefix(ref(attr(block(src, "storage_source"), "bucket")), "google_storage_bucket.source.") ||
			ref(attr(block(src, "storage_source"), "object")) != "var.source_object" {
			t.Errorf("%s: source must be storage_source { bucket = google_storage_bucket.source.name, object = var.source_object }", where)
		}
		sa := ref(attr(fn.body, "service_config", "service_account_email"))
		if !strings.HasPrefix(sa, "google_service_account.") {
			t.Errorf("%s: service_config.service_account_email must reference its own google_service_account, is %q", where, sa)
		} else if other, dup := accounts[sa]; dup {
			t.Errorf("%s shares service account %s with %s; each function needs its own", where, sa, other)
		} else {
			accounts[sa] = name
		}

		trigger := block(fn.body, "event_trigger")
		switch e.Kind {
		case registry.CloudEvent:
			if trigger == nil {
				t.Errorf("%s: a CloudEvent entry point needs an event_trigger", where)
				break
			}
			if typ, _ := m.str(attr(trigger, "event_type")); typ != "google.cloud.storage.object.v1.finalized" {
				t.Errorf("%s: event_trigger.event_type is %q, want google.cloud.storage.object.v1.finalized", where, typ)
			}
			filter := block(trigger, "event_filters")
			if filter == nil {
				t.Errorf("%s: event_trigger needs event_filters { attribute = \"bucket\" ... }", where)
			} else if a, _ := m.str(attr(filter, "attribute")); a != "bucket" || !strings.HasPrefix(ref(attr(filter, "value")), "google_storage_bucket.uploads.") {
				t.Errorf("%s: event_filters must select bucket = google_storage_bucket.uploads.name", where)
			}
		case registry.Push:
			if trigger != nil {
				t.Errorf("%s: a push entry point is triggered by its push subscription, not an event_trigger", where)
			}
			m.checkPushSubscription(t, e, name)
		case registry.HTTP:
			if trigger != nil {
				t.Errorf("%s: an HTTP entry point has no event_trigger", where)
			}
		}
	}
	for _, name := range sortedKeys(m.resources["google_cloudfunctions2_function"]) {
		r := m.resources["google_cloudfunctions2_function"][name]
		if s, _ := m.str(attr(r.body, "build_config", "entry_point")); !known[s] {
			t.Errorf("google_cloudfunctions2_function.%s (%s) deploys entry point %q, which functions/registry does not have", name, r.at(), s)
		}
	}
}

// checkPushSubscription finds the push subscription of a Push entry: on its
// registry topic, pushing to its function, with an OIDC token, a retry policy
// and, unless it reads a dead-letter topic itself, a dead-letter policy
// bounded by var.max_delivery_attempts.
func (m *module) checkPushSubscription(t *testing.T, e registry.Entry, fn string) {
	t.Helper()
	endpoint := "google_cloudfunctions2_function." + fn + ".service_config[0].uri"
	wantTopic := fmt.Sprintf("google_pubsub_topic.topic[%q].", e.Topic)
	if e.DeadLetter {
		// A consumer of a dead-letter topic: google_pubsub_topic.dead_letter
		// is keyed by the topic it serves.
		wantTopic = fmt.Sprintf("google_pubsub_topic.dead_letter[%q].", strings.TrimSuffix(e.Topic, topics.DeadLetter("")))
	}
	var found []string
	for name, r := range m.resources["google_pubsub_subscription"] {
		if ref(attr(r.body, "push_config", "push_endpoint")) != endpoint {
			continue
		}
		found = append(found, name)
		where := fmt.Sprintf("google_pubsub_subscription.%s (%s, for %s)", name, r.at(), e.Name)
		if !strings.HasPrefix(ref(attr(r.body, "topic")), wantTopic) {
			t.Errorf("%s: topic must be %sid (registry topic of %s), is %q", where, wantTopic, e.Name, ref(attr(r.body, "topic")))
		}
		if oidc := block(block(r.body, "push_config"), "oidc_token"); oidc == nil || ref(attr(oidc, "service_account_email")) == "" {
			t.Errorf("%s: push_config needs an oidc_token with the invoker's service account", where)
		} else {
			m.checkPushAuth(t, where, fn, oidc)
		}
		if block(r.body, "retry_policy") == nil {
			t.Errorf("%s: needs a retry_policy (min/max backoff)", where)
		}
		dl := block(r.body, "dead_letter_policy")
		switch {
		case e.DeadLetter:
			if dl != nil {
				t.Errorf("%s: reads a dead-letter topic; a dead-letter policy of its own would only move poison messages further", where)
			}
		case dl == nil:
			t.Errorf("%s: needs a dead_letter_policy", where)
		case ref(attr(dl, "max_delivery_attempts")) != "var.max_delivery_attempts":
			t.Errorf("%s: dead_letter_policy.max_delivery_attempts must be var.max_delivery_attempts", where)
		case !strings.HasPrefix(ref(attr(dl, "dead_letter_topic")), fmt.Sprintf("google_pubsub_topic.dead_letter[%q].", e.Topic)):
			t.Errorf("%s: dead_letter_topic must be the dead-letter topic of %s", where, e.Topic)
		}
	}
	if len(found) != 1 {
		t.Errorf("entry point %q (push on %s): want exactly one google_pubsub_subscription with push_config.push_endpoint = %s, found %v",
			e.Name, e.Topic, endpoint, found)
	}
}

// checkPushAuth checks that push function fn verifies the token its
// subscription sends: SYNTHOS_PUSH_AUDIENCE is the oidc_token's audience,
// SYNTHOS_PUSH_SERVICE_ACCOUNTS its service account, and SYNTHOS_PUSH_AUTH,
// if set, is "oidc".
func (m *module) checkPushAuth(t *testing.T, where, fn string, oidc *hclsyntax.Body) {
	t.Helper()
	env, err := m.env(attr(m.resources["google_cloudfunctions2_function"][fn].body, "service_config", "environment_variables"))
	if err != nil {
		t.Errorf("%s: %v", where, err)
		return
	}
	aud := ref(attr(oidc, "audience"))
	if aud == "" || strings.Contains(aud, "service_config") {
		t.Errorf("%s: oidc_token.audience must be a value the function can be told (a local or variable), is %q", where, aud)
	}
	if got := ref(env["SYNTHOS_PUSH_AUDIENCE"]); got != aud {
		t.Errorf("%s: google_cloudfunctions2_function.%s sets SYNTHOS_PUSH_AUDIENCE = %q, want the subscription's audience %q", where, fn, got, aud)
	}
	sa := ref(attr(oidc, "service_account_email"))
	if got := m.resolveRef(env["SYNTHOS_PUSH_SERVICE_ACCOUNTS"]); got != sa {
		t.Errorf("%s: google_cloudfunctions2_function.%s sets SYNTHOS_PUSH_SERVICE_ACCOUNTS = %q, want the subscription's account %q", where, fn, got, sa)
	}
	if e, ok := env["SYNTHOS_PUSH_AUTH"]; ok {
		if v, _ := m.str(e); v != "oidc" {
			t.Errorf("%s: google_cloudfunctions2_function.%s sets SYNTHOS_PUSH_AUTH = %q; production verifies tokens (oidc)", where, fn, v)
		}
	}
}

// resolveRef is ref, looking through a local that holds a reference.
func (m *module) resolveRef(e hclsyntax.Expression) string {
	r := ref(e)
	if name, ok := strings.CutPrefix(r, "local."); ok && m.locals[name] != nil {
		return m.resolveRef(m.locals[name])
	}
	return r
}

// TestGenerateInstancesBoundShards checks that Generate samples one shard per
// instance and that its instance count is the documented variable.
func TestGenerateInstancesBoundShards(t *testing.T) {
	m := load(t)
	fns := m.functionsFor("Generate")
	if len(fns) != 1 {
		t.Fatalf("Generate deployed by %v", fns)
	}
	body := m.resources["google_cloudfunctions2_function"][fns[0]].body
	if got := ref(attr(body, "service_config", "max_instance_count")); got != "var.generate_max_instances" {
		t.Errorf("Generate's max_instance_count is %q, want var.generate_max_instances", got)
	}
	if v, ok := literal(attr(body, "service_config", "max_instance_request_concurrency")); !ok || v.Type() != cty.Number || !v.Equals(cty.NumberIntVal(1)).True() {
		t.Error("Generate's max_instance_request_concurrency must be 1: one shard per instance")
	}
	if !m.variables["generate_max_instances"] {
		t.Error("variable generate_max_instances is not declared")
	}
}

func TestEveryTopicExists(t *testing.T) {
	m := load(t)
	declared := m.stringList(t, "topics")
	for _, topic := range topics.All() {
		if !slices.Contains(declared, topic) {
			t.Errorf("topic %q (shared/topics) is missing from local.topics in pubsub.tf", topic)
		}
	}
	for _, topic := range declared {
		if !slices.Contains(topics.All(), topic) {
			t.Errorf("local.topics has %q, which shared/topics does not know", topic)
		}
	}
	for _, name := range []string{"topic", "dead_letter"} {
		r := m.resources["google_pubsub_topic"][name]
		if r == nil {
			t.Errorf("google_pubsub_topic.%s is missing", name)
			continue
		}
		fe, ok := attr(r.body, "for_each").(*hclsyntax.FunctionCallExpr)
		if !ok || fe.Name != "toset" || len(fe.Args) != 1 || ref(fe.Args[0]) != "local.topics" {
			t.Errorf("google_pubsub_topic.%s must have for_each = toset(local.topics)", name)
		}
	}
	if r := m.resources["google_pubsub_topic"]["dead_letter"]; r != nil {
		if tmpl, ok := attr(r.body, "name").(*hclsyntax.TemplateExpr); !ok || len(tmpl.Parts) != 2 {
			t.Errorf("google_pubsub_topic.dead_letter.name must be \"${each.value}%s\"", topics.DeadLetter(""))
		} else if s, _ := m.str(tmpl.Parts[1]); s != topics.DeadLetter("") {
			t.Errorf("dead-letter topics are named %q after the topic, shared/topics says %q", s, topics.DeadLetter(""))
		}
	}
}

// pushOnly are the variables only push functions need; checkPushSubscription
// checks them against the subscription's OIDC token.
var pushOnly = []string{"SYNTHOS_PUSH_AUDIENCE", "SYNTHOS_PUSH_SERVICE_ACCOUNTS"}

// required lists what every function must set in production, and the literal
// start its value must have ("" for any value): each variable of
// shared/config without a default, and the production choices of driver.
func required(t *testing.T) map[string]string {
	t.Helper()
	req := map[string]string{
		"SYNTHOS_STATE_URL":   "firestore://",
		"SYNTHOS_OBJECTS_URL": "gs://",
		"SYNTHOS_EVENTS":      "pubsub",
		"SYNTHOS_SECRETS_URL": "gcpsecretmanager://",
	}
	ct := reflect.TypeFor[config.Config]()
	for i := range ct.NumField() {
		tag := ct.Field(i).Tag.Get("env")
		if tag == "" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if !slices.Contains(config.Variables, name) {
			t.Fatalf("config.Config reads %s, which config.Variables does not list", name)
		}
		if !strings.Contains(opts, "default=") && !slices.Contains(pushOnly, name) {
			if _, ok := req[name]; !ok {
				req[name] = ""
			}
		}
	}
	if _, ok := req["GOOGLE_CLOUD_PROJECT"]; !ok {
		t.Fatal("GOOGLE_CLOUD_PROJECT has a default now; revisit what production requires")
	}
	return req
}

func TestEveryFunctionHasTheProductionEnvironment(t *testing.T) {
	m := load(t)
	req := required(t)
	fns := m.resources["google_cloudfunctions2_function"]
	if len(fns) == 0 {
		t.Fatal("no google_cloudfunctions2_function found")
	}
	for _, name := range sortedKeys(fns) {
		r := fns[name]
		where := fmt.Sprintf("google_cloudfunctions2_function.%s (%s)", name, r.at())
		e := attr(r.body, "service_config", "environment_variables")
		if e == nil {
			t.Errorf("%s: no service_config.environment_variables", where)
			continue
		}
		env, err := m.env(e)
		if err != nil {
			t.Errorf("%s: %v", where, err)
			continue
		}
		for _, v := range sortedKeys(req) {
			want := req[v]
			got, ok := env[v]
			if !ok {
				t.Errorf("%s: environment variable %s is not set (production needs it%s)", where, v, describe(want))
				continue
			}
			if want != "" && !strings.HasPrefix(m.prefix(got), want) {
				t.Errorf("%s: %s must start with %q in production, is %q...", where, v, want, m.prefix(got))
			}
		}
		for _, v := range sortedKeys(env) {
			if !slices.Contains(config.Variables, v) {
				t.Errorf("%s: sets %s, which shared/config does not read (a typo?)", where, v)
			}
		}
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func describe(prefix string) string {
	if prefix == "" {
		return ""
	}
	return fmt.Sprintf(", starting %q", prefix)
}

func TestAuditArchiveIsLocked(t *testing.T) {
	m := load(t)
	const sevenYears = 7 * 365 * 24 * 60 * 60
	r := m.resources["google_storage_bucket"]["audit_archive"]
	if r == nil {
		t.Fatal("google_storage_bucket.audit_archive is missing")
	}
	rp := block(r.body, "retention_policy")
	if rp == nil {
		t.Fatal("google_storage_bucket.audit_archive has no retention_policy")
	}
	period, ok := literal(attr(rp, "retention_period"))
	if !ok || period.Type() != cty.Number {
		t.Fatal("audit_archive retention_period must be a literal number of seconds")
	}
	if secs, _ := period.AsBigFloat().Int64(); secs < sevenYears {
		t.Errorf("audit_archive retention_period is %d s, under 7 years (%d s)", secs, sevenYears)
	}
	// Locked unless a test project says otherwise: is_locked is
	// var.audit_retention_locked, whose default is true.
	if got := ref(attr(rp, "is_locked")); got != "var.audit_retention_locked" {
		t.Errorf("audit_archive retention_policy is_locked is %q, want var.audit_retention_locked", got)
	}
	if def, ok := literal(m.defaults["audit_retention_locked"]); !ok || def.Type() != cty.Bool || !def.True() {
		t.Error("variable audit_retention_locked must default to true (the production setting)")
	}
}

func TestBucketsAreUniformAndPrivate(t *testing.T) {
	m := load(t)
	for name, r := range m.resources["google_storage_bucket"] {
		if v, ok := literal(attr(r.body, "uniform_bucket_level_access")); !ok || v.Type() != cty.Bool || !v.True() {
			t.Errorf("google_storage_bucket.%s (%s): uniform_bucket_level_access must be true", name, r.at())
		}
		if s, _ := m.str(attr(r.body, "public_access_prevention")); s != "enforced" {
			t.Errorf("google_storage_bucket.%s (%s): public_access_prevention must be \"enforced\"", name, r.at())
		}
	}
}

// TestReferencesResolve stands in for part of terraform validate: every
// var., local., data. and resource reference names something declared.
func TestReferencesResolve(t *testing.T) {
	m := load(t)
	// iters are the iterators of the enclosing dynamic blocks (a dynamic
	// "x" block's content refers to x.key and x.value).
	var walk func(body *hclsyntax.Body, isVariable bool, iters []string)
	walk = func(body *hclsyntax.Body, isVariable bool, iters []string) {
		for _, a := range body.Attributes {
			if isVariable && a.Name == "type" {
				continue // a type constraint, not references
			}
			for _, tr := range hclsyntax.Variables(a.Expr) {
				if slices.Contains(iters, tr.RootName()) {
					continue
				}
				if msg := m.resolve(tr); msg != "" {
					t.Errorf("%s: %s", tr.SourceRange(), msg)
				}
			}
		}
		for _, b := range body.Blocks {
			inner := iters
			if b.Type == "dynamic" && len(b.Labels) == 1 {
				it := b.Labels[0]
				if a, ok := b.Body.Attributes["iterator"]; ok {
					if tr, diags := hcl.AbsTraversalForExpr(a.Expr); !diags.HasErrors() {
						it = tr.RootName()
					}
				}
				inner = append(slices.Clone(iters), it)
			}
			walk(b.Body, false, inner)
		}
	}
	for _, b := range m.blocks {
		walk(b.Body, b.Type == "variable", nil)
	}
}

// resolve returns why a reference does not resolve, or "".
func (m *module) resolve(tr hcl.Traversal) string {
	name := func(i int) string {
		if i < len(tr) {
			if a, ok := tr[i].(hcl.TraverseAttr); ok {
				return a.Name
			}
		}
		return ""
	}
	switch root := tr.RootName(); root {
	case "each", "count", "self", "path", "terraform":
		return ""
	case "var":
		if !m.variables[name(1)] {
			return "undeclared variable var." + name(1)
		}
	case "local":
		if m.locals[name(1)] == nil {
			return "undeclared local." + name(1)
		}
	case "data":
		if !m.data[name(1)+"."+name(2)] {
			return "undeclared data." + name(1) + "." + name(2)
		}
	default:
		if m.resources[root][name(1)] == nil {
			return "undeclared resource " + root + "." + name(1)
		}
	}
	return ""
}

// objectUsers are the entry points that keep tenant objects: they read or
// write datasets and job artifacts through SYNTHOS_OBJECTS_URL. The registry
// records how an entry is triggered, not what it stores, so the list is kept
// here; every other function opens the object store only for its readiness
// probe and must not be pointed at tenant data.
var objectUsers = []string{"API", "Ingest", "Generate", "Privacy", "Reap", "Analytics"}

// dataBucket is the google_storage_bucket every object user shares.
const dataBucket = "data"

// objectsBucket returns the google_storage_bucket resource name a function's
// SYNTHOS_OBJECTS_URL names, when it is "gs://${google_storage_bucket.X.name}".
func (m *module) objectsBucket(fn *resource) (string, error) {
	e := attr(fn.body, "service_config", "environment_variables")
	if e == nil {
		return "", fmt.Errorf("no service_config.environment_variables")
	}
	env, err := m.env(e)
	if err != nil {
		return "", err
	}
	v, ok := env["SYNTHOS_OBJECTS_URL"]
	if !ok {
		return "", fmt.Errorf("SYNTHOS_OBJECTS_URL is not set")
	}
	tmpl, ok := v.(*hclsyntax.TemplateExpr)
	if !ok || len(tmpl.Parts) != 2 {
		return "", fmt.Errorf("SYNTHOS_OBJECTS_URL must be \"gs://${google_storage_bucket.NAME.name}\"")
	}
	r := ref(tmpl.Parts[1])
	if s, _ := m.str(tmpl.Parts[0]); s != "gs://" || !strings.HasPrefix(r, "google_storage_bucket.") || !strings.HasSuffix(r, ".name") {
		return "", fmt.Errorf("SYNTHOS_OBJECTS_URL must be \"gs://${google_storage_bucket.NAME.name}\"")
	}
	return strings.TrimSuffix(strings.TrimPrefix(r, "google_storage_bucket."), ".name"), nil
}

// TestObjectUsersShareTheDataBucket checks that every function keeping tenant
// objects reads and writes the same bucket (the code reads one object store
// per function, with every key under tenants/<tenant>/), that no other
// function is pointed at it, and that only the object users' service
// accounts are granted anything on it.
func TestObjectUsersShareTheDataBucket(t *testing.T) {
	m := load(t)
	if m.resources["google_storage_bucket"][dataBucket] == nil {
		t.Fatalf("google_storage_bucket.%s is missing", dataBucket)
	}
	users := map[string]bool{}
	accounts := map[string]bool{} // "google_service_account.X" of object users
	for _, e := range registry.All() {
		if !slices.Contains(objectUsers, e.Name) {
			continue
		}
		users[e.Name] = true
	}
	for _, name := range objectUsers {
		if !users[name] {
			t.Errorf("objectUsers lists %q, which functions/registry does not have", name)
		}
	}
	for _, e := range registry.All() {
		fns := m.functionsFor(e.Name)
		if len(fns) != 1 {
			continue // TestEveryEntryPointIsDeployed reports it
		}
		fn := m.resources["google_cloudfunctions2_function"][fns[0]]
		where := fmt.Sprintf("google_cloudfunctions2_function.%s (%s, entry point %s)", fns[0], fn.at(), e.Name)
		bucket, err := m.objectsBucket(fn)
		if err != nil {
			t.Errorf("%s: %v", where, err)
			continue
		}
		switch {
		case users[e.Name] && bucket != dataBucket:
			t.Errorf("%s keeps tenant objects: SYNTHOS_OBJECTS_URL must be gs://${google_storage_bucket.%s.name}, like every other object user, is google_storage_bucket.%s",
				where, dataBucket, bucket)
		case !users[e.Name] && bucket == dataBucket:
			t.Errorf("%s keeps no tenant objects: SYNTHOS_OBJECTS_URL must not name the data bucket", where)
		}
		if users[e.Name] {
			sa := ref(attr(fn.body, "service_config", "service_account_email"))
			accounts[strings.TrimSuffix(sa, ".email")] = true
		}
	}

	// Least privilege on the data bucket: members are object users' own
	// service accounts.
	granted := map[string]bool{}
	for _, name := range sortedKeys(m.resources["google_storage_bucket_iam_member"]) {
		r := m.resources["google_storage_bucket_iam_member"][name]
		if ref(attr(r.body, "bucket")) != "google_storage_bucket."+dataBucket+".name" {
			continue
		}
		where := fmt.Sprintf("google_storage_bucket_iam_member.%s (%s)", name, r.at())
		member, ok := attr(r.body, "member").(*hclsyntax.TemplateExpr)
		var sa string
		if ok && len(member.Parts) == 2 {
			sa = strings.TrimSuffix(ref(member.Parts[1]), ".email")
		}
		if !accounts[sa] {
			t.Errorf("%s: grants the data bucket to %q, which is not the service account of an object user %v", where, sa, objectUsers)
		}
		granted[sa] = true
	}
	for _, sa := range sortedKeys(accounts) {
		if !granted[sa] {
			t.Errorf("%s uses the data bucket but has no google_storage_bucket_iam_member on it", sa)
		}
	}
	for _, name := range sortedKeys(m.resources["google_storage_bucket_iam_binding"]) {
		if ref(attr(m.resources["google_storage_bucket_iam_binding"][name].body, "bucket")) == "google_storage_bucket."+dataBucket+".name" {
			t.Errorf("google_storage_bucket_iam_binding.%s: grant the data bucket per account with google_storage_bucket_iam_member", name)
		}
	}
}

// TestDataBucketLifecycle checks the data bucket deletes everything after
// var.data_retention_days.
func TestDataBucketLifecycle(t *testing.T) {
	m := load(t)
	r := m.resources["google_storage_bucket"][dataBucket]
	if r == nil {
		t.Fatalf("google_storage_bucket.%s is missing", dataBucket)
	}
	found := false
	for _, b := range r.body.Blocks {
		if b.Type != "lifecycle_rule" {
			continue
		}
		cond, action := block(b.Body, "condition"), block(b.Body, "action")
		if cond == nil || action == nil {
			t.Errorf("google_storage_bucket.%s: lifecycle_rule needs a condition and an action", dataBucket)
			continue
		}
		if typ, _ := m.str(attr(action, "type")); typ == "Delete" && ref(attr(cond, "age")) == "var.data_retention_days" &&
			len(cond.Attributes) == 1 {
			found = true
		}
	}
	if !found {
		t.Errorf("google_storage_bucket.%s needs a lifecycle_rule deleting every object (no other condition) at age var.data_retention_days", dataBucket)
	}
}

// TestFirstDeployOrdering: on a fresh project the IAM API must be enabled
// before any service account is created, and every function is built as
// the synthos-build account (projects created since mid-2024 may otherwise
// build as a default account without roles/cloudbuild.builds.builder).
func TestFirstDeployOrdering(t *testing.T) {
	m := load(t)
	services := m.stringList(t, "services")
	for _, api := range []string{"iam.googleapis.com", "cloudresourcemanager.googleapis.com"} {
		if !slices.Contains(services, api) {
			t.Errorf("local.services does not enable %s", api)
		}
	}
	for name, r := range m.resources["google_service_account"] {
		e := attr(r.body, "depends_on")
		var deps []string
		if tup, ok := e.(*hclsyntax.TupleConsExpr); ok {
			for _, x := range tup.Exprs {
				deps = append(deps, ref(x))
			}
		}
		if !slices.Contains(deps, "google_project_service.services") {
			t.Errorf("google_service_account.%s (%s) must depend on google_project_service.services (the IAM API)", name, r.at())
		}
	}
	for name, r := range m.resources["google_cloudfunctions2_function"] {
		if got := ref(attr(r.body, "build_config", "service_account")); got != "local.build_service_account" {
			t.Errorf("google_cloudfunctions2_function.%s (%s): build_config.service_account is %q, want local.build_service_account", name, r.at(), got)
		}
	}
}

// aiUsers are the entry points that call models (shared/assist): the API
// designs specs and prices design jobs, Generate writes text columns and
// labels columns, Privacy writes report narratives.
var aiUsers = []string{"API", "Generate", "Privacy"}

// TestAIConfiguration checks that the functions calling models get the AI
// router's configuration, and that the Anthropic key's secret is the one
// shared/llm reads.
func TestAIConfiguration(t *testing.T) {
	m := load(t)
	sec := m.resources["google_secret_manager_secret"]["anthropic_api_key"]
	if sec == nil {
		t.Fatal("no google_secret_manager_secret.anthropic_api_key")
	}
	if id, ok := m.str(attr(sec.body, "secret_id")); !ok || id != llm.AnthropicKeySecret {
		t.Errorf("anthropic_api_key's secret_id is %q (literal: %v), want %q (llm.AnthropicKeySecret)", id, ok, llm.AnthropicKeySecret)
	}
	for _, entry := range aiUsers {
		names := m.functionsFor(entry)
		if len(names) == 0 {
			t.Errorf("no function runs %s", entry)
		}
		for _, name := range names {
			env, err := m.env(attr(m.resources["google_cloudfunctions2_function"][name].body, "service_config", "environment_variables"))
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			for _, v := range []string{"SYNTHOS_AI_PROVIDERS", "SYNTHOS_AI_MODELS", "SYNTHOS_AI_BUDGETS", "SYNTHOS_VERTEX_LOCATION", "SYNTHOS_CLAUDE_VERTEX_LOCATION"} {
				if _, ok := env[v]; !ok {
					t.Errorf("google_cloudfunctions2_function.%s (%s) calls models but does not set %s", name, entry, v)
				}
			}
		}
	}
}
