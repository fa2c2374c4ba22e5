package app_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strings"
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

// BenchmarkObserverIngestHTTP posts browser-extension batches of 500 events
// to POST /api/observer/events on SQLite, through every middleware, from 4
// concurrent clients (as many extensions would), and reports events/s
// (target ≥ 20,000/s).
//
//	go test -run '^$' -bench ObserverIngestHTTP -benchtime 20x ./internal/app/
func BenchmarkObserverIngestHTTP(b *testing.B) {
	e := newEnv(b, store.SQLite, map[string]string{"TWINME_RATE_LIMIT": "0"})
	const clients, perBatch = 4, 500
	tokens := make([]string, clients)
	for i := range tokens {
		_, tok := e.user(fmt.Sprintf("ext%d@example.com", i), false)
		tokens[i] = tok
		if r := e.gql(tok, `mutation { setObservation(enabled: true) { enabled } }`, nil); len(r.Errors) > 0 {
			b.Fatal(r.Raw)
		}
	}
	now := e.clock.Now().UTC().Format(time.RFC3339)
	types := []string{"typing", "scroll", "focus", "blur", "navigation", "mouse_click", "tab_switch"}
	batch := func(client, n int) []byte {
		var sb strings.Builder
		sb.WriteString(`{"events":[`)
		for i := 0; i < perBatch; i++ {
			if i > 0 {
				sb.WriteByte(',')
			}
			fmt.Fprintf(&sb, `{"clientEventId":"c%d-b%d-%d","type":%q,"occurredAt":%q,"url":"https://site%d.example.com/a/b?q=1","data":{"duration_ms":%d}}`,
				client, n, i, types[i%len(types)], now, i%20, 100+i)
		}
		sb.WriteString(`]}`)
		return []byte(sb.String())
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients}}
	post := func(tok string, body []byte) {
		req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/api/observer/events", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+tok)
		res, err := client.Do(req)
		if err != nil {
			b.Error(err)
			return
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != 200 {
			b.Errorf("status %d", res.StatusCode)
		}
	}
	bodies := make([][][]byte, clients)
	for c := range bodies {
		for n := 0; n < b.N; n++ {
			bodies[c] = append(bodies[c], batch(c, n))
		}
	}
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	for c := 0; c < clients; c++ {
		wg.Add(1)
		go func(c int) {
			defer wg.Done()
			for n := 0; n < b.N; n++ {
				post(tokens[c], bodies[c][n])
			}
		}(c)
	}
	wg.Wait()
	b.ReportMetric(float64(b.N*clients*perBatch)/time.Since(start).Seconds(), "events/s")
}
