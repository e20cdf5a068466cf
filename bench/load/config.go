package load

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// Mode is what a client does with its connections once they are open.
type Mode string

const (
	// Idle holds the connections without traffic, answering the server's
	// pings, until its control input closes or Hold passes.
	Idle Mode = "idle"
	// Echo runs a closed loop per connection: send Size bytes, wait for the
	// echo, record the round trip, repeat until Duration or Rounds.
	Echo Mode = "echo"
	// FanOut sends Join (if set) on every connection, then receives
	// stamped messages (see Stamp) until its control input closes or Hold
	// passes: it records publish-to-receive latency, counts what arrived and
	// what was skipped, and reports progress events while it runs.
	FanOut Mode = "fanout"
	// NATSEcho is Echo over NATS request/reply instead of WebSockets: URL
	// is a nats:// URL, Conns the concurrent requesters (RequestersPerConn
	// of them share one NATS connection), each requesting Subject and
	// waiting for the reply, which must be the request's body.
	NATSEcho Mode = "nats-echo"
	// Handshake runs Conns loops that each open a connection (TCP, TLS
	// if set, the upgrade), close it with the closing handshake and open
	// the next, until Duration; see runHandshakes.
	Handshake Mode = "handshake"
)

// ClientConfig describes one client process. Every zero field takes the
// default named in its comment; URL and Conns are required.
type ClientConfig struct {
	URL   string // ws://host:port/path of the server; wss:// sets TLS
	Conns int    // connections to open
	Mode  Mode   // zero: Idle

	// TLS dials with crypto/tls (wss://), offering ALPN http/1.1 only, no
	// session resumption. Zero: plain, unless URL is wss://.
	TLS bool
	// TLSCAFile is a PEM file of the certificates to trust, such as the
	// self-signed one the server was given. Zero: the system roots.
	TLSCAFile string
	// TLSInsecure skips verifying the server's certificate. Zero: verify.
	TLSInsecure bool
	// TLSFullRecords sends records of up to 16 KiB from the first byte,
	// as browsers do, instead of crypto/tls's dynamic record sizing
	// (records of one TCP segment at first, growing over the first
	// 128 KiB): what the server must buffer for one record depends on it.
	// Zero: dynamic sizing.
	TLSFullRecords bool

	// Prime makes each idle connection, once open, send one binary
	// message of this many bytes and read its echo before it goes idle,
	// so that what the server holds afterwards shows whether the buffers
	// that grew for the message shrank back. Zero: no message.
	Prime int

	// Source is the local IP to dial from, such as "127.0.0.2". Each
	// source address has its own ~28,000 ephemeral ports towards one
	// server port. Zero: chosen by the kernel.
	Source string

	Size     int           // echo payload in bytes; zero: 64
	Duration time.Duration // echo or handshake loop length, the hard bound on it; zero: 10s
	// Rounds stops the echo loop after this many round trips over all
	// connections (split evenly), if that comes before Duration. Zero: no
	// count limit.
	Rounds int
	// WaitStart makes an echo client wait, after opening, for a line on its
	// control input before it starts the loop, so that the parent can start
	// several processes at once. Zero: start right away.
	WaitStart bool

	// Join is a text message every fan-out connection sends once open,
	// such as {"action":"join","topic":"bench"}. Zero: none.
	Join string
	// Subject is what a nats-echo client requests. Zero: "bench.direct".
	Subject string
	// RequestersPerConn is how many nats-echo requesters share one NATS
	// connection. Zero: 100.
	RequestersPerConn int

	Hold  time.Duration // longest idle hold or fan-out receive; zero: 10m
	Sweep time.Duration // how often idle connections are read for pings; zero: 2s

	DialConcurrency int           // dials in flight; zero: 64
	DialTimeout     time.Duration // per dial, TCP and handshake; zero: 5s
	OpenTimeout     time.Duration // for opening all connections; zero: 60s
}

// withDefaults returns c with every zero tunable set to its default.
func (c ClientConfig) withDefaults() ClientConfig {
	def := func(v *time.Duration, d time.Duration) {
		if *v == 0 {
			*v = d
		}
	}
	if c.Mode == "" {
		c.Mode = Idle
	}
	if strings.HasPrefix(c.URL, "wss://") {
		c.TLS = true
	}
	if c.Size == 0 {
		c.Size = 64
	}
	if c.DialConcurrency == 0 {
		c.DialConcurrency = 64
	}
	if c.Subject == "" {
		c.Subject = "bench.direct"
	}
	if c.RequestersPerConn == 0 {
		c.RequestersPerConn = 100
	}
	def(&c.Duration, 10*time.Second)
	def(&c.Hold, 10*time.Minute)
	def(&c.Sweep, 2*time.Second)
	def(&c.DialTimeout, 5*time.Second)
	def(&c.OpenTimeout, 60*time.Second)
	return c
}

func (c ClientConfig) validate() error {
	switch {
	case c.URL == "":
		return errors.New("load: no server URL; pass --url ws://HOST:PORT/")
	case c.Conns <= 0:
		return fmt.Errorf("load: --conns must be positive, got %d", c.Conns)
	case c.Mode != "" && c.Mode != Idle && c.Mode != Echo && c.Mode != FanOut && c.Mode != NATSEcho && c.Mode != Handshake:
		return fmt.Errorf("load: unknown --mode %q; use idle, echo, fanout, nats-echo or handshake", c.Mode)
	case c.Size < 0 || c.Rounds < 0 || c.DialConcurrency < 0 || c.RequestersPerConn < 0 || c.Prime < 0:
		return errors.New("load: --size, --rounds, --dial-concurrency, --requesters-per-conn and --prime must not be negative")
	case c.Prime > 0 && c.Mode != "" && c.Mode != Idle:
		return fmt.Errorf("load: --prime is for idle mode, not %s", c.Mode)
	}
	return nil
}

// flags binds c's fields to a flag set; Args writes the same names back.
func (c *ClientConfig) flags(fs *flag.FlagSet) {
	fs.StringVar(&c.URL, "url", c.URL, "server URL, ws://HOST:PORT/")
	fs.IntVar(&c.Conns, "conns", c.Conns, "connections to open")
	fs.StringVar((*string)(&c.Mode), "mode", string(c.Mode), "idle, echo, fanout, nats-echo or handshake")
	fs.BoolVar(&c.TLS, "tls", c.TLS, "dial with TLS (wss://), ALPN http/1.1; a wss:// URL sets it")
	fs.StringVar(&c.TLSCAFile, "tls-ca", c.TLSCAFile, "TLS: PEM file of the certificates to trust (default the system roots)")
	fs.BoolVar(&c.TLSInsecure, "tls-insecure", c.TLSInsecure, "TLS: do not verify the server's certificate")
	fs.BoolVar(&c.TLSFullRecords, "tls-full-records", c.TLSFullRecords, "TLS: send 16 KiB records from the start, as browsers do (default: crypto/tls's dynamic record sizing)")
	fs.IntVar(&c.Prime, "prime", c.Prime, "idle: bytes of one message each connection sends and reads back before idling (default none)")
	fs.StringVar(&c.Source, "source", c.Source, "local IP to dial from, e.g. 127.0.0.2")
	fs.IntVar(&c.Size, "size", c.Size, "echo payload bytes (default 64)")
	fs.DurationVar(&c.Duration, "duration", c.Duration, "echo loop length (default 10s)")
	fs.IntVar(&c.Rounds, "rounds", c.Rounds, "echo: stop after this many round trips in all (default no limit)")
	fs.BoolVar(&c.WaitStart, "wait-start", c.WaitStart, "echo: wait for a line on stdin before starting")
	fs.StringVar(&c.Join, "join", c.Join, "fanout: text message each connection sends once open")
	fs.StringVar(&c.Subject, "subject", c.Subject, "nats-echo: subject to request (default bench.direct)")
	fs.IntVar(&c.RequestersPerConn, "requesters-per-conn", c.RequestersPerConn, "nats-echo: requesters sharing one NATS connection (default 100)")
	fs.DurationVar(&c.Hold, "hold", c.Hold, "idle, fanout: longest hold before closing (default 10m)")
	fs.DurationVar(&c.Sweep, "sweep", c.Sweep, "idle: how often to read the connections for pings (default 2s)")
	fs.IntVar(&c.DialConcurrency, "dial-concurrency", c.DialConcurrency, "dials in flight (default 64)")
	fs.DurationVar(&c.DialTimeout, "dial-timeout", c.DialTimeout, "timeout of one dial and handshake (default 5s)")
	fs.DurationVar(&c.OpenTimeout, "open-timeout", c.OpenTimeout, "timeout for opening all connections (default 60s)")
}

// ParseClientArgs parses the client flags (as written by Args).
func ParseClientArgs(name string, args []string, usage io.Writer) (ClientConfig, error) {
	c, err := parseClientFlags(name, args, usage)
	if err != nil {
		return c, err
	}
	return c, c.validate()
}

// parseClientFlags parses what Args writes, without validating it.
func parseClientFlags(name string, args []string, usage io.Writer) (ClientConfig, error) {
	var c ClientConfig
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(usage)
	c.flags(fs)
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("load: unexpected arguments %q", fs.Args())
	}
	return c, nil
}

// Args returns the command-line flags that ParseClientArgs turns back into
// c. Zero fields are left out, so the child applies the same defaults.
func (c ClientConfig) Args() []string {
	var args []string
	add := func(name, v string) { args = append(args, "--"+name+"="+v) }
	addInt := func(name string, v int) {
		if v != 0 {
			add(name, strconv.Itoa(v))
		}
	}
	addDur := func(name string, v time.Duration) {
		if v != 0 {
			add(name, v.String())
		}
	}
	add("url", c.URL)
	addInt("conns", c.Conns)
	if c.Mode != "" {
		add("mode", string(c.Mode))
	}
	if c.TLS {
		add("tls", "true")
	}
	if c.TLSCAFile != "" {
		add("tls-ca", c.TLSCAFile)
	}
	if c.TLSInsecure {
		add("tls-insecure", "true")
	}
	if c.TLSFullRecords {
		add("tls-full-records", "true")
	}
	addInt("prime", c.Prime)
	if c.Source != "" {
		add("source", c.Source)
	}
	addInt("size", c.Size)
	addDur("duration", c.Duration)
	addInt("rounds", c.Rounds)
	if c.WaitStart {
		add("wait-start", "true")
	}
	if c.Join != "" {
		add("join", c.Join)
	}
	if c.Subject != "" {
		add("subject", c.Subject)
	}
	addInt("requesters-per-conn", c.RequestersPerConn)
	addDur("hold", c.Hold)
	addDur("sweep", c.Sweep)
	addInt("dial-concurrency", c.DialConcurrency)
	addDur("dial-timeout", c.DialTimeout)
	addDur("open-timeout", c.OpenTimeout)
	return args
}
