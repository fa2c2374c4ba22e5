// Command fanout measures one event delivered to many websocket subscribers,
// twinme beside the bare gqlgen + gorilla reference (bench/bare), in the same
// run. For each N it starts a fresh server process, opens N loopback
// websockets (graphql-transport-ws; twinme's authenticated in
// connection_init as one user), measures RSS per idle socket, subscribes
// them all (twinme: soulSignatureUpdated, fired by setClusterPrivacy; bare:
// ticked, fired by fire), measures RSS per subscribed socket, then fires
// events and times, from just before the mutation is sent to each
// subscriber's arrival, p50/p99/max; it prints the mutation's own latency,
// RSS and goroutines after the events. Figures are medians over -reps
// events.
//
//	go run ./bench/fanout              # N = 1000, 5000, 10000
//	go run ./bench/fanout -n 1000 -reps 3
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"github.com/twinme/twinme/bench/internal/benchutil"
)

var (
	ns   = flag.String("n", "1000,5000,10000", "subscriber counts")
	reps = flag.Int("reps", 3, "events per N (figures are their medians)")
)

type result struct {
	n                        int
	p50, p99, max, mutation  time.Duration
	rss                      int64
	goroutines               int
	idlePerSock, subsPerSock float64 // bytes
	missed                   int
}

func main() {
	flag.Parse()
	log.SetFlags(0)
	limit, err := benchutil.RaiseFileLimit()
	if err != nil {
		log.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "twinme-fanout-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	twinmeBin, bareBin, err := benchutil.Build(dir)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("fanout: open files limit %d; load %s; GOMAXPROCS of servers: default (%s)\n", limit, benchutil.Load(), cpus())

	var counts []int
	for _, s := range strings.Split(*ns, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil {
			log.Fatalf("-n: %v", err)
		}
		counts = append(counts, n)
	}
	var rows [][2]result
	for _, n := range counts {
		var pair [2]result
		for i, kind := range []string{"bare", "twinme"} {
			var srv *benchutil.Server
			if kind == "bare" {
				srv, err = benchutil.StartBare(bareBin)
			} else {
				d, _ := os.MkdirTemp(dir, "data-")
				srv, err = benchutil.StartTwinme(twinmeBin, d, false)
			}
			if err != nil {
				log.Fatal(err)
			}
			r, err := run(srv, n)
			srv.Stop()
			if err != nil {
				log.Fatalf("%s at %d: %v", kind, n, err)
			}
			pair[i] = r
			fmt.Printf("  %-6s N=%-6d p50 %9s p99 %9s max %9s  mutation %9s  RSS %6.0f MB  goroutines %6d  idle %5.1f kB/socket  subscribed %5.1f kB/socket  missed %d  (load %s)\n",
				kind, n, ms(r.p50), ms(r.p99), ms(r.max), ms(r.mutation), float64(r.rss)/(1<<20), r.goroutines,
				r.idlePerSock/1024, r.subsPerSock/1024, r.missed, benchutil.Load())
		}
		rows = append(rows, pair)
	}
	fmt.Println()
	fmt.Println("| N | figure | twinme | bare | ratio |")
	fmt.Println("|---|---|---|---|---|")
	for _, p := range rows {
		b, t := p[0], p[1]
		line := func(name, tv, bv string, ratio float64) {
			fmt.Printf("| %d | %s | %s | %s | %.2f |\n", b.n, name, tv, bv, ratio)
		}
		line("p50", ms(t.p50), ms(b.p50), ratioD(t.p50, b.p50))
		line("p99", ms(t.p99), ms(b.p99), ratioD(t.p99, b.p99))
		line("max", ms(t.max), ms(b.max), ratioD(t.max, b.max))
		line("RSS after the events", mb(t.rss), mb(b.rss), float64(t.rss)/float64(b.rss))
		line("goroutines", strconv.Itoa(t.goroutines), strconv.Itoa(b.goroutines), float64(t.goroutines)/float64(b.goroutines))
		line("memory per idle socket", kb(t.idlePerSock), kb(b.idlePerSock), t.idlePerSock/b.idlePerSock)
		line("memory per subscribed socket", kb(t.subsPerSock), kb(b.subsPerSock), t.subsPerSock/b.subsPerSock)
		line("firing mutation", ms(t.mutation), ms(b.mutation), ratioD(t.mutation, b.mutation))
	}
	fmt.Printf("\nload at the end: %s\n", benchutil.Load())
}

func run(srv *benchutil.Server, n int) (result, error) {
	res := result{n: n}
	client := &http.Client{Timeout: 60 * time.Second}
	// Payloads of about the same size: {"n":1,"at":"2026-…"} and
	// {"analyzed":false,"analyzedAt":null,"audience":null}.
	subscription, fire := `subscription { ticked { n at } }`, func(i int) string { return fmt.Sprintf(`mutation { fire(n: %d) }`, i) }
	if srv.Name == "twinme" {
		subscription = `subscription { soulSignatureUpdated { analyzed analyzedAt audience } }`
		fire = func(i int) string {
			return fmt.Sprintf(`mutation { setClusterPrivacy(cluster: PERSONAL, level: %d) { clusters { level } } }`, 10+i%80)
		}
	}
	time.Sleep(500 * time.Millisecond)
	base := srv.RSS()

	// Open N sockets and finish connection_init.
	wsURL := "ws" + strings.TrimPrefix(srv.URL, "http") + "/graphql"
	conns := make([]*websocket.Conn, n)
	var dialErr atomic.Value
	var wg sync.WaitGroup
	next := atomic.Int64{}
	for w := 0; w < 32; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d := websocket.Dialer{Subprotocols: []string{"graphql-transport-ws"}, HandshakeTimeout: 30 * time.Second}
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				c, _, err := d.Dial(wsURL, nil)
				if err != nil {
					dialErr.Store(err)
					return
				}
				init := map[string]any{"type": "connection_init"}
				if srv.Token != "" {
					init["payload"] = map[string]any{"Authorization": "Bearer " + srv.Token}
				}
				_ = c.WriteJSON(init)
				var m struct{ Type string }
				_ = c.SetReadDeadline(time.Now().Add(30 * time.Second))
				if err := c.ReadJSON(&m); err != nil || m.Type != "connection_ack" {
					dialErr.Store(fmt.Errorf("connection_init: %v %q", err, m.Type))
					return
				}
				_ = c.SetReadDeadline(time.Time{})
				conns[i] = c
			}
		}()
	}
	wg.Wait()
	defer func() {
		for _, c := range conns {
			if c != nil {
				_ = c.Close()
			}
		}
	}()
	if err, _ := dialErr.Load().(error); err != nil {
		return res, err
	}
	time.Sleep(time.Second)
	idle := srv.RSS()

	// Subscribe every socket; one reader goroutine per socket records when
	// each event arrives.
	total := *reps + 1 // a warm-up event first
	arrivals := make([][]time.Time, total)
	for i := range arrivals {
		arrivals[i] = make([]time.Time, n)
	}
	counts := make([]atomic.Int64, total)
	got := make([]chan struct{}, total)
	for i := range got {
		got[i] = make(chan struct{})
	}
	sub, _ := json.Marshal(map[string]any{"id": "1", "type": "subscribe", "payload": map[string]any{"query": subscription}})
	for i, c := range conns {
		if err := c.WriteMessage(websocket.TextMessage, sub); err != nil {
			return res, err
		}
		go func(i int, c *websocket.Conn) {
			seen := 0
			for {
				_, raw, err := c.ReadMessage()
				if err != nil {
					return
				}
				now := time.Now()
				var m struct{ Type string }
				_ = json.Unmarshal(raw, &m)
				switch m.Type {
				case "ping":
					_ = c.WriteMessage(websocket.TextMessage, []byte(`{"type":"pong"}`))
				case "next":
					if seen < total {
						arrivals[seen][i] = now
						if counts[seen].Add(1) == int64(n) {
							close(got[seen])
						}
					}
					seen++
				case "error", "complete":
					log.Printf("%s: subscription ended: %s", srv.Name, raw)
					return
				}
			}
		}(i, c)
	}

	fireOne := func(rep int) (time.Time, time.Duration, error) {
		t0 := time.Now()
		body, d, err := srv.Post(client, fire(rep))
		if err == nil && strings.Contains(string(body), `"errors"`) {
			err = fmt.Errorf("mutation: %s", body)
		}
		return t0, d, err
	}
	// The server does not acknowledge a subscribe: wait until it counts
	// them all, then a warm-up event proves each one is live.
	for deadline := time.Now().Add(60 * time.Second); srv.Subscriptions() < n; time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			return res, fmt.Errorf("%d of %d subscriptions active after 60s", srv.Subscriptions(), n)
		}
	}
	time.Sleep(500 * time.Millisecond)
	if _, _, err := fireOne(0); err != nil {
		return res, err
	}
	select {
	case <-got[0]:
	case <-time.After(60 * time.Second):
		return res, fmt.Errorf("warm-up event reached %d of %d subscribers", counts[0].Load(), n)
	}
	time.Sleep(time.Second)
	subscribed := srv.RSS()

	var p50s, p99s, maxs, muts []time.Duration
	for rep := 1; rep < total; rep++ {
		t0, mut, err := fireOne(rep)
		if err != nil {
			return res, err
		}
		select {
		case <-got[rep]:
		case <-time.After(120 * time.Second):
			res.missed += n - int(counts[rep].Load())
		}
		var lat []time.Duration
		for _, at := range arrivals[rep] {
			if !at.IsZero() {
				lat = append(lat, at.Sub(t0))
			}
		}
		sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
		p50s = append(p50s, pct(lat, 0.5))
		p99s = append(p99s, pct(lat, 0.99))
		maxs = append(maxs, lat[len(lat)-1])
		muts = append(muts, mut)
		time.Sleep(500 * time.Millisecond)
	}
	res.p50, res.p99, res.max, res.mutation = median(p50s), median(p99s), median(maxs), median(muts)
	res.rss = srv.RSS()
	res.goroutines = srv.Goroutines()
	res.idlePerSock = float64(idle-base) / float64(n)
	res.subsPerSock = float64(subscribed-base) / float64(n)
	return res, nil
}

func pct(s []time.Duration, p float64) time.Duration {
	if len(s) == 0 {
		return 0
	}
	return s[int(p*float64(len(s)-1))]
}

func median(s []time.Duration) time.Duration {
	c := append([]time.Duration(nil), s...)
	sort.Slice(c, func(i, j int) bool { return c[i] < c[j] })
	return c[len(c)/2]
}

func ratioD(a, b time.Duration) float64 { return float64(a) / float64(b) }
func ms(d time.Duration) string         { return fmt.Sprintf("%.1fms", float64(d.Microseconds())/1000) }
func mb(b int64) string                 { return fmt.Sprintf("%.0f MB", float64(b)/(1<<20)) }
func kb(b float64) string               { return fmt.Sprintf("%.1f kB", b/1024) }

func cpus() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "?"
	}
	return strconv.Itoa(strings.Count(string(b), "processor\t:")) + " CPUs"
}
