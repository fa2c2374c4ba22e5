package events

import (
	"context"
	"log/slog"
)

// Payload is what an event carries; its type decides its topic.
type Payload interface {
	Topic() string
}

// Publish sends p as the event of p.Topic() for userID (empty: an admin
// event such as a cron run) under key. A lost event never fails the work it
// announces: a failure is logged here at warning level, and returned for a
// caller to whom it matters more. A nil bus publishes nothing.
func Publish(ctx context.Context, bus Bus, log *slog.Logger, userID, key string, p Payload) error {
	if bus == nil {
		return nil
	}
	e, err := New(p.Topic(), userID, key, p)
	if err == nil {
		err = bus.Publish(ctx, e)
	}
	if err != nil {
		log.WarnContext(ctx, "events: publish", slog.String("topic", p.Topic()), slog.Any("error", err))
	}
	return err
}
