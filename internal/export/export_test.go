package export_test

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/twinme/twinme/internal/export"
	"github.com/twinme/twinme/internal/store"
	"github.com/twinme/twinme/internal/store/storetest"
)

func newUser(t *testing.T, db *store.DB, email string, now time.Time) string {
	t.Helper()
	u := &store.User{ID: store.NewID(), Email: email, Role: "user", CreatedAt: now, UpdatedAt: now}
	storetest.Must(t, db.CreateUser(context.Background(), u))
	return u.ID
}

// TestWorkersBoundExportsPerInstance: an instance writes at most Workers
// exports at once; two instances sharing a database never claim the same
// export; every export is written exactly once.
func TestWorkersBoundExportsPerInstance(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		clock := clockwork.NewFakeClockAt(time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC))
		dir := t.TempDir()
		a := export.New(db, export.Options{Dir: dir, Instance: "a", Workers: 1, Clock: clock})
		b := export.New(db, export.Options{Dir: dir, Instance: "b", Workers: 2, Clock: clock})
		var ids []string
		for i := 0; i < 5; i++ {
			uid := newUser(t, db, "u"+string(rune('a'+i))+"@example.com", clock.Now())
			r, err := a.Request(ctx, uid)
			storetest.Must(t, err)
			ids = append(ids, r.Export.ID)
		}
		var wg sync.WaitGroup
		started := make([]int, 2)
		for i, s := range []*export.Service{a, b} {
			wg.Add(1)
			go func() { defer wg.Done(); started[i] = s.RunPending(ctx, true) }()
		}
		wg.Wait()
		if started[0] > 1 || started[1] > 2 || started[0]+started[1] == 0 {
			t.Fatalf("started %v", started)
		}
		// Whatever was left pending (slots were busy) is written next.
		for a.RunPending(ctx, true)+b.RunPending(ctx, true) > 0 {
		}
		running, err := db.RunningExports(ctx, "a")
		storetest.Must(t, err)
		if running != 0 {
			var all []store.DataExport
			_ = db.NewSelect().Model(&all).Scan(ctx)
			for _, x := range all {
				t.Logf("%s %s %s %q", x.ID, x.Status, x.Instance, x.ErrorMessage)
			}
			t.Fatalf("%d exports still running", running)
		}
		for _, id := range ids {
			if _, err := os.Stat(filepath.Join(dir, id+".zip")); err != nil {
				t.Fatalf("export %s not written: %v", id, err)
			}
		}
		if entries, _ := os.ReadDir(dir); len(entries) != 5 {
			t.Fatalf("want 5 archives, got %d", len(entries))
		}
	})
}

// TestWorkerSlotIsHeld: with one worker busy, RunPending starts nothing.
func TestWorkerSlotIsHeld(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		clock := clockwork.NewFakeClockAt(time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC))
		s := export.New(db, export.Options{Dir: t.TempDir(), Instance: "a", Workers: 1, Clock: clock})
		u1, u2 := newUser(t, db, "one@example.com", clock.Now()), newUser(t, db, "two@example.com", clock.Now())
		_, err := s.Request(ctx, u1)
		storetest.Must(t, err)
		_, err = s.Request(ctx, u2)
		storetest.Must(t, err)
		if n := s.RunPending(ctx, false); n != 1 {
			t.Fatalf("one worker started %d exports", n)
		}
		s.RunPending(ctx, true)
		list, err := s.List(ctx, u2)
		storetest.Must(t, err)
		if len(list) != 1 {
			t.Fatalf("list: %+v", list)
		}
	})
}

// TestExportStopsWhenTheAccountGoes: an export whose row disappears while it
// is written removes its file instead of finishing.
func TestExportStopsWhenTheAccountGoes(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		now := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
		uid := newUser(t, db, "gone@example.com", now)
		items := make([]store.PlatformItem, 5000)
		for i := range items {
			items[i] = store.PlatformItem{DataType: "play", ExternalID: "p" + strconv.Itoa(i), OccurredAt: now.Add(-time.Duration(i) * time.Minute), Payload: []byte(`{"a":1}`)}
		}
		_, err := store.UpsertPlatformData(ctx, db.DB, uid, "spotify", items, now)
		storetest.Must(t, err)
		var buf bytes.Buffer
		calls := 0
		_, err = export.Write(ctx, db, uid, now, &buf, func(p export.Progress) error {
			calls++
			if calls == 1 {
				storetest.Must(t, db.DeleteUser(ctx, uid))
				return io.ErrUnexpectedEOF // what the service's progress reports when the row is gone
			}
			return nil
		})
		if err == nil {
			t.Fatal("the export went on after its account was deleted")
		}
	})
}
