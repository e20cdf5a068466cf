// Package accesslog writes gatecast's access log: one line per HTTP
// request and per WebSocket connect, message and disconnect, in a format
// made of Amazon API Gateway's $context variables, so an access log
// format written for API Gateway works here unchanged (for the variables
// below).
//
//	l, err := accesslog.New(accesslog.Config{Output: "/var/log/gatecast/access.log"})
//	if err != nil { ... }
//	defer l.Close()
//	l.Log(&accesslog.Entry{EventType: "REQUEST", Method: r.Method, Path: r.URL.Path, Status: 200, ...})
//
// Log never waits for the output: it copies the Entry into a bounded
// buffer (Config.Buffer) and a writer goroutine formats and writes it.
// When the output cannot keep up, the buffer fills and Log drops entries
// and counts them (Stats.Dropped) rather than slow the request path.
//
// # Format
//
// Config.Format is literal text with variables. A variable is
// "$context." and a name from the table; the longest name that matches
// wins ($context.requestTimeEpoch is not $context.requestTime followed by
// "Epoch"), and a name ends where its word does ("$context.status," is the
// status and a comma; "$context.statusX" and "$context.status.x" are
// unknown variables, which New reports with the list of valid ones). A
// "$" not followed by "context." is literal text.
//
//	variable                               Entry field          prints (strings escaped as described below)
//	$context.requestId                     RequestID            as is
//	$context.extendedRequestId             RequestID            as is (gatecast has one request id)
//	$context.connectionId                  ConnectionID         as is
//	$context.eventType                     EventType            REQUEST, CONNECT, MESSAGE, DISCONNECT
//	$context.identity.sourceIp             SourceIP             as is
//	$context.identity.userAgent            UserAgent            as is
//	$context.httpMethod                    Method               as is
//	$context.path                          Path                 as is
//	$context.protocol                      Protocol             as is, e.g. HTTP/1.1
//	$context.routeKey                      RouteKey             as is
//	$context.status                        Status               integer (HTTP status, or close code on DISCONNECT)
//	$context.requestTime                   RequestTime          CLF time in UTC: 02/Jan/2006:15:04:05 +0000
//	$context.requestTimeEpoch              RequestTime          integer milliseconds since the Unix epoch
//	$context.responseLength                ResponseLength       integer bytes
//	$context.responseLatency               ResponseLatency      milliseconds (below)
//	$context.integrationLatency            IntegrationLatency   milliseconds (below); alias $context.integration.latency
//	$context.integrationStatus             IntegrationStatus    integer; alias $context.integration.status
//	$context.error.message                 Error                as is
//	$context.authorizer.claims.<name>      Claims[<name>]       a string as is, anything else as JSON
//	$context.node                          Node                 as is (a gatecast addition)
//
// Latencies are milliseconds, as Amazon's are, but with up to three
// decimals (microseconds) and no trailing zeros — 12, 1.5, 0.312 — because
// a gateway's latencies are often below a millisecond and an integer would
// print most of them as 0. They are valid JSON numbers.
//
// A claim name is words of ASCII letters, digits and '_' joined by '-',
// '.', ':' or '/', so cognito:username and https://example.com/roles are
// names; a separator not followed by a word is text after the variable.
//
// # Missing values
//
// A zero field is missing and prints "-", as Amazon prints it (and as
// Apache prints a response length of 0). In a JSON template a missing
// value inside a string prints "-" too, so the field reads "-"; a missing
// value outside a string prints null, so a number field is a number or
// null, never the invalid bare -.
//
// # JSON templates
//
// A format starting with '{' is a JSON template (DefaultFormat is one).
// A variable inside one of its strings ("path":"$context.path") is
// JSON-escaped: '"', '\', every control character and U+2028/U+2029 are
// escaped, invalid UTF-8 becomes U+FFFD, other Unicode is written as is.
// A variable outside a string ("status":$context.status) is written as a
// JSON value: numbers and boolean claims as they are, strings (and
// $context.requestTime) quoted, object and array claims as JSON. New
// renders sample entries and refuses a template whose lines would not be
// valid JSON. White space between JSON tokens is removed, so a template
// may span lines in a YAML file and still logs one line per entry.
//
// # Text formats
//
// Any other format is a text format, one line (CLFFormat is one). Values
// are escaped as Apache httpd escapes its log: '"' and '\' get a
// backslash, \n \r \t are written so, and other control characters and
// bytes of invalid UTF-8 are written \xHH. No value can end a line early
// or break a quoted field.
//
// # Concurrency contract
//
// Log, Stats and Close are safe for concurrent use. Log never blocks on
// the output and does not allocate; it only takes a read lock that Close
// holds for an instant. One writer goroutine per Logger, started by New
// and stopped by Close, formats and writes; the output's Write is only
// ever called from it. Close is idempotent: it makes later Log calls drop
// (counted), waits until everything logged before it is written, and
// closes a file New opened. A nil *Logger is a valid no-op logger.
package accesslog
