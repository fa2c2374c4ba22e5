package gorillaws_test

import (
	"runtime"
	"testing"

	"github.com/99designs/gqlgen/graphql/handler/transport"

	"github.com/twinme/twinme/internal/server/gorillaws"
)

// BenchmarkIdleConnections opens idleConns initialised graphql-transport-ws
// connections per iteration and reports the live heap and goroutine stacks they
// hold. Client and server live in this process, so the figures include the
// gorilla client's side, which is the same for every server implementation:
// compare the rows, not the absolute numbers.
//
//	go test -run '^$' -bench IdleConnections -benchtime 5x ./internal/server/gorillaws/
func BenchmarkIdleConnections(b *testing.B) {
	const idleConns = 200
	impls := []struct {
		name string
		impl transport.WebsocketImplementation
	}{
		{"gorilla", gorillaws.Implementation{}},
		{"coder_gqlgen_default", transport.CoderWebsocketImplementation{}},
	}
	for _, tt := range impls {
		b.Run(tt.name, func(b *testing.B) {
			srv := newServer(b, transport.Websocket{Implementation: tt.impl})
			var bytes, goroutines float64
			iterations := 0
			for b.Loop() {
				heapBefore, goBefore := memoryInUse()
				clients := make([]*client, idleConns)
				for i := range clients {
					clients[i] = dial(b, srv.url, nil, transportWS)
					clients[i].init("")
					clients[i].expect("connection_ack", "", "")
				}
				heapAfter, goAfter := memoryInUse()
				bytes += float64(heapAfter-heapBefore) / idleConns
				goroutines += float64(goAfter-goBefore) / idleConns
				iterations++
				for _, c := range clients {
					_ = c.conn.Close()
				}
			}
			b.ReportMetric(bytes/float64(iterations), "B/conn")
			b.ReportMetric(goroutines/float64(iterations), "goroutines/conn")
		})
	}
}

func memoryInUse() (bytes uint64, goroutines int) {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc + m.StackInuse, runtime.NumGoroutine()
}
