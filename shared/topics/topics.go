// Package topics names the Pub/Sub topics that chain the functions.
// Terraform creates exactly these; a test checks that.
package topics

const (
	GenerateRequests = "generate-requests" // api, ingest -> generate
	PrivacyChecks    = "privacy-checks"    // generate -> privacy
	JobEvents        = "job-events"        // privacy, generate -> notify
	AuditEvents      = "audit-events"      // every function -> audit
	BillingEvents    = "billing-events"    // billing webhooks -> subscriptions
	BudgetAlerts     = "budget-alerts"     // Cloud Billing budget -> guard
	ReaperTicks      = "reaper-ticks"      // Cloud Scheduler (a ticker locally) -> reap
)

// DeadLetter names the dead-letter topic of a topic's push subscription.
func DeadLetter(topic string) string { return topic + "-dead-letter" }

// All lists every topic the code publishes to or consumes.
func All() []string {
	return []string{GenerateRequests, PrivacyChecks, JobEvents, AuditEvents, BillingEvents, BudgetAlerts, ReaperTicks}
}
