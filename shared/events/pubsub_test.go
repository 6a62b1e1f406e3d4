package events_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http/httptest"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"cloud.google.com/go/pubsub/v2"
	"cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"synthos.dev/synthos/shared/events"
	"synthos.dev/synthos/shared/events/eventstest"
)

const project = "synthos-test"

// emulator skips (or, in CI, fails) the test when the Pub/Sub emulator is not
// configured.
func emulator(t *testing.T) {
	t.Helper()
	if os.Getenv("PUBSUB_EMULATOR_HOST") != "" {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("PUBSUB_EMULATOR_HOST is not set: the Pub/Sub emulator is required in CI")
	}
	t.Skip("PUBSUB_EMULATOR_HOST is not set: skipping tests against the Pub/Sub emulator")
}

// emuHarness runs the conformance suite on PubSub against the emulator. The
// emulator cannot push, so a pump per subscription pulls each message and
// POSTs the exact push envelope to an httptest server running PushHandler:
// a 2xx answer acks, anything else nacks, as Pub/Sub's push delivery does.
// The emulator implements neither delivery attempt counts nor dead-letter
// policies, so the pump counts attempts itself (and reports them in the
// envelope, as Pub/Sub does for subscriptions with a dead-letter policy) and,
// after MaxAttempts, publishes the message to the topic's dead-letter topic
// with Pub/Sub's CloudPubSubDeadLetter* attributes and acks it.
type emuHarness struct {
	t      *testing.T
	admin  *pubsub.Client
	pub    *events.PubSub
	max    int
	prefix string
}

func newEmuHarness(t *testing.T) *emuHarness {
	t.Helper()
	emulator(t)
	admin, err := pubsub.NewClient(t.Context(), project)
	if err != nil {
		t.Fatalf("pubsub.NewClient: %v", err)
	}
	t.Cleanup(func() { _ = admin.Close() })
	pub, err := events.NewPubSub(t.Context(), project)
	if err != nil {
		t.Fatalf("NewPubSub: %v", err)
	}
	t.Cleanup(func() { _ = pub.Close() })
	return &emuHarness{t: t, admin: admin, pub: pub, max: 3, prefix: "projects/" + project}
}

func (h *emuHarness) Publisher() events.Publisher { return h.pub }
func (h *emuHarness) MaxAttempts() int            { return h.max }

func (h *emuHarness) createTopic(ctx context.Context, id string) (string, error) {
	name := h.prefix + "/topics/" + id
	_, err := h.admin.TopicAdminClient.CreateTopic(ctx, &pubsubpb.Topic{Name: name})
	if status.Code(err) == codes.AlreadyExists {
		err = nil
	}
	if err != nil {
		return "", fmt.Errorf("create topic %s: %w", id, err)
	}
	return name, nil
}

func (h *emuHarness) Subscribe(ctx context.Context, topic string, hd events.Handler, dead func(eventstest.DeadLetter)) error {
	topicName, err := h.createTopic(ctx, topic)
	if err != nil {
		return err
	}
	deadName, err := h.createTopic(ctx, topic+"-dead")
	if err != nil {
		return err
	}
	subName := h.prefix + "/subscriptions/" + topic + "-push"
	if _, err := h.admin.SubscriptionAdminClient.CreateSubscription(ctx, &pubsubpb.Subscription{
		Name: subName, Topic: topicName, AckDeadlineSeconds: 30,
	}); err != nil {
		return fmt.Errorf("create subscription: %w", err)
	}

	var mu sync.Mutex
	lastErr := map[string]error{}
	attempts := map[string]int{}
	srv := httptest.NewServer(events.PushHandler(func(ctx context.Context, m *events.Message) error {
		err := hd(ctx, m)
		mu.Lock()
		lastErr[m.ID] = err
		mu.Unlock()
		return err
	}))
	push := events.PushTo(srv.Client(), srv.URL)
	deadPub := h.admin.Publisher(deadName)

	rctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- h.admin.Subscriber(subName).Receive(rctx, func(ctx context.Context, msg *pubsub.Message) {
			mu.Lock()
			attempts[msg.ID]++
			n := attempts[msg.ID]
			mu.Unlock()
			m := &events.Message{
				ID: msg.ID, Data: msg.Data, Attributes: msg.Attributes, PublishTime: msg.PublishTime,
				DeliveryAttempt: n, Subscription: subName,
			}
			if err := push(ctx, m); err == nil {
				msg.Ack()
				return
			}
			if n < h.max {
				msg.Nack()
				return
			}
			attrs := maps.Clone(msg.Attributes)
			if attrs == nil {
				attrs = map[string]string{}
			}
			attrs[events.AttrDeadLetterDeliveryCount] = strconv.Itoa(n)
			attrs[events.AttrDeadLetterSubscription] = subName
			attrs[events.AttrDeadLetterPublishTime] = msg.PublishTime.UTC().Format(time.RFC3339Nano)
			if _, err := deadPub.Publish(ctx, &pubsub.Message{Data: msg.Data, Attributes: attrs}).Get(ctx); err != nil {
				msg.Nack()
				return
			}
			mu.Lock()
			e := lastErr[msg.ID]
			mu.Unlock()
			dead(eventstest.DeadLetter{Topic: topic, Message: m, Err: e})
			msg.Ack()
		})
	}()
	h.t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
			h.t.Errorf("Receive(%s): %v", subName, err)
		}
		deadPub.Stop()
		srv.Close()
	})
	return nil
}

func TestPubSubConformance(t *testing.T) {
	eventstest.Run(t, newEmuHarness(t))
}

func TestPubSubPing(t *testing.T) {
	h := newEmuHarness(t)
	if _, err := h.createTopic(t.Context(), "ping-topic"); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		topics  []string
		wantErr bool
	}{
		{"no topics", nil, false},
		{"existing topic", []string{"ping-topic"}, false},
		{"full name", []string{"projects/" + project + "/topics/ping-topic"}, false},
		{"missing topic", []string{"ping-topic", "no-such-topic"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := h.pub.Ping(t.Context(), tt.topics...); (err != nil) != tt.wantErr {
				t.Errorf("Ping(%v) = %v, want error %v", tt.topics, err, tt.wantErr)
			}
		})
	}
}

func TestPubSubMissingTopic(t *testing.T) {
	h := newEmuHarness(t)
	_, err := h.pub.Publish(t.Context(), "no-such-topic", []byte("x"), nil)
	if status.Code(err) != codes.NotFound {
		t.Errorf("Publish to a missing topic = %v, want NotFound", err)
	}
}

func TestNewPubSubEmptyProject(t *testing.T) {
	if _, err := events.NewPubSub(t.Context(), ""); !errors.Is(err, events.ErrInvalid) {
		t.Errorf("NewPubSub(\"\") = %v, want ErrInvalid", err)
	}
}
