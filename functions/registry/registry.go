// Package registry lists every function entry point once, so that the root
// functions.go (Cloud Functions), the local runner and the Terraform check
// all agree on names, kinds, topics and routes.
package registry

import (
	"synthos.dev/synthos/functions/api"
	"synthos.dev/synthos/functions/audit"
	"synthos.dev/synthos/functions/billingwebhooks"
	"synthos.dev/synthos/functions/budgetalerts"
	"synthos.dev/synthos/functions/deadletter"
	"synthos.dev/synthos/functions/generate"
	"synthos.dev/synthos/functions/ingest"
	"synthos.dev/synthos/functions/notify"
	"synthos.dev/synthos/functions/privacy"
	"synthos.dev/synthos/functions/reap"
	"synthos.dev/synthos/functions/subscriptions"
	"synthos.dev/synthos/functions/tally"
	"synthos.dev/synthos/shared/platform"
	"synthos.dev/synthos/shared/topics"
)

// Kind is how an entry point is triggered.
type Kind int

const (
	HTTP       Kind = iota // called over HTTPS
	Push                   // a Pub/Sub push subscription POSTs the envelope
	CloudEvent             // an Eventarc trigger delivers a CloudEvent
)

// Entry is one deployable function.
type Entry struct {
	Name  string // the Cloud Functions entry point (FUNCTION_TARGET)
	Kind  Kind
	Topic string // Push: the topic its subscription reads
	// DeadLetter marks a consumer of a dead-letter topic: the local runner
	// does not subscribe it (the embedded bus calls Env.OnDeadLetter).
	DeadLetter bool
	Routes     []string // HTTP: path prefixes the local runner mounts it on
	HTTP       platform.HTTPFactory
	Push       platform.PushFactory
	Event      func(env *platform.Env) (ingest.Func, error)
}

// All returns every entry point.
func All() []Entry {
	return []Entry{
		{Name: "API", Kind: HTTP, Routes: []string{"/"}, HTTP: api.New},
		{Name: "Billing", Kind: HTTP, Routes: []string{"/webhooks/"}, HTTP: billingwebhooks.New},
		{Name: "Ingest", Kind: CloudEvent, Event: ingest.New},
		{Name: "Generate", Kind: Push, Topic: topics.GenerateRequests, Push: generate.New},
		{Name: "Privacy", Kind: Push, Topic: topics.PrivacyChecks, Push: privacy.New},
		{Name: "Notify", Kind: Push, Topic: topics.JobEvents, Push: notify.New},
		{Name: "Analytics", Kind: Push, Topic: topics.JobEvents, Push: tally.New},
		{Name: "Audit", Kind: Push, Topic: topics.AuditEvents, Push: audit.New},
		{Name: "Subscriptions", Kind: Push, Topic: topics.BillingEvents, Push: subscriptions.New},
		{Name: "Guard", Kind: Push, Topic: topics.BudgetAlerts, Push: budgetalerts.New},
		// Pub/Sub's dead-letter topics of the pipeline: fail the job whose
		// message could not be delivered. Locally the runner calls the same
		// code from the embedded bus's dead-letter hook instead.
		{Name: "Reap", Kind: Push, Topic: topics.ReaperTicks, Push: reap.New},
		{Name: "GenerateDeadLetter", Kind: Push, Topic: topics.DeadLetter(topics.GenerateRequests), Push: deadletter.New, DeadLetter: true},
		{Name: "PrivacyDeadLetter", Kind: Push, Topic: topics.DeadLetter(topics.PrivacyChecks), Push: deadletter.New, DeadLetter: true},
	}
}
