// Command gatecast runs the gatecast WebSocket gateway.
//
//	gatecast serve [--listen :8080] [--admin-listen 127.0.0.1:9090] [--config FILE] [--demo]
//	gatecast connect ws://127.0.0.1:8080/
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/gatecast/gatecast/certs"
	"github.com/gatecast/gatecast/gateway"
	"github.com/gatecast/gatecast/netpoll"
)

const usage = `gatecast: a WebSocket and HTTP API gateway

usage:
  gatecast serve [flags]   run the gateway
  gatecast connect URL     send stdin lines as messages, print what comes back
  gatecast cert [flags]    write a self-signed development certificate (gatecast-dev.pem, .key)
  gatecast version         print the version

Run "gatecast serve -h" for the flags.
`

var version = "dev"

func main() {
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	switch os.Args[1] {
	case "serve":
		os.Exit(serve(os.Args[2:]))
	case "connect":
		os.Exit(connect(os.Args[2:]))
	case "cert":
		os.Exit(cert(os.Args[2:]))
	case "version":
		fmt.Println("gatecast", version)
	case "-h", "--help", "help":
		fmt.Print(usage)
	default:
		fmt.Fprintf(os.Stderr, "gatecast: unknown command %q\n\n%s", os.Args[1], usage)
		os.Exit(2)
	}
}

func serve(args []string) int {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	configPath := fs.String("config", "", "YAML configuration `file` (optional; defaults apply without it)")
	listen := fs.String("listen", "", "client listener `address` (default \":8080\", or the file's listen)")
	adminListen := fs.String("admin-listen", "", "admin listener `address` for /metrics, /healthz, /readyz, /debug/pprof (default \"127.0.0.1:9090\", \"off\" to disable)")
	natsURL := fs.String("nats-url", "", "join an existing NATS server or cluster (comma-separated nats:// `URLs`) instead of starting the embedded one")
	natsListen := fs.String("nats-listen", "", "embedded NATS `address` for backends (default \"127.0.0.1:4222\", \"off\": in-process only)")
	natsCreds := fs.String("nats-creds", "", "NATS credentials `file` for --nats-url")
	natsCA := fs.String("nats-ca", "", "CA `file` for TLS to --nats-url")
	natsCert := fs.String("nats-cert", "", "client certificate `file` for TLS to --nats-url")
	natsKey := fs.String("nats-key", "", "client key `file` for TLS to --nats-url")
	nodeID := fs.String("node-id", "", "this node's `id` in connection ids (default: random)")
	logLevel := fs.String("log-level", "info", "log `level`: debug, info, warn, error")
	tlsCert := fs.String("tls-cert", "", "certificate `file` (PEM): the client listener speaks TLS only (wss://, https://); with --tls-key")
	tlsKey := fs.String("tls-key", "", "private key `file` (PEM) for --tls-cert")
	demoPage := fs.Bool("demo", false, "serve the chat demo page at http://HOST:PORT/ (http.demo_page; for trying gatecast, keep it off in production)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		fmt.Fprintf(os.Stderr, "gatecast: --log-level: %v\n", err)
		return 2
	}
	log := slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: level}))

	var cfg gateway.Config
	if *configPath != "" {
		var err error
		if cfg, err = gateway.LoadConfig(*configPath); err != nil {
			fmt.Fprintf(os.Stderr, "gatecast: config: %v\n", err)
			return 2
		}
	}
	// Flags given on the command line win over the file.
	if *listen != "" {
		cfg.Listen = *listen
	}
	if *adminListen != "" {
		cfg.AdminListen = *adminListen
	}
	for flagValue, field := range map[*string]*string{
		natsURL: &cfg.NATS.URL, natsListen: &cfg.NATS.Listen, natsCreds: &cfg.NATS.Credentials,
		natsCA: &cfg.NATS.CAFile, natsCert: &cfg.NATS.CertFile, natsKey: &cfg.NATS.KeyFile, nodeID: &cfg.NodeID,
	} {
		if *flagValue != "" {
			*field = *flagValue
		}
	}
	if *demoPage {
		cfg.HTTP.DemoPage = true
	}
	if (*tlsCert == "") != (*tlsKey == "") {
		fmt.Fprintln(os.Stderr, "gatecast: --tls-cert and --tls-key go together (run `gatecast cert` for a development pair)")
		return 2
	}
	if *tlsCert != "" {
		cfg.TLS = &certs.Config{Certificates: []certs.Pair{{CertFile: *tlsCert, KeyFile: *tlsKey}}}
	}

	if limit, err := netpoll.RaiseFDLimit(); err != nil {
		log.Warn("could not raise the open-file limit", "limit", limit, "err", err)
	} else {
		log.Info("open-file limit", "limit", limit)
	}

	g, err := gateway.New(cfg, log)
	if err != nil {
		fmt.Fprintf(os.Stderr, "gatecast: %v\n", err)
		return 2
	}
	if err := g.Start(); err != nil {
		fmt.Fprintf(os.Stderr, "gatecast: %v\n", err)
		return 1
	}

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	s := <-sig
	log.Info("shutting down", "signal", s.String())
	signal.Stop(sig)
	if err := g.Shutdown(context.Background()); err != nil {
		log.Warn("shutdown cut short; remaining connections were closed", "err", err)
	}
	return 0
}
