package routes

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

// The WebSocket route keys with a meaning of their own, as in Amazon API
// Gateway.
const (
	KeyConnect    = "$connect"
	KeyDisconnect = "$disconnect"
	KeyDefault    = "$default"
)

// Integration types.
const (
	// IntegrationEcho answers each message with the same message.
	IntegrationEcho = "echo"
)

// Route is one route's configuration.
type Route struct {
	// Integration is the integration type that handles the route.
	Integration string `yaml:"integration"`
}

// Config is the routes section of the configuration file.
type Config struct {
	// WebSocket maps route keys to routes. Nil means the default table:
	// $default answered by echo.
	WebSocket map[string]Route `yaml:"websocket"`
}

// Table is a validated, immutable route table.
type Table struct {
	ws map[string]Route
}

// New validates cfg and builds its table.
func New(cfg Config) (*Table, error) {
	if cfg.WebSocket == nil {
		cfg.WebSocket = map[string]Route{KeyDefault: {Integration: IntegrationEcho}}
	}
	var errs []error
	keys := make([]string, 0, len(cfg.WebSocket))
	for k := range cfg.WebSocket {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	t := &Table{ws: make(map[string]Route, len(cfg.WebSocket))}
	for _, k := range keys {
		r := cfg.WebSocket[k]
		if k == "" {
			errs = append(errs, errors.New("routes.websocket: a route key must not be empty"))
			continue
		}
		if strings.HasPrefix(k, "$") && k != KeyConnect && k != KeyDisconnect && k != KeyDefault {
			errs = append(errs, fmt.Errorf("routes.websocket.%s: keys starting with $ are reserved; use %s, %s or %s", k, KeyConnect, KeyDisconnect, KeyDefault))
			continue
		}
		switch r.Integration {
		case IntegrationEcho:
		case "":
			errs = append(errs, fmt.Errorf("routes.websocket.%s: integration is missing; supported: %s", k, IntegrationEcho))
			continue
		default:
			errs = append(errs, fmt.Errorf("routes.websocket.%s: unknown integration %q; supported: %s", k, r.Integration, IntegrationEcho))
			continue
		}
		t.ws[k] = r
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return t, nil
}

// WebSocket returns the route for key.
func (t *Table) WebSocket(key string) (Route, bool) {
	r, ok := t.ws[key]
	return r, ok
}
