package encoder

// HeadTensors are, per encoder, the classifier tensors (name -> shape) that
// no tap depends on: the site leaves them out of its weight file (SqueezeNet
// 1.1's conv25 is 1 MB of the 2.5 MB) and addHead puts zeros in their place,
// so that the encoder, which builds its classifier too, gets a full set.
var HeadTensors = map[string]map[string][]int{
	"squeezenet1.1": {"squeezenet0_conv25_weight": {1000, 512, 1, 1}, "squeezenet0_conv25_bias": {1000}},
}
