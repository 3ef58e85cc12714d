package main

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/posprobe/posprobe/core/encoder"
	"github.com/posprobe/posprobe/core/imageio"
	"github.com/posprobe/posprobe/core/nn"
)

var classifyFlags struct {
	encoder, image, weights string
	top                     int
	json                    bool
}

// classifyPreprocess is what classify does to the image before the model's own
// normalisation: the probe's input pipeline (no crop, aspect not kept).
const classifyPreprocess = "RGB, Pillow-exact bilinear resize to 224x224 (no crop), [0,1]"

var classifyCmd = &cobra.Command{
	Use:   "classify --encoder NAME --image FILE",
	Short: "Name the ImageNet classes an encoder's own classifier sees in a photo",
	Long: `classify runs an encoder whose ImageNet classifier weights are present
(squeezenet1.1, darknet-tiny; vgg16 and resnet18/50/152 with their torchvision
checkpoints) on one image and prints the top classes with their softmax
probabilities. It checks that the pretrained weights are wired correctly.

The image is resized to 224x224 as the probe does (` + classifyPreprocess + `);
each model then applies its own preprocessing: ImageNet mean/std for the
torchvision and ONNX-zoo models, none for darknet-tiny (ml5 feeds RGB/255).
Class names come from the file names in $POSPROBE_DATA/images/imagenet-sample.`,
	RunE: runClassify,
}

func init() {
	f := classifyCmd.Flags()
	f.StringVar(&classifyFlags.encoder, "encoder", "", "encoder name ("+strings.Join(encoder.Names(), ", ")+")")
	f.StringVar(&classifyFlags.image, "image", "", "input image (JPEG, PNG or GIF)")
	f.StringVar(&classifyFlags.weights, "weights", "", "encoder weight file or folder (default: found as 'posprobe weights list' shows)")
	f.IntVar(&classifyFlags.top, "top", 5, "number of classes to print")
	limitFlag(f, "top", 1, 1000, false)
	f.BoolVar(&classifyFlags.json, "json", false, "print JSON instead of a table")
	f.StringVar(&classifyModel, "model", "", modelFlagHelp)
	addEncoderCommand(classifyCmd, "image")
}

// classScore is one line of classify's answer.
type classScore struct {
	Rank  int     `json:"rank"`
	Index int     `json:"index"` // output index of the model
	WNID  string  `json:"wnid"`
	Name  string  `json:"name"`
	Prob  float64 `json:"prob"`
	Logit float64 `json:"logit"`
}

func runClassify(cmd *cobra.Command, _ []string) error {
	cf := classifyFlags
	if cf.top < 1 {
		return fmt.Errorf("--top %d: must be at least 1", cf.top)
	}
	enc, err := classifyEncoder(&cf.encoder, cf.weights)
	if err != nil {
		return err
	}
	c, ok := enc.(encoder.Classifier)
	if !ok {
		return fmt.Errorf("%s has no classifier (its weights lack the classification layer); use squeezenet1.1 or darknet-tiny, or vgg16/resnet* with their torchvision checkpoints", cf.encoder)
	}
	labels, err := encoder.ClassLabels(c, dataDir())
	if err != nil {
		return err
	}
	x, err := imageio.LoadTensor(cf.image, 224)
	if err != nil {
		return err // names the file
	}
	out, err := c.Classify(x)
	if err != nil {
		return err
	}
	logits := slices.Clone(nn.Data(out))
	if len(logits) != len(labels) {
		return fmt.Errorf("%s gives %d outputs, the class list has %d", cf.encoder, len(logits), len(labels))
	}
	scores := topClasses(logits, labels, cf.top)
	if cf.json {
		return writeClassifyJSON(cmd.OutOrStdout(), cf.encoder, cf.image, scores)
	}
	tw := newTable(cmd.OutOrStdout(), false)
	fmt.Fprintf(tw, "%s on %s\n", cf.encoder, cf.image)
	fmt.Fprintln(tw, "rank\tprob\tlogit\twnid\tclass")
	for _, s := range scores {
		fmt.Fprintf(tw, "%d\t%.4f\t%.3f\t%s\t%s\n", s.Rank, s.Prob, s.Logit, s.WNID, s.Name)
	}
	return tw.Flush()
}

// topClasses returns the k best classes by logit with softmax probabilities.
func topClasses(logits []float32, labels []encoder.Class, k int) []classScore {
	probs := nn.Softmax(slices.Clone(logits))
	idx := encoder.TopK(logits, k)
	scores := make([]classScore, len(idx))
	for r, i := range idx {
		scores[r] = classScore{Rank: r + 1, Index: i, WNID: labels[i].WNID, Name: labels[i].Name,
			Prob: float64(probs[i]), Logit: float64(logits[i])}
	}
	return scores
}

func writeClassifyJSON(w io.Writer, enc, image string, scores []classScore) error {
	e := json.NewEncoder(w)
	e.SetIndent("", "  ")
	return e.Encode(struct {
		Encoder    string       `json:"encoder"`
		Image      string       `json:"image"`
		Preprocess string       `json:"preprocess"`
		Top        []classScore `json:"top"`
	}{enc, image, classifyPreprocess, scores})
}
