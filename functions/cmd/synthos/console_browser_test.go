package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"

	"synthos.dev/synthos/internal/chromiumtest"
	"synthos.dev/synthos/shared/billing"
	"synthos.dev/synthos/shared/billing/plans"
	"synthos.dev/synthos/shared/billing/subscription"
)

// firstLoadBudget is the target for the console's first load:
// bytes transferred (headers and compressed bodies) before sign-in.
const firstLoadBudget = 200_000

// loadStats is what the page's Performance API says about its first load.
type loadStats struct {
	Bytes       float64  `json:"bytes"`
	Files       int      `json:"files"`
	Interactive float64  `json:"interactive"` // ms from navigation start to the console's ready mark
	Entries     []string `json:"entries"`
}

const loadStatsJS = `(() => {
  const all = [...performance.getEntriesByType("navigation"), ...performance.getEntriesByType("resource")];
  const mark = performance.getEntriesByName("console-interactive")[0];
  return {
    bytes: all.reduce((s, e) => s + (e.transferSize || 0), 0),
    files: all.length,
    interactive: mark ? mark.startTime : -1,
    entries: all.map((e) => e.name + " " + e.transferSize),
  };
})()`

// artifactDir is where the test leaves its screenshots and download:
// $SYNTHOS_TEST_ARTIFACTS/<test> when set (CI keeps it), else a temp dir.
func artifactDir(t *testing.T) string {
	t.Helper()
	root := os.Getenv("SYNTHOS_TEST_ARTIFACTS")
	if root == "" {
		return t.TempDir()
	}
	dir := filepath.Join(root, t.Name())
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatalf("artifact dir: %v", err)
	}
	return dir
}

// TestConsoleInBrowser drives the web console in Debian's Chromium against
// a local platform, as a new user would: sign in with the bootstrap admin
// key, upload examples/insurance.csv, create a job with a rule and a fixed
// region (a rule naming an unknown column is refused first), watch it succeed, open its report and
// download the output. Any console error or uncaught exception fails it;
// the first load's bytes are held to the 200 KB budget.
func TestConsoleInBrowser(t *testing.T) {
	bin := chromiumtest.Binary(t)
	// Billing against fake providers: a catalog that sells pro through a
	// Paddle price, the providers' API keys in the secrets directory, and
	// a Stripe customer on the bootstrap tenant's subscription.
	fp := newFakeBilling(t)
	t.Setenv("SYNTHOS_PADDLE_API_URL", fp.paddle.URL)
	t.Setenv("SYNTHOS_STRIPE_API_URL", fp.stripe.URL)
	t.Setenv(plans.EnvJSON, `{"plans": [{"name": "free", "rows_per_month": 100000, "rows_per_job": 10000, "concurrent_jobs": 2, "report_retention_days": 7},
	  {"name": "pro", "rows_per_month": 10000000, "rows_per_job": 1000000, "dp_allowed": true, "concurrent_jobs": 5, "report_retention_days": 90, "price_ids": ["pri_01console"]}]}`)
	secretsDir := t.TempDir()
	for name, v := range map[string]string{"paddle-api-key": "pdl_console_key", "stripe-api-key": "sk_test_console"} {
		if err := os.WriteFile(filepath.Join(secretsDir, name), []byte(v), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	base, env, _, out := startLocalWith(t, map[string]string{"SYNTHOS_SECRETS_URL": "file://" + secretsDir})
	if err := env.State.Set(context.Background(), subscription.CollRecords, bootstrapTenant, subscription.Record{Tenant: bootstrapTenant,
		Provider: billing.Stripe, CustomerID: "cus_console", SubscriptionID: "sub_console", Status: subscription.Active}); err != nil {
		t.Fatal(err)
	}
	key := printedKey(t, out)
	art := artifactDir(t)
	downloads := filepath.Join(art, "downloads")
	if err := os.MkdirAll(downloads, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshots and downloads in %s", art)

	ctx := chromiumtest.Browser(t, bin)
	var mu sync.Mutex
	var problems, seen []string
	messages := chromedp.Console(ctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			mu.Lock()
			seen = append(seen, m.String())
			if m.Type == chromedp.ConsoleError || m.Type == chromedp.ConsoleException {
				problems = append(problems, fmt.Sprintf("%s (%s:%d)", m, m.URL, m.Line))
			}
			mu.Unlock()
		}
	}()
	shot := func(name string) chromedp.Action[chromedp.Void] {
		return chromedp.Func(func(ctx2 context.Context, tg *chromedp.Target) error {
			b, err := chromedp.FullScreenshot(100)(ctx2, tg)
			if err != nil {
				return fmt.Errorf("screenshot %s: %w", name, err)
			}
			return os.WriteFile(filepath.Join(art, name+".png"), b, 0o644)
		})
	}
	setHash := func(h string) chromedp.Action[chromedp.Void] {
		return chromedp.Func(func(c context.Context, tg *chromedp.Target) error {
			_, err := chromedp.Evaluate[string](`location.hash = "`+h+`"`)(c, tg)
			return err
		})
	}
	run := func(step string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, actions...); err != nil {
			_ = chromedp.Do(ctx, shot("failed-"+step))
			t.Fatalf("%s: %v", step, err)
		}
	}

	// First load: nothing cached in the fresh profile, so every byte counts.
	run("load", chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.CSS("#apikey")),
		chromedp.WaitReady(chromedp.CSS(`html[data-ready="true"]`)))
	stats, err := chromedp.Run(ctx, chromedp.Evaluate[loadStats](loadStatsJS))
	if err != nil {
		t.Fatalf("performance entries: %v", err)
	}
	t.Logf("first load: %.0f bytes transferred in %d files (budget %d); interactive after %.0f ms (target 1000 ms)",
		stats.Bytes, stats.Files, firstLoadBudget, stats.Interactive)
	for _, e := range stats.Entries {
		t.Logf("  %s", e)
	}
	if stats.Bytes <= 0 || stats.Files < 4 {
		t.Errorf("the Performance API saw %.0f bytes in %d files: the measurement is broken", stats.Bytes, stats.Files)
	}
	if stats.Bytes > firstLoadBudget {
		t.Errorf("first load transferred %.0f bytes, over the %d budget", stats.Bytes, firstLoadBudget)
	}
	if stats.Interactive < 0 {
		t.Error("the console never marked itself interactive")
	}
	run("sign-in screenshot", shot("1-sign-in"))

	run("sign in", chromedp.SendKeys(chromedp.CSS("#apikey"), key), chromedp.Click(chromedp.CSS(`#signin-form button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS("#upload-form")))
	if v, err := chromedp.Run(ctx, chromedp.Evaluate[string](`sessionStorage.getItem("synthos.apiKey") + "|" + localStorage.length + "|" + document.cookie`)); err != nil || v != key+"|0|" {
		t.Errorf("the key is not kept in session storage only: %q %v", v, err)
	}

	csvPath, err := filepath.Abs("../../../examples/insurance.csv")
	if err != nil {
		t.Fatal(err)
	}
	// The progress bar leaves the page with the upload form: an observer
	// keeps the highest value it showed.
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`(() => {
	  window.maxProgress = 0;
	  const bar = document.querySelector("#upload-progress");
	  new MutationObserver(() => { window.maxProgress = Math.max(window.maxProgress, bar.value); }).observe(bar, {attributes: true});
	  return true;
	})()`)); err != nil {
		t.Fatal(err)
	}
	run("upload", chromedp.SetUploadFiles(chromedp.CSS("#upload-file"), []string{csvPath}),
		chromedp.Click(chromedp.CSS(`#upload-form button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS("#pii-summary")), shot("2-dataset-profile"))
	profile, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("main table")))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"age", "numeric", "region", "categorical", "of 1,338"} {
		if !strings.Contains(profile, want) {
			t.Errorf("the profile table lacks %q:\n%s", want, profile)
		}
	}
	if p, err := chromedp.Run(ctx, chromedp.Evaluate[float64](`window.maxProgress`)); err != nil || p != 100 {
		t.Errorf("the upload progress bar reached %v (%v), want 100", p, err)
	}

	run("new job", chromedp.Click(chromedp.CSS(`a.button[href^="#/jobs/new"]`)), chromedp.WaitVisible(chromedp.CSS("#job-form")),
		chromedp.SetValue(chromedp.CSS("#job-rows"), "300"), chromedp.SetValue(chromedp.CSS("#job-seed"), "7"),
		chromedp.SendKeys(chromedp.CSS("#job-rules"), `{"rules": [{"type": "range", "column": "agee", "min": 18}]}`),
		chromedp.WaitVisible(chromedp.CSS("#rules-errors li")))
	if msg, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#rules-errors"))); err != nil || !strings.Contains(msg, `no column "agee"`) {
		t.Errorf("a rule on an unknown column was not refused: %q %v", msg, err)
	}
	run("fix the rule", chromedp.SetValue(chromedp.CSS("#job-rules"), `{"rules": [{"type": "range", "column": "age", "min": 18, "max": 64}]}`),
		chromedp.Click(chromedp.CSS(`#conditions + datalist + button`)), chromedp.SendKeys(chromedp.CSS("#cond-col-1"), "region"),
		chromedp.SendKeys(chromedp.CSS("#cond-val-1"), "southwest"),
		shot("3-new-job"), chromedp.Click(chromedp.CSS(`#job-form button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS("#job-state")))

	// The job runs the real pipeline (fit, sample, evaluate); the console
	// polls it with backoff. Wait until it is terminal, however long.
	final, err := chromedp.Run(ctx, chromedp.Poll[string](`(() => {
	  const s = document.querySelector("#job-state")?.dataset.state;
	  return ["succeeded", "failed", "cancelled"].includes(s) ? s : null;
	})()`, chromedp.WithPollingTimeout(0), chromedp.WithPollingInterval(200*time.Millisecond)))
	if err != nil {
		t.Fatalf("waiting for the job: %v", err)
	}
	run("job screenshot", shot("4-job"))
	if final != "succeeded" {
		detail, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#job")))
		t.Fatalf("the job ended %s:\n%s", final, detail)
	}

	run("report", chromedp.Click(chromedp.CSS("#open-report")), chromedp.WaitVisible(chromedp.CSS("#report")), shot("5-report"))
	// The main chart: one bar per column the report scored.
	if v, err := chromedp.Run(ctx, chromedp.Evaluate[string](`fetch("/v1/jobs/" + location.hash.split("/")[2] + "/report",
	    {headers: {Authorization: "Bearer " + sessionStorage.getItem("synthos.apiKey")}})
	  .then((r) => r.json())
	  .then((r) => document.querySelectorAll("#shape-chart rect.bar").length + " of " + r.quality.columns.length)`, chromedp.EvalAwaitPromise)); err != nil ||
		!regexp.MustCompile(`^([1-9]\d*) of ([1-9]\d*)$`).MatchString(v) || strings.Split(v, " of ")[0] != strings.Split(v, " of ")[1] {
		t.Errorf("the column-shape chart has %q bars of the report's columns (%v)", v, err)
	}
	if q, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#quality-overall"))); err != nil || !regexp.MustCompile(`^\d+\.\d%$`).MatchString(q) {
		t.Errorf("overall quality shown as %q (%v)", q, err)
	}

	progress := chromedp.Events(ctx, browser.DownloadProgress)
	run("download", chromedp.Func(func(ctx2 context.Context, _ *chromedp.Target) error {
		_, err := chromedp.Call(ctx2, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
			Behavior: browser.SetDownloadBehaviorBehaviorAllow, DownloadPath: downloads, EventsEnabled: ptrTo(true)})
		return err
	}), chromedp.Click(chromedp.CSS("#download-output")))
	for ev, err := range progress {
		if err != nil {
			t.Fatalf("download events: %v", err)
		}
		if ev.State == browser.DownloadProgressStateCanceled {
			t.Fatal("the download was cancelled")
		}
		if ev.State == browser.DownloadProgressStateCompleted {
			break
		}
	}
	files, _ := filepath.Glob(filepath.Join(downloads, "synthos-*.csv"))
	if len(files) != 1 {
		t.Fatalf("downloaded files %v, want one synthos-<job>.csv", files)
	}
	f, err := os.Open(files[0])
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatalf("the downloaded output is not CSV: %v", err)
	}
	if len(rows) != 301 || strings.Join(rows[0], ",") != "age,sex,bmi,children,smoker,region,charges" {
		t.Errorf("downloaded %d lines with header %v, want a header and 300 rows of insurance's columns", len(rows), rows[0])
	}
	for i, r := range rows[1:] {
		if len(r) == 7 && r[5] != "southwest" {
			t.Errorf("output row %d has region %q; the job fixed it to southwest", i+1, r[5])
			break
		}
	}
	run("final screenshot", shot("6-downloaded"))

	// The other pages load without a console error: a new key is shown
	// once, the plan and its trends, the webhook endpoints.
	run("keys", chromedp.Click(chromedp.CSS(`#nav a[href="#/keys"]`)), chromedp.WaitVisible(chromedp.CSS("#key-name")),
		chromedp.SendKeys(chromedp.CSS("#key-name"), "console test"), chromedp.Click(chromedp.CSS(`#view form button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS("#new-key .secret")), shot("7-keys"))
	if k, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#new-key .mono"))); err != nil || !strings.HasPrefix(k, "sk_live_") {
		t.Errorf("the new key shown is %q (%v)", k, err)
	}
	run("usage", chromedp.Click(chromedp.CSS(`#nav a[href="#/usage"]`)), chromedp.WaitVisible(chromedp.CSS("#plan-name")),
		chromedp.WaitVisible(chromedp.CSS("svg.chart")), shot("8-usage"))
	run("webhooks", chromedp.Click(chromedp.CSS(`#nav a[href="#/webhooks"]`)), chromedp.WaitVisible(chromedp.CSS("#hook-url")),
		chromedp.WaitVisible(chromedp.CSS("#view table")), shot("9-webhooks"))
	run("jobs", chromedp.Click(chromedp.CSS(`#nav a[href="#/jobs"]`)), chromedp.WaitVisible(chromedp.CSS("#jobs-list table")),
		chromedp.WaitVisible(chromedp.CSS("#live-today")), shot("10-jobs"))
	if box, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#live"))); err != nil || strings.Contains(box, "null") {
		t.Errorf("the live box reads %q (%v)", box, err)
	}
	if today, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#live-today"))); err != nil || !strings.HasPrefix(today, "Today: 1 jobs, 0 failed, 300 rows") {
		t.Errorf("the live feed shows %q (%v), want today's one job of 300 rows", today, err)
	}
	// Billing: Upgrade asks for a Paddle checkout of the plan, Manage
	// billing for a Stripe portal session; each shows the provider's URL.
	run("upgrade", setHash("#/usage"), chromedp.WaitVisible(chromedp.CSS("#billing-upgrade")),
		chromedp.Click(chromedp.CSS("#billing-upgrade")), chromedp.WaitVisible(chromedp.CSS(`#billing-link[href*="paddle.example"]`)), shot("12-checkout"))
	if fp.paddleTenant() != bootstrapTenant {
		t.Errorf("the checkout carried tenant %q, want %q", fp.paddleTenant(), bootstrapTenant)
	}
	run("manage billing", chromedp.Click(chromedp.CSS("#billing-portal")),
		chromedp.WaitVisible(chromedp.CSS(`#billing-link[href^="https://billing.stripe.example/"]`)), shot("13-portal"))
	if c := fp.stripeCustomer(); c != "cus_console" {
		t.Errorf("the portal session was for customer %q, want cus_console", c)
	}

	// A custom model: uploaded against the dataset, validated, then deleted.
	modelPath, err := filepath.Abs("../../../shared/ensemble/testdata/xgb_insurance_regression.json")
	if err != nil {
		t.Fatal(err)
	}
	run("models", setHash("#/models"), chromedp.WaitVisible(chromedp.CSS("#model-form")),
		chromedp.WaitVisible(chromedp.CSS("#models-list table")),
		chromedp.SetUploadFiles(chromedp.CSS("#model-file"), []string{modelPath}),
		chromedp.Click(chromedp.CSS(`#model-form button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#model-status[data-status="ready"], #model-status[data-status="rejected"], #alert:not([hidden])`)), shot("14-model"))
	if st, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector("#model-status")?.textContent || "alert: " + document.querySelector("#alert").textContent`)); err != nil || st != "ready" {
		detail, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector("#view").textContent`))
		t.Fatalf("the uploaded model is %q (%v):\n%s", st, err, detail)
	}
	run("delete model", chromedp.Func(func(c context.Context, tg *chromedp.Target) error {
		// The delete asks for confirmation; the test says yes.
		_, err := chromedp.Evaluate[bool](`(window.confirm = () => true, true)`)(c, tg)
		return err
	}),
		chromedp.Click(chromedp.CSS("#delete-model")), chromedp.WaitVisible(chromedp.CSS("#models-list table")))
	if list, err := chromedp.Run(ctx, chromedp.Poll[string](`(() => {
	  const t = document.querySelector("#models-list")?.textContent || "";
	  return t.includes("Loading") ? null : t;
	})()`, chromedp.WithPollingTimeout(0))); err != nil || !strings.Contains(list, "None yet.") {
		t.Errorf("after the delete the model list reads %q (%v)", list, err)
	}

	// A saved design: designed from a description (the offline designer),
	// opened, and a job created from it.
	run("design", setHash("#/designs"), chromedp.WaitVisible(chromedp.CSS("#design-form")),
		chromedp.SendKeys(chromedp.CSS("#design-name"), "shop"),
		chromedp.SendKeys(chromedp.CSS("#design-description"), "Customers of a small online shop and their orders"),
		chromedp.Click(chromedp.CSS(`#design-form button[type="submit"]`)), chromedp.WaitVisible(chromedp.CSS("#design-spec, #alert:not([hidden])")), shot("15-design"))
	if spec, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector("#design-spec")?.textContent || "alert: " + document.querySelector("#alert").textContent`)); err != nil || !strings.Contains(spec, `"tables"`) {
		t.Fatalf("the design's spec shows %q (%v)", spec, err)
	}
	run("design list", setHash("#/designs"), chromedp.WaitVisible(chromedp.CSS(`#designs-list a[href="#/designs/shop"]`)),
		chromedp.Click(chromedp.CSS(`#designs-list a[href="#/designs/shop"]`)), chromedp.WaitVisible(chromedp.CSS("#design-job-form")),
		chromedp.SetValue(chromedp.CSS("#design-rows"), "50"), chromedp.Click(chromedp.CSS(`#design-job-form button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS("#job-state")), shot("16-design-job"))

	// Destinations (none) and the audit log, whose newest record's
	// inclusion proof the page checks against the checkpoint's root.
	run("destinations", setHash("#/destinations"), chromedp.WaitVisible(chromedp.CSS("#destinations-list table")))
	// The audit function appends records from events as they arrive: wait
	// for the first, or for the page's error.
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`(() => {
	  if (!location.hash.startsWith("#/audit")) location.hash = "#/audit";
	  if (document.querySelector("#audit-list .verify-proof") || !document.querySelector("#alert").hidden) return true;
	  if (document.querySelector("#audit-head")?.textContent.includes("No audit records yet")) location.hash = "#/audit?again=" + Date.now();
	  return null;
	})()`, chromedp.WithPollingTimeout(0), chromedp.WithPollingInterval(500*time.Millisecond))); err != nil {
		t.Fatalf("audit page: %v", err)
	}
	run("audit", chromedp.Click(chromedp.CSS("#audit-list .verify-proof")),
		chromedp.WaitVisible(chromedp.CSS("#audit-verify.ok, #audit-verify.bad, #alert:not([hidden])")), shot("17-audit"))
	if v, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#audit-verify"))); err != nil || !strings.Contains(v, "is included in the log") {
		alert, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#alert")))
		t.Errorf("the audit proof check reads %q (%v); alert %q", v, err, alert)
	}

	// Every form control has a label, on every page visited (a control
	// without one is unusable with a screen reader).
	for _, page := range []string{"#/datasets", "#/jobs/new", "#/keys", "#/webhooks", "#/usage", "#/models", "#/designs", "#/designs/shop", "#/destinations", "#/audit"} {
		run("open "+page, setHash(page),
			chromedp.WaitReady(chromedp.CSS("#view h1")))
		unlabelled, err := chromedp.Run(ctx, chromedp.Poll[[]string](`(() => {
		  if (document.querySelector("#view")?.textContent.includes("Loading…")) return null;
		  return [...document.querySelectorAll("#view input, #view select, #view textarea")]
		    .filter((e) => e.type !== "hidden" && !e.labels.length && !e.getAttribute("aria-label"))
		    .map((e) => e.id || e.outerHTML);
		})()`, chromedp.WithPollingTimeout(0)))
		if err != nil {
			t.Fatalf("%s: %v", page, err)
		}
		for _, u := range unlabelled {
			t.Errorf("%s: a control without a label: %s", page, u)
		}
	}

	// A phone-sized screen: nothing wider than the viewport (tables scroll
	// inside their own box).
	run("narrow", chromedp.EmulateViewport(375, 800), setHash("#/jobs"),
		chromedp.WaitVisible(chromedp.CSS("#jobs-list table")), shot("11-jobs-narrow"))
	if over, err := chromedp.Run(ctx, chromedp.Evaluate[float64](`document.documentElement.scrollWidth - window.innerWidth`)); err != nil || over > 0 {
		wide, _ := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll("body *")]
		  .filter((e) => e.getBoundingClientRect().right > window.innerWidth && !(e.parentElement && e.parentElement.closest(".table-wrap")))
		  .map((e) => e.tagName + "#" + e.id + "." + e.className + " " + Math.round(e.getBoundingClientRect().right))`))
		t.Errorf("on a 375 px screen the page is %v px too wide (%v); overflowing: %v", over, err, wide)
	}

	// The messages of the last page are in before they are read.
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`true`)); err != nil {
		t.Fatal(err)
	}

	mu.Lock()
	defer mu.Unlock()
	for _, p := range problems {
		t.Errorf("browser console: %s", p)
	}
	if t.Failed() {
		t.Logf("every console message:\n%s", strings.Join(seen, "\n"))
	}
}

func ptrTo[T any](v T) *T { return &v }

// fakeBilling answers Paddle's create-transaction and Stripe's
// billing-portal-session calls in the vendors' wire formats.
type fakeBilling struct {
	paddle, stripe *httptest.Server
	mu             sync.Mutex
	tenant, cust   string
}

func newFakeBilling(t *testing.T) *fakeBilling {
	fb := &fakeBilling{}
	fb.paddle = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			Items []struct {
				PriceID string `json:"price_id"`
			} `json:"items"`
			CustomData map[string]string `json:"custom_data"`
		}
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil || r.URL.Path != "/transactions" ||
			r.Header.Get("Authorization") != "Bearer pdl_console_key" || len(body.Items) != 1 || body.Items[0].PriceID != "pri_01console" {
			w.WriteHeader(http.StatusBadRequest)
			_, _ = io.WriteString(w, `{"error": {"type": "request_error", "code": "bad_request", "detail": "unexpected request"}, "meta": {"request_id": "r"}}`)
			return
		}
		fb.mu.Lock()
		fb.tenant = body.CustomData["tenant_id"]
		fb.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		_, _ = io.WriteString(w, `{"data": {"id": "txn_01console", "status": "ready", "checkout": {"url": "https://paddle.example/pay?_ptxn=txn_01console"}}, "meta": {"request_id": "r"}}`)
	}))
	fb.stripe = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		fb.mu.Lock()
		fb.cust = r.PostForm.Get("customer")
		fb.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"id": "bps_console", "object": "billing_portal.session", "configuration": "bpc_1", "created": 1680210639, "customer": %q, "livemode": false, "return_url": %q, "url": "https://billing.stripe.example/p/session/test_console"}`,
			r.PostForm.Get("customer"), r.PostForm.Get("return_url"))
	}))
	t.Cleanup(fb.paddle.Close)
	t.Cleanup(fb.stripe.Close)
	return fb
}

func (fb *fakeBilling) paddleTenant() string {
	fb.mu.Lock()
	defer fb.mu.Unlock()
	return fb.tenant
}

func (fb *fakeBilling) stripeCustomer() string {
	fb.mu.Lock()
	defer fb.mu.Unlock()
	return fb.cust
}
