// Package waf inspects requests with Coraza (github.com/corazawaf/coraza/v3)
// running the OWASP Core Rule Set (coraza-coreruleset/v4) in anomaly-scoring
// mode: each CRS rule that matches adds to the request's score and the
// request is refused when the score reaches the threshold. The paranoia
// level, the threshold and the mode (block, detect, off) are configuration.
//
// Synthos' own API has places where CRS misfires, handled by exclusions
// here and tested with the README examples and the datasets:
//   - table bytes (multipart uploads to POST /v1/datasets, chunks to PUT
//     /v1/datasets/{id}/content) are data: cells such as =SUM(A1:A9) or
//     'O”Brien' are never executed (outputs escape formulas), so bodies of
//     those routes are not inspected (headers, path and query still are);
//   - model files (multipart uploads to POST /v1/models) are bytes that
//     package modelcheck scans opcode by opcode and never executes, and
//     prediction batches (CSV, JSON Lines or Parquet bodies of POST
//     /v1/models/{id}:predict) are tables like uploads: not inspected either
//     (JSON rows sent to :predict still are);
//   - billing webhooks are authenticated by an HMAC over the exact body
//     before anything parses it, so their bodies are not inspected either;
//   - job requests carry business rules whose "regex" fields are regular
//     expressions by design: they are removed from CRS's targets.
//
// Cost. Inspection is CPU-bound in Coraza's rule loop: at paranoia 1 about
// 250 rules run per request, each with a fixed cost (rule variables, RULE
// collection updates) plus its transformations and regexes over every
// header and argument, so a JSON body costs per field. Load-time settings
// keep per-request work down: exclusions by SecRuleUpdateTargetById, not
// ctl; no 941010; rule families for software we do not run removed; the
// API key headers out of CRS's targets; a constant logdata (Coraza expands
// it before every rule evaluation); CRS's default-setting rules as one
// SecAction and its restricted-header rule as one expression (both read
// from CRS's files at load); and the large CRS expressions, which Go's
// regexp runs slowly and which dominate JSON requests, on RE2 (re2.go).
// Per request, a variant of the rule set without the rules that cannot
// match its shape (no query, no cookies, no body, absent headers) runs
// instead (variants.go); those rules were cheap, so this cuts a GET by
// about a tenth. The markers no request-phase skipAfter names and the
// paranoia rules that never match at the level (paranoia.go), header names
// fed in lower case (lowerName) and RE2's length shortcuts (re2.go) took
// another third of a GET's allocations and a fifth of its CPU time. The
// literal gate (gate.go) removes, per request, the rules that read values
// but cannot match them (their literals, phrases or libinjection verdicts
// absent from every value, no byte outside a @validateByteRange, and no
// byte that their transformations would act on): about two thirds of a
// JSON job's inspection. The setup's constant setvars (five SecActions
// folded into one) run as an operator that sets TX directly (setup.go);
// the rules whose first link reads a TX setting nothing sets, or one the
// setup sets to a constant they are false on, go at load (unset.go); JSON
// bodies go through Coraza's JSON processor without its 32 KiB copy buffer
// (internal/jsonbody): together a fifth of a GET's CPU time and half of a
// JSON job's allocated bytes. What is left is the rules the gate does not
// cover (protocol checks: counts, @within, negated expressions), its own
// pass, and Coraza's fixed cost for the rules that survive it.
package waf

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/netip"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"

	coreruleset "github.com/corazawaf/coraza-coreruleset/v4"
	"github.com/corazawaf/coraza/v3"
	"github.com/corazawaf/coraza/v3/debuglog"
	"github.com/corazawaf/coraza/v3/experimental"
	"github.com/corazawaf/coraza/v3/experimental/plugins"
	"github.com/corazawaf/coraza/v3/experimental/plugins/plugintypes"
	"github.com/corazawaf/coraza/v3/types"

	"synthos.dev/synthos/shared/waf/internal/jsonbody"
)

// JSON bodies go through Coraza's own JSON processor, but for its 32 KiB
// copy buffer per request (internal/jsonbody, which is compared with
// Coraza's). The name is Coraza's: CRS selects the processor by it and
// reads it back in REQBODY_PROCESSOR.
func init() {
	plugins.RegisterBodyProcessor("json", func() plugintypes.BodyProcessor { return jsonbody.Processor{} })
}

// Mode is how the WAF acts on a request that reaches the threshold.
type Mode string

// Modes.
const (
	Block  Mode = "block"  // refuse it (403)
	Detect Mode = "detect" // record it, let it through
	Off    Mode = "off"    // do not run the WAF at all
)

// ParseMode validates a configured mode.
func ParseMode(s string) (Mode, error) {
	switch m := Mode(strings.ToLower(strings.TrimSpace(s))); m {
	case Block, Detect, Off:
		return m, nil
	case "":
		return Block, nil
	}
	return "", fmt.Errorf("waf: mode %q: want block, detect or off", s)
}

// Options configure the WAF.
type Options struct {
	Mode Mode
	// Paranoia is CRS's blocking paranoia level, 1 (few false positives)
	// to 4 (many).
	Paranoia int
	// Threshold is the inbound anomaly score that refuses a request (CRS
	// scores a critical match 5, so 5 refuses on one critical rule).
	Threshold int
	// BodyLimit is how many body bytes are inspected; the rest of a longer
	// body passes uninspected to the handler, which enforces its own size
	// limits.
	BodyLimit int
	// SkipBody reports requests whose body is not inspected; nil uses
	// SynthosSkipBody.
	SkipBody func(*http.Request) bool
	// Directives are extra SecLang directives appended after CRS (more
	// exclusions, or rules of an operator's own).
	Directives string

	// keepIrrelevant loads every CRS rule (tests compare verdicts with and
	// without the removal of irrelevant).
	keepIrrelevant bool
	// stdRegexp keeps every @rx on Go's regexp (tests compare verdicts
	// with and without RE2).
	stdRegexp bool
	// rewritten, if set, receives the patterns moved to RE2.
	rewritten *[]string
	// noVariants runs every request on the full rule set (tests compare).
	noVariants bool
	// keepAbovePL loads the rules above the paranoia level and their skip
	// rules (tests compare).
	keepAbovePL bool
	// keepMarkers loads the markers no skipAfter names (tests compare).
	keepMarkers bool
	// canonicalNames feeds Go's header names (tests compare).
	canonicalNames bool
	// noGate loads no literal gate (tests compare).
	noGate bool
	// setvarSetup keeps the setup's setvars (setup.go; tests compare).
	setvarSetup bool
	// keepUnset loads the rules that read only TX variables nothing sets
	// (unset.go; tests compare).
	keepUnset bool
}

// Defaults.
const (
	DefaultParanoia  = 1
	DefaultThreshold = 5
	DefaultBodyLimit = 1 << 20
)

// tableUpload matches the routes whose bodies are table or model bytes
// (model chunks follow the datasets' resumable protocol).
var tableUpload = regexp.MustCompile(`^/v1/(?:datasets(?:/[^/]+/content)?|models/[^/]+/content)$`)

// predictRoute matches the prediction route of a custom model.
var predictRoute = regexp.MustCompile(`^/v1/models/[^/]+:predict$`)

// SynthosSkipBody is true for table uploads and billing webhooks (see the
// package comment).
func SynthosSkipBody(r *http.Request) bool {
	p := r.URL.Path
	switch r.Method {
	case http.MethodPost, http.MethodPut:
		// Any content type: the handlers read only a multipart table (or
		// the raw chunk) and answer 415 otherwise.
		if tableUpload.MatchString(p) {
			return true
		}
		if r.Method == http.MethodPost && p == "/v1/models" {
			return true
		}
		if r.Method == http.MethodPost && predictRoute.MatchString(p) &&
			!strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
			return true
		}
		if strings.HasPrefix(p, "/webhooks/") {
			return true
		}
	}
	return false
}

// Our API's methods and content types (SecAction 900200).
const (
	allowedMethods = "setvar:'tx.allowed_methods=GET HEAD POST OPTIONS PUT PATCH DELETE'"
	allowedTypes   = "setvar:'tx.allowed_request_content_type=|application/x-www-form-urlencoded| |multipart/form-data| |multipart/related| |text/xml| |application/xml| |application/soap+xml| |application/json| |application/cloudevents+json| |application/cloudevents-batch+json| |text/csv| |text/tab-separated-values| |text/plain| |application/x-ndjson| |application/jsonl| |application/octet-stream| |application/vnd.apache.parquet|'"
	allowedSetvars = allowedMethods + "," + allowedTypes
)

// exclusions are Synthos' CRS exclusions and settings, applied after CRS's
// setup and before its rules. Rule ids 10000-10099 are ours.
const exclusions = `
# Our API speaks these methods and content types; CRS allows fewer by default.
# One SecAction (CRS's setup has one per setting: each costs a rule
# evaluation on every request).
SecAction "id:900200,phase:1,pass,nolog,t:none,` + allowedSetvars + `"
# Server-side template injection, which CRS 4 at paranoia 1 does not see
# (Jinja, Twig, Freemarker, Spring EL, ERB expressions reaching for objects
# or code). Nothing in our API carries template syntax. Scored as a
# critical CRS match, so the anomaly threshold decides as for CRS's rules.
# Every expression starts with one of a few openers: an Aho-Corasick scan
# for them (@pm) runs on every value, the full expression only on the
# values that have one (MATCHED_VARS, already transformed), so a request
# without openers costs one scan per value instead of a regex search.
SecRule ARGS|ARGS_NAMES|REQUEST_HEADERS|REQUEST_COOKIES|REQUEST_FILENAME "@pm {{ {% ${ #{ <% <# *{" "id:10100,phase:2,block,t:none,t:urlDecodeUni,msg:'Server-side template injection',tag:'attack-injection-generic',tag:'synthos',severity:'CRITICAL',chain"
    SecRule MATCHED_VARS "@rx (?i)(?:\{\{|\{%|\$\{|#\{|<%=?|<#|\*\{)[^}]{0,200}?(?:__[a-z]+__|\b(?:config|self|request|lipsum|cycler|joiner|namespace|range|url_for|get_flashed_messages)\b\s*[.\[(|]|\bT\s*\(|runtime|getclass|forname|processbuilder|\b(?:exec|popen|system|eval|import|freemarker|new)\b|\?new\(\))" "capture,t:none,setvar:'tx.inbound_anomaly_score_pl1=+%{tx.critical_anomaly_score}'"
# Chunked uploads speak Content-Range (Cloud Storage's resumable protocol)
# and need no Content-Type (the bytes are a table whatever it says).
SecRule REQUEST_FILENAME "@rx ^/v1/(?:datasets|models)/[^/]+/content$" "id:10002,phase:1,pass,nolog,t:none,ctl:ruleRemoveTargetById=920450;REQUEST_HEADERS_NAMES:content-range,ctl:ruleRemoveById=920340"
# Webhook endpoint URLs are URLs by design; the SSRF guard (shared/webhooks)
# refuses private, loopback and metadata addresses with a precise 400, and
# nothing ever runs them through a shell.
SecRule REQUEST_FILENAME "@rx ^/v1/webhooks(?:/[^/]+)?$" "id:10003,phase:1,pass,nolog,t:none,ctl:ruleRemoveTargetByTag=attack-rfi;ARGS:json.url,ctl:ruleRemoveTargetByTag=attack-ssrf;ARGS:json.url,ctl:ruleRemoveTargetByTag=attack-rce;ARGS:json.url"
# Storage destinations: the bucket URL and endpoint are URLs by design
# (shared/destinations checks their schemes and the https rule), and the
# credential's fields (keys, connection strings, SAS URLs, a service-account
# key's PEM) are sealed at once and only ever handed to the providers' SDKs.
SecRule REQUEST_FILENAME "@rx ^/v1/destinations$" "id:10004,phase:1,pass,nolog,t:none,ctl:ruleRemoveTargetByTag=OWASP_CRS;ARGS:json.url,ctl:ruleRemoveTargetByTag=OWASP_CRS;ARGS:json.endpoint,ctl:ruleRemoveTargetByTag=OWASP_CRS;ARGS:/^json\.credential\./"
`

// irrelevant removes, at load time, CRS rule families that target software
// no Synthos service runs, so no payload of theirs can execute here, and that
// cost a tenth of every request's inspection (each rule runs its regexes
// over every header and argument):
//   - PHP injection (933110-933220: PHP function names and calls,
//     variables, wrappers, serialized objects, session and script uploads):
//     every service is Go; nothing interprets PHP. The PHP open-tag rule
//     (933100) stays: a cheap literal check, and "<?php" in an API field is a
//     probe whatever runs behind it.
//   - Java class, process-spawn and serialization payloads (944100-944140):
//     nothing deserialises Java objects or loads classes. The Log4Shell rules
//     (944150-944152) stay: request strings reach logs, and logs may reach
//     Java tools downstream.
//
// The attack classes these rules also see are still refused by the rest of
// CRS and rule 10100 (TestAttacksBlocked, TestIrrelevantRemovalKeepsDetection).
const irrelevant = `
SecRuleRemoveById 933110-933220
SecRuleRemoveById 944100-944140
`

// restrictedHeaders replaces CRS 920450 (request headers CRS's policy
// forbids, tx.restricted_headers_basic) with a rule of the same id that
// matches the names with one expression. CRS's rule sets a TX variable per
// header through a macro and then searches every TX variable by a key
// regex in a chained rule: about 4% of a GET's inspection. The names are
// read from CRS's own default (rule 901165) when the WAF is built, so a
// CRS upgrade that changes the list changes ours; a list set at run time
// (setvar in Options.Directives) would not apply, and we set none.
func restrictedHeaders() (string, error) {
	b, err := fs.ReadFile(coreruleset.FS, "@owasp_crs/REQUEST-901-INITIALIZATION.conf")
	if err != nil {
		return "", fmt.Errorf("waf: read CRS initialisation: %w", err)
	}
	m := regexp.MustCompile(`setvar:'tx\.restricted_headers_basic=([^']*)'`).FindSubmatch(b)
	if m == nil {
		return "", errors.New("waf: CRS no longer sets tx.restricted_headers_basic in 901165: review the 920450 replacement")
	}
	var names []string
	for _, f := range strings.Fields(string(m[1])) {
		n := strings.Trim(f, "/")
		if n == "" || f != "/"+n+"/" || !regexp.MustCompile(`^[a-z0-9-]+$`).MatchString(n) {
			return "", fmt.Errorf("waf: restricted header %q in CRS 901165 is not a plain name", f)
		}
		names = append(names, n)
	}
	return `
SecRuleRemoveById 920450
SecRule REQUEST_HEADERS_NAMES "@rx ^(?:` + strings.Join(names, "|") + `)$" "id:920450,phase:1,block,capture,t:none,t:lowercase,msg:'HTTP header is restricted by policy (%{MATCHED_VAR})',tag:'attack-protocol',tag:'paranoia-level/1',tag:'OWASP_CRS',tag:'synthos',severity:'CRITICAL',setvar:'tx.inbound_anomaly_score_pl1=+%{tx.critical_anomaly_score}'"
`, nil
}

// setByUs are the TX variables set before CRS's initialisation runs (our
// SecActions 900000 and 900200 above, and crs-setup's 900990).
var setByUs = map[string]bool{
	"blocking_paranoia_level": true, "inbound_anomaly_score_threshold": true,
	"outbound_anomaly_score_threshold": true, "allowed_methods": true,
	"allowed_request_content_type": true, "crs_setup_version": true,
}

// initDefault is one of CRS's initialisation rules that give a TX variable
// its default when the setup left it unset.
var initDefault = regexp.MustCompile(`SecRule &TX:(\w+) "@eq 0" \\\n\s+"id:(\d+),\\\n\s+phase:1,\\\n\s+pass,\\\n\s+nolog,\\\n\s+tag:'OWASP_CRS',\\\n\s+ver:'[^']*',\\\n\s+setvar:'tx\.(\w+)=([^']*)'"`)

// initDefaults replaces CRS's per-variable default rules (901100-901171,
// 901510: 22 rules, each a collection count and a setvar, a tenth of a
// GET's inspection) with one SecAction that sets, in the same order, the
// defaults of the variables our setup leaves unset; the rules for the
// variables it sets could never fire. The rules and their values are read
// from CRS's file when the WAF is built, so an upgrade carries over;
// TestInitDefaultsKeepTX compares the TX collection after phase 1 with
// CRS's own rules.
//
// The same SecAction also does the work of every other constant setting
// SecAction of phase 1 (crs-setup's 900990, our 900000 and 900200, CRS's
// 901200 that zeroes the scores), which go: setvars run in the order they
// had (one rule's setvars run one after the other, as consecutive rules'
// do), and the rules between their old places and 10010's (the gate,
// 10002-10004, 901001 that reads only tx.crs_setup_version, set first) read
// none of the variables moved past them. Each SecAction cost a rule
// evaluation and a matched-rule record per request. pre are the setvars of
// 900000 and 900200.
func initDefaults(pre []string, fold bool) (action, remove string, consts map[string]string, err error) {
	b, err := fs.ReadFile(coreruleset.FS, "@owasp_crs/REQUEST-901-INITIALIZATION.conf")
	if err != nil {
		return "", "", nil, fmt.Errorf("waf: read CRS initialisation: %w", err)
	}
	setup, err := fs.ReadFile(coreruleset.FS, "@crs-setup.conf.example")
	if err != nil {
		return "", "", nil, fmt.Errorf("waf: read CRS setup: %w", err)
	}
	version := setupVersion.FindSubmatch(setup)
	zero := zeroScores.FindSubmatch(b)
	if version == nil || zero == nil {
		return "", "", nil, errors.New("waf: CRS's 900990 or 901200 is not the constant SecAction it was: review initDefaults")
	}
	setvars := append([]string{string(version[1])}, pre...)
	var ids []string
	for _, m := range initDefault.FindAllSubmatch(b, -1) {
		name, id, set, value := string(m[1]), string(m[2]), string(m[3]), string(m[4])
		if !strings.EqualFold(name, set) {
			continue
		}
		ids = append(ids, id)
		if !setByUs[strings.ToLower(name)] {
			setvars = append(setvars, fmt.Sprintf("setvar:'tx.%s=%s'", set, value))
		}
	}
	if len(ids) < 10 {
		return "", "", nil, fmt.Errorf("waf: found %d CRS default rules in 901: review initDefaults", len(ids))
	}
	for _, sv := range strings.Split(string(zero[1]), ",\\\n") {
		sv = strings.TrimSpace(sv)
		if !zeroSetvar.MatchString(sv) {
			return "", "", nil, fmt.Errorf("waf: CRS 901200 sets %q: review initDefaults", sv)
		}
		setvars = append(setvars, sv)
	}
	action = `SecAction "id:10010,phase:1,pass,nolog,t:none,` + strings.Join(setvars, ",") + `"`
	if fold {
		// The setvars set directly (setup.go), if they fold.
		if r, vars := setupRule(setupID, setvars); r != "" {
			action = r
			consts = map[string]string{}
			for _, v := range vars {
				consts[v.key] = v.value[0]
			}
		}
	}
	return action, "SecRuleRemoveById 900000 900200 900990 901200 " + strings.Join(ids, " ") + "\n", consts, nil
}

var (
	// setupVersion is crs-setup's 900990, which only sets the version.
	setupVersion = regexp.MustCompile(`SecAction \\\n\s+"id:900990,\\\n\s+phase:1,\\\n\s+pass,\\\n\s+t:none,\\\n\s+nolog,\\\n\s+tag:'OWASP_CRS',\\\n\s+ver:'[^']*',\\\n\s+(setvar:tx\.crs_setup_version=\d+)"`)
	// zeroScores is CRS's 901200, which sets the scores to 0.
	zeroScores = regexp.MustCompile(`SecAction \\\n\s+"id:901200,\\\n\s+phase:1,\\\n\s+pass,\\\n\s+t:none,\\\n\s+nolog,\\\n\s+tag:'OWASP_CRS',\\\n\s+ver:'[^']*',\\\n\s+((?:setvar:'tx\.\w+=0',\\\n\s+)*setvar:'tx\.\w+=0')"`)
	zeroSetvar = regexp.MustCompile(`^setvar:'tx\.\w+=0'$`)
)

// WAF is a compiled Coraza instance; safe for concurrent use.
type WAF struct {
	o   Options
	waf coraza.WAF
	// gate is the literal gate's plan (gate.go); gateOff says why there is
	// none.
	gate    *gatePlan
	gateOff error
	// variants serve requests whose shape leaves rules nothing to read
	// (variants.go); nil: every request runs on waf.
	variants *variants
	// variantsOff is why a rule set got no variants.
	variantsOff error
	// lowerNames feeds header names in lower case (see lowerName).
	lowerNames bool
	// unset are the rules removed at load for reading only TX variables
	// nothing sets (unset.go).
	unset []int
}

// New compiles CRS with o.
func New(o Options) (*WAF, error) {
	if o.Mode == "" {
		o.Mode = Block
	}
	if o.Mode == Off {
		return &WAF{o: o}, nil
	}
	if o.Paranoia == 0 {
		o.Paranoia = DefaultParanoia
	}
	if o.Paranoia < 1 || o.Paranoia > 4 {
		return nil, fmt.Errorf("waf: paranoia level %d: want 1 to 4", o.Paranoia)
	}
	if o.Threshold == 0 {
		o.Threshold = DefaultThreshold
	}
	if o.Threshold < 1 {
		return nil, fmt.Errorf("waf: anomaly threshold %d: want at least 1", o.Threshold)
	}
	if o.BodyLimit == 0 {
		o.BodyLimit = DefaultBodyLimit
	}
	if o.SkipBody == nil {
		o.SkipBody = SynthosSkipBody
	}
	removed, initAction := irrelevant, ""
	var consts map[string]string // the setup's TX settings (setup.go)
	if o.keepIrrelevant {
		removed = ""
	} else {
		r, err := restrictedHeaders()
		if err != nil {
			return nil, err
		}
		removed += r
		action, remove, c, err := initDefaults([]string{
			"setvar:tx.blocking_paranoia_level=" + strconv.Itoa(o.Paranoia),
			"setvar:tx.inbound_anomaly_score_threshold=" + strconv.Itoa(o.Threshold),
			"setvar:tx.outbound_anomaly_score_threshold=4", allowedMethods, allowedTypes,
		}, !o.setvarSetup)
		if err != nil {
			return nil, err
		}
		initAction = action
		removed += remove
		consts = c
	}
	// The literal gate's rules (gate.go), placed before our own rules and
	// CRS's, so that it covers both; its plan is made once the rules are
	// loaded.
	var g *gate
	gateRules, key := "", ""
	if !o.noGate {
		g = &gate{}
		key = "g" + strconv.FormatUint(gateSeq.Add(1), 10)
		gates.Store(key, g)
		defer func() {
			if g.plan.Load() == nil {
				gates.Delete(key) // no WAF, or no plan: nothing will look it up again
			}
		}()
		gateRules = gateDirectives(key)
	}
	engine := "On"
	if o.Mode == Detect {
		engine = "DetectionOnly"
	}
	directives := fmt.Sprintf(`
Include @coraza.conf-recommended
SecRuleEngine %s
# Literal pre-filtering of @rx: at load time Coraza extracts each pattern's
# minimum length and the literals any match must contain, and skips the
# regex only when the input provably cannot match (any doubt, e.g.
# non-ASCII input to a case-insensitive pattern, runs the full regex), so
# verdicts are unchanged; TestAttacksBlocked and TestLegitimateNeverBlocked
# hold it to that.
SecRxPreFilter On
SecRequestBodyAccess On
SecRequestBodyLimit %d
SecRequestBodyInMemoryLimit %d
SecRequestBodyLimitAction ProcessPartial
SecResponseBodyAccess Off
SecAuditEngine Off
Include @crs-setup.conf.example
SecAction "id:900000,phase:1,pass,nolog,t:none,setvar:tx.blocking_paranoia_level=%d,setvar:tx.inbound_anomaly_score_threshold=%d,setvar:tx.outbound_anomaly_score_threshold=4"
%s
%s
%s
Include @owasp_crs/*.conf
# A numeric Host is how the local runner (127.0.0.1:8080) and load balancers
# by address are reached: not a signal here.
SecRuleRemoveById 920350
# A JSON body the WAF cannot parse is answered 400 by our handlers, which
# decode strictly with encoding/json and act on nothing else; refusing it
# with 403 here would hide the field-level error clients need.
SecRuleRemoveById 200002
# CRS's 941010 is a speed-up for ModSecurity: on a path of plain characters
# it removes REQUEST_FILENAME from the XSS rules by tag, per request. In
# Coraza that ctl walks every loaded rule (copying each) on every request,
# which costs more than the XSS rules' own prefiltered checks of the path.
# Without it the XSS rules see every path: detection can only grow.
SecRuleRemoveById 941010
# Coraza expands every rule's logdata (and msg) before it evaluates the
# rule, whether or not it matches, to fill the RULE collection: CRS's
# logdata ("Matched Data: %%{TX.0} found within %%{MATCHED_VAR_NAME}: ...")
# is a string built per rule per request. It only ever reaches audit logs,
# which are off; verdicts carry msg, which is kept.
SecRuleUpdateActionById 920000-944999 "logdata:'-'"
# Business rules' "regex" fields (json.rules.N.regex: job requests and
# designs, the only bodies that carry a rule set) are regular expressions on
# purpose. Updated once at load time, by id range (every CRS rule that reads
# ARGS is in 920000-944999), not per request: a ctl:ruleRemoveTargetById on
# the range built one exclusion per rule in it on every job request, 5%% of
# its cost. Any other field, and the same payload anywhere else, is still
# inspected (TestExclusionsMatter).
SecRuleUpdateTargetById 920000-944999 "!ARGS:/^json\.rules\.\d+\.regex$/"
SecRuleUpdateTargetById 10100 "!ARGS:/^json\.rules\.\d+\.regex$/"
# The API key (Authorization: Bearer sk_..., or X-API-Key) is an opaque
# token that package apikeys looks up by its HMAC and nothing else reads; a
# key that is not ours is refused 401 before any handler runs. Every CRS
# rule that reads all REQUEST_HEADERS ran its transformations and regexes
# over it on every request (a quarter of the header work of a GET).
# Keys in lower case: Coraza lower-cases header names, and an exception
# key with capitals is lower-cased again (an allocation) per header per rule.
SecRuleUpdateTargetById 920000-944999 "!REQUEST_HEADERS:authorization"
SecRuleUpdateTargetById 920000-944999 "!REQUEST_HEADERS:x-api-key"
SecRuleUpdateTargetById 10100 "!REQUEST_HEADERS:authorization"
SecRuleUpdateTargetById 10100 "!REQUEST_HEADERS:x-api-key"
%s
%s
`, engine, o.BodyLimit, o.BodyLimit, o.Paranoia, o.Threshold, gateRules, exclusions, initAction, removed, o.Directives)
	// The rules above the paranoia level go at load (paranoia.go), unless
	// the operator's directives could change the level or read what the
	// removed skip rules leave behind.
	prune := o.Paranoia
	if o.keepIrrelevant || o.keepAbovePL || operatorPL.MatchString(o.Directives) {
		prune = 0
	}
	// The files as loaded (pruned, rewritten), read without the test hook:
	// the text the variants' analysis and the marker pruning read.
	var troot fs.FS = crsFS{FS: coreruleset.FS, paranoia: prune, pruned: map[int]bool{}}
	if o.stdRegexp {
		troot = coreruleset.FS
	}
	text, err := ruleText(directives, troot)
	if err != nil {
		return nil, err
	}
	var unset []int
	// The rules that read only TX settings nothing sets go (unset.go),
	// unless the operator's directives include files the text does not
	// hold.
	if !o.keepIrrelevant && !o.keepUnset && !includeLine.MatchString(o.Directives) {
		lt, err := loadText(directives, troot)
		if err != nil {
			return nil, err
		}
		if ids := unsetRules(lt, consts); len(ids) > 0 {
			unset = ids
			rm := "\nSecRuleRemoveById"
			for _, id := range ids {
				rm += " " + strconv.Itoa(id)
			}
			rm += "\n"
			directives += rm
			text += rm
		}
	}
	// Markers no skipAfter names go (paranoia.go), unless the operator's
	// directives include files (whose skipAfters the text does not hold)
	// or have a skip:N, which could count markers.
	var markers map[string]bool
	if !o.keepMarkers && !includeLine.MatchString(o.Directives) && !skipAction.MatchString(directives) {
		markers = skipTargets(text)
	}
	var root fs.FS = crsFS{FS: coreruleset.FS, rewritten: o.rewritten, paranoia: prune, pruned: map[int]bool{}, markers: markers}
	if o.stdRegexp {
		root = coreruleset.FS
	}
	var loaded []types.RuleMetadata
	cfg := coraza.NewWAFConfig().WithRootFS(root).WithDebugLogger(nopLogger{})
	w, err := coraza.NewWAF(experimental.WAFConfigWithRuleObserver(cfg, func(r types.RuleMetadata) {
		loaded = append(loaded, r)
	}).WithDirectives(directives))
	if err != nil {
		return nil, fmt.Errorf("waf: compile the Core Rule Set: %w", err)
	}
	out := &WAF{o: o, waf: w, lowerNames: !o.canonicalNames && !lowerNamesOff.MatchString(o.Directives), unset: unset}
	if includeLine.MatchString(o.Directives) {
		// Files of the operator's own: the analysis cannot read them.
		out.gateOff = errors.New("operator directives include files")
		return out, nil
	}
	rules := make([]ruleInfo, len(loaded))
	for i, r := range loaded {
		rules[i] = analyse(r)
	}
	gated := map[int]bool{}
	if g != nil {
		plan, err := planGate(w, loaded, rules, text)
		if err != nil {
			out.gateOff = err
		} else {
			g.plan.Store(plan)
			out.gate = plan
			// The variants built later look the gate up by key while out
			// lives.
			runtime.AddCleanup(out, func(k string) { gates.Delete(k) }, key)
			for _, ph := range plan.phases {
				for _, r := range ph.rules {
					gated[r.id] = true
				}
			}
		}
	} else {
		out.gateOff = errors.New("no gate (test option)")
	}
	if o.noVariants {
		return out, nil
	}
	p, err := newPlanner(rules, text)
	if p != nil {
		// Rules the gate may remove per request do not hold a skip window.
		p.gated = gated
	}
	if err != nil {
		// A rule set the analysis does not model runs whole.
		out.variantsOff = err
		return out, nil
	}
	vs := &variants{p: p, byDrop: map[string]*variant{}, build: func(drop []int) (coraza.WAF, error) {
		ids := make([]string, len(drop))
		for i, id := range drop {
			ids[i] = strconv.Itoa(id)
		}
		// The same files, without the test hook that lists rewritten
		// patterns (a variant rewrites the same ones).
		var vroot fs.FS = crsFS{FS: coreruleset.FS, paranoia: prune, pruned: map[int]bool{}, markers: markers}
		if o.stdRegexp {
			vroot = coreruleset.FS
		}
		return coraza.NewWAF(coraza.NewWAFConfig().WithRootFS(vroot).WithDebugLogger(nopLogger{}).
			WithDirectives(directives + "\nSecRuleRemoveById " + strings.Join(ids, " ") + "\n"))
	}}
	out.variants = vs
	return out, nil
}

var (
	includeLine = regexp.MustCompile(`(?im)^\s*include\s`)
	operatorPL  = regexp.MustCompile(`(?i)paranoia_level|MATCHED_VAR|\bRULE\b`)
)

// Mode returns the configured mode.
func (w *WAF) Mode() Mode { return w.o.Mode }

// Match is one CRS rule that matched.
type Match struct {
	ID  int    `json:"id"`
	Msg string `json:"msg"`
}

// Verdict is what the WAF decided about a request.
type Verdict struct {
	// Blocked: the request must be refused (block mode only).
	Blocked bool
	// Flagged: the request reached the threshold (in detect mode it is
	// let through all the same).
	Flagged bool
	// RuleID is the rule that decided (949110: the inbound anomaly score
	// reached the threshold).
	RuleID  int
	Matches []Match
}

// anomalyRule is CRS's inbound blocking evaluation.
const anomalyRule = 949110

// Inspect runs the request phases on r (connection, URI, headers, and up
// to BodyLimit body bytes unless SkipBody). It returns r with its body
// restored for the handler: the inspected prefix is replayed, the rest is
// streamed, so a large body is never held whole.
func (w *WAF) Inspect(r *http.Request, client netip.Addr) (Verdict, *http.Request, error) {
	if w.waf == nil {
		return Verdict{}, r, nil
	}
	s, uri, body := w.shapeOf(r)
	return w.inspect(w.variants.pick(s, w.waf), r, uri, body, client, nil)
}

// inspect runs r on engine; observe, if set, sees the transaction before it
// closes (tests).
func (w *WAF) inspect(engine coraza.WAF, r *http.Request, uri string, body bool, client netip.Addr, observe func(types.Transaction)) (Verdict, *http.Request, error) {
	tx := engine.NewTransaction()
	// No ProcessLogging: the logging phase only runs CRS's reporting rules
	// (RESPONSE-980: a summary message of the scores) and writes audit logs,
	// which are off; the verdict is decided in phases 1 and 2 and recorded
	// by the caller as a security event.
	defer tx.Close()
	if observe != nil {
		defer observe(tx)
	}
	tx.ProcessConnection(client.String(), 0, "", 0)
	tx.ProcessURI(uri, r.Method, r.Proto)
	for k, vs := range r.Header {
		name := k
		if w.lowerNames {
			name = lowerName(k)
		}
		for _, v := range vs {
			tx.AddRequestHeader(name, v)
		}
	}
	host, clen, te := "Host", "Content-Length", "Transfer-Encoding"
	if w.lowerNames {
		host, clen, te = "host", "content-length", "transfer-encoding"
	}
	if r.Host != "" {
		tx.AddRequestHeader(host, r.Host)
		tx.SetServerName(r.Host)
	}
	// Go moves these out of the header map; CRS checks them (920180 wants
	// a length or a transfer coding on every body).
	if r.ContentLength >= 0 && r.Header.Get("Content-Length") == "" && (r.ContentLength > 0 || r.Method == http.MethodPost || r.Method == http.MethodPut || r.Method == http.MethodPatch) {
		tx.AddRequestHeader(clen, strconv.FormatInt(r.ContentLength, 10))
	}
	for _, v := range r.TransferEncoding {
		tx.AddRequestHeader(te, v)
	}
	if it := tx.ProcessRequestHeaders(); it != nil {
		return w.verdict(tx, it), r, nil
	}
	if body {
		buf, err := io.ReadAll(io.LimitReader(r.Body, int64(w.o.BodyLimit)))
		if err != nil {
			return Verdict{}, r, fmt.Errorf("waf: read the request body: %w", err)
		}
		if it, _, err := tx.WriteRequestBody(buf); err != nil {
			return Verdict{}, r, fmt.Errorf("waf: buffer the request body: %w", err)
		} else if it != nil {
			return w.verdict(tx, it), r, nil
		}
		// A shallow copy, as WithContext makes: only the body changes, so
		// the headers and URL need no deep copy (Clone) per request.
		r2 := new(http.Request)
		*r2 = *r
		r2.Body = replayBody{io.MultiReader(bytes.NewReader(buf), r.Body), r.Body}
		r = r2
	}
	it, err := tx.ProcessRequestBody()
	if err != nil {
		return Verdict{}, r, fmt.Errorf("waf: inspect the request body: %w", err)
	}
	return w.verdict(tx, it), r, nil
}

// Header names reach Coraza in lower case. Coraza matches header names
// case-insensitively, by lower-casing: every rule that reads
// REQUEST_HEADERS lower-cases every header's name again (an allocation per
// header per rule for Go's canonical "User-Agent"), as does adding the
// header. A lower-case name costs nothing to lower-case. The names Go hands
// over are already canonicalised (the client's own case is gone), so the
// lower-case name carries the same information; what changes is the case
// of the names in REQUEST_HEADERS_NAMES and MATCHED_VAR(S)_NAME(S). The
// CRS rules loaded at any paranoia level that read those either
// lower-case them first (920450, 920451) or look for CR and LF (921140,
// header injection); logdata, which would show them, is a constant.
// A rule set whose operator directives read them keeps Go's names
// (lowerNamesOff). TestLowerNamesKeepVerdicts compares verdicts, matches
// and TX with Go's names.

// lowerNamesOff matches operator directives that could see the case of a
// header name.
var lowerNamesOff = regexp.MustCompile(`(?i)REQUEST_HEADERS_NAMES|MATCHED_VARS?_NAMES?|\bRULE\b`)

// commonLower are the lower-case names of common headers, so that feeding
// them allocates nothing.
var commonLower = func() map[string]string {
	m := map[string]string{}
	for _, k := range []string{"Accept", "Accept-Encoding", "Accept-Language", "Authorization", "Cache-Control",
		"Connection", "Content-Length", "Content-Range", "Content-Type", "Cookie", "Forwarded", "Host",
		"Idempotency-Key", "If-Match", "If-None-Match", "Origin", "Pragma", "Range", "Referer", "Te",
		"Traceparent", "Tracestate", "Transfer-Encoding", "Upgrade", "User-Agent", "Via", "X-Api-Key",
		"X-Cloud-Trace-Context", "X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto",
		"X-Real-Ip", "X-Request-Id", "Sec-Fetch-Mode", "Sec-Fetch-Site", "Sec-Fetch-Dest", "Dnt"} {
		m[k] = strings.ToLower(k)
	}
	return m
}()

func lowerName(k string) string {
	if l, ok := commonLower[k]; ok {
		return l
	}
	return strings.ToLower(k)
}

// nopLogger is Coraza's debug logger when debug logging is off. Coraza's
// own no-op logger still builds a child logger with fields for every rule
// it evaluates (hundreds per request); this one returns itself.
type nopLogger struct{}

func (l nopLogger) WithOutput(io.Writer) debuglog.Logger          { return l }
func (l nopLogger) WithLevel(debuglog.Level) debuglog.Logger      { return l }
func (l nopLogger) With(...debuglog.ContextField) debuglog.Logger { return l }
func (nopLogger) Trace() debuglog.Event                           { return nopEvent{} }
func (nopLogger) Debug() debuglog.Event                           { return nopEvent{} }
func (nopLogger) Info() debuglog.Event                            { return nopEvent{} }
func (nopLogger) Warn() debuglog.Event                            { return nopEvent{} }
func (nopLogger) Error() debuglog.Event                           { return nopEvent{} }

type nopEvent struct{}

func (nopEvent) Msg(string)                                     {}
func (e nopEvent) Str(string, string) debuglog.Event            { return e }
func (e nopEvent) Err(error) debuglog.Event                     { return e }
func (e nopEvent) Bool(string, bool) debuglog.Event             { return e }
func (e nopEvent) Int(string, int) debuglog.Event               { return e }
func (e nopEvent) Uint(string, uint) debuglog.Event             { return e }
func (e nopEvent) Stringer(string, fmt.Stringer) debuglog.Event { return e }
func (nopEvent) IsEnabled() bool                                { return false }

type replayBody struct {
	io.Reader
	orig io.Closer
}

func (b replayBody) Close() error { return b.orig.Close() }

func (w *WAF) verdict(tx types.Transaction, it *types.Interruption) Verdict {
	var v Verdict
	for _, m := range tx.MatchedRules() {
		id := m.Rule().ID()
		// Skip CRS's bookkeeping (setup and initialisation rules log
		// nothing of interest).
		if id < 910000 && id >= 900000 {
			continue
		}
		if m.Message() == "" {
			continue
		}
		v.Matches = append(v.Matches, Match{ID: id, Msg: m.Message()})
		if id == anomalyRule {
			v.Flagged, v.RuleID = true, id
		}
	}
	if it != nil {
		v.Blocked, v.Flagged, v.RuleID = true, true, it.RuleID
	}
	return v
}

// RuleIDs lists the ids of v's matches, for records and messages.
func (v Verdict) RuleIDs() string {
	ids := make([]string, 0, len(v.Matches))
	for _, m := range v.Matches {
		ids = append(ids, strconv.Itoa(m.ID))
	}
	slices.Sort(ids)
	return strings.Join(slices.Compact(ids), ",")
}

// ErrBlocked is returned by callers that turn a verdict into an error.
var ErrBlocked = errors.New("waf: request blocked")
