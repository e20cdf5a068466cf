package gateway

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/gatecast/gatecast/accesslog"
	"github.com/gatecast/gatecast/admission"
	"github.com/gatecast/gatecast/admission/jwtauth"
	"github.com/gatecast/gatecast/admission/waf"
	"github.com/gatecast/gatecast/certs"
	"github.com/gatecast/gatecast/conn"
	"github.com/gatecast/gatecast/routes"
)

// Config is gatecast's configuration, as read from the YAML file. Every
// field's zero value means the default in its comment.
type Config struct {
	// Listen is the address of the client listener. Zero means ":8080".
	Listen string `yaml:"listen"`
	// AdminListen is the address of the admin listener (metrics, health,
	// pprof). Zero means "127.0.0.1:9090"; "off" disables it.
	AdminListen string `yaml:"admin_listen"`
	// ShutdownTimeout bounds the graceful shutdown: close handshakes that
	// have not finished by then are cut. Zero means 10 s.
	ShutdownTimeout time.Duration `yaml:"shutdown_timeout"`

	// NodeID names this gateway node in connection ids; zero means a
	// random id per process. Letters, digits and '_' only.
	NodeID string `yaml:"node_id"`

	WebSocket WebSocketConfig  `yaml:"websocket"`
	Admission admission.Config `yaml:"admission"`
	Auth      AuthConfig       `yaml:"auth"`
	// WAF configures SQL injection and XSS detection on upgrades and
	// messages (routes may change the mode). Nil: no WAF.
	WAF *waf.Config `yaml:"waf"`
	// TLS makes the client listener TLS only (wss://, https://, HTTP/2
	// by ALPN) with these certificates, reloaded when their files change.
	// Nil: plain ws:// and http://.
	TLS    *certs.Config `yaml:"tls"`
	NATS   NATSConfig    `yaml:"nats"`
	Admin  AdminConfig   `yaml:"admin"`
	Routes routes.Config `yaml:"routes"`
	HTTP   HTTPConfig    `yaml:"http"`
	// AccessLog writes one line per HTTP request and per WebSocket
	// connection event. Zero means JSON lines on stdout.
	AccessLog accesslog.Config `yaml:"access_log"`
}

// HTTPConfig is the http section: the HTTP routes' side of the client
// listener (routes.http holds the routes themselves).
type HTTPConfig struct {
	// Enabled serves HTTP routes on the client listener next to WebSocket
	// upgrades. Nil means true; false answers plain HTTP requests as
	// failed upgrades.
	Enabled *bool `yaml:"enabled"`
	// MaxInFlight bounds the requests waiting for backends at once; more
	// get 503. Zero means 10,000.
	MaxInFlight int `yaml:"max_in_flight"`
	// IdleTimeout closes a keep-alive connection with no request for this
	// long. Zero means 60 s.
	IdleTimeout time.Duration `yaml:"idle_timeout"`
	// ReadTimeout bounds reading a request (after the first, whose head
	// websocket.handshake_timeout bounds). Zero means 30 s.
	ReadTimeout time.Duration `yaml:"read_timeout"`
	// SSEKeepAlive is how often an idle Server-Sent Events stream gets a
	// comment line. Zero means 15 s.
	SSEKeepAlive time.Duration `yaml:"sse_keep_alive"`
	// CORS answers preflights and sets CORS headers for every HTTP route
	// (routes may override it). Nil: no CORS.
	CORS *admission.CORSConfig `yaml:"cors"`
	// DemoPage serves the chat demo page (package demo, for the chat
	// example's backend) at GET and HEAD / and its assets under /@demo/,
	// ahead of the HTTP routes. Zero means off; keep it off in production.
	// It needs Enabled.
	DemoPage bool `yaml:"demo_page"`
}

func (h HTTPConfig) enabled() bool { return h.Enabled == nil || *h.Enabled }

// NATSConfig is the nats section: an embedded server by default, an
// existing server or cluster when URL is set.
type NATSConfig struct {
	// URL joins an existing NATS server or cluster (comma-separated
	// nats:// URLs) instead of starting the embedded server.
	URL string `yaml:"url"`
	// Listen is the embedded server's address for backends in other
	// processes. Zero means "127.0.0.1:4222"; "off": in-process only.
	Listen string `yaml:"listen"`
	// JetStream turns on JetStream in the embedded server.
	JetStream bool `yaml:"jetstream"`
	// Credentials is a NATS credentials file for URL.
	Credentials string `yaml:"credentials"`
	// CAFile, CertFile and KeyFile set up TLS to URL.
	CAFile   string `yaml:"ca_file"`
	CertFile string `yaml:"cert_file"`
	KeyFile  string `yaml:"key_file"`
	// MaxPending bounds outstanding route responses on this node. Zero
	// means 65536.
	MaxPending int `yaml:"max_pending"`
}

// AuthConfig is the auth section: JWT on the WebSocket upgrade and on the
// management API.
type AuthConfig struct {
	// JWT configures token verification; nil turns auth off (every
	// upgrade passes, the management API takes only the admin token).
	JWT *jwtauth.Config `yaml:"jwt"`
	// WebSocket says what every upgrade needs: the token's source
	// ("header", "query:access_token", "cookie:NAME", "protocol") and the
	// scopes required. Routes may require more (routes.websocket.K.scopes).
	WebSocket struct {
		Source jwtauth.Source `yaml:"source"`
		Scopes []string       `yaml:"scopes"`
	} `yaml:"websocket"`
	// HTTP says where routes with authorization: jwt find the token.
	// Zero means the Authorization header (Bearer).
	HTTP struct {
		Source jwtauth.Source `yaml:"source"`
	} `yaml:"http"`
	// AdminScope grants the management API to a token that has it, as an
	// alternative to the admin bearer token. Zero means "gatecast:admin".
	AdminScope string `yaml:"admin_scope"`
}

// AdminConfig is the admin section.
type AdminConfig struct {
	// Token is the bearer token the management API (@connections,
	// @topics) requires. Zero means $GATECAST_ADMIN_TOKEN, or a random
	// token logged at start-up.
	Token string `yaml:"token"`
}

// WebSocketConfig is the websocket section; see conn.Config for what each
// limit does. Zero values mean conn's defaults.
type WebSocketConfig struct {
	Path              string        `yaml:"path"`
	Loops             int           `yaml:"loops"`
	MaxSockets        int           `yaml:"max_sockets"`
	MaxConns          int           `yaml:"max_conns"`    // 10,000
	IdleTimeout       time.Duration `yaml:"idle_timeout"` // 10m; negative: off
	MaxLifetime       time.Duration `yaml:"max_lifetime"` // 2h; negative: off
	MaxHeadBytes      int           `yaml:"max_head_bytes"`
	HandshakeTimeout  time.Duration `yaml:"handshake_timeout"`
	MaxFrameBytes     int           `yaml:"max_frame_bytes"`
	MaxMessageBytes   int           `yaml:"max_message_bytes"`
	WriteQueueBytes   int           `yaml:"write_queue_bytes"`
	SlowConsumer      string        `yaml:"slow_consumer"` // "drop" (default) or "close"
	SlowConsumerGrace time.Duration `yaml:"slow_consumer_grace"`
	CloseTimeout      time.Duration `yaml:"close_timeout"`
	// AllowedOrigins lists the origins ("https://app.example.com") whose
	// pages may open connections, besides the gateway's own host; "*"
	// allows any. Other browser origins get 403 (cross-site WebSocket
	// hijacking). Requests without Origin (non-browser clients) pass.
	AllowedOrigins []string `yaml:"allowed_origins"`
	// Subprotocols lists the subprotocols the server speaks, in order of
	// preference as the client offers them.
	Subprotocols []string `yaml:"subprotocols"`
}

// LoadConfig reads and strictly decodes a YAML configuration file: an
// unknown key is an error that names its line.
func LoadConfig(path string) (Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Config{}, err
	}
	cfg, err := ParseConfig(data)
	if err != nil {
		return Config{}, fmt.Errorf("%s: %w", path, err)
	}
	return cfg, nil
}

// ParseConfig strictly decodes a YAML configuration.
func ParseConfig(data []byte) (Config, error) {
	var cfg Config
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&cfg); err != nil && !errors.Is(err, io.EOF) {
		return Config{}, err
	}
	return cfg, nil
}

func (c Config) withDefaults() Config {
	if c.Listen == "" {
		c.Listen = ":8080"
	}
	if c.AdminListen == "" {
		c.AdminListen = "127.0.0.1:9090"
	}
	if c.ShutdownTimeout == 0 {
		c.ShutdownTimeout = 10 * time.Second
	}
	return c
}

// connConfig turns the websocket section into conn's configuration.
func (w WebSocketConfig) connConfig() (conn.Config, error) {
	policy, err := conn.ParseSlowConsumerPolicy(w.SlowConsumer)
	if err != nil {
		return conn.Config{}, fmt.Errorf("websocket.slow_consumer: %w", err)
	}
	cc := conn.Config{
		Path:              w.Path,
		Loops:             w.Loops,
		MaxSockets:        w.MaxSockets,
		MaxConns:          w.MaxConns,
		IdleTimeout:       w.IdleTimeout,
		MaxLifetime:       w.MaxLifetime,
		MaxHeadBytes:      w.MaxHeadBytes,
		HandshakeTimeout:  w.HandshakeTimeout,
		MaxFrameBytes:     w.MaxFrameBytes,
		MaxMessageBytes:   w.MaxMessageBytes,
		WriteQueueBytes:   w.WriteQueueBytes,
		SlowConsumer:      policy,
		SlowConsumerGrace: w.SlowConsumerGrace,
		CloseTimeout:      w.CloseTimeout,
	}
	if len(w.Subprotocols) > 0 {
		speak := make(map[string]struct{}, len(w.Subprotocols))
		for _, p := range w.Subprotocols {
			speak[p] = struct{}{}
		}
		cc.SelectProtocol = func(p []byte) bool {
			_, ok := speak[string(p)]
			return ok
		}
	}
	return cc, nil
}
