package graph

import (
	"context"
	"encoding/json"

	"github.com/twinme/twinme/internal/events"
)

// relay turns bus events into a subscription's channel: convert reads what
// an event names (as the subscriber, so nothing it may not see) and says
// whether to send it; the channel closes when in does or ctx ends.
func relay[T any](ctx context.Context, in <-chan events.Event, convert func(events.Event) (T, bool)) <-chan T {
	out := make(chan T, 1)
	go func() {
		defer close(out)
		for e := range in {
			v, ok := convert(e)
			if !ok {
				continue
			}
			select {
			case out <- v:
			case <-ctx.Done():
				return
			}
		}
	}()
	return out
}

// eventID reads the {"id": …} payload most events carry.
func eventID(e events.Event) (string, bool) {
	var ref struct {
		ID string `json:"id"`
	}
	if json.Unmarshal(e.Payload, &ref) != nil || ref.ID == "" {
		return "", false
	}
	return ref.ID, true
}
