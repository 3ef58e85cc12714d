package main

import (
	"encoding/json"
	"strings"
	"testing"
)

// --shuffle-layer scores the trained readouts with the channels permuted
// inside the encoder, per pixel here; an unknown layer or mode is a flag
// error before the study runs.
func TestStudyChannelsShuffleLayer(t *testing.T) {
	photos := writeTinyPhotos(t, 3)
	msg, err := runStudyCLI(t, "channels", "--quick", "--json", "--photos", photos, "--shuffle-train", "0",
		"--shuffle-layer", "fire5", "--shuffle-per", "position")
	if err != nil {
		t.Fatalf("%v\n%s", err, msg)
	}
	var r struct {
		Layer []struct {
			Layer, Per, Target string
			Plain              float64 `json:"plain_spc"`
			Shuffled           float64 `json:"shuffled_spc"`
		} `json:"layer_shuffle"`
	}
	if err := json.Unmarshal([]byte(msg[strings.Index(msg, "{"):]), &r); err != nil {
		t.Fatalf("%v\n%s", err, msg)
	}
	if len(r.Layer) != 3 {
		t.Fatalf("layer shuffle rows: %+v", r.Layer)
	}
	for _, l := range r.Layer {
		if l.Layer != "fire5" || l.Per != "position" || l.Plain == l.Shuffled {
			t.Errorf("%+v: want fire5 per position, the shuffle changing the SPC", l)
		}
	}
	if _, err := runStudyCLI(t, "channels", "--quick", "--photos", photos, "--shuffle-layer", "fire6"); err == nil || !strings.Contains(err.Error(), `"fire6"`) {
		t.Errorf("unknown layer: %v", err)
	}
	if _, err := runStudyCLI(t, "channels", "--quick", "--photos", photos, "--shuffle-layer", "fire5", "--shuffle-per", "pixel"); err == nil || !strings.Contains(err.Error(), "--shuffle-per") {
		t.Errorf("unknown mode: %v", err)
	}
}
