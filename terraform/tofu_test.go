package terraform_test

// The configuration checked by the real thing: OpenTofu and the Google
// provider, through ../../shared/tools/tf-validate (offline, a local provider
// mirror). TestTofuValidate runs `validate` and `fmt -check`; TestTofuPlan
// plans the whole configuration against a stand-in for the few Google APIs a
// plan calls, and asserts on the planned resources.

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"synthos.dev/synthos/functions/registry"
	"synthos.dev/synthos/shared/destinations"
	"synthos.dev/synthos/shared/metrics"
)

// tfValidate is the wrapper around OpenTofu 1.10 and the Google provider
// 6.50 kept beside the repository (../shared/tools from its root).
const tfValidate = "../../shared/tools/tf-validate"

// tool returns the wrapper's path, or skips the test when it is missing;
// under CI=true a missing tool fails instead.
func tool(t *testing.T) string {
	t.Helper()
	p, err := filepath.Abs(tfValidate)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(p); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is missing (CI=true): the Terraform cannot be validated; clone ../shared beside the repository", tfValidate)
		}
		t.Skipf("%s is missing: Terraform not validated with OpenTofu (clone ../shared beside the repository; fails under CI=true)", tfValidate)
	}
	return p
}

// run runs the wrapper on dir with tofu arguments and returns its output.
func run(t *testing.T, tf, dir string, args ...string) string {
	t.Helper()
	full := append([]string{dir}, args...)
	if len(args) > 0 {
		full = append([]string{dir, "--"}, args...)
	}
	cmd := exec.Command(tf, full...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("tf-validate %s: %v\n%s", strings.Join(full, " "), err, out)
	}
	return string(out)
}

func TestTofuValidate(t *testing.T) {
	tf := tool(t)
	out := run(t, tf, ".")
	if !strings.Contains(out, "The configuration is valid") || strings.Contains(out, "Warning") {
		t.Errorf("tofu validate:\n%s", out)
	}
	run(t, tf, ".", "fmt", "-check", "-recursive", "-no-color")
}

// standIn answers the Google API calls a plan makes: the project (number
// and billing info, data.google_project), Cloud Storage's service agent
// (data.google_storage_project_service_account) and the source bucket the
// import block adopts. Anything else is recorded as unexpected.
type standIn struct {
	project, number string
	mu              sync.Mutex
	unexpected      []string
}

func (s *standIn) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	reply := func(v any) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(v)
	}
	p := r.URL.Path
	switch {
	case r.Method == http.MethodGet && strings.HasSuffix(p, "/projects/"+s.project+"/serviceAccount"):
		reply(map[string]string{"kind": "storage#serviceAccount",
			"email_address": "service-" + s.number + "@gs-project-accounts.iam.gserviceaccount.com"})
	case r.Method == http.MethodGet && strings.HasSuffix(p, "/b/"+s.project+"-synthos-source"):
		reply(map[string]any{"kind": "storage#bucket", "name": s.project + "-synthos-source",
			"id": s.project + "-synthos-source", "location": "EUROPE-WEST1", "storageClass": "STANDARD",
			"projectNumber": s.number, "metageneration": "1",
			"iamConfiguration": map[string]any{"uniformBucketLevelAccess": map[string]any{"enabled": true},
				"publicAccessPrevention": "enforced"},
			"versioning": map[string]any{"enabled": true}})
	case r.Method == http.MethodGet && strings.HasSuffix(p, "/projects/"+s.project+"/global/networks/default"):
		// data.google_compute_network.edge (redis_enabled): the VPC the
		// connector and Memorystore join.
		reply(map[string]any{"kind": "compute#network", "id": "4815162342", "name": "default",
			"selfLink":              "https://www.googleapis.com/compute/v1/projects/" + s.project + "/global/networks/default",
			"autoCreateSubnetworks": true, "routingConfig": map[string]string{"routingMode": "REGIONAL"}})
	case r.Method == http.MethodGet && strings.HasSuffix(p, "/projects/"+s.project+"/billingInfo"):
		reply(map[string]any{"name": "projects/" + s.project + "/billingInfo", "projectId": s.project,
			"billingAccountName": "billingAccounts/000000-000000-000000", "billingEnabled": true})
	case r.Method == http.MethodGet && strings.HasSuffix(p, "/projects/"+s.project):
		reply(map[string]any{"projectId": s.project, "projectNumber": s.number, "name": s.project,
			"lifecycleState": "ACTIVE", "parent": map[string]string{"type": "organization", "id": "1"}})
	default:
		s.mu.Lock()
		s.unexpected = append(s.unexpected, r.Method+" "+r.URL.String())
		s.mu.Unlock()
		w.WriteHeader(http.StatusNotFound)
		reply(map[string]any{"error": map[string]any{"code": 404, "message": "not in the stand-in"}})
	}
}

var gcsBackend = regexp.MustCompile(`(?m)^\s*backend "gcs" \{\}\n`)

// plannedResource is the part of `tofu show -json` the test reads.
type plannedResource struct {
	Address string         `json:"address"`
	Type    string         `json:"type"`
	Name    string         `json:"name"`
	Values  map[string]any `json:"values"`
}

// planned is a plan as `tofu show -json` describes it.
type planned struct {
	byType map[string][]plannedResource
	// Values known only after apply (ids, URIs) are absent from the
	// planned values; the configuration's expressions say where they come
	// from, by resource address.
	exprs map[string]map[string]any
}

const planProject, planNumber = "synthos-plan", "123456789012"

// tofuPlan plans the configuration with extra -var flags against the
// stand-in and returns the plan.
func tofuPlan(t *testing.T, extra ...string) planned {
	t.Helper()
	tf := tool(t)
	s := &standIn{project: planProject, number: planNumber}
	srv := httptest.NewServer(s)
	defer srv.Close()

	// A scratch copy without the gcs backend (tf-validate initialises with
	// -backend=false, so the default local state is used) and with a
	// provider that talks to the stand-in; tf-validate copies it again into
	// its own scratch directory.
	dir := t.TempDir()
	paths, _ := filepath.Glob("*.tf")
	for _, p := range paths {
		src, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		src = gcsBackend.ReplaceAll(src, nil)
		if err := os.WriteFile(filepath.Join(dir, p), src, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	override := fmt.Sprintf(`provider "google" {
  access_token                     = "stand-in"
  resource_manager_custom_endpoint = "%[1]s/cloudresourcemanager/v1/"
  storage_custom_endpoint          = "%[1]s/storage/v1/"
  cloud_billing_custom_endpoint    = "%[1]s/cloudbilling/v1/"
  compute_custom_endpoint          = "%[1]s/compute/v1/"
}
`, srv.URL)
	if err := os.WriteFile(filepath.Join(dir, "zz_stand_in_override.tf"), []byte(override), 0o644); err != nil {
		t.Fatal(err)
	}
	plan := filepath.Join(dir, "tfplan")
	args := []string{"plan", "-input=false", "-no-color", "-lock=false", "-out=" + plan,
		"-var=project=" + planProject, "-var=region=europe-west1",
		"-var=billing_account=000000-000000-000000", "-var=source_object=source-test.zip"}
	out := run(t, tf, dir, append(args, extra...)...)
	if strings.Contains(out, "Warning:") {
		t.Errorf("tofu plan warns:\n%s", out)
	}
	js := run(t, tf, dir, "show", "-json", "-no-color", plan)
	if len(s.unexpected) > 0 {
		t.Logf("requests the stand-in did not answer: %v", s.unexpected)
	}

	var doc struct {
		PlannedValues struct {
			RootModule struct {
				Resources []plannedResource `json:"resources"`
			} `json:"root_module"`
		} `json:"planned_values"`
		Configuration struct {
			RootModule struct {
				Resources []struct {
					Address     string         `json:"address"`
					Expressions map[string]any `json:"expressions"`
				} `json:"resources"`
			} `json:"root_module"`
		} `json:"configuration"`
	}
	if err := json.Unmarshal([]byte(js[strings.Index(js, "{"):]), &doc); err != nil {
		t.Fatalf("tofu show -json: %v", err)
	}
	p := planned{byType: map[string][]plannedResource{}, exprs: map[string]map[string]any{}}
	for _, r := range doc.Configuration.RootModule.Resources {
		p.exprs[r.Address] = r.Expressions
	}
	for _, r := range doc.PlannedValues.RootModule.Resources {
		p.byType[r.Type] = append(p.byType[r.Type], r)
	}
	t.Logf("%d resources planned", len(doc.PlannedValues.RootModule.Resources))
	return p
}

// TestTofuPlan plans the production configuration (default variables).
func TestTofuPlan(t *testing.T) {
	p := tofuPlan(t)
	byType, exprs, project := p.byType, p.exprs, planProject
	req := required(t)

	// Every registry entry point is a function built as synthos-build and
	// run as its own service account.
	functions := map[string]plannedResource{} // by entry point
	entryOf := map[string]string{}            // function address -> entry point
	for _, f := range byType["google_cloudfunctions2_function"] {
		build := first(f.Values["build_config"])
		functions[str(build["entry_point"])] = f
		entryOf[f.Address] = str(build["entry_point"])
		if refs := references(first(exprs[f.Address]["build_config"])["service_account"]); !slices.Contains(refs, "local.build_service_account") {
			t.Errorf("%s: build_config.service_account refers to %v, want local.build_service_account (synthos-build)", f.Address, refs)
		}
	}
	for _, sa := range byType["google_service_account"] {
		if sa.Name == "build" && str(sa.Values["account_id"]) != "synthos-build" {
			t.Errorf("google_service_account.build: account_id = %v", sa.Values["account_id"])
		}
	}
	for _, e := range registry.All() {
		f, ok := functions[e.Name]
		if !ok {
			t.Errorf("entry point %s is not planned as a function", e.Name)
			continue
		}
		sc := first(f.Values["service_config"])
		sa := str(sc["service_account_email"])
		if !regexp.MustCompile(`^synthos-[a-z-]+@` + project + `\.iam\.gserviceaccount\.com$`).MatchString(sa) {
			t.Errorf("%s (%s): service_account_email = %q, want its own synthos-* account", f.Address, e.Name, sa)
		}
		env, _ := sc["environment_variables"].(map[string]any)
		for name, prefix := range req {
			if name == "SYNTHOS_OBJECTS_URL" {
				continue // only functions that touch objects (checked on the HCL)
			}
			if v, ok := env[name]; !ok || !strings.HasPrefix(str(v), prefix) {
				t.Errorf("%s (%s): environment %s = %v, want a value starting %q", f.Address, e.Name, name, v, prefix)
			}
		}
	}

	// Every push subscription signs with OIDC, retries with backoff and
	// dead-letters; every topic is planned.
	topics := map[string]bool{}
	for _, tp := range byType["google_pubsub_topic"] {
		topics[str(tp.Values["name"])] = true
	}
	deadLetterEntry := map[string]bool{}
	for _, e := range registry.All() {
		deadLetterEntry[e.Name] = e.DeadLetter
	}
	pushed := map[string]bool{} // entry points a push subscription delivers to
	for _, sub := range byType["google_pubsub_subscription"] {
		pc := first(sub.Values["push_config"])
		if pc == nil {
			continue
		}
		entry := ""
		for _, r := range references(first(exprs[sub.Address]["push_config"])["push_endpoint"]) {
			if e, ok := entryOf[strings.TrimSuffix(r, ".service_config[0].uri")]; ok {
				entry = e
			}
		}
		if entry == "" {
			t.Errorf("%s: push_endpoint is not a function's URI", sub.Address)
		}
		pushed[entry] = true
		if oidc := first(pc["oidc_token"]); str(oidc["service_account_email"]) == "" || str(oidc["audience"]) == "" {
			t.Errorf("%s: push without an oidc_token (account and audience)", sub.Address)
		}
		if rp := first(sub.Values["retry_policy"]); str(rp["minimum_backoff"]) == "" {
			t.Errorf("%s: no retry_policy", sub.Address)
		}
		dl := first(sub.Values["dead_letter_policy"])
		switch {
		case deadLetterEntry[entry] && dl != nil:
			t.Errorf("%s: reads a dead-letter topic and has a dead_letter_policy of its own", sub.Address)
		case !deadLetterEntry[entry] && (dl == nil || dl["max_delivery_attempts"] == nil):
			t.Errorf("%s: no dead_letter_policy", sub.Address)
		}
	}
	for _, e := range registry.All() {
		if e.Kind != registry.Push {
			continue
		}
		if !topics[e.Topic] {
			t.Errorf("topic %s (read by %s) is not planned", e.Topic, e.Name)
		}
		if !pushed[e.Name] {
			t.Errorf("no push subscription delivers to %s", e.Name)
		}
	}

	// Alert policies and SLOs watch metrics that exist: Cloud Run's request
	// metrics of every function's service, Pub/Sub's backlog, and the
	// platform's own (shared/metrics, exported as workload.googleapis.com/
	// <name>). Burn-rate conditions select a planned SLO. Every policy
	// notifies local.alert_channels.
	realMetrics := []string{"run.googleapis.com/request_count", "run.googleapis.com/request_latencies",
		"pubsub.googleapis.com/subscription/num_undelivered_messages"}
	for _, n := range metrics.Names() {
		realMetrics = append(realMetrics, "workload.googleapis.com/"+n)
	}
	metricType := regexp.MustCompile(`metric\.type\s*=\s*"([^"]+)"`)
	checkFilter := func(addr, f string) {
		for _, m := range metricType.FindAllStringSubmatch(f, -1) {
			if !slices.Contains(realMetrics, m[1]) {
				t.Errorf("%s: filter watches %s, not one of %v", addr, m[1], realMetrics)
			}
		}
	}
	if len(byType["google_monitoring_alert_policy"]) == 0 {
		t.Error("no alert policies planned")
	}
	for _, ap := range byType["google_monitoring_alert_policy"] {
		if refs := references(exprs[strings.Split(ap.Address, "[")[0]]["notification_channels"]); !slices.Contains(refs, "local.alert_channels") {
			t.Errorf("%s: notification_channels refers to %v, want local.alert_channels", ap.Address, refs)
		}
		cond, _ := ap.Values["conditions"].([]any)
		if len(cond) == 0 {
			t.Errorf("%s: no conditions", ap.Address)
		}
		for i, c := range cond {
			for _, kind := range []string{"condition_threshold", "condition_absent"} {
				ct := first(c.(map[string]any)[kind])
				if ct == nil {
					continue
				}
				if _, known := ct["filter"]; !known {
					// Known after apply: a burn rate of an SLO's id.
					cexpr, _ := exprs[strings.Split(ap.Address, "[")[0]]["conditions"].([]any)
					if i >= len(cexpr) || !slices.Contains(references(first(cexpr[i].(map[string]any)[kind])["filter"]), "local.slos") {
						t.Errorf("%s: condition %d has a filter known only after apply that selects no SLO", ap.Address, i)
					}
				}
				for _, key := range []string{"filter", "denominator_filter"} {
					f := str(ct[key])
					checkFilter(ap.Address, f)
					if strings.Contains(f, "cloud_run_revision") && strings.Contains(f, "one_of") {
						for _, fn := range byType["google_cloudfunctions2_function"] {
							if name := str(fn.Values["name"]); !strings.Contains(f, `"`+name+`"`) {
								t.Errorf("%s: filter does not cover %s", ap.Address, name)
							}
						}
					}
				}
			}
		}
	}
	slos := byType["google_monitoring_slo"]
	if len(slos) != 3 {
		t.Errorf("%d SLOs planned, want availability, latency and job success", len(slos))
	}
	for _, slo := range slos {
		sli := first(slo.Values["request_based_sli"])
		gt, dc := first(sli["good_total_ratio"]), first(sli["distribution_cut"])
		n := 0
		for _, f := range []string{str(gt["good_service_filter"]), str(gt["bad_service_filter"]), str(gt["total_service_filter"]), str(dc["distribution_filter"])} {
			if f != "" {
				checkFilter(slo.Address, f)
				n++
			}
		}
		if n == 0 {
			t.Errorf("%s: no SLI filter", slo.Address)
		}
	}
	if n := len(byType["google_monitoring_dashboard"]); n != 1 {
		t.Errorf("%d dashboards planned, want 1", n)
	}
	for _, d := range byType["google_monitoring_dashboard"] {
		checkFilter(d.Address, str(d.Values["dashboard_json"]))
	}
	// Job events reach BigQuery through a BigQuery subscription.
	bq := false
	for _, sub := range byType["google_pubsub_subscription"] {
		if bc := first(sub.Values["bigquery_config"]); bc != nil {
			bq = true
			if refs := references(exprs[strings.Split(sub.Address, "[")[0]]["topic"]); !slices.Contains(refs, `google_pubsub_topic.topic["job-events"]`) {
				t.Errorf("%s: BigQuery subscription reads %v, want job-events", sub.Address, refs)
			}
		}
	}
	if !bq {
		t.Error("no BigQuery subscription on job-events planned")
	}

	// Public HTTP functions by default.
	if n := len(byType["google_cloud_run_v2_service_iam_member"]); n == 0 {
		t.Error("no invoker grants planned")
	}

	// The audit archive is locked by default.
	for _, b := range byType["google_storage_bucket"] {
		if b.Name == "audit_archive" {
			if rp := first(b.Values["retention_policy"]); rp["is_locked"] != true {
				t.Errorf("audit archive retention_policy = %v, want locked", rp)
			}
		}
	}

	// Service accounts wait for the IAM API (checked in the configuration:
	// depends_on is not in the plan), and the plan has the new APIs.
	var services []string
	for _, sv := range byType["google_project_service"] {
		services = append(services, str(sv.Values["service"]))
	}
	for _, want := range []string{"iam.googleapis.com", "cloudresourcemanager.googleapis.com"} {
		if !slices.Contains(services, want) {
			t.Errorf("API %s is not enabled", want)
		}
	}
}

// TestTofuPlanTestProject plans what a test project sets: an unlocked audit
// archive, an existing Firestore database, no allUsers grants.
func TestTofuPlanTestProject(t *testing.T) {
	p := tofuPlan(t, "-var=audit_retention_locked=false", "-var=create_firestore_database=false", "-var=public_http=false",
		`-var=alert_emails=["ops@example.com","oncall@example.com"]`, "-var=alert_slack_channel=#synthos-alerts",
		"-var=alert_slack_token=xoxb-test", "-var=alert_pagerduty_service_key=pd-test",
		"-var=alert_webhook_url=https://alerts.example.com/hook?token=t",
		`-var=residency_zone_regions={us="us-central1",uk="europe-west2"}`)
	// A platform bucket per extra residency zone, in its region, with every
	// data-bucket role granted on it and its URL in the functions that
	// touch tenant data, in the form the functions parse.
	zoneBuckets := map[string]string{}
	for _, b := range p.byType["google_storage_bucket"] {
		if b.Name == "zone_data" {
			zoneBuckets[str(b.Values["name"])] = str(b.Values["location"])
		}
	}
	if want := map[string]string{planProject + "-synthos-data-us": "US-CENTRAL1", planProject + "-synthos-data-uk": "EUROPE-WEST2"}; !maps.Equal(zoneBuckets, want) {
		t.Errorf("zone buckets planned %v, want %v", zoneBuckets, want)
	}
	grants := 0
	for _, m := range p.byType["google_storage_bucket_iam_member"] {
		if m.Name == "zone_data" {
			grants++
		}
	}
	if grants != 2*7 {
		t.Errorf("%d grants on zone buckets, want 14 (7 function roles x 2 zones)", grants)
	}
	for _, f := range p.byType["google_cloudfunctions2_function"] {
		env, _ := first(f.Values["service_config"])["environment_variables"].(map[string]any)
		if !strings.Contains(str(env["SYNTHOS_OBJECTS_URL"]), "-synthos-data") {
			continue
		}
		zs, err := destinations.ParseZoneBuckets(str(env["SYNTHOS_ZONE_BUCKETS"]))
		if err != nil || len(zs) != 2 {
			t.Errorf("%s: SYNTHOS_ZONE_BUCKETS = %v: %d zones, %v", f.Address, env["SYNTHOS_ZONE_BUCKETS"], len(zs), err)
		}
	}
	// Channels by variable: one per email, Slack, PagerDuty and a webhook.
	kinds := map[string]int{}
	for _, c := range p.byType["google_monitoring_notification_channel"] {
		kinds[str(c.Values["type"])]++
	}
	if want := map[string]int{"email": 2, "slack": 1, "pagerduty": 1, "webhook_tokenauth": 1}; !maps.Equal(kinds, want) {
		t.Errorf("notification channels planned %v, want %v", kinds, want)
	}
	for _, b := range p.byType["google_storage_bucket"] {
		if b.Name == "audit_archive" {
			if rp := first(b.Values["retention_policy"]); rp["is_locked"] != false {
				t.Errorf("audit archive retention_policy = %v, want unlocked", rp)
			}
		}
	}
	if n := len(p.byType["google_firestore_database"]); n != 0 {
		t.Errorf("create_firestore_database = false still plans %d databases", n)
	}
	if len(p.byType["google_firestore_index"]) == 0 {
		t.Error("no Firestore indexes planned on the existing database")
	}
	for _, m := range p.byType["google_cloud_run_v2_service_iam_member"] {
		if m.Values["member"] == "allUsers" {
			t.Errorf("public_http = false still plans %s for allUsers", m.Address)
		}
	}
}

func first(v any) map[string]any {
	if l, ok := v.([]any); ok && len(l) > 0 {
		m, _ := l[0].(map[string]any)
		return m
	}
	return nil
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

// references returns the references of one expression of the plan's
// configuration section.
func references(expr any) []string {
	m, _ := expr.(map[string]any)
	l, _ := m["references"].([]any)
	out := make([]string, 0, len(l))
	for _, r := range l {
		out = append(out, str(r))
	}
	return out
}

// TestZipListsAgree: make zip (make deploy) and cloudbuild.yaml put the
// same files into the functions' source zip.
func TestZipListsAgree(t *testing.T) {
	mk, err := os.ReadFile("../Makefile")
	if err != nil {
		t.Fatal(err)
	}
	cb, err := os.ReadFile("../cloudbuild.yaml")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^ZIP_FILES\s*:?=\s*(.+)$`).FindSubmatch(mk)
	c := regexp.MustCompile(`zip -qr source\.zip (.+?) -x`).FindSubmatch(cb)
	if m == nil || c == nil {
		t.Fatalf("zip file lists not found (Makefile ZIP_FILES: %v, cloudbuild.yaml zip -qr: %v)", m != nil, c != nil)
	}
	if mf, cf := strings.Fields(string(m[1])), strings.Fields(string(c[1])); !slices.Equal(mf, cf) {
		t.Errorf("Makefile zips %v, cloudbuild.yaml zips %v", mf, cf)
	}
}

// TestTofuPlanEdgeOptions plans the optional security edge switched on: the
// Cloud Armor policy on an external HTTPS load balancer in front of the API
// (edge_load_balancer, edge_domain) and Memorystore with the functions' VPC
// connector (redis_enabled).
func TestTofuPlanEdgeOptions(t *testing.T) {
	p := tofuPlan(t, "-var=edge_load_balancer=true", "-var=edge_domain=api.example.com", "-var=redis_enabled=true")
	for _, typ := range []string{"google_compute_security_policy", "google_compute_region_network_endpoint_group",
		"google_compute_backend_service", "google_compute_url_map", "google_compute_managed_ssl_certificate",
		"google_compute_target_https_proxy", "google_compute_global_forwarding_rule",
		"google_vpc_access_connector", "google_redis_instance"} {
		if len(p.byType[typ]) == 0 {
			t.Errorf("no %s planned with the edge options on", typ)
		}
	}
	for _, c := range p.byType["google_compute_managed_ssl_certificate"] {
		if d := first(c.Values["managed"]); d == nil || fmt.Sprint(d["domains"]) != "[api.example.com]" {
			t.Errorf("%s: managed = %v, want the edge domain", c.Address, c.Values["managed"])
		}
	}
	// The security policy carries the rate-based ban and preconfigured WAF
	// rules.
	for _, sp := range p.byType["google_compute_security_policy"] {
		var ban, waf bool
		rules, _ := sp.Values["rule"].([]any)
		for _, r := range rules {
			m, _ := r.(map[string]any)
			if m["action"] == "rate_based_ban" {
				ban = true
			}
			if strings.Contains(fmt.Sprint(m["match"]), "evaluatePreconfiguredWaf") {
				waf = true
			}
		}
		if !ban || !waf {
			t.Errorf("%s: rate-based ban %v, preconfigured WAF rules %v; want both", sp.Address, ban, waf)
		}
	}
}
