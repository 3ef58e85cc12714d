package probe

import (
	"image"
	"testing"
	"time"

	"github.com/posprobe/posprobe/core/nn"
	"github.com/posprobe/posprobe/internal/proc"
	"github.com/posprobe/posprobe/wasm/demo"
)

// BenchmarkPredictionStages times the stages of one sq-zero prediction as
// BenchmarkPrediction runs them (ms/op per stage; cpu-ms/op is the process
// CPU time, steadier than wall time on a loaded machine):
//
//	PATH="$(go env GOROOT)/lib/wasm:$PATH" POSPROBE_DATA=... GOOS=js GOARCH=wasm \
//	  go test -run - -bench PredictionStages -benchtime 10x ./wasm/probe/
func BenchmarkPredictionStages(b *testing.B) {
	photo := image.NewRGBA(image.Rect(0, 0, 600, 400))
	for i := range photo.Pix {
		photo.Pix[i] = uint8(i * 7)
	}
	pipe := Pipeline()
	p := benchPredictor(b, model(b, "sq-zero"))
	stages := []string{"resample", "encoder", "readouts", "score", "salient"}
	tm := make([]time.Duration, len(stages))
	b.ResetTimer()
	cpu0 := proc.CPUSeconds()
	for i := 0; i < b.N; i++ {
		t := time.Now()
		lap := func(s int) {
			now := time.Now()
			tm[s] += now.Sub(t)
			t = now
		}
		x, err := pipe.Resample(photo, image.Rect(200, 100, 400, 300), demo.MapSize)
		if err != nil {
			b.Fatal(err)
		}
		lap(0)
		taps, err := p.Encoder().Forward(nn.FromData(x, 1, 3, demo.MapSize, demo.MapSize))
		if err != nil {
			b.Fatal(err)
		}
		lap(1)
		out, err := p.PredictTaps(taps)
		if err != nil {
			b.Fatal(err)
		}
		p.Recycle(x, taps)
		lap(2)
		for _, tg := range p.Targets() {
			gt, _ := pipe.Truth(tg, demo.MapSize)
			pipe.Score(tg, out[tg], gt, tg == "G")
		}
		lap(3)
		demo.Salient(out["G"], demo.MapSize)
		lap(4)
	}
	b.StopTimer()
	if cpu := proc.CPUSeconds() - cpu0; cpu > 0 {
		b.ReportMetric(cpu*1e3/float64(b.N), "cpu-ms/op")
	}
	for s, name := range stages {
		b.ReportMetric(float64(tm[s].Microseconds())/1e3/float64(b.N), name+"-ms/op")
	}
}
