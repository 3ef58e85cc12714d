package demo

import "time"

// NextChange returns when Rate will next drop as the oldest event leaves
// the window (the UI asks for a frame then to redraw the rate it shows),
// and false when there is no event in the window.
func (m *Meter) NextChange(now time.Time) (time.Time, bool) {
	m.trim(now)
	if len(m.times) == 0 {
		return time.Time{}, false
	}
	return m.times[0].Add(m.Window), true
}
