// Package routes is gatecast's route table: which integration answers a
// WebSocket client's connect, each of its messages, and its disconnect.
//
// The table is built once from the routes section of the configuration file
// (Config), the way Amazon API Gateway's WebSocket APIs are configured: the
// special keys $connect, $disconnect and $default, plus custom keys that a
// message selects with a route selection expression such as
// "$request.body.action". A route's integration is a NATS subject that a
// backend serves (nats), gatecast's built-in echo, or joining or leaving a
// topic (subscribe, unsubscribe). A key a client sends only selects among
// configured routes: client input never becomes part of a NATS subject, and
// a topic name is accepted only if ValidTopic says it is literal tokens.
//
//	yes := true
//	t, err := routes.New(routes.Config{WebSocket: map[string]routes.Route{
//		routes.KeyConnect: {RouteResponse: &yes}, // wait for the backend's verdict
//		routes.KeyDefault: {},                    // request to gatecast.default
//		"sendmessage":     {},                    // request to gatecast.route.sendmessage
//		"join": {Integration: routes.IntegrationSubscribe,
//			TopicFrom: "$request.body.room", TopicPrefix: "room."},
//	}})
//	...
//	key, r, ok := t.Select(payload) // {"action":"sendmessage","data":"hi"} -> "sendmessage"
//	if !ok {
//		// no route and no $default: answer {"message":"Forbidden"}
//	}
//	switch r.Integration {
//	case routes.IntegrationNATS:
//		// request r.Subject, wait at most r.Timeout if r.TwoWay()
//	case routes.IntegrationSubscribe:
//		topic, ok := r.TopicName(payload)
//		...
//	}
//
// Path is the JSON scanner behind route selection, usable on its own: it
// finds one string field in a message without decoding the message and
// without allocating.
//
// # Concurrency
//
// A Table and the Routes it returns are immutable once New returns and safe
// for concurrent use by any number of goroutines, including event-loop
// goroutines: Select, WebSocket and Path.Lookup never block, never lock, and
// allocate only to unescape a JSON string that contains escapes. Routes
// returned by a Table are shared and must not be modified.
package routes
