package main

import (
	"crypto/tls"
	"flag"
	"io"
	"os"
	"slices"
	"strings"
	"testing"
)

func TestTargetsOrTLS(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		want    []string
		wantErr string
	}{
		{name: "without --tls", args: []string{"--target", "both", "--gatecast-bin", "x"}, want: []string{targetBaseline, targetGatecast}},
		{name: "--tls", args: []string{"--tls", "--gatecast-bin", "x"}, want: []string{targetGatecast, targetGatecastTLS}},
		{name: "--tls --target gatecast", args: []string{"--tls", "--target", "gatecast", "--gatecast-bin", "x"}, want: []string{targetGatecast, targetGatecastTLS}},
		{name: "--tls --target both", args: []string{"--tls", "--target", "both", "--gatecast-bin", "x"}, wantErr: "leave out --target"},
		{name: "--tls --target baseline", args: []string{"--tls", "--target", "baseline", "--gatecast-bin", "x"}, wantErr: "leave out --target"},
		{name: "--tls without a binary", args: []string{"--tls"}, wantErr: "--gatecast-bin"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var tf targetFlags
			fs := flag.NewFlagSet("test", flag.ContinueOnError)
			fs.SetOutput(io.Discard)
			tf.register(fs)
			tf.registerTLS(fs)
			if err := fs.Parse(tt.args); err != nil {
				t.Fatal(err)
			}
			got, err := tf.targetsOrTLS(fs)
			defer tf.cert.remove()
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("targetsOrTLS = %v, %v; want an error saying %q", got, err, tt.wantErr)
				}
				return
			}
			if err != nil || !slices.Equal(got, tt.want) {
				t.Fatalf("targetsOrTLS = %v, %v; want %v", got, err, tt.want)
			}
			if tf.tls != (tf.cert != nil) {
				t.Fatalf("tls %v but certificate %v", tf.tls, tf.cert)
			}
			if tf.cert != nil {
				if _, err := tls.LoadX509KeyPair(tf.cert.certFile, tf.cert.keyFile); err != nil {
					t.Fatalf("the certificate does not load: %v", err)
				}
				if sec := tf.cert.configSection(); !strings.Contains(sec, tf.cert.certFile) || !strings.Contains(sec, tf.cert.keyFile) {
					t.Errorf("config section %q does not name the files", sec)
				}
				dir := tf.cert.dir
				tf.cert.remove()
				if _, err := os.Stat(dir); !os.IsNotExist(err) {
					t.Errorf("%s still there after remove: %v", dir, err)
				}
			}
		})
	}
}
