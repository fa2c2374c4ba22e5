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
	t0 := time.Now()
	seeded, err := demo.SeedUser(ctx, demo.Deps{DB: a.DB, Auth: a.Auth, Ingest: a.Ingest, Soul: a.Soul, Clock: a.Clock, Logger: a.Log}, demo.DefaultEmail)
	check(err)
	fmt.Printf("dashboard: demo user seeded in %s (%d items, %d insights); load %s\n",
		time.Since(t0).Round(time.Millisecond), seeded.Stored, seeded.Run.InsightsStored, benchutil.Load())

	twinme := httptest.NewServer(a.Handler())
	defer twinme.Close()
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
	run(bare.URL, "", "{ hello }", *perRound)

	path := *profile
	if path == "" {
		path = dir + "/cpu.out"
	}
	var files []string
	var dashTime, helloTime, dashCPU, helloCPU time.Duration
	for r := 0; r < *rounds; r++ {
		name := fmt.Sprintf("%s.%d", path, r)
		f, err := os.Create(name)
		check(err)
		files = append(files, name)
		check(pprof.StartCPUProfile(f))
		c0 := cpuTime()
		dashTime += run(twinme.URL, seeded.Token, Dashboard, *perRound)
		dashCPU += cpuTime() - c0
		pprof.StopCPUProfile()
		check(f.Close())
		c0 = cpuTime()
		helloTime += run(bare.URL, "", "{ hello }", *perRound*10)
		helloCPU += cpuTime() - c0
	}
	dashRPS := float64(*rounds**perRound) / dashTime.Seconds()
	helloRPS := float64(*rounds**perRound*10) / helloTime.Seconds()
	fmt.Printf("\n| figure | value |\n|---|---|\n")
	fmt.Printf("| twinme dashboard query (SQLite) | %.0f req/s |\n", dashRPS)
	fmt.Printf("| bare `{ hello }` | %.0f req/s |\n", helloRPS)
	fmt.Printf("| ratio (goal ≥ 0.2) | %.3f |\n", dashRPS/helloRPS)
	// On a shared box wall-clock throughput measures the neighbours too;
	// CPU per request (this process: servers and load generator) does not.
	dashPer := dashCPU / time.Duration(*rounds**perRound)
	helloPer := helloCPU / time.Duration(*rounds**perRound*10)
	fmt.Printf("| CPU per dashboard request (server + client) | %s |\n", dashPer)
	fmt.Printf("| CPU per `{ hello }` request (server + client) | %s |\n", helloPer)
	fmt.Printf("| CPU ratio hello/dashboard (the throughput ratio of an idle, CPU-bound box) | %.3f |\n", float64(helloPer)/float64(dashPer))
	fmt.Printf("\nload at the end: %s\n", benchutil.Load())

	fmt.Printf("\nCPU profile of the twinme rounds (%s.*), top by cumulative time:\n", path)
	out, err := exec.Command("go", append([]string{"tool", "pprof", "-top", "-cum", "-nodecount=45"}, files...)...).CombinedOutput()
	if err != nil {
		log.Printf("pprof: %v", err)
	}
	fmt.Print(string(out))
	out, _ = exec.Command("go", append([]string{"tool", "pprof", "-top", "-nodecount=25"}, files...)...).CombinedOutput()
	fmt.Printf("\ntop by own time:\n%s", out)
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
