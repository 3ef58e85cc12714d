package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/posprobe/posprobe/core/encoder"
	"github.com/posprobe/posprobe/core/nn"
	"github.com/posprobe/posprobe/core/onnx"
)

// --model FILE.onnx: an ONNX graph in place of a built-in encoder. The
// commands that take --encoder call addEncoderCommand (one of the two) and
// probeEncoderFlags.build, which comes here for a model.

const modelFlagHelp = "ONNX model file to probe instead of a built-in --encoder ('posprobe model inspect FILE' lists its tensors)"

const tapsFlagHelp = "with --model: the graph tensors to probe, comma-separated, or auto (the last map before each downsampling, " +
	"and the last map); default: the graph's 4-d outputs. With --encoder (train only): the encoder taps the readout reads (default all)"

// addEncoderCommand adds a command that runs an encoder to the root: it takes
// flags only, exactly one of --encoder and --model is required, and so are
// the flags named.
func addEncoderCommand(cmd *cobra.Command, required ...string) {
	cmd.Args = cobra.NoArgs
	for _, n := range required {
		cmd.MarkFlagRequired(n)
	}
	cmd.MarkFlagsOneRequired("encoder", "model")
	cmd.MarkFlagsMutuallyExclusive("encoder", "model")
	rootCmd.AddCommand(cmd)
}

// tapSpec splits --taps for onnx.Options.Taps.
func tapSpec(s string) []string {
	if strings.TrimSpace(s) == "" {
		return nil
	}
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// openModel opens --model as an encoder; flags that only concern built-in
// encoders are refused rather than ignored.
func openModel(path, init, weights, taps string, seed uint64, pad nn.PadMode, normalize bool) (*onnx.Encoder, error) {
	if init != "" && init != encoder.InitImageNet.String() {
		return nil, fmt.Errorf("--init %s: an ONNX model brings its own weights (--init applies to --encoder)", init)
	}
	if weights != "" {
		return nil, fmt.Errorf("--weights: an ONNX model brings its own weights (--weights applies to --encoder)")
	}
	if seed != 0 {
		return nil, fmt.Errorf("--seed: applies to --encoder with --init random, not to --model")
	}
	return onnx.Open(path, onnx.Options{Padding: pad, Normalize: normalize, Taps: tapSpec(taps)})
}

// buildModel is probeEncoderFlags.build for --model: the encoder's name
// (the file name without .onnx) names its readouts.
func (e *probeEncoderFlags) buildModel(pad nn.PadMode) (encoder.Encoder, error) {
	enc, err := openModel(e.model, e.init, e.weights, e.taps, e.seed, pad, e.normalize)
	if err != nil {
		return nil, err
	}
	e.name = enc.Name()
	return enc, nil
}

// tapFilter is the --taps selection a command applies to the encoder's
// taps: none for a model, whose taps --taps already chose.
func (e *probeEncoderFlags) tapFilter() []string {
	if e.model != "" {
		return nil
	}
	return tapSpec(e.taps)
}

func init() {
	var size int
	modelCmd := &cobra.Command{
		Use:   "model",
		Short: "Look into ONNX models (see --model of features, train, eval, predict, classify, bench)",
	}
	inspect := &cobra.Command{
		Use:   "inspect FILE.onnx",
		Short: "List the tensors of an ONNX model with their shapes, to choose --taps",
		Long: `inspect runs the model once on a zero image of --size x --size and lists every
tensor it computes: name, producing operator and node, shape. Marks: "out" for
graph outputs (the default taps when 4-d), "auto" for the taps --taps auto
picks (the last map before each downsampling, and the last map).`,
		Example: `  posprobe model inspect resnet18.onnx
  posprobe features --model resnet18.onnx --taps auto --image photo.jpg --out feats/`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if size < 1 {
				return fmt.Errorf("--size %d: must be positive", size)
			}
			m, err := onnx.ReadFile(args[0])
			if err != nil {
				return err
			}
			net, err := onnx.Compile(m, nn.PadZero)
			if err != nil {
				return fmt.Errorf("%s: %w", args[0], err)
			}
			infos, err := net.Inspect(nn.New(1, 3, size, size))
			if err != nil {
				return fmt.Errorf("%s: %w", args[0], err)
			}
			auto := map[string]bool{}
			if e, err := onnx.New(m, onnx.Options{Taps: []string{"auto"}, Size: size}); err == nil {
				for _, t := range e.Tensors() {
					auto[t] = true
				}
			}
			outs := map[string]bool{}
			for _, o := range net.Outputs {
				outs[o] = true
			}
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "%s: opset %d, producer %q, input %s, %d tensors at %dx%d\n", args[0], m.Opset, m.Producer, net.Input, len(infos), size, size)
			tw := newTable(w, false)
			fmt.Fprintln(tw, "tensor\top\tshape\tnode\t")
			for _, in := range infos {
				var marks []string
				if outs[in.Name] {
					marks = append(marks, "out")
				}
				if auto[in.Name] {
					marks = append(marks, "auto")
				}
				typ := ""
				if in.Int {
					typ = " int64"
				}
				fmt.Fprintf(tw, "%s\t%s\t%v%s\t%s\t%s\n", in.Name, in.Op, in.Shape, typ, in.Node, strings.Join(marks, ","))
			}
			return tw.Flush()
		},
	}
	inspect.Flags().IntVar(&size, "size", 224, "input height and width")
	modelCmd.AddCommand(inspect)
	rootCmd.AddCommand(modelCmd)
}

// classifyModel is classify's --model.
var classifyModel string

// classifyEncoder builds classify's encoder, --encoder *name or
// --model (then *name becomes the model's name).
func classifyEncoder(name *string, weights string) (encoder.Encoder, error) {
	if classifyModel == "" {
		return encoder.New(*name, encoder.Options{Weights: weights, DataDir: dataDir()})
	}
	enc, err := openModel(classifyModel, "", weights, "", 0, nn.PadZero, false)
	if err != nil {
		return nil, err
	}
	if !enc.HasClassifier() {
		return nil, fmt.Errorf("%s: the graph has no 2-d output (class scores) to classify with", classifyModel)
	}
	*name = enc.Name()
	return enc, nil
}

// bench names models "onnx:FILE".
const modelPrefix = "onnx:"

func isModelName(n string) bool { return strings.HasPrefix(n, modelPrefix) }

// benchNames adds --model files to bench's encoder list; without an explicit
// --encoder the models replace the default "all".
func benchNames(names []string, models string, encoderSet bool) []string {
	if models == "" {
		return names
	}
	if !encoderSet {
		names = nil
	}
	for _, m := range tapSpec(models) {
		names = append(names, modelPrefix+m)
	}
	return names
}

// benchBuild makes a built-in encoder with random weights, or opens a model.
func benchBuild(name string) (encoder.Encoder, error) {
	if isModelName(name) {
		return onnx.Open(strings.TrimPrefix(name, modelPrefix), onnx.Options{})
	}
	return encoder.New(name, encoder.Options{Init: encoder.InitRandom})
}
