package demo

import (
	"testing"
	"time"
)

func TestMeterNextChange(t *testing.T) {
	m := Meter{Window: 2 * time.Second}
	t0 := time.Unix(1000, 0)
	if _, ok := m.NextChange(t0); ok {
		t.Fatal("a change due with no events")
	}
	m.Add(t0)
	m.Add(t0.Add(500 * time.Millisecond))
	if next, ok := m.NextChange(t0.Add(time.Second)); !ok || !next.Equal(t0.Add(2*time.Second)) {
		t.Errorf("NextChange = %v, %v; want the first event's window end %v", next, ok, t0.Add(2*time.Second))
	}
	// After the first event leaves the window the rate halves, and the
	// next change is the second event's.
	now := t0.Add(2100 * time.Millisecond)
	if r := m.Rate(now); r != 0.5 {
		t.Errorf("Rate = %v, want 0.5", r)
	}
	if next, ok := m.NextChange(now); !ok || !next.Equal(t0.Add(2500*time.Millisecond)) {
		t.Errorf("NextChange = %v, %v; want %v", next, ok, t0.Add(2500*time.Millisecond))
	}
	if _, ok := m.NextChange(t0.Add(3 * time.Second)); ok {
		t.Error("a change due after every event left the window")
	}
}
