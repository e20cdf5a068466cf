package routes

import (
	"strings"
	"testing"
)

func TestNew(t *testing.T) {
	tests := []struct {
		name    string
		cfg     Config
		wantErr string
		wantKey string
	}{
		{name: "nil table defaults to echo", cfg: Config{}, wantKey: KeyDefault},
		{name: "echo default", cfg: Config{WebSocket: map[string]Route{KeyDefault: {Integration: "echo"}}}, wantKey: KeyDefault},
		{name: "custom key", cfg: Config{WebSocket: map[string]Route{"sendmessage": {Integration: "echo"}}}, wantKey: "sendmessage"},
		{name: "unknown integration", cfg: Config{WebSocket: map[string]Route{KeyDefault: {Integration: "lambda"}}}, wantErr: `unknown integration "lambda"`},
		{name: "missing integration", cfg: Config{WebSocket: map[string]Route{KeyDefault: {}}}, wantErr: "integration is missing"},
		{name: "reserved key", cfg: Config{WebSocket: map[string]Route{"$foo": {Integration: "echo"}}}, wantErr: "reserved"},
		{name: "empty key", cfg: Config{WebSocket: map[string]Route{"": {Integration: "echo"}}}, wantErr: "must not be empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tab, err := New(tt.cfg)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			r, ok := tab.WebSocket(tt.wantKey)
			if !ok || r.Integration != IntegrationEcho {
				t.Fatalf("route %s = %+v, %v", tt.wantKey, r, ok)
			}
		})
	}
}
