package main

import (
	"crypto/tls"
	"path/filepath"
	"testing"
)

func TestCertCommand(t *testing.T) {
	dir := t.TempDir()
	if rc := cert([]string{"--out", dir, "--hosts", "localhost,127.0.0.1"}); rc != 0 {
		t.Fatalf("gatecast cert exited %d", rc)
	}
	pair, err := tls.LoadX509KeyPair(filepath.Join(dir, "gatecast-dev.pem"), filepath.Join(dir, "gatecast-dev.key"))
	if err != nil {
		t.Fatalf("the written pair does not load: %v", err)
	}
	if err := pair.Leaf.VerifyHostname("127.0.0.1"); err != nil {
		t.Errorf("certificate does not cover 127.0.0.1: %v", err)
	}
	if rc := cert([]string{"--out", dir}); rc != 1 {
		t.Errorf("second run without --force exited %d, want 1 (files exist)", rc)
	}
	if rc := cert([]string{"--out", dir, "--force"}); rc != 0 {
		t.Errorf("--force exited %d, want 0", rc)
	}
}
