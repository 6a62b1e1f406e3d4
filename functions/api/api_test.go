package api

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"gocloud.dev/blob/fileblob"

	"synthos.dev/synthos/shared/apikeys"
	"synthos.dev/synthos/shared/billing/guard"
	"synthos.dev/synthos/shared/design"
	"synthos.dev/synthos/shared/jobs"
	"synthos.dev/synthos/shared/topics"
	"synthos.dev/synthos/shared/webhooks"
)

// TestEveryRouteMatchesOpenAPI calls every documented operation with real
// requests (successes and errors) and validates each response against the
// document; it fails if an operation was never exercised.
func TestEveryRouteMatchesOpenAPI(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fixtureOptions{destinations: true, objectsRegion: "eu-central-1"})
	f.spec = loadSpec(t)
	admin := f.key("acme", apikeys.Admin)
	reader := f.key("acme", apikeys.Read)
	writer := f.key("acme", apikeys.Read, apikeys.Write)
	ds := f.upload(admin)
	job := f.createJob(admin, ds)
	csvBody, csvType := multipartBody(t, "file", "insurance.csv", sampleCSV)
	ct := func(v string) map[string]string { return map[string]string{"Content-Type": v} }
	rcv := newHookReceiver(t)
	hook, _ := f.webhook(admin, rcv.srv.URL)
	rcv.answer(http.StatusServiceUnavailable, http.StatusServiceUnavailable, http.StatusServiceUnavailable) // every quick try fails
	delivery := f.jobEvent("acme", "m-spec", hook)
	if r := f.do(req{method: "GET", path: "/v1/webhooks/deliveries/" + delivery, key: reader}); r.json(t)["status"] != webhooks.StatusFailing {
		t.Errorf("delivery refused by the endpoint: %s", r.body)
	}
	spare, _ := f.webhook(admin, rcv.srv.URL+"/spare")
	f.auditRecords("acme", 3)

	tests := []struct {
		name string
		req
		want int
	}{
		{"healthz", req{method: "GET", path: "/healthz"}, 200},
		{"readyz", req{method: "GET", path: "/readyz"}, 200},
		{"openapi", req{method: "GET", path: "/v1/openapi.json"}, 200},
		{"unknown path", req{method: "GET", path: "/v1/nope", key: admin}, 404},
		{"root unknown", req{method: "GET", path: "/nope"}, 404},
		{"wrong method", req{method: "DELETE", path: "/v1/jobs", key: admin}, 405},
		{"no key", req{method: "GET", path: "/v1/jobs"}, 401},
		{"bad key", req{method: "GET", path: "/v1/jobs", key: "sk_live_garbage"}, 401},

		{"upload", req{method: "POST", path: "/v1/datasets", key: admin, body: csvBody, header: ct(csvType)}, 201},
		{"upload not multipart", req{method: "POST", path: "/v1/datasets", key: admin, body: "a,b\n1,2\n", header: ct("text/csv")}, 415},
		{"set ip rules", req{method: "PUT", path: "/v1/security/ip-rules", key: admin, body: map[string]any{"allow": []string{"127.0.0.0/8", "::1"}, "deny": []string{"203.0.113.0/24"}}}, 200},
		{"ip rules locking the caller out", req{method: "PUT", path: "/v1/security/ip-rules", key: admin, body: map[string]any{"allow": []string{"203.0.113.0/24"}}}, 409},
		{"ip rules with a bad CIDR", req{method: "PUT", path: "/v1/security/ip-rules", key: admin, body: map[string]any{"deny": []string{"10.0.0.0/33"}}}, 400},
		{"get ip rules", req{method: "GET", path: "/v1/security/ip-rules", key: admin}, 200},
		{"get ip rules without admin", req{method: "GET", path: "/v1/security/ip-rules", key: reader}, 403},
		{"clear ip rules", req{method: "PUT", path: "/v1/security/ip-rules", key: admin, body: map[string]any{"allow": []string{}, "deny": []string{}}}, 200},
		{"upload bad extension", req{method: "POST", path: "/v1/datasets", key: admin, body: mp(t, "file", "table.xlsx"), header: ct(mpType)}, 415},
		{"upload no file", req{method: "POST", path: "/v1/datasets", key: admin, body: mp(t, "other", "a.csv"), header: ct(mpType)}, 400},
		{"upload too large", req{method: "POST", path: "/v1/datasets", key: admin, body: bigMultipart(t), header: ct(mpType)}, 413},
		{"upload read scope", req{method: "POST", path: "/v1/datasets", key: reader, body: csvBody, header: ct(csvType)}, 403},
		{"list datasets", req{method: "GET", path: "/v1/datasets", key: reader}, 200},
		{"list datasets bad limit", req{method: "GET", path: "/v1/datasets?limit=0", key: reader}, 400},
		{"get dataset", req{method: "GET", path: "/v1/datasets/" + ds, key: reader}, 200},
		{"get dataset missing", req{method: "GET", path: "/v1/datasets/ds_missing", key: reader}, 404},
		{"begin upload", req{method: "POST", path: "/v1/datasets/uploads", key: admin, body: map[string]any{"name": "adult.csv"}}, 201},
		{"begin upload no name", req{method: "POST", path: "/v1/datasets/uploads", key: admin, body: map[string]any{}}, 400},
		{"begin upload bad format", req{method: "POST", path: "/v1/datasets/uploads", key: admin, body: map[string]any{"name": "a.doc"}}, 415},
		{"put content missing", req{method: "PUT", path: "/v1/datasets/ds_missing/content", key: admin, body: "a\n1\n"}, 404},
		{"put content of ready dataset", req{method: "PUT", path: "/v1/datasets/" + ds + "/content", key: admin, body: "a\n1\n"}, 409},
		{"complete ready", req{method: "POST", path: "/v1/datasets/" + ds + "/complete", key: admin}, 200},
		{"complete missing", req{method: "POST", path: "/v1/datasets/ds_missing/complete", key: admin}, 404},

		{"anonymize", req{method: "POST", path: "/v1/datasets/" + ds + "/anonymize", key: writer, body: map[string]any{"k": 2, "quasi": []string{"age"}, "columns": map[string]any{"charges": map[string]any{"op": "generalize", "width": 1000}}}}, 201},
		{"anonymize unknown column", req{method: "POST", path: "/v1/datasets/" + ds + "/anonymize", key: writer, body: map[string]any{"columns": map[string]any{"bmi": map[string]any{"op": "drop"}}}}, 400},
		{"anonymize unknown field", req{method: "POST", path: "/v1/datasets/" + ds + "/anonymize", key: writer, body: map[string]any{"kk": 2}}, 400},
		{"anonymize missing", req{method: "POST", path: "/v1/datasets/ds_missing/anonymize", key: writer, body: map[string]any{}}, 404},
		{"anonymize read scope", req{method: "POST", path: "/v1/datasets/" + ds + "/anonymize", key: reader, body: map[string]any{}}, 403},
		{"anonymize job", req{method: "POST", path: "/v1/jobs", key: writer, body: map[string]any{"kind": "anonymize", "dataset": ds, "policy": map[string]any{"k": 2, "quasi": []string{"age"}}}}, 202},
		{"anonymize job with rows", req{method: "POST", path: "/v1/jobs", key: writer, body: map[string]any{"kind": "anonymize", "dataset": ds, "rows": 5}}, 400},
		{"anonymize job unknown policy column", req{method: "POST", path: "/v1/jobs", key: writer, body: map[string]any{"kind": "anonymize", "dataset": ds, "policy": map[string]any{"quasi": []string{"agee"}, "k": 2}}}, 400},
		{"anonymize keys", req{method: "GET", path: "/v1/anonymize/keys", key: admin}, 200},
		{"anonymize keys read scope", req{method: "GET", path: "/v1/anonymize/keys", key: reader}, 403},
		{"rotate anonymize keys not configured", req{method: "POST", path: "/v1/anonymize/keys/rotate", key: admin}, 503},
		{"detokenize", req{method: "POST", path: "/v1/anonymize/detokenize", key: admin, body: map[string]any{"tokens": []string{"tk_AAAA"}}}, 200},
		{"detokenize no tokens", req{method: "POST", path: "/v1/anonymize/detokenize", key: admin, body: map[string]any{"tokens": []string{}}}, 400},
		{"create job", req{method: "POST", path: "/v1/jobs", key: admin, body: map[string]any{"dataset": ds, "rows": 5}}, 202},
		{"create job bad rows", req{method: "POST", path: "/v1/jobs", key: admin, body: map[string]any{"dataset": ds, "rows": 0}}, 400},
		{"create job unknown dataset", req{method: "POST", path: "/v1/jobs", key: admin, body: map[string]any{"dataset": "ds_x", "rows": 5}}, 404},
		{"create job form body", req{method: "POST", path: "/v1/jobs", key: admin, body: "rows=5", header: ct("application/x-www-form-urlencoded")}, 415},
		{"create job dp over plan", req{method: "POST", path: "/v1/jobs", key: admin, body: map[string]any{"dataset": ds, "rows": 5, "model": "dp", "epsilon": 1}}, 402},
		{"list jobs", req{method: "GET", path: "/v1/jobs?limit=1", key: reader}, 200},
		{"list jobs bad cursor", req{method: "GET", path: "/v1/jobs?cursor=zz", key: reader}, 400},
		{"get job", req{method: "GET", path: "/v1/jobs/" + job, key: reader}, 200},
		{"get job missing", req{method: "GET", path: "/v1/jobs/job_missing", key: reader}, 404},
		{"report not ready", req{method: "GET", path: "/v1/jobs/" + job + "/report", key: reader}, 404},
		{"report bad format", req{method: "GET", path: "/v1/jobs/" + job + "/report?format=pdf", key: reader}, 400},
		{"compliance not ready", req{method: "GET", path: "/v1/jobs/" + job + "/compliance", key: reader}, 404},
		{"compliance bad format", req{method: "GET", path: "/v1/jobs/" + job + "/compliance?format=pdf", key: reader}, 400},
		{"output not ready", req{method: "GET", path: "/v1/jobs/" + job + "/output", key: reader}, 404},
		{"output content not ready", req{method: "GET", path: "/v1/jobs/" + job + "/output/content", key: reader}, 404},
		{"cancel", req{method: "POST", path: "/v1/jobs/" + job + "/cancel", key: admin}, 202},
		{"cancel again", req{method: "POST", path: "/v1/jobs/" + job + "/cancel", key: admin}, 409},
		{"cancel read scope", req{method: "POST", path: "/v1/jobs/" + job + "/cancel", key: reader}, 403},

		{"create key", req{method: "POST", path: "/v1/keys", key: admin, body: map[string]any{"name": "ci", "scopes": []string{"read", "write"}}}, 201},
		{"create key bad scope", req{method: "POST", path: "/v1/keys", key: admin, body: map[string]any{"scopes": []string{"root"}}}, 400},
		{"create key read scope", req{method: "POST", path: "/v1/keys", key: reader, body: map[string]any{}}, 403},
		{"list keys", req{method: "GET", path: "/v1/keys", key: admin}, 200},
		{"revoke missing key", req{method: "DELETE", path: "/v1/keys/ABCDEFGH", key: admin}, 404},

		{"usage", req{method: "GET", path: "/v1/usage", key: reader}, 200},
		{"analytics usage", req{method: "GET", path: "/v1/analytics/usage?from=2026-03-01&to=2026-03-31&granularity=week", key: reader}, 200},
		{"analytics quality", req{method: "GET", path: "/v1/analytics/quality", key: reader}, 200},
		{"analytics privacy", req{method: "GET", path: "/v1/analytics/privacy?granularity=month", key: reader}, 200},
		{"analytics insights", req{method: "GET", path: "/v1/analytics/insights", key: reader}, 200},
		{"analytics live", req{method: "GET", path: "/v1/analytics/live?max=1", key: reader}, 200},
		{"analytics live bad interval", req{method: "GET", path: "/v1/analytics/live?interval=1ms", key: reader}, 400},
		{"analytics report", req{method: "GET", path: "/v1/analytics/report?month=2026-03", key: reader}, 200},
		{"analytics report bad month", req{method: "GET", path: "/v1/analytics/report?month=March", key: reader}, 400},
		{"analytics bad granularity", req{method: "GET", path: "/v1/analytics/usage?granularity=hour", key: reader}, 400},
		{"analytics platform not admin", req{method: "GET", path: "/v1/analytics/usage?scope=platform", key: admin}, 403},
		{"usage no key", req{method: "GET", path: "/v1/usage"}, 401},
		{"usage wrong method", req{method: "POST", path: "/v1/usage", key: admin}, 405},

		{"design", req{method: "POST", path: "/v1/designs", key: writer, body: map[string]any{"description": "5,000 e-commerce orders from EU customers, with returns", "rows": 1000, "name": "orders"}}, 201},
		{"design hand-written spec", req{method: "POST", path: "/v1/designs", key: writer, body: map[string]any{"spec": designSpec(t)}}, 201},
		{"design neither", req{method: "POST", path: "/v1/designs", key: writer, body: map[string]any{"rows": 5}}, 400},
		{"design bad spec", req{method: "POST", path: "/v1/designs", key: writer, body: map[string]any{"spec": map[string]any{"version": 1}}}, 400},
		{"design read scope", req{method: "POST", path: "/v1/designs", key: reader, body: map[string]any{"description": "orders"}}, 403},
		{"design form body", req{method: "POST", path: "/v1/designs", key: writer, body: "description=x", header: ct("application/x-www-form-urlencoded")}, 415},
		{"put design", req{method: "PUT", path: "/v1/designs/orders", key: writer, body: map[string]any{"spec": designSpec(t)}}, 201},
		{"put design invalid", req{method: "PUT", path: "/v1/designs/orders", key: writer, body: map[string]any{"spec": map[string]any{"version": 2}}}, 400},
		{"list designs", req{method: "GET", path: "/v1/designs", key: reader}, 200},
		{"get design", req{method: "GET", path: "/v1/designs/orders", key: reader}, 200},
		{"get design v1", req{method: "GET", path: "/v1/designs/orders?version=1", key: reader}, 200},
		{"get design bad version", req{method: "GET", path: "/v1/designs/orders?version=0", key: reader}, 400},
		{"get design missing", req{method: "GET", path: "/v1/designs/nope", key: reader}, 404},
		{"design versions", req{method: "GET", path: "/v1/designs/orders/versions", key: reader}, 200},
		{"design versions missing", req{method: "GET", path: "/v1/designs/nope/versions", key: reader}, 404},
		{"design schema", req{method: "GET", path: "/v1/designs/schema", key: reader}, 200},
		{"design job", req{method: "POST", path: "/v1/jobs", key: writer, body: map[string]any{"design_id": "orders", "design_version": 1, "rows": 100, "narrative": true}}, 202},
		{"design job latest version", req{method: "POST", path: "/v1/jobs", key: writer, body: map[string]any{"design_id": "orders", "rows": 10}}, 202},
		{"design job unknown design", req{method: "POST", path: "/v1/jobs", key: writer, body: map[string]any{"design_id": "nope", "rows": 10}}, 404},
		{"design job unknown version", req{method: "POST", path: "/v1/jobs", key: writer, body: map[string]any{"design_id": "orders", "design_version": 99, "rows": 10}}, 404},
		{"design job with a dataset", req{method: "POST", path: "/v1/jobs", key: writer, body: map[string]any{"design_id": "orders", "dataset": ds, "rows": 10}}, 400},
		{"design job with labels", req{method: "POST", path: "/v1/jobs", key: writer, body: map[string]any{"design_id": "orders", "labels": true, "rows": 10}}, 400},
		{"design job over rows per job", req{method: "POST", path: "/v1/jobs", key: writer, body: map[string]any{"design_id": "orders", "rows": 1000}}, 402},
		{"job without dataset or design", req{method: "POST", path: "/v1/jobs", key: writer, body: map[string]any{"rows": 10}}, 400},

		{"get privacy budget", req{method: "GET", path: "/v1/datasets/" + ds + "/privacy-budget", key: reader}, 200},
		{"get privacy budget missing", req{method: "GET", path: "/v1/datasets/ds_missing/privacy-budget", key: reader}, 404},
		{"set privacy budget", req{method: "PUT", path: "/v1/datasets/" + ds + "/privacy-budget", key: admin, body: map[string]any{"epsilon": 4, "delta": 1e-8}}, 200},
		{"set privacy budget keeps delta", req{method: "PUT", path: "/v1/datasets/" + ds + "/privacy-budget", key: admin, body: map[string]any{"epsilon": 5}}, 200},
		{"set privacy budget no epsilon", req{method: "PUT", path: "/v1/datasets/" + ds + "/privacy-budget", key: admin, body: map[string]any{"delta": 1e-9}}, 400},
		{"set privacy budget bad epsilon", req{method: "PUT", path: "/v1/datasets/" + ds + "/privacy-budget", key: admin, body: map[string]any{"epsilon": -1}}, 400},
		{"set privacy budget bad delta", req{method: "PUT", path: "/v1/datasets/" + ds + "/privacy-budget", key: admin, body: map[string]any{"epsilon": 1, "delta": 1}}, 400},
		{"set privacy budget unknown field", req{method: "PUT", path: "/v1/datasets/" + ds + "/privacy-budget", key: admin, body: map[string]any{"epsilon": 1, "rho": 1}}, 400},
		{"set privacy budget form body", req{method: "PUT", path: "/v1/datasets/" + ds + "/privacy-budget", key: admin, body: "epsilon=1", header: ct("application/x-www-form-urlencoded")}, 415},
		{"set privacy budget missing", req{method: "PUT", path: "/v1/datasets/ds_missing/privacy-budget", key: admin, body: map[string]any{"epsilon": 1}}, 404},
		{"set privacy budget write scope", req{method: "PUT", path: "/v1/datasets/" + ds + "/privacy-budget", key: writer, body: map[string]any{"epsilon": 1}}, 403},

		{"create webhook", req{method: "POST", path: "/v1/webhooks", key: admin, body: map[string]any{"url": rcv.srv.URL + "/x", "description": "d"}}, 201},
		{"create webhook no url", req{method: "POST", path: "/v1/webhooks", key: admin, body: map[string]any{"description": "d"}}, 400},
		{"create webhook bad url", req{method: "POST", path: "/v1/webhooks", key: admin, body: map[string]any{"url": "ftp://example.com/"}}, 400},
		{"create webhook bad filter", req{method: "POST", path: "/v1/webhooks", key: admin, body: map[string]any{"url": rcv.srv.URL, "event_types": []string{"jo*b"}}}, 400},
		{"create webhook unknown field", req{method: "POST", path: "/v1/webhooks", key: admin, body: map[string]any{"url": rcv.srv.URL, "secret": "x"}}, 400},
		{"create webhook form body", req{method: "POST", path: "/v1/webhooks", key: admin, body: "url=x", header: ct("application/x-www-form-urlencoded")}, 415},
		{"create webhook write scope", req{method: "POST", path: "/v1/webhooks", key: writer, body: map[string]any{"url": rcv.srv.URL}}, 403},
		{"list webhooks", req{method: "GET", path: "/v1/webhooks", key: reader}, 200},
		{"list webhooks no key", req{method: "GET", path: "/v1/webhooks"}, 401},
		{"webhooks wrong method", req{method: "PUT", path: "/v1/webhooks", key: admin}, 405},
		{"get webhook", req{method: "GET", path: "/v1/webhooks/" + hook, key: reader}, 200},
		{"get webhook missing", req{method: "GET", path: "/v1/webhooks/ep_missing", key: reader}, 404},
		{"webhook wrong method", req{method: "POST", path: "/v1/webhooks/" + hook, key: admin}, 405},
		{"list deliveries", req{method: "GET", path: "/v1/webhooks/deliveries?endpoint=" + hook + "&limit=10", key: reader}, 200},
		{"list deliveries bad limit", req{method: "GET", path: "/v1/webhooks/deliveries?limit=501", key: reader}, 400},
		{"get delivery", req{method: "GET", path: "/v1/webhooks/deliveries/" + delivery, key: reader}, 200},
		{"get delivery missing", req{method: "GET", path: "/v1/webhooks/deliveries/msg_missing", key: reader}, 404},
		{"replay failing delivery", req{method: "POST", path: "/v1/webhooks/deliveries/" + delivery + "/replay", key: writer}, 200},
		{"replay missing", req{method: "POST", path: "/v1/webhooks/deliveries/msg_missing/replay", key: writer}, 404},
		{"replay read scope", req{method: "POST", path: "/v1/webhooks/deliveries/" + delivery + "/replay", key: reader}, 403},
		{"replay bad idempotency key", req{method: "POST", path: "/v1/webhooks/deliveries/" + delivery + "/replay", key: writer, header: map[string]string{"Idempotency-Key": strings.Repeat("k", 300)}}, 400},
		{"disable webhook", req{method: "PATCH", path: "/v1/webhooks/" + hook, key: admin, body: map[string]any{"enabled": false}}, 200},
		{"replay to disabled", req{method: "POST", path: "/v1/webhooks/deliveries/" + delivery + "/replay", key: writer}, 409},
		{"enable webhook", req{method: "PATCH", path: "/v1/webhooks/" + hook, key: admin, body: map[string]any{"enabled": true}}, 200},
		{"patch webhook no enabled", req{method: "PATCH", path: "/v1/webhooks/" + hook, key: admin, body: map[string]any{}}, 400},
		{"patch webhook url", req{method: "PATCH", path: "/v1/webhooks/" + hook, key: admin, body: map[string]any{"url": "https://example.com"}}, 400},
		{"patch webhook missing", req{method: "PATCH", path: "/v1/webhooks/ep_missing", key: admin, body: map[string]any{"enabled": true}}, 404},
		{"patch webhook write scope", req{method: "PATCH", path: "/v1/webhooks/" + hook, key: writer, body: map[string]any{"enabled": true}}, 403},
		{"rotate webhook secret", req{method: "POST", path: "/v1/webhooks/" + hook + "/rotate", key: admin, body: map[string]any{"grace_seconds": 60}}, 200},
		{"rotate webhook secret no body", req{method: "POST", path: "/v1/webhooks/" + hook + "/rotate", key: admin}, 200},
		{"rotate webhook bad grace", req{method: "POST", path: "/v1/webhooks/" + hook + "/rotate", key: admin, body: map[string]any{"grace_seconds": 700000}}, 400},
		{"rotate webhook missing", req{method: "POST", path: "/v1/webhooks/ep_missing/rotate", key: admin, body: map[string]any{}}, 404},
		{"delete webhook", req{method: "DELETE", path: "/v1/webhooks/" + spare, key: admin}, 200},
		{"delete webhook again", req{method: "DELETE", path: "/v1/webhooks/" + spare, key: admin}, 404},
		{"delete webhook write scope", req{method: "DELETE", path: "/v1/webhooks/" + hook, key: writer}, 403},

		{"audit checkpoint", req{method: "GET", path: "/v1/audit/checkpoint", key: reader}, 200},
		{"audit checkpoint of an empty log", req{method: "GET", path: "/v1/audit/checkpoint", key: f.key("quiet", apikeys.Read)}, 404},
		{"audit proof", req{method: "GET", path: "/v1/audit/2/proof", key: reader}, 200},
		{"audit proof beyond the log", req{method: "GET", path: "/v1/audit/99/proof", key: reader}, 404},
		{"audit proof bad seq", req{method: "GET", path: "/v1/audit/zero/proof", key: reader}, 400},
		{"audit consistency", req{method: "GET", path: "/v1/audit/consistency?from=1", key: reader}, 200},
		{"audit consistency to", req{method: "GET", path: "/v1/audit/consistency?from=1&to=2", key: reader}, 200},
		{"audit consistency no from", req{method: "GET", path: "/v1/audit/consistency", key: reader}, 400},
		{"audit consistency beyond", req{method: "GET", path: "/v1/audit/consistency?from=2&to=9", key: reader}, 400},
		{"audit no key", req{method: "GET", path: "/v1/audit/1/proof"}, 401},

		{"encryption not configured", req{method: "GET", path: "/v1/encryption", key: admin}, 503},
		{"set encryption not configured", req{method: "PUT", path: "/v1/encryption", key: admin, body: map[string]any{"encrypt_data": true}}, 503},
		{"set encryption no field", req{method: "PUT", path: "/v1/encryption", key: admin, body: map[string]any{}}, 400},
		{"rotate not configured", req{method: "POST", path: "/v1/encryption/rotate", key: admin}, 503},
		{"encryption read scope", req{method: "GET", path: "/v1/encryption", key: reader}, 403},
		{"delete tenant unconfirmed", req{method: "DELETE", path: "/v1/tenant?confirm=other", key: admin}, 400},
		{"delete tenant", req{method: "DELETE", path: "/v1/tenant?confirm=doomed", key: f.key("doomed", apikeys.Admin)}, 200},
	}
	for _, tc := range tests {
		r := f.do(tc.req)
		if r.status != tc.want {
			t.Errorf("%s: %s %s = %d, want %d: %s", tc.name, tc.method, tc.path, r.status, tc.want, r.body)
		}
	}

	// An anonymised dataset is a new ready dataset whose classes hold at
	// least k rows, and the answer names the key version.
	r0 := f.do(req{method: "POST", path: "/v1/datasets/" + ds + "/anonymize", key: writer,
		body: map[string]any{"k": 3, "quasi": []string{"age", "sex"}}})
	var an struct {
		Dataset struct{ ID, Status string }
		Result  struct {
			KeyVersion string `json:"key_version"`
			KAnonymity struct {
				MinClass int `json:"min_class_size"`
			} `json:"k_anonymity"`
		}
	}
	if err := json.Unmarshal(r0.body, &an); err != nil || r0.status != 201 || an.Dataset.Status != "ready" || an.Dataset.ID == ds ||
		an.Result.KAnonymity.MinClass < 3 || !strings.HasPrefix(an.Result.KeyVersion, "hmac v1") {
		t.Errorf("anonymize: %d %v %s", r0.status, err, r0.body)
	}

	// A finished job: report (both formats), output URL and content.
	done := f.createJob(admin, ds)
	f.finish("acme", done)
	for _, tc := range []struct {
		path, ctype string
	}{
		{"/v1/jobs/" + done + "/report", "application/json"},
		{"/v1/jobs/" + done + "/report?format=html", "text/html; charset=utf-8"},
		{"/v1/jobs/" + done + "/output/content", "text/csv; charset=utf-8"},
		{"/v1/jobs/" + done + "/compliance", "application/json"},
		{"/v1/jobs/" + done + "/compliance?format=html", "text/html; charset=utf-8"},
	} {
		r := f.do(req{method: "GET", path: tc.path, key: reader})
		if r.status != 200 || r.header.Get("Content-Type") != tc.ctype {
			t.Errorf("GET %s = %d %q: %s", tc.path, r.status, r.header.Get("Content-Type"), r.body)
		}
	}
	// The compliance report names the job and, since the output copies the
	// training rows, finds risks; it never claims compliance.
	r := f.do(req{method: "GET", path: "/v1/jobs/" + done + "/compliance", key: reader})
	var cr struct {
		Processing struct{ Job, Tenant string } `json:"processing"`
		GDPR       struct{ Verdict string }     `json:"gdpr"`
		HIPAA      *struct{ Verdict string }    `json:"hipaa"`
	}
	if err := json.Unmarshal(r.body, &cr); err != nil || cr.Processing.Job != done || cr.Processing.Tenant != "acme" || cr.GDPR.Verdict == "" || cr.HIPAA == nil {
		t.Errorf("compliance report: %v %s", err, r.body)
	}
	if strings.Contains(strings.ToLower(string(r.body)), "\"compliant\"") {
		t.Errorf("the compliance report claims compliance: %s", r.body)
	}
	r = f.do(req{method: "GET", path: "/v1/jobs/" + done + "/output", key: reader})
	if r.status != 200 || !strings.HasSuffix(r.json(t)["url"].(string), "/v1/jobs/"+done+"/output/content") {
		t.Errorf("output URL: %d %s", r.status, r.body)
	}
	if r := f.do(req{method: "POST", path: "/v1/jobs/" + done + "/cancel", key: admin}); r.errCode(t) != "job_finished" {
		t.Errorf("cancel finished: %s", r.body)
	}

	// The signed-URL upload through the local PUT endpoint.
	r = f.do(req{method: "POST", path: "/v1/datasets/uploads", key: admin, body: map[string]any{"name": "big.csv"}})
	up := r.json(t)
	pend := up["dataset"].(map[string]any)["id"].(string)
	if got := up["upload_url"].(string); got != f.srv.URL+"/v1/datasets/"+pend+"/content" {
		t.Errorf("upload_url = %s", got)
	}
	if r := f.do(req{method: "POST", path: "/v1/datasets/" + pend + "/complete", key: admin}); r.status != 409 {
		t.Errorf("complete before upload = %d %s", r.status, r.body)
	}
	if r := f.do(req{method: "POST", path: "/v1/jobs", key: admin, body: map[string]any{"dataset": pend, "rows": 5}}); r.errCode(t) != "dataset_not_ready" {
		t.Errorf("job on pending dataset: %s", r.body)
	}
	if r := f.do(req{method: "PUT", path: "/v1/datasets/" + pend + "/content", key: admin, body: sampleCSV}); r.status != 200 {
		t.Errorf("put content = %d %s", r.status, r.body)
	}
	r = f.do(req{method: "POST", path: "/v1/datasets/" + pend + "/complete", key: admin})
	if r.status != 200 || r.json(t)["status"] != "ready" || r.json(t)["size"].(float64) != float64(len(sampleCSV)) {
		t.Errorf("complete = %d %s", r.status, r.body)
	}

	// Revoke a key: 200 with revoked_at, then it stops working at once.
	r = f.do(req{method: "POST", path: "/v1/keys", key: admin, body: map[string]any{"scopes": []string{"read"}}})
	created := r.json(t)
	if r := f.do(req{method: "GET", path: "/v1/jobs", key: created["key"].(string)}); r.status != 200 {
		t.Fatalf("new key: %d", r.status)
	}
	r = f.do(req{method: "DELETE", path: "/v1/keys/" + created["id"].(string), key: admin})
	if r.status != 200 || r.json(t)["revoked_at"] == nil {
		t.Errorf("revoke = %d %s", r.status, r.body)
	}
	if r := f.do(req{method: "GET", path: "/v1/jobs", key: created["key"].(string)}); r.status != 401 {
		t.Errorf("revoked key still works: %d", r.status)
	}

	exerciseModels(t, f, admin, reader, ds)

	// Generation paused by the spend guard: 503.
	if err := f.st.Set(context.Background(), guard.Coll, guard.Doc, guard.Status{Paused: true, Reason: "budget synthos at 120%"}); err != nil {
		t.Fatal(err)
	}
	if r := f.do(req{method: "POST", path: "/v1/jobs", key: admin, body: map[string]any{"dataset": ds, "rows": 5}}); r.status != 503 || r.errCode(t) != "generation_paused" {
		t.Errorf("paused: %d %s", r.status, r.body)
	}

	exerciseDestinations(t, f, admin, ds)
	exerciseBilling(t, f, admin, reader)

	for _, op := range f.spec.operations() {
		if !f.spec.exercised(op) {
			t.Errorf("operation %s was never exercised", op)
		}
	}
}

// mpType is the content type of mp's bodies.
const mpType = "multipart/form-data; boundary=testboundary"

// mp is a multipart body with one file part.
func mp(t *testing.T, field, filename string) []byte {
	t.Helper()
	return []byte("--testboundary\r\nContent-Disposition: form-data; name=\"" + field + "\"; filename=\"" + filename +
		"\"\r\nContent-Type: text/csv\r\n\r\na,b\n1,2\n\r\n--testboundary--\r\n")
}

// bigMultipart is a multipart body whose file exceeds the fixture's 1 MiB limit.
func bigMultipart(t *testing.T) []byte {
	t.Helper()
	return []byte("--testboundary\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.csv\"\r\n\r\n" +
		strings.Repeat("1,2\n", 300_000) + "\r\n--testboundary--\r\n")
}

// TestOtherTenantsIDsAreNotFound calls every endpoint that takes an id with
// another tenant's ids, with a key holding every scope: each answers 404,
// and listings never show them.
func TestOtherTenantsIDsAreNotFound(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fixtureOptions{})
	f.spec = loadSpec(t)
	a := f.key("tenant-a", apikeys.Admin)
	b := f.key("tenant-b", apikeys.Admin)
	ds := f.upload(a)
	job := f.createJob(a, ds)
	done := f.createJob(a, ds)
	f.finish("tenant-a", done)
	r := f.do(req{method: "POST", path: "/v1/datasets/uploads", key: a, body: map[string]any{"name": "p.csv"}})
	pending := r.json(t)["dataset"].(map[string]any)["id"].(string)
	recs, err := f.keys.List(context.Background(), "tenant-a")
	if err != nil {
		t.Fatal(err)
	}
	keyID := recs[0].ID
	rcv := newHookReceiver(t)
	hook, _ := f.webhook(a, rcv.srv.URL)
	delivery := f.jobEvent("tenant-a", "m-a", hook)

	tests := []req{
		{method: "GET", path: "/v1/datasets/" + ds},
		{method: "PUT", path: "/v1/datasets/" + pending + "/content", body: sampleCSV},
		{method: "POST", path: "/v1/datasets/" + pending + "/complete"},
		{method: "POST", path: "/v1/jobs", body: map[string]any{"dataset": ds, "rows": 5}},
		{method: "GET", path: "/v1/jobs/" + job},
		{method: "POST", path: "/v1/jobs/" + job + "/cancel"},
		{method: "GET", path: "/v1/jobs/" + done + "/report"},
		{method: "GET", path: "/v1/jobs/" + done + "/report?format=html"},
		{method: "GET", path: "/v1/jobs/" + done + "/output"},
		{method: "GET", path: "/v1/jobs/" + done + "/output/content"},
		{method: "DELETE", path: "/v1/keys/" + keyID},
		{method: "GET", path: "/v1/datasets/" + ds + "/privacy-budget"},
		{method: "PUT", path: "/v1/datasets/" + ds + "/privacy-budget", body: map[string]any{"epsilon": 50}},
		{method: "GET", path: "/v1/webhooks/" + hook},
		{method: "PATCH", path: "/v1/webhooks/" + hook, body: map[string]any{"enabled": false}},
		{method: "POST", path: "/v1/webhooks/" + hook + "/rotate", body: map[string]any{"grace_seconds": 0}},
		{method: "DELETE", path: "/v1/webhooks/" + hook},
		{method: "GET", path: "/v1/webhooks/deliveries/" + delivery},
		{method: "POST", path: "/v1/webhooks/deliveries/" + delivery + "/replay"},
	}
	for _, rq := range tests {
		rq.key = b
		r := f.do(rq)
		if r.status != http.StatusNotFound || r.errCode(t) != "not_found" {
			t.Errorf("%s %s as tenant-b = %d %s, want 404 not_found", rq.method, rq.path, r.status, r.body)
		}
		if strings.Contains(string(r.body), "tenant-a") {
			t.Errorf("%s %s leaks the other tenant's name: %s", rq.method, rq.path, r.body)
		}
	}
	for _, path := range []string{"/v1/datasets", "/v1/jobs", "/v1/keys", "/v1/webhooks", "/v1/webhooks/deliveries", "/v1/webhooks/deliveries?endpoint=" + hook} {
		r := f.do(req{method: "GET", path: path, key: b})
		if r.status != 200 {
			t.Errorf("GET %s as tenant-b = %d %s", path, r.status, r.body)
		}
		for _, id := range []string{ds, pending, job, done, keyID, hook, delivery} {
			if strings.Contains(string(r.body), id) {
				t.Errorf("GET %s as tenant-b lists %s: %s", path, id, r.body)
			}
		}
	}
	// Tenant A's things are untouched.
	if r := f.do(req{method: "GET", path: "/v1/datasets/" + ds + "/privacy-budget", key: a}); r.status != 200 || r.json(t)["cap_epsilon"] != 10.0 {
		t.Errorf("tenant-a's privacy budget after tenant-b's PUT: %d %s", r.status, r.body)
	}
	j, err := jobs.New(f.st).Get(context.Background(), "tenant-a", job)
	if err != nil || j.Cancel {
		t.Errorf("job after tenant-b's cancel: %+v %v", j, err)
	}
	if r := f.do(req{method: "GET", path: "/v1/jobs", key: a}); r.status != 200 {
		t.Errorf("tenant-a's key after tenant-b's revoke: %d", r.status)
	}
	// Tenant A's endpoint is still enabled, with its one delivery attempt.
	if r := f.do(req{method: "GET", path: "/v1/webhooks/" + hook, key: a}); r.status != 200 || r.json(t)["enabled"] != true {
		t.Errorf("tenant-a's endpoint after tenant-b's PATCH and DELETE: %d %s", r.status, r.body)
	}
	if r := f.do(req{method: "GET", path: "/v1/webhooks/deliveries/" + delivery, key: a}); r.status != 200 || r.json(t)["attempts"] != 1.0 {
		t.Errorf("tenant-a's delivery after tenant-b's replay: %d %s", r.status, r.body)
	}
	if n := len(rcv.requests()); n != 1 {
		t.Errorf("tenant-a's receiver got %d requests, want 1", n)
	}
}

func TestScopes(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fixtureOptions{})
	ds := f.upload(f.key("t", apikeys.Write))
	tests := []struct {
		scope apikeys.Scope
		req
		want int
	}{
		{apikeys.Read, req{method: "GET", path: "/v1/datasets"}, 200},
		{apikeys.Read, req{method: "POST", path: "/v1/jobs", body: map[string]any{"dataset": ds, "rows": 1}}, 403},
		{apikeys.Write, req{method: "POST", path: "/v1/jobs", body: map[string]any{"dataset": ds, "rows": 1}}, 202},
		{apikeys.Write, req{method: "GET", path: "/v1/keys"}, 403},
		{apikeys.Write, req{method: "POST", path: "/v1/keys", body: map[string]any{"scopes": []string{"admin"}}}, 403},
		{apikeys.Admin, req{method: "GET", path: "/v1/keys"}, 200},
		{apikeys.Admin, req{method: "GET", path: "/v1/jobs"}, 200},
	}
	for _, tc := range tests {
		tc.key = f.key("t", tc.scope)
		if r := f.do(tc.req); r.status != tc.want {
			t.Errorf("%s key: %s %s = %d, want %d: %s", tc.scope, tc.method, tc.path, r.status, tc.want, r.body)
		}
	}
	if !slices.Contains(f.pub.actions(), "job.created") {
		t.Errorf("no job.created audit event: %v", f.pub.actions())
	}
	// X-API-Key works as well as the bearer header.
	r := f.do(req{method: "GET", path: "/v1/datasets", header: map[string]string{"X-API-Key": f.key("t", apikeys.Read)}})
	if r.status != 200 {
		t.Errorf("X-API-Key: %d", r.status)
	}
}

func TestIdempotency(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fixtureOptions{})
	f.spec = loadSpec(t)
	key := f.key("t", apikeys.Write)
	ds := f.upload(key)
	post := func(idem string, body any) resp {
		return f.do(req{method: "POST", path: "/v1/jobs", key: key, body: body, header: map[string]string{"Idempotency-Key": idem}})
	}
	first := post("k1", map[string]any{"dataset": ds, "rows": 10})
	if first.status != 202 {
		t.Fatalf("first: %d %s", first.status, first.body)
	}
	// The same content re-serialized (other key order, whitespace) replays.
	again := f.do(req{method: "POST", path: "/v1/jobs", key: key, body: `{ "rows": 10, "dataset": "` + ds + `" }`,
		header: map[string]string{"Idempotency-Key": "k1", "Content-Type": "application/json"}})
	if again.status != 202 || string(again.body) != string(first.body) || again.header.Get("Idempotent-Replayed") != "true" {
		t.Errorf("replay: %d %q %s", again.status, again.header.Get("Idempotent-Replayed"), again.body)
	}
	if r := post("k1", map[string]any{"dataset": ds, "rows": 11}); r.status != 422 || r.errCode(t) != "idempotency_mismatch" {
		t.Errorf("different body: %d %s", r.status, r.body)
	}
	if got := f.pub.count(topics.GenerateRequests); got != 1 {
		t.Errorf("published %d generate requests, want 1", got)
	}
	// A 4xx answer is stored too: the same bad request replays its error.
	if r := post("k2", map[string]any{"dataset": ds}); r.status != 400 {
		t.Errorf("bad: %d", r.status)
	}
	if r := post("k2", map[string]any{"dataset": ds}); r.status != 400 || r.header.Get("Idempotent-Replayed") != "true" {
		t.Errorf("bad replay: %d %v", r.status, r.header)
	}
	// Keys are per tenant: another tenant's same key executes anew.
	other := f.key("u", apikeys.Write)
	dsU := f.upload(other)
	r := f.do(req{method: "POST", path: "/v1/jobs", key: other, body: map[string]any{"dataset": dsU, "rows": 10}, header: map[string]string{"Idempotency-Key": "k1"}})
	if r.status != 202 || r.header.Get("Idempotent-Replayed") != "" {
		t.Errorf("other tenant, same key: %d %v", r.status, r.header)
	}
	// Multipart uploads replay although curl picks a new boundary each time.
	for i, boundary := range []string{"aaaa", "bbbb"} {
		body := "--" + boundary + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"x.csv\"\r\n\r\n" + sampleCSV + "\r\n--" + boundary + "--\r\n"
		r := f.do(req{method: "POST", path: "/v1/datasets", key: key, body: body,
			header: map[string]string{"Content-Type": "multipart/form-data; boundary=" + boundary, "Idempotency-Key": "up1"}})
		if r.status != 201 || (i == 1) != (r.header.Get("Idempotent-Replayed") == "true") {
			t.Errorf("upload %d: %d %v %s", i, r.status, r.header.Get("Idempotent-Replayed"), r.body)
		}
	}
}

// TestIdempotencyConcurrentDuplicates fires duplicates at once: exactly
// one executes; the others get its answer or 409 in progress.
func TestIdempotencyConcurrentDuplicates(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fixtureOptions{})
	key := f.key("t", apikeys.Write)
	ds := f.upload(key)
	const n = 16
	var wg sync.WaitGroup
	statuses := make([]int, n)
	ids := make([]string, n)
	for i := range n {
		wg.Go(func() {
			r := f.do(req{method: "POST", path: "/v1/jobs", key: key, body: map[string]any{"dataset": ds, "rows": 3},
				header: map[string]string{"Idempotency-Key": "same"}})
			statuses[i] = r.status
			if r.status == 202 {
				ids[i] = r.json(t)["id"].(string)
			}
		})
	}
	wg.Wait()
	for i, s := range statuses {
		if s != 202 && s != 409 {
			t.Errorf("request %d: status %d", i, s)
		}
	}
	page, err := jobs.New(f.st).List(context.Background(), "t", 100, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Jobs) != 1 {
		t.Fatalf("%d jobs created, want 1", len(page.Jobs))
	}
	for i, id := range ids {
		if id != "" && id != page.Jobs[0].ID {
			t.Errorf("request %d answered job %s, the only job is %s", i, id, page.Jobs[0].ID)
		}
	}
	if got := f.pub.count(topics.GenerateRequests); got != 1 {
		t.Errorf("published %d generate requests, want 1", got)
	}
}

func TestJobValidationNamesTheField(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fixtureOptions{})
	f.spec = loadSpec(t)
	key := f.key("t", apikeys.Write)
	ds := f.upload(key)
	tests := []struct {
		body  string
		field string
	}{
		{`{"rows":5}`, "dataset"},
		{`{"dataset":"` + ds + `"}`, "rows"},
		{`{"dataset":"` + ds + `","rows":"5"}`, "rows"},
		{`{"dataset":"` + ds + `","rows":5,"model":"gan"}`, "model"},
		{`{"dataset":"` + ds + `","rows":5,"format":"xlsx"}`, "format"},
		{`{"dataset":"` + ds + `","rows":5,"rules":[1]}`, "rules"},
		{`{"dataset":"` + ds + `","rows":5,"conditions":{"sex":["f"]}}`, "conditions.sex"},
		{`{"dataset":"` + ds + `","rows":5,"model":"dp"}`, "epsilon"},
		{`{"dataset":"` + ds + `","rows":5,"epsilon":1}`, "epsilon"},
		{`{"dataset":"` + ds + `","rows":5,"model":"dp","epsilon":1,"delta":2}`, "delta"},
		{`{"dataset":"` + ds + `","rows":5,"seed":-1}`, "seed"},
		{`{"dataset":"` + ds + `","rows":5,"colour":"red"}`, "colour"},
		{`{"dataset":`, "body"},
		{``, "body"},
	}
	for _, tc := range tests {
		r := f.do(req{method: "POST", path: "/v1/jobs", key: key, body: tc.body, header: map[string]string{"Content-Type": "application/json"}})
		if r.status != 400 {
			t.Errorf("%s: status %d %s", tc.body, r.status, r.body)
			continue
		}
		d, _ := r.json(t)["error"].(map[string]any)["details"].(map[string]any)
		if d["field"] != tc.field {
			t.Errorf("%s: field %v, want %s (%s)", tc.body, d["field"], tc.field, r.body)
		}
	}
}

// TestAuthCacheRevocation: a key revoked through another instance stops
// working on this one once the cache TTL has passed.
func TestAuthCacheRevocation(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fixtureOptions{authTTL: time.Hour})
	key := f.key("t", apikeys.Read)
	if r := f.do(req{method: "GET", path: "/v1/jobs", key: key}); r.status != 200 {
		t.Fatal(r.status)
	}
	recs, _ := f.keys.List(context.Background(), "t")
	// Revoked behind the API's back (another instance, or the CLI).
	if err := f.keys.Revoke(context.Background(), "t", recs[0].ID); err != nil {
		t.Fatal(err)
	}
	if r := f.do(req{method: "GET", path: "/v1/jobs", key: key}); r.status != 200 {
		t.Errorf("within the TTL the cached key is expected to work: %d", r.status)
	}

	g := newFixture(t, fixtureOptions{authTTL: -1}) // no cache: revocation is immediate
	key = g.key("t", apikeys.Read)
	recs, _ = g.keys.List(context.Background(), "t")
	if r := g.do(req{method: "GET", path: "/v1/jobs", key: key}); r.status != 200 {
		t.Fatal(r.status)
	}
	if err := g.keys.Revoke(context.Background(), "t", recs[0].ID); err != nil {
		t.Fatal(err)
	}
	if r := g.do(req{method: "GET", path: "/v1/jobs", key: key}); r.status != 401 {
		t.Errorf("revoked key without cache: %d", r.status)
	}
}

// TestSignedURLs uses a bucket that can sign (fileblob with an HMAC
// signer, as Cloud Storage would): upload and download URLs are signed
// URLs of the store, not the API's own endpoints.
func TestSignedURLs(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	base, _ := url.Parse("https://objects.example/signed")
	bucket, err := fileblob.OpenBucket(dir, &fileblob.Options{URLSigner: fileblob.NewURLSignerHMAC(base, []byte("secret-secret-secret-secret-1234"))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { bucket.Close() })
	f := newFixture(t, fixtureOptions{bucket: bucket})
	f.spec = loadSpec(t)
	key := f.key("t", apikeys.Read, apikeys.Write)
	r := f.do(req{method: "POST", path: "/v1/datasets/uploads", key: key, body: map[string]any{"name": "adult.csv"}})
	if r.status != 201 || !strings.HasPrefix(r.json(t)["upload_url"].(string), "https://objects.example/signed") {
		t.Errorf("upload URL: %d %s", r.status, r.body)
	}
	ds := f.upload(key)
	job := f.createJob(key, ds)
	f.finish("t", job)
	r = f.do(req{method: "GET", path: "/v1/jobs/" + job + "/output", key: key})
	if r.status != 200 || !strings.HasPrefix(r.json(t)["url"].(string), "https://objects.example/signed") || r.json(t)["authenticated"] != false {
		t.Errorf("download URL: %d %s", r.status, r.body)
	}
}

// designSpec is a valid hand-written spec (a domain pack's).
func designSpec(t *testing.T) map[string]any {
	t.Helper()
	sp, err := design.Pack("hr", design.PackOptions{Rows: 50})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(sp)
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}
