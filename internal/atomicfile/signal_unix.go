//go:build unix

package atomicfile

import (
	"os"
	"os/signal"
	"syscall"
)

var sigs chan os.Signal

// watchSignals catches SIGINT and SIGTERM while temporary files are open
// (mu held). On a signal they are removed, the handler steps aside and the
// signal is sent again: the process then ends as it would have, or a
// handler of its own (signal.NotifyContext) gets it.
func watchSignals() {
	ch := make(chan os.Signal, 1)
	sigs = ch
	for _, s := range []os.Signal{os.Interrupt, syscall.SIGTERM} {
		if !signal.Ignored(s) { // nohup keeps ignoring it
			signal.Notify(ch, s)
		}
	}
	go func() {
		sig, ok := <-ch
		if !ok {
			return
		}
		mu.Lock()
		removeLive()
		if sigs == ch {
			signal.Stop(ch)
			sigs = nil
		}
		mu.Unlock()
		if s, ok := sig.(syscall.Signal); ok {
			syscall.Kill(os.Getpid(), s)
		}
	}()
}

// unwatchSignals restores the signals' previous handling (mu held).
func unwatchSignals() {
	if sigs != nil {
		signal.Stop(sigs)
		close(sigs)
		sigs = nil
	}
}

// removeLive removes every uncommitted temporary file (on a signal).
func removeLive() {
	for f := range live {
		os.Remove(f.Name())
		delete(live, f)
	}
}
