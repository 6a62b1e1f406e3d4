package events

import (
	"context"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"synthos.dev/synthos/shared/metrics"
	"synthos.dev/synthos/shared/obs"
)

// handle runs h for m in a consumer span, a child of the publisher's span
// named by the message's traceparent attribute, and records the delivery's
// handling time and redelivery (shared/metrics).
func handle(ctx context.Context, h Handler, m *Message) error {
	if t, ok := obs.ParseTraceparent(m.Attributes[obs.AttrTraceparent]); ok {
		ctx = obs.WithTrace(ctx, t)
	} else {
		ctx = obs.WithTrace(ctx, obs.NewTrace())
	}
	ctx, span := obs.StartSpan(ctx, "process "+m.Subscription, trace.SpanKindConsumer,
		attribute.String("messaging.system", "gcp_pubsub"),
		attribute.String("messaging.message.id", m.ID),
		attribute.String("messaging.destination.subscription.name", m.Subscription),
		attribute.Int("messaging.gcp_pubsub.message.delivery_attempt", m.DeliveryAttempt))
	start := time.Now()
	err := h(ctx, m)
	metrics.Default().Message(ctx, m.Subscription, m.DeliveryAttempt, err, time.Since(start))
	obs.EndSpan(span, err)
	return err
}

// publishSpan starts the producer span of a publish to topic; the message
// carries its id as the consumer's parent.
func publishSpan(ctx context.Context, topic string) (context.Context, trace.Span) {
	return obs.StartSpan(ctx, "send "+topic, trace.SpanKindProducer,
		attribute.String("messaging.system", "gcp_pubsub"),
		attribute.String("messaging.destination.name", topic))
}
