// Command dashboard measures the dashboard's query (connections,
// lifeClusters, privacy, soulSignature, insights(first: 20)) against the
// bare reference's `{ hello }` (bench/bare/server) on SQLite, in one run:
// twinme serves a demo user (a year of synthetic data, seeded through the
// real ingest path and analysed) and both servers run in this process on
// loopback, measured in interleaved rounds so machine load hits both alike.
// It prints both throughputs, their ratio (goal ≥ 0.2), and a CPU profile
// summary of the twinme rounds (the servers' and the load generator's
// goroutines alike; the client's share is visible under net/http.(*Client)).
//
// twinme is measured twice over the same database: as configured (the
// response cache serving the repeated query while the user's data version
// holds) and with TWINME_RESPONSE_CACHE_BYTES=0, so every request runs the
// resolvers (what a dashboard pays after each change of its data).
//
//	go run ./bench/dashboard [-rounds 5] [-profile cpu.out]
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"runtime/pprof"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/twinme/twinme/bench/bare/server"
	"github.com/twinme/twinme/bench/internal/benchutil"
	"github.com/twinme/twinme/internal/app"
	"github.com/twinme/twinme/internal/config"
	"github.com/twinme/twinme/internal/demo"
	"github.com/twinme/twinme/internal/logx"
)

// Dashboard is the query a dashboard sends when it opens.
const Dashboard = `{
  connections { id platform status accountName connectedAt lastSync tokenExpiresAt lastError }
  lifeClusters { cluster level subclusters { slug } overrides { audience level } }
  privacy { clusters { cluster level } }
  soulSignature {
    analyzed analyzedAt missing
    summaries { cluster text }
    traits { name score confidence evidence { label value weight } }
    insights { key cluster subcluster title body confidence sensitivity source evidence { label value weight } }
    completeness { cluster completeness missing }
  }
  insights(first: 20) {
    edges { cursor node { id key cluster subcluster title body confidence sensitivity source createdAt evidence { label value weight } } }
    pageInfo { hasNextPage endCursor }
  }
}`

var (
	rounds   = flag.Int("rounds", 5, "interleaved rounds")
	perRound = flag.Int("requests", 400, "dashboard requests per round ({hello} gets 10× as many)")
	workers  = flag.Int("workers", 8, "concurrent clients")
	profile  = flag.String("profile", "", "write the CPU profile of the twinme rounds here (default: a temporary file)")
)

func main() {
	flag.Parse()
	log.SetFlags(0)
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "twinme-dashboard-")
	check(err)
	defer os.RemoveAll(dir)

	env := map[string]string{
		"TWINME_DATA_DIR": dir, "TWINME_LISTEN": "127.0.0.1:0", "TWINME_RATE_LIMIT": "0",
		"TWINME_AI_RATE_LIMIT": "0", "TWINME_SCHEDULER": "off", "TWINME_LOG_LEVEL": "error",
	}
	cfg, err := config.Load(func(k string) string { return env[k] })
	check(err)
	a, err := app.New(ctx, cfg, logx.Discard(), app.Options{Migrate: true})
	check(err)
	defer a.Close()
	env["TWINME_RESPONSE_CACHE_BYTES"] = "0"
	cfgOff, err := config.Load(func(k string) string { return env[k] })
	check(err)
	off, err := app.New(ctx, cfgOff, logx.Discard(), app.Options{})
	check(err)
	defer off.Close()
	t0 := time.Now()
	seeded, err := demo.SeedUser(ctx, demo.Deps{DB: a.DB, Auth: a.Auth, Ingest: a.Ingest, Soul: a.Soul, Clock: a.Clock, Logger: a.Log}, demo.DefaultEmail)
	check(err)
	fmt.Printf("dashboard: demo user seeded in %s (%d items, %d insights); load %s\n",
		time.Since(t0).Round(time.Millisecond), seeded.Stored, seeded.Run.InsightsStored, benchutil.Load())

	twinme := httptest.NewServer(a.Handler())
	defer twinme.Close()
	uncached := httptest.NewServer(off.Handler())
	defer uncached.Close()
	bare := httptest.NewServer(server.Handler())
	defer bare.Close()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}

	// One request of each, checked: the figures mean nothing if they fail.
	body := post(client, twinme.URL, seeded.Token, Dashboard)
	var resp struct {
		Data   map[string]json.RawMessage
		Errors []json.RawMessage
	}
	check(json.Unmarshal(body, &resp))
	if len(resp.Errors) > 0 || len(resp.Data) != 5 {
		log.Fatalf("dashboard query failed: %s", body)
	}
	if b := post(client, uncached.URL, seeded.Token, Dashboard); !bytes.Equal(b, body) {
		log.Fatalf("the uncached server answers differently:\n%s\n%s", body, b)
	}
	fmt.Printf("dashboard response: %d bytes\n", len(body))
	if b := post(client, bare.URL, "", "{ hello }"); !strings.Contains(string(b), "world") {
		log.Fatalf("hello: %s", b)
	}

	run := func(url, token, query string, n int) time.Duration {
		var wg sync.WaitGroup
		jobs := make(chan struct{}, n)
		for i := 0; i < n; i++ {
			jobs <- struct{}{}
		}
		close(jobs)
		start := time.Now()
		for w := 0; w < *workers; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range jobs {
					post(client, url, token, query)
				}
			}()
		}
		wg.Wait()
		return time.Since(start)
	}
	run(twinme.URL, seeded.Token, Dashboard, *perRound/4) // warm up
	run(uncached.URL, seeded.Token, Dashboard, *perRound/4)
	run(bare.URL, "", "{ hello }", *perRound)

	path := *profile
	if path == "" {
		path = dir + "/cpu.out"
	}
	type figure struct {
		name        string
		url, token  string
		query       string
		n           int
		wall, cpu   time.Duration
		profiles    []string
		profileName string
	}
	figs := []*figure{
		{name: "twinme dashboard query, response cache on (SQLite)", url: twinme.URL, token: seeded.Token, query: Dashboard, n: *perRound * 10, profileName: "cached"},
		{name: "twinme dashboard query, response cache off (SQLite)", url: uncached.URL, token: seeded.Token, query: Dashboard, n: *perRound, profileName: "uncached"},
		{name: "bare `{ hello }`", url: bare.URL, query: "{ hello }", n: *perRound * 10},
	}
	hits0 := a.ResponseCache().Hits()
	for r := 0; r < *rounds; r++ {
		for _, f := range figs {
			var pf *os.File
			if f.profileName != "" {
				name := fmt.Sprintf("%s.%s.%d", path, f.profileName, r)
				pf, err = os.Create(name)
				check(err)
				f.profiles = append(f.profiles, name)
				check(pprof.StartCPUProfile(pf))
			}
			c0 := cpuTime()
			f.wall += run(f.url, f.token, f.query, f.n)
			f.cpu += cpuTime() - c0
			if pf != nil {
				pprof.StopCPUProfile()
				check(pf.Close())
			}
		}
	}
	rps := func(f *figure) float64 { return float64(*rounds*f.n) / f.wall.Seconds() }
	per := func(f *figure) time.Duration { return f.cpu / time.Duration(*rounds*f.n) }
	hello := figs[2]
	fmt.Printf("\n| figure | req/s | ratio to `{ hello }` (goal ≥ 0.2) | CPU per request (server + client) | CPU ratio |\n|---|---|---|---|---|\n")
	for _, f := range figs {
		fmt.Printf("| %s | %.0f | %.3f | %s | %.3f |\n", f.name, rps(f), rps(f)/rps(hello), per(f).Round(time.Microsecond),
			float64(per(hello))/float64(per(f)))
	}
	fmt.Printf("\nresponse cache: %d of %d cache-on requests served from it\n", a.ResponseCache().Hits()-hits0, *rounds*figs[0].n)
	fmt.Println("(CPU ratio: the throughput ratio of an idle, CPU-bound box; on a shared box wall-clock throughput measures the neighbours too)")
	fmt.Printf("\nload at the end: %s\n", benchutil.Load())

	for _, f := range figs[:2] {
		fmt.Printf("\nCPU profile, %s (%s.%s.*), top by cumulative time:\n", f.name, path, f.profileName)
		out, err := exec.Command("go", append([]string{"tool", "pprof", "-top", "-cum", "-nodecount=40"}, f.profiles...)...).CombinedOutput()
		if err != nil {
			log.Printf("pprof: %v", err)
		}
		fmt.Print(string(out))
		out, _ = exec.Command("go", append([]string{"tool", "pprof", "-top", "-nodecount=20"}, f.profiles...)...).CombinedOutput()
		fmt.Printf("\ntop by own time:\n%s", out)
	}
}

func post(client *http.Client, url, token, query string) []byte {
	body, _ := json.Marshal(map[string]any{"query": query})
	req, _ := http.NewRequest(http.MethodPost, url+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := client.Do(req)
	check(err)
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	check(err)
	if res.StatusCode != 200 {
		log.Fatalf("HTTP %d: %s", res.StatusCode, raw)
	}
	return raw
}

// cpuTime is this process's user + system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func check(err error) {
	if err != nil {
		log.Fatal(err)
	}
}
