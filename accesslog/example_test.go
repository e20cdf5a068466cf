package accesslog_test

import (
	"fmt"
	"os"
	"time"

	"github.com/gatecast/gatecast/accesslog"
)

func ExampleNewWriter() {
	l, err := accesslog.NewWriter(accesslog.Config{Format: accesslog.CLFFormat}, os.Stdout)
	if err != nil {
		fmt.Println(err)
		return
	}
	l.Log(&accesslog.Entry{
		EventType: "REQUEST", SourceIP: "192.0.2.7", Method: "GET", RouteKey: "GET /chat",
		Protocol: "HTTP/1.1", Status: 200, ResponseLength: 512, RequestID: "c9f2",
		RequestTime: time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC),
	})
	l.Close()
	// Output:
	// 192.0.2.7 - - [01/May/2024:12:00:00 +0000] "GET GET /chat HTTP/1.1" 200 512 c9f2
}

func ExampleConfig_json() {
	l, err := accesslog.NewWriter(accesslog.Config{Format: `{
		"id":      "$context.requestId",
		"event":   "$context.eventType",
		"status":  $context.status,
		"latency": $context.responseLatency,
		"user":    $context.authorizer.claims.sub
	}`}, os.Stdout)
	if err != nil {
		fmt.Println(err)
		return
	}
	l.Log(&accesslog.Entry{RequestID: "c9f2", EventType: "MESSAGE", ResponseLatency: 420 * time.Microsecond,
		Claims: map[string]any{"sub": "ann"}})
	l.Close()
	// Output:
	// {"id":"c9f2","event":"MESSAGE","status":null,"latency":0.42,"user":"ann"}
}

func ExampleNew_unknownVariable() {
	_, err := accesslog.New(accesslog.Config{Format: "$context.stage $context.path"})
	fmt.Println(err)
	// Output:
	// accesslog: unknown variable "$context.stage" at offset 0 of the format; valid variables: $context.requestId, $context.extendedRequestId, $context.connectionId, $context.eventType, $context.identity.sourceIp, $context.identity.userAgent, $context.httpMethod, $context.path, $context.protocol, $context.routeKey, $context.status, $context.requestTime, $context.requestTimeEpoch, $context.responseLength, $context.responseLatency, $context.integrationLatency, $context.integration.latency, $context.integrationStatus, $context.integration.status, $context.error.message, $context.node, $context.authorizer.claims.<name>
}
