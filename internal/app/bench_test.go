package app_test

import (
	"bytes"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/twinme/twinme/internal/store"
)

// BenchmarkAuthenticatedMeVsTypename measures, in one run against one real
// server (SQLite, loopback HTTP, every middleware), the throughput of an
// authenticated `{ me { id email } }` and of an anonymous `{ __typename }`,
// interleaved in rounds so machine load hits both alike. The ratio
// me/typename is the figure that matters: it shows whether resolving the
// token costs a database round trip per request (target ≥ 0.6).
//
//	go test -run '^$' -bench AuthenticatedMeVsTypename -benchtime 20x ./internal/app/
func BenchmarkAuthenticatedMeVsTypename(b *testing.B) {
	e := newEnv(b, store.SQLite, map[string]string{"TWINME_RATE_LIMIT": "0"})
	_, tok := e.user("bench@example.com", false)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	const workers, perRound = 8, 2000
	run := func(token, query string) time.Duration {
		body := []byte(`{"query":"` + query + `"}`)
		var wg sync.WaitGroup
		jobs := make(chan struct{}, perRound)
		for i := 0; i < perRound; i++ {
			jobs <- struct{}{}
		}
		close(jobs)
		start := time.Now()
		for w := 0; w < workers; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range jobs {
					req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/graphql", bytes.NewReader(body))
					req.Header.Set("Content-Type", "application/json")
					if token != "" {
						req.Header.Set("Authorization", "Bearer "+token)
					}
					res, err := client.Do(req)
					if err != nil {
						b.Error(err)
						return
					}
					_, _ = io.Copy(io.Discard, res.Body)
					res.Body.Close()
					if res.StatusCode != 200 {
						b.Errorf("status %d", res.StatusCode)
						return
					}
				}
			}()
		}
		wg.Wait()
		return time.Since(start)
	}
	// Warm up connections and caches.
	run(tok, "{ me { id email } }")
	run("", "{ __typename }")
	var meTime, tnTime time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		meTime += run(tok, "{ me { id email } }")
		tnTime += run("", "{ __typename }")
	}
	b.StopTimer()
	reqs := float64(b.N * perRound)
	meRPS, tnRPS := reqs/meTime.Seconds(), reqs/tnTime.Seconds()
	b.ReportMetric(meRPS, "me_req/s")
	b.ReportMetric(tnRPS, "typename_req/s")
	b.ReportMetric(meRPS/tnRPS, "ratio")
}
