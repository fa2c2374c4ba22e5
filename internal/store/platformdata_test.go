package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/twinme/twinme/internal/domain"
	"github.com/twinme/twinme/internal/store"
	"github.com/twinme/twinme/internal/store/storetest"
)

func item(id, source, payload string, at time.Time) store.PlatformItem {
	return store.PlatformItem{DataType: "play", ExternalID: id, OccurredAt: at, Payload: json.RawMessage(payload), Source: source}
}

func TestUpsertPlatformDataCountsAndDedup(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		u := newUser(t, db, "ada@example.com")
		upsert := func(items ...store.PlatformItem) store.UpsertCounts {
			t.Helper()
			c, err := store.UpsertPlatformData(ctx, db.DB, u.ID, "spotify", items, t0)
			storetest.Must(t, err)
			return c
		}
		a := item("a", "api", `{"source":"api","track":"A"}`, t0)
		b := item("b", "api", `{"source":"api","track":"B"}`, t0.Add(time.Minute))
		if got := upsert(a, b, a); got != (store.UpsertCounts{Inserted: 2, Unchanged: 1}) {
			t.Fatalf("first upsert = %+v", got)
		}
		if got := upsert(a, b); got != (store.UpsertCounts{Unchanged: 2}) {
			t.Fatalf("repeat = %+v", got)
		}
		changed := item("a", "api", `{"source":"api","track":"A (remastered)"}`, t0)
		if got := upsert(changed, b); got != (store.UpsertCounts{Updated: 1, Unchanged: 1}) {
			t.Fatalf("changed = %+v", got)
		}
		// A richer source replaces; a poorer one never does.
		rich := item("a", "extended_history", `{"source":"extended_history","track":"A","album":"X"}`, t0)
		poor := item("a", "account_data", `{"source":"account_data","track":"A"}`, t0)
		if got := upsert(rich); got != (store.UpsertCounts{Updated: 1}) {
			t.Fatalf("richer = %+v", got)
		}
		if got := upsert(poor, changed); got != (store.UpsertCounts{Unchanged: 2}) {
			t.Fatalf("poorer = %+v", got)
		}
		rows, err := db.ListPlatformData(ctx, u.ID, "spotify", "play", nil, 10)
		storetest.Must(t, err)
		if len(rows) != 2 || rows[1].ExternalID != "a" || rows[1].Source != "extended_history" || rows[1].Payload != `{"source":"extended_history","track":"A","album":"X"}` {
			t.Fatalf("rows = %+v", rows)
		}
		// Another user's identical item is a row of its own.
		v := newUser(t, db, "bob@example.com")
		c, err := store.UpsertPlatformData(ctx, db.DB, v.ID, "spotify", []store.PlatformItem{a}, t0)
		storetest.Must(t, err)
		if c.Inserted != 1 {
			t.Fatalf("other user's item: %+v", c)
		}
	})
}

func TestUpsertPlatformDataLargeBatch(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		u := newUser(t, db, "ada@example.com")
		items := make([]store.PlatformItem, 1234)
		for i := range items {
			items[i] = item(fmt.Sprintf("p%05d", i), "api", fmt.Sprintf(`{"n":%d}`, i), t0.Add(time.Duration(i)*time.Second))
		}
		c, err := store.UpsertPlatformData(ctx, db.DB, u.ID, "spotify", items, t0)
		storetest.Must(t, err)
		if c.Inserted != 1234 {
			t.Fatalf("inserted %+v", c)
		}
		items[700].Payload = json.RawMessage(`{"n":"changed"}`)
		c, err = store.UpsertPlatformData(ctx, db.DB, u.ID, "spotify", items, t0)
		storetest.Must(t, err)
		if c != (store.UpsertCounts{Updated: 1, Unchanged: 1233}) {
			t.Fatalf("second = %+v", c)
		}
		n, err := db.CountPlatformData(ctx, u.ID, "spotify")
		storetest.Must(t, err)
		if n["play"] != 1234 {
			t.Fatalf("count = %v", n)
		}
	})
}

func TestListPlatformDataKeysetAndOwner(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		u := newUser(t, db, "ada@example.com")
		v := newUser(t, db, "bob@example.com")
		var items []store.PlatformItem
		for i := 0; i < 7; i++ {
			// Pairs share a timestamp so the id breaks ties.
			items = append(items, item(fmt.Sprintf("i%d", i), "api", "{}", t0.Add(time.Duration(i/2)*time.Millisecond*1500)))
		}
		_, err := store.UpsertPlatformData(ctx, db.DB, u.ID, "spotify", items, t0)
		storetest.Must(t, err)
		_, err = store.UpsertPlatformData(ctx, db.DB, v.ID, "spotify", items[:3], t0)
		storetest.Must(t, err)
		_, err = store.UpsertPlatformData(ctx, db.DB, u.ID, "spotify", []store.PlatformItem{{DataType: "top_artist", ExternalID: "x", OccurredAt: t0}}, t0)
		storetest.Must(t, err)

		seen := map[string]bool{}
		var after *store.Cursor
		var last time.Time
		for page := 0; ; page++ {
			rows, err := db.ListPlatformData(ctx, u.ID, "spotify", "play", after, 3)
			storetest.Must(t, err)
			for _, r := range rows {
				if r.UserID != u.ID || r.DataType != "play" {
					t.Fatalf("foreign row %+v", r)
				}
				if seen[r.ExternalID] {
					t.Fatalf("row %s twice", r.ExternalID)
				}
				if !last.IsZero() && r.OccurredAt.After(last) {
					t.Fatalf("not newest first")
				}
				last = r.OccurredAt
				seen[r.ExternalID] = true
			}
			if len(rows) < 3 {
				break
			}
			cur, err := domain.DecodeCursor((&store.Cursor{Time: rows[2].OccurredAt, ID: rows[2].ID}).Encode())
			storetest.Must(t, err)
			after = cur
		}
		if len(seen) != 7 {
			t.Fatalf("paged through %d rows, want 7", len(seen))
		}
		all, err := db.ListPlatformData(ctx, u.ID, "spotify", "", nil, 100)
		storetest.Must(t, err)
		if len(all) != 8 {
			t.Fatalf("all types: %d rows", len(all))
		}
	})
}

func TestSavePageCheckpointsCursorAndDeleteData(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		u := newUser(t, db, "ada@example.com")
		c := connect(t, db, u.ID, "spotify", nil, "")
		cnt, err := db.SavePage(ctx, c, "recently_played", []store.PlatformItem{item("a", "api", "{}", t0)}, json.RawMessage(`{"after":1700}`), t0)
		storetest.Must(t, err)
		if cnt.Inserted != 1 {
			t.Fatalf("counts %+v", cnt)
		}
		_, err = db.SavePage(ctx, c, "top-artists_short", nil, json.RawMessage(`"etag-1"`), t0)
		storetest.Must(t, err)
		// A nil cursor keeps the stored one.
		_, err = db.SavePage(ctx, c, "recently_played", []store.PlatformItem{item("b", "api", "{}", t0)}, nil, t0)
		storetest.Must(t, err)
		got, err := db.ConnectionByID(ctx, c.ID)
		storetest.Must(t, err)
		cur := store.StreamCursors(got.SyncCursor)
		if string(compact(cur["recently_played"])) != `{"after":1700}` || string(cur["top-artists_short"]) != `"etag-1"` {
			t.Fatalf("cursors = %s", got.SyncCursor)
		}
		storetest.Must(t, db.SetStreamCursor(ctx, c.ID, "top-artists_short", nil))
		got, _ = db.ConnectionByID(ctx, c.ID)
		if cur := store.StreamCursors(got.SyncCursor); len(cur) != 1 {
			t.Fatalf("after reset: %s", got.SyncCursor)
		}
		if _, err := db.SavePage(ctx, c, "bad.name", nil, json.RawMessage(`1`), t0); err == nil {
			t.Fatal("a stream name with a dot was accepted")
		}

		// Disconnected: a late page stores nothing.
		_, _, err = db.DisconnectConnection(ctx, u.ID, "spotify", t0)
		storetest.Must(t, err)
		_, err = db.SavePage(ctx, c, "recently_played", []store.PlatformItem{item("late", "api", "{}", t0)}, json.RawMessage(`2`), t0)
		if !errors.Is(err, store.ErrConnectionGone) {
			t.Fatalf("late page: %v", err)
		}
		n, err := db.DeletePlatformData(ctx, u.ID, "spotify")
		storetest.Must(t, err)
		if n != 2 {
			t.Fatalf("deleted %d, want 2 (the late page must not be stored)", n)
		}
		got, _ = db.ConnectionByID(ctx, c.ID)
		if got.SyncCursor != "{}" {
			t.Fatalf("cursor after delete: %s", got.SyncCursor)
		}
	})
}

func compact(raw json.RawMessage) json.RawMessage {
	var v any
	_ = json.Unmarshal(raw, &v)
	out, _ := json.Marshal(v)
	return out
}

func TestClaimDueConnectionsAndRecordSyncRun(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		var conns []*store.Connection
		for i := 0; i < 4; i++ {
			u := newUser(t, db, fmt.Sprintf("u%d@example.com", i))
			conns = append(conns, connect(t, db, u.ID, "spotify", nil, ""))
		}
		gh := connect(t, db, conns[0].UserID, "github", nil, "")
		_ = gh
		// conns[3] is not due yet; conns[2] needs reauth.
		_, err := db.RecordSyncRun(ctx, conns[3].ID, store.SyncRun{At: t0, NextSyncAt: t0.Add(time.Hour), OK: true})
		storetest.Must(t, err)
		_, _, err = db.SetConnectionStatus(ctx, conns[2].ID, store.StatusChange{Status: store.StatusNeedsReauth}, t0)
		storetest.Must(t, err)

		lease := t0.Add(15 * time.Minute)
		got, err := db.ClaimDueConnections(ctx, []string{"spotify"}, t0, lease, 10)
		storetest.Must(t, err)
		if len(got) != 2 {
			t.Fatalf("claimed %d, want 2", len(got))
		}
		for _, c := range got {
			if c.ID != conns[0].ID && c.ID != conns[1].ID {
				t.Fatalf("claimed %s", c.Platform)
			}
			if !c.NextSyncAt.Equal(lease) {
				t.Fatalf("next_sync_at = %v, want the lease", c.NextSyncAt)
			}
		}
		again, err := db.ClaimDueConnections(ctx, []string{"spotify"}, t0, lease, 10)
		storetest.Must(t, err)
		if len(again) != 0 {
			t.Fatalf("claimed twice: %d", len(again))
		}

		// Two failures, then success.
		for i := 1; i <= 2; i++ {
			st, err := db.RecordSyncRun(ctx, conns[0].ID, store.SyncRun{At: t0, NextSyncAt: t0.Add(time.Minute), Failed: true, Error: "Spotify answered HTTP 503"})
			storetest.Must(t, err)
			if st.Failures != i {
				t.Fatalf("failures = %d, want %d", st.Failures, i)
			}
		}
		c, _ := db.ConnectionByID(ctx, conns[0].ID)
		if c.LastError != "Spotify answered HTTP 503" || c.Status != store.StatusConnected || c.LastSync != nil {
			t.Fatalf("after failure: status %s error %q last sync %v", c.Status, c.LastError, c.LastSync)
		}
		st, err := db.RecordSyncRun(ctx, conns[0].ID, store.SyncRun{At: t0.Add(time.Hour), NextSyncAt: t0.Add(90 * time.Minute), OK: true, Fetched: 3, Inserted: 2, Updated: 1})
		storetest.Must(t, err)
		if st.Failures != 0 || st.LastInserted != 2 || st.LastFetched != 3 {
			t.Fatalf("state after success %+v", st)
		}
		c, _ = db.ConnectionByID(ctx, conns[0].ID)
		if c.LastError != "" || c.LastSync == nil || !c.LastSync.Equal(t0.Add(time.Hour)) || !c.NextSyncAt.Equal(t0.Add(90*time.Minute)) {
			t.Fatalf("after success: %+v", c)
		}
		_, _, err = db.DisconnectConnection(ctx, c.UserID, "spotify", t0)
		storetest.Must(t, err)
		if _, err := db.RecordSyncRun(ctx, c.ID, store.SyncRun{At: t0, NextSyncAt: t0, OK: true}); !errors.Is(err, store.ErrConnectionGone) {
			t.Fatalf("run on a disconnected connection: %v", err)
		}
	})
}
