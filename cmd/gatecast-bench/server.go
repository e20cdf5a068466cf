package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/gatecast/gatecast/bench/load"
)

const (
	// serverStartWait bounds how long a server may take to accept.
	serverStartWait = 15 * time.Second
	// serverStopWait is how long a server gets to exit after SIGTERM.
	serverStopWait = 10 * time.Second
)

// Target names a server under test.
const (
	targetGatecast = "gatecast"
	targetBaseline = "baseline"
)

// targetFlags are the flags every orchestrator has for choosing servers.
type targetFlags struct {
	target      string
	gatecastBin string
	gatecastArg string
	path        string
	tls         bool       // --tls: gatecast plain and with TLS (see targetsOrTLS)
	cert        *benchCert // what the TLS target serves; set by targetsOrTLS
}

func (t *targetFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&t.target, "target", "baseline", "gatecast, baseline or both")
	fs.StringVar(&t.gatecastBin, "gatecast-bin", "", "path of a built gatecast binary (go build -o /tmp/gatecast ./cmd/gatecast)")
	fs.StringVar(&t.gatecastArg, "gatecast-args", "", "extra arguments for gatecast serve, split on spaces")
	fs.StringVar(&t.path, "path", "/", "URL path the clients connect to")
}

// targets returns the servers to measure, baseline first.
func (t *targetFlags) targets() ([]string, error) {
	var names []string
	switch t.target {
	case targetBaseline, targetGatecast:
		names = []string{t.target}
	case "both":
		names = []string{targetBaseline, targetGatecast}
	default:
		return nil, fmt.Errorf("--target %q: use gatecast, baseline or both", t.target)
	}
	if t.target != targetBaseline && t.gatecastBin == "" {
		return nil, fmt.Errorf("--target %s needs --gatecast-bin; build one with: go build -o /tmp/gatecast ./cmd/gatecast", t.target)
	}
	return names, nil
}

// serverProc is a server under test running as a child process.
type serverProc struct {
	name   string
	cmd    *exec.Cmd
	addr   string // WebSocket listener
	admin  string // metrics listener
	url    string // what clients dial
	caFile string // the certificate a TLS server serves, for its clients to trust
	exited chan struct{}
	err    error // how it exited; set before exited closes
}

// serverSpec is what a measurement needs of a server beyond the common
// flags. The zero value is the echo setup.
type serverSpec struct {
	// config is gatecast's YAML configuration; zero: echoConfig.
	config string
	// natsListen is gatecast's --nats-listen address; zero: "off".
	natsListen string
}

// startServer starts the named server on free loopback ports, set up for
// echo, and returns once it accepts connections.
func startServer(ctx context.Context, name string, tf *targetFlags) (*serverProc, error) {
	return startServerSpec(ctx, name, tf, serverSpec{})
}

// startServerSpec is startServer with the setup spec asks for.
func startServerSpec(ctx context.Context, name string, tf *targetFlags, spec serverSpec) (*serverProc, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	admin, err := freeAddr()
	if err != nil {
		return nil, err
	}
	var cmd *exec.Cmd
	var confFile string
	switch name {
	case targetGatecast, targetGatecastTLS:
		// The baseline echoes; so does gatecast's echo integration, with
		// NATS in-process only so no port is taken, unless spec says
		// otherwise.
		conf, err := os.CreateTemp("", "gatecast-bench-*.yaml")
		if err != nil {
			return nil, err
		}
		confFile = conf.Name()
		config, natsListen := spec.config, spec.natsListen
		if config == "" {
			config = echoConfig
		}
		if natsListen == "" {
			natsListen = "off"
		}
		if name == targetGatecastTLS {
			config += tf.cert.configSection()
		}
		_, err = fmt.Fprint(conf, config)
		if cerr := conf.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			os.Remove(confFile)
			return nil, err
		}
		args := append([]string{"serve", "--config", confFile, "--listen", addr, "--admin-listen", admin, "--nats-listen", natsListen},
			strings.Fields(tf.gatecastArg)...)
		cmd = exec.Command(tf.gatecastBin, args...)
	case targetBaseline:
		self, err := os.Executable()
		if err != nil {
			return nil, err
		}
		cmd = exec.Command(self, "baseline", "--listen", addr, "--admin-listen", admin)
	}
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	load.KillWithParent(cmd)
	if err := cmd.Start(); err != nil {
		if confFile != "" {
			os.Remove(confFile)
		}
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	p := &serverProc{name: name, cmd: cmd, addr: addr, admin: admin, exited: make(chan struct{})}
	p.url = "ws://" + addr + "/" + strings.TrimPrefix(tf.path, "/")
	if name == targetGatecastTLS {
		p.url, p.caFile = "wss://"+strings.TrimPrefix(p.url, "ws://"), tf.cert.certFile
	}
	go func() {
		p.err = cmd.Wait()
		if confFile != "" {
			os.Remove(confFile)
		}
		close(p.exited)
	}()
	if err := p.waitAccept(ctx); err != nil {
		p.stop()
		return nil, err
	}
	return p, nil
}

// freeAddr returns a loopback address with a port free right now. Another
// process could take it before the server binds it; on loopback, in a
// benchmark, that is rare enough to accept.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// waitAccept polls the server's port until it accepts, it exits, or
// serverStartWait passes.
func (p *serverProc) waitAccept(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, serverStartWait)
	defer cancel()
	for {
		c, err := net.DialTimeout("tcp", p.addr, time.Second)
		if err == nil {
			c.Close()
			return nil
		}
		select {
		case <-p.exited:
			return fmt.Errorf("%s exited before accepting on %s: %v", p.name, p.addr, p.err)
		case <-ctx.Done():
			return fmt.Errorf("%s does not accept on %s: %w", p.name, p.addr, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func (p *serverProc) pid() int { return p.cmd.Process.Pid }

// stop asks the server to exit and kills it if it has not within
// serverStopWait. It is safe to call more than once.
func (p *serverProc) stop() {
	select {
	case <-p.exited:
		return
	default:
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(serverStopWait):
		p.cmd.Process.Kill()
		<-p.exited
	}
}

// goroutines reads the go_goroutines gauge from the server's /metrics, or
// returns -1 if the server does not serve it.
func (p *serverProc) goroutines(ctx context.Context) int {
	v, ok := p.metric(ctx, "go_goroutines")
	if !ok {
		return -1
	}
	return int(v)
}

// metric reads one unlabelled metric from the server's /metrics; ok is
// false if the server does not serve it.
func (p *serverProc) metric(ctx context.Context, name string) (v float64, ok bool) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "GET", "http://"+p.admin+"/metrics", nil)
	if err != nil {
		return 0, false
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, false
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if v, found := strings.CutPrefix(sc.Text(), name+" "); found {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			return f, err == nil
		}
	}
	return 0, false
}

// noConnectRate is the configuration that turns off the access log (the
// figures are for the gateway, not its logging) and the gateway's default
// connect rate (500 new connections a second) and raises its connection
// cap (10,000) above what one process can hold, which a benchmark opening
// thousands of connections at once would run into.
const noConnectRate = `admission:
  connect_rate:
    per_second: -1
access_log:
  output: "off"
websocket:
  max_conns: 100000
`

// echoConfig is the gatecast configuration the benchmarks run: every
// message answered by the echo integration.
const echoConfig = noConnectRate + `routes:
  websocket:
    $default:
      integration: echo
`
