// Package certs holds the gateway's TLS certificates: loaded from PEM
// files named in the configuration, chosen per connection by SNI, and
// reloaded when the files change, so a renewed certificate takes effect
// for new connections without dropping the open ones. SelfSigned makes a
// development certificate (gatecast cert).
//
//	store, err := certs.New(certs.Config{Certificates: []certs.Pair{{CertFile: "site.pem", KeyFile: "site.key"}}}, log)
//	store.Start()            // watches the files; Close stops it
//	cfg := store.TLSConfig() // TLS 1.2+, HTTP/2 and HTTP/1.1 by ALPN
//
// Concurrency: GetCertificate and TLSConfig are safe for concurrent use
// and never block on the files: the certificates in use are swapped
// atomically by Reload, which runs on the Store's one watcher goroutine
// (or the caller's).
package certs
