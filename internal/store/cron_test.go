package store_test

import (
	"context"
	"encoding/json"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twinme/twinme/internal/apperr"
	"github.com/twinme/twinme/internal/store"
	"github.com/twinme/twinme/internal/store/storetest"
)

func addRun(t *testing.T, db *store.DB, job string, status store.CronStatus, at time.Time) *store.CronExecution {
	t.Helper()
	e := &store.CronExecution{JobName: job, Status: status, ExecutedAt: at, Instance: "i1", Trigger: store.TriggerSchedule}
	storetest.Must(t, db.InsertCronExecution(context.Background(), e))
	return e
}

func TestCronExecutionsListFiltersAndPages(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		var want []string // newest first
		for i := 0; i < 5; i++ {
			e := addRun(t, db, "token-refresh", store.CronSuccess, t0.Add(time.Duration(i)*time.Minute))
			want = append([]string{e.ID}, want...)
		}
		addRun(t, db, "maintenance", store.CronSuccess, t0)
		failed := addRun(t, db, "token-refresh", store.CronError, t0.Add(-time.Hour))
		want = append(want, failed.ID)

		var got []string
		var after *store.Cursor
		for page := 0; page < 10; page++ {
			es, err := db.ListCronExecutions(ctx, store.CronExecutionFilter{Job: "token-refresh"}, after, 2)
			storetest.Must(t, err)
			for _, e := range es {
				got = append(got, e.ID)
			}
			if len(es) < 2 {
				break
			}
			c := es[len(es)-1].CursorOf()
			after = &c
		}
		if len(got) != len(want) {
			t.Fatalf("paged through %d executions, want %d", len(got), len(want))
		}
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("page order %v, want %v", got, want)
			}
		}

		es, err := db.ListCronExecutions(ctx, store.CronExecutionFilter{Job: "token-refresh", Status: store.CronError}, nil, 10)
		storetest.Must(t, err)
		if len(es) != 1 || es[0].ID != failed.ID {
			t.Fatalf("status filter gave %+v", es)
		}

		_, err = db.ListCronExecutions(ctx, store.CronExecutionFilter{Status: "exploded"}, nil, 10)
		if apperr.CodeOf(err) != apperr.BadUserInput {
			t.Fatalf("unknown status: %v", err)
		}
	})
}

func TestCronExecutionRoundTripAndJSON(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		_, err := db.LastCronExecution(ctx, "token-refresh")
		if apperr.CodeOf(err) != apperr.NotFound {
			t.Fatalf("no executions yet: %v", err)
		}
		e := &store.CronExecution{JobName: "token-refresh", Status: store.CronSuccess, ExecutionTimeMs: 1234,
			TokensChecked: 3, TokensRefreshed: 2, ResultData: `{"connections":[{"id":"c1","outcome":"refreshed"}]}`,
			ExecutedAt: t0.In(time.FixedZone("x", 3600)), Instance: "i1", Trigger: store.TriggerHTTP}
		storetest.Must(t, db.InsertCronExecution(ctx, e))
		got, err := db.LastCronExecution(ctx, "token-refresh")
		storetest.Must(t, err)
		if got.ID != e.ID || !got.ExecutedAt.Equal(t0) || got.TokensChecked != 3 || got.TokensRefreshed != 2 || got.Trigger != store.TriggerHTTP {
			t.Fatalf("stored %+v", got)
		}
		var m map[string]any
		b, err := json.Marshal(got)
		storetest.Must(t, err)
		storetest.Must(t, json.Unmarshal(b, &m))
		rd, ok := m["result_data"].(map[string]any)
		if !ok || rd["connections"] == nil || m["error_message"] != nil || m["execution_time_ms"] != float64(1234) || m["status"] != "success" {
			t.Fatalf("JSON %s", b)
		}

		bad := &store.CronExecution{JobName: "x", Status: "weird", ExecutedAt: t0, Trigger: store.TriggerCLI}
		if err := db.InsertCronExecution(ctx, bad); err == nil {
			t.Fatal("inserted an unknown status")
		}
	})
}

func TestCronJobStatsAndFailureStreaks(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		now := t0.Add(48 * time.Hour)
		addRun(t, db, "poll", store.CronError, now.Add(-30*time.Hour)) // outside the 24 h window
		addRun(t, db, "poll", store.CronSuccess, now.Add(-5*time.Hour))
		f1 := addRun(t, db, "poll", store.CronError, now.Add(-4*time.Hour))
		addRun(t, db, "poll", store.CronSkipped, now.Add(-3*time.Hour))
		f2 := addRun(t, db, "poll", store.CronTimeout, now.Add(-2*time.Hour))
		// Same instant as f2: written later, so it comes after it.
		f3 := addRun(t, db, "poll", store.CronError, now.Add(-2*time.Hour))
		addRun(t, db, "other", store.CronSuccess, now.Add(-time.Hour))

		st, err := db.CronJobStats(ctx, "poll", now.Add(-24*time.Hour))
		storetest.Must(t, err)
		if st.Runs != 4 || st.Successes != 1 || st.ConsecutiveFailures != 3 {
			t.Fatalf("stats %+v", st)
		}
		if r, ok := st.SuccessRate(); !ok || r != 0.25 {
			t.Fatalf("success rate %v %v", r, ok)
		}
		for want, e := range map[int]*store.CronExecution{1: f1, 2: f2, 3: f3} {
			n, err := db.CronConsecutiveFailures(ctx, "poll", e)
			storetest.Must(t, err)
			if n != want {
				t.Fatalf("streak at failure %d = %d", want, n)
			}
		}
		ok := addRun(t, db, "poll", store.CronSuccess, now)
		if n, err := db.CronFailureStreakBefore(ctx, "poll", ok); err != nil || n != 3 {
			t.Fatalf("streak ended by the success = %d, %v", n, err)
		}
		if n, err := db.CronConsecutiveFailures(ctx, "poll", ok); err != nil || n != 0 {
			t.Fatalf("streak at the success = %d, %v", n, err)
		}
		st, err = db.CronJobStats(ctx, "poll", now.Add(-24*time.Hour))
		storetest.Must(t, err)
		if st.ConsecutiveFailures != 0 {
			t.Fatalf("a success must end the streak: %+v", st)
		}
		empty, err := db.CronJobStats(ctx, "never", now.Add(-24*time.Hour))
		storetest.Must(t, err)
		if _, ok := empty.SuccessRate(); ok || empty.ConsecutiveFailures != 0 {
			t.Fatalf("job without runs: %+v", empty)
		}
	})
}

func TestClaimCronTickHasOneWinner(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		var wins atomic.Int32
		var wg sync.WaitGroup
		for i := 0; i < 6; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				// Each instance wakes at a slightly different time for the same tick.
				ok, err := db.ClaimCronTick(ctx, "token-refresh", t0, string(rune('a'+i)), t0.Add(time.Duration(i)*time.Second))
				if err != nil {
					t.Error(err)
				}
				if ok {
					wins.Add(1)
				}
			}(i)
		}
		wg.Wait()
		if wins.Load() != 1 {
			t.Fatalf("%d instances won the same tick", wins.Load())
		}
		ok, err := db.ClaimCronTick(ctx, "token-refresh", t0.Add(5*time.Minute), "a", t0)
		storetest.Must(t, err)
		ok2, err := db.ClaimCronTick(ctx, "maintenance", t0, "a", t0)
		storetest.Must(t, err)
		if !ok || !ok2 {
			t.Fatal("the next tick or another job's tick must be claimable")
		}
	})
}

func TestDeleteOldCronRows(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		addRun(t, db, "poll", store.CronSuccess, t0.Add(-91*24*time.Hour))
		keep := addRun(t, db, "poll", store.CronSuccess, t0.Add(-89*24*time.Hour))
		n, err := db.DeleteCronExecutionsBefore(ctx, t0.Add(-90*24*time.Hour))
		storetest.Must(t, err)
		es, err := db.ListCronExecutions(ctx, store.CronExecutionFilter{}, nil, 10)
		storetest.Must(t, err)
		if n != 1 || len(es) != 1 || es[0].ID != keep.ID {
			t.Fatalf("deleted %d, left %+v", n, es)
		}

		_, err = db.ClaimCronTick(ctx, "poll", t0.Add(-3*24*time.Hour), "a", t0)
		storetest.Must(t, err)
		_, err = db.ClaimCronTick(ctx, "poll", t0, "a", t0)
		storetest.Must(t, err)
		n, err = db.DeleteCronClaimsBefore(ctx, t0.Add(-48*time.Hour))
		storetest.Must(t, err)
		if n != 1 {
			t.Fatalf("deleted %d claims", n)
		}
		if ok, _ := db.ClaimCronTick(ctx, "poll", t0, "b", t0); ok {
			t.Fatal("a recent claim was deleted")
		}
	})
}
