package main

import (
	"math"
	"slices"
	"testing"
)

func TestLeastSquares(t *testing.T) {
	tests := []struct {
		name   string
		xs, ys []float64
		want   float64
		ok     bool
	}{
		{
			name: "exact line",
			xs:   []float64{1000, 5000, 10000},
			ys:   []float64{2e6 + 1000*20000, 2e6 + 5000*20000, 2e6 + 10000*20000},
			want: 20000,
			ok:   true,
		},
		{
			name: "noise around a line",
			xs:   []float64{0, 1, 2, 3},
			ys:   []float64{1, 2, 5, 6},
			want: 1.8,
			ok:   true,
		},
		{
			name: "one point",
			xs:   []float64{1000},
			ys:   []float64{5},
		},
		{
			name: "no spread in x",
			xs:   []float64{3, 3},
			ys:   []float64{1, 9},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := leastSquares(tt.xs, tt.ys)
			if ok != tt.ok || math.Abs(got-tt.want) > 1e-9*math.Max(1, tt.want) {
				t.Errorf("leastSquares = %v, %v; want %v, %v", got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestParseLevels(t *testing.T) {
	tests := []struct {
		in      string
		want    []int
		wantErr bool
	}{
		{in: "1000,5000, 10000", want: []int{1000, 5000, 10000}},
		{in: "5000,1000", wantErr: true},
		{in: "1000,1000", wantErr: true},
		{in: "0", wantErr: true},
		{in: "many", wantErr: true},
	}
	for _, tt := range tests {
		got, err := parseLevels(tt.in)
		if (err != nil) != tt.wantErr || (!tt.wantErr && !slices.Equal(got, tt.want)) {
			t.Errorf("parseLevels(%q) = %v, %v; want %v, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}
