// Package routes is gatecast's route table: which integration answers each
// WebSocket route key.
//
// Today a table holds WebSocket routes only, and the only integration is
// "echo", which answers every data message with the same message (Amazon
// API Gateway's mock integration plays the same role: health checks and
// tests). The broker's NATS integrations and HTTP routes join it later.
//
//	t, err := routes.New(routes.Config{WebSocket: map[string]routes.Route{
//		routes.KeyDefault: {Integration: routes.IntegrationEcho},
//	}})
//	r, ok := t.WebSocket(routes.KeyDefault)
//
// A Table is immutable once built and safe for concurrent use.
package routes
