package server

import (
	"strconv"
	"testing"
)

// This week against last: more activity is better, a higher cost or error
// rate worse, no change neither.
func TestCompareWeeks(t *testing.T) {
	n := func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
	for _, c := range []struct {
		this, last    float64
		lowerIsBetter bool
		delta         string
		better, worse bool
	}{
		{20, 10, false, "+100%", true, false},
		{5, 10, false, "-50%", false, true},
		{20, 10, true, "+100%", false, true},
		{5, 10, true, "-50%", true, false},
		{10, 10, true, "±0%", false, false},
		{3, 0, false, "new", true, false},
		{0, 0, false, "", false, false},
	} {
		got := compare("x", c.this, c.last, n, c.lowerIsBetter)
		if got.Delta != c.delta || got.Better != c.better || got.Worse != c.worse {
			t.Errorf("compare(%v, %v, lower is better %v) = %q better %v worse %v; want %q %v %v",
				c.this, c.last, c.lowerIsBetter, got.Delta, got.Better, got.Worse, c.delta, c.better, c.worse)
		}
	}
}
