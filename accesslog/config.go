package accesslog

import (
	"fmt"
	"strings"
)

// DefaultFormat is the format used when Config.Format is empty: one JSON
// object per line. Strings are quoted in the template, so a missing one
// prints "-"; numbers are not, so a missing one prints null.
const DefaultFormat = `{"requestId":"$context.requestId",` +
	`"ip":"$context.identity.sourceIp",` +
	`"requestTime":"$context.requestTime",` +
	`"eventType":"$context.eventType",` +
	`"routeKey":"$context.routeKey",` +
	`"method":"$context.httpMethod",` +
	`"path":"$context.path",` +
	`"status":$context.status,` +
	`"protocol":"$context.protocol",` +
	`"responseLength":$context.responseLength,` +
	`"responseLatency":$context.responseLatency,` +
	`"integrationLatency":$context.integrationLatency,` +
	`"connectionId":"$context.connectionId",` +
	`"error":"$context.error.message"}`

// CLFFormat is Amazon's Common Log Format example, for those who want text
// lines rather than JSON.
const CLFFormat = `$context.identity.sourceIp - - [$context.requestTime] ` +
	`"$context.httpMethod $context.routeKey $context.protocol" ` +
	`$context.status $context.responseLength $context.requestId`

// DefaultBuffer is the number of entries that may wait for the writer when
// Config.Buffer is zero.
const DefaultBuffer = 8192

// Config tunes a Logger. Every field's zero value means the default in its
// comment, so Config{} logs DefaultFormat to stdout.
type Config struct {
	// Output is where lines go: "" or "stdout" (the default), "stderr",
	// "off" (Log does nothing and no goroutine runs), or a file path,
	// opened for appending and created with mode 0644 if missing. The
	// Logger closes a file it opened; it never closes stdout or stderr.
	// NewWriter ignores Output.
	Output string `yaml:"output"`
	// Format is the line template: literal text with $context.<name>
	// variables, as in Amazon API Gateway access logs (see the package
	// documentation for the variables). If it starts with '{' it is a JSON
	// template: values inside the template's strings are JSON-escaped,
	// values outside them are written as JSON numbers or strings, and the
	// template must produce valid JSON. Leading and trailing white space is
	// ignored and a JSON template is compacted onto one line, so a YAML
	// block scalar works. Zero means DefaultFormat.
	Format string `yaml:"format"`
	// Buffer is how many entries may wait for the writer goroutine; past
	// it Log drops the entry and counts it in Stats.Dropped. Zero means
	// DefaultBuffer (8192); negative is an error.
	Buffer int `yaml:"buffer"`
}

// withDefaults fills the zero fields and validates the rest.
func (c Config) withDefaults() (Config, error) {
	if c.Buffer < 0 {
		return c, fmt.Errorf("%w: buffer %d is negative (0 means %d)", ErrInvalidConfig, c.Buffer, DefaultBuffer)
	}
	if c.Buffer == 0 {
		c.Buffer = DefaultBuffer
	}
	c.Format = strings.TrimSpace(c.Format)
	if c.Format == "" {
		c.Format = DefaultFormat
	}
	return c, nil
}
