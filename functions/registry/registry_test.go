package registry

import (
	"slices"
	"testing"

	"synthos.dev/synthos/shared/topics"
)

func TestEntries(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	consumed := map[string]bool{}
	for _, e := range All() {
		if e.Name == "" || seen[e.Name] {
			t.Errorf("entry name %q empty or repeated", e.Name)
		}
		seen[e.Name] = true
		switch e.Kind {
		case HTTP:
			if e.HTTP == nil || len(e.Routes) == 0 {
				t.Errorf("%s: HTTP entry without factory or routes", e.Name)
			}
		case Push:
			known := slices.Contains(topics.All(), e.Topic)
			if e.DeadLetter {
				known = slices.ContainsFunc(topics.All(), func(tp string) bool { return topics.DeadLetter(tp) == e.Topic })
			}
			if e.Push == nil || !known {
				t.Errorf("%s: push entry without factory or with unknown topic %q", e.Name, e.Topic)
			}
			// A topic may fan out to several consumers (job-events: Notify
			// and Analytics), each through a subscription of its own.
			consumed[e.Topic] = true
		case CloudEvent:
			if e.Event == nil {
				t.Errorf("%s: CloudEvent entry without factory", e.Name)
			}
		}
	}
	for _, tp := range topics.All() {
		if !consumed[tp] {
			t.Errorf("no function consumes topic %s", tp)
		}
	}
}
