// Package benchutil starts the servers the bench programs compare: twinme
// (built from this checkout, embedded SQLite in a temporary directory) and
// the bare gqlgen + gorilla reference (bench/bare), each as a process of its
// own on a loopback port, so RSS and goroutines are the server's alone.
package benchutil

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// RaiseFileLimit raises RLIMIT_NOFILE to its hard limit (children inherit it).
func RaiseFileLimit() (uint64, error) {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		return 0, err
	}
	rl.Cur = rl.Max
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		return 0, err
	}
	return rl.Cur, nil
}

// Build compiles the twinme binary and the bare server into dir.
func Build(dir string) (twinme, bare string, err error) {
	twinme, bare = filepath.Join(dir, "twinme"), filepath.Join(dir, "bare")
	for pkg, out := range map[string]string{".": twinme, "./bench/bare": bare} {
		cmd := exec.Command("go", "build", "-o", out, pkg)
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			return "", "", fmt.Errorf("build %s: %w", pkg, err)
		}
	}
	return twinme, bare, nil
}

// Server is a running server process.
type Server struct {
	Name  string
	URL   string // http://127.0.0.1:port
	Token string // twinme: a FULL API token of the bench user
	cmd   *exec.Cmd
}

// FreeAddr returns a free loopback address.
func FreeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// TwinmeEnv is the environment of a bench twinme: embedded SQLite in dir,
// no rate limit, no scheduler, quiet logs, and per-user socket and
// subscription caps above the bench's N (it watches one user's view from
// every socket).
func TwinmeEnv(dir, addr string) []string {
	return append(os.Environ(), "TWINME_DATA_DIR="+dir, "TWINME_LISTEN="+addr, "TWINME_RATE_LIMIT=0",
		"TWINME_AI_RATE_LIMIT=0", "TWINME_SCHEDULER=off", "TWINME_LOG_LEVEL=error", "TWINME_DATABASE_URL=",
		"TWINME_MAX_SOCKETS_PER_USER=1000000", "TWINME_MAX_SUBSCRIPTIONS_PER_USER=1000000")
}

// LastLine runs a twinme command and returns the last line it printed (the
// token of `users create` and `demo`).
func LastLine(bin string, env []string, args ...string) (string, error) {
	cmd := exec.Command(bin, args...)
	cmd.Env = env
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, os.Stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("twinme %s: %w: %s", strings.Join(args, " "), err, out.String())
	}
	var last string
	sc := bufio.NewScanner(&out)
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" && !strings.HasPrefix(l, "curl") && !strings.HasPrefix(l, "Try") {
			last = l
		}
	}
	return last, nil
}

// StartTwinme creates a user (or, with seed, the demo user and its year of
// data) in a fresh data directory and serves twinme there.
func StartTwinme(bin, dir string, seed bool) (*Server, error) {
	addr, err := FreeAddr()
	if err != nil {
		return nil, err
	}
	env := TwinmeEnv(dir, addr)
	var token string
	if seed {
		token, err = demoToken(bin, env)
	} else {
		token, err = LastLine(bin, env, "users", "create", "--email", "bench@example.com")
	}
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "serve")
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = io.Discard, os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &Server{Name: "twinme", URL: "http://" + addr, Token: token, cmd: cmd}
	return s, s.wait("/api/health")
}

func demoToken(bin string, env []string) (string, error) {
	cmd := exec.Command(bin, "demo")
	cmd.Env = env
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, os.Stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("twinme demo: %w", err)
	}
	lines := strings.Split(out.String(), "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, "API token") && i+1 < len(lines) {
			return strings.TrimSpace(lines[i+1]), nil
		}
	}
	return "", fmt.Errorf("twinme demo printed no token: %s", out.String())
}

// StartBare serves the bare reference server.
func StartBare(bin string) (*Server, error) {
	addr, err := FreeAddr()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "-listen", addr)
	cmd.Stdout, cmd.Stderr = io.Discard, os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &Server{Name: "bare", URL: "http://" + addr, cmd: cmd}
	return s, s.wait("/stats")
}

func (s *Server) wait(path string) error {
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		res, err := http.Get(s.URL + path)
		if err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				return nil
			}
		}
	}
	s.Stop()
	return fmt.Errorf("%s did not answer %s within 30s", s.Name, path)
}

// Stop ends the server.
func (s *Server) Stop() {
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = s.cmd.Process.Kill()
		<-done
	}
}

// RSS returns the server's resident set size in bytes.
func (s *Server) RSS() int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb << 10
		}
	}
	return 0
}

// Goroutines returns the server's goroutine count (twinme: go_goroutines of
// /metrics; bare: /stats).
func (s *Server) Goroutines() int { return s.stat("goroutines", "go_goroutines") }

// Subscriptions returns the server's active subscriptions (twinme:
// twinme_subscriptions_active of /metrics; bare: /stats).
func (s *Server) Subscriptions() int { return s.stat("subscriptions", "twinme_subscriptions_active") }

func (s *Server) stat(bareKey, metric string) int {
	if s.Name == "bare" {
		res, err := http.Get(s.URL + "/stats")
		if err != nil {
			return -1
		}
		defer res.Body.Close()
		var st map[string]int
		_ = json.NewDecoder(res.Body).Decode(&st)
		return st[bareKey]
	}
	res, err := http.Get(s.URL + "/metrics")
	if err != nil {
		return -1
	}
	defer res.Body.Close()
	sc := bufio.NewScanner(res.Body)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), metric+" "); ok {
			n, _ := strconv.ParseFloat(v, 64)
			return int(n)
		}
	}
	return -1
}

// Post sends a GraphQL operation and returns the body and how long it took.
func (s *Server) Post(client *http.Client, query string) ([]byte, time.Duration, error) {
	body, _ := json.Marshal(map[string]any{"query": query})
	req, _ := http.NewRequest(http.MethodPost, s.URL+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if s.Token != "" {
		req.Header.Set("Authorization", "Bearer "+s.Token)
	}
	t0 := time.Now()
	res, err := client.Do(req)
	if err != nil {
		return nil, 0, err
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	d := time.Since(t0)
	if err == nil && res.StatusCode != 200 {
		err = fmt.Errorf("%s: HTTP %d: %s", s.Name, res.StatusCode, raw)
	}
	return raw, d, err
}

// Load returns /proc/loadavg.
func Load() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	return strings.TrimSpace(string(b))
}
