package events

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"sync"

	"cloud.google.com/go/pubsub/v2"
	"cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"
	"google.golang.org/api/option"

	"synthos.dev/synthos/shared/obs"
)

// PubSub publishes to Google Cloud Pub/Sub. It keeps one batching publisher
// per topic for the life of the instance, as the client library recommends.
// The client honours PUBSUB_EMULATOR_HOST.
type PubSub struct {
	client *pubsub.Client

	mu     sync.Mutex
	pubs   map[string]*pubsub.Publisher
	closed bool
}

// NewPubSub connects to Pub/Sub in projectID. Credentials are resolved by the
// client library (Application Default Credentials) unless opts say otherwise.
func NewPubSub(ctx context.Context, projectID string, opts ...option.ClientOption) (*PubSub, error) {
	if projectID == "" {
		return nil, fmt.Errorf("events.NewPubSub: %w: empty project id", ErrInvalid)
	}
	c, err := pubsub.NewClient(ctx, projectID, opts...)
	if err != nil {
		return nil, fmt.Errorf("events.NewPubSub: %w", err)
	}
	return &PubSub{client: c, pubs: map[string]*pubsub.Publisher{}}, nil
}

// Publish sends the message and waits for the id the server assigns, so a
// nil error means Pub/Sub has stored the message. topic is a topic id in the
// client's project or a full "projects/p/topics/t" name.
func (p *PubSub) Publish(ctx context.Context, topic string, data []byte, attrs map[string]string) (string, error) {
	if len(data) == 0 && len(attrs) == 0 {
		// Checked before the span: its traceparent must not make an empty
		// message look like one with attributes.
		return "", fmt.Errorf("events.PubSub.Publish(%q): %w: message has neither data nor attributes", topic, ErrInvalid)
	}
	ctx, span := publishSpan(ctx, topic)
	defer span.End()
	attrs = obs.InjectAttributes(ctx, maps.Clone(attrs))
	if err := validate(topic, data, attrs); err != nil {
		return "", fmt.Errorf("events.PubSub.Publish(%q): %w", topic, err)
	}
	pub, err := p.publisher(topic)
	if err != nil {
		return "", err
	}
	id, err := pub.Publish(ctx, &pubsub.Message{Data: data, Attributes: attrs}).Get(ctx)
	if errors.Is(err, pubsub.ErrPublisherStopped) {
		err = errors.Join(ErrClosed, err)
	}
	if err != nil {
		return "", fmt.Errorf("events.PubSub.Publish(%q): %w", topic, err)
	}
	return id, nil
}

func (p *PubSub) publisher(topic string) (*pubsub.Publisher, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil, fmt.Errorf("events.PubSub.Publish(%q): %w", topic, ErrClosed)
	}
	pub, ok := p.pubs[topic]
	if !ok {
		pub = p.client.Publisher(topic)
		p.pubs[topic] = pub
	}
	return pub, nil
}

// Ping checks that Pub/Sub answers and that each topic exists. It reads the
// topics' metadata, which needs pubsub.topics.get (roles/pubsub.viewer) on
// them, beyond the publisher role.
func (p *PubSub) Ping(ctx context.Context, topics ...string) error {
	for _, t := range topics {
		name := p.client.Publisher(t).String() // resolves ids to full names
		if _, err := p.client.TopicAdminClient.GetTopic(ctx, &pubsubpb.GetTopicRequest{Topic: name}); err != nil {
			return fmt.Errorf("events.PubSub.Ping(%q): %w", t, err)
		}
	}
	return nil
}

// Close flushes and stops every publisher, then closes the client. Later
// Publish calls fail with ErrClosed.
func (p *PubSub) Close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	pubs := p.pubs
	p.pubs = nil
	p.mu.Unlock()
	for _, pub := range pubs {
		pub.Stop()
	}
	if err := p.client.Close(); err != nil {
		return fmt.Errorf("events.PubSub.Close: %w", err)
	}
	return nil
}

var _ Publisher = (*PubSub)(nil)
