package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/gatecast/gatecast/certs"
)

// cert writes a self-signed development certificate and key.
func cert(args []string) int {
	fs := flag.NewFlagSet("cert", flag.ContinueOnError)
	dir := fs.String("out", ".", "`directory` for gatecast-dev.pem and gatecast-dev.key")
	hosts := fs.String("hosts", strings.Join(certs.DefaultHosts, ","), "comma-separated DNS `names` and IP addresses the certificate covers")
	validFor := fs.Duration("valid-for", 90*24*time.Hour, "how long the certificate is valid")
	force := fs.Bool("force", false, "overwrite existing files")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	certPath, keyPath := filepath.Join(*dir, "gatecast-dev.pem"), filepath.Join(*dir, "gatecast-dev.key")
	if !*force {
		for _, p := range []string{certPath, keyPath} {
			if _, err := os.Stat(p); err == nil {
				fmt.Fprintf(os.Stderr, "gatecast cert: %s exists; use --force to replace it\n", p)
				return 1
			}
		}
	}
	certPEM, keyPEM, err := certs.SelfSigned(strings.Split(*hosts, ","), *validFor, time.Now())
	if err == nil {
		err = os.WriteFile(certPath, certPEM, 0o644)
	}
	if err == nil {
		err = os.WriteFile(keyPath, keyPEM, 0o600)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "gatecast cert: %v\n", err)
		return 1
	}
	fmt.Printf("wrote %s and %s (self-signed, for %s, valid %v): for development only; tell clients to trust %s\n",
		certPath, keyPath, *hosts, *validFor, certPath)
	return 0
}
