// Command bare serves the bare gqlgen + gorilla reference server
// (bench/bare/server) that the fan-out and dashboard benches compare
// twinme with.
//
//	go run ./bench/bare -listen 127.0.0.1:0
package main

import (
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"

	"github.com/twinme/twinme/bench/bare/server"
)

func main() {
	addr := flag.String("listen", "127.0.0.1:0", "address to listen on")
	flag.Parse()
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("listening on %s\n", ln.Addr())
	log.Fatal(http.Serve(ln, server.Handler()))
}
