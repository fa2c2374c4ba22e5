package platform

import (
	"time"

	"github.com/jonboulle/clockwork"
)

func fixedClock(t time.Time) clockwork.Clock { return clockwork.NewFakeClockAt(t) }
