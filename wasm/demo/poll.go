package demo

// TakeResult returns *latest and clears it: a runner's Poll of its newest
// result not yet returned. The caller holds the lock that guards latest.
func TakeResult(latest **Result) (Result, bool) {
	if *latest == nil {
		return Result{}, false
	}
	r := **latest
	*latest = nil
	return r, true
}
