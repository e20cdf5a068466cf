package load

import (
	"slices"
	"testing"
)

func TestSourceIP(t *testing.T) {
	tests := []struct {
		i    int
		want string
	}{
		{i: 0, want: "127.0.0.2"},
		{i: 1, want: "127.0.0.3"},
		{i: 253, want: "127.0.0.255"},
		{i: 254, want: "127.0.1.0"},
		{i: 70000, want: "127.1.17.114"},
	}
	for _, tt := range tests {
		if got := SourceIP(tt.i); got != tt.want {
			t.Errorf("SourceIP(%d) = %s, want %s", tt.i, got, tt.want)
		}
	}
}

func TestShares(t *testing.T) {
	tests := []struct {
		name string
		got  []int
		want []int
	}{
		{name: "even", got: Shares(10, 2), want: []int{5, 5}},
		{name: "remainder goes first", got: Shares(10, 3), want: []int{4, 3, 3}},
		{name: "more parts than units", got: Shares(2, 4), want: []int{1, 1, 0, 0}},
		{name: "per-process cap", got: SharesOf(12000, 5000), want: []int{4000, 4000, 4000}},
		{name: "under the cap", got: SharesOf(1000, 5000), want: []int{1000}},
		{name: "exactly the cap", got: SharesOf(10000, 5000), want: []int{5000, 5000}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !slices.Equal(tt.got, tt.want) {
				t.Errorf("got %v, want %v", tt.got, tt.want)
			}
		})
	}
}
