// Package protocol is the wire contract between gatecast and backends:
// NATS subjects, header names, connection ids and status codes, as
// docs/protocol.md describes them. The gateway and the Go backend SDK both
// build their subjects and headers here, so the two cannot drift apart;
// backends in other languages follow docs/protocol.md.
//
// Everything in the package is a constant or a pure function, safe for
// concurrent use.
package protocol
